/*
 * nl_craft.h - turning messages into a coherent TCP/IPv4 conversation: the
 * options (addresses, ports, MSS, handshake, port map), and the plan, which holds
 * every packet built with libnet's builders and cross-checked against netlab's
 * own header model and checksums.
 *
 * How the CSV columns are used:
 *  - src_app/dst_app name the two ends. Each unordered pair of apps (per
 *    app_protocol) is one TCP connection. Its server is the app named with
 *    nl_craft_opts_add_server (--server), else the one whose name contains
 *    "server" when only one does, else the dst_app of its first message. A
 *    message from the server's app flows server -> client on the same
 *    connection, with sequence and acknowledgement numbers coherent both ways.
 *  - app_protocol picks the server port through the port map (--port-map HTTP=80),
 *    otherwise dst_port. Client ports are consecutive from src_port.
 *  - timestamp becomes the packet time (messages without one follow the previous
 *    by 1 ms).
 */
#ifndef NL_CRAFT_H
#define NL_CRAFT_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>
#include "nl_csv.h"
#include "nl_explain.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NL_CRAFT_MAX_MAP 64

struct nl_port_map_entry {
    char protocol[32];  /* compared without regard to case */
    uint16_t port;
};

struct nl_app_addr {
    char app[64];       /* compared exactly */
    uint8_t ip[4];
};

struct nl_craft_opts {
    uint8_t src_ip[4];        /* client side; default 127.0.0.1 */
    uint8_t dst_ip[4];        /* server side; default 127.0.0.1 */
    uint16_t src_port;        /* first client port; 0 = an ephemeral port (32768-60999) from the seed */
    uint16_t dst_port;        /* server port when the port map has no entry; default 12345 */
    uint16_t mss;             /* most payload bytes per segment; default 1460 (1500-byte MTU) */
    uint16_t window;          /* advertised receive window; default 65535 */
    uint8_t ttl;              /* default 64 */
    uint8_t dscp;             /* 6 bits; default 0 */
    uint8_t ecn;              /* 2 bits; default 0 */
    uint8_t dont_fragment;    /* default 1 */
    uint8_t handshake;        /* SYN, SYN-ACK, ACK before; ACKs for data; FIN close after */
    uint64_t seed;            /* initial sequence numbers, IP ids and the ephemeral port; default 1 */
    int64_t start_ns;         /* time of the first packet when the CSV gives none; 0 = now */
    struct nl_port_map_entry port_map[NL_CRAFT_MAX_MAP];
    size_t nport_map;
    struct nl_app_addr app_addr[NL_CRAFT_MAX_MAP];
    size_t napp_addr;
    char servers[NL_CRAFT_MAX_MAP][64];  /* apps that are always the server side */
    size_t nservers;
};

/** Defaults as documented on each field. */
NL_API void nl_craft_opts_init(struct nl_craft_opts *o);

/**
 * Add port-map entries: "HTTP=80", a comma-separated list "HTTP=80,SMTP=25", or
 * "well-known" for the IANA ports of common protocols (HTTP, HTTPS, FTP, SSH,
 * TELNET, SMTP, DNS, POP3, IMAP, IRC, ...). Returns 0 or NL_EINVAL/NL_ELIMIT.
 */
NL_API int nl_craft_opts_add_port_map(struct nl_craft_opts *o, const char *spec, char *errbuf);

/** Add "APP=IPv4" (an address for one app name). Returns 0 or NL_EINVAL/NL_ELIMIT. */
NL_API int nl_craft_opts_add_app_addr(struct nl_craft_opts *o, const char *spec, char *errbuf);

/** Name an app that is always the server end of its connections. */
NL_API int nl_craft_opts_add_server(struct nl_craft_opts *o, const char *app, char *errbuf);

/** Check ranges (MSS 1-65495, window >= 1, TTL >= 1, DSCP < 64, ECN < 4). */
NL_API int nl_craft_opts_validate(const struct nl_craft_opts *o, char *errbuf);

