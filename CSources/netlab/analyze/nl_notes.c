/*
 * nl_notes.c - the plain-language notes of an analysis: refused connections,
 * kernel resets, handshakes not captured, duplicate copies, checksum offload,
 * bad checksums, snap length, fragments, ICMP port unreachable, and the TCP
 * analysis's notes (worded in nl_tcpanalysis.c). Text only; the
 * findings themselves are made by nl_analyze.c and nl_flow.c.
 */
#include "nl_analysis.h"
#include "netlab/nl_ipv4.h"
#include "netlab/nl_tcp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Notes of one kind listed one by one before a summary note takes over. */
#define NOTES_PER_KIND 20

/* One note appended to a list (*arr, *n used, *cap allocated): the text formatted, then copied. */
static int push_note(struct note_rec **arr, size_t *n, size_t *cap, const char *kind, uint64_t pkt, uint32_t conv,
                     const char *fmt, va_list ap) NL_PRINTF(7, 0);
static int push_note(struct note_rec **arr, size_t *n, size_t *cap, const char *kind, uint64_t pkt, uint32_t conv,
                     const char *fmt, va_list ap)
{
    if (nl_grow((void **)arr, *n, cap, sizeof **arr) < 0)
        return NL_ENOMEM;
    char buf[640];
    vsnprintf(buf, sizeof buf, fmt, ap);
    char *t = strdup(buf);
    if (!t)
        return NL_ENOMEM;
    struct note_rec *r = &(*arr)[(*n)++];
    r->kind = kind;
    r->packet = pkt;
    r->conversation = conv;
    r->text = t;
    return 0;
}

static int add_note(struct nl_analysis *a, const char *kind, uint64_t pkt, uint32_t conv, const char *fmt, ...)
    NL_PRINTF(5, 6);
static int add_note(struct nl_analysis *a, const char *kind, uint64_t pkt, uint32_t conv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = push_note(&a->notes, &a->nnotes, &a->capnotes, kind, pkt, conv, fmt, ap);
    va_end(ap);
    return rc;
}

