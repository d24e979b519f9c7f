/*
 * nl_streams.c - the payload consumers of the analysis' loop (see nl_analysis.h): the
 * text search in each packet (--find) and the reassembled streams it feeds: matches that
 * span segment boundaries, the chunks of --follow, and the per-direction streams --expect
 * reads. Keeps bytes only when asked to, within the analysis' stream cap. Knows nothing
 * of the loop that calls it.
 */
#include "nl_analysis.h"
#include "netlab/nl_tcp.h"

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

/* A new match of text `text` (index) in flow `flow` (index + 1), the rest zero; *out NULL
 * when the list is full (the match is counted, not listed). 0, or NL_ENOMEM. */
static int match_add(struct nl_analysis *a, struct match_rec **out, size_t text, uint32_t flow, int dir, int across,
                     uint8_t protocol)
{
    *out = NULL;
    if (a->nmatches >= a->listed_cap)
        return 0;
    if (GROW(a, matches, nmatches, capmatches) < 0)
        return NL_ENOMEM;
    struct match_rec *m = &a->matches[a->nmatches++];
    memset(m, 0, sizeof *m);
    m->text = (uint32_t)text;
    m->flow = flow;
    m->dir = (uint8_t)dir;
    m->across = (uint8_t)across;
    m->protocol = protocol;
    *out = m;
    return 0;
}

/* ---- --find in one packet's captured payload ---- */

static int find_packet(struct nl_analysis *a, struct nl_pkt_view *v)
{
    const struct nl_decoded *d = v->d;
    for (size_t k = 0; k < a->ntexts && d->payload_caplen; k++) {
        const uint8_t *hit = memmem(d->payload, d->payload_caplen, a->texts[k], a->text_len[k]);
        if (!hit)
            continue;
        a->sum.matches++;
        struct match_rec *m;
        if (match_add(a, &m, k, v->f->id, v->dir, 0, d->proto) < 0)
            return NL_ENOMEM;
        if (!m)
            continue;
        m->packet = m->last_packet = v->pkt->number;
        m->payload_bytes = d->payload_len;
        m->offset = (uint32_t)(hit - d->payload);
    }
    return 0;
}

const struct nl_consumer nl_find_consumer = {"find", find_packet, 0};

static int cmp_match(const void *x, const void *y)
{
    const struct match_rec *a = x, *b = y;
    if (a->packet != b->packet)
        return a->packet < b->packet ? -1 : 1;
    if (a->across != b->across)
        return a->across - b->across;
    return a->text < b->text ? -1 : a->text > b->text;
}

/* The matches in packet order (those across segments were found when their last byte arrived). */
void nl_find_finish(struct nl_analysis *a)
{
    if (a->nmatches > 1)
        qsort(a->matches, a->nmatches, sizeof *a->matches, cmp_match);
}

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
            if (match_add(a, &m, k, c->flow, c->dir, 1, c->proto) < 0)
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

/* ---- the streams consumer: reassembly, only where something needs the stream ---- */

static int streams_packet(struct nl_analysis *a, struct nl_pkt_view *v)
{
    const struct nl_decoded *d = v->d;
    const struct nl_frame *pkt = v->pkt;
    uint32_t fidx = v->f->id;
    int want = a->msgs != NULL || a->keep_streams || (a->follow && a->follow == fidx) ||
               (d->proto == 6 && a->ntexts && a->maxtext > 1);
    if (a->follow && a->follow == fidx)
        a->follow_flow = fidx;
    if (!want)
        return 0;
    struct nl_flow_ext *e = nl_flow_ext_get(v->f);
    if (!e)
        return NL_ENOMEM;
    struct sink_ctx c = {a, e, fidx, (uint8_t)v->dir, d->proto};
    if (d->proto == 17) {
        if (d->payload_len)
            return nl_stream_sink(&c, d->payload_caplen == d->payload_len ? d->payload : NULL, d->payload_len,
                                  pkt->number, d->payload_len);
        return 0;
    }
    if (d->tcp_flags & NL_TCP_RST)
        return 0;
    return nl_reasm_add(nl_flow_ext_reasm(e, v->dir), (d->tcp_flags & NL_TCP_SYN) != 0, d->seq, d->payload,
                        d->payload_caplen, d->payload_len, pkt->number, nl_stream_sink, &c);
}

const struct nl_consumer nl_streams_consumer = {"streams", streams_packet, 0};

/* After the last packet: what each stream still holds (a gap never filled ends it). */
int nl_streams_end(struct nl_analysis *a)
{
    int rc;
    for (size_t i = 0; i < a->ft.nflows; i++) {
        struct nl_flow *f = &a->ft.flows[i];
        if (!f->ext)
            continue;
        for (int dir = 0; dir < 2; dir++) {
            struct sink_ctx c = {a, f->ext, f->id, (uint8_t)dir, f->proto};
            if ((rc = nl_reasm_end(nl_flow_ext_reasm(f->ext, dir), nl_stream_sink, &c)) < 0)
                return rc;
        }
    }
    return 0;
}
