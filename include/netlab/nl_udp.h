/*
 * nl_udp.h - netlab's model of the UDP header (RFC 768): decode through a
 * cursor. The checksum rules (optional over IPv4, mandatory over IPv6 per
 * RFC 8200 8.1) are applied by nl_decode.
 */
#ifndef NL_UDP_H
#define NL_UDP_H

#include "nl_api.h"

#include <stdint.h>
#include "nl_cursor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NL_UDP_HDR_LEN 8
#define NL_UDP_CKSUM_OFFSET 6

struct nl_udp {
    uint16_t sport, dport;
    uint16_t length;    /* header + data, bytes, as found */
    uint16_t checksum;  /* as found; 0 = none (IPv4 only) */
};

/** Decode the 8-byte header. Returns 0, NL_ETRUNC, or NL_EMALFORMED (length < 8). */
NL_API int nl_udp_decode(struct nl_cursor *c, struct nl_udp *h);

#ifdef __cplusplus
}
#endif
#endif
