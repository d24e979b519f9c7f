/*
 * nl_analysis.h - the state of one analysis (internal), shared by the files that
 * build it: nl_analyze.c (the pass), nl_streams.c (reassembled bytes),
 * nl_notes.c (plain-language notes) and nl_analysis_read.c (the accessors).
 */
#ifndef NL_ANALYSIS_H
#define NL_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>
#include "netlab/nl_analyze.h"
#include "netlab/nl_csv.h"
#include "netlab/nl_decode.h"
#include "netlab/nl_pcapr.h"
#include "netlab/nl_tcpanalysis.h"
#include "nl_expect.h"
#include "nl_flow.h"
#include "nl_internal.h"
#include "nl_reasm.h"

struct match_rec {
    uint32_t text;
    uint32_t flow;            /* index + 1, 0 if none */
    uint8_t dir, across, protocol;
    uint32_t payload_bytes, offset;
    uint64_t packet, last_packet;
};

struct dup_rec {
    uint64_t packet, original;
    uint32_t flow;
    int64_t delta_ns;
    uint8_t other_iface;
};

struct note_rec {
    const char *kind;
    uint64_t packet;
    uint32_t conversation;
    char *text;
};

struct chunk_rec {
    uint8_t dir;
    uint64_t packet;
    size_t off, len;          /* in follow_buf; gap when is_gap */
    uint8_t is_gap;
};

struct sll2_rec {
    uint32_t ifindex;
    uint64_t packets;
    uint8_t loopback;
};

struct nl_ta_state; /* nl_tcpanalysis.c */

struct unreach_rec {
    uint64_t packet;
    char text[160];
};

/* One decoded packet as the analysis' consumers see it (nl_analyze.c's loop): its
 * conversation and side once the conversations consumer has found them. */
struct nl_pkt_view {
    const struct nl_frame *pkt;
    const struct nl_decoded *d;
    uint32_t hash;            /* the conversation key's hash (TCP or UDP over IP) */
    int dir;                  /* its side in the conversation's key */
    int decoded;              /* a link type netlab decodes */
    struct nl_flow *f;        /* its conversation; NULL before the conversations consumer or outside one */
    int64_t prev_ns;          /* the conversation's latest time before this packet (0 for its first) */
};

/* A consumer of every packet that reaches it: 0 to pass it on, NL_CONSUMED to end its way
 * (later consumers do not see it), <0 an error (out of memory). */
#define NL_CONSUMED 1
struct nl_consumer {
    const char *name;
    int (*packet)(struct nl_analysis *a, struct nl_pkt_view *v);
    unsigned wants;           /* NL_WANT_* of the transports it reads; 0: every packet that reaches it */
};
/* The kinds of packet a consumer may want (NL_WANT_* = 1 << kind). */
enum { NL_KIND_OTHER, NL_KIND_TCP, NL_KIND_UDP, NL_KIND_ICMP, NL_KINDS };
#define NL_WANT_TCP (1u << NL_KIND_TCP)
#define NL_WANT_UDP (1u << NL_KIND_UDP)
#define NL_WANT_ICMP (1u << NL_KIND_ICMP) /* ICMP and ICMPv6 */
#define NL_WANT_OTHER (1u << NL_KIND_OTHER)
#define NL_MAX_CONSUMERS 8
typedef int (*nl_consume_fn)(struct nl_analysis *a, struct nl_pkt_view *v);

struct nl_analysis {
    struct nl_pcapr *rd;
    /* This analysis' consumers, in order, as each kind of packet meets them (registered once,
     * so the loop tests no consumer's wants per packet); NULL ends each list. */
    nl_consume_fn route[NL_KINDS][NL_MAX_CONSUMERS + 1];
    struct nl_flow_table ft;
    struct nl_summary sum;
    char read_err[NL_ERRBUF_SIZE];

    /* options */
    char **texts;
    size_t *text_len;
    size_t ntexts, maxtext;
    uint32_t follow;
    uint64_t stream_cap;
    uint32_t listed_cap;
    struct nl_messages *msgs;
    int msgs_borrowed;        /* msgs belong to the caller (nl_analyze_opts.expect_lines) */
    int keep_streams;         /* every stream's bytes kept (nl_analyze_opts.keep_streams) */

    /* interfaces */
    uint64_t *if_pkts;
    uint8_t *if_loop;
    size_t nif_pkts;
    struct sll2_rec *sll2;
    size_t nsll2, capsll2;
    struct nl_iface_seen *ifaces;
    size_t nifaces;

    /* lists */
    struct nl_badck *bad;
    size_t nbad, capbad;
    struct nl_problem *probs;
    size_t nprobs, capprobs;
    struct dup_rec *dups;
    size_t ndups, capdups;
    struct note_rec *notes;
    size_t nnotes, capnotes;
    struct match_rec *matches;
    size_t nmatches, capmatches;
    struct unreach_rec *unreach;
    size_t nunreach, capunreach;
    uint64_t unreach_total;

    /* --follow */
    uint32_t follow_flow;     /* index + 1 once seen */
    struct chunk_rec *chunks;
    size_t nchunks, capchunks;
    uint8_t *fbuf;
    size_t flen, fcap;

