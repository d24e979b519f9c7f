/*
 * nl_decode.c - one packet to a compact summary (see nl_decode.h): link, network
 * and transport headers through nl_cursor, clipped to the IP length, and the
 * IPv4/TCP/UDP checksum verdicts with offload recognition. Never allocates,
 * never reads past the captured length; keeps no state between packets.
 */
#include "netlab/nl_decode.h"
#include "netlab/nl_checksum.h"
#include "netlab/nl_icmp.h"
#include "netlab/nl_ipv4.h"
#include "netlab/nl_ipv6.h"
#include "netlab/nl_tcp.h"
#include "netlab/nl_udp.h"
#include "netlab/nl_error.h"
#include "nl_internal.h"

#include <stdio.h>
#include <string.h>

static inline void stop(struct nl_decoded *d, int status, int layer, const char *reason)
{
    /* The first finding wins: a malformed IP length noted earlier stays the reason. */
    if (d->status == NL_DS_OK) {
        d->status = (uint8_t)status;
        d->status_at = (uint8_t)layer;
        d->reason = reason;
    }
}

static int is_loopback_pair(const struct nl_decoded *d)
{
    static const uint8_t one6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (d->ipver == 4)
        return d->src[0] == 127 && d->dst[0] == 127;
    return memcmp(d->src, one6, 16) == 0 && memcmp(d->dst, one6, 16) == 0;
}

static uint8_t vantage(const struct nl_frame *pkt, const struct nl_decoded *d)
{
    if (d->link.loopback || is_loopback_pair(d))
        return NL_VANTAGE_LOOPBACK;
    if (d->link.pkttype == NL_PKTTYPE_OUTGOING || pkt->direction == NL_DIR_OUT)
        return NL_VANTAGE_SENDER;
    if (pkt->direction == NL_DIR_IN || d->link.pkttype <= NL_PKTTYPE_OTHERHOST)
        return NL_VANTAGE_RECEIVER;
    return NL_VANTAGE_UNKNOWN;
}

/*
 * Verify a TCP/UDP checksum over seg[0..seglen) (all captured). A sending host
 * that offloads the checksum leaves in the field either the folded pseudo-header
 * sum (Linux CHECKSUM_PARTIAL: the NIC adds the segment) or zero. The partial
 * sum is offload wherever it is seen: only a sending stack writes it, and it
 * reaches a receiver only over a virtual link of the same host (veth, lo). A zero
 * is offload only when the frame shows the sender's side (outgoing, loopback).
 */
static void l4_checksum(struct nl_decoded *d, const uint8_t *seg, uint32_t seglen, size_t off, int is_udp)
{
    uint16_t found = nl_get_be16(seg + off);
    d->ck_l4_found = found;
    if (is_udp && d->ipver == 4 && found == 0) {
        d->ck_l4 = NL_CK_ABSENT;
        return;
    }
    uint64_t pseudo = d->ipver == 4 ? nl_cksum_pseudo4(d->src, d->dst, d->proto, (uint16_t)seglen)
                                    : nl_cksum_pseudo6(d->src, d->dst, d->proto, seglen);
    /* Summing the field too gives 0xffff exactly when it is right (RFC 1071 4.1). */
    uint64_t whole = nl_cksum_add(pseudo, seg, seglen);
    if (nl_cksum_fold(whole) == 0xffff) {
        d->ck_l4 = NL_CK_GOOD;
        d->ck_l4_expected = found;
        return;
    }
    uint16_t expected = d->ipver == 4 ? nl_cksum_l4_ipv4(d->src, d->dst, d->proto, seg, seglen, off)
                                      : nl_cksum_l4_ipv6(d->src, d->dst, d->proto, seg, seglen, off);
    if (is_udp && expected == 0)
        expected = 0xffff; /* RFC 768: a computed zero is sent as all ones */
    d->ck_l4_expected = expected;
    int sender = d->vantage == NL_VANTAGE_SENDER || d->vantage == NL_VANTAGE_LOOPBACK;
    if (found == nl_cksum_fold(pseudo)) {
        d->ck_l4 = NL_CK_OFFLOAD;
        d->offload_l4 = NL_OFFLOAD_PARTIAL;
    } else if (found == 0 && sender) {
        d->ck_l4 = NL_CK_OFFLOAD;
        d->offload_l4 = NL_OFFLOAD_ZERO;
    } else {
        d->ck_l4 = NL_CK_BAD;
    }
}