/* TCP analysis notes: kept apart and appended after the others. */
int nl_note_tcp(struct nl_analysis *a, const char *kind, uint64_t pkt, uint32_t conv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = push_note(&a->tnotes, &a->ntnotes, &a->captnotes, kind, pkt, conv, fmt, ap);
    va_end(ap);
    return rc;
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

/* The notes consumer: an ICMP or ICMPv6 port unreachable (a packet of no conversation). */
int nl_notes_packet(struct nl_analysis *a, struct nl_pkt_view *v)
{
    const struct nl_decoded *d = v->d;
    if (d->has_l4 && (d->proto == 6 || d->proto == 17))
        return 0;
    if (((d->proto == 1 && d->icmp_type == 3 && d->icmp_code == 3) ||
         (d->proto == 58 && d->icmp_type == 1 && d->icmp_code == 4)) && d->status == NL_DS_OK)
        return note_unreachable(a, d, v->pkt);
    return 0;
}

static const char *ep(const struct nl_flow *f, int i, char out[64])
{
    return nl_endpoint_format(f->ipver, f->addr[i], f->port[i], out);
}

/* Every kernel reset of a conversation, not only the first: how many, which packets (first
 * and last), and from which side. */
static int note_kernel_reset(struct nl_analysis *a, const struct nl_flow *f)
{
    uint32_t k0 = f->d[0].kernel_rsts, k1 = f->d[1].kernel_rsts, k = k0 + k1;
    char w0[64], w1[64], which[200], where[200];
    ep(f, 0, w0);
    ep(f, 1, w1);
    if (k1 == 0 || k0 == 0)
        snprintf(where, sizeof where, "the kernel at %s", k0 ? w0 : w1);
    else
        snprintf(where, sizeof where, "the kernels at both ends (%u at %s, %u at %s)", k0, w0, k1, w1);
    unsigned long long p1 = f->krst_first, p2 = f->krst_last;
    if (k == 1)
        snprintf(which, sizeof which, "the reset in packet %llu", p1);
    else if (k == f->rsts && k == 2)
        snprintf(which, sizeof which, "both resets (packets %llu and %llu)", p1, p2);
    else if (k == f->rsts)
        snprintf(which, sizeof which, "all %u resets (packets %llu to %llu)", k, p1, p2);
    else
        snprintf(which, sizeof which, "%u of its %u resets (the first in packet %llu, the last in %llu)", k,
                 f->rsts, p1, p2);
    return add_note(a, "kernel-reset", f->krst_first, f->id,
                    "conversation %u: %s came from %s, not from a "
                    "program: no socket owned this connection there (it was never opened on that host, "
                    "or its socket was already closed), as with hand-crafted packets or traffic sent "
                    "after a program exited",
                    f->id, which, where);
}

/* What each TCP conversation's ends say: a refused connection, a kernel's reset, a handshake
 * the capture missed; the first NOTES_PER_KIND of each, then a count. */
static int notes_conversations(struct nl_analysis *a)
{
    size_t n_refused = 0, n_kernel = 0, n_early = 0;
    int rc = 0;
    char c[64], v[64];

    for (size_t i = 0; i < a->ft.nflows && rc == 0; i++) {
        const struct nl_flow *f = &a->ft.flows[i];
        if (f->proto != 6)
            continue;
        int srv = f->server, cli = !srv;
        /* Endpoints are worded only for the notes written (a capture has many conversations). */
        if (f->refused) {
            if (n_refused++ < NOTES_PER_KIND && ep(f, cli, c) && ep(f, srv, v))
                rc = add_note(a, "refused", f->rst_pkt, f->id,
                              "conversation %u: %s answered the SYN from %s with a reset (packet %llu): nothing "
                              "listened on port %u, so the kernel refused the connection itself; this is what "
                              "\"connection refused\" looks like on the wire",
                              f->id, v, c, (unsigned long long)f->rst_pkt, f->port[srv]);
        } else if (f->kernel_rst && n_kernel++ < NOTES_PER_KIND) {
            rc = note_kernel_reset(a, f);
        }
        if (rc == 0 && !(f->first_flags & NL_TCP_SYN)) {
            if (n_early++ < NOTES_PER_KIND && ep(f, cli, c) && ep(f, srv, v))
                rc = add_note(a, "handshake-not-captured", f->first_pkt, f->id,
                              "conversation %u (%s <-> %s) was already open when the capture started: its "
                              "handshake was not captured, so %s",
                              f->id, c, v,
                              f->basis == NL_SERVER_SYNACK ? "the server is the side that sent the SYN-ACK"
                              : f->basis == NL_SERVER_WELL_KNOWN ? "the server is guessed: the side with the well-known port"
                              : f->basis == NL_SERVER_LOWER_PORT ? "the server is guessed: the side with the lower port"
                                                                 : "the server is guessed");
        } else if (rc == 0 && (f->first_flags & (NL_TCP_SYN | NL_TCP_ACK)) == (NL_TCP_SYN | NL_TCP_ACK)) {
            if (n_early++ < NOTES_PER_KIND && ep(f, cli, c) && ep(f, srv, v))
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

    return rc;
}

/* Duplicate copies, checksums, cut packets, fragments, unreachable ports, the stream cap. */
static int notes_capture(struct nl_analysis *a)
{
    struct nl_summary *s = &a->sum;
    int rc = 0;
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

int nl_write_notes(struct nl_analysis *a)
{
    int rc = notes_conversations(a);
    if (rc == 0)
        rc = notes_capture(a);
    /* The TCP analysis notes, moved over in the order they were made. */
    for (size_t i = 0; i < a->ntnotes && rc == 0; i++) {
        if (GROW(a, notes, nnotes, capnotes) < 0)
            return NL_ENOMEM;
        a->notes[a->nnotes++] = a->tnotes[i];
        a->tnotes[i].text = NULL;
    }
    a->ntnotes = 0;
    return rc;
}

