/*
 * nl_udp.c - UDP header decode (RFC 768). Reads only through nl_cursor; the
 * length field is reported as found and checked against the IP payload by the caller.
 */
#include "netlab/nl_udp.h"
#include "netlab/nl_error.h"

int nl_udp_decode(struct nl_cursor *c, struct nl_udp *h)
{
    const uint8_t *b = nl_cur_bytes(c, NL_UDP_HDR_LEN);
    if (!b)
        return NL_ETRUNC;
    h->sport = nl_get_be16(b);
    h->dport = nl_get_be16(b + 2);
    h->length = nl_get_be16(b + 4);
    h->checksum = nl_get_be16(b + 6);
    return h->length < NL_UDP_HDR_LEN ? NL_EMALFORMED : 0;
}
