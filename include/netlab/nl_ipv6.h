/*
 * nl_ipv6.h - netlab's model of the IPv6 header (RFC 8200 3) and the walk over
 * its extension headers (RFC 8200 4: hop-by-hop, routing, fragment, destination
 * options; AH per RFC 4302) to the upper-layer protocol. Address text per RFC 5952.
 */
#ifndef NL_IPV6_H
#define NL_IPV6_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>
#include "nl_cursor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NL_IPV6_HDR_LEN 40
/** Extension headers walked before giving up (NL_ELIMIT). */
#define NL_IPV6_MAX_EXT 16

struct nl_ipv6 {
    uint8_t version;       /* 4 bits */
    uint8_t traffic_class;
    uint32_t flow_label;   /* 20 bits */
    uint16_t payload_len;  /* bytes after the fixed header, extension headers included */
    uint8_t next_header;   /* of the fixed header */
    uint8_t hop_limit;
    uint8_t src[16];
    uint8_t dst[16];
    /* Filled by nl_ipv6_walk_ext: */
    uint8_t proto;         /* upper-layer protocol after the extension headers (59: none) */
    uint8_t n_ext;         /* extension headers walked */
    uint16_t ext_len;      /* their total length in bytes */
    uint8_t is_fragment;   /* a Fragment header was present */
    uint16_t frag_offset;  /* in 8-byte units */
    uint8_t more_fragments;
    uint32_t frag_id;
};

/**
 * Decode the 40-byte fixed header at the cursor. Returns 0, NL_ETRUNC, or
 * NL_EMALFORMED (version != 6). proto is set to next_header.
 */
NL_API int nl_ipv6_decode(struct nl_cursor *c, struct nl_ipv6 *h);

/**
 * Walk the extension headers at the cursor (positioned after the fixed header,
 * ideally clipped to payload_len) and stop at the upper-layer header, leaving
 * the cursor there. Stops early at a non-first fragment (its bytes are not a
 * header) and at ESP. Returns 0, NL_ETRUNC, NL_EMALFORMED or NL_ELIMIT.
 */
NL_API int nl_ipv6_walk_ext(struct nl_cursor *c, struct nl_ipv6 *h);

/** 1 if next-header value nh is an extension header nl_ipv6_walk_ext walks. */
NL_API int nl_ipv6_is_ext(uint8_t nh);

/** Format an address (RFC 5952: lower case, longest zero run as ::) into out[46]; returns out. */
NL_API char *nl_ipv6_format(const uint8_t addr[16], char out[46]);

/** Parse IPv6 text into wire order. NL_EINVAL with a message otherwise. */
NL_API int nl_ipv6_parse_addr(const char *text, uint8_t out[16], char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
