/*
 * nl_capture.c - live capture through libpcap (pcap_create/activate, BPF filter,
 * non-blocking dispatch) into nl_pcapw files, with limits, kernel drop counters,
 * interface listing and the route lookup that picks an interface for a
 * destination. Never prints; the caller renders status.
 */
#include "netlab/nl_capture.h"
#include "netlab/nl_pcapw.h"
#include "nl_arena.h"
#include "nl_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct nl_capture {
    pcap_t *p;
    struct nl_pcapw *w;
    struct nl_capture_opts o;
    char *iface;
    char *filter;
    int dlt;
    int linktype;
    int done;
    int drained;            /* nl_capture_drain ran: take nothing more */
    int write_rc;
    char write_err[NL_ERRBUF_SIZE];
    struct nl_capture_stats st;
    struct timespec start;
    /* keep_packets */
    struct nl_arena arena;
    struct nl_captured *kept;
    size_t nkept, capkept;
};

#define PRIV_HINT "run as root, or grant the capabilities with 'sudo setcap cap_net_raw,cap_net_admin+ep BINARY'"

void nl_capture_opts_init(struct nl_capture_opts *o)
{
    memset(o, 0, sizeof *o);
    o->snaplen = 262144;
    o->buffer_mb = 64;
}

static double elapsed(const struct nl_capture *c)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - c->start.tv_sec) + (double)(now.tv_nsec - c->start.tv_nsec) / 1e9;
}

