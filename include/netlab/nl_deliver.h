/*
 * nl_deliver.h - injector --deliver: a real TCP connection to an unmodified
 * server, made only of packets netlab builds itself (libnet, both checksums
 * cross-checked) and reads back with libpcap: SYN, SYN-ACK, ACK, each message
 * as a segment (retransmitted until acknowledged), the server's data
 * acknowledged, FIN close. The kernel's own reset for the connection it does
 * not know must be suppressed where this runs (the lab does so with nftables,
 * inside its namespace only); if it is not, the run stops and says so.
 */
#ifndef NL_DELIVER_H
#define NL_DELIVER_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>
#include "nl_csv.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nl_deliver_opts {
    uint8_t src_ip[4];        /* this host's address toward the server */
    uint8_t dst_ip[4];
    uint16_t src_port;        /* 0: an ephemeral port from the seed */
    uint16_t dst_port;
    uint16_t mss;             /* advertised and used at most; default 1460 */
    uint16_t window;          /* advertised; default 65535 */
    uint64_t seed;            /* initial sequence number and IP ids; default: from the clock */
    double rto;               /* first retransmission timeout, s; default 0.2, doubled per retry */
    int max_retries;          /* per segment; default 6 */
    double reply_idle;        /* after the last message is acknowledged, wait until the server has been
                                 quiet this long; default 0.5 s */
    uint32_t expect_lines;    /* stop waiting early once this many LF-terminated lines arrived; 0: none */
    int append_newline;       /* send each message followed by LF, as line-based servers expect; default 1 */
    const char *interface;    /* where to read the replies; NULL: the one routing to dst_ip */
    double timeout;           /* whole connection; default 30 s */
};

struct nl_deliver_stats {
    uint32_t packets_sent, retransmissions;
    uint32_t segments_received, duplicates_received, out_of_order;
    uint32_t checksum_bad, checksum_offloaded; /* segments whose TCP checksum was wrong / only partial */
    uint64_t bytes_sent, bytes_received;
    uint32_t messages_acked;
    uint32_t iss, irs;        /* our and the server's initial sequence numbers */
    uint16_t src_port, peer_mss, peer_window;
    int established, closed;  /* handshake completed; FIN exchanged both ways */
    double seconds;
};

struct nl_delivery;  /* opaque */

NL_API void nl_deliver_opts_init(struct nl_deliver_opts *o);

/**
 * Open the connection, send every message, collect the replies, close. Returns
 * 0 when the connection completed, or a negative code: NL_EPERM (privilege),
 * NL_ELIMIT (no answer after the retries / timeout), NL_EMALFORMED (reset by
 * the peer, or by this host's own kernel: errbuf says how to suppress it).
 * *out is set whenever a connection was attempted, also on failure, so the
 * caller can show how far it got.
 */
NL_API int nl_deliver(const struct nl_messages *ms, const struct nl_deliver_opts *o, struct nl_delivery **out, char *errbuf);

NL_API const struct nl_deliver_stats *nl_delivery_stats(const struct nl_delivery *d);
/** The server's byte stream, in order, as acknowledged. */
NL_API const uint8_t *nl_delivery_received(const struct nl_delivery *d, size_t *len);
/** What happened, one line per event ("SYN sent", "retransmitted message 3", ...). */
NL_API size_t nl_delivery_event_count(const struct nl_delivery *d);
NL_API const char *nl_delivery_event(const struct nl_delivery *d, size_t i);
NL_API void nl_delivery_free(struct nl_delivery *d);

#ifdef __cplusplus
}
#endif
#endif