static void decode_transport(struct nl_decoded *d, struct nl_cursor *c, uint32_t l4_len, unsigned flags)
{
    const uint8_t *seg = c->p;
    uint32_t seg_cap = (uint32_t)nl_cur_left(c);
    switch (d->proto) {
    case 6: {
        struct nl_tcp t;
        if (seg_cap < NL_TCP_HDR_MIN) {
            if (l4_len < NL_TCP_HDR_MIN && seg_cap >= l4_len)
                stop(d, NL_DS_MALFORMED, NL_DL_TRANSPORT, "IP payload shorter than a TCP header");
            else
                stop(d, NL_DS_TRUNCATED, NL_DL_TRANSPORT, "capture ends inside the TCP header");
            return;
        }
        int rc = nl_tcp_decode(c, &t);
        d->has_l4 = 1;
        d->sport = t.sport;
        d->dport = t.dport;
        d->seq = t.seq;
        d->ack = t.ack;
        d->tcp_flags = t.flags;
        d->window = t.window;
        d->tcp_hlen = (uint8_t)(t.doff * 4);
        if (rc == NL_EMALFORMED) {
            d->has_l4 = 0;
            stop(d, NL_DS_MALFORMED, NL_DL_TRANSPORT, "TCP data offset below 5 words");
            return;
        }
        if (d->tcp_hlen > l4_len) {
            d->has_l4 = 0;
            stop(d, NL_DS_MALFORMED, NL_DL_TRANSPORT, "TCP header longer than the IP payload");
            return;
        }
        d->payload_len = l4_len - d->tcp_hlen;
        if (rc == NL_ETRUNC) {
            d->tcp_opts_cut = 1;
            stop(d, NL_DS_TRUNCATED, NL_DL_TRANSPORT, "capture ends inside the TCP options");
            d->payload = seg + seg_cap;
            d->payload_caplen = 0;
            if (flags & NL_DECODE_CHECKSUMS)
                d->ck_l4 = NL_CK_UNVERIFIED;
            return;
        }
        d->payload = c->p;
        d->payload_caplen = (uint32_t)NL_MIN(nl_cur_left(c), (size_t)d->payload_len);
        if (flags & NL_DECODE_CHECKSUMS) {
            if (seg_cap >= l4_len)
                l4_checksum(d, seg, l4_len, NL_TCP_CKSUM_OFFSET, 0);
            else
                d->ck_l4 = NL_CK_UNVERIFIED;
        }
        return;
    }
    case 17: {
        struct nl_udp u;
        int rc = nl_udp_decode(c, &u);
        if (rc == NL_ETRUNC) {
            stop(d, l4_len < NL_UDP_HDR_LEN && seg_cap >= l4_len ? NL_DS_MALFORMED : NL_DS_TRUNCATED,
                 NL_DL_TRANSPORT,
                 l4_len < NL_UDP_HDR_LEN ? "IP payload shorter than a UDP header" : "capture ends inside the UDP header");
            return;
        }
        d->has_l4 = 1;
        d->sport = u.sport;
        d->dport = u.dport;
        if (rc == NL_EMALFORMED || u.length > l4_len) {
            d->has_l4 = 0;
            stop(d, NL_DS_MALFORMED, NL_DL_TRANSPORT,
                 rc == NL_EMALFORMED ? "UDP length below 8" : "UDP length exceeds the IP payload");
            return;
        }
        d->payload_len = u.length - NL_UDP_HDR_LEN;
        d->payload = c->p;
        d->payload_caplen = (uint32_t)NL_MIN(nl_cur_left(c), (size_t)d->payload_len);
        if (flags & NL_DECODE_CHECKSUMS) {
            if (seg_cap >= u.length)
                l4_checksum(d, seg, u.length, NL_UDP_CKSUM_OFFSET, 1);
            else
                d->ck_l4 = NL_CK_UNVERIFIED;
        }
        return;
    }
    case 1:
    case 58: {
        struct nl_icmp ic;
        if ((d->proto == 1) != (d->ipver == 4))
            return; /* ICMP over IPv6 or ICMPv6 over IPv4: counted, not decoded */
        if (nl_icmp_decode(c, &ic) < 0) {
            if (l4_len < NL_ICMP_HDR_LEN && seg_cap >= l4_len)
                stop(d, NL_DS_MALFORMED, NL_DL_TRANSPORT, "IP payload shorter than an ICMP header");
            else
                stop(d, NL_DS_TRUNCATED, NL_DL_TRANSPORT, "capture ends inside the ICMP header");
            return;
        }
        d->icmp_type = ic.type;
        d->icmp_code = ic.code;
        d->payload = c->p; /* errors quote the offending datagram here */
        d->payload_caplen = (uint32_t)nl_cur_left(c);
        d->payload_len = l4_len - NL_ICMP_HDR_LEN;
        return;
    }
    default:
        return;
    }
}

/* The IPv4 header at c: addresses, protocol, the declared length (*declared, clipped to the
 * frame) and header length, the header checksum's verdict, fragments. 1 when decoding stops. */
