/*
 * nl_analyze.c - one pass over a capture (see nl_analyze.h): read, decode,
 * account each packet to its conversation, count checksum verdicts, spot
 * duplicate copies, search payloads and reassembled streams, then write the
 * plain-language notes. Owns every list it reports; memory grows with
 * conversations and findings (each list capped), never with packets.
 */
#include "netlab/nl_analyze.h"
#include "netlab/nl_csv.h"
#include "netlab/nl_decode.h"
#include "netlab/nl_ipv4.h"
#include "netlab/nl_pcapr.h"
#include "netlab/nl_tcp.h"
#include "nl_expect.h"
#include "nl_flow.h"
#include "nl_internal.h"
#include "nl_reasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Notes of one kind listed one by one before a summary note takes over. */
#define NOTES_PER_KIND 20

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

struct match_rec {
    uint32_t text;
    uint32_t flow;            /* index + 1, 0 if none */
    uint8_t dir, across, protocol;
    uint32_t payload_bytes, offset;
    uint64_t packet, last_packet;
};

struct dup_rec {
    uint64_t packet, original;
    uint32_t flow;
    int64_t delta_ns;
    uint8_t other_iface;
};

struct note_rec {
    const char *kind;
    uint64_t packet;
    uint32_t conversation;
    char *text;
};

struct chunk_rec {
    uint8_t dir;
    uint64_t packet;
    size_t off, len;          /* in follow_buf; gap when is_gap */
    uint8_t is_gap;
};

struct sll2_rec {
    uint32_t ifindex;
    uint64_t packets;
    uint8_t loopback;
};

struct unreach_rec {
    uint64_t packet;
    char text[160];
};

struct nl_analysis {
    struct nl_pcapr *rd;
    struct nl_flow_table ft;
    struct nl_summary sum;
    char read_err[NL_ERRBUF_SIZE];

    /* options */
    char **texts;
    size_t *text_len;
    size_t ntexts, maxtext;
    uint32_t follow;
    uint64_t stream_cap;
    uint32_t listed_cap;
    struct nl_messages *msgs;

    /* interfaces */
    uint64_t *if_pkts;
    uint8_t *if_loop;
    size_t nif_pkts;
    struct sll2_rec *sll2;
    size_t nsll2, capsll2;
    struct nl_iface_seen *ifaces;
    size_t nifaces;

    /* lists */
    struct nl_badck *bad;
    size_t nbad, capbad;
    struct nl_problem *probs;
    size_t nprobs, capprobs;
    struct dup_rec *dups;
    size_t ndups, capdups;
    struct note_rec *notes;
    size_t nnotes, capnotes;
    struct match_rec *matches;
    size_t nmatches, capmatches;
    struct unreach_rec *unreach;
    size_t nunreach, capunreach;
    uint64_t unreach_total;

    /* --follow */
    uint32_t follow_flow;     /* index + 1 once seen */
    struct chunk_rec *chunks;
    size_t nchunks, capchunks;
    uint8_t *fbuf;
    size_t flen, fcap;

    /* --expect */
    struct nl_expect_rec *exp;
    size_t nexp;

    uint64_t stream_bytes;    /* kept for --follow/--expect */
    uint64_t stream_dropped;
    int linktype_set;
    uint64_t snaplen_seen;    /* a snap length that cut packets */
};

/* Grow *arr (n used, cap allocated, elem bytes each) for one more item. */
static int grow(void **arr, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return NL_ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}
#define GROW(a, arr, n, cap) grow((void **)&(a)->arr, (a)->n, &(a)->cap, sizeof *(a)->arr)

static int add_note(struct nl_analysis *a, const char *kind, uint64_t pkt, uint32_t conv, const char *fmt, ...)
    NL_PRINTF(5, 6);
static int add_note(struct nl_analysis *a, const char *kind, uint64_t pkt, uint32_t conv, const char *fmt, ...)
{
    if (GROW(a, notes, nnotes, capnotes) < 0)
        return NL_ENOMEM;
    char buf[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *t = strdup(buf);
    if (!t)
        return NL_ENOMEM;
    struct note_rec *n = &a->notes[a->nnotes++];
    n->kind = kind;
    n->packet = pkt;
    n->conversation = conv;
    n->text = t;
    return 0;
}

static inline int from_client(const struct nl_flow *f, int dir) { return dir != f->server; }

/* ---- reassembled bytes: --find across segments, --follow, --expect ---- */

struct sink_ctx {
    struct nl_analysis *a;
    struct nl_flow_ext *ext;
    uint32_t flow;            /* index + 1 */
    uint8_t dir, proto;
};

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
            if (a->nmatches >= a->listed_cap)
                continue;
            if (GROW(a, matches, nmatches, capmatches) < 0)
                return NL_ENOMEM;
            struct match_rec *m = &a->matches[a->nmatches++];
            m->text = (uint32_t)k;
            m->flow = c->flow;
            m->dir = c->dir;
            m->across = 1;
            m->protocol = c->proto;
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

static int stream_sink(void *ctx, const uint8_t *data, size_t len, uint64_t pkt, uint32_t seglen)
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
    if (a->msgs) {
        if (data && !keep_bytes(a, len))
            data = NULL;
        if (nl_stream_append(&c->ext->store[c->dir], data, len, pkt) < 0)
            return NL_ENOMEM;
    }
    return 0;
}

