/*
 * nl_explain.c - field-by-field explanations of IPv4 (RFC 791, 2474, 3168) and
 * TCP (RFC 9293) headers, with checksum traces from nl_checksum.c. Decodes
 * through nl_ipv4/nl_tcp; produces text for people, never prints it.
 */
#include "netlab/nl_explain.h"
#include "netlab/nl_ipv4.h"
#include "netlab/nl_tcp.h"
#include "nl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 48

const char *nl_layer_name(int layer)
{
    switch (layer) {
    case NL_LAYER_IPV4: return "IPv4";
    case NL_LAYER_TCP: return "TCP";
    case NL_LAYER_PAYLOAD: return "Payload";
    default: return "?";
    }
}

static struct nl_xfield *add(struct nl_explain *x, uint8_t layer, const char *name, unsigned bit, unsigned width,
                             uint64_t value)
{
    if (x->nfields >= MAX_FIELDS)
        return NULL;
    struct nl_xfield *f = &x->fields[x->nfields++];
    memset(f, 0, sizeof *f);
    f->layer = layer;
    snprintf(f->name, sizeof f->name, "%s", name);
    f->bit_offset = (uint16_t)bit;
    f->bit_width = (uint16_t)width;
    f->value = value;
    snprintf(f->value_text, sizeof f->value_text, "%llu", (unsigned long long)value);
    return f;
}

#define TEXT(f, ...) do { if (f) snprintf((f)->value_text, sizeof (f)->value_text, __VA_ARGS__); } while (0)
#define MEAN(f, ...) do { if (f) snprintf((f)->meaning, sizeof (f)->meaning, __VA_ARGS__); } while (0)

static const char *dscp_name(uint8_t d)
{
    switch (d) {
    case 0: return "default forwarding (best effort, CS0)";
    case 8: return "CS1 (low-priority data)";
    case 10: case 12: case 14: return "AF1x (assured forwarding class 1)";
    case 16: return "CS2 (OAM)";
    case 18: case 20: case 22: return "AF2x (assured forwarding class 2)";
    case 24: return "CS3 (broadcast video)";
    case 26: case 28: case 30: return "AF3x (assured forwarding class 3)";
    case 32: return "CS4 (real-time interactive)";
    case 34: case 36: case 38: return "AF4x (assured forwarding class 4)";
    case 40: return "CS5 (signalling)";
    case 46: return "EF (expedited forwarding: voice)";
    case 48: return "CS6 (network control)";
    case 56: return "CS7 (reserved)";
    default: return "a local code point";
    }
}

static const char *ecn_name(uint8_t e)
{
    switch (e) {
    case 0: return "Not-ECT: the sender does not use ECN";
    case 1: return "ECT(1): ECN-capable transport";
    case 2: return "ECT(0): ECN-capable transport";
    default: return "CE: congestion experienced on the path";
    }
}

static const char *port_kind(uint16_t p)
{
    if (p < 1024)
        return "a well-known port (a server's service)";
    if (p >= 32768 && p <= 60999)
        return "in Linux's ephemeral range 32768-60999, where its stack picks a client's port";
    if (p >= 49152)
        return "in the IANA dynamic range 49152-65535 (typically a client's ephemeral port)";
    return "a registered port (1024-49151), often an application server";
}

