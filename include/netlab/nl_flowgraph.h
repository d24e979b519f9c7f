/*
 * nl_flowgraph.h - the TCP packets of a capture as rows for a flow graph (the
 * sequence diagram Wireshark draws): per conversation, each segment's frame
 * number, time, direction, flags, relative sequence and acknowledgement
 * numbers and payload length. TCP conversations are numbered 1, 2, ... in order
 * of their first packet (analyze numbers TCP and UDP together and splits reused
 * ports: match its conversations by the two endpoints). For time-sequence
 * graphs each row also carries its advertised window (scaled), an RTT sample
 * when it is an ACK that covers a segment, and simple loss marks.
 */
#ifndef NL_FLOWGRAPH_H
#define NL_FLOWGRAPH_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nl_flow_row {
    uint64_t frame;          /* 1-based, as Wireshark numbers frames */
    int64_t time_ns;
    uint8_t from_a;          /* 1: from endpoint a (the side that sent the first packet or the SYN) */
    uint8_t flags;           /* NL_TCP_* */
    uint32_t rel_seq;        /* relative to the sender's first sequence number (its ISN when the SYN was seen) */
    uint32_t rel_ack;        /* relative to the receiver's, 0 without ACK */
    uint32_t len;            /* TCP payload bytes (tcp.len) */
    uint32_t window;         /* advertised receive window in bytes: scaled by the sender's window-scale
                                shift when both SYNs carried the option (RFC 7323 §2.2; never on a SYN) */
    uint8_t marks;           /* NL_FLOW_MARK_* (simple_loss_marks' rule in nl_flowgraph.c) */
    uint8_t wscale_known;    /* the window is exact: the SYNs were captured (else unscaled as sent) */
    uint64_t rtt_frame;      /* an ACK covering exactly the end of a data segment sent once (Karn's rule,
                                RFC 6298 §3): that segment's frame; 0 otherwise */
    double rtt_ms;           /* with rtt_frame: this ACK's time minus that segment's */
};

/* Loss marks, by a simple rule of nl_flowgraph.c (simple_loss_marks). */
#define NL_FLOW_MARK_RETRANS 1u  /* carries data, a SYN or a FIN starting below the highest sequence already
                                    sent that way (a resent SYN or FIN included) */
#define NL_FLOW_MARK_DUPACK  2u  /* no data, no SYN/FIN/RST, same ACK and window as the previous segment
                                    that way, while the other side has unacknowledged data beyond it */

struct nl_flow_conv {
    uint32_t id;
    char a[64], b[64];       /* "ip:port": a is the client when the SYN was seen */
    size_t nrows;            /* rows kept (at most the cap given) */
    uint64_t total;          /* packets in the conversation */
    struct nl_flow_row *rows;
};

struct nl_flowgraph;  /* opaque */

/** Read a capture; keep at most max_rows rows per conversation (0: 1000). */
NL_API int nl_flowgraph_read(const char *path, size_t max_rows, struct nl_flowgraph **out, char *errbuf);
NL_API size_t nl_flowgraph_count(const struct nl_flowgraph *g);
NL_API const struct nl_flow_conv *nl_flowgraph_conv(const struct nl_flowgraph *g, size_t i);
NL_API void nl_flowgraph_free(struct nl_flowgraph *g);

/**
 * Payload throughput of one direction of a conversation in nbins bins of bin_ns
 * from t0_ns: sent[i] counts every payload byte (retransmissions included),
 * fresh[i] only bytes beyond the highest sequence sent before (new data), both
 * in bits per second. Rows not kept (past max_rows) are not counted.
 */
NL_API int nl_flowgraph_throughput(const struct nl_flow_conv *c, int from_a, int64_t t0_ns, int64_t bin_ns, size_t nbins,
                            double *sent, double *fresh, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
