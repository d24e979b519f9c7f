/*
 * nl_reasm.h - TCP stream reassembly (internal): segments in, in-order bytes out
 * through a sink, per direction; out-of-order segments are held (bounded) until
 * the gap fills, bytes never captured are reported as gaps. Plus a growable
 * store of a stream's bytes with the packet each byte came from.
 */
#ifndef NL_REASM_H
#define NL_REASM_H

#include <stddef.h>
#include <stdint.h>

/** Segments held out of order per direction before a gap is declared. */
#define NL_REASM_MAX_HELD_BYTES (4u << 20)
#define NL_REASM_MAX_HELD_SEGS 4096u

/* In-order bytes (data != NULL) or a gap of len bytes never captured (data == NULL),
 * from packet pkt whose payload is seglen bytes long. */
typedef int (*nl_reasm_sink)(void *ctx, const uint8_t *data, size_t len, uint64_t pkt, uint32_t seglen);

struct nl_reasm_seg;

struct nl_reasm {
    uint32_t next;          /* next sequence number expected */
    uint8_t started;
    struct nl_reasm_seg *held;  /* sorted by sequence number */
    size_t held_bytes, held_segs;
    uint64_t delivered, missing;
};

void nl_reasm_init(struct nl_reasm *r);

/**
 * One segment: seq, the payload's declared length len, of which caplen bytes
 * were captured (data). syn: the segment carries SYN (the stream starts at
 * seq + 1). Returns 0, a sink's negative code, or NL_ENOMEM.
 */
int nl_reasm_add(struct nl_reasm *r, int syn, uint32_t seq, const uint8_t *data, uint32_t caplen, uint32_t len,
                 uint64_t pkt, nl_reasm_sink sink, void *ctx);

/** At the end of the capture: deliver what is held, with gaps between. */
int nl_reasm_end(struct nl_reasm *r, nl_reasm_sink sink, void *ctx);

void nl_reasm_free(struct nl_reasm *r);

/* ---- a stream's bytes kept whole (for --follow and --expect) ---- */

struct nl_stream_mark {
    uint64_t offset;        /* first stream byte of this delivery */
    uint64_t pkt;
    uint64_t gap;           /* a gap of this many bytes precedes it (not stored) */
};

struct nl_stream_store {
    uint8_t *data;
    size_t len, cap;
    struct nl_stream_mark *marks;
    size_t nmarks, capmarks;
};

/** Append bytes from packet pkt (data NULL: a gap of len bytes, recorded, not stored). */
int nl_stream_append(struct nl_stream_store *s, const uint8_t *data, size_t len, uint64_t pkt);

/** The packet that delivered the byte at offset (0 when out of range). */
uint64_t nl_stream_packet_at(const struct nl_stream_store *s, size_t offset);

/** The first offset at or after from that a packet numbered above pkt delivered (s->len when none). */
size_t nl_stream_sent_after(const struct nl_stream_store *s, size_t from, uint64_t pkt);

void nl_stream_free(struct nl_stream_store *s);

#endif