static void explain_ipv4(struct nl_explain *x, const struct nl_ipv4 *ip, int ck_ok, uint16_t ck_should)
{
    char a[16];
    struct nl_xfield *f;
    f = add(x, NL_LAYER_IPV4, "Version", 0, 4, ip->version);
    MEAN(f, "%u = IPv4", ip->version);
    f = add(x, NL_LAYER_IPV4, "IHL", 4, 4, ip->ihl);
    MEAN(f, "header length: %u 32-bit words = %u bytes%s", ip->ihl, ip->ihl * 4u,
         ip->ihl == 5 ? ", no options" : " including options");
    f = add(x, NL_LAYER_IPV4, "DSCP", 8, 6, ip->dscp);
    MEAN(f, "differentiated services code point: %s", dscp_name(ip->dscp));
    f = add(x, NL_LAYER_IPV4, "ECN", 14, 2, ip->ecn);
    MEAN(f, "explicit congestion notification: %s", ecn_name(ip->ecn));
    f = add(x, NL_LAYER_IPV4, "Total Length", 16, 16, ip->total_len);
    MEAN(f, "whole packet in bytes: %u header + %u TCP segment", ip->ihl * 4u, ip->total_len - ip->ihl * 4u);
    f = add(x, NL_LAYER_IPV4, "Identification", 32, 16, ip->id);
    TEXT(f, "0x%04x (%u)", ip->id, ip->id);
    if (ip->flags & NL_IPV4_DF)
        MEAN(f, "labels the packet so that its fragments can be reassembled (RFC 791); DF is set, so it is never "
                "fragmented and the value matters to no receiver (RFC 6864)");
    else
        MEAN(f, "labels the packet so that its fragments can be reassembled (RFC 791): fragments of one packet "
                "share it");
    f = add(x, NL_LAYER_IPV4, "Reserved flag", 48, 1, (ip->flags >> 2) & 1);
    MEAN(f, "must be 0");
    f = add(x, NL_LAYER_IPV4, "DF", 49, 1, (ip->flags >> 1) & 1);
    MEAN(f, (ip->flags & NL_IPV4_DF) ? "Don't Fragment: routers must drop rather than fragment it (path MTU discovery)"
                                      : "may be fragmented by routers");
    f = add(x, NL_LAYER_IPV4, "MF", 50, 1, ip->flags & 1);
    MEAN(f, (ip->flags & NL_IPV4_MF) ? "More Fragments follow" : "last (here: only) fragment");
    f = add(x, NL_LAYER_IPV4, "Fragment Offset", 51, 13, ip->frag_offset);
    MEAN(f, "position of this fragment in 8-byte units: %u = byte %u%s", ip->frag_offset, ip->frag_offset * 8u,
         ip->frag_offset == 0 ? " (the start)" : "");
    f = add(x, NL_LAYER_IPV4, "TTL", 64, 8, ip->ttl);
    MEAN(f, "time to live: each router subtracts 1 and discards the packet at 0 (%u hops left)", ip->ttl);
    f = add(x, NL_LAYER_IPV4, "Protocol", 72, 8, ip->protocol);
    MEAN(f, "%u = %s, the header that follows", ip->protocol,
         nl_ip_proto_name(ip->protocol) ? nl_ip_proto_name(ip->protocol) : "unknown");
    f = add(x, NL_LAYER_IPV4, "Header Checksum", 80, 16, ip->checksum);
    TEXT(f, "0x%04x", ip->checksum);
    if (ck_ok)
        MEAN(f, "correct: one's complement of the one's complement sum of the header's 16-bit words (RFC 1071)");
    else
        MEAN(f, "WRONG: the header's words give 0x%04x", ck_should);
    f = add(x, NL_LAYER_IPV4, "Source Address", 96, 32, nl_get_be32(ip->src));
    TEXT(f, "%s", nl_ipv4_format(ip->src, a));
    MEAN(f, "sender%s", ip->src[0] == 127 ? " (loopback, 127.0.0.0/8)" : "");
    f = add(x, NL_LAYER_IPV4, "Destination Address", 128, 32, nl_get_be32(ip->dst));
    TEXT(f, "%s", nl_ipv4_format(ip->dst, a));
    MEAN(f, "receiver%s", ip->dst[0] == 127 ? " (loopback, 127.0.0.0/8)" : "");
    if (ip->options_len) {
        f = add(x, NL_LAYER_IPV4, "Options", 160, ip->options_len * 8u, 0);
        TEXT(f, "%u bytes", ip->options_len);
        MEAN(f, "IP options (first type %u)", ip->options[0]);
    }
}

/* 65536 -> "65,536". */
static const char *grouped(uint64_t v, char out[32])
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = 0;
    return out;
}

/*
 * The Window field (RFC 9293 3.1) in bytes: shifted left by the scale the sender
 * announced in its SYN when both SYNs carried the option (RFC 7323 2.2-2.3); a
 * SYN's own window is never scaled.
 */