    /* --expect */
    struct nl_expect_rec *exp;
    size_t nexp;
    int expect_echo;
    struct nl_unexpected_rec *unexp;
    size_t nunexp;

    uint64_t stream_bytes;    /* kept for --follow/--expect */
    uint64_t stream_dropped;
    int linktype_set;
    uint64_t snaplen_seen;    /* a snap length that cut packets */

    /* TCP sequence analysis: its own state, opaque here (nl_tcpanalysis.c) */
    struct nl_ta_state *ta;
    struct note_rec *tnotes;    /* TCP notes, appended after the others */
    size_t ntnotes, captnotes;

    /* the answer sheet (nl_analyze_opts.answers): its own state, opaque here (nl_answers.c) */
    struct nl_answers *ans;
};

/* Grow *arr (n used, cap allocated, elem bytes each) for one more item. */
#define GROW(a, arr, n, cap) nl_grow((void **)&(a)->arr, (a)->n, &(a)->cap, sizeof *(a)->arr)

static inline int from_client(const struct nl_flow *f, int dir) { return dir != f->server; }

/* nl_streams.c: the sink of reassembled (or UDP) payload for --find across
 * segments, --follow and --expect; per-flow state created on demand. */
struct sink_ctx {
    struct nl_analysis *a;
    struct nl_flow_ext *ext;
    uint32_t flow;            /* index + 1 */
    uint8_t dir, proto;
};
int nl_stream_sink(void *ctx, const uint8_t *data, size_t len, uint64_t pkt, uint32_t seglen);
struct nl_flow_ext *nl_flow_ext_get(struct nl_flow *f);
void nl_flow_ext_free(struct nl_flow_ext *e); /* NULL allowed */
struct nl_reasm *nl_flow_ext_reasm(struct nl_flow_ext *e, int dir);
const struct nl_stream_store *nl_flow_ext_store(const struct nl_flow_ext *e, int dir);
/* nl_analysis_read.c: conversation id's stream from its client (from_client) or its server, kept with
 * expectations or keep_streams; NULL when none was kept. */
const struct nl_stream_store *nl_analysis_stream(const struct nl_analysis *a, uint32_t conv, int from_client);

/* nl_tcpanalysis.c: bounds of the per-conversation state and Wireshark's thresholds. */
#define NL_TA_UNACKED_CAP 1000u              /* unacknowledged segments kept per direction */
#define NL_TA_RTT_CAP 8192u                  /* RTT samples kept per conversation (then a reservoir) */
#define NL_TA_FAST_RETRANS_NS 20000000       /* a fast retransmission follows the dup ACK within 20 ms */
#define NL_TA_OOO_DEFAULT_NS 3000000         /* out-of-order window without a handshake RTT */
/* A TCP segment whose conversation the conversations consumer found (v->f, v->prev_ns). */
int nl_ta_packet(struct nl_analysis *a, struct nl_pkt_view *v);
void nl_ta_prefetch(const struct nl_analysis *a, const struct nl_flow *f, int stage);
int nl_ta_finish(struct nl_analysis *a);
int nl_ta_open(struct nl_analysis *a, int record_packets); /* its state, before the first packet */
void nl_ta_free_all(struct nl_analysis *a);
uint64_t nl_ta_retransmissions(const struct nl_flow *f);

/* nl_streams.c: the text search in each packet (--find), the reassembled streams (--find
 * across segments, --follow, --expect); at the end the streams' last bytes, the matches in
 * packet order. */
extern const struct nl_consumer nl_find_consumer, nl_streams_consumer;
int nl_streams_end(struct nl_analysis *a);
void nl_find_finish(struct nl_analysis *a);

/* nl_tcpanalysis.c: the TCP analysis of each TCP segment. */
extern const struct nl_consumer nl_ta_consumer;

/* nl_answers.c: the answer sheet, a consumer of TCP segments; open before the first packet
 * (file or mem names the capture for nl_answers_packet), a duplicate copy counted (the
 * conversations consumer ends its way), finish after the servers are decided. */
extern const struct nl_consumer nl_answers_consumer;
int nl_answers_open(struct nl_analysis *a, const char *file, const void *mem, size_t mem_len);
void nl_answers_copy(struct nl_analysis *a, const struct nl_flow *f, int dir, const struct nl_frame *pkt);
int nl_answers_finish(struct nl_analysis *a);
void nl_answers_destroy(struct nl_answers *ans);
/* nl_answers_read.c's wrappers: the answers handed to a caller, owned by their analysis (freed with it). */
void nl_answers_owned_by(struct nl_answers *ans, struct nl_analysis *an);
/* What freeing ans takes: the analysis that owns it (the caller frees that), or NULL when ans was
 * taken from its analysis and is destroyed here. */
struct nl_analysis *nl_answers_let_go(struct nl_answers *ans);

/* nl_notes.c */
int nl_note_tcp(struct nl_analysis *a, const char *kind, uint64_t pkt, uint32_t conv, const char *fmt, ...)
    NL_PRINTF(5, 6);
int nl_notes_packet(struct nl_analysis *a, struct nl_pkt_view *v); /* the unreachable notes of ICMP errors */
int nl_write_notes(struct nl_analysis *a);

#endif
