/*
 * nl_prove_seg.c - a script's TCP segment as IPv4 bytes and back: builds an injected segment
 * (header, options in the script's order, both checksums), decodes what the kernel sent through
 * the bounds-checked cursor, and words either in packetdrill's notation. Decides no match and
 * keeps no connection state (nl_prove_run.c does).
 */
#include "nl_prove_int.h"
#include "netlab/nl_checksum.h"
#include "netlab/nl_cursor.h"

#include <stdio.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)), put16(p + 2, (uint16_t)v); }

static size_t opts_encode(const struct pv_seg *g, const uint32_t *ts_ecr, uint8_t *o, size_t cap)
{
    size_t n = 0;
    for (int i = 0; i < g->nopts; i++) {
        const struct pv_opt *x = &g->opts[i];
        if (n + x->len > cap)
            break;
        o[n] = x->kind;
        switch (x->kind) {
        case 0: case 1: n += 1; continue;
        case 2: o[n + 1] = 4; put16(o + n + 2, (uint16_t)x->a); break;
        case 3: o[n + 1] = 3; o[n + 2] = (uint8_t)x->a; break;
        case 4: o[n + 1] = 2; break;
        case 5:
            o[n + 1] = x->len;
            for (int k = 0; k < x->nsack; k++) {
                put32(o + n + 2 + 8 * k, x->sack[k][0]);
                put32(o + n + 6 + 8 * k, x->sack[k][1]);
            }
            break;
        case 8: o[n + 1] = 10; put32(o + n + 2, x->a); put32(o + n + 6, ts_ecr ? *ts_ecr : x->b); break;
        case PV_OPT_FO: case PV_OPT_FOEXP: pv_tfo_encode(x, o + n, cap - n); break;
        }
        n += x->len;
    }
    while (n % 4 && n < cap)
        o[n++] = 0;  /* EOL padding to the 32-bit boundary (RFC 9293 3.1) */
    return n;
}

/* The TCP header of g at t (its checksum field 0, filled by the caller), the encoded options after it. */
static void tcp_header(uint8_t *t, const struct pv_seg *g, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                       const uint8_t *opts, size_t olen)
{
    put16(t, sport);
    put16(t + 2, dport);
    put32(t + 4, seq);
    put32(t + 8, (g->flags & PV_ACK) ? ack : 0);
    t[12] = (uint8_t)(((20 + olen) / 4) << 4);
    t[13] = g->flags;
    put16(t + 14, (uint16_t)(g->win < 0 ? 65535 : g->win));
    put16(t + 18, (uint16_t)(g->urg < 0 ? 0 : g->urg));
    memcpy(t + 20, opts, olen);
}

int pv_seg_build(const struct pv_seg *g, const uint8_t src[4], const uint8_t dst[4], uint16_t sport, uint16_t dport,
                 uint32_t seq, uint32_t ack, const uint32_t *ts_ecr, uint8_t *out, size_t cap)
{
    uint8_t opts[40];
    size_t olen = opts_encode(g, ts_ecr, opts, sizeof opts);
    size_t tcplen = 20 + olen, total = 20 + tcplen + g->len;
    if (total > cap || total > 65535)
        return -1;
    static uint16_t ip_id = 1;
    memset(out, 0, total);
    out[0] = 0x45;
    if (g->tos >= 0)
        out[1] = (uint8_t)g->tos;
    if (g->ecn >= 0 && g->ecn <= 3)
        out[1] = (uint8_t)((out[1] & 0xfc) | g->ecn);
    put16(out + 2, (uint16_t)total);
    put16(out + 4, ip_id++);
    out[8] = 64;
    out[9] = 6;
    memcpy(out + 12, src, 4);
    memcpy(out + 16, dst, 4);
    put16(out + 10, nl_cksum(out, 20));
    uint8_t *t = out + 20;
    tcp_header(t, g, sport, dport, seq, ack, opts, olen); /* payload: zeros, as packetdrill's */
    put16(t + 16, nl_cksum_l4_ipv4(src, dst, 6, t, tcplen + g->len, 16));
    return (int)total;
}