static void explain_window(struct nl_xfield *f, const struct nl_tcp *t, const struct nl_explain_ctx *ctx)
{
    char a[32], b[32];
    int scale = ctx ? ctx->scale : NL_XSCALE_UNKNOWN;
    if (t->flags & NL_TCP_SYN) {
        MEAN(f, "the sender can receive %s bytes before the other side must wait; a SYN's window is never scaled "
                "(RFC 7323 2.2)", grouped(t->window, a));
    } else if (scale == NL_XSCALE_SHIFT) {
        char peer[64] = "";
        if (!ctx->peer_syn_packet)
            snprintf(peer, sizeof peer, "; the other side's SYN is not in the capture");
        MEAN(f, "the sender can receive %u x 2^%u = %s bytes before the other side must wait: window scale %u from "
                "its SYN's option (packet %llu)%s", t->window, ctx->shift,
             grouped((uint64_t)t->window << ctx->shift, a), ctx->shift, (unsigned long long)ctx->syn_packet, peer);
    } else if (scale == NL_XSCALE_NONE) {
        MEAN(f, "the sender can receive %s bytes before the other side must wait: not scaled, the SYN in packet %llu "
                "carried no window scale option (both must, RFC 7323 2.2)", grouped(t->window, a),
             (unsigned long long)ctx->refused_packet);
    } else {
        MEAN(f, "%u before scaling: the connection's SYNs are not in the capture, so the window scale is unknown "
                "(Wireshark: -1); the sender can receive %u x 2^scale bytes, from %s to %s", t->window, t->window,
             grouped(t->window, a), grouped((uint64_t)t->window << 14, b));
    }
}

