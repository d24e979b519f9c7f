/*
 * nl_tcp.h - netlab's own model of the TCP header (RFC 9293 3.1): decode, encode,
 * options (MSS, window scale, SACK, timestamps), flag names, port text.
 */
#ifndef NL_TCP_H
#define NL_TCP_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>
#include "nl_cursor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NL_TCP_HDR_MIN 20
#define NL_TCP_HDR_MAX 60
#define NL_TCP_CKSUM_OFFSET 16

/* Control bits (RFC 9293 3.1; CWR/ECE from RFC 3168). */
#define NL_TCP_FIN 0x01
#define NL_TCP_SYN 0x02
#define NL_TCP_RST 0x04
#define NL_TCP_PSH 0x08
#define NL_TCP_ACK 0x10
#define NL_TCP_URG 0x20
#define NL_TCP_ECE 0x40
#define NL_TCP_CWR 0x80

struct nl_tcp {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t doff;         /* 4 bits: header length in 32-bit words */
    uint8_t reserved;     /* 4 bits, must be zero */
    uint8_t flags;        /* NL_TCP_* */
    uint16_t window;
    uint16_t checksum;    /* as found (decode) or to write (encode) */
    uint16_t urgent;
    uint8_t options_len;  /* doff*4 - 20 */
    uint8_t options[40];
};

/** Parsed TCP options; the has_* flags say which were present. */
struct nl_tcp_opts {
    int has_mss;   uint16_t mss;
    int has_wscale; uint8_t wscale;
    int sack_permitted;
    int has_ts;    uint32_t ts_val, ts_ecr;
    int nsack;     uint32_t sack[4][2];
};

/**
 * Decode a TCP header at the cursor, options included. Returns 0, NL_ETRUNC if
 * the bytes end inside the header, NL_EMALFORMED if data offset < 5.
 */
NL_API int nl_tcp_decode(struct nl_cursor *c, struct nl_tcp *h);

/** Encode h into out[NL_TCP_HDR_MAX]; returns bytes written (doff*4). */
NL_API size_t nl_tcp_encode(const struct nl_tcp *h, uint8_t *out);

/** Parse an options block. Returns 0 or NL_EMALFORMED (bad length byte) / NL_ETRUNC. */
NL_API int nl_tcp_options_parse(const uint8_t *opt, size_t len, struct nl_tcp_opts *out);

/** Flags as text, Wireshark style: "SYN, ACK" ("" for none). out holds >= 48 bytes. */
NL_API char *nl_tcp_flags_str(uint8_t flags, char *out, size_t out_len);

/** Parse a port number 0-65535 (allow_zero) or 1-65535. what names the option in errors. */
NL_API int nl_parse_port(const char *text, int allow_zero, const char *what, uint16_t *out, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
