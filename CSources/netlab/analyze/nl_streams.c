/*
 * nl_streams.c - what reassembled payload feeds (see nl_analysis.h): text
 * matches that span segment boundaries, the chunks of --follow, and the
 * per-direction streams --expect reads. Keeps bytes only when asked to, within
 * the analysis' stream cap.
 */
#include "nl_analysis.h"

#include <stdlib.h>
#include <string.h>

struct find_tail {
    uint32_t len;             /* bytes held (< longest text) */
    uint8_t *bytes;           /* the stream's last bytes */
    uint64_t *pkts;           /* the packet of each */
    uint32_t *plens;          /* that packet's payload length */
};

struct nl_flow_ext {
    struct nl_reasm r[2];
    struct find_tail tail[2];
    struct nl_stream_store store[2];
};

/* ---- reassembled bytes: --find across segments, --follow, --expect ---- */

/* Matches that start in the held tail and end in the new bytes span segments:
 * those inside one segment were found by the per-packet search. */
static int find_across(struct sink_ctx *c, const uint8_t *data, size_t len, uint64_t pkt, uint32_t plen)
{
    struct nl_analysis *a = c->a;
    struct find_tail *t = &c->ext->tail[c->dir];
    size_t keep = a->maxtext - 1;
    if (!t->bytes) {
        t->bytes = malloc(keep ? keep : 1);
        t->pkts = malloc((keep ? keep : 1) * sizeof *t->pkts);
        t->plens = malloc((keep ? keep : 1) * sizeof *t->plens);
        if (!t->bytes || !t->pkts || !t->plens)
            return NL_ENOMEM;
    }
    if (!data) { /* bytes missing from the capture: nothing spans them */
        t->len = 0;
        return 0;
    }
    for (size_t k = 0; k < a->ntexts && t->len; k++) {
        size_t tl = a->text_len[k];
        if (tl < 2)
            continue;
        for (size_t s = t->len > tl - 1 ? t->len - (tl - 1) : 0; s < t->len; s++) {
            size_t in_tail = t->len - s;
            if (tl - in_tail > len)
                continue;
            if (memcmp(t->bytes + s, a->texts[k], in_tail) || memcmp(data, a->texts[k] + in_tail, tl - in_tail))
                continue;
            a->sum.matches++;
            struct match_rec *m;
            if (nl_match_add(a, &m, k, c->flow, c->dir, 1, c->proto) < 0)
                return NL_ENOMEM;
            if (!m)
                continue;
            m->packet = t->pkts[s];
            m->last_packet = pkt;
            m->payload_bytes = t->plens[s];
            m->offset = UINT32_MAX; /* set below: where in that packet's payload */
            {
                /* The held bytes of packet m->packet end at its payload's end unless it
                 * was trimmed; count back from the first byte of the next packet. */
                size_t e = s;
                while (e < t->len && t->pkts[e] == m->packet)
                    e++;
                uint32_t from_end = (uint32_t)(e - s);
                m->offset = t->plens[s] >= from_end ? t->plens[s] - from_end : 0;
            }
        }
    }
    /* Keep the last `keep` bytes of tail + data. */
    if (len >= keep) {
        memcpy(t->bytes, data + len - keep, keep);
        for (size_t i = 0; i < keep; i++) {
            t->pkts[i] = pkt;
            t->plens[i] = plen;
        }
        t->len = (uint32_t)keep;
    } else {
        size_t total = t->len + len, drop = total > keep ? total - keep : 0;
        memmove(t->bytes, t->bytes + drop, t->len - drop);
        memmove(t->pkts, t->pkts + drop, (t->len - drop) * sizeof *t->pkts);
        memmove(t->plens, t->plens + drop, (t->len - drop) * sizeof *t->plens);
        memcpy(t->bytes + t->len - drop, data, len);
        for (size_t i = 0; i < len; i++) {
            t->pkts[t->len - drop + i] = pkt;
            t->plens[t->len - drop + i] = plen;
        }
        t->len = (uint32_t)(total - drop);
    }
    return 0;
}

static int keep_bytes(struct nl_analysis *a, size_t len)
{
    if (a->stream_bytes + len > a->stream_cap) {
        a->stream_dropped += len;
        return 0;
    }
    a->stream_bytes += len;
    return 1;
}

int nl_stream_sink(void *ctx, const uint8_t *data, size_t len, uint64_t pkt, uint32_t seglen)
{
    struct sink_ctx *c = ctx;
    struct nl_analysis *a = c->a;
    int rc;
    if (a->ntexts && a->maxtext > 1 && c->proto == 6 && (rc = find_across(c, data, len, pkt, seglen)) < 0)
        return rc;
    if (a->follow_flow == c->flow) {
        if (GROW(a, chunks, nchunks, capchunks) < 0)
            return NL_ENOMEM;
        struct chunk_rec *ch = &a->chunks[a->nchunks];
        ch->dir = c->dir;
        ch->packet = pkt;
        ch->len = len;
        ch->is_gap = !data || !keep_bytes(a, len);
        ch->off = a->flen;
        if (!ch->is_gap) {
            if (a->fcap < a->flen + len) {
                size_t nc = a->fcap ? a->fcap : 4096;
                while (nc < a->flen + len)
                    nc *= 2;
                uint8_t *nb = realloc(a->fbuf, nc);
                if (!nb)
                    return NL_ENOMEM;
                a->fbuf = nb;
                a->fcap = nc;
            }
            memcpy(a->fbuf + a->flen, data, len);
            a->flen += len;
        }
        a->nchunks++;
    }
    if (a->msgs || a->keep_streams) {
        if (data && !keep_bytes(a, len))
            data = NULL;
        if (nl_stream_append(&c->ext->store[c->dir], data, len, pkt) < 0)
            return NL_ENOMEM;
    }
    return 0;
}

struct nl_flow_ext *nl_flow_ext_get(struct nl_flow *f)
{
    if (!f->ext) {
        f->ext = calloc(1, sizeof *f->ext);
        if (f->ext) {
            nl_reasm_init(&f->ext->r[0]);
            nl_reasm_init(&f->ext->r[1]);
        }
    }
    return f->ext;
}

void nl_flow_ext_free(struct nl_flow_ext *e)
{
    if (!e)
        return;
    for (int i = 0; i < 2; i++) {
        nl_reasm_free(&e->r[i]);
        free(e->tail[i].bytes);
        free(e->tail[i].pkts);
        free(e->tail[i].plens);
        nl_stream_free(&e->store[i]);
    }
    free(e);
}

struct nl_reasm *nl_flow_ext_reasm(struct nl_flow_ext *e, int dir) { return &e->r[dir]; }

const struct nl_stream_store *nl_flow_ext_store(const struct nl_flow_ext *e, int dir) { return &e->store[dir]; }