static void explain_tcp(struct nl_explain *x, const struct nl_tcp *t, const struct nl_explain_ctx *ctx,
                        size_t payload_len, size_t missing, int ck_ok, uint16_t ck_should)
{
    struct nl_xfield *f;
    f = add(x, NL_LAYER_TCP, "Source Port", 0, 16, t->sport);
    MEAN(f, "sending application's port, %s", port_kind(t->sport));
    f = add(x, NL_LAYER_TCP, "Destination Port", 16, 16, t->dport);
    MEAN(f, "receiving application's port, %s", port_kind(t->dport));
    f = add(x, NL_LAYER_TCP, "Sequence Number", 32, 32, t->seq);
    if (t->flags & NL_TCP_SYN)
        MEAN(f, "initial sequence number (ISN) chosen by the sender; the SYN itself uses one number");
    else if (ctx && ctx->has_isn)
        MEAN(f, "relative %u: position of the first data byte in the sender's stream (ISN + %u)",
             t->seq - ctx->sender_isn, t->seq - ctx->sender_isn);
    else
        MEAN(f, "position of this segment's first data byte in the sender's byte stream");
    f = add(x, NL_LAYER_TCP, "Acknowledgment Number", 64, 32, t->ack);
    if (!(t->flags & NL_TCP_ACK))
        MEAN(f, "not meaningful: the ACK flag is clear");
    else if (ctx && ctx->has_isn)
        MEAN(f, "relative %u: the next byte expected from the other side (everything before it arrived)",
             t->ack - ctx->receiver_isn);
    else
        MEAN(f, "the next sequence number expected from the other side");
    f = add(x, NL_LAYER_TCP, "Data Offset", 96, 4, t->doff);
    MEAN(f, "header length: %u 32-bit words = %u bytes%s", t->doff, t->doff * 4u,
         t->doff == 5 ? ", no options" : " including options");
    f = add(x, NL_LAYER_TCP, "Reserved", 100, 4, t->reserved);
    MEAN(f, "must be 0");
    static const struct { const char *name; uint8_t bit; const char *on, *off; } flags[] = {
        {"CWR", NL_TCP_CWR, "congestion window reduced (ECN)", "no ECN congestion response"},
        {"ECE", NL_TCP_ECE, "ECN echo", "no ECN echo"},
        {"URG", NL_TCP_URG, "urgent pointer is significant", "no urgent data"},
        {"ACK", NL_TCP_ACK, "acknowledgment number is valid (set on every segment after the first SYN)",
         "acknowledgment number not valid"},
        {"PSH", NL_TCP_PSH, "push: deliver to the application now (end of a write)", "no push"},
        {"RST", NL_TCP_RST, "reset: abort the connection", "no reset"},
        {"SYN", NL_TCP_SYN, "synchronize sequence numbers: opens a connection", "not a connection opener"},
        {"FIN", NL_TCP_FIN, "finished: the sender will send no more data", "sender not finished"},
    };
    for (unsigned i = 0; i < 8; i++) {
        f = add(x, NL_LAYER_TCP, flags[i].name, 104 + i, 1, (t->flags & flags[i].bit) ? 1 : 0);
        MEAN(f, "%s", (t->flags & flags[i].bit) ? flags[i].on : flags[i].off);
    }
    f = add(x, NL_LAYER_TCP, "Window", 112, 16, t->window);
    explain_window(f, t, ctx);
    f = add(x, NL_LAYER_TCP, "Checksum", 128, 16, t->checksum);
    TEXT(f, "0x%04x", t->checksum);
    if (missing)
        MEAN(f, "not verifiable: %zu bytes of the segment were not captured", missing);
    else if (ck_ok)
        MEAN(f, "correct: covers the pseudo-header, the TCP header and the %zu data bytes (RFC 9293 3.1)", payload_len);
    else if (ctx && ctx->tcp_offload == NL_XOFFLOAD_PARTIAL)
        MEAN(f, "not filled in (checksum offload): the sending host left it to its network card, so the field holds "
                "only the pseudo-header's sum; the card would write 0x%04x. Not an error in the packet", ck_should);
    else if (ctx && ctx->tcp_offload == NL_XOFFLOAD_ZERO)
        MEAN(f, "not filled in (checksum offload): the sending host left it to its network card, so the field is 0; "
                "the card would write 0x%04x. Not an error in the packet", ck_should);
    else
        MEAN(f, "WRONG: pseudo-header, header and data give 0x%04x", ck_should);
    f = add(x, NL_LAYER_TCP, "Urgent Pointer", 144, 16, t->urgent);
    MEAN(f, (t->flags & NL_TCP_URG) ? "offset of the last urgent byte" : "unused: URG is clear");
    if (t->options_len) {
        struct nl_tcp_opts o;
        f = add(x, NL_LAYER_TCP, "Options", 160, t->options_len * 8u, 0);
        TEXT(f, "%u bytes", t->options_len);
        if (nl_tcp_options_parse(t->options, t->options_len, &o) == 0) {
            char m[160] = "";
            size_t n = 0;
            if (o.has_mss)
                n += (size_t)snprintf(m + n, sizeof m - n, "MSS %u (largest segment the sender accepts) ", o.mss);
            if (o.has_wscale && n < sizeof m)
                n += (size_t)snprintf(m + n, sizeof m - n, "window scale %u ", o.wscale);
            if (o.sack_permitted && n < sizeof m)
                n += (size_t)snprintf(m + n, sizeof m - n, "SACK permitted ");
            if (o.has_ts && n < sizeof m)
                snprintf(m + n, sizeof m - n, "timestamps %u/%u", o.ts_val, o.ts_ecr);
            MEAN(f, "%s", m[0] ? m : "options");
        } else {
            MEAN(f, "malformed options");
        }
    }
}

