/*
 * nl_reasm.c - in-order delivery of TCP payload (see nl_reasm.h). Overlaps and
 * retransmissions are trimmed to what is new (first copy wins, as Wireshark's
 * Follow TCP Stream); held segments are bounded per direction, then skipped as
 * a gap. Copies only the segments it must hold; no I/O.
 */
#include "nl_reasm.h"
#include "nl_internal.h"
#include "netlab/nl_error.h"

#include <stdlib.h>
#include <string.h>

struct nl_reasm_seg {
    struct nl_reasm_seg *next;
    uint32_t seq;
    uint32_t caplen;  /* bytes held */
    uint32_t len;     /* declared length (caplen..len is a gap) */
    uint64_t pkt;
    uint8_t data[];
};

void nl_reasm_init(struct nl_reasm *r) { memset(r, 0, sizeof *r); }

/* Deliver [seq, seq+len) of which the first caplen bytes are known, skipping
 * what is below r->next. */
static int deliver(struct nl_reasm *r, uint32_t seq, const uint8_t *data, uint32_t caplen, uint32_t len, uint64_t pkt,
                   nl_reasm_sink sink, void *ctx)
{
    uint32_t skip = r->next - seq; /* seq <= next here */
    if (skip >= len)
        return 0;
    int rc = 0;
    if (skip < caplen) {
        rc = sink(ctx, data + skip, caplen - skip, pkt, len);
        r->delivered += caplen - skip;
        if (rc < 0)
            return rc;
    }
    uint32_t from = skip > caplen ? skip : caplen;
    if (from < len) {
        rc = sink(ctx, NULL, len - from, pkt, len);
        r->missing += len - from;
    }
    r->next = seq + len;
    return rc;
}

static int drain(struct nl_reasm *r, nl_reasm_sink sink, void *ctx)
{
    while (r->held && (int32_t)(r->held->seq - r->next) <= 0) {
        struct nl_reasm_seg *s = r->held;
        r->held = s->next;
        r->held_bytes -= s->caplen;
        r->held_segs--;
        int rc = deliver(r, s->seq, s->data, s->caplen, s->len, s->pkt, sink, ctx);
        free(s);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Skip to the first held segment: the bytes before it were never captured. */
static int skip_gap(struct nl_reasm *r, nl_reasm_sink sink, void *ctx)
{
    uint32_t gap = r->held->seq - r->next;
    r->missing += gap;
    int rc = sink(ctx, NULL, gap, r->held->pkt, r->held->len);
    r->next = r->held->seq;
    if (rc < 0)
        return rc;
    return drain(r, sink, ctx);
}

int nl_reasm_add(struct nl_reasm *r, int syn, uint32_t seq, const uint8_t *data, uint32_t caplen, uint32_t len,
                 uint64_t pkt, nl_reasm_sink sink, void *ctx)
{
    if (syn) {
        if (!r->started) {
            r->started = 1;
            r->next = seq + 1;
        }
        seq += 1; /* SYN occupies one sequence number; data (rare) follows it */
    }
    if (len == 0)
        return 0;
    if (caplen > len)
        caplen = len;
    if (!r->started) {
        r->started = 1; /* the handshake was not captured: begin at the first data */
        r->next = seq;
    }
    if ((int32_t)(seq - r->next) <= 0) {
        int rc = deliver(r, seq, data, caplen, len, pkt, sink, ctx);
        if (rc < 0)
            return rc;
        return drain(r, sink, ctx);
    }
    /* Ahead of what we have: hold a copy, in sequence order. */
    struct nl_reasm_seg *s = malloc(sizeof *s + caplen);
    if (!s)
        return NL_ENOMEM;
    s->seq = seq;
    s->caplen = caplen;
    s->len = len;
    s->pkt = pkt;
    if (caplen)
        memcpy(s->data, data, caplen);
    struct nl_reasm_seg **pp = &r->held;
    while (*pp && (int32_t)((*pp)->seq - seq) <= 0)
        pp = &(*pp)->next;
    s->next = *pp;
    *pp = s;
    r->held_bytes += caplen;
    r->held_segs++;
    while (r->held && (r->held_bytes > NL_REASM_MAX_HELD_BYTES || r->held_segs > NL_REASM_MAX_HELD_SEGS)) {
        int rc = skip_gap(r, sink, ctx);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int nl_reasm_end(struct nl_reasm *r, nl_reasm_sink sink, void *ctx)
{
    while (r->held) {
        int rc = skip_gap(r, sink, ctx);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void nl_reasm_free(struct nl_reasm *r)
{
    while (r->held) {
        struct nl_reasm_seg *s = r->held;
        r->held = s->next;
        free(s);
    }
    r->held_bytes = r->held_segs = 0;
}

/* ---- stream store ---- */

int nl_stream_append(struct nl_stream_store *s, const uint8_t *data, size_t len, uint64_t pkt)
{
    if (NL_GROW(s->marks, s->nmarks, s->capmarks, 16) < 0)
        return NL_ENOMEM;
    if (!data) {
        struct nl_stream_mark *m = &s->marks[s->nmarks++];
        m->offset = s->len;
        m->pkt = pkt;
        m->gap = len;
        return 0;
    }
    if (s->len + len > s->cap) {
        size_t nc = s->cap ? s->cap : 4096;
        while (nc < s->len + len)
            nc *= 2;
        uint8_t *d = realloc(s->data, nc);
        if (!d)
            return NL_ENOMEM;
        s->data = d;
        s->cap = nc;
    }
    memcpy(s->data + s->len, data, len);
    struct nl_stream_mark *m = &s->marks[s->nmarks++];
    m->offset = s->len;
    m->pkt = pkt;
    m->gap = 0;
    s->len += len;
    return 0;
}

uint64_t nl_stream_packet_at(const struct nl_stream_store *s, size_t offset)
{
    if (offset >= s->len || !s->nmarks)
        return 0;
    /* The last mark at or before offset. A gap mark adds no bytes, so the data
     * mark delivered at the same offset comes after it and wins. */
    size_t lo = 0, hi = s->nmarks; /* invariant: marks[lo].offset <= offset < marks[hi].offset */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->marks[mid].offset <= offset)
            lo = mid;
        else
            hi = mid;
    }
    while (lo > 0 && s->marks[lo].gap)
        lo--;
    return s->marks[lo].pkt;
}

void nl_stream_free(struct nl_stream_store *s)
{
    free(s->data);
    free(s->marks);
    memset(s, 0, sizeof *s);
}

size_t nl_stream_sent_after(const struct nl_stream_store *s, size_t from, uint64_t pkt)
{
    for (size_t i = 0; i < s->nmarks; i++) {
        const struct nl_stream_mark *k = &s->marks[i];
        size_t end = i + 1 < s->nmarks ? (size_t)s->marks[i + 1].offset : s->len;
        if (!k->gap && k->pkt > pkt && end > from)
            return k->offset > from ? (size_t)k->offset : from;
    }
    return s->len;
}