static struct nl_flow_ext *flow_ext(struct nl_flow *f)
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

static void free_ext(struct nl_flow_ext *e)
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

/* ---- per packet ---- */

static int add_bad(struct nl_analysis *a, uint64_t pkt, uint8_t layer, uint16_t found, uint16_t expected, uint32_t conv)
{
    if (a->nbad >= a->listed_cap)
        return 0;
    if (GROW(a, bad, nbad, capbad) < 0)
        return NL_ENOMEM;
    struct nl_badck *b = &a->bad[a->nbad++];
    b->packet = pkt;
    b->layer = layer;
    b->found = found;
    b->expected = expected;
    b->conversation = conv;
    return 0;
}

static void count_ck(struct nl_ck_counts *c, int v)
{
    switch (v) {
    case NL_CK_GOOD: c->good++; break;
    case NL_CK_BAD: c->bad++; break;
    case NL_CK_OFFLOAD: c->offload++; break;
    case NL_CK_UNVERIFIED: c->unverified++; break;
    case NL_CK_ABSENT: c->none++; break;
    default: break;
    }
}

/* "ICMP port unreachable": name the closed port from the quoted datagram (RFC 792). */
static int note_unreachable(struct nl_analysis *a, const struct nl_decoded *d, const struct nl_frame *pkt)
{
    a->unreach_total++;
    if (a->nunreach >= NOTES_PER_KIND)
        return 0;
    struct nl_cursor c;
    if (!d->payload)
        return 0;
    nl_cur_init(&c, d->payload, d->payload_caplen); /* the datagram the ICMP message quotes */
    char src[64], dst[64];
    uint16_t sport, dport;
    uint8_t proto;
    if (d->ipver == 4) {
        struct nl_ipv4 ip;
        if (nl_ipv4_decode(&c, &ip) < 0)
            return 0;
        proto = ip.protocol;
        uint8_t s16[16] = {0}, d16[16] = {0};
        memcpy(s16, ip.src, 4);
        memcpy(d16, ip.dst, 4);
        sport = nl_cur_be16(&c);
        dport = nl_cur_be16(&c);
        if (c.err)
            return 0;
        nl_endpoint_format(4, s16, sport, src);
        nl_endpoint_format(4, d16, dport, dst);
    } else {
        const uint8_t *h = nl_cur_bytes(&c, 40);
        if (!h)
            return 0;
        proto = h[6];
        sport = nl_cur_be16(&c);
        dport = nl_cur_be16(&c);
        if (c.err)
            return 0;
        nl_endpoint_format(6, h + 8, sport, src);
        nl_endpoint_format(6, h + 24, dport, dst);
    }
    if (proto != 17)
        return 0;
    if (GROW(a, unreach, nunreach, capunreach) < 0)
        return NL_ENOMEM;
    struct unreach_rec *u = &a->unreach[a->nunreach++];
    u->packet = pkt->number;
    snprintf(u->text, sizeof u->text, "%s -> %s", src, dst);
    return 0;
}