int nl_explain_packet(const uint8_t *pkt, size_t len, const struct nl_explain_ctx *ctx, struct nl_explain *x,
                      char *errbuf)
{
    memset(x, 0, sizeof *x);
    struct nl_cursor c;
    struct nl_ipv4 ip;
    struct nl_tcp tcp;
    nl_cur_init(&c, pkt, len);
    int rc = nl_ipv4_decode(&c, &ip);
    if (rc == NL_ETRUNC)
        return nl_err(errbuf, rc, "IPv4 header cut off: %zu bytes captured", len);
    if (rc < 0)
        return nl_err(errbuf, rc, "not a valid IPv4 header (version %u, IHL %u)", ip.version, ip.ihl);
    if (ip.protocol != 6)
        return nl_err(errbuf, NL_EINVAL, "IPv4 protocol %u is not TCP", ip.protocol);
    size_t ihl = (size_t)ip.ihl * 4;
    size_t end = NL_MIN((size_t)ip.total_len, len); /* clip to the IP total length */
    if (end < ihl)
        return nl_err(errbuf, NL_ETRUNC, "IPv4 total length %u is shorter than its header", ip.total_len);
    struct nl_cursor tc;
    nl_cur_init(&tc, pkt + ihl, end - ihl);
    rc = nl_tcp_decode(&tc, &tcp);
    if (rc == NL_ETRUNC)
        return nl_err(errbuf, rc, "TCP header cut off: %zu bytes after the IPv4 header", end - ihl);
    if (rc < 0)
        return nl_err(errbuf, rc, "TCP data offset %u is below the minimum of 5", tcp.doff);
    size_t thl = (size_t)tcp.doff * 4;
    size_t payload = end - ihl - thl;

    x->fields = calloc(MAX_FIELDS, sizeof *x->fields);
    if (!x->fields)
        return nl_err(errbuf, NL_ENOMEM, "explain: out of memory");
    rc = nl_cksum_trace(&x->ip, NULL, 0, pkt, ihl, 10, NULL, 0, errbuf);
    if (rc == 0) {
        memcpy(x->pseudo, ip.src, 4);
        memcpy(x->pseudo + 4, ip.dst, 4);
        x->pseudo[8] = 0;
        x->pseudo[9] = ip.protocol;
        nl_put_be16(x->pseudo + 10, (uint16_t)(ip.total_len - ihl)); /* the whole segment, as sent */
        rc = nl_cksum_trace(&x->tcp, x->pseudo, sizeof x->pseudo, pkt + ihl, thl, NL_TCP_CKSUM_OFFSET,
                            payload ? pkt + ihl + thl : NULL, payload, errbuf);
    }
    if (rc < 0) {
        nl_explain_free(x);
        return rc;
    }
    x->ip_ok = x->ip.checksum == ip.checksum;
    x->truncated = len < ip.total_len;
    x->tcp_ok = !x->truncated && x->tcp.checksum == tcp.checksum;
    explain_ipv4(x, &ip, x->ip_ok, x->ip.checksum);
    explain_tcp(x, &tcp, ctx, payload, x->truncated ? ip.total_len - len : 0, x->tcp_ok, x->tcp.checksum);
    struct nl_xfield *f = add(x, NL_LAYER_PAYLOAD, "Data", 0, (unsigned)NL_MIN(payload * 8, 65535u), payload);
    TEXT(f, "%zu bytes", payload);
    MEAN(f, payload ? "the application's message, carried unchanged" : "no application data in this segment");

    x->spans[0] = (struct nl_xspan){NL_LAYER_IPV4, 0, (uint32_t)ihl};
    x->spans[1] = (struct nl_xspan){NL_LAYER_TCP, (uint32_t)ihl, (uint32_t)thl};
    x->nspans = 2;
    if (payload)
        x->spans[x->nspans++] = (struct nl_xspan){NL_LAYER_PAYLOAD, (uint32_t)(ihl + thl), (uint32_t)payload};

    char s[16], d[16], fl[48];
    nl_tcp_flags_str(tcp.flags, fl, sizeof fl);
    /* Win= as Wireshark's Info column shows it: scaled when the scale is known. */
    uint64_t win = tcp.window;
    if (ctx && ctx->scale == NL_XSCALE_SHIFT && !(tcp.flags & NL_TCP_SYN))
        win = (uint64_t)tcp.window << ctx->shift;
    if (ctx && ctx->has_isn)
        snprintf(x->summary, sizeof x->summary, "%s:%u -> %s:%u [%s] Seq=%u Ack=%u Win=%llu Len=%zu",
                 nl_ipv4_format(ip.src, s), tcp.sport, nl_ipv4_format(ip.dst, d), tcp.dport, fl,
                 tcp.seq - ctx->sender_isn, (tcp.flags & NL_TCP_ACK) ? tcp.ack - ctx->receiver_isn : 0,
                 (unsigned long long)win,
                 payload);
    else
        snprintf(x->summary, sizeof x->summary, "%s:%u -> %s:%u [%s] Seq=%u Ack=%u Win=%llu Len=%zu",
                 nl_ipv4_format(ip.src, s), tcp.sport, nl_ipv4_format(ip.dst, d), tcp.dport, fl, tcp.seq, tcp.ack,
                 (unsigned long long)win, payload);
    return 0;
}

void nl_explain_free(struct nl_explain *x)
{
    if (!x)
        return;
    free(x->fields);
    x->fields = NULL;
    x->nfields = 0;
    nl_cksum_trace_free(&x->ip);
    nl_cksum_trace_free(&x->tcp);
}
