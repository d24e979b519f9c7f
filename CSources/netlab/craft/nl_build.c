/*
 * nl_build.c - TCP/IPv4 construction through libnet's builders and netlab's own
 * encoder, compared byte for byte. libnet computes its checksums in
 * libnet_pblock_coalesce; netlab computes its own with nl_checksum.c.
 * libnet stays inside this file (and nl_inject.c); public headers never see it.
 */
#include "netlab/nl_build.h"
#include "netlab/nl_checksum.h"
#include "nl_internal.h"

#include <libnet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One libnet context per header shape: pblocks are reused by ptag while the
 * shape (TCP options present or not, IP options present or not) stays the same. */
struct shape {
    libnet_t *l;
    libnet_ptag_t tcpopt, tcp, ipopt, ip;
    uint8_t tcp_opts[40], tcp_opts_len;
    uint8_t ip_opts[40], ip_opts_len;
    int used;
};

struct nl_builder {
    struct shape plain;    /* no options anywhere: the data path */
    struct shape options;  /* rebuilt whenever options change */
};

static int shape_open(struct shape *s, char *errbuf)
{
    char lerr[LIBNET_ERRBUF_SIZE];
    memset(s, 0, sizeof *s);
    /* LIBNET_NONE: construct only; no socket, no privilege needed. */
    s->l = libnet_init(LIBNET_NONE, NULL, lerr);
    if (!s->l)
        return nl_err(errbuf, NL_ELIB, "libnet_init(LIBNET_NONE): %s", lerr);
    return 0;
}

int nl_builder_open(struct nl_builder **out, char *errbuf)
{
    struct nl_builder *b = calloc(1, sizeof *b);
    *out = NULL;
    if (!b)
        return nl_err(errbuf, NL_ENOMEM, "builder: out of memory");
    int rc = shape_open(&b->plain, errbuf);
    if (rc == 0)
        rc = shape_open(&b->options, errbuf);
    if (rc < 0) {
        nl_builder_close(b);
        return rc;
    }
    *out = b;
    return 0;
}

void nl_builder_close(struct nl_builder *b)
{
    if (!b)
        return;
    if (b->plain.l)
        libnet_destroy(b->plain.l);
    if (b->options.l)
        libnet_destroy(b->options.l);
    free(b);
}

size_t nl_seg_spec_size(const struct nl_seg_spec *s)
{
    return NL_IPV4_HDR_MIN + s->ip.options_len + NL_TCP_HDR_MIN + s->tcp.options_len + s->payload_len;
}

static int spec_check(const struct nl_seg_spec *s, size_t cap, char *errbuf)
{
    size_t total = nl_seg_spec_size(s);
    if (s->ip.options_len % 4 || s->tcp.options_len % 4 || s->ip.options_len > 40 || s->tcp.options_len > 40)
        return nl_err(errbuf, NL_EINVAL, "options must be a multiple of 4 bytes, at most 40 (IP %u, TCP %u)",
                      s->ip.options_len, s->tcp.options_len);
    if (total > 65535)
        return nl_err(errbuf, NL_ELIMIT, "packet of %zu bytes exceeds the IPv4 maximum of 65535; lower the MSS", total);
    if (total > cap)
        return nl_err(errbuf, NL_ELIMIT, "packet of %zu bytes does not fit the %zu-byte buffer", total, cap);
    return 0;
}

/* Both headers of s with lengths for payload_len data bytes and checksums 0;
 * returns the header bytes written (IPv4 + TCP). */
static size_t encode_headers(const struct nl_seg_spec *s, size_t payload_len, uint8_t *out, size_t *ihl_out)
{
    struct nl_ipv4 ip = s->ip;
    struct nl_tcp tcp = s->tcp;
    ip.version = 4;
    ip.ihl = (uint8_t)(5 + ip.options_len / 4);
    ip.total_len = (uint16_t)(ip.ihl * 4 + NL_TCP_HDR_MIN + tcp.options_len + payload_len);
    ip.checksum = 0;
    tcp.doff = (uint8_t)(5 + tcp.options_len / 4);
    tcp.checksum = 0;
    size_t ihl = nl_ipv4_encode(&ip, out);
    *ihl_out = ihl;
    return ihl + nl_tcp_encode(&tcp, out + ihl);
}

/* Fill in both checksums of headers hdr[0..hdrs) followed by payload (RFC 791, RFC 9293 3.1). */
static void fill_checksums(uint8_t *hdr, size_t ihl, size_t hdrs, const uint8_t *payload, size_t payload_len,
                           const struct nl_seg_spec *s)
{
    nl_put_be16(hdr + 10, nl_ipv4_header_checksum(hdr, ihl));
    uint64_t sum = nl_cksum_pseudo4(s->ip.src, s->ip.dst, s->ip.protocol, (uint16_t)(hdrs - ihl + payload_len));
    sum = nl_cksum_add(sum, hdr + ihl, hdrs - ihl); /* the checksum field is still 0 here */
    sum = nl_cksum_add(sum, payload, payload_len);
    nl_put_be16(hdr + ihl + NL_TCP_CKSUM_OFFSET, nl_cksum_finish(sum));
}

