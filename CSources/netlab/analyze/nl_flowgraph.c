/*
 * nl_flowgraph.c - flow-graph rows of every TCP conversation in a capture:
 * reads with nl_pcapr, decodes with nl_decode, keys conversations by their
 * two endpoints and makes sequence numbers relative per direction. Duplicate
 * copies and port reuse are not told apart here (analyze does that). Adds to
 * each row the scaled window, an RTT sample (bounded queue of unacknowledged
 * segments per direction) and simple loss marks (simple_loss_marks).
 */
#include "netlab/nl_flowgraph.h"
#include "netlab/nl_decode.h"
#include "netlab/nl_pcapr.h"
#include "netlab/nl_tcp.h"
#include "netlab/nl_time.h"
#include "nl_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A data segment not yet acknowledged, for RTT samples. */
struct unacked {
    uint32_t end;                  /* relative sequence number after its last byte */
    int64_t ts;
    uint64_t frame;
    uint8_t resent;                /* sent more than once: no sample (Karn) */
};

/* At most this many unacknowledged segments are remembered per direction; beyond
 * it the oldest is forgotten (its sample is lost, nothing else). */
#define UNACKED_CAP 8192

struct conv_state {
    struct nl_flow_conv c;
    int wscale[2];                 /* shift from the SYN of a / of b, -1 without the option or SYN */
    int have_high[2];
    uint32_t high[2];              /* highest relative sequence number sent + payload, each way */
    int have_last[2];
    uint32_t last_ack[2], last_win[2];
    struct unacked *q[2];          /* ring buffers of UNACKED_CAP */
    size_t qhead[2], qlen[2];
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

static int seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static int seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

/*
 * The loss marks of one row, decided here and only here: a simple rule, not
 * Wireshark's (nl_tcpanalysis has that). s is the row's direction; the state
 * is before this row. A retransmission: payload, a SYN or a FIN starting below
 * the highest sequence number already sent that way (out-of-order segments count
 * too; a SYN or FIN occupies one sequence number, so its resend is one). A
 * duplicate ACK: a bare ACK repeating the previous ACK number and window of its
 * direction while the other direction has sent data beyond that ACK.
 */
static uint8_t simple_loss_marks(const struct conv_state *c, int s, const struct nl_flow_row *row)
{
    uint8_t m = 0;
    if ((row->len > 0 || (row->flags & (NL_TCP_SYN | NL_TCP_FIN))) && !(row->flags & NL_TCP_RST) && c->have_high[s] &&
        seq_lt(row->rel_seq, c->high[s]))
        m |= NL_FLOW_MARK_RETRANS;
    if (row->len == 0 && !(row->flags & (NL_TCP_SYN | NL_TCP_FIN | NL_TCP_RST)) && (row->flags & NL_TCP_ACK) &&
        c->have_last[s] && row->rel_ack == c->last_ack[s] && row->window == c->last_win[s] && c->have_high[!s] &&
        seq_lt(row->rel_ack, c->high[!s]))
        m |= NL_FLOW_MARK_DUPACK;
    return m;
}

/* Data sent: remember it for an RTT sample; a resend spoils the samples it overlaps. */
static int track_sent(struct conv_state *c, int s, const struct nl_flow_row *row)
{
    if (!c->q[s] && !(c->q[s] = calloc(UNACKED_CAP, sizeof *c->q[s])))
        return -1;
    uint32_t end = row->rel_seq + row->len + ((row->flags & (NL_TCP_SYN | NL_TCP_FIN)) ? 1 : 0);
    if (row->marks & NL_FLOW_MARK_RETRANS) {
        for (size_t k = 0; k < c->qlen[s]; k++) {
            struct unacked *u = &c->q[s][(c->qhead[s] + k) % UNACKED_CAP];
            if (seq_lt(row->rel_seq, u->end))
                u->resent = 1;
        }
        return 0;
    }
    if (c->qlen[s] == UNACKED_CAP) { /* forget the oldest */
        c->qhead[s] = (c->qhead[s] + 1) % UNACKED_CAP;
        c->qlen[s]--;
    }
    struct unacked *u = &c->q[s][(c->qhead[s] + c->qlen[s]++) % UNACKED_CAP];
    u->end = end;
    u->ts = row->time_ns;
    u->frame = row->frame;
    u->resent = 0;
    return 0;
}

/* An ACK from direction s acknowledges the other direction's segments up to rel_ack. */
static void track_ack(struct conv_state *c, int s, struct nl_flow_row *row)
{
    int o = !s;
    while (c->qlen[o]) {
        struct unacked *u = &c->q[o][c->qhead[o]];
        if (!seq_le(u->end, row->rel_ack))
            break;
        if (u->end == row->rel_ack && !u->resent) {
            row->rtt_frame = u->frame;
            row->rtt_ms = (double)nl_time_sub(row->time_ns, u->ts) / 1e6;
        }
        c->qhead[o] = (c->qhead[o] + 1) % UNACKED_CAP;
        c->qlen[o]--;
    }
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
            if (NL_GROW(g->v, g->n, g->cap, 16) < 0) {
                rc = nl_err(errbuf, NL_ENOMEM, "%s: out of memory", path);
                break;
            }
            c = &g->v[g->n];
            memset(c, 0, sizeof *c);
            c->c.id = (uint32_t)(++g->n);
            c->wscale[0] = c->wscale[1] = -1;
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
        struct nl_flow_row cur;
        memset(&cur, 0, sizeof cur);
        cur.frame = f.number;
        cur.time_ns = f.ts_ns;
        cur.from_a = (uint8_t)from_a;
        cur.flags = d.tcp_flags;
        cur.rel_seq = c->have_base[s] ? d.seq - c->base[s] : d.seq;
        cur.rel_ack = (d.tcp_flags & NL_TCP_ACK) && c->have_base[!s] ? d.ack - c->base[!s] : 0;
        cur.len = d.payload_len;
        if (d.tcp_flags & NL_TCP_SYN) {
            /* The window-scale option rides only on SYNs (RFC 7323 §2.2). */
            struct nl_tcp_opts opts;
            c->wscale[s] = -1;
            if (!d.tcp_opts_cut && d.tcp_hlen > 20 && d.payload &&
                nl_tcp_options_parse(d.payload - d.tcp_hlen + 20, (size_t)d.tcp_hlen - 20, &opts) == 0 &&
                opts.has_wscale)
                c->wscale[s] = opts.wscale > 14 ? 14 : opts.wscale;
        }
        cur.wscale_known = c->wscale[0] >= 0 && c->wscale[1] >= 0;
        cur.window = d.window;
        if (cur.wscale_known && !(d.tcp_flags & NL_TCP_SYN))
            cur.window = (uint32_t)d.window << c->wscale[s];
        cur.marks = simple_loss_marks(c, s, &cur);
        if (d.tcp_flags & NL_TCP_ACK)
            track_ack(c, s, &cur);
        if ((cur.len > 0 || (d.tcp_flags & (NL_TCP_SYN | NL_TCP_FIN))) && !(d.tcp_flags & NL_TCP_RST)) {
            if (track_sent(c, s, &cur) < 0) {
                rc = nl_err(errbuf, NL_ENOMEM, "%s: out of memory", path);
                break;
            }
            uint32_t end = cur.rel_seq + cur.len + ((d.tcp_flags & (NL_TCP_SYN | NL_TCP_FIN)) ? 1 : 0);
            if (!c->have_high[s] || seq_lt(c->high[s], end)) {
                c->have_high[s] = 1;
                c->high[s] = end;
            }
        }
        if (d.tcp_flags & NL_TCP_ACK) {
            c->have_last[s] = 1;
            c->last_ack[s] = cur.rel_ack;
            c->last_win[s] = cur.window;
        }
        if (c->c.nrows >= max_rows)
            continue;
        if (NL_GROW(c->c.rows, c->c.nrows, c->cap, 32) < 0) {
            rc = nl_err(errbuf, NL_ENOMEM, "%s: out of memory", path);
            break;
        }
        c->c.rows[c->c.nrows++] = cur;
    }
    nl_pcapr_close(r);
    for (size_t i = 0; i < g->n; i++) { /* the queues are only needed while reading */
        free(g->v[i].q[0]);
        free(g->v[i].q[1]);
        g->v[i].q[0] = g->v[i].q[1] = NULL;
    }
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

int nl_flowgraph_throughput(const struct nl_flow_conv *c, int from_a, int64_t t0_ns, int64_t bin_ns, size_t nbins,
                            double *sent, double *fresh, char *errbuf)
{
    if (!c || bin_ns <= 0 || !nbins || !sent || !fresh)
        return nl_err(errbuf, NL_EINVAL, "throughput: a conversation, a positive bin width and bins are needed");
    memset(sent, 0, nbins * sizeof *sent);
    memset(fresh, 0, nbins * sizeof *fresh);
    int have = 0;
    uint32_t high = 0;
    for (size_t i = 0; i < c->nrows; i++) {
        const struct nl_flow_row *r = &c->rows[i];
        if (!r->from_a != !from_a || !r->len || r->time_ns < t0_ns)
            continue;
        uint32_t end = r->rel_seq + r->len;
        uint32_t new_bytes = !have ? r->len : seq_lt(high, end) ? (seq_lt(r->rel_seq, high) ? end - high : r->len) : 0;
        if (!have || seq_lt(high, end)) {
            have = 1;
            high = end;
        }
        size_t b = (size_t)(nl_time_sub(r->time_ns, t0_ns) / bin_ns);
        if (b >= nbins)
            continue;
        sent[b] += r->len;
        fresh[b] += new_bytes;
    }
    double scale = 8e9 / (double)bin_ns; /* bytes per bin -> bits per second */
    for (size_t b = 0; b < nbins; b++) {
        sent[b] *= scale;
        fresh[b] *= scale;
    }
    return 0;
}