static void list_names(char *out, size_t cap)
{
    pcap_if_t *all = NULL;
    char perr[PCAP_ERRBUF_SIZE];
    size_t n = 0;
    out[0] = 0;
    if (pcap_findalldevs(&all, perr) != 0)
        return;
    for (pcap_if_t *d = all; d && n + 2 < cap; d = d->next) {
        int w = snprintf(out + n, cap - n, "%s%s", n ? ", " : "", d->name);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    pcap_freealldevs(all);
}

static int linktype_of(int dlt)
{
    /* DLT and LINKTYPE values agree except for a few historical ones. */
    return dlt == DLT_RAW ? NL_LINKTYPE_RAW : dlt;
}

static void free_capture(struct nl_capture *c)
{
    if (c->p)
        pcap_close(c->p);
    free(c->iface);
    free(c->filter);
    free(c->kept);
    nl_arena_free(&c->arena);
    free(c);
}

int nl_capture_open(struct nl_capture **out, const struct nl_capture_opts *o, char *errbuf)
{
    *out = NULL;
    char perr[PCAP_ERRBUF_SIZE] = "";
    if (o->snaplen > 262144)
        return nl_err(errbuf, NL_EINVAL, "capture: snap length %u is over 262144", o->snaplen);
    if (o->buffer_mb < 0 || o->buffer_mb > 1024)
        return nl_err(errbuf, NL_EINVAL, "capture: a kernel buffer of %d MiB is out of range 1-1024", o->buffer_mb);
    if (o->max_seconds < 0)
        return nl_err(errbuf, NL_EINVAL, "capture: a negative duration");
    struct nl_capture *c = calloc(1, sizeof *c);
    if (!c)
        return nl_err(errbuf, NL_ENOMEM, "capture: out of memory");
    c->o = *o;
    nl_arena_init(&c->arena);
    c->iface = strdup(o->interface && *o->interface ? o->interface : "any");
    c->filter = strdup(o->filter ? o->filter : "");
    if (!c->iface || !c->filter) {
        free_capture(c);
        return nl_err(errbuf, NL_ENOMEM, "capture: out of memory");
    }
    c->o.interface = c->iface;
    c->o.filter = c->filter;
    if (!c->o.snaplen)
        c->o.snaplen = 262144;
    if (c->o.buffer_mb <= 0)
        c->o.buffer_mb = 64;

    c->p = pcap_create(c->iface, perr);
    if (!c->p) {
        free_capture(c);
        return nl_err(errbuf, NL_ELIB, "capture on '%s': %s", o->interface ? o->interface : "any", perr);
    }
    pcap_set_snaplen(c->p, (int)c->o.snaplen);
    pcap_set_promisc(c->p, c->o.promisc ? 1 : 0);
    pcap_set_immediate_mode(c->p, c->o.immediate ? 1 : 0);
    pcap_set_buffer_size(c->p, c->o.buffer_mb << 20);
    pcap_set_timeout(c->p, 100);
    (void)pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_NANO);
    int rc = pcap_activate(c->p);
    if (rc < 0) {
        char names[512];
        char msg[PCAP_ERRBUF_SIZE + 1];
        snprintf(msg, sizeof msg, "%s", pcap_geterr(c->p));
        int code;
        switch (rc) {
        case PCAP_ERROR_NO_SUCH_DEVICE:
            list_names(names, sizeof names);
            code = nl_err(errbuf, NL_ENOTFOUND, "no interface '%s' to capture on; available: %s", c->iface,
                          names[0] ? names : "(none visible)");
            break;
        case PCAP_ERROR_PERM_DENIED:
        case PCAP_ERROR_PROMISC_PERM_DENIED:
            code = nl_err(errbuf, NL_EPERM, "capturing on '%s' needs CAP_NET_RAW and CAP_NET_ADMIN: " PRIV_HINT,
                          c->iface);
            break;
        case PCAP_ERROR_IFACE_NOT_UP:
            code = nl_err(errbuf, NL_EINVAL, "interface '%s' is down; bring it up (ip link set %s up) or pick another",
                          c->iface, c->iface);
            break;
        default:
            code = nl_err(errbuf, NL_ELIB, "capture on '%s': %s", c->iface, msg);
        }
        free_capture(c);
        return code;
    }
    /* On "any", prefer LINUX_SLL2: it records the interface index of each packet. */
    if (strcmp(c->iface, "any") == 0)
        (void)pcap_set_datalink(c->p, DLT_LINUX_SLL2);
    c->dlt = pcap_datalink(c->p);
    c->linktype = linktype_of(c->dlt);

    if (c->filter[0]) {
        struct bpf_program prog;
        if (pcap_compile(c->p, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            int code = nl_err(errbuf, NL_EINVAL, "invalid filter '%s': %s", c->filter, pcap_geterr(c->p));
            free_capture(c);
            return code;
        }
        rc = pcap_setfilter(c->p, &prog);
        pcap_freecode(&prog);
        if (rc != 0) {
            int code = nl_err(errbuf, NL_ELIB, "installing filter '%s': %s", c->filter, pcap_geterr(c->p));
            free_capture(c);
            return code;
        }
    }
    if (pcap_setnonblock(c->p, 1, perr) != 0) {
        int code = nl_err(errbuf, NL_ELIB, "capture: %s", perr);
        free_capture(c);
        return code;
    }
    if (c->o.path) {
        rc = c->o.pcapng ? nl_pcapw_open_ng(&c->w, c->o.path, c->linktype, c->o.snaplen, c->iface, errbuf)
                         : nl_pcapw_open(&c->w, c->o.path, c->dlt, c->o.snaplen, 1, errbuf);
        if (rc < 0) {
            free_capture(c);
            return rc;
        }
        c->st.file_bytes = nl_pcapw_bytes(c->w);
    }
    clock_gettime(CLOCK_MONOTONIC, &c->start);
    *out = c;
    return 0;
}

int nl_capture_fd(const struct nl_capture *c) { return c ? pcap_get_selectable_fd(c->p) : -1; }

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    struct nl_capture *c = (struct nl_capture *)(void *)user;
    if (c->done || c->write_rc)
        return;
    int64_t t = (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec; /* nano precision requested */
    if (pcap_get_tstamp_precision(c->p) != PCAP_TSTAMP_PRECISION_NANO)
        t = (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec * 1000;
    if (c->w) {
        uint64_t need = (c->o.pcapng ? 32 + ((h->caplen + 3u) & ~3u) : 16 + h->caplen);
        if (c->o.max_bytes && c->st.file_bytes + need > c->o.max_bytes) {
            c->done = 1;
            pcap_breakloop(c->p);
            return;
        }
        int rc = nl_pcapw_write(c->w, t, data, h->caplen, h->len, c->write_err);
        if (rc < 0) {
            c->write_rc = rc;
            pcap_breakloop(c->p);
            return;
        }
        c->st.file_bytes = nl_pcapw_bytes(c->w);
    }
    if (c->o.keep_packets) {
        if (c->nkept == c->capkept) {
            size_t ncap = c->capkept ? c->capkept * 2 : 256;
            struct nl_captured *n = realloc(c->kept, ncap * sizeof *n);
            if (!n) {
                c->write_rc = nl_err(c->write_err, NL_ENOMEM, "capture: out of memory keeping packets");
                pcap_breakloop(c->p);
                return;
            }
            c->kept = n;
            c->capkept = ncap;
        }
        uint8_t *copy = nl_arena_alloc(&c->arena, h->caplen ? h->caplen : 1);
        if (!copy) {
            c->write_rc = nl_err(c->write_err, NL_ENOMEM, "capture: out of memory keeping packets");
            pcap_breakloop(c->p);
            return;
        }
        memcpy(copy, data, h->caplen);
        c->kept[c->nkept++] = (struct nl_captured){copy, h->caplen, h->len, t};
    }
    c->st.packets++;
    c->st.bytes += h->len;
    if (c->o.max_packets && c->st.packets >= c->o.max_packets) {
        c->done = 1;
        pcap_breakloop(c->p);
    }
}

int nl_capture_dispatch(struct nl_capture *c, int *done, char *errbuf)
{
    int total = 0;
    if (c->drained) {
        if (done)
            *done = 1;
        return 0;
    }
    /* Bounded: under a flood the caller still gets to check its limits and signals. */
    for (int pass = 0; pass < 64; pass++) {
        int n = pcap_dispatch(c->p, -1, on_packet, (u_char *)(void *)c);
        if (c->write_rc)
            return nl_err(errbuf, c->write_rc, "%s", c->write_err);
        if (n == PCAP_ERROR)
            return nl_err(errbuf, NL_ELIB, "capture on '%s': %s", c->iface, pcap_geterr(c->p));
        if (n <= 0 || c->done) /* 0: nothing ready; PCAP_ERROR_BREAK after a limit */
            break;
        total += n;
    }
    /* A pipe or FIFO reader (capture -w - | tshark -r -) sees packets as they come. */
    if (c->w && nl_pcapw_is_stream(c->w)) {
        int rc = nl_pcapw_flush(c->w, errbuf);
        if (rc < 0)
            return rc;
    }
    if (c->o.max_seconds > 0 && elapsed(c) >= c->o.max_seconds)
        c->done = 1;
    if (done)
        *done = c->done;
    return total;
}

int nl_capture_get_stats(struct nl_capture *c, struct nl_capture_stats *st)
{
    struct pcap_stat ps;
    if (pcap_stats(c->p, &ps) == 0) {
        c->st.kernel_received = ps.ps_recv;
        c->st.kernel_dropped = ps.ps_drop;
        c->st.if_dropped = ps.ps_ifdrop;
    }
    c->st.seconds = elapsed(c);
    *st = c->st;
    return 0;
}

int nl_capture_run(struct nl_capture *c, volatile sig_atomic_t *stop, nl_capture_status_fn status, void *ctx,
                   char *errbuf)
{
    int fd = nl_capture_fd(c);
    double next_status = 0;
    for (;;) {
        if (stop && *stop)
            return 0;
        int done = 0;
        int rc = nl_capture_dispatch(c, &done, errbuf);
        if (rc < 0)
            return rc;
        if (done)
            return 0;
        double now = elapsed(c);
        if (status && now >= next_status) {
            struct nl_capture_stats st;
            nl_capture_get_stats(c, &st);
            status(&st, ctx);
            next_status = now + 0.25;
        }
        int timeout = 100;
        if (c->o.max_seconds > 0) {
            double left = c->o.max_seconds - now;
            if (left < 0.1)
                timeout = left > 0 ? (int)(left * 1000) + 1 : 0;
        }
        if (fd >= 0) {
            struct pollfd pfd = {fd, POLLIN, 0};
            if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
                return nl_err_sys(errbuf, errno, "capture: poll");
        } else {
            struct timespec ts = {0, 10 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
}

int nl_capture_linktype(const struct nl_capture *c) { return c ? c->linktype : -1; }

const char *nl_capture_linktype_name(const struct nl_capture *c)
{
    const char *n = c ? pcap_datalink_val_to_name(c->dlt) : NULL;
    return n ? n : "UNKNOWN";
}

size_t nl_capture_packet_count(const struct nl_capture *c) { return c ? c->nkept : 0; }

const struct nl_captured *nl_capture_packet(const struct nl_capture *c, size_t i)
{
    return c && i < c->nkept ? &c->kept[i] : NULL;
}

int nl_capture_drain(struct nl_capture *c, double seconds, char *errbuf)
{
    int rc = 0;
    if (!c->done && !c->write_rc && !c->drained) {
        double until = elapsed(c) + seconds;
        int fd = nl_capture_fd(c);
        do {
            rc = nl_capture_dispatch(c, NULL, errbuf);
            if (rc < 0 || c->done)
                break;
            struct pollfd pfd = {fd, POLLIN, 0};
            if (fd >= 0)
                poll(&pfd, 1, 10);
        } while (elapsed(c) < until);
    }
    c->drained = 1;
    return rc < 0 ? rc : 0;
}

int nl_capture_close(struct nl_capture *c, struct nl_capture_stats *final, char *errbuf)
{
    /* What the kernel already holds: a partly filled block is handed over when
     * its 100 ms timer expires, so keep taking packets a little longer. */
    int rc = nl_capture_drain(c, c->o.immediate ? 0.02 : 0.15, errbuf);
    struct nl_capture_stats st;
    nl_capture_get_stats(c, &st);
    if (final)
        *final = st;
    if (c->w) {
        if (rc < 0) {
            nl_pcapw_abort(c->w);
        } else {
            rc = nl_pcapw_commit(c->w, errbuf);
        }
        c->w = NULL;
    }
    free_capture(c);
    return rc;
}

void nl_capture_abort(struct nl_capture *c)
{
    if (!c)
        return;
    nl_pcapw_abort(c->w);
    c->w = NULL;
    free_capture(c);
}

int nl_capture_interfaces(struct nl_iface **list, size_t *n, char *errbuf)
{
    pcap_if_t *all = NULL;
    char perr[PCAP_ERRBUF_SIZE];
    *list = NULL;
    *n = 0;
    if (pcap_findalldevs(&all, perr) != 0)
        return nl_err(errbuf, NL_ELIB, "listing interfaces: %s", perr);
    size_t count = 0;
    for (pcap_if_t *d = all; d; d = d->next)
        count++;
    struct nl_iface *v = calloc(count ? count : 1, sizeof *v);
    if (!v) {
        pcap_freealldevs(all);
        return nl_err(errbuf, NL_ENOMEM, "listing interfaces: out of memory");
    }
    size_t i = 0;
    for (pcap_if_t *d = all; d; d = d->next, i++) {
        snprintf(v[i].name, sizeof v[i].name, "%s", d->name);
        snprintf(v[i].description, sizeof v[i].description, "%s", d->description ? d->description : "");
        v[i].up = (d->flags & PCAP_IF_UP) != 0;
        v[i].running = (d->flags & PCAP_IF_RUNNING) != 0;
        v[i].loopback = (d->flags & PCAP_IF_LOOPBACK) != 0;
        size_t k = 0;
        for (pcap_addr_t *a = d->addresses; a; a = a->next) {
            char buf[INET6_ADDRSTRLEN] = "";
            if (!a->addr)
                continue;
            if (a->addr->sa_family == AF_INET)
                inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)a->addr)->sin_addr, buf, sizeof buf);
            else if (a->addr->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)a->addr)->sin6_addr, buf, sizeof buf);
            else
                continue;
            int w = snprintf(v[i].addresses + k, sizeof v[i].addresses - k, "%s%s", k ? " " : "", buf);
            if (w < 0 || (size_t)w >= sizeof v[i].addresses - k)
                break;
            k += (size_t)w;
        }
    }
    pcap_freealldevs(all);
    *list = v;
    *n = count;
    return 0;
}