static int process(struct nl_analysis *a, const struct nl_frame *pkt)
{
    struct nl_summary *s = &a->sum;
    struct nl_decoded d;
    int rc;

    s->packets++;
    s->bytes += pkt->len;
    s->captured_bytes += pkt->caplen;
    if (s->packets == 1 || pkt->ts_ns < s->first_ns)
        s->first_ns = pkt->ts_ns;
    if (s->packets == 1 || pkt->ts_ns > s->last_ns)
        s->last_ns = pkt->ts_ns;
    if (!a->linktype_set) {
        s->linktype = pkt->linktype;
        a->linktype_set = 1;
    } else if (s->linktype != pkt->linktype) {
        s->linktype = -1;
    }
    if (pkt->iface >= a->nif_pkts) {
        size_t n = (size_t)pkt->iface + 1;
        uint64_t *p = realloc(a->if_pkts, n * sizeof *p);
        uint8_t *l = p ? realloc(a->if_loop, n) : NULL;
        if (p)
            a->if_pkts = p;
        if (!l)
            return NL_ENOMEM;
        a->if_loop = l;
        memset(a->if_pkts + a->nif_pkts, 0, (n - a->nif_pkts) * sizeof *p);
        memset(a->if_loop + a->nif_pkts, 0, n - a->nif_pkts);
        a->nif_pkts = n;
    }
    a->if_pkts[pkt->iface]++;
    if (pkt->caplen < pkt->len) {
        s->snapped++;
        if (!a->snaplen_seen || pkt->caplen > a->snaplen_seen)
            a->snaplen_seen = pkt->caplen;
    }
    if (!nl_linktype_supported(pkt->linktype)) {
        s->unsupported_link++;
        return 0;
    }

    nl_decode_packet(pkt, NL_DECODE_CHECKSUMS, &d);
    if (d.link.loopback)
        a->if_loop[pkt->iface] = 1;
    if (d.link.has_ifindex) {
        size_t i;
        for (i = 0; i < a->nsll2 && a->sll2[i].ifindex != d.link.ifindex; i++)
            ;
        if (i == a->nsll2 && a->nsll2 < 4096) {
            if (GROW(a, sll2, nsll2, capsll2) < 0)
                return NL_ENOMEM;
            a->sll2[i].ifindex = d.link.ifindex;
            a->sll2[i].packets = 0;
            a->sll2[i].loopback = 0;
            a->nsll2++;
        }
        if (i < a->nsll2) {
            a->sll2[i].packets++;
            a->sll2[i].loopback |= d.link.loopback;
        }
    }
    if (d.status != NL_DS_OK) {
        if (d.status == NL_DS_TRUNCATED)
            s->truncated++;
        else
            s->malformed++;
        if (a->nprobs < a->listed_cap) {
            if (GROW(a, probs, nprobs, capprobs) < 0)
                return NL_ENOMEM;
            struct nl_problem *p = &a->probs[a->nprobs++];
            p->packet = pkt->number;
            p->status = nl_dstatus_name(d.status);
            p->layer = nl_dlayer_name(d.status_at);
            p->reason = d.reason;
        }
    }
    if (d.ipver == 4)
        s->ipv4++;
    else if (d.ipver == 6)
        s->ipv6++;
    else {
        s->non_ip++;
        return 0;
    }
    if (d.fragment) {
        s->fragments++;
    } else if (d.status_at != NL_DL_NETWORK) {
        switch (d.proto) {
        case 6: s->tcp++; break;
        case 17: s->udp++; break;
        case 1: s->icmp++; break;
        case 58: s->icmpv6++; break;
        default: s->other_ip++; break;
        }
    }

    if (!d.has_l4 || (d.proto != 6 && d.proto != 17)) {
        /* Not part of a conversation: still count its IPv4 header checksum. */
        if (d.ipver == 4 && d.ck_ip != NL_CK_NA) {
            count_ck(&s->ck_ipv4, d.ck_ip);
            if (d.ck_ip == NL_CK_BAD) {
                s->bad_packets++;
                if ((rc = add_bad(a, pkt->number, 4, d.ck_ip_found, d.ck_ip_expected, 0)) < 0)
                    return rc;
            }
        }
        if (((d.proto == 1 && d.icmp_type == 3 && d.icmp_code == 3) ||
             (d.proto == 58 && d.icmp_type == 1 && d.icmp_code == 4)) && d.status == NL_DS_OK)
            return note_unreachable(a, &d, pkt);
        return 0;
    }

    int dir, created;
    struct nl_flow *f = nl_flow_get(&a->ft, &d, &dir, &created);
    if (!f)
        return NL_ENOMEM;
    uint32_t fidx = f->id;
    struct nl_flow_dir *D = &f->d[dir];

    /* A second copy of the packet just seen (same bytes from the IP header on,
     * within a millisecond): a packet socket that sees both the outgoing and the
     * incoming copy (loopback), or a capture on two interfaces of one path. Two
     * copies with the same known packet type are real repeats, not copies. */
    if (D->last_l3 && D->last_l3_cap == d.l3_caplen && pkt->ts_ns >= D->last_ns &&
        pkt->ts_ns - D->last_ns <= NL_ANALYZE_DUP_WINDOW_NS &&
        !(d.link.pkttype != NL_PKTTYPE_NONE && d.link.pkttype == D->last_pkttype) &&
        memcmp(D->last_l3, d.l3, d.l3_caplen) == 0) {
        s->duplicates++;
        D->dups++;
        if (a->ndups < a->listed_cap) {
            if (GROW(a, dups, ndups, capdups) < 0)
                return NL_ENOMEM;
            struct dup_rec *r = &a->dups[a->ndups++];
            r->packet = pkt->number;
            r->original = D->last_pkt;
            r->flow = fidx;
            r->delta_ns = pkt->ts_ns - D->last_ns;
            uint32_t ifid = d.link.has_ifindex ? d.link.ifindex : pkt->iface;
            r->other_iface = ifid != D->last_if;
        }
        D->last_l3 = NULL; /* a third copy is a repeat again */
        return 0;
    }
    D->last_l3 = d.l3;
    D->last_l3_cap = d.l3_caplen;
    D->last_ns = pkt->ts_ns;
    D->last_pkt = pkt->number;
    D->last_pkttype = d.link.pkttype;
    D->last_if = d.link.has_ifindex ? d.link.ifindex : pkt->iface;
    nl_flow_touch(f, dir, &d, pkt->number, pkt->ts_ns);

    /* Checksums. */
    int any_bad = 0;
    if (d.ipver == 4 && d.ck_ip != NL_CK_NA) {
        count_ck(&s->ck_ipv4, d.ck_ip);
        if (d.ck_ip == NL_CK_BAD) {
            any_bad = 1;
            if ((rc = add_bad(a, pkt->number, 4, d.ck_ip_found, d.ck_ip_expected, fidx)) < 0)
                return rc;
        }
    }
    if (d.ck_l4 != NL_CK_NA) {
        count_ck(d.proto == 6 ? &s->ck_tcp : &s->ck_udp, d.ck_l4);
        if (d.ck_l4 == NL_CK_BAD) {
            any_bad = 1;
            D->ck_bad++;
            if ((rc = add_bad(a, pkt->number, d.proto, d.ck_l4_found, d.ck_l4_expected, fidx)) < 0)
                return rc;
        } else if (d.ck_l4 == NL_CK_OFFLOAD) {
            D->ck_offload++;
        }
    }
    if (any_bad)
        s->bad_packets++;

    if (d.proto == 6) {
        nl_flow_tcp(f, dir, &d, pkt->number, pkt->len);
        if (d.payload_len > s->largest_bytes) {
            s->largest_bytes = d.payload_len;
            s->largest_packet = pkt->number;
            s->largest_conversation = fidx;
        }
    } else {
        nl_flow_udp(f, dir, &d, pkt->number, pkt->len);
    }

    /* --find in this packet's captured payload. */
    for (size_t k = 0; k < a->ntexts && d.payload_caplen; k++) {
        const uint8_t *hit = memmem(d.payload, d.payload_caplen, a->texts[k], a->text_len[k]);
        if (!hit)
            continue;
        s->matches++;
        if (a->nmatches >= a->listed_cap)
            continue;
        if (GROW(a, matches, nmatches, capmatches) < 0)
            return NL_ENOMEM;
        struct match_rec *m = &a->matches[a->nmatches++];
        m->text = (uint32_t)k;
        m->flow = fidx;
        m->dir = (uint8_t)dir;
        m->across = 0;
        m->protocol = d.proto;
        m->packet = m->last_packet = pkt->number;
        m->payload_bytes = d.payload_len;
        m->offset = (uint32_t)(hit - d.payload);
    }

    /* Reassembly, only where something needs the stream. */
    int want = a->msgs != NULL || (a->follow && a->follow == fidx) ||
               (d.proto == 6 && a->ntexts && a->maxtext > 1);
    if (a->follow && a->follow == fidx)
        a->follow_flow = fidx;
    if (!want)
        return 0;
    struct nl_flow_ext *e = flow_ext(f);
    if (!e)
        return NL_ENOMEM;
    struct sink_ctx c = {a, e, fidx, (uint8_t)dir, d.proto};
    if (d.proto == 17) {
        if (d.payload_len)
            return stream_sink(&c, d.payload_caplen == d.payload_len ? d.payload : NULL, d.payload_len,
                               pkt->number, d.payload_len);
        return 0;
    }
    if (d.tcp_flags & NL_TCP_RST)
        return 0;
    return nl_reasm_add(&e->r[dir], (d.tcp_flags & NL_TCP_SYN) != 0, d.seq, d.payload, d.payload_caplen,
                        d.payload_len, pkt->number, stream_sink, &c);
}

