/*
 * nl_flowgraph.c - flow-graph rows of every TCP conversation in a capture, read from one
 * analysis (nl_analyze.h, with its per-segment rows): the conversations as analyze keys
 * them, each segment's relative numbers, scaled window, RTT sample and analysis flags as
 * nl_tcpanalysis decided them. Owns only the rows' layout for drawing and the throughput
 * bins; decides no TCP fact of its own (no keying, numbering, RTT or loss rule).
 */
#include "netlab/nl_flowgraph.h"
#include "netlab/nl_analyze.h"
#include "netlab/nl_tcpanalysis.h"
#include "netlab/nl_time.h"
#include "nl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conv_rows {
    struct nl_flow_conv c;
    size_t cap;
};

struct nl_flowgraph {
    struct conv_rows *v;
    size_t n;
};

static int seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }

/* The drawing's loss marks from the segment's analysis flags: resent or overtaken (what
 * tshark marks retransmission or out-of-order), a duplicate ACK. */
static uint8_t marks_of(uint32_t bits)
{
    uint8_t m = 0;
    if (bits & (NL_TA_BIT(NL_TA_RETRANSMISSION) | NL_TA_BIT(NL_TA_OUT_OF_ORDER)))
        m |= NL_FLOW_MARK_RETRANS;
    if (bits & NL_TA_BIT(NL_TA_DUPLICATE_ACK))
        m |= NL_FLOW_MARK_DUPACK;
    return m;
}

/* The TCP conversations of a, numbered 1, 2, ... in order of their first packet; idx maps
 * an analysis conversation id to its index + 1 here (0: not TCP). */
static int make_convs(const struct nl_analysis *a, struct nl_flowgraph *g, uint32_t *idx)
{
    size_t n = nl_analysis_conv_count(a), k = 0;
    for (size_t i = 0; i < n; i++)
        k += nl_analysis_conv_protocol(a, i) == 6;
    g->v = calloc(k ? k : 1, sizeof *g->v);
    if (!g->v)
        return NL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (nl_analysis_conv_protocol(a, i) != 6)
            continue;
        struct nl_conversation cv;
        struct nl_tcp_figures tf;
        nl_analysis_conv(a, i, &cv);
        nl_analysis_tcp_figures(a, i, &tf);
        struct conv_rows *c = &g->v[g->n++];
        c->c.id = (uint32_t)g->n;
        c->c.conversation = cv.id;
        snprintf(c->c.a, sizeof c->c.a, "%s", cv.client);
        snprintf(c->c.b, sizeof c->c.b, "%s", cv.server);
        c->c.total = cv.packets_c2s + cv.packets_s2c;
        c->c.wscale_known = tf.wscale_c2s >= 0 && tf.wscale_s2c >= 0;
        idx[i] = (uint32_t)g->n;
    }
    return 0;
}

int nl_flowgraph_from_analysis(const struct nl_analysis *a, size_t max_rows, struct nl_flowgraph **out, char *errbuf)
{
    *out = NULL;
    if (!max_rows)
        max_rows = 1000;
    struct nl_flowgraph *g = calloc(1, sizeof *g);
    size_t nconv = nl_analysis_conv_count(a);
    uint32_t *idx = calloc(nconv ? nconv : 1, sizeof *idx);
    if (!g || !idx || make_convs(a, g, idx) < 0) {
        free(idx);
        nl_flowgraph_free(g);
        return nl_err(errbuf, NL_ENOMEM, "flow graph: out of memory");
    }
    size_t nrows = nl_analysis_tcp_packet_count(a);
    for (size_t i = 0; i < nrows; i++) {
        struct nl_tcp_packet p;
        nl_analysis_tcp_packet(a, i, &p);
        uint32_t k = p.conversation && p.conversation <= nconv ? idx[p.conversation - 1] : 0;
        if (!k)
            continue;
        struct conv_rows *c = &g->v[k - 1];
        if (c->c.nrows >= max_rows)
            continue;
        if (NL_GROW(c->c.rows, c->c.nrows, c->cap, 32) < 0) {
            free(idx);
            nl_flowgraph_free(g);
            return nl_err(errbuf, NL_ENOMEM, "flow graph: out of memory");
        }
        c->c.rows[c->c.nrows++] = (struct nl_flow_row){
            .frame = p.packet, .time_ns = p.ts_ns, .from_a = p.from_client, .flags = p.tcp_flags,
            .rel_seq = p.seq, .rel_ack = p.ack, .len = p.len, .window = p.window, .marks = marks_of(p.flags),
            .wscale_known = c->c.wscale_known, .rtt_frame = p.acked_frame, .rtt_ms = p.ack_rtt_ms};
    }
    free(idx);
    *out = g;
    return 0;
}

int nl_flowgraph_read(const char *path, size_t max_rows, struct nl_flowgraph **out, char *errbuf)
{
    *out = NULL;
    struct nl_analyze_opts o = {0};
    o.packets = 1;
    struct nl_analysis *a;
    int rc = nl_analyze_file(path, &o, &a, errbuf);
    if (rc < 0)
        return rc;
    rc = nl_flowgraph_from_analysis(a, max_rows, out, errbuf);
    nl_analysis_free(a);
    return rc;
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