static int decode_ipv4(const struct nl_frame *pkt, unsigned flags, struct nl_decoded *d, struct nl_cursor *c,
                       uint32_t wire_l3, uint32_t *hlen, uint32_t *declared)
{
    struct nl_ipv4 ip;
    d->ipver = 4;
    size_t avail = nl_cur_left(c);
    int rc = nl_ipv4_decode(c, &ip);
    if (rc == NL_ETRUNC) {
        if (avail >= NL_IPV4_HDR_MIN) { /* options cut: the fixed part was read */
            memcpy(d->src, ip.src, 4);
            memcpy(d->dst, ip.dst, 4);
            d->proto = ip.protocol;
        }
        stop(d, NL_DS_TRUNCATED, NL_DL_NETWORK, "capture ends inside the IPv4 header");
        return 1;
    }
    if (rc == NL_EMALFORMED && (ip.version != 4 || ip.ihl < 5)) {
        stop(d, NL_DS_MALFORMED, NL_DL_NETWORK,
             ip.version != 4 ? "IP version is not 4 in an IPv4 frame" : "IPv4 header length below 20 bytes");
        return 1;
    }
    *hlen = (uint32_t)ip.ihl * 4;
    memcpy(d->src, ip.src, 4);
    memcpy(d->dst, ip.dst, 4);
    d->proto = ip.protocol;
    d->ttl = ip.ttl;
    d->ip_id = ip.id;
    if (ip.total_len == 0) {
        *declared = wire_l3; /* segmentation offload: the stack left the length to the NIC */
    } else if (ip.total_len < *hlen) {
        stop(d, NL_DS_MALFORMED, NL_DL_NETWORK, "IPv4 total length shorter than its header");
        return 1;
    } else if (ip.total_len > wire_l3) {
        stop(d, NL_DS_MALFORMED, NL_DL_NETWORK, "IPv4 total length exceeds the frame");
        *declared = wire_l3;
    } else {
        *declared = ip.total_len;
    }
    d->vantage = vantage(pkt, d);
    if (flags & NL_DECODE_CHECKSUMS) {
        uint16_t exp = nl_ipv4_header_checksum(d->l3, *hlen);
        d->ck_ip_found = ip.checksum;
        d->ck_ip_expected = exp;
        if (exp == ip.checksum || nl_cksum_fold(nl_cksum_add(0, d->l3, *hlen)) == 0xffff)
            d->ck_ip = NL_CK_GOOD;
        else if (ip.checksum == 0 && (d->vantage == NL_VANTAGE_SENDER || d->vantage == NL_VANTAGE_LOOPBACK)) {
            d->ck_ip = NL_CK_OFFLOAD;
            d->offload_ip = NL_OFFLOAD_ZERO;
        } else
            d->ck_ip = NL_CK_BAD;
    }
    if ((ip.flags & NL_IPV4_MF) || ip.frag_offset)
        d->fragment = 1;
    return 0;
}

/* The IPv6 header at c and its extension headers (walked within the declared length). */
static int decode_ipv6(const struct nl_frame *pkt, struct nl_decoded *d, struct nl_cursor *c, uint32_t wire_l3,
                       uint32_t *hlen, uint32_t *declared)
{
    struct nl_ipv6 ip6;
    d->ipver = 6;
    int rc = nl_ipv6_decode(c, &ip6);
    if (rc == NL_ETRUNC) {
        stop(d, NL_DS_TRUNCATED, NL_DL_NETWORK, "capture ends inside the IPv6 header");
        return 1;
    }
    if (rc == NL_EMALFORMED) {
        stop(d, NL_DS_MALFORMED, NL_DL_NETWORK, "IP version is not 6 in an IPv6 frame");
        return 1;
    }
    memcpy(d->src, ip6.src, 16);
    memcpy(d->dst, ip6.dst, 16);
    d->ttl = ip6.hop_limit;
    d->ip_id = 0;
    d->proto = ip6.next_header;
    d->vantage = vantage(pkt, d);
    *declared = NL_IPV6_HDR_LEN + (uint32_t)ip6.payload_len;
    if (ip6.payload_len == 0 && ip6.next_header == 0) {
        stop(d, NL_DS_MALFORMED, NL_DL_NETWORK, "IPv6 jumbogram (payload length 0) is not supported");
        return 1;
    }
    if (*declared > wire_l3) {
        stop(d, NL_DS_MALFORMED, NL_DL_NETWORK, "IPv6 payload length exceeds the frame");
        *declared = wire_l3;
    }
    /* Clip to the declared length before walking extension headers. */
    if ((size_t)(c->end - d->l3) > *declared)
        c->end = d->l3 + *declared;
    rc = nl_ipv6_walk_ext(c, &ip6);
    d->proto = ip6.proto;
    if (rc < 0) {
        stop(d, rc == NL_ETRUNC ? NL_DS_TRUNCATED : NL_DS_MALFORMED, NL_DL_NETWORK,
             rc == NL_ETRUNC ? "capture ends inside an IPv6 extension header"
             : rc == NL_ELIMIT ? "more IPv6 extension headers than netlab walks"
                               : "IPv6 extension header is malformed");
        return 1;
    }
    *hlen = (uint32_t)(c->p - d->l3);
    if (ip6.is_fragment)
        d->fragment = 1;
    return 0;
}