/* ---- after the last packet ---- */

static int cmp_match(const void *x, const void *y)
{
    const struct match_rec *a = x, *b = y;
    if (a->packet != b->packet)
        return a->packet < b->packet ? -1 : 1;
    if (a->across != b->across)
        return a->across - b->across;
    return a->text < b->text ? -1 : a->text > b->text;
}

static const char *ep(const struct nl_flow *f, int i, char out[64])
{
    return nl_endpoint_format(f->ipver, f->addr[i], f->port[i], out);
}

static int write_notes(struct nl_analysis *a)
{
    struct nl_summary *s = &a->sum;
    size_t n_refused = 0, n_kernel = 0, n_early = 0;
    int rc = 0;
    char c[64], v[64];

    for (size_t i = 0; i < a->ft.nflows && rc == 0; i++) {
        const struct nl_flow *f = &a->ft.flows[i];
        if (f->proto != 6)
            continue;
        int srv = f->server, cli = !srv;
        ep(f, cli, c);
        ep(f, srv, v);
        if (f->refused) {
            if (n_refused++ < NOTES_PER_KIND)
                rc = add_note(a, "refused", f->rst_pkt, f->id,
                              "conversation %u: %s answered the SYN from %s with a reset (packet %llu): nothing "
                              "listened on port %u, so the kernel refused the connection itself; this is what "
                              "\"connection refused\" looks like on the wire",
                              f->id, v, c, (unsigned long long)f->rst_pkt, f->port[srv]);
        } else if (f->kernel_rst) {
            int who = f->d[0].rst ? 0 : 1;
            char w[64];
            ep(f, who, w);
            if (n_kernel++ < NOTES_PER_KIND)
                rc = add_note(a, "kernel-reset", f->rst_pkt, f->id,
                              "conversation %u: the reset in packet %llu came from the kernel at %s, not from a "
                              "program: no socket owned this connection there (it was never opened on that host, "
                              "or its socket was already closed), as with hand-crafted packets or traffic sent "
                              "after a program exited",
                              f->id, (unsigned long long)f->rst_pkt, w);
        }
        if (rc == 0 && !(f->first_flags & NL_TCP_SYN)) {
            if (n_early++ < NOTES_PER_KIND)
                rc = add_note(a, "handshake-not-captured", f->first_pkt, f->id,
                              "conversation %u (%s <-> %s) was already open when the capture started: its "
                              "handshake was not captured, so %s",
                              f->id, c, v,
                              f->basis == NL_SERVER_SYNACK ? "the server is the side that sent the SYN-ACK"
                              : f->basis == NL_SERVER_WELL_KNOWN ? "the server is guessed: the side with the well-known port"
                              : f->basis == NL_SERVER_LOWER_PORT ? "the server is guessed: the side with the lower port"
                                                                 : "the server is guessed");
        } else if (rc == 0 && (f->first_flags & (NL_TCP_SYN | NL_TCP_ACK)) == (NL_TCP_SYN | NL_TCP_ACK)) {
            if (n_early++ < NOTES_PER_KIND)
                rc = add_note(a, "handshake-not-captured", f->first_pkt, f->id,
                              "conversation %u (%s <-> %s): its SYN was not captured (the capture began with the "
                              "SYN-ACK); the server is the side that sent the SYN-ACK",
                              f->id, c, v);
        }
    }
    if (rc == 0 && n_refused > NOTES_PER_KIND)
        rc = add_note(a, "refused", 0, 0, "... and %zu more refused connections", n_refused - NOTES_PER_KIND);
    if (rc == 0 && n_kernel > NOTES_PER_KIND)
        rc = add_note(a, "kernel-reset", 0, 0, "... and %zu more conversations reset by a kernel",
                      n_kernel - NOTES_PER_KIND);
    if (rc == 0 && n_early > NOTES_PER_KIND)
        rc = add_note(a, "handshake-not-captured", 0, 0,
                      "... and %zu more conversations whose handshake was not captured", n_early - NOTES_PER_KIND);

    for (size_t i = 0; i < a->ndups && i < NOTES_PER_KIND && rc == 0; i++) {
        const struct dup_rec *d = &a->dups[i];
        rc = add_note(a, "duplicate", d->packet, d->flow,
                      "packet %llu is a second copy of packet %llu (the same bytes from the IP header on, %lld us "
                      "later)%s; it is counted once",
                      (unsigned long long)d->packet, (unsigned long long)d->original, (long long)(d->delta_ns / 1000),
                      d->other_iface ? ", seen on a second interface of the same path"
                                     : ": a packet socket on a loopback interface sees each packet twice, once "
                                       "leaving and once arriving");
    }
    if (rc == 0 && s->duplicates > NOTES_PER_KIND)
        rc = add_note(a, "duplicate", 0, 0, "... and %llu more duplicate copies",
                      (unsigned long long)(s->duplicates - NOTES_PER_KIND));

    uint64_t off = s->ck_ipv4.offload + s->ck_tcp.offload + s->ck_udp.offload;
    if (rc == 0 && off)
        rc = add_note(a, "offload", 0, 0,
                      "%llu checksum%s (TCP %llu, UDP %llu, IPv4 %llu) %s left for the network card: the capture "
                      "was taken on the sending host (or on loopback) before the checksum was filled in (checksum "
                      "offload); Wireshark calls them bad, but they are not errors in the packets",
                      (unsigned long long)off, off == 1 ? "" : "s", (unsigned long long)s->ck_tcp.offload,
                      (unsigned long long)s->ck_udp.offload, (unsigned long long)s->ck_ipv4.offload,
                      off == 1 ? "was" : "were");
    if (rc == 0 && s->bad_packets)
        rc = add_note(a, "bad-checksum", a->nbad ? a->bad[0].packet : 0, 0,
                      "%llu packet%s carr%s a wrong checksum (see bad_packets): a receiving kernel drops such "
                      "packets without telling the sender",
                      (unsigned long long)s->bad_packets, s->bad_packets == 1 ? "" : "s",
                      s->bad_packets == 1 ? "ies" : "y");
    if (rc == 0 && s->snapped)
        rc = add_note(a, "snap-length", 0, 0,
                      "%llu packet%s cut by the capture's snap length (at most %llu bytes kept): checksums over "
                      "the missing bytes cannot be verified and --find sees only captured bytes; payload byte "
                      "counts come from the IP and TCP headers",
                      (unsigned long long)s->snapped, s->snapped == 1 ? " was" : "s were",
                      (unsigned long long)a->snaplen_seen);
    if (rc == 0 && s->fragments)
        rc = add_note(a, "fragments", 0, 0,
                      "%llu IP fragment%s counted but not reassembled: their transport headers are not analysed",
                      (unsigned long long)s->fragments, s->fragments == 1 ? " was" : "s were");
    for (size_t i = 0; i < a->nunreach && rc == 0; i++)
        rc = add_note(a, "port-unreachable", a->unreach[i].packet, 0,
                      "packet %llu: ICMP port unreachable for the UDP datagram %s: nothing listened on that port",
                      (unsigned long long)a->unreach[i].packet, a->unreach[i].text);
    if (rc == 0 && a->unreach_total > a->nunreach)
        rc = add_note(a, "port-unreachable", 0, 0, "... and %llu more ICMP port unreachable messages",
                      (unsigned long long)(a->unreach_total - a->nunreach));
    if (rc == 0 && a->stream_dropped)
        rc = add_note(a, "stream-cap", 0, 0,
                      "only the first %llu bytes of payload were kept for --follow/--expect; %llu more were "
                      "treated as missing",
                      (unsigned long long)a->stream_cap, (unsigned long long)a->stream_dropped);
    return rc;
}