int nl_seg_encode(const struct nl_seg_spec *s, uint8_t *out, size_t cap, size_t *len, char *errbuf)
{
    int rc = spec_check(s, cap, errbuf);
    if (rc < 0)
        return rc;
    size_t ihl;
    size_t hdrs = encode_headers(s, s->payload_len, out, &ihl);
    if (s->payload_len)
        memcpy(out + hdrs, s->payload, s->payload_len);
    fill_checksums(out, ihl, hdrs, s->payload, s->payload_len, s);
    *len = hdrs + s->payload_len;
    return 0;
}

static uint32_t addr32(const uint8_t a[4])
{
    uint32_t v; /* libnet takes addresses in network byte order */
    memcpy(&v, a, 4);
    return v;
}

static int libnet_fail(char *errbuf, libnet_t *l, const char *what)
{
    return nl_err(errbuf, NL_ELIB, "libnet %s: %s", what, libnet_geterror(l));
}

/* Build with libnet into out; returns bytes via *len. */
static int build_libnet(struct nl_builder *b, const struct nl_seg_spec *s, uint8_t *out, size_t *len, char *errbuf)
{
    int has_opts = s->ip.options_len || s->tcp.options_len;
    struct shape *sh = has_opts ? &b->options : &b->plain;
    if (has_opts && sh->used &&
        (sh->tcp_opts_len != s->tcp.options_len || memcmp(sh->tcp_opts, s->tcp.options, s->tcp.options_len) ||
         sh->ip_opts_len != s->ip.options_len || memcmp(sh->ip_opts, s->ip.options, s->ip.options_len))) {
        libnet_clear_packet(sh->l);
        sh->tcpopt = sh->tcp = sh->ipopt = sh->ip = 0;
        sh->used = 0;
    }
    libnet_t *l = sh->l;
    uint32_t tcp_len = (uint32_t)(NL_TCP_HDR_MIN + s->tcp.options_len + s->payload_len);
    /* libnet 1.1.6 builds from the innermost header outwards: TCP options, TCP, IP options, IP. */
    if (s->tcp.options_len && !sh->used) {
        sh->tcpopt = libnet_build_tcp_options(s->tcp.options, s->tcp.options_len, l, 0);
        if (sh->tcpopt == -1)
            return libnet_fail(errbuf, l, "build_tcp_options");
    }
    sh->tcp = libnet_build_tcp(s->tcp.sport, s->tcp.dport, s->tcp.seq, s->tcp.ack, s->tcp.flags, s->tcp.window,
                               0 /* libnet computes */, s->tcp.urgent, tcp_len,
                               s->payload_len ? s->payload : NULL, (uint32_t)s->payload_len, l, sh->tcp);
    if (sh->tcp == -1)
        return libnet_fail(errbuf, l, "build_tcp");
    if (s->ip.options_len && !sh->used) {
        sh->ipopt = libnet_build_ipv4_options(s->ip.options, s->ip.options_len, l, 0);
        if (sh->ipopt == -1)
            return libnet_fail(errbuf, l, "build_ipv4_options");
    }
    uint16_t frag = (uint16_t)((s->ip.flags & 0x7) << 13 | (s->ip.frag_offset & 0x1fff));
    sh->ip = libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + s->ip.options_len + tcp_len),
                               (uint8_t)(s->ip.dscp << 2 | (s->ip.ecn & 3)), s->ip.id, frag, s->ip.ttl,
                               s->ip.protocol, 0 /* libnet computes */, addr32(s->ip.src), addr32(s->ip.dst),
                               NULL, 0, l, sh->ip);
    if (sh->ip == -1)
        return libnet_fail(errbuf, l, "build_ipv4");
    sh->used = 1;
    memcpy(sh->tcp_opts, s->tcp.options, s->tcp.options_len);
    sh->tcp_opts_len = s->tcp.options_len;
    memcpy(sh->ip_opts, s->ip.options, s->ip.options_len);
    sh->ip_opts_len = s->ip.options_len;

    /* With LIBNET_NONE, libnet_adv_cull_packet refuses (it wants an ADV mode);
     * libnet_pblock_coalesce assembles the bytes and runs the checksums. */
    uint8_t *pkt = NULL;
    uint32_t size = 0;
    if (libnet_pblock_coalesce(l, &pkt, &size) == -1)
        return libnet_fail(errbuf, l, "pblock_coalesce");
    size_t want = NL_IPV4_HDR_MIN + s->ip.options_len + tcp_len;
    if (size != want) {
        libnet_adv_free_packet(l, pkt);
        return nl_err(errbuf, NL_EMISMATCH, "libnet built %u bytes where netlab expects %zu", size, want);
    }
    memcpy(out, pkt, size);
    libnet_adv_free_packet(l, pkt);
    *len = size;
    return 0;
}