enum nl_pkt_kind {
    NL_PKT_DATA = 0,   /* carries (part of) a message */
    NL_PKT_SYN,        /* handshake 1 */
    NL_PKT_SYNACK,     /* handshake 2 */
    NL_PKT_ACK,        /* handshake 3 */
    NL_PKT_DATA_ACK,   /* pure acknowledgement of received data */
    NL_PKT_FIN,        /* FIN/ACK from either side */
    NL_PKT_LAST_ACK    /* the final ACK of the close */
};

/** Name of a packet kind ("data", "SYN", ...). */
NL_API const char *nl_pkt_kind_name(int kind);

struct nl_conv {
    uint32_t index;             /* 0-based, in order of first appearance */
    const char *client_app;     /* strings belong to the nl_messages */
    const char *server_app;
    const char *app_protocol;
    uint8_t client_ip[4], server_ip[4];
    uint16_t client_port, server_port;
    uint32_t client_isn, server_isn;
    uint32_t messages_c2s, messages_s2c;
    uint64_t bytes_c2s, bytes_s2c;
    uint32_t packets;
};

struct nl_pkt {
    const uint8_t *bytes;       /* the IPv4 packet as libnet built it (owned by the plan) */
    uint32_t len;
    int64_t time_ns;            /* capture timestamp */
    int32_t msg;                /* index of the message carried, -1 for control packets */
    uint16_t segment;           /* 1-based segment of that message */
    uint16_t segments;          /* segments the message was split into */
    uint32_t conv;              /* index into the plan's conversations */
    uint8_t from_client;        /* 1: client -> server */
    uint8_t kind;               /* enum nl_pkt_kind */
    uint8_t tcp_flags;          /* NL_TCP_* control bits */
    uint16_t payload_offset;    /* payload start within bytes */
    uint32_t payload_len;
    uint32_t rel_seq, rel_ack;  /* relative to the ISNs, as Wireshark shows them */
    uint16_t ip_cksum_libnet, ip_cksum_netlab;    /* must agree */
    uint16_t tcp_cksum_libnet, tcp_cksum_netlab;  /* must agree */
};

struct nl_plan;  /* opaque: every packet of the conversation(s) */

/**
 * Build every packet for the messages. Returns 0, or NL_EINVAL (options),
 * NL_ELIB (libnet), NL_EMISMATCH when libnet's bytes and netlab's own model or
 * checksums disagree (errbuf names packet, message and field), NL_ENOMEM.
 * The messages must outlive the plan.
 */
NL_API int nl_plan_build(const struct nl_messages *ms, const struct nl_craft_opts *o, struct nl_plan **out,
                  char *errbuf);

NL_API size_t nl_plan_packet_count(const struct nl_plan *p);
NL_API const struct nl_pkt *nl_plan_packet(const struct nl_plan *p, size_t i);
NL_API size_t nl_plan_conv_count(const struct nl_plan *p);
NL_API const struct nl_conv *nl_plan_conv(const struct nl_plan *p, size_t i);
NL_API const struct nl_messages *nl_plan_messages(const struct nl_plan *p);
/**
 * What explaining packet i needs from the rest of the plan (nl_explain_packet's
 * context): both ISNs, and the window scale as a reader of the written capture
 * sees it: unknown without the handshake, none with it (the plan's SYNs carry MSS only).
 * Returns 0, or NL_EINVAL when i is out of range.
 */
NL_API int nl_plan_explain_ctx(const struct nl_plan *p, size_t i, struct nl_explain_ctx *ctx);
/** Total bytes of all packets. */
NL_API uint64_t nl_plan_bytes(const struct nl_plan *p);
NL_API void nl_plan_free(struct nl_plan *p);

/** Write every packet of a plan as a LINKTYPE_RAW capture at path, through the pcap writer (nl_pcapw.h). */
NL_API int nl_pcap_write_plan(const struct nl_plan *p, const char *path, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
