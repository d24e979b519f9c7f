/*
 * nl_roundtrip.c - the injector's round trip: choose the interface and a filter
 * for the plan's connections, capture (nl_capture) while injecting (nl_inject),
 * then match captured IPv4 packets to crafted ones byte for byte. Owns the
 * verdicts; prints nothing.
 */
#include "netlab/nl_roundtrip.h"
#include "netlab/nl_capture.h"
#include "netlab/nl_checksum.h"
#include "netlab/nl_craft.h"
#include "netlab/nl_inject.h"
#include "netlab/nl_ipv4.h"
#include "netlab/nl_link.h"
#include "netlab/nl_pcapw.h"
#include "netlab/nl_signal.h"
#include "netlab/nl_tcp.h"
#include "nl_internal.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct nl_roundtrip {
    struct nl_rt_item *items;
    size_t n;
    uint64_t captured, resets, other, dropped;
    size_t matched;         /* crafted packets seen at least once */
    char iface[64];
    char linktype[32];
    char *filter;
    int ok;
};

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Offset of the IPv4 header in a captured frame, or -1 if it carries no IPv4. */
static long ip_offset(int linktype, const uint8_t *d, size_t caplen)
{
    struct nl_link l;
    if (nl_link_decode(linktype, d, caplen, &l) < 0 || l.ethertype != NL_ETHERTYPE_IPV4)
        return -1;
    return (long)l.l3_off;
}

