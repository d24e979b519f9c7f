/*
 * nl_explain.h - an IPv4/TCP packet explained for people: every header field
 * (name, bit position and width, value, meaning), both checksums worked out word
 * by word, and the byte ranges of each layer for a hex dump. Content only:
 * rendering (text tables, colour, JSON) is the caller's.
 */
#ifndef NL_EXPLAIN_H
#define NL_EXPLAIN_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>
#include "nl_checksum.h"

#ifdef __cplusplus
extern "C" {
#endif

enum nl_layer { NL_LAYER_IPV4 = 0, NL_LAYER_TCP = 1, NL_LAYER_PAYLOAD = 2 };

/** Name of a layer: "IPv4", "TCP", "Payload". */
NL_API const char *nl_layer_name(int layer);

struct nl_xfield {
    uint8_t layer;          /* enum nl_layer */
    char name[32];
    uint16_t bit_offset;    /* from the start of its layer's header */
    uint16_t bit_width;
    uint64_t value;
    char value_text[64];    /* value as people write it: "127.0.0.1", "0x4000", "PSH, ACK" */
    char meaning[256];
};

struct nl_xspan {
    uint8_t layer;
    uint32_t offset, len;   /* byte range within the packet */
};

/*
 * How the sender's Window field is scaled (RFC 7323 2.2-2.3), as far as what was
 * captured before the packet shows it; Wireshark's tcp.window_size_scalefactor
 * says the same (-1 unknown, -2 not used, else 2^shift).
 */
enum nl_xscale {
    NL_XSCALE_UNKNOWN = 0,  /* the SYNs are not in the capture: the scale cannot be known */
    NL_XSCALE_NONE = 1,     /* a SYN without the option: no window of this connection is scaled */
    NL_XSCALE_SHIFT = 2     /* the sender's SYN offered `shift` (and the other's did not refuse) */
};

/* The sending host left the TCP checksum to its network card (nl_decode's
 * NL_OFFLOAD_PARTIAL / NL_OFFLOAD_ZERO, decided where the frame shows the sender). */
enum nl_xoffload { NL_XOFFLOAD_NONE = 0, NL_XOFFLOAD_PARTIAL = 1, NL_XOFFLOAD_ZERO = 2 };

/** Optional context: what the rest of the capture tells about this packet. Zeroed: nothing known. */
struct nl_explain_ctx {
    int has_isn;            /* initial sequence numbers make relative numbers possible */
    uint32_t sender_isn;    /* ISN of the side that sent this packet */
    uint32_t receiver_isn;  /* ISN of the other side */
    int scale;              /* enum nl_xscale */
    uint8_t shift;          /* NL_XSCALE_SHIFT: the sender's shift count, 0-14 */
    uint64_t syn_packet;    /* frame number of the sender's SYN or SYN-ACK; 0: not captured */
    uint64_t peer_syn_packet; /* the other side's; 0: not captured */
    uint64_t refused_packet;  /* NL_XSCALE_NONE: the SYN that carried no window scale option */
    int tcp_offload;        /* enum nl_xoffload */
};

struct nl_explain {
    struct nl_xfield *fields;  /* owned */
    size_t nfields;
    struct nl_xspan spans[3];
    size_t nspans;
    struct nl_cksum_trace ip;  /* IPv4 header checksum, header words only */
    struct nl_cksum_trace tcp; /* TCP checksum: pseudo-header, header, data */
    uint8_t pseudo[12];        /* the IPv4 pseudo-header bytes (RFC 9293 3.1) */
    int ip_ok, tcp_ok;         /* the checksum in the packet equals the computed one */
    int truncated;             /* fewer bytes than the IPv4 total length: the TCP checksum is not verifiable */
    char summary[192];         /* "127.0.0.1:40000 -> 127.0.0.1:12345 [PSH, ACK] Seq=1 Ack=1 Len=5" */
};

/**
 * Explain an IPv4 packet carrying TCP. ctx may be NULL. Returns 0, NL_ETRUNC,
 * NL_EMALFORMED, NL_EINVAL (not TCP), NL_ENOMEM. Free with nl_explain_free.
 */
NL_API int nl_explain_packet(const uint8_t *pkt, size_t len, const struct nl_explain_ctx *ctx, struct nl_explain *x,
                      char *errbuf);

NL_API void nl_explain_free(struct nl_explain *x);

#ifdef __cplusplus
}
#endif
#endif
