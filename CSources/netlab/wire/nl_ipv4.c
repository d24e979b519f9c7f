/*
 * nl_ipv4.c - IPv4 header decode/encode (RFC 791), its checksum and address text.
 * Reads only through nl_cursor; never trusts a length field beyond the bytes given.
 */
#include "netlab/nl_ipv4.h"
#include "netlab/nl_checksum.h"
#include "nl_internal.h"

#include <stdio.h>
#include <string.h>

int nl_ipv4_decode(struct nl_cursor *c, struct nl_ipv4 *h)
{
    const uint8_t *b = nl_cur_bytes(c, NL_IPV4_HDR_MIN);
    if (!b)
        return NL_ETRUNC;
    h->version = b[0] >> 4;
    h->ihl = b[0] & 0x0f;
    h->dscp = b[1] >> 2;
    h->ecn = b[1] & 0x03;
    h->total_len = nl_get_be16(b + 2);
    h->id = nl_get_be16(b + 4);
    h->flags = b[6] >> 5;
    h->frag_offset = nl_get_be16(b + 6) & 0x1fff;
    h->ttl = b[8];
    h->protocol = b[9];
    h->checksum = nl_get_be16(b + 10);
    memcpy(h->src, b + 12, 4);
    memcpy(h->dst, b + 16, 4);
    h->options_len = 0;
    if (h->version != 4 || h->ihl < 5)
        return NL_EMALFORMED;
    size_t olen = (size_t)h->ihl * 4 - NL_IPV4_HDR_MIN;
    if (olen && nl_cur_take(c, h->options, olen) < 0)
        return NL_ETRUNC;
    h->options_len = (uint8_t)olen;
    if (h->total_len < (unsigned)h->ihl * 4)
        return NL_EMALFORMED;
    return 0;
}

size_t nl_ipv4_encode(const struct nl_ipv4 *h, uint8_t *out)
{
    size_t hlen = NL_IPV4_HDR_MIN + h->options_len;
    out[0] = (uint8_t)(h->version << 4 | (h->ihl & 0x0f));
    out[1] = (uint8_t)(h->dscp << 2 | (h->ecn & 0x03));
    nl_put_be16(out + 2, h->total_len);
    nl_put_be16(out + 4, h->id);
    nl_put_be16(out + 6, (uint16_t)((h->flags & 0x7) << 13 | (h->frag_offset & 0x1fff)));
    out[8] = h->ttl;
    out[9] = h->protocol;
    nl_put_be16(out + 10, h->checksum);
    memcpy(out + 12, h->src, 4);
    memcpy(out + 16, h->dst, 4);
    memcpy(out + 20, h->options, h->options_len);
    return hlen;
}

uint16_t nl_ipv4_header_checksum(const uint8_t *hdr, size_t hlen)
{
    /* 20 to 60 bytes: its 16-bit words summed in place (every packet has one, so no
     * call into the bulk engine), the checksum field (bytes 10 and 11) left out. */
#define W(i) ((uint32_t)hdr[i] << 8 | hdr[(i) + 1])
    if (hlen == 20) /* no options: nine words, unrolled */
        return nl_cksum_finish(W(0) + W(2) + W(4) + W(6) + W(8) + W(12) + W(14) + W(16) + W(18));
    uint64_t s = 0; /* any length a caller passes, without wrapping */
    size_t i = 0;
    for (; i + 1 < hlen; i += 2)
        s += i == 10 ? 0 : W(i);
    if (i < hlen && i != 10) /* an odd length (not a real header): the last byte zero-padded */
        s += (uint32_t)hdr[i] << 8;
#undef W
    return nl_cksum_finish(s);
}

int nl_ipv4_parse_addr(const char *text, uint8_t out[4], char *errbuf)
{
    const char *p = text;
    if (!text || !*text)
        return nl_err(errbuf, NL_EINVAL, "IPv4 address is empty: give a dotted quad such as 127.0.0.1");
    for (int i = 0; i < 4; i++) {
        unsigned v = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (unsigned)(*p - '0');
            if (++digits > 3 || v > 255)
                return nl_err(errbuf, NL_EINVAL, "'%s' is not an IPv4 address: part %d is over 255", text, i + 1);
            p++;
        }
        if (!digits)
            return nl_err(errbuf, NL_EINVAL, "'%s' is not an IPv4 address: expected four numbers 0-255 separated by dots", text);
        if (digits > 1 && p[-digits] == '0')
            return nl_err(errbuf, NL_EINVAL, "'%s' is not an IPv4 address: part %d has a leading zero (octal is ambiguous)", text, i + 1);
        out[i] = (uint8_t)v;
        if (i < 3) {
            if (*p != '.')
                return nl_err(errbuf, NL_EINVAL, "'%s' is not an IPv4 address: expected four numbers 0-255 separated by dots", text);
            p++;
        }
    }
    if (*p)
        return nl_err(errbuf, NL_EINVAL, "'%s' is not an IPv4 address: unexpected text after the fourth number", text);
    return 0;
}

char *nl_ipv4_format(const uint8_t addr[4], char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", addr[0], addr[1], addr[2], addr[3]);
    return out;
}

const char *nl_ip_proto_name(uint8_t proto)
{
    switch (proto) {
    case 0: return "HOPOPT";
    case 1: return "ICMP";
    case 2: return "IGMP";
    case 6: return "TCP";
    case 17: return "UDP";
    case 41: return "IPv6";
    case 43: return "IPv6-Route";
    case 44: return "IPv6-Frag";
    case 47: return "GRE";
    case 50: return "ESP";
    case 51: return "AH";
    case 58: return "ICMPv6";
    case 59: return "IPv6-NoNxt";
    case 60: return "IPv6-Opts";
    case 132: return "SCTP";
    default: return NULL;
    }
}
