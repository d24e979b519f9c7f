/*
 * nl_inject.c - live injection with libnet (LIBNET_RAW4, libnet_write_raw_ipv4).
 * Owns the raw socket and the privilege message. Builds nothing: packets come
 * finished from nl_build.c/nl_plan.c.
 */
#include "netlab/nl_inject.h"
#include "netlab/nl_craft.h"
#include "netlab/nl_signal.h"
#include "nl_internal.h"

#include <errno.h>
#include <libnet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct nl_injector {
    libnet_t *l;
};

int nl_can_inject(void)
{
    int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

#define NEED_RAW "raw IPv4 injection needs CAP_NET_RAW: run as root, or grant it with " \
                 "'sudo setcap cap_net_raw+ep BINARY', or write a capture without privilege using --write FILE.pcap"

int nl_injector_open(struct nl_injector **out, char *errbuf)
{
    *out = NULL;
    if (!nl_can_inject())
        return nl_err(errbuf, NL_EPERM, NEED_RAW);
    struct nl_injector *inj = calloc(1, sizeof *inj);
    if (!inj)
        return nl_err(errbuf, NL_ENOMEM, "injector: out of memory");
    char lerr[LIBNET_ERRBUF_SIZE];
    inj->l = libnet_init(LIBNET_RAW4, NULL, lerr);
    if (!inj->l) {
        free(inj);
        if (strstr(lerr, "ermission") || strstr(lerr, "not permitted"))
            return nl_err(errbuf, NL_EPERM, NEED_RAW);
        return nl_err(errbuf, NL_ELIB, "libnet_init(LIBNET_RAW4): %s", lerr);
    }
    *out = inj;
    return 0;
}

int nl_injector_send(struct nl_injector *inj, const uint8_t *pkt, size_t len, char *errbuf)
{
    if (len < 20 || len > 65535)
        return nl_err(errbuf, NL_EINVAL, "inject: %zu bytes is not an IPv4 packet", len);
    for (int tries = 0;; tries++) {
        int n = libnet_write_raw_ipv4(inj->l, pkt, (uint32_t)len);
        if (n == (int)len)
            return 0;
        /* A full queue under a flood: wait for room (up to about a second) rather than drop. */
        if (n < 0 && (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) && tries < 20000) {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
            continue;
        }
        char dst[16];
        snprintf(dst, sizeof dst, "%u.%u.%u.%u", pkt[16], pkt[17], pkt[18], pkt[19]);
        return nl_err(errbuf, NL_ESYS, "inject to %s: %s", dst, libnet_geterror(inj->l));
    }
}

int nl_injector_send_plan(struct nl_injector *inj, const struct nl_plan *p, int64_t gap_ns, size_t *sent,
                          char *errbuf)
{
    size_t n = nl_plan_packet_count(p);
    *sent = 0;
    for (size_t i = 0; i < n; i++) {
        if (*nl_stop_flag())
            return nl_err(errbuf, NL_EINTR, "interrupted after %zu of %zu packets", i, n);
        const struct nl_pkt *k = nl_plan_packet(p, i);
        char why[NL_ERRBUF_SIZE];
        int rc = nl_injector_send(inj, k->bytes, k->len, why);
        if (rc < 0)
            return nl_err(errbuf, rc, "packet %zu of %zu: %s", i + 1, n, why);
        (*sent)++;
        if (gap_ns > 0 && i + 1 < n) {
            struct timespec ts = {(time_t)(gap_ns / 1000000000), (long)(gap_ns % 1000000000)};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !*nl_stop_flag())
                ;
        }
    }
    return 0;
}

void nl_injector_close(struct nl_injector *inj)
{
    if (!inj)
        return;
    if (inj->l)
        libnet_destroy(inj->l);
    free(inj);
}
