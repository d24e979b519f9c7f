/*
 * encapsulate.c - libnetlab from plain C, linked through pkg-config:
 *
 *   cc -o encapsulate encapsulate.c $(pkg-config --cflags --libs netlab)
 *   ./encapsulate messages.csv out.pcap
 *
 * Loads the CSV, builds the TCP/IPv4 conversation with a handshake, re-verifies
 * every checksum over the finished bytes, prints one line per packet and writes
 * a pcap. The same library calls the Swift `injector` makes.
 */
#include <netlab.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MESSAGES.csv OUT.pcap\n", argv[0]);
        return 64;
    }
    char err[NL_ERRBUF_SIZE];
    struct nl_messages *ms = NULL;
    struct nl_plan *plan = NULL;
    struct nl_craft_opts opts;
    int status = 1;

    if (nl_messages_load(argv[1], &ms, err) < 0) {
        fprintf(stderr, "encapsulate: %s\n", err);
        return 1;
    }
    nl_craft_opts_init(&opts);
    opts.handshake = 1;
    if (nl_plan_build(ms, &opts, &plan, err) < 0) {
        fprintf(stderr, "encapsulate: %s\n", err);
        goto out;
    }
    for (size_t i = 0; i < nl_plan_packet_count(plan); i++) {
        const struct nl_pkt *k = nl_plan_packet(plan, i);
        size_t ihl = (size_t)(k->bytes[0] & 0x0f) * 4;
        /* A correct header sums to 0xffff with its checksum included (RFC 1071 2). */
        int ip_ok = nl_cksum(k->bytes, ihl) == 0;
        struct nl_explain x;
        if (nl_explain_packet(k->bytes, k->len, NULL, &x, err) < 0) {
            fprintf(stderr, "encapsulate: packet %zu: %s\n", i + 1, err);
            goto out;
        }
        printf("%3zu %-11s %s ip=%s tcp=%s\n", i + 1, nl_pkt_kind_name(k->kind), x.summary,
               ip_ok ? "ok" : "BAD", x.tcp_ok ? "ok" : "BAD");
        int bad = !ip_ok || !x.tcp_ok || k->ip_cksum_libnet != k->ip_cksum_netlab ||
                  k->tcp_cksum_libnet != k->tcp_cksum_netlab;
        nl_explain_free(&x);
        if (bad) {
            fprintf(stderr, "encapsulate: packet %zu has a bad checksum\n", i + 1);
            goto out;
        }
    }
    if (nl_pcap_write_plan(plan, argv[2], err) < 0) {
        fprintf(stderr, "encapsulate: %s\n", err);
        goto out;
    }
    printf("%zu messages, %zu packets, all checksums verified; wrote %s\n", nl_messages_count(ms),
           nl_plan_packet_count(plan), argv[2]);
    status = 0;
out:
    nl_plan_free(plan);
    nl_messages_free(ms);
    return status;
}