int pv_seg_build6(const struct pv_seg *g, const uint8_t src[16], const uint8_t dst[16], uint16_t sport,
                  uint16_t dport, uint32_t seq, uint32_t ack, const uint32_t *ts_ecr, uint8_t *out, size_t cap)
{
    uint8_t opts[40];
    size_t olen = opts_encode(g, ts_ecr, opts, sizeof opts);
    size_t tcplen = 20 + olen, total = 40 + tcplen + g->len;
    if (total > cap || tcplen + g->len > 65535)
        return -1;
    memset(out, 0, total);
    uint8_t tc = 0;
    if (g->tos >= 0)
        tc = (uint8_t)g->tos;
    if (g->ecn >= 0 && g->ecn <= 3)
        tc = (uint8_t)((tc & 0xfc) | g->ecn);
    out[0] = (uint8_t)(0x60 | tc >> 4);
    out[1] = (uint8_t)(tc << 4);
    put16(out + 4, (uint16_t)(tcplen + g->len));
    out[6] = 6;
    out[7] = 64;
    memcpy(out + 8, src, 16);
    memcpy(out + 24, dst, 16);
    uint8_t *t = out + 40;
    tcp_header(t, g, sport, dport, seq, ack, opts, olen);
    put16(t + 16, nl_cksum_l4_ipv6(src, dst, 6, t, tcplen + g->len, 16));
    return (int)total;
}

static int decode_tcp(const uint8_t *p, size_t total, size_t ihl, struct pv_wire *w);

int pv_seg_decode(const uint8_t *p, size_t n, struct pv_wire *w)
{
    memset(w, 0, sizeof *w);
    struct nl_cursor c;
    nl_cur_init(&c, p, n);
    uint8_t vihl = nl_cur_u8(&c);
    if (c.err)
        return NL_ETRUNC;
    if ((vihl >> 4) == 6) {   /* IPv6: TCP right after the fixed header (no extension headers) */
        if (n < 40)
            return NL_ETRUNC;
        w->v6 = 1;
        w->tos = (uint8_t)((p[0] & 15) << 4 | p[1] >> 4);
        w->ttl = p[7];
        memcpy(w->src6, p + 8, 16);
        memcpy(w->dst6, p + 24, 16);
        size_t plen = (size_t)p[4] << 8 | p[5];
        if (40 + plen > n)
            return NL_EMALFORMED;
        if (p[6] != 6)
            return NL_ENOTFOUND;
        return decode_tcp(p, 40 + plen, 40, w);
    }
    if ((vihl >> 4) != 4)
        return NL_ENOTFOUND;
    size_t ihl = (size_t)(vihl & 15) * 4;
    w->tos = nl_cur_u8(&c);
    uint16_t total = nl_cur_be16(&c);
    nl_cur_skip(&c, 4);
    w->ttl = nl_cur_u8(&c);
    uint8_t proto = nl_cur_u8(&c);
    nl_cur_skip(&c, 2);
    nl_cur_copy(&c, w->src, 4);
    nl_cur_copy(&c, w->dst, 4);
    if (c.err)
        return NL_ETRUNC;
    if (ihl < 20 || total < ihl || total > n)
        return NL_EMALFORMED;
    if (proto != 6)
        return NL_ENOTFOUND;
    return decode_tcp(p, total, ihl, w);
}

/* The TCP header and options at p + ihl, the packet total bytes long (both IP versions). */
static int decode_tcp(const uint8_t *p, size_t total, size_t ihl, struct pv_wire *w)
{
    struct nl_cursor t;
    nl_cur_init(&t, p + ihl, total - ihl);
    w->sport = nl_cur_be16(&t);
    w->dport = nl_cur_be16(&t);
    w->seq = nl_cur_be32(&t);
    w->ack = nl_cur_be32(&t);
    uint8_t off = nl_cur_u8(&t);
    w->flags = nl_cur_u8(&t);
    w->win = nl_cur_be16(&t);
    nl_cur_skip(&t, 2);
    w->urg = nl_cur_be16(&t);
    if (t.err)
        return NL_ETRUNC;
    size_t doff = (size_t)(off >> 4) * 4;
    if (doff < 20 || doff > total - ihl)
        return NL_EMALFORMED;
    w->len = (uint32_t)(total - ihl - doff);
    const uint8_t *o = p + ihl + 20, *oend = p + ihl + doff;
    while (o < oend && w->nopts < PV_MAX_OPTS) {
        struct pv_opt *x = &w->opts[w->nopts];
        memset(x, 0, sizeof *x);
        x->kind = o[0];
        if (o[0] == 0 || o[0] == 1) {
            x->len = 1;
            w->nopts++;
            if (o[0] == 0)
                break;
            o++;
            continue;
        }
        if (oend - o < 2 || o[1] < 2 || o[1] > oend - o)
            return NL_EMALFORMED;
        x->len = o[1];
        switch (o[0]) {
        case 2: if (o[1] == 4) x->a = (uint32_t)(o[2] << 8 | o[3]); break;
        case 3: if (o[1] == 3) x->a = o[2]; break;
        case 5:
            for (int k = 0; k < 4 && 2 + 8 * (k + 1) <= o[1]; k++) {
                struct nl_cursor s;
                nl_cur_init(&s, o + 2 + 8 * k, 8);
                x->sack[k][0] = nl_cur_be32(&s);
                x->sack[k][1] = nl_cur_be32(&s);
                x->nsack++;
            }
            break;
        case PV_OPT_FO: case PV_OPT_FOEXP:
            if (pv_tfo_decode(o, o[1], x) < 0)
                return NL_EMALFORMED;
            break;
        case 8:
            if (o[1] == 10) {
                struct nl_cursor s;
                nl_cur_init(&s, o + 2, 8);
                x->a = nl_cur_be32(&s);
                x->b = nl_cur_be32(&s);
            }
            break;
        }
        w->nopts++;
        o += o[1];
    }
    return 0;
}