static char *build_filter(const struct nl_plan *plan)
{
    size_t nconv = nl_plan_conv_count(plan);
    size_t cap = 64 + nconv * 96, n = 0;
    char *f = malloc(cap);
    if (!f)
        return NULL;
    if (nconv > 64) { /* a BPF program per connection gets long: keep it broad */
        snprintf(f, cap, "tcp");
        return f;
    }
    n += (size_t)snprintf(f + n, cap - n, "tcp and (");
    for (size_t i = 0; i < nconv; i++) {
        const struct nl_conv *c = nl_plan_conv(plan, i);
        char a[16], b[16];
        n += (size_t)snprintf(f + n, cap - n, "%s(host %s and host %s and port %u and port %u)", i ? " or " : "",
                              nl_ipv4_format(c->client_ip, a), nl_ipv4_format(c->server_ip, b), c->client_port,
                              c->server_port);
    }
    snprintf(f + n, cap - n, ")");
    return f;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Match one captured IPv4 packet. */
static void match(struct nl_roundtrip *r, const struct nl_plan *plan, const size_t *table, size_t tcap,
                  const uint8_t *ip, size_t len, uint32_t frame)
{
    struct nl_cursor c;
    struct nl_ipv4 h;
    nl_cur_init(&c, ip, len);
    if (nl_ipv4_decode(&c, &h) < 0 || h.protocol != 6) {
        r->other++;
        return;
    }
    size_t plen = NL_MIN((size_t)h.total_len, len);
    uint64_t hv = hash_bytes(ip, plen);
    for (size_t k = hv & (tcap - 1); table[k] != SIZE_MAX; k = (k + 1) & (tcap - 1)) {
        const struct nl_pkt *p = nl_plan_packet(plan, table[k]);
        if (p->len == plen && memcmp(p->bytes, ip, plen) == 0) {
            struct nl_rt_item *it = &r->items[table[k]];
            if (!it->copies) {
                r->matched++;
                it->frame = frame;
                it->identical = 1;
                size_t ihl = (size_t)h.ihl * 4;
                it->ip_ok = nl_cksum(ip, ihl) == 0;
                it->tcp_ok = nl_cksum_l4_ipv4(h.src, h.dst, 6, ip + ihl, plen - ihl, NL_TCP_CKSUM_OFFSET) ==
                             nl_get_be16(ip + ihl + NL_TCP_CKSUM_OFFSET);
            }
            it->copies++;
            return;
        }
    }
    /* Not byte-identical: is it one of ours, altered on the way? Match on ports, seq and flags. */
    struct nl_tcp t;
    if (nl_tcp_decode(&c, &t) < 0) {
        r->other++;
        return;
    }
    /* Two pure ACKs from one side can share ports, seq and flags: prefer one not yet seen. */
    size_t found = SIZE_MAX;
    for (size_t i = 0; i < nl_plan_packet_count(plan); i++) {
        const struct nl_pkt *p = nl_plan_packet(plan, i);
        size_t pihl = (size_t)(p->bytes[0] & 0x0f) * 4;
        const uint8_t *pt = p->bytes + pihl;
        if (nl_get_be16(pt) == t.sport && nl_get_be16(pt + 2) == t.dport && nl_get_be32(pt + 4) == t.seq &&
            pt[13] == t.flags && memcmp(p->bytes + 12, ip + 12, 8) == 0) {
            if (found == SIZE_MAX || (r->items[found].copies && !r->items[i].copies))
                found = i;
        }
    }
    if (found != SIZE_MAX) {
        const struct nl_pkt *p = nl_plan_packet(plan, found);
        size_t pihl = (size_t)(p->bytes[0] & 0x0f) * 4;
        struct nl_rt_item *it = &r->items[found];
        if (!it->copies) {
            r->matched++;
            it->frame = frame;
            it->identical = 0;
            size_t ihl = (size_t)h.ihl * 4;
            it->ip_ok = nl_cksum(ip, ihl) == 0;
            it->tcp_ok = plen >= ihl + 20 &&
                         nl_cksum_l4_ipv4(h.src, h.dst, 6, ip + ihl, plen - ihl, NL_TCP_CKSUM_OFFSET) ==
                             nl_get_be16(ip + ihl + NL_TCP_CKSUM_OFFSET);
            if (plen != p->len)
                snprintf(it->diff, sizeof it->diff, "length differs: captured %zu bytes, crafted %u", plen, p->len);
            else if (nl_pkt_diff(ip, p->bytes, plen, pihl, "captured", "crafted", it->diff) == 0)
                snprintf(it->diff, sizeof it->diff, "identical");
        }
        it->copies++;
        return;
    }
    if (t.flags & NL_TCP_RST)
        r->resets++;
    else
        r->other++;
}

int nl_roundtrip_run(const struct nl_plan *plan, struct nl_injector *inj, const struct nl_roundtrip_opts *o,
                     struct nl_roundtrip **out, char *errbuf)
{
    *out = NULL;
    size_t n = nl_plan_packet_count(plan);
    if (!n)
        return nl_err(errbuf, NL_EINVAL, "round trip: the plan holds no packets");
    struct nl_roundtrip *r = calloc(1, sizeof *r);
    if (!r)
        return nl_err(errbuf, NL_ENOMEM, "round trip: out of memory");
    r->items = calloc(n, sizeof *r->items);
    r->n = n;
    r->filter = build_filter(plan);
    size_t tcap = 16;
    while (tcap < n * 2)
        tcap <<= 1;
    size_t *table = malloc(tcap * sizeof *table);
    if (!r->items || !r->filter || !table) {
        free(table);
        nl_roundtrip_free(r);
        return nl_err(errbuf, NL_ENOMEM, "round trip: out of memory");
    }
    memset(table, 0xff, tcap * sizeof *table);
    for (size_t i = 0; i < n; i++) {
        const struct nl_pkt *p = nl_plan_packet(plan, i);
        size_t k = hash_bytes(p->bytes, p->len) & (tcap - 1);
        while (table[k] != SIZE_MAX)
            k = (k + 1) & (tcap - 1);
        table[k] = i;
    }

    int rc = 0;
    if (o->interface && *o->interface) {
        snprintf(r->iface, sizeof r->iface, "%s", o->interface);
    } else {
        rc = nl_route_interface(nl_plan_conv(plan, 0)->server_ip, r->iface, sizeof r->iface, errbuf);
        for (size_t i = 1; rc == 0 && i < nl_plan_conv_count(plan); i++) {
            char other[64];
            rc = nl_route_interface(nl_plan_conv(plan, i)->server_ip, other, sizeof other, errbuf);
            if (rc == 0 && strcmp(other, r->iface) != 0)
                snprintf(r->iface, sizeof r->iface, "any"); /* destinations behind several interfaces */
        }
    }
    struct nl_capture *cap = NULL;
    if (rc == 0) {
        struct nl_capture_opts co;
        nl_capture_opts_init(&co);
        co.interface = r->iface;
        co.filter = r->filter;
        co.path = o->path;
        co.pcapng = o->path && ends_with(o->path, ".pcapng");
        co.keep_packets = 1;
        rc = nl_capture_open(&cap, &co, errbuf);
    }
    if (rc < 0) {
        free(table);
        nl_roundtrip_free(r);
        return rc;
    }
    snprintf(r->linktype, sizeof r->linktype, "%s", nl_capture_linktype_name(cap));
    int linktype = nl_capture_linktype(cap);

    size_t sent = 0;
    char why[NL_ERRBUF_SIZE];
    rc = nl_injector_send_plan(inj, plan, o->gap_ns, &sent, why);
    if (rc < 0) {
        nl_capture_abort(cap);
        free(table);
        nl_roundtrip_free(r);
        return nl_err(errbuf, rc, "round trip: %s", why);
    }
    /* Match packets as they arrive, until every crafted one has been seen (or the
     * settle time passes); then a short wait for second copies and resets, a
     * drain, and the last matches: the file holds exactly what was matched. */
    double settle = o->settle_seconds > 0 ? o->settle_seconds : 1.0;
    double deadline = now_s() + settle;
    size_t taken = 0;
    int all_in = 0;
    for (int last = 0; last < 2; last++) {
        while (last || now_s() < deadline) {
            if (last)
                rc = nl_capture_drain(cap, 0.15, errbuf);
            else
                rc = nl_capture_dispatch(cap, NULL, errbuf);
            if (rc < 0 || *nl_stop_flag()) {
                nl_capture_abort(cap);
                free(table);
                nl_roundtrip_free(r);
                return rc < 0 ? rc : nl_err(errbuf, NL_EINTR, "round trip interrupted; no capture written");
            }
            for (; taken < nl_capture_packet_count(cap); taken++) {
                const struct nl_captured *k = nl_capture_packet(cap, taken);
                long off = ip_offset(linktype, k->data, k->caplen);
                r->captured++;
                if (off < 0) {
                    r->other++;
                    continue;
                }
                match(r, plan, table, tcap, k->data + off, k->caplen - (size_t)off, (uint32_t)(taken + 1));
            }
            if (last)
                break;
            if (!all_in && r->matched == n) {
                all_in = 1; /* every crafted packet is in: a moment more for copies and resets */
                double soon = now_s() + 0.2;
                if (soon < deadline)
                    deadline = soon;
            }
            struct pollfd pfd = {nl_capture_fd(cap), POLLIN, 0};
            poll(&pfd, 1, 20);
        }
    }
    free(table);
    struct nl_capture_stats st;
    rc = nl_capture_close(cap, &st, errbuf);
    if (rc < 0) {
        nl_roundtrip_free(r);
        return rc;
    }
    r->dropped = st.kernel_dropped;
    r->ok = 1;
    for (size_t i = 0; i < n; i++)
        if (!r->items[i].copies || !r->items[i].identical || !r->items[i].ip_ok || !r->items[i].tcp_ok)
            r->ok = 0;
    *out = r;
    return 0;
}

const struct nl_rt_item *nl_roundtrip_item(const struct nl_roundtrip *r, size_t i)
{
    return r && i < r->n ? &r->items[i] : NULL;
}

uint64_t nl_roundtrip_captured(const struct nl_roundtrip *r) { return r ? r->captured : 0; }
uint64_t nl_roundtrip_kernel_resets(const struct nl_roundtrip *r) { return r ? r->resets : 0; }
uint64_t nl_roundtrip_other(const struct nl_roundtrip *r) { return r ? r->other : 0; }
uint64_t nl_roundtrip_kernel_dropped(const struct nl_roundtrip *r) { return r ? r->dropped : 0; }
const char *nl_roundtrip_interface(const struct nl_roundtrip *r) { return r ? r->iface : ""; }
const char *nl_roundtrip_linktype(const struct nl_roundtrip *r) { return r ? r->linktype : ""; }
const char *nl_roundtrip_filter(const struct nl_roundtrip *r) { return r && r->filter ? r->filter : ""; }
int nl_roundtrip_ok(const struct nl_roundtrip *r) { return r ? r->ok : 0; }

void nl_roundtrip_free(struct nl_roundtrip *r)
{
    if (!r)
        return;
    free(r->items);
    free(r->filter);
    free(r);
}
