/*
 * build_bench.c - building and checksumming packets into memory.
 *   netlab   nl_plan_build: libnet builders + netlab's own encoding and both
 *            checksums, cross-checked byte for byte, stored in the plan
 *   libnet   the bare libnet part alone (builders + libnet_pblock_coalesce), for scale
 * N messages (default 100,000; 20-300 bytes each, generated here); median of 7.
 */
#include <libnet.h>
#include <netlab.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    char err[NL_ERRBUF_SIZE];
    size_t cap = n * 400 + 100, len = 0;
    char *csv = malloc(cap);
    len += (size_t)snprintf(csv + len, cap - len, "msg_id,app_protocol,src_app,dst_app,message,timestamp\n");
    srand(7);
    for (size_t i = 0; i < n; i++) {
        int m = 20 + rand() % 281;
        len += (size_t)snprintf(csv + len, cap - len, "%zu,CHAT,%s,%s,", i, i % 3 ? "client" : "server",
                                i % 3 ? "server" : "client");
        for (int k = 0; k < m; k++)
            csv[len++] = (char)('a' + (k + (int)i) % 26);
        len += (size_t)snprintf(csv + len, cap - len, ",\n");
    }
    struct nl_messages *ms;
    double t0 = now();
    if (nl_messages_parse(csv, len, "bench.csv", &ms, err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double parse = now() - t0;
    struct nl_craft_opts o;
    nl_craft_opts_init(&o);
    o.start_ns = 1;

    enum { R = 7 };
    double a[R], b[R];
    size_t pkts = 0;
    for (int r = 0; r < R; r++) {
        struct nl_plan *p;
        t0 = now();
        if (nl_plan_build(ms, &o, &p, err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        a[r] = now() - t0;
        pkts = nl_plan_packet_count(p);
        nl_plan_free(p);

        /* the libnet part alone, same payloads */
        char lerr[LIBNET_ERRBUF_SIZE];
        libnet_t *l = libnet_init(LIBNET_NONE, NULL, lerr);
        libnet_ptag_t tt = 0, ip = 0;
        uint32_t seq = 1;
        volatile uint32_t sink = 0;
        t0 = now();
        for (size_t i = 0; i < n; i++) {
            const struct nl_message *m = nl_messages_at(ms, i);
            tt = libnet_build_tcp(40000, 12345, seq, 1, TH_PUSH | TH_ACK, 65535, 0, 0, (uint16_t)(LIBNET_TCP_H + m->len),
                                  m->data, (uint32_t)m->len, l, tt);
            ip = libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + LIBNET_TCP_H + m->len), 0, (uint16_t)i, IP_DF, 64,
                                   IPPROTO_TCP, 0, 0x0100007f, 0x0100007f, NULL, 0, l, ip);
            uint8_t *pk;
            uint32_t sz;
            libnet_pblock_coalesce(l, &pk, &sz);
            sink += pk[10];
            libnet_adv_free_packet(l, pk);
            seq += (uint32_t)m->len;
        }
        b[r] = now() - t0;
        libnet_destroy(l);
    }
    qsort(a, R, sizeof a[0], cmp);
    qsort(b, R, sizeof b[0], cmp);
    double pps = (double)pkts / a[R / 2], lpps = (double)n / b[R / 2];
    printf("CSV parse (libcsv, %zu messages, %.1f MB): %.1f ms, %.0f messages/s\n", n, (double)len / 1e6, parse * 1e3,
           (double)n / parse);
    printf("netlab nl_plan_build (libnet + own encoding + both checksums, cross-checked): %.0f packets/s (%.0f ns/packet)\n",
           pps, 1e9 / pps);
    printf("libnet builders + coalesce alone:                                             %.0f packets/s (%.0f ns/packet)\n",
           lpps, 1e9 / lpps);
    printf("netlab / bare libnet: %.2f   goal >= 2,000,000 packets/s: %s\n", pps / lpps, pps >= 2e6 ? "met" : "NOT met");
    nl_messages_free(ms);
    free(csv);
    return 0;
}