int nl_route_interface(const uint8_t dst[4], char *name, size_t name_len, char *errbuf)
{
    if (dst[0] == 127) {
        snprintf(name, name_len, "lo");
        return 0;
    }
    /* Let the kernel pick the route: a connected UDP socket learns its source address. */
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return nl_err_sys(errbuf, errno, "route lookup: socket");
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(9);
    memcpy(&sin.sin_addr, dst, 4);
    socklen_t sl = sizeof sin;
    if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0 || getsockname(fd, (struct sockaddr *)&sin, &sl) != 0) {
        int e = errno;
        close(fd);
        return nl_err_sys(errbuf, e, "no route to %u.%u.%u.%u", dst[0], dst[1], dst[2], dst[3]);
    }
    close(fd);
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0)
        return nl_err_sys(errbuf, errno, "route lookup: getifaddrs");
    int found = 0;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
            ((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr == sin.sin_addr.s_addr) {
            snprintf(name, name_len, "%s", i->ifa_name);
            found = 1;
            break;
        }
    }
    freeifaddrs(ifs);
    if (!found)
        return nl_err(errbuf, NL_ENOTFOUND, "no interface holds the source address for %u.%u.%u.%u", dst[0], dst[1],
                      dst[2], dst[3]);
    /* A local address of ours: the kernel delivers it over loopback. */
    if (memcmp(&sin.sin_addr, dst, 4) == 0)
        snprintf(name, name_len, "lo");
    return 0;
}
