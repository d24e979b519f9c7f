/*
 * inject_bench.c - live injection of pre-built packets to 127.0.0.1.
 *   netlab     nl_injector_send_plan: libnet's raw IPv4 injection, one packet per call
 *   sendmmsg   the limit: a plain raw socket (IP_HDRINCL) sending 64 packets per sendmmsg
 * Both send the same N packets (64-byte payloads) built by nl_plan_build.
 * Usage: inject_bench MODE N   (MODE: netlab | sendmmsg); prints packets/s.
 */
#define _GNU_SOURCE
#include <netlab.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s netlab|sendmmsg N\n", argv[0]);
        return 64;
    }
    size_t n = strtoul(argv[2], NULL, 10);
    char err[NL_ERRBUF_SIZE];
    size_t cap = n * 100 + 100, len = 0;
    char *csv = malloc(cap);
    len += (size_t)snprintf(csv, cap, "msg_id,app_protocol,src_app,dst_app,message,timestamp\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(csv + len, cap - len, "%zu,BENCH,client,server,%064zu,\n", i, i);
    struct nl_messages *ms;
    struct nl_plan *plan;
    struct nl_craft_opts o;
    nl_craft_opts_init(&o);
    o.src_port = 40000;
    if (nl_messages_parse(csv, len, "bench", &ms, err) < 0 || nl_plan_build(ms, &o, &plan, err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    size_t npk = nl_plan_packet_count(plan), sent = 0;
    double t0, dt;
    if (strcmp(argv[1], "netlab") == 0) {
        struct nl_injector *inj;
        if (nl_injector_open(&inj, err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        t0 = now();
        if (nl_injector_send_plan(inj, plan, 0, &sent, err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        dt = now() - t0;
        nl_injector_close(inj);
    } else {
        int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW); /* IPPROTO_RAW implies IP_HDRINCL */
        if (fd < 0) {
            perror("socket");
            return 1;
        }
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        enum { B = 64 };
        struct mmsghdr mm[B];
        struct iovec iov[B];
        t0 = now();
        while (sent < npk) {
            unsigned k = 0;
            for (; k < B && sent + k < npk; k++) {
                const struct nl_pkt *p = nl_plan_packet(plan, sent + k);
                iov[k].iov_base = (void *)(uintptr_t)p->bytes;
                iov[k].iov_len = p->len;
                memset(&mm[k], 0, sizeof mm[k]);
                mm[k].msg_hdr.msg_iov = &iov[k];
                mm[k].msg_hdr.msg_iovlen = 1;
                mm[k].msg_hdr.msg_name = &sin;
                mm[k].msg_hdr.msg_namelen = sizeof sin;
            }
            int r = sendmmsg(fd, mm, k, 0);
            if (r < 0) {
                perror("sendmmsg");
                return 1;
            }
            sent += (size_t)r;
        }
        dt = now() - t0;
        close(fd);
    }
    printf("%.0f\n", (double)sent / dt);
    nl_plan_free(plan);
    nl_messages_free(ms);
    free(csv);
    return 0;
}
