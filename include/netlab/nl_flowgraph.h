/*
 * nl_flowgraph.h - the TCP packets of a capture as rows for a flow graph (the
 * sequence diagram Wireshark draws): per conversation, each segment's frame
 * number, time, direction, flags, relative sequence and acknowledgement
 * numbers and payload length. The rows are the analysis' own (nl_tcpanalysis:
 * one TCP engine): its conversations (reused ports split, duplicate copies left
 * out), numbered 1, 2, ... among the TCP ones in order of their first packet
 * (analyze numbers TCP and UDP together: match by the two endpoints). For
 * time-sequence graphs each row also carries its advertised window (scaled), the
 * RTT sample of an ACK (tcp.analysis.ack_rtt) and loss marks from the analysis
 * flags.
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
    uint8_t from_a;          /* 1: from endpoint a (the client, as analyze decides it) */
    uint8_t flags;           /* NL_TCP_* */
    uint32_t rel_seq;        /* relative as Wireshark shows it (the ISN when the SYN was seen, else one before the first) */
    uint32_t rel_ack;        /* relative to the receiver's, 0 without ACK */
    uint32_t len;            /* TCP payload bytes (tcp.len) */
    uint32_t window;         /* advertised receive window in bytes: scaled by the sender's window-scale
                                shift when both SYNs carried the option (RFC 7323 §2.2; never on a SYN) */
    uint8_t marks;           /* NL_FLOW_MARK_*, from the segment's tcp.analysis flags */
    uint8_t wscale_known;    /* both SYNs offered a window scale: the window is scaled (else as sent) */
    uint64_t rtt_frame;      /* tcp.analysis.acks_frame: the oldest unacknowledged segment this ACK ends
                                exactly; 0 otherwise */
    double rtt_ms;           /* with rtt_frame: tcp.analysis.ack_rtt in milliseconds */
};

/* Loss marks, from the analysis flags (nl_tcpanalysis decides them). */
#define NL_FLOW_MARK_RETRANS 1u  /* tcp.analysis.retransmission or out_of_order: data, a SYN or a FIN below
                                    the next expected sequence (a resent SYN or FIN included) */
#define NL_FLOW_MARK_DUPACK  2u  /* tcp.analysis.duplicate_ack */

struct nl_flow_conv {
    uint32_t id;
    uint32_t conversation;   /* its number in the analysis (analyze's, TCP and UDP in one sequence) */
    char a[64], b[64];       /* "ip:port": a is the client when the SYN was seen */
    size_t nrows;            /* rows kept (at most the cap given) */
    uint64_t total;          /* packets in the conversation (duplicate copies left out) */
    uint8_t wscale_known;    /* both SYNs offered a window scale */
    struct nl_flow_row *rows;
};

struct nl_flowgraph;  /* opaque */

/** Read a capture (one analysis with its per-segment rows); keep at most max_rows rows per
 *  conversation (0: 1000). */
NL_API int nl_flowgraph_read(const char *path, size_t max_rows, struct nl_flowgraph **out, char *errbuf);
struct nl_analysis;
/** The flow graph of an analysis made with nl_analyze_opts.packets set (without it: no rows),
 *  so a caller that needs every view of a capture reads it once. a stays the caller's. */
NL_API int nl_flowgraph_from_analysis(const struct nl_analysis *a, size_t max_rows, struct nl_flowgraph **out,
                                      char *errbuf);
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