static int finish(struct nl_analysis *a)
{
    int rc;
    for (size_t i = 0; i < a->ft.nflows; i++) {
        struct nl_flow *f = &a->ft.flows[i];
        if (!f->ext)
            continue;
        for (int dir = 0; dir < 2; dir++) {
            struct sink_ctx c = {a, f->ext, f->id, (uint8_t)dir, f->proto};
            if ((rc = nl_reasm_end(&f->ext->r[dir], stream_sink, &c)) < 0)
                return rc;
        }
    }
    nl_flow_finish(&a->ft);
    struct nl_summary *s = &a->sum;
    for (size_t i = 0; i < a->ft.nflows; i++) {
        const struct nl_flow *f = &a->ft.flows[i];
        if (f->proto == 6) {
            s->tcp_conversations++;
            s->retransmissions += f->d[0].retrans + f->d[1].retrans;
        } else {
            s->udp_flows++;
        }
    }
    if (a->nmatches > 1)
        qsort(a->matches, a->nmatches, sizeof *a->matches, cmp_match);

    /* Interfaces that carried packets. */
    size_t nfile = nl_pcapr_iface_count(a->rd);
    a->ifaces = calloc(nfile + a->nsll2 + 1, sizeof *a->ifaces);
    if (!a->ifaces)
        return NL_ENOMEM;
    for (size_t i = 0; i < nfile && i < a->nif_pkts; i++) {
        if (!a->if_pkts[i])
            continue;
        const struct nl_iface *fi = nl_pcapr_iface(a->rd, i);
        struct nl_iface_seen *o = &a->ifaces[a->nifaces++];
        o->kind = NL_IFACE_FILE;
        o->index = (uint32_t)i;
        o->name = fi->name;
        o->description = fi->description;
        o->linktype = fi->linktype;
        o->packets = a->if_pkts[i];
        o->loopback = a->if_loop[i];
    }
    for (size_t i = 0; i < a->nsll2; i++) {
        struct nl_iface_seen *o = &a->ifaces[a->nifaces++];
        o->kind = NL_IFACE_INDEX;
        o->index = a->sll2[i].ifindex;
        o->linktype = NL_LINKTYPE_LINUX_SLL2;
        o->packets = a->sll2[i].packets;
        o->loopback = a->sll2[i].loopback;
    }
    if (!a->linktype_set && nfile)
        s->linktype = nl_pcapr_iface(a->rd, 0)->linktype;

    if ((rc = write_notes(a)) < 0)
        return rc;

    if (a->msgs) {
        size_t n = 0;
        for (size_t i = 0; i < a->ft.nflows; i++)
            n += a->ft.flows[i].ext != NULL;
        struct nl_expect_conv *ec = calloc(n ? n : 1, sizeof *ec);
        if (!ec)
            return NL_ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < a->ft.nflows; i++) {
            const struct nl_flow *f = &a->ft.flows[i];
            if (!f->ext)
                continue;
            ec[k].id = f->id;
            ec[k].c2s = &f->ext->store[!f->server];
            ec[k].s2c = &f->ext->store[f->server];
            k++;
        }
        rc = nl_expect_run(a->msgs, ec, k, &a->exp, &a->nexp);
        free(ec);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- entry points ---- */

static int setup(struct nl_analysis *a, const struct nl_analyze_opts *o, char *errbuf)
{
    a->stream_cap = o && o->max_stream_bytes ? o->max_stream_bytes : NL_ANALYZE_STREAM_CAP;
    a->listed_cap = o && o->max_listed ? o->max_listed : NL_ANALYZE_LIST_CAP;
    if (!o)
        return 0;
    a->follow = o->follow;
    if (o->nfind) {
        a->texts = calloc(o->nfind, sizeof *a->texts);
        a->text_len = calloc(o->nfind, sizeof *a->text_len);
        if (!a->texts || !a->text_len)
            return nl_err(errbuf, NL_ENOMEM, "out of memory");
        for (size_t i = 0; i < o->nfind; i++) {
            size_t n = o->find[i] ? strlen(o->find[i]) : 0;
            if (n == 0)
                return nl_err(errbuf, NL_EINVAL, "--find: the text to find is empty");
            if (n > 65536)
                return nl_err(errbuf, NL_ELIMIT, "--find: a text of %zu bytes is longer than the 65536 allowed", n);
            a->texts[i] = strdup(o->find[i]);
            if (!a->texts[i])
                return nl_err(errbuf, NL_ENOMEM, "out of memory");
            a->text_len[i] = n;
            a->ntexts++;
            if (n > a->maxtext)
                a->maxtext = n;
        }
    }
    if (o->expect) {
        int rc = nl_messages_load(o->expect, &a->msgs, errbuf);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int run(struct nl_analysis *a, char *errbuf)
{
    struct nl_frame pkt;
    int rc;
    char eb[NL_ERRBUF_SIZE];
    for (;;) {
        rc = nl_pcapr_next(a->rd, &pkt, eb);
        if (rc == 0)
            break;
        if (rc < 0) {
            a->sum.read_error = rc;
            snprintf(a->read_err, sizeof a->read_err, "%s", eb);
            a->sum.read_error_text = a->read_err;
            break;
        }
        if ((rc = process(a, &pkt)) < 0)
            return nl_err(errbuf, rc, "%s: packet %llu: out of memory", nl_pcapr_name(a->rd),
                          (unsigned long long)pkt.number);
    }
    if ((rc = finish(a)) < 0)
        return nl_err(errbuf, rc, "%s: out of memory", nl_pcapr_name(a->rd));
    return 0;
}

static int start(struct nl_analysis **out, struct nl_pcapr *rd, const struct nl_analyze_opts *o, char *errbuf)
{
    struct nl_analysis *a = calloc(1, sizeof *a);
    if (!a) {
        nl_pcapr_close(rd);
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    }
    a->rd = rd;
    nl_flow_table_init(&a->ft);
    a->sum.file = nl_pcapr_name(rd);
    a->sum.format = nl_pcapr_format_name(rd);
    a->sum.swapped = nl_pcapr_swapped(rd);
    int rc = setup(a, o, errbuf);
    if (rc == 0)
        rc = run(a, errbuf);
    a->sum.nanosecond = nl_pcapr_nanosecond(rd);
    if (rc < 0) {
        nl_analysis_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int nl_analyze_file(const char *path, const struct nl_analyze_opts *o, struct nl_analysis **out, char *errbuf)
{
    *out = NULL;
    struct nl_pcapr *rd;
    int rc = nl_pcapr_open(&rd, path, errbuf);
    if (rc < 0)
        return rc;
    return start(out, rd, o, errbuf);
}

int nl_analyze_mem(const void *buf, size_t len, const char *name, const struct nl_analyze_opts *o,
                   struct nl_analysis **out, char *errbuf)
{
    *out = NULL;
    struct nl_pcapr *rd;
    int rc = nl_pcapr_open_mem(&rd, buf, len, name, errbuf);
    if (rc < 0)
        return rc;
    return start(out, rd, o, errbuf);
}

void nl_analysis_free(struct nl_analysis *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->ft.nflows; i++)
        free_ext(a->ft.flows[i].ext);
    nl_flow_table_free(&a->ft);
    for (size_t i = 0; i < a->ntexts; i++)
        free(a->texts[i]);
    free(a->texts);
    free(a->text_len);
    nl_messages_free(a->msgs);
    free(a->if_pkts);
    free(a->if_loop);
    free(a->sll2);
    free(a->ifaces);
    free(a->bad);
    free(a->probs);
    free(a->dups);
    for (size_t i = 0; i < a->nnotes; i++)
        free(a->notes[i].text);
    free(a->notes);
    free(a->matches);
    free(a->unreach);
    free(a->chunks);
    free(a->fbuf);
    free(a->exp);
    nl_pcapr_close(a->rd);
    free(a);
}

/* ---- accessors ---- */

void nl_analysis_summary(const struct nl_analysis *a, struct nl_summary *s) { *s = a->sum; }

size_t nl_analysis_iface_count(const struct nl_analysis *a) { return a->nifaces; }
void nl_analysis_iface(const struct nl_analysis *a, size_t i, struct nl_iface_seen *out)
{
    if (i < a->nifaces)
        *out = a->ifaces[i];
    else
        memset(out, 0, sizeof *out);
}

size_t nl_analysis_warning_count(const struct nl_analysis *a) { return nl_pcapr_warning_count(a->rd); }
const char *nl_analysis_warning(const struct nl_analysis *a, size_t i) { return nl_pcapr_warning(a->rd, i); }

size_t nl_analysis_conv_count(const struct nl_analysis *a) { return a->ft.nflows; }

static const char *basis_name(int b)
{
    switch (b) {
    case NL_SERVER_SYN: return "syn";
    case NL_SERVER_SYNACK: return "syn-ack";
    case NL_SERVER_WELL_KNOWN: return "well-known port";
    case NL_SERVER_LOWER_PORT: return "lower port";
    case NL_SERVER_FIRST_DEST: return "first destination";
    default: return "";
    }
}

int nl_analysis_conv(const struct nl_analysis *a, size_t i, struct nl_conversation *o)
{
    if (i >= a->ft.nflows)
        return NL_EINVAL;
    const struct nl_flow *f = &a->ft.flows[i];
    int srv = f->server < 0 ? 1 : f->server, cli = !srv;
    const struct nl_flow_dir *C = &f->d[cli], *S = &f->d[srv];
    memset(o, 0, sizeof *o);
    o->id = f->id;
    o->protocol = f->proto;
    o->ipver = f->ipver;
    nl_endpoint_format(f->ipver, f->addr[cli], f->port[cli], o->client);
    nl_endpoint_format(f->ipver, f->addr[srv], f->port[srv], o->server);
    char tmp[64];
    snprintf(o->client_addr, sizeof o->client_addr, "%s", nl_endpoint_format(f->ipver, f->addr[cli], -1, tmp));
    snprintf(o->server_addr, sizeof o->server_addr, "%s", nl_endpoint_format(f->ipver, f->addr[srv], -1, tmp));
    o->client_port = f->port[cli];
    o->server_port = f->port[srv];
    o->server_guessed = f->basis != NL_SERVER_SYN && f->basis != NL_SERVER_SYNACK;
    o->server_basis = basis_name(f->basis);
    o->packets_c2s = C->packets;
    o->packets_s2c = S->packets;
    o->payload_c2s = C->payload;
    o->payload_s2c = S->payload;
    o->bytes_c2s = C->bytes;
    o->bytes_s2c = S->bytes;
    o->first_packet = f->first_pkt;
    o->last_packet = f->last_pkt;
    o->first_ns = f->first_ns;
    o->last_ns = f->last_ns;
    o->handshake = (f->hs & 7) == 7;
    o->syn_seen = C->syn || S->syn;
    o->synack_seen = C->synack || S->synack;
    o->fin_c2s = C->fin;
    o->fin_s2c = S->fin;
    o->rst_c2s = C->rst;
    o->rst_s2c = S->rst;
    o->end = (C->rst || S->rst) ? NL_END_RST : (C->fin && S->fin) ? NL_END_FIN : NL_END_OPEN;
    o->started_before_capture = f->proto == 6 && !(f->first_flags & NL_TCP_SYN);
    o->refused = f->refused;
    o->kernel_reset = f->kernel_rst;
    o->reset_packet = f->rst_pkt;
    o->retransmissions = C->retrans + S->retrans;
    o->duplicates = C->dups + S->dups;
    const struct nl_flow_dir *L = C->largest_bytes >= S->largest_bytes ? C : S;
    if (C->largest_bytes == S->largest_bytes && C->largest_bytes && S->largest_pkt < C->largest_pkt)
        L = S; /* a tie: the earlier packet */
    o->largest_packet = L->largest_bytes ? L->largest_pkt : 0;
    o->largest_bytes = L->largest_bytes;
    o->checksum_bad = C->ck_bad + S->ck_bad;
    o->checksum_offload = C->ck_offload + S->ck_offload;
    return 0;
}

size_t nl_analysis_bad_count(const struct nl_analysis *a) { return a->nbad; }
void nl_analysis_bad(const struct nl_analysis *a, size_t i, struct nl_badck *out)
{
    if (i < a->nbad)
        *out = a->bad[i];
    else
        memset(out, 0, sizeof *out);
}

size_t nl_analysis_problem_count(const struct nl_analysis *a) { return a->nprobs; }
void nl_analysis_problem(const struct nl_analysis *a, size_t i, struct nl_problem *out)
{
    if (i < a->nprobs)
        *out = a->probs[i];
    else
        memset(out, 0, sizeof *out);
}

size_t nl_analysis_dup_count(const struct nl_analysis *a) { return a->ndups; }
void nl_analysis_dup(const struct nl_analysis *a, size_t i, struct nl_dup *out)
{
    memset(out, 0, sizeof *out);
    if (i >= a->ndups)
        return;
    out->packet = a->dups[i].packet;
    out->original = a->dups[i].original;
    out->conversation = a->dups[i].flow;
    out->delta_ns = a->dups[i].delta_ns;
}

size_t nl_analysis_note_count(const struct nl_analysis *a) { return a->nnotes; }
void nl_analysis_note(const struct nl_analysis *a, size_t i, struct nl_note *out)
{
    memset(out, 0, sizeof *out);
    if (i >= a->nnotes)
        return;
    out->kind = a->notes[i].kind;
    out->packet = a->notes[i].packet;
    out->conversation = a->notes[i].conversation;
    out->text = a->notes[i].text;
}

size_t nl_analysis_match_count(const struct nl_analysis *a) { return a->nmatches; }
void nl_analysis_match(const struct nl_analysis *a, size_t i, struct nl_match *out)
{
    memset(out, 0, sizeof *out);
    if (i >= a->nmatches)
        return;
    const struct match_rec *m = &a->matches[i];
    out->text = m->text;
    out->packet = m->packet;
    out->last_packet = m->last_packet;
    out->conversation = m->flow;
    out->protocol = m->protocol;
    out->across = m->across;
    out->payload_bytes = m->payload_bytes;
    out->offset = m->offset;
    if (m->flow)
        out->from_client = (uint8_t)from_client(&a->ft.flows[m->flow - 1], m->dir);
}

uint32_t nl_analysis_follow_conv(const struct nl_analysis *a) { return a->follow_flow; }
size_t nl_analysis_chunk_count(const struct nl_analysis *a) { return a->nchunks; }
void nl_analysis_chunk(const struct nl_analysis *a, size_t i, struct nl_chunk *out)
{
    memset(out, 0, sizeof *out);
    if (i >= a->nchunks)
        return;
    const struct chunk_rec *c = &a->chunks[i];
    out->from_client = (uint8_t)from_client(&a->ft.flows[a->follow_flow - 1], c->dir);
    out->packet = c->packet;
    out->data = c->is_gap ? NULL : a->fbuf + c->off;
    out->len = c->len;
}

size_t nl_analysis_expect_count(const struct nl_analysis *a) { return a->nexp; }
void nl_analysis_expect(const struct nl_analysis *a, size_t i, struct nl_expect_result *out)
{
    memset(out, 0, sizeof *out);
    if (i >= a->nexp)
        return;
    *out = a->exp[i].pub;
    out->detail = a->exp[i].detail;
}