/* Name the first field where two encodings of the same IPv4/TCP packet differ:
 * returns NL_EMISMATCH with "LAYER FIELD differs at byte N: A 0x.., B 0x..". */
int nl_pkt_diff(const uint8_t *lib, const uint8_t *own, size_t len, size_t ihl, const char *name_a,
                const char *name_b, char *errbuf)
{
    static const struct { size_t off, len; const char *name; } ipf[] = {
        {0, 1, "version/IHL"}, {1, 1, "DSCP/ECN"}, {2, 2, "total length"}, {4, 2, "identification"},
        {6, 2, "flags/fragment offset"}, {8, 1, "TTL"}, {9, 1, "protocol"}, {10, 2, "header checksum"},
        {12, 4, "source address"}, {16, 4, "destination address"}};
    static const struct { size_t off, len; const char *name; } tcpf[] = {
        {0, 2, "source port"}, {2, 2, "destination port"}, {4, 4, "sequence number"},
        {8, 4, "acknowledgment number"}, {12, 1, "data offset"}, {13, 1, "flags"}, {14, 2, "window"},
        {16, 2, "checksum"}, {18, 2, "urgent pointer"}};
    size_t i = 0;
    while (i < len && lib[i] == own[i])
        i++;
    if (i == len)
        return 0;
    const char *layer = "payload", *field = "data";
    size_t foff = i, flen = 1;
    if (i < 20) {
        layer = "IPv4";
        for (size_t k = 0; k < sizeof ipf / sizeof ipf[0]; k++)
            if (i >= ipf[k].off && i < ipf[k].off + ipf[k].len) {
                field = ipf[k].name; foff = ipf[k].off; flen = ipf[k].len;
            }
    } else if (i < ihl) {
        layer = "IPv4"; field = "options";
    } else if (i < ihl + 20) {
        layer = "TCP";
        for (size_t k = 0; k < sizeof tcpf / sizeof tcpf[0]; k++)
            if (i - ihl >= tcpf[k].off && i - ihl < tcpf[k].off + tcpf[k].len) {
                field = tcpf[k].name; foff = ihl + tcpf[k].off; flen = tcpf[k].len;
            }
    } else {
        size_t doff = (size_t)(own[ihl + 12] >> 4) * 4;
        if (i < ihl + doff) {
            layer = "TCP"; field = "options";
        }
    }
    uint32_t a = 0, o = 0;
    for (size_t k = 0; k < flen && foff + k < len; k++) {
        a = a << 8 | lib[foff + k];
        o = o << 8 | own[foff + k];
    }
    return nl_err(errbuf, NL_EMISMATCH, "%s %s differs at byte %zu: %s 0x%0*x, %s 0x%0*x", layer, field, i, name_a,
                  (int)flen * 2, a, name_b, (int)flen * 2, o);
}

int nl_builder_build(struct nl_builder *b, const struct nl_seg_spec *s, uint8_t *out, size_t cap,
                     struct nl_build_result *r, char *errbuf)
{
    int rc = spec_check(s, cap, errbuf);
    if (rc < 0)
        return rc;
    size_t len = 0, own_len = 0;
    rc = build_libnet(b, s, out, &len, errbuf);
    if (rc < 0)
        return rc;
    /* netlab's own headers and checksums, computed without looking at libnet's. */
    uint8_t own[NL_IPV4_HDR_MAX + NL_TCP_HDR_MAX];
    size_t ihl;
    size_t hdrs = encode_headers(s, s->payload_len, own, &ihl);
    fill_checksums(own, ihl, hdrs, s->payload, s->payload_len, s);
    own_len = hdrs + s->payload_len;
    if (own_len != len)
        return nl_err(errbuf, NL_EMISMATCH, "libnet built %zu bytes where netlab encodes %zu", len, own_len);

    r->len = len;
    r->ip_cksum_libnet = nl_get_be16(out + 10);
    r->ip_cksum_netlab = nl_get_be16(own + 10);
    r->tcp_cksum_libnet = nl_get_be16(out + ihl + NL_TCP_CKSUM_OFFSET);
    r->tcp_cksum_netlab = nl_get_be16(own + ihl + NL_TCP_CKSUM_OFFSET);
    if (memcmp(out, own, hdrs) != 0)
        return nl_pkt_diff(out, own, hdrs, ihl, "libnet", "netlab", errbuf);
    if (s->payload_len && memcmp(out + hdrs, s->payload, s->payload_len) != 0)
        return nl_err(errbuf, NL_EMISMATCH, "payload differs between libnet's packet and the message");
    return 0;
}

uint16_t nl_libnet_cksum(const void *buf, size_t len)
{
    /* libnet_in_cksum reads 16-bit words in host order and pads an odd byte
     * like RFC 1071; the folded result is in host order of those words. */
    int sum = libnet_in_cksum((uint16_t *)(uintptr_t)buf, (int)len);
    uint16_t stored = (uint16_t)LIBNET_CKSUM_CARRY(sum); /* folded and complemented, as stored in memory */
    return ntohs(stored); /* the wire bytes read big-endian, as nl_cksum returns */
}
