/*
 * nl_build.h - one TCP/IPv4 packet built with libnet's builders (LIBNET_NONE:
 * no root) and cross-checked, field by field and checksum by checksum, against
 * netlab's own encoder and RFC 1071 engine.
 */
#ifndef NL_BUILD_H
#define NL_BUILD_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>
#include "nl_ipv4.h"
#include "nl_tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What to build. Length fields and checksums in ip/tcp are computed, not read. */
struct nl_seg_spec {
    struct nl_ipv4 ip;        /* version, ihl, dscp, ecn, id, flags, frag_offset, ttl, protocol, src, dst */
    struct nl_tcp tcp;        /* ports, seq, ack, flags, window, urgent, options (doff follows options_len) */
    const uint8_t *payload;
    size_t payload_len;
};

/** Result of one build: both independent checksum computations. */
struct nl_build_result {
    size_t len;                               /* bytes written */
    uint16_t ip_cksum_libnet, ip_cksum_netlab;
    uint16_t tcp_cksum_libnet, tcp_cksum_netlab;
};

struct nl_builder;  /* opaque: libnet contexts reused from packet to packet */

NL_API int nl_builder_open(struct nl_builder **out, char *errbuf);
NL_API void nl_builder_close(struct nl_builder *b);

/** Bytes a spec needs: 20 + IP options + 20 + TCP options + payload. */
NL_API size_t nl_seg_spec_size(const struct nl_seg_spec *s);

/**
 * Build s into out[0..cap). Returns 0, NL_ELIMIT (over 65535 bytes or cap),
 * NL_ELIB (libnet refused), or NL_EMISMATCH if libnet's bytes differ from
 * netlab's encoding (errbuf names the field and both values).
 */
NL_API int nl_builder_build(struct nl_builder *b, const struct nl_seg_spec *s, uint8_t *out, size_t cap,
                     struct nl_build_result *r, char *errbuf);

/**
 * libnet's own Internet checksum of buf (libnet_in_cksum folded with
 * LIBNET_CKSUM_CARRY), for cross-checking netlab's engine. Same convention as
 * nl_cksum: the value to store, host order.
 */
NL_API uint16_t nl_libnet_cksum(const void *buf, size_t len);

/** netlab's own encoding of s (no libnet), with both checksums computed by netlab. */
NL_API int nl_seg_encode(const struct nl_seg_spec *s, uint8_t *out, size_t cap, size_t *len, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
