/*
 * nl_tcpanalysis.h - per-packet TCP sequence analysis with Wireshark's taxonomy
 * (retransmission, fast and spurious retransmission, out-of-order, segments not
 * captured, duplicate ACKs, window problems, keep-alives) and per-conversation
 * figures (options, RTT, throughput, bytes in flight), read from an analysis
 * made by nl_analyze_file. The rules are netlab's own, written to give the same
 * frames as Wireshark's tcp.analysis.* fields (docs/analyze.md: "TCP analysis").
 */
#ifndef NL_TCPANALYSIS_H
#define NL_TCPANALYSIS_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The flags, in the order of tshark's field list. NL_TA_BIT(k) is its bit in a packet's mask. */
enum nl_ta_kind {
    NL_TA_RETRANSMISSION = 0,      /* also set on fast and spurious retransmissions, as in tshark */
    NL_TA_FAST_RETRANSMISSION,
    NL_TA_SPURIOUS_RETRANSMISSION,
    NL_TA_OUT_OF_ORDER,
    NL_TA_LOST_SEGMENT,            /* previous segment not captured */
    NL_TA_ACK_LOST_SEGMENT,        /* ACKed segment that was not captured */
    NL_TA_DUPLICATE_ACK,
    NL_TA_ZERO_WINDOW,
    NL_TA_ZERO_WINDOW_PROBE,
    NL_TA_ZERO_WINDOW_PROBE_ACK,
    NL_TA_WINDOW_FULL,
    NL_TA_WINDOW_UPDATE,
    NL_TA_KEEP_ALIVE,
    NL_TA_KEEP_ALIVE_ACK,
    NL_TA_NKINDS
};
#define NL_TA_BIT(k) (1u << (k))

/* Severity as tshark's expert info gives it. */
enum nl_ta_severity { NL_TA_CHAT = 0, NL_TA_NOTE = 1, NL_TA_WARN = 2 };

/** tshark's field name without "tcp.analysis." ("retransmission"); NULL when out of range. */
NL_API const char *nl_ta_field(int kind);
/** The label of Wireshark's Info column ("TCP Retransmission"). */
NL_API const char *nl_ta_label(int kind);
/** The expert info summary tshark prints ("This frame is a (suspected) retransmission"). */
NL_API const char *nl_ta_summary(int kind);
/** enum nl_ta_severity. */
NL_API int nl_ta_severity(int kind);
/** "Warning", "Note", "Chat". */
NL_API const char *nl_ta_severity_name(int severity);

struct nl_analysis;

/* ---- capture-wide: the frames carrying each flag ---- */

/** Frames carrying the flag in the whole capture. */
NL_API uint64_t nl_analysis_ta_total(const struct nl_analysis *a, int kind);
/** How many of them are listed (at most nl_analyze_opts.max_listed). */
NL_API size_t nl_analysis_ta_listed(const struct nl_analysis *a, int kind);
/** The i-th listed frame number (1-based, in file order); 0 when out of range. */
NL_API uint64_t nl_analysis_ta_frame(const struct nl_analysis *a, int kind, size_t i);

/* ---- per TCP conversation ---- */

struct nl_tcp_figures {
    uint32_t conversation;        /* id */
    uint64_t count[NL_TA_NKINDS]; /* frames carrying each flag */
    /* options of the SYN (client) and SYN-ACK (server); 0 / -1 when absent or not captured */
    uint16_t mss_c2s, mss_s2c;
    int8_t wscale_c2s, wscale_s2c;
    uint8_t sack;                 /* SACK permitted by both */
    uint8_t timestamps;           /* timestamps offered by both */
    uint8_t syn_seen, synack_seen;
    /* RTT: a sample per ACK that covers a segment exactly (tshark's tcp.analysis.ack_rtt) */
    uint64_t rtt_samples;
    double rtt_min_ms, rtt_median_ms, rtt_p95_ms, rtt_max_ms; /* 0 when no samples */
    double handshake_ms;          /* SYN to the ACK of the SYN-ACK (tcp.analysis.initial_rtt); -1 if unknown */
    double throughput_bps_c2s, throughput_bps_s2c; /* payload bits over the conversation's duration */
    uint64_t max_in_flight;       /* largest tcp.analysis.bytes_in_flight */
    uint32_t max_window_c2s, max_window_s2c;  /* largest advertised window, scaled */
    uint64_t data_segments;       /* segments with payload */
    double retransmission_rate;   /* retransmission frames / data segments (0..1) */
};

/** Figures of the conversation at position i (0-based). NL_EINVAL when i is out of range or not TCP. */
NL_API int nl_analysis_tcp_figures(const struct nl_analysis *a, size_t i, struct nl_tcp_figures *out);

/* ---- per packet (only with nl_analyze_opts.packets) ---- */

struct nl_tcp_packet {
    uint64_t packet;              /* frame number */
    int64_t ts_ns;
    uint32_t conversation;
    uint8_t from_client;
    uint8_t tcp_flags;
    uint32_t seq, ack;            /* relative, as Wireshark shows them (ack 0 without the ACK bit) */
    uint32_t len;                 /* tcp.len */
    uint32_t window;              /* scaled when the scale is known */
    uint32_t flags;               /* NL_TA_BIT mask */
    uint32_t dupack_num;          /* duplicate ACK #n, 0 if none */
    uint64_t dupack_frame;        /* the frame it duplicates */
    uint64_t acked_frame;         /* the segment this ACK covers exactly, 0 if none */
    double ack_rtt_ms;            /* with acked_frame */
    uint32_t bytes_in_flight;     /* 0 when not computed */
    /* With lost_segment: this side's bytes before seq the capture lacks (relative, inclusive);
     * 0, 0 otherwise. */
    uint32_t missing_first, missing_last;
    /* With ack_lost_segment: the other side's bytes this ACK covers that the capture never held
     * (relative to that side, inclusive): they crossed the wire but not the capture point. 0, 0
     * otherwise, and when the ACK is more than any window (2^30) beyond: no bytes in flight. */
    uint32_t unseen_first, unseen_last;
};
NL_API size_t nl_analysis_tcp_packet_count(const struct nl_analysis *a);
NL_API void nl_analysis_tcp_packet(const struct nl_analysis *a, size_t i, struct nl_tcp_packet *out);

#ifdef __cplusplus
}
#endif
#endif