void pv_flags_format(char *buf, size_t cap, uint8_t f)
{
    char s[16];
    size_t n = 0;
    static const struct { uint8_t bit; char c; } order[] = {
        {PV_FIN, 'F'}, {PV_SYN, 'S'}, {PV_RST, 'R'}, {PV_PSH, 'P'}, {PV_URG, 'U'}, {PV_ECE, 'E'}, {PV_CWR, 'W'}};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (f & order[i].bit)
            s[n++] = order[i].c;
    if (f & PV_ACK)
        s[n++] = '.';
    if (n == 0)
        s[n++] = '-';
    s[n] = 0;
    snprintf(buf, cap, "%s", s);
}

void pv_opts_format(char *buf, size_t cap, const struct pv_opt *opts, int nopts)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < nopts && n < cap; i++) {
        const struct pv_opt *x = &opts[i];
        const char *sep = i ? "," : "";
        int w = 0;
        switch (x->kind) {
        case 0: w = snprintf(buf + n, cap - n, "%seol", sep); break;
        case 1: w = snprintf(buf + n, cap - n, "%snop", sep); break;
        case 2: w = snprintf(buf + n, cap - n, "%smss %u", sep, x->a); break;
        case 3: w = snprintf(buf + n, cap - n, "%swscale %u", sep, x->a); break;
        case 4: w = snprintf(buf + n, cap - n, "%ssackOK", sep); break;
        case 5:
            w = snprintf(buf + n, cap - n, "%ssack", sep);
            for (int k = 0; k < x->nsack && w >= 0 && n + (size_t)w < cap; k++)
                w += snprintf(buf + n + w, cap - n - (size_t)w, " %u:%u", x->sack[k][0], x->sack[k][1]);
            break;
        case 8: w = snprintf(buf + n, cap - n, "%sTS val %u ecr %u", sep, x->a, x->b); break;
        case PV_OPT_FO: case PV_OPT_FOEXP: w = pv_tfo_format(buf + n, cap - n, sep, x); break;
        default: w = snprintf(buf + n, cap - n, "%soption %u (%u bytes)", sep, x->kind, x->len); break;
        }
        if (w < 0)
            break;
        n += (size_t)w;
    }
    if (n >= cap)
        buf[cap - 1] = 0;
}

void pv_seg_format(char *buf, size_t cap, uint8_t flags, uint32_t seq, uint32_t len, int has_ack, uint32_t ack, int win,
                   const struct pv_opt *opts, int nopts, int opts_any)
{
    char f[16], o[400];
    pv_flags_format(f, sizeof f, flags);
    int n = snprintf(buf, cap, "%s %u:%u(%u)", f, seq, seq + len, len);
    if (has_ack && n >= 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, " ack %u", ack);
    if (win >= 0 && n >= 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, " win %d", win);
    if (opts_any && n >= 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, " <...>");
    else if (nopts && n >= 0 && (size_t)n < cap) {
        pv_opts_format(o, sizeof o, opts, nopts);
        snprintf(buf + n, cap - (size_t)n, " <%s>", o);
    }
}
