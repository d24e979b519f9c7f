/*
 * nl_decode.h - one captured packet decoded to a compact summary: link layer,
 * IPv4/IPv6, TCP/UDP/ICMP, payload location, and checksum verdicts (good, bad
 * with the expected value, offload, unverified). Truncated (the capture ends
 * inside a header) and malformed (a header is impossible) are told apart.
 */
#ifndef NL_DECODE_H
#define NL_DECODE_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>
#include "nl_link.h"
#include "nl_pcapr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Outcome of decoding one packet. */
enum nl_dstatus {
    NL_DS_OK = 0,         /* every header present was decoded */
    NL_DS_TRUNCATED = 1,  /* the captured bytes end inside a header */
    NL_DS_MALFORMED = 2   /* a header field is impossible (reason says which) */
};

/* Where decoding stopped (for status != NL_DS_OK). */
enum nl_dlayer { NL_DL_NONE = 0, NL_DL_LINK = 1, NL_DL_NETWORK = 2, NL_DL_TRANSPORT = 3 };

/* A checksum verdict. */
enum nl_ckv {
    NL_CK_NA = 0,          /* no such checksum in this packet */
    NL_CK_GOOD = 1,
    NL_CK_BAD = 2,         /* wrong: expected value recorded */
    NL_CK_OFFLOAD = 3,     /* left for the NIC by the sending host: partial (pseudo-header only) or zero */
    NL_CK_UNVERIFIED = 4,  /* bytes it covers were not all captured */
    NL_CK_ABSENT = 5       /* UDP over IPv4 with checksum 0: none computed (RFC 768) */
};

/* How the checksum field of an offloaded packet looked. */
enum nl_offload_kind { NL_OFFLOAD_NONE = 0, NL_OFFLOAD_PARTIAL = 1, NL_OFFLOAD_ZERO = 2 };

/* What the frame says about where it was captured relative to its sender. */
enum nl_vantage {
    NL_VANTAGE_UNKNOWN = 0,
    NL_VANTAGE_SENDER = 1,    /* outgoing (SLL packet type or pcapng flag) */
    NL_VANTAGE_LOOPBACK = 2,  /* a loopback interface: sender and receiver are one host */
    NL_VANTAGE_RECEIVER = 3   /* incoming on a real interface */
};

#define NL_DECODE_CHECKSUMS 1u  /* verify IPv4, TCP and UDP checksums */

struct nl_decoded {
    struct nl_link link;
    uint8_t status;           /* enum nl_dstatus */
    uint8_t status_at;        /* enum nl_dlayer */
    const char *reason;       /* static text for status != OK, else NULL */
    uint8_t ipver;            /* 0 (not IP), 4 or 6 */
    uint8_t proto;            /* upper-layer protocol number, when ipver */
    uint8_t fragment;         /* an IP fragment: transport not decoded */
    uint8_t has_l4;           /* ports (and the TCP fields) are valid */
    uint8_t vantage;          /* enum nl_vantage */
    uint8_t ttl;              /* hop limit for IPv6 */
    uint16_t ip_id;           /* IPv4 identification */
    uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
    uint16_t sport, dport;
    const uint8_t *l3;        /* network layer, l3_caplen bytes captured (clipped to the IP length) */
    uint32_t l3_caplen;
    uint32_t l3_len;          /* network-layer length as the IP header declares it (clipped to the frame) */
    /* TCP */
    uint8_t tcp_flags;
    uint8_t tcp_hlen;         /* data offset in bytes */
    uint8_t tcp_opts_cut;     /* the options were not all captured */
    uint16_t window;
    uint32_t seq, ack;
    /* ICMP / ICMPv6 */
    uint8_t icmp_type, icmp_code;
    /* Transport payload */
    const uint8_t *payload;   /* payload_caplen bytes captured */
    uint32_t payload_caplen;
    uint32_t payload_len;     /* as the headers declare it (tshark's tcp.len / udp.length - 8) */
    /* Checksums (with NL_DECODE_CHECKSUMS) */
    uint8_t ck_ip, ck_l4;     /* enum nl_ckv */
    uint8_t offload_ip, offload_l4; /* enum nl_offload_kind when NL_CK_OFFLOAD */
    uint16_t ck_ip_found, ck_ip_expected;
    uint16_t ck_l4_found, ck_l4_expected;
};

/**
 * Decode one packet as read by nl_pcapr_next. Never reads past pkt->caplen and
 * never fails: the outcome is in d->status. flags: NL_DECODE_*.
 */
NL_API void nl_decode_packet(const struct nl_frame *pkt, unsigned flags, struct nl_decoded *d);

/** "ok", "truncated", "malformed". */
NL_API const char *nl_dstatus_name(int status);
/** "link", "network", "transport" ("" for none). */
NL_API const char *nl_dlayer_name(int layer);
/** "good", "bad", "offload", "unverified", "none" ("" for NL_CK_NA). */
NL_API const char *nl_ckv_name(int verdict);

/** "ip:port", or "[v6]:port" for IPv6, into out[64]; port < 0 leaves it out. Returns out. */
NL_API char *nl_endpoint_format(int ipver, const uint8_t addr[16], int port, char out[64]);

#ifdef __cplusplus
}
#endif
#endif
