/*
 * nl_analyze.c - one pass over a capture (see nl_analyze.h): read and decode each
 * packet once (nl_readahead.c), hand it to the consumers the analysis needs (the
 * capture's counts and the conversations here; notes, TCP analysis, text search and
 * streams in their own files), then conclude (servers, notes, --expect). Knows no
 * consumer's state but its own.
 * Memory grows with conversations and findings (each list capped), never with
 * packets.
 */
#include "nl_analysis.h"
#include "nl_readahead.h"
#include "netlab/nl_tcp.h"
#include "netlab/nl_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- the consumers of each packet ----
 *
 * One loop decodes each packet once and hands it to the consumers this analysis needs, in
 * order (Wireshark's taps): the capture's counts, the notes, the conversations (which find
 * the packet's conversation and side for the rest), the TCP analysis, the text search, the
 * reassembled streams. A consumer that answers NL_CONSUMED ends the packet's way: later
 * consumers do not see it (a frame of no conversation, a duplicate copy). */

/* The two consumers of this file run on every packet of a conversation: inlined into the loop
 * (process), with no call through a pointer. */
#define HOT static inline __attribute__((always_inline))

/* Every frame: what the capture holds (counts, times, link types, interfaces, problems). */
HOT int capture_packet(struct nl_analysis *a, struct nl_pkt_view *v)
{
    struct nl_summary *s = &a->sum;
    const struct nl_frame *pkt = v->pkt;
    const struct nl_decoded *d = v->d;

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
    if (!v->decoded) {
        s->unsupported_link++;
        return NL_CONSUMED;
    }
    if (d->link.loopback)
        a->if_loop[pkt->iface] = 1;
    if (d->link.has_ifindex) {
        size_t i;
        for (i = 0; i < a->nsll2 && a->sll2[i].ifindex != d->link.ifindex; i++)
            ;
        if (i == a->nsll2 && a->nsll2 < 4096) {
            if (GROW(a, sll2, nsll2, capsll2) < 0)
                return NL_ENOMEM;
            a->sll2[i].ifindex = d->link.ifindex;
            a->sll2[i].packets = 0;
            a->sll2[i].loopback = 0;
            a->nsll2++;
        }
        if (i < a->nsll2) {
            a->sll2[i].packets++;
            a->sll2[i].loopback |= d->link.loopback;
        }
    }
    if (d->status != NL_DS_OK) {
        if (d->status == NL_DS_TRUNCATED)
            s->truncated++;
        else
            s->malformed++;
        if (a->nprobs < a->listed_cap) {
            if (GROW(a, probs, nprobs, capprobs) < 0)
                return NL_ENOMEM;
            struct nl_problem *p = &a->probs[a->nprobs++];
            p->packet = pkt->number;
            p->status = nl_dstatus_name(d->status);
            p->layer = nl_dlayer_name(d->status_at);
            p->reason = d->reason;
        }
    }
    if (d->ipver == 4)
        s->ipv4++;
    else if (d->ipver == 6)
        s->ipv6++;
    else {
        s->non_ip++;
        return NL_CONSUMED;
    }
    /* The transport protocol is counted wherever the decoder got past the IP
     * header, also when the IP length claims more than the frame holds (a
     * sniffer that cut the frame without saying so): tshark counts those too. */
    if (d->fragment) {
        s->fragments++;
    } else if (d->status_at != NL_DL_NETWORK || d->l3_len) {
        switch (d->proto) {
        case 6: s->tcp++; break;
        case 17: s->udp++; break;
        case 1: s->icmp++; break;
        case 58: s->icmpv6++; break;
        default: s->other_ip++; break;
        }
    }
    return 0;
}

/* A checksum verdict counted, and listed when bad. */
HOT int checksum(struct nl_analysis *a, struct nl_ck_counts *c, int v, uint64_t pkt, uint8_t layer,
                    uint16_t found, uint16_t expected, uint32_t conv)
{
    count_ck(c, v);
    return v == NL_CK_BAD ? add_bad(a, pkt, layer, found, expected, conv) : 0;
}

/* Every IP packet: its conversation (TCP or UDP) and side, found for the consumers after
 * this one; duplicate copies; checksums; the conversation's counts and the largest payload. */
HOT int conversations_packet(struct nl_analysis *a, struct nl_pkt_view *v)
{
    struct nl_summary *s = &a->sum;
    const struct nl_frame *pkt = v->pkt;
    const struct nl_decoded *d = v->d;
    int rc;
    if (!d->has_l4 || (d->proto != 6 && d->proto != 17)) {
        /* Not part of a conversation: still count its IPv4 header checksum. */
        if (d->ipver == 4 && d->ck_ip != NL_CK_NA) {
            if (d->ck_ip == NL_CK_BAD)
                s->bad_packets++;
            if ((rc = checksum(a, &s->ck_ipv4, d->ck_ip, pkt->number, 4, d->ck_ip_found, d->ck_ip_expected, 0)) < 0)
                return rc;
        }
        return NL_CONSUMED;
    }

    int created;
    struct nl_flow *f = nl_flow_get_hashed(&a->ft, d, v->hash, v->dir, &created);
    if (!f)
        return NL_ENOMEM;
    uint32_t fidx = f->id;
    struct nl_flow_dir *D = &f->d[v->dir];
    if (f->ta) /* the TCP analysis state (three cache lines): fetched while the checks below run */
        for (int i = 0; i < 3; i++)
            __builtin_prefetch((const char *)f->ta + 64 * i);

    /* A second copy of the packet just seen in this direction (the same bytes
     * from the IP header on, within a millisecond): a packet socket that keeps
     * both the outgoing and the incoming copy (loopback), or a capture on two
     * interfaces of one path. Only where identical bytes cannot be two real
     * packets: an IPv4 packet with a nonzero identification (a sender numbers
     * each packet), captured whole. Kernel resets (identification 0) and IPv6
     * (no identification) can repeat byte for byte, so they are counted as sent.
     * Two copies with the same known packet type are repeats, not copies. */
    if (nl_flow_is_copy(D, d, pkt)) {
        s->duplicates++;
        D->dups++;
        if (a->ndups < a->listed_cap) {
            if (GROW(a, dups, ndups, capdups) < 0)
                return NL_ENOMEM;
            struct dup_rec *r = &a->dups[a->ndups++];
            r->packet = pkt->number;
            r->original = D->last_pkt;
            r->flow = fidx;
            r->delta_ns = nl_time_sub(pkt->ts_ns, D->last_ns);
            uint32_t ifid = d->link.has_ifindex ? d->link.ifindex : pkt->iface;
            r->other_iface = ifid != D->last_if;
        }
        D->last_l3 = NULL; /* a third copy is a repeat again */
        if (a->ans)
            nl_answers_copy(a, f, v->dir, pkt);
        return NL_CONSUMED;
    }
    nl_flow_remember(D, d, pkt);
    v->f = f;
    v->prev_ns = f->last_ns; /* before this packet: the TCP analysis measures idle time */
    nl_flow_touch(f, v->dir, d, pkt->number, pkt->ts_ns);

    /* Checksums. */
    int any_bad = 0;
    if (d->ipver == 4 && d->ck_ip != NL_CK_NA) {
        any_bad |= d->ck_ip == NL_CK_BAD;
        if ((rc = checksum(a, &s->ck_ipv4, d->ck_ip, pkt->number, 4, d->ck_ip_found, d->ck_ip_expected, fidx)) < 0)
            return rc;
    }
    if (d->ck_l4 != NL_CK_NA) {
        any_bad |= d->ck_l4 == NL_CK_BAD;
        D->ck_bad += d->ck_l4 == NL_CK_BAD;
        D->ck_offload += d->ck_l4 == NL_CK_OFFLOAD;
        if ((rc = checksum(a, d->proto == 6 ? &s->ck_tcp : &s->ck_udp, d->ck_l4, pkt->number, d->proto,
                           d->ck_l4_found, d->ck_l4_expected, fidx)) < 0)
            return rc;
    }
    if (any_bad)
        s->bad_packets++;

    if (d->proto == 17) {
        nl_flow_udp(f, v->dir, d, pkt->number, pkt->len);
        return 0;
    }
    nl_flow_tcp(f, v->dir, d, pkt->number, pkt->len);
    if (d->payload_caplen && !D->traits)
        nl_appid_note(f, v->dir, d->payload, d->payload_caplen);
    if (d->payload_len > s->largest_bytes) {
        s->largest_bytes = d->payload_len;
        s->largest_packet = pkt->number;
        s->largest_conversation = fidx;
    }
    return 0;
}

/* The consumers this analysis needs, in order (see above), routed by the kinds of packet
 * each wants. */
static void register_consumers(struct nl_analysis *a)
{
    static const struct nl_consumer capture = {"capture", capture_packet, 0};
    static const struct nl_consumer notes = {"notes", nl_notes_packet, NL_WANT_ICMP};
    static const struct nl_consumer convs = {"conversations", conversations_packet, 0};
    const struct nl_consumer *cons[NL_MAX_CONSUMERS];
    size_t n = 0;
    cons[n++] = &capture;
    cons[n++] = &notes;
    cons[n++] = &convs;
    cons[n++] = &nl_ta_consumer;
    if (a->ntexts)
        cons[n++] = &nl_find_consumer;
    if (a->msgs || a->keep_streams || a->follow || (a->ntexts && a->maxtext > 1))
        cons[n++] = &nl_streams_consumer;
    if (a->ans)
        cons[n++] = &nl_answers_consumer;
    for (unsigned k = 0; k < NL_KINDS; k++) { /* capture first in each: process() calls it before the list */
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (!cons[i]->wants || (cons[i]->wants & (1u << k)))
                a->route[k][m++] = cons[i]->packet;
        a->route[k][m] = NULL;
    }
}

/* The kind of packet (NL_KIND_*) of each IP protocol number; 0 is NL_KIND_OTHER. */
static const uint8_t kind_of[256] = {[6] = NL_KIND_TCP, [17] = NL_KIND_UDP, [1] = NL_KIND_ICMP, [58] = NL_KIND_ICMP};

static int process(struct nl_analysis *a, const struct nl_ahead *ah)
{
    struct nl_pkt_view v = {&ah->pkt, &ah->d, ah->hash, ah->dir, ah->decoded, NULL, 0};
    /* Every list starts with the capture's counts, which end an undecoded frame's way. */
    int rc = capture_packet(a, &v);
    if (rc)
        return rc == NL_CONSUMED ? 0 : rc;
    const nl_consume_fn *route = a->route[kind_of[ah->d.proto]] + 1;
    for (nl_consume_fn fn; (fn = *route); route++) {
        /* This file's two and the TCP analysis are called directly (no call through a
         * pointer on every packet); the others through the table. */
        rc = fn == conversations_packet ? conversations_packet(a, &v)
             : fn == nl_ta_packet       ? nl_ta_packet(a, &v)
                                        : fn(a, &v);
        if (rc)
            return rc == NL_CONSUMED ? 0 : rc;
    }
    return 0;
}

/* ---- after the last packet ---- */

static int finish(struct nl_analysis *a)
{
    int rc;
    if ((rc = nl_streams_end(a)) < 0)
        return rc;
    nl_flow_finish(&a->ft);
    nl_appid_finish(&a->ft);
    if ((rc = nl_ta_finish(a)) < 0)
        return rc;
    struct nl_summary *s = &a->sum;
    for (size_t i = 0; i < a->ft.nflows; i++) {
        const struct nl_flow *f = &a->ft.flows[i];
        if (f->proto == 6) {
            s->tcp_conversations++;
            s->retransmissions += nl_ta_retransmissions(f);
        } else {
            s->udp_flows++;
        }
    }
    nl_find_finish(a);

    /* Interfaces that carried packets. */
    size_t nfile = nl_pcapr_iface_count(a->rd);
    a->ifaces = calloc(nfile + a->nsll2 + 1, sizeof *a->ifaces);
    if (!a->ifaces)
        return NL_ENOMEM;
    for (size_t i = 0; i < nfile && i < a->nif_pkts; i++) {
        if (!a->if_pkts[i])
            continue;
        const struct nl_file_iface *fi = nl_pcapr_iface(a->rd, i);
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
    if (a->ans && (rc = nl_answers_finish(a)) < 0)
        return rc;

    if ((rc = nl_write_notes(a)) < 0)
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
            ec[k].c2s = nl_flow_ext_store(f->ext, !f->server);
            ec[k].s2c = nl_flow_ext_store(f->ext, f->server);
            k++;
        }
        rc = nl_expect_run(a->msgs, ec, k, a->expect_echo, &a->exp, &a->nexp);
        if (rc == 0)
            rc = nl_expect_unexpected(a->exp, a->nexp, ec, k, a->expect_echo, &a->unexp, &a->nunexp);
        free(ec);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- entry points ---- */

static int setup(struct nl_analysis *a, const struct nl_analyze_opts *o, const void *mem, size_t mem_len,
                 char *errbuf)
{
    a->stream_cap = o && o->max_stream_bytes ? o->max_stream_bytes : NL_ANALYZE_STREAM_CAP;
    a->listed_cap = o && o->max_listed ? o->max_listed : NL_ANALYZE_LIST_CAP;
    if (nl_ta_open(a, o && o->packets) < 0)
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    if (!o)
        return 0;
    a->keep_streams = o->keep_streams != 0;
    if (o->answers && nl_answers_open(a, nl_pcapr_name(a->rd), mem, mem_len) < 0)
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
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
    if (!!o->expect + !!o->expect_echo + !!o->expect_lines > 1)
        return nl_err(errbuf, NL_EINVAL, "--expect and --expect-echo: give one");
    if (o->expect_lines) {
        a->msgs = (struct nl_messages *)o->expect_lines;
        a->msgs_borrowed = 1;
        a->expect_echo = 1;
    }
    if (o->expect) {
        int rc = nl_messages_load(o->expect, &a->msgs, errbuf);
        if (rc < 0)
            return rc;
    }
    if (o->expect_echo) {
        int rc = nl_expect_echo_load(o->expect_echo, &a->msgs, errbuf);
        if (rc < 0)
            return rc;
        a->expect_echo = 1;
    }
    return 0;
}

/*
 * The packet loop. Packets come decoded from nl_readahead (on a second thread when
 * one pays), and the loop looks at the packets after the one it accounts: the memory
 * a packet's accounting will touch is requested one pointer level at a time as it
 * moves towards the front (its hash slot and its headers in the capture, then its
 * flow record, then the TCP analysis record, then that record's lists), so by its
 * turn those lines have arrived and a capture with thousands of conversations open
 * at once (state well beyond the CPU's caches) costs about what one conversation does. The look ahead
 * only prefetches: process() finds everything again itself, in packet order, so the
 * results are exactly those of a plain loop.
 */
#define AT_ENTRY 16              /* packets before its turn: its decoded record */
#define AT_SLOT 13               /* the hash slot, the packet's headers */
#define AT_FLOW 9                /* the flow record */
#define AT_TA 6                  /* the TCP analysis record */
#define AT_COLD 3                /* its list heads */
#define AT_LISTS 1               /* its lists */

static int run(struct nl_analysis *a, char *errbuf)
{
    int rc;
    char eb[NL_ERRBUF_SIZE];
    struct nl_readahead *ra;
    if ((rc = nl_readahead_open(&ra, a->rd, errbuf)) < 0)
        return rc;
    struct nl_ahead *blk;
    uint32_t n;
    while ((blk = nl_readahead_block(ra, &n, &rc, eb))) {
        for (uint32_t i = 0; i < n; i++) {
            struct nl_ahead *w = &blk[i];
            uint32_t after = n - i - 1; /* the packets after w in its block: w[1] .. w[after] */
            if (after >= AT_ENTRY) /* the decoded packet itself: written by the reading thread */
                for (size_t o = 0; o < sizeof *w; o += 64)
                    __builtin_prefetch((const char *)&w[AT_ENTRY] + o);
            if (after >= AT_SLOT && w[AT_SLOT].keyed) {
                nl_flow_prefetch_slot(&a->ft, w[AT_SLOT].hash);
                /* Its headers in the capture (the copy test compares them, the TCP
                 * analysis reads the options, whose end is the byte before the payload):
                 * the reading thread decoded them on the other core. */
                if (w[AT_SLOT].d.l3)
                    __builtin_prefetch(w[AT_SLOT].d.l3);
                if (w[AT_SLOT].d.payload)
                    __builtin_prefetch(w[AT_SLOT].d.payload - 1);
            }
            if (after >= AT_FLOW && w[AT_FLOW].keyed)
                w[AT_FLOW].flow = nl_flow_prefetch_flow(&a->ft, w[AT_FLOW].hash);
            if (after >= AT_TA && w[AT_TA].flow && w[AT_TA].d.proto == 6)
                nl_ta_prefetch(a, &a->ft.flows[w[AT_TA].flow - 1], 0);
            if (after >= AT_COLD && w[AT_COLD].flow && w[AT_COLD].d.proto == 6)
                nl_ta_prefetch(a, &a->ft.flows[w[AT_COLD].flow - 1], 1);
            if (after >= AT_LISTS && w[AT_LISTS].flow && w[AT_LISTS].d.proto == 6)
                nl_ta_prefetch(a, &a->ft.flows[w[AT_LISTS].flow - 1], 2);
            if ((rc = process(a, w)) < 0) {
                unsigned long long number = (unsigned long long)w->pkt.number;
                nl_readahead_close(ra);
                return nl_err(errbuf, rc, "%s: packet %llu: out of memory", nl_pcapr_name(a->rd), number);
            }
        }
    }
    nl_readahead_close(ra);
    if (rc < 0) {
        a->sum.read_error = rc;
        snprintf(a->read_err, sizeof a->read_err, "%s", eb);
        a->sum.read_error_text = a->read_err;
    }
    if ((rc = finish(a)) < 0)
        return nl_err(errbuf, rc, "%s: out of memory", nl_pcapr_name(a->rd));
    return 0;
}

static int start(struct nl_analysis **out, struct nl_pcapr *rd, const struct nl_analyze_opts *o, const void *mem,
                 size_t mem_len, char *errbuf)
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
    int rc = setup(a, o, mem, mem_len, errbuf);
    if (rc == 0) {
        register_consumers(a);
        rc = run(a, errbuf);
    }
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
    return start(out, rd, o, NULL, 0, errbuf);
}

int nl_analyze_mem(const void *buf, size_t len, const char *name, const struct nl_analyze_opts *o,
                   struct nl_analysis **out, char *errbuf)
{
    *out = NULL;
    struct nl_pcapr *rd;
    int rc = nl_pcapr_open_mem(&rd, buf, len, name, errbuf);
    if (rc < 0)
        return rc;
    return start(out, rd, o, buf, len, errbuf);
}

void nl_analysis_free(struct nl_analysis *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->ft.nflows; i++) {
        nl_flow_ext_free(a->ft.flows[i].ext);
    }
    nl_ta_free_all(a);
    nl_answers_destroy(a->ans);
    for (size_t i = 0; i < a->ntnotes; i++)
        free(a->tnotes[i].text);
    free(a->tnotes);
    nl_flow_table_free(&a->ft);
    for (size_t i = 0; i < a->ntexts; i++)
        free(a->texts[i]);
    free(a->texts);
    free(a->text_len);
    if (!a->msgs_borrowed)
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
    free(a->unexp);
    nl_pcapr_close(a->rd);
    free(a);
}

