/*
 * nl_checksum.h - the Internet checksum (RFC 1071), its incremental update
 * (RFC 1624) and the TCP/UDP pseudo-headers for IPv4 (RFC 9293 3.1) and IPv6
 * (RFC 8200 8.1), plus a word-by-word trace of the computation for teaching.
 *
 * Conventions: checksums are returned as host-order values whose big-endian
 * bytes are what goes on the wire (RFC 1071's example gives 0x220d, sent 22 0d).
 * A "partial sum" (uint64_t) accumulates big-endian 16-bit words unfolded.
 */
#ifndef NL_CHECKSUM_H
#define NL_CHECKSUM_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Add the 16-bit big-endian words of data[0..len) to a partial sum.
 * data must start at an even offset of the checksummed region; an odd final
 * byte is padded with a zero byte on the right (RFC 1071 4.1). Any alignment.
 */
NL_API uint64_t nl_cksum_add(uint64_t sum, const void *data, size_t len);

/** Fold a partial sum to 16 bits with end-around carry (not complemented). */
NL_API uint16_t nl_cksum_fold(uint64_t sum);

/** One's complement of the folded sum: the value to store in a header. */
NL_API uint16_t nl_cksum_finish(uint64_t sum);

/** RFC 1071 checksum of a buffer (any length, any alignment, 0 bytes gives 0xffff). */
NL_API uint16_t nl_cksum(const void *data, size_t len);

/**
 * RFC 1624 eqn. 3: new checksum after one 16-bit field changes from old_field to
 * new_field: HC' = ~(~HC + ~m + m').
 */
NL_API uint16_t nl_cksum_update16(uint16_t cksum, uint16_t old_field, uint16_t new_field);

/** As nl_cksum_update16 for a 32-bit field (two words: addresses, sequence numbers). */
NL_API uint16_t nl_cksum_update32(uint16_t cksum, uint32_t old_field, uint32_t new_field);

/**
 * Partial sum of the IPv4 pseudo-header: source, destination, zero, protocol,
 * and the TCP/UDP length (header + data) in bytes. Addresses in wire order.
 */
NL_API uint64_t nl_cksum_pseudo4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, uint16_t length);

/** Partial sum of the IPv6 pseudo-header (RFC 8200 8.1): addresses, 32-bit length, next header. */
NL_API uint64_t nl_cksum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header, uint32_t length);

/**
 * Checksum of a TCP or UDP segment over IPv4: pseudo-header plus the segment, with
 * the 16-bit checksum field at cksum_offset (16 for TCP, 6 for UDP) counted as zero.
 * Returns the value to store. seg_len must be >= cksum_offset + 2.
 */
NL_API uint16_t nl_cksum_l4_ipv4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
                          const uint8_t *seg, size_t seg_len, size_t cksum_offset);

/** As nl_cksum_l4_ipv4 for IPv6. */
NL_API uint16_t nl_cksum_l4_ipv6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
                          const uint8_t *seg, size_t seg_len, size_t cksum_offset);

/* ---- A traced computation, for explaining it word by word. ---- */

enum nl_cksum_part { NL_CK_PSEUDO = 0, NL_CK_HEADER = 1, NL_CK_DATA = 2 };

struct nl_cksum_word {
    uint16_t value;   /* the big-endian word as summed (checksum field shown as 0) */
    uint8_t part;     /* enum nl_cksum_part */
    uint8_t padded;   /* 1 if this word is an odd last byte padded with zero */
    uint32_t offset;  /* byte offset within its part */
};

struct nl_cksum_trace {
    struct nl_cksum_word *words;  /* owned; freed by nl_cksum_trace_free */
    size_t nwords;
    uint32_t sum;          /* plain 32-bit sum of all words, carries not yet folded */
    uint32_t folds[4];     /* the sum after each end-around-carry fold */
    size_t nfolds;
    uint16_t folded;       /* the 16-bit one's complement sum */
    uint16_t checksum;     /* ~folded: the value that belongs in the field */
    uint16_t in_packet;    /* the value found in the packet's field */
    int32_t field_offset;  /* byte offset of the field within the header part, -1 if none */
};

/**
 * Trace the checksum of hdr (header part, containing the checksum field at
 * cksum_offset, treated as zero) and data (may be NULL), after an optional
 * pseudo-header given as raw bytes (may be NULL/0). Returns 0 or NL_ENOMEM.
 */
NL_API int nl_cksum_trace(struct nl_cksum_trace *t, const uint8_t *pseudo, size_t pseudo_len,
                   const uint8_t *hdr, size_t hdr_len, size_t cksum_offset,
                   const uint8_t *data, size_t data_len, char *errbuf);

NL_API void nl_cksum_trace_free(struct nl_cksum_trace *t);

#ifdef __cplusplus
}
#endif
#endif
