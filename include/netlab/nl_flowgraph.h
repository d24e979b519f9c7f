/*
 * nl_flowgraph.h - the TCP packets of a capture as rows for a flow graph (the
 * sequence diagram Wireshark draws): per conversation, each segment's frame
 * number, time, direction, flags, relative sequence and acknowledgement
 * numbers and payload length. Conversations are numbered as analyze numbers
 * them (order of first packet).
 */
#ifndef NL_FLOWGRAPH_H
#define NL_FLOWGRAPH_H

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
};

struct nl_flow_conv {
    uint32_t id;
    char a[64], b[64];       /* "ip:port": a is the client when the SYN was seen */
    size_t nrows;            /* rows kept (at most the cap given) */
    uint64_t total;          /* packets in the conversation */
    struct nl_flow_row *rows;
};

struct nl_flowgraph;  /* opaque */

/** Read a capture; keep at most max_rows rows per conversation (0: 1000). */
int nl_flowgraph_read(const char *path, size_t max_rows, struct nl_flowgraph **out, char *errbuf);
size_t nl_flowgraph_count(const struct nl_flowgraph *g);
const struct nl_flow_conv *nl_flowgraph_conv(const struct nl_flowgraph *g, size_t i);
void nl_flowgraph_free(struct nl_flowgraph *g);

#ifdef __cplusplus
}
#endif
#endif
