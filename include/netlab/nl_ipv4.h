/*
 * nl_ipv4.h - netlab's own model of the IPv4 header (RFC 791, DSCP/ECN per
 * RFC 2474/3168): decode from wire bytes through a cursor, encode to bytes,
 * header checksum, and address text. Independent of libnet on purpose.
 */
#ifndef NL_IPV4_H
#define NL_IPV4_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>
#include "nl_cursor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NL_IPV4_HDR_MIN 20
#define NL_IPV4_HDR_MAX 60

/* The 3-bit flags field, most significant first: reserved, DF, MF. */
#define NL_IPV4_RF 0x4
#define NL_IPV4_DF 0x2
#define NL_IPV4_MF 0x1

struct nl_ipv4 {
    uint8_t version;       /* 4 bits */
    uint8_t ihl;           /* 4 bits, header length in 32-bit words */
    uint8_t dscp;          /* 6 bits */
    uint8_t ecn;           /* 2 bits */
    uint16_t total_len;    /* header + payload, bytes */
    uint16_t id;
    uint8_t flags;         /* 3 bits: NL_IPV4_RF | NL_IPV4_DF | NL_IPV4_MF */
    uint16_t frag_offset;  /* 13 bits, in 8-byte units */
    uint8_t ttl;
    uint8_t protocol;
    uint16_t checksum;     /* as found (decode) or to write (encode) */
    uint8_t src[4];        /* wire order */
    uint8_t dst[4];
    uint8_t options_len;   /* ihl*4 - 20 */
    uint8_t options[40];
};

/**
 * Decode an IPv4 header at the cursor (options included) and leave the cursor
 * after it. Returns 0, NL_ETRUNC if the captured bytes end inside the header, or
 * NL_EMALFORMED if version != 4, IHL < 5 or total length < header length.
 */
NL_API int nl_ipv4_decode(struct nl_cursor *c, struct nl_ipv4 *h);

/** Encode h (ihl and options_len must agree) into out[NL_IPV4_HDR_MAX]; returns the bytes written. */
NL_API size_t nl_ipv4_encode(const struct nl_ipv4 *h, uint8_t *out);

/** The header checksum of hdr[0..hlen) with its checksum field (bytes 10-11) counted as zero. */
NL_API uint16_t nl_ipv4_header_checksum(const uint8_t *hdr, size_t hlen);

/** Parse dotted-quad text ("127.0.0.1") into wire order. NL_EINVAL with a message otherwise. */
NL_API int nl_ipv4_parse_addr(const char *text, uint8_t out[4], char *errbuf);

/** Format an address as dotted quad into out[16]; returns out. */
NL_API char *nl_ipv4_format(const uint8_t addr[4], char out[16]);

/** Name of an IP protocol number ("TCP", "UDP", "ICMP", ...) or NULL if not known. */
NL_API const char *nl_ip_proto_name(uint8_t proto);

#ifdef __cplusplus
}
#endif
#endif
