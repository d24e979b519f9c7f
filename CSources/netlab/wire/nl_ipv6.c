/*
 * nl_ipv6.c - IPv6 fixed header decode and extension-header walk (RFC 8200),
 * address text (RFC 5952). Reads only through nl_cursor; never trusts a length
 * field beyond the bytes given.
 */
#include "netlab/nl_ipv6.h"
#include "netlab/nl_error.h"
#include "nl_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int nl_ipv6_decode(struct nl_cursor *c, struct nl_ipv6 *h)
{
    const uint8_t *b = nl_cur_bytes(c, NL_IPV6_HDR_LEN);
    memset(h, 0, sizeof *h);
    if (!b)
        return NL_ETRUNC;
    uint32_t w = nl_get_be32(b);
    h->version = (uint8_t)(w >> 28);
    h->traffic_class = (uint8_t)(w >> 20);
    h->flow_label = w & 0xfffff;
    h->payload_len = nl_get_be16(b + 4);
    h->next_header = b[6];
    h->hop_limit = b[7];
    memcpy(h->src, b + 8, 16);
    memcpy(h->dst, b + 24, 16);
    h->proto = h->next_header;
    return h->version == 6 ? 0 : NL_EMALFORMED;
}

int nl_ipv6_is_ext(uint8_t nh)
{
    switch (nh) {
    case 0:   /* hop-by-hop options */
    case 43:  /* routing */
    case 44:  /* fragment */
    case 51:  /* authentication header */
    case 60:  /* destination options */
    case 135: /* mobility */
    case 139: /* HIP */
    case 140: /* shim6 */
        return 1;
    default:
        return 0;
    }
}

int nl_ipv6_walk_ext(struct nl_cursor *c, struct nl_ipv6 *h)
{
    uint8_t nh = h->next_header;
    const uint8_t *start = c->p;
    while (nl_ipv6_is_ext(nh)) {
        if (h->n_ext >= NL_IPV6_MAX_EXT)
            return NL_ELIMIT;
        const uint8_t *b = nl_cur_bytes(c, 2);
        if (!b)
            return NL_ETRUNC;
        uint8_t next = b[0];
        size_t len;
        if (nh == 44) {
            len = 8; /* fixed size; its second byte is reserved */
            const uint8_t *f = nl_cur_bytes(c, 6);
            if (!f)
                return NL_ETRUNC;
            uint16_t off = nl_get_be16(f);
            h->is_fragment = 1;
            h->frag_offset = off >> 3;
            h->more_fragments = off & 1;
            h->frag_id = nl_get_be32(f + 2);
            h->n_ext++;
            nh = next;
            if (h->frag_offset != 0) /* what follows is the middle of a payload */
                break;
            continue;
        }
        len = nh == 51 ? ((size_t)b[1] + 2) * 4 : ((size_t)b[1] + 1) * 8;
        nl_cur_skip(c, len - 2);
        if (c->err)
            return NL_ETRUNC;
        h->n_ext++;
        nh = next;
    }
    h->proto = nh;
    h->ext_len = (uint16_t)(c->p - start);
    return 0;
}

char *nl_ipv6_format(const uint8_t addr[16], char out[46])
{
    if (!inet_ntop(AF_INET6, addr, out, 46))
        snprintf(out, 46, "?");
    return out;
}

int nl_ipv6_parse_addr(const char *text, uint8_t out[16], char *errbuf)
{
    if (!text || inet_pton(AF_INET6, text, out) != 1)
        return nl_err(errbuf, NL_EINVAL, "'%s' is not an IPv6 address (e.g. ::1 or fe80::1)", text ? text : "");
    return 0;
}
