/*
 * nl_flowgraph.c - flow-graph rows of every TCP conversation in a capture:
 * reads with nl_pcapr, decodes with nl_decode, keys conversations by their
 * two endpoints and makes sequence numbers relative per direction. Duplicate
 * copies and port reuse are not told apart here (analyze does that).
 */
#include "netlab/nl_flowgraph.h"
#include "netlab/nl_decode.h"
#include "netlab/nl_pcapr.h"
#include "netlab/nl_tcp.h"
#include "nl_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conv_state {
    struct nl_flow_conv c;
    uint8_t ka[18], kb[18];        /* endpoint keys: address (16) + port (2) */
    uint8_t ver;
    size_t cap;
    int have_base[2];
    uint32_t base[2];              /* first sequence number seen from a / from b */
};

struct nl_flowgraph {
    struct conv_state *v;
    size_t n, cap;
};

static void key(uint8_t out[18], uint8_t ver, const uint8_t addr[16], uint16_t port)
{
    memset(out, 0, 16);
    memcpy(out, addr, ver == 6 ? 16 : 4); /* an IPv4 address fills only the first 4 bytes */
    out[16] = (uint8_t)(port >> 8);
    out[17] = (uint8_t)port;
}

static void endpoint(char *out, size_t cap, uint8_t ver, const uint8_t addr[16], uint16_t port)
{
    char a[INET6_ADDRSTRLEN];
    inet_ntop(ver == 6 ? AF_INET6 : AF_INET, addr, a, sizeof a);
    snprintf(out, cap, ver == 6 ? "[%s]:%u" : "%s:%u", a, port);
}

int nl_flowgraph_read(const char *path, size_t max_rows, struct nl_flowgraph **out, char *errbuf)
{
    *out = NULL;
    if (!max_rows)
        max_rows = 1000;
    struct nl_pcapr *r;
    int rc = nl_pcapr_open(&r, path, errbuf);
    if (rc < 0)
        return rc;
    struct nl_flowgraph *g = calloc(1, sizeof *g);
    if (!g) {
        nl_pcapr_close(r);
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory", path);
    }
    struct nl_frame f;
    char why[NL_ERRBUF_SIZE];
    while ((rc = nl_pcapr_next(r, &f, why)) > 0) {
        struct nl_decoded d;
        nl_decode_packet(&f, 0, &d);
        if (!d.has_l4 || d.proto != 6)
            continue;
        uint8_t ks[18], kd[18];
        key(ks, d.ipver, d.src, d.sport);
        key(kd, d.ipver, d.dst, d.dport);
        struct conv_state *c = NULL;
        int from_a = 1;
        for (size_t i = g->n; i-- > 0;) { /* recent conversations are the likely ones */
            struct conv_state *x = &g->v[i];
            if (x->ver != d.ipver)
                continue;
            if (!memcmp(x->ka, ks, 18) && !memcmp(x->kb, kd, 18)) {
                c = x;
                break;
            }
            if (!memcmp(x->ka, kd, 18) && !memcmp(x->kb, ks, 18)) {
                c = x;
                from_a = 0;
                break;
            }
        }
        if (!c) {
            if (g->n == g->cap) {
                size_t ncap = g->cap ? g->cap * 2 : 16;
                struct conv_state *nv = realloc(g->v, ncap * sizeof *nv);
                if (!nv) {
                    rc = nl_err(errbuf, NL_ENOMEM, "%s: out of memory", path);
                    break;
                }
                g->v = nv;
                g->cap = ncap;
            }
            c = &g->v[g->n];
            memset(c, 0, sizeof *c);
            c->c.id = (uint32_t)(++g->n);
            c->ver = d.ipver;
            /* The side that sends a SYN without ACK is the client; else the first sender. */
            int swap = (d.tcp_flags & (NL_TCP_SYN | NL_TCP_ACK)) == (NL_TCP_SYN | NL_TCP_ACK);
            memcpy(c->ka, swap ? kd : ks, 18);
            memcpy(c->kb, swap ? ks : kd, 18);
            endpoint(c->c.a, sizeof c->c.a, d.ipver, swap ? d.dst : d.src, swap ? d.dport : d.sport);
            endpoint(c->c.b, sizeof c->c.b, d.ipver, swap ? d.src : d.dst, swap ? d.sport : d.dport);
            from_a = !swap;
        }
        c->c.total++;
        int s = from_a ? 0 : 1;
        if (!c->have_base[s] && !(d.tcp_flags & NL_TCP_RST)) {
            /* The ISN when this is the SYN. A reset does not set it: a kernel's
             * reset to a SYN carries sequence number 0, not the host's ISN. */
            c->have_base[s] = 1;
            c->base[s] = d.seq;
        }
        if (c->c.nrows >= max_rows)
            continue;
        if (c->c.nrows == c->cap) {
            size_t ncap = c->cap ? c->cap * 2 : 32;
            struct nl_flow_row *nr = realloc(c->c.rows, ncap * sizeof *nr);
            if (!nr) {
                rc = nl_err(errbuf, NL_ENOMEM, "%s: out of memory", path);
                break;
            }
            c->c.rows = nr;
            c->cap = ncap;
        }
        struct nl_flow_row *row = &c->c.rows[c->c.nrows++];
        row->frame = f.number;
        row->time_ns = f.ts_ns;
        row->from_a = (uint8_t)from_a;
        row->flags = d.tcp_flags;
        row->rel_seq = c->have_base[s] ? d.seq - c->base[s] : d.seq;
        row->rel_ack = (d.tcp_flags & NL_TCP_ACK) && c->have_base[!s] ? d.ack - c->base[!s] : 0;
        row->len = d.payload_len;
    }
    nl_pcapr_close(r);
    if (rc < 0 && g->n == 0) {
        nl_flowgraph_free(g);
        return rc == NL_ENOMEM ? rc : nl_err(errbuf, rc, "%s", why);
    }
    *out = g;
    return 0;
}

size_t nl_flowgraph_count(const struct nl_flowgraph *g) { return g ? g->n : 0; }

const struct nl_flow_conv *nl_flowgraph_conv(const struct nl_flowgraph *g, size_t i)
{
    return g && i < g->n ? &g->v[i].c : NULL;
}

void nl_flowgraph_free(struct nl_flowgraph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++)
        free(g->v[i].c.rows);
    free(g->v);
    free(g);
}