void nl_decode_packet(const struct nl_frame *pkt, unsigned flags, struct nl_decoded *d)
{
    /* Only the fields every path reads are reset; the rest are set where valid. */
    d->status = NL_DS_OK;
    d->status_at = NL_DL_NONE;
    d->reason = NULL;
    d->ipver = 0;
    d->proto = 0;
    d->fragment = 0;
    d->has_l4 = 0;
    d->tcp_flags = 0;
    d->tcp_hlen = 0;
    d->tcp_opts_cut = 0;
    d->payload = NULL;
    d->payload_caplen = 0;
    d->payload_len = 0;
    d->ck_ip = d->ck_l4 = NL_CK_NA;
    d->offload_ip = d->offload_l4 = NL_OFFLOAD_NONE;
    d->l3 = NULL;
    d->l3_caplen = d->l3_len = 0;
    d->vantage = NL_VANTAGE_UNKNOWN;

    if (nl_link_decode(pkt->linktype, pkt->data, pkt->caplen, &d->link) < 0) {
        stop(d, NL_DS_TRUNCATED, NL_DL_LINK, "capture ends inside the link-layer header");
        return;
    }
    uint16_t et = d->link.ethertype;
    if (et != NL_ETHERTYPE_IPV4 && et != NL_ETHERTYPE_IPV6)
        return;
    uint32_t off = d->link.l3_off;
    uint32_t wire_l3 = pkt->len > off ? pkt->len - off : 0;
    struct nl_cursor c;
    nl_cur_init(&c, pkt->data + off, pkt->caplen - off);
    d->l3 = c.p;
    uint32_t hlen, declared;

    if (et == NL_ETHERTYPE_IPV4 ? decode_ipv4(pkt, flags, d, &c, wire_l3, &hlen, &declared)
                                : decode_ipv6(pkt, d, &c, wire_l3, &hlen, &declared))
        return;

    /* Clip to the IP length: bytes after it (Ethernet padding) are not IP. */
    if ((size_t)(c.end - d->l3) > declared)
        c.end = d->l3 + declared;
    if (c.p > c.end) {
        stop(d, NL_DS_MALFORMED, NL_DL_NETWORK, "IP headers longer than the IP length");
        return;
    }
    d->l3_caplen = (uint32_t)(c.end - d->l3);
    d->l3_len = declared;
    if (d->fragment)
        return;
    decode_transport(d, &c, declared > hlen ? declared - hlen : 0, flags);
}

const char *nl_dstatus_name(int status)
{
    switch (status) {
    case NL_DS_OK: return "ok";
    case NL_DS_TRUNCATED: return "truncated";
    case NL_DS_MALFORMED: return "malformed";
    default: return "?";
    }
}

const char *nl_dlayer_name(int layer)
{
    switch (layer) {
    case NL_DL_LINK: return "link";
    case NL_DL_NETWORK: return "network";
    case NL_DL_TRANSPORT: return "transport";
    default: return "";
    }
}

const char *nl_ckv_name(int v)
{
    switch (v) {
    case NL_CK_GOOD: return "good";
    case NL_CK_BAD: return "bad";
    case NL_CK_OFFLOAD: return "offload";
    case NL_CK_UNVERIFIED: return "unverified";
    case NL_CK_ABSENT: return "none";
    default: return "";
    }
}

/* Decimal digits of v at p; returns the end. */
static char *put_dec(char *p, unsigned v)
{
    char tmp[10];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

char *nl_endpoint_format(int ipver, const uint8_t addr[16], int port, char out[64])
{
    if (ipver == 6) {
        char a[46];
        nl_ipv6_format(addr, a);
        if (port >= 0)
            snprintf(out, 64, "[%s]:%d", a, port);
        else
            snprintf(out, 64, "%s", a);
        return out;
    }
    /* IPv4 by hand: this runs once per conversation listed. */
    char *p = out;
    for (int i = 0; i < 4; i++) {
        p = put_dec(p, addr[i]);
        *p++ = i < 3 ? '.' : ':';
    }
    if (port >= 0)
        p = put_dec(p, (unsigned)port);
    else
        p--;
    *p = 0;
    return out;
}
