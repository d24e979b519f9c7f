/*
 * nl_icmp.h - ICMP (RFC 792) and ICMPv6 (RFC 4443, RFC 4861) messages: type and
 * code decode and their names, enough to count and describe them.
 */
#ifndef NL_ICMP_H
#define NL_ICMP_H

#include "nl_api.h"

#include <stdint.h>
#include "nl_cursor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NL_ICMP_HDR_LEN 8

struct nl_icmp {
    uint8_t type, code;
    uint16_t checksum;
    uint16_t id, seq;   /* echo request/reply only */
};

/** Decode the 8-byte header. Returns 0 or NL_ETRUNC. */
NL_API int nl_icmp_decode(struct nl_cursor *c, struct nl_icmp *h);

/** "echo request", "destination unreachable", ...; v6 selects ICMPv6 numbering. Never NULL. */
NL_API const char *nl_icmp_type_name(int v6, uint8_t type);

/** For destination unreachable: "port unreachable", ...; NULL when the code has no name. */
NL_API const char *nl_icmp_unreach_name(int v6, uint8_t code);

#ifdef __cplusplus
}
#endif
#endif
