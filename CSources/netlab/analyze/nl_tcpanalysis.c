/*
 * nl_tcpanalysis.c - TCP sequence analysis per packet (see nl_tcpanalysis.h):
 * the state each direction of a conversation needs to tell a retransmission
 * from an out-of-order segment, duplicate ACKs, window problems and
 * keep-alives, as Wireshark's expert analysis names them; RTT samples, bytes in
 * flight, options. Bounded per conversation: a 192-byte record in slabs (hot
 * state one cache line per direction) kept to the end; while open, a pooled cold
 * part with at most NL_TA_UNACKED_CAP unacknowledged segments per direction,
 * NL_TA_RTT_CAP RTT samples (then a uniform reservoir) and the latest SACK blocks,
 * returned at the close; a rare part (counts, zero-window and keep-alive details)
 * only once a flag occurs. Notes are worded here, stored by nl_notes.c. Also the
 * window scale of one connection for explaining a single packet (nl_wscale.h), by
 * the same SYN rule.
 */
#include "netlab/nl_time.h"
#include "nl_analysis.h"
#include "netlab/nl_tcp.h"
#include "netlab/nl_tcpanalysis.h"
#include "nl_wscale.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_LE(a, b) ((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)
#define SEQ_GE(a, b) ((int32_t)((a) - (b)) >= 0)

#define FL_SYN NL_TCP_SYN
#define FL_FIN NL_TCP_FIN
#define FL_RST NL_TCP_RST
#define FL_ACK NL_TCP_ACK

/* Individual notes of each kind before a count takes over. */
#define TA_NOTES_PER_KIND 5

struct ta_seg {
    uint32_t seq, nextseq;
    uint64_t frame;
    int64_t ts;
};

/* Bits of ta_dir.st */
#define ST_BASE 1u         /* base_seq set */
#define ST_VALID_BIF 2u    /* bytes in flight can be computed */
#define ST_WIN_SYN 4u      /* the latest window came from a SYN (unscaled) */
#define ST_FIN 8u          /* this side sent a FIN */
#define ST_ZW_OPEN 16u     /* a zero-window episode this side announced is open */
/* Bits of ta_dir.lastflags: the analysis flags of the latest segment the rules read back. */
#define LF_KA 1u
#define LF_ZWP 2u
/* Bits of nl_ta_conv.opt[dir] (the SYN's options) */
#define OPT_MSS 1u
#define OPT_SACK 2u
#define OPT_TS 4u

/* The hot state of one direction: what every segment reads or writes, one cache line.
 * Frame numbers are kept as offsets from the conversation's first packet, plus one (0: none). */
struct ta_dir {
    int64_t nextseq_ts, lastack_ts;
    uint32_t base_seq;
    uint32_t nextseq;          /* highest sequence sent + 1; 0: nothing yet (as Wireshark) */
    uint32_t maxseqtobeacked;  /* end of the contiguous data seen */
    uint32_t lastack;          /* ack field of the latest segment */
    uint32_t window;           /* raw window field of the latest segment; ~0 before any */
    uint32_t max_window;       /* scaled */
    uint32_t nextseq_frame, lastack_frame, lastnondupack; /* offsets, see above */
    int32_t dupacknum;         /* -1: an ACKed unseen segment was reported */
    uint32_t data_segments;
    int8_t win_scale;          /* -1 unknown, -2 not used, else the shift */
    uint8_t st;                /* ST_* */
    uint8_t lastflags;         /* LF_* */
    uint8_t nsack;             /* SACK blocks of the latest segment (kept in the cold part) */
};

/* Segments sent while a direction's list was full: not listed one by one, but their span
 * (so bytes in flight stay exact) and the newest of them (so the cumulative ACK that covers
 * them all still gives its RTT sample, as tshark's longer list does). */
struct ta_spill {
    uint32_t lo, hi;           /* sequence span [lo, hi) not yet acknowledged; lo == hi: none */
    uint32_t n;                /* segments spilled since the span was last empty */
    struct ta_seg tail;        /* the newest spilled segment; frame 0: acknowledged or none */
};

/* Kept only while a conversation is open (then returned to a pool, see ta_cold_put):
 * the unacknowledged segments, the RTT samples, the latest SACK blocks. */
struct ta_cold {
    struct ta_seg *segs[2];    /* unacknowledged segments per direction, oldest first */
    uint32_t nsegs[2], capsegs[2];
    struct ta_spill spill[2];  /* beyond NL_TA_UNACKED_CAP */
    uint32_t resume[2];        /* the first sequence captured after a hole in the contiguous data */
    uint8_t has_resume[2];
    float *rtt;                /* ms */
    uint32_t nrtt, caprtt;
    uint64_t rng;
    uint32_t sack[2][4][2];    /* SACK blocks of each direction's latest segment */
    uint32_t next_free;        /* index + 1 in the pool's free list */
};

/* Allocated at the first flag or zero-window/keep-alive event; kept to the end. */
struct ta_rare {
    uint32_t count[NL_TA_NKINDS];
    uint32_t zw_probes[2];
    uint64_t zw_frame[2], zw_first_probe[2];
    int64_t zw_ts[2];
    uint64_t ka_frame[2];      /* a keep-alive waiting for its answer */
    int64_t ka_idle_ns[2];
};

/* One TCP conversation: 192 bytes, three cache lines, in slabs (no allocation per conversation). */
struct nl_ta_conv {
    struct ta_dir d[2];
    int64_t ts_mru_syn, first_rtt;
    struct ta_rare *rare;
    uint32_t rtt_seen;
    float rtt_min, rtt_max, rtt_median, rtt_p95;
    uint32_t max_in_flight;
    uint32_t cold;             /* index + 1 in the analysis' pool; 0: none */
    uint16_t mss[2];
    int8_t ws_offered[2];
    uint8_t opt[2];            /* OPT_* */
    uint8_t finished;          /* RTT quantiles computed, lists released (closed, or the capture ended) */
    uint8_t noted;             /* end-of-capture notes written */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct ta_dir) == 64, "ta_dir is one cache line");
_Static_assert(sizeof(struct nl_ta_conv) == 192, "nl_ta_conv is three cache lines");

/* The TCP analysis' part of an analysis (nl_analysis.h holds only a pointer to it): the
 * flagged frames and counts, the notes' counters, the --packets rows, the conversations'
 * records (slabs) and the pool of their open parts. */
struct nl_ta_state {
    uint64_t total[NL_TA_NKINDS];
    uint64_t *frames[NL_TA_NKINDS]; /* the first listed_cap frames of each flag */
    size_t n[NL_TA_NKINDS], cap[NL_TA_NKINDS];
    uint64_t noted[NL_TA_NKINDS], zw_noted, conv_noted;
    int record_packets;
    struct nl_tcp_packet *tpk;  /* with record_packets: one per TCP segment */
    size_t ntpk, captpk;
    void **slabs;               /* the conversations' records, TA_SLAB at a time (never moved) */
    size_t nslabs, capslabs, slab_used;
    struct ta_cold *cold;       /* the open conversations' lists, a pool reused as they close */
    size_t ncold, capcold;
    uint32_t cold_free;         /* index + 1 of the first free one */
};

#define TA_SLAB 1024               /* conversations per slab */
#define TA_KEEP_SEGS 64            /* a pooled cold part keeps lists up to these sizes */
#define TA_KEEP_RTT 256
#define TA_MAX_WINDOW (1u << 30) /* the largest window TCP can advertise (RFC 7323 2.2) */
#define TA_WIRESHARK_UNACKED 10000u /* tshark's TCP_MAX_UNACKED_SEGMENTS: it lists no more per direction */

static inline uint32_t fr_put(const struct nl_flow *f, uint64_t frame) { return (uint32_t)(frame - f->first_pkt + 1); }
static inline uint64_t fr_get(const struct nl_flow *f, uint32_t v) { return v ? f->first_pkt + v - 1 : 0; }

static inline struct ta_cold *cold_of(const struct nl_analysis *a, const struct nl_ta_conv *t)
{
    return t->cold ? &a->ta->cold[t->cold - 1] : NULL;
}

/* The cold part of t, from the pool (its lists keep their buffers), created when needed. */
static struct ta_cold *cold_get(struct nl_analysis *a, struct nl_ta_conv *t, uint32_t id)
{
    if (t->cold)
        return &a->ta->cold[t->cold - 1];
    uint32_t i;
    if (a->ta->cold_free) {
        i = a->ta->cold_free - 1;
        a->ta->cold_free = a->ta->cold[i].next_free;
    } else {
        if (NL_GROW(a->ta->cold, a->ta->ncold, a->ta->capcold, 256) < 0)
            return NULL;
        i = (uint32_t)a->ta->ncold++;
        memset(&a->ta->cold[i], 0, sizeof a->ta->cold[i]);
    }
    struct ta_cold *c = &a->ta->cold[i];
    c->nsegs[0] = c->nsegs[1] = 0;
    memset(c->spill, 0, sizeof c->spill);
    c->has_resume[0] = c->has_resume[1] = 0;
    c->nrtt = 0;
    c->next_free = 0;
    c->rng = 0x9e3779b97f4a7c15ull ^ id;
    t->cold = i + 1;
    return c;
}

/* Return t's cold part to the pool; lists beyond the kept sizes are freed. */
static void cold_put(struct nl_analysis *a, struct nl_ta_conv *t)
{
    if (!t->cold)
        return;
    struct ta_cold *c = &a->ta->cold[t->cold - 1];
    for (int i = 0; i < 2; i++) {
        c->nsegs[i] = 0;
        if (c->capsegs[i] > TA_KEEP_SEGS) {
            free(c->segs[i]);
            c->segs[i] = NULL;
            c->capsegs[i] = 0;
        }
    }
    c->nrtt = 0;
    if (c->caprtt > TA_KEEP_RTT) {
        free(c->rtt);
        c->rtt = NULL;
        c->caprtt = 0;
    }
    c->next_free = a->ta->cold_free;
    a->ta->cold_free = t->cold;
    t->cold = 0;
}

static struct ta_rare *rare_get(struct nl_ta_conv *t)
{
    if (!t->rare)
        t->rare = calloc(1, sizeof *t->rare);
    return t->rare;
}

/* A zeroed conversation record from the current slab. */
static struct nl_ta_conv *conv_new(struct nl_analysis *a)
{
    if (!a->ta->nslabs || a->ta->slab_used == TA_SLAB) {
        if (NL_GROW(a->ta->slabs, a->ta->nslabs, a->ta->capslabs, 16) < 0)
            return NULL;
        void *s = aligned_alloc(64, TA_SLAB * sizeof(struct nl_ta_conv));
        if (!s)
            return NULL;
        a->ta->slabs[a->ta->nslabs++] = s;
        a->ta->slab_used = 0;
    }
    struct nl_ta_conv *t = (struct nl_ta_conv *)a->ta->slabs[a->ta->nslabs - 1] + a->ta->slab_used++;
    memset(t, 0, sizeof *t);
    return t;
}

static const struct {
    const char *field, *label, *summary;
    int severity;
} kinds[NL_TA_NKINDS] = {
    {"retransmission", "TCP Retransmission", "This frame is a (suspected) retransmission", NL_TA_NOTE},
    {"fast_retransmission", "TCP Fast Retransmission", "This frame is a (suspected) fast retransmission", NL_TA_NOTE},
    {"spurious_retransmission", "TCP Spurious Retransmission", "This frame is a (suspected) spurious retransmission",
     NL_TA_NOTE},
    {"out_of_order", "TCP Out-Of-Order", "This frame is a (suspected) out-of-order segment", NL_TA_WARN},
    {"lost_segment", "TCP Previous segment not captured", "Previous segment(s) not captured (common at capture start)",
     NL_TA_WARN},
    {"ack_lost_segment", "TCP ACKed unseen segment", "ACKed segment that wasn't captured (common at capture start)",
     NL_TA_WARN},
    {"duplicate_ack", "TCP Dup ACK", "Duplicate ACK", NL_TA_NOTE},
    {"zero_window", "TCP ZeroWindow", "TCP Zero Window segment", NL_TA_WARN},
    {"zero_window_probe", "TCP ZeroWindowProbe", "TCP Zero Window Probe", NL_TA_NOTE},
    {"zero_window_probe_ack", "TCP ZeroWindowProbeAck", "ACK to a TCP Zero Window Probe", NL_TA_NOTE},
    {"window_full", "TCP Window Full", "TCP window specified by the receiver is now completely full", NL_TA_WARN},
    {"window_update", "TCP Window Update", "TCP window update", NL_TA_CHAT},
    {"keep_alive", "TCP Keep-Alive", "TCP keep-alive segment", NL_TA_NOTE},
    {"keep_alive_ack", "TCP Keep-Alive ACK", "ACK to a TCP keep-alive segment", NL_TA_NOTE},
};

const char *nl_ta_field(int k) { return k >= 0 && k < NL_TA_NKINDS ? kinds[k].field : NULL; }
const char *nl_ta_label(int k) { return k >= 0 && k < NL_TA_NKINDS ? kinds[k].label : NULL; }
const char *nl_ta_summary(int k) { return k >= 0 && k < NL_TA_NKINDS ? kinds[k].summary : NULL; }
int nl_ta_severity(int k) { return k >= 0 && k < NL_TA_NKINDS ? kinds[k].severity : NL_TA_CHAT; }
const char *nl_ta_severity_name(int s)
{
    return s == NL_TA_WARN ? "Warning" : s == NL_TA_NOTE ? "Note" : "Chat";
}

int nl_ta_open(struct nl_analysis *a, int record_packets)
{
    a->ta = calloc(1, sizeof *a->ta);
    if (!a->ta)
        return NL_ENOMEM;
    a->ta->record_packets = record_packets;
    return 0;
}

/* Everything the TCP analysis holds: the conversations' rare parts, the cold pool, the
 * slabs, the flag lists and rows. */
void nl_ta_free_all(struct nl_analysis *a)
{
    struct nl_ta_state *st = a->ta;
    if (!st)
        return;
    for (size_t i = 0; i < a->ft.nflows; i++)
        if (a->ft.flows[i].ta)
            free(a->ft.flows[i].ta->rare);
    for (size_t i = 0; i < st->ncold; i++) {
        free(st->cold[i].segs[0]);
        free(st->cold[i].segs[1]);
        free(st->cold[i].rtt);
    }
    free(st->cold);
    for (size_t i = 0; i < st->nslabs; i++)
        free(st->slabs[i]);
    free(st->slabs);
    for (int k = 0; k < NL_TA_NKINDS; k++)
        free(st->frames[k]);
    free(st->tpk);
    free(st);
    a->ta = NULL;
}

/* ---- helpers ---- */

static int push_seg(struct ta_cold *c, int dir, uint32_t seq, uint32_t nextseq, uint64_t frame, int64_t ts)
{
    if (c->nsegs[dir] == c->capsegs[dir]) {
        uint32_t nc = c->capsegs[dir] ? c->capsegs[dir] * 2 : 8;
        if (nc > NL_TA_UNACKED_CAP)
            nc = NL_TA_UNACKED_CAP;
        struct ta_seg *s = realloc(c->segs[dir], nc * sizeof *s);
        if (!s)
            return NL_ENOMEM;
        c->segs[dir] = s;
        c->capsegs[dir] = nc;
    }
    c->segs[dir][c->nsegs[dir]++] = (struct ta_seg){seq, nextseq, frame, ts};
    return 0;
}

/* A segment past the list's cap: its span joins the spilled span, it becomes the tail. */
static int spill_seg(struct ta_spill *sp, uint32_t seq, uint32_t nextseq, uint64_t frame, int64_t ts)
{
    if (sp->lo == sp->hi) {
        sp->lo = seq;
        sp->hi = nextseq;
        sp->n = 0;
    } else {
        if (SEQ_LT(seq, sp->lo))
            sp->lo = seq;
        if (SEQ_GT(nextseq, sp->hi))
            sp->hi = nextseq;
    }
    sp->n++;
    sp->tail = (struct ta_seg){seq, nextseq, frame, ts};
    return 0;
}

static inline int spill_open(const struct ta_spill *sp) { return sp->lo != sp->hi; }

static inline int all_acked(const struct ta_cold *c)
{
    return !c->nsegs[0] && !c->nsegs[1] && !spill_open(&c->spill[0]) && !spill_open(&c->spill[1]);
}

/* An ACK from the other side: direction dir's segments it covers leave the list (a segment it
 * covers in part keeps its rest), the spilled span shrinks. Returns 1 with *hit the oldest
 * segment the ACK ends exactly (listed, or the spilled tail; its frame and time give the RTT),
 * 0 if none. */
static int ack_segments(struct ta_cold *c, int dir, uint32_t ack, struct ta_seg *hit)
{
    uint32_t k = 0, n = c->nsegs[dir];
    int matched = 0;
    struct ta_seg *segs = c->segs[dir];
    for (uint32_t i = 0; i < n; i++) {
        struct ta_seg *s = &segs[i];
        if (ack == s->nextseq) {
            if (!matched) {
                matched = 1;
                *hit = *s;
            }
            continue; /* removed */
        }
        if (SEQ_GT(ack, s->seq) && SEQ_LE(ack, s->nextseq))
            s->seq = ack; /* partly acknowledged */
        if (SEQ_GT(s->nextseq, ack))
            segs[k++] = *s;
    }
    c->nsegs[dir] = k;
    struct ta_spill *sp = &c->spill[dir];
    if (spill_open(sp)) {
        if (sp->tail.frame && ack == sp->tail.nextseq && (!matched || sp->tail.frame < hit->frame)) {
            matched = 1;
            *hit = sp->tail;
        }
        if (SEQ_GE(ack, sp->hi)) {
            memset(sp, 0, sizeof *sp);
        } else if (SEQ_GT(ack, sp->lo)) {
            sp->lo = ack;
            if (SEQ_GE(ack, sp->tail.nextseq))
                sp->tail.frame = 0;
        }
    }
    return matched;
}

/* The relative span [first, last) of direction dir's unacknowledged data, listed and spilled
 * (Wireshark's bytes in flight: lowest unacknowledged start to highest end). */
static void unacked_span(const struct ta_cold *c, int dir, uint32_t base, uint32_t *first, uint32_t *last)
{
    const struct ta_seg *segs = c->segs[dir];
    const struct ta_spill *sp = &c->spill[dir];
    uint32_t lo, hi;
    if (c->nsegs[dir]) {
        lo = segs[0].seq - base;
        hi = segs[0].nextseq - base;
    } else {
        lo = sp->lo - base;
        hi = sp->hi - base;
    }
    for (uint32_t i = 1; i < c->nsegs[dir]; i++) {
        uint32_t s = segs[i].seq - base, e = segs[i].nextseq - base;
        if (e > hi)
            hi = e;
        if (s < lo)
            lo = s;
    }
    if (spill_open(sp)) {
        if (sp->hi - base > hi)
            hi = sp->hi - base;
        if (sp->lo - base < lo)
            lo = sp->lo - base;
    }
    *first = lo;
    *last = hi;
}

/* c: t's cold part (present while not finished). A negative sample (the capture's clock
 * stepped back between a segment and its ACK) measures the clock, not the path: tshark shows
 * it on the packet, the conversation's RTT figures leave it out. */
static int add_rtt(struct nl_ta_conv *t, struct ta_cold *c, double ms)
{
    if (ms < 0)
        return 0;
    t->rtt_seen++;
    if (t->rtt_seen == 1 || ms < t->rtt_min)
        t->rtt_min = (float)ms;
    if (t->rtt_seen == 1 || ms > t->rtt_max)
        t->rtt_max = (float)ms;
    if (t->finished || !c)
        return 0; /* after the close: counted, not in the quantiles */
    if (c->nrtt < NL_TA_RTT_CAP) {
        if (c->nrtt == c->caprtt) {
            uint32_t nc = c->caprtt ? c->caprtt * 2 : 16;
            float *r = realloc(c->rtt, nc * sizeof *r);
            if (!r)
                return NL_ENOMEM;
            c->rtt = r;
            c->caprtt = nc;
        }
        c->rtt[c->nrtt++] = (float)ms;
        return 0;
    }
    /* Reservoir sampling (Vitter's algorithm R) with a fixed-seed xorshift. */
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    uint64_t j = c->rng % t->rtt_seen;
    if (j < NL_TA_RTT_CAP)
        c->rtt[j] = (float)ms;
    return 0;
}

static int record_flag(struct nl_analysis *a, struct nl_ta_conv *t, int k, uint64_t frame)
{
    if (!rare_get(t))
        return NL_ENOMEM;
    t->rare->count[k]++;
    a->ta->total[k]++;
    if (a->ta->n[k] >= a->listed_cap)
        return 0;
    if (NL_GROW(a->ta->frames[k], a->ta->n[k], a->ta->cap[k], 64) < 0)
        return NL_ENOMEM;
    a->ta->frames[k][a->ta->n[k]++] = frame;
    return 0;
}

static inline uint32_t count_of(const struct nl_ta_conv *t, int k) { return t->rare ? t->rare->count[k] : 0; }

static const char *ep(const struct nl_flow *f, int i, char out[64])
{
    return nl_endpoint_format(f->ipver, f->addr[i], f->port[i], out);
}

static double ms(int64_t ns) { return (double)ns / 1e6; }

/* Should an individual note of this kind be written? Counts every occurrence. */
static int want_note(struct nl_analysis *a, int k)
{
    return a->ta->noted[k]++ < TA_NOTES_PER_KIND;
}

/* "1,049,177" */
static const char *grouped(uint64_t v, char out[32])
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v), o = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = tmp[i];
    }
    out[o] = 0;
    return out;
}

/* The k-th smallest of v[lo, hi) moved to v[k] (quickselect; v[lo, k) <= v[k] <= v[k+1, hi)).
 * With median-of-three pivots on ranges above 16 the partition always splits the range. */
static void select_k(float *v, uint32_t lo, uint32_t hi, uint32_t k)
{
    while (hi - lo > 16) {
        uint32_t mid = lo + (hi - lo) / 2;
        /* median of three as the pivot */
        float x = v[lo], y = v[mid], z = v[hi - 1];
        float p = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        uint32_t i = lo, j = hi - 1;
        for (;;) { /* Hoare partition */
            while (v[i] < p)
                i++;
            while (p < v[j])
                j--;
            if (i >= j)
                break;
            float tmp = v[i];
            v[i] = v[j];
            v[j] = tmp;
            i++;
            j--;
        }
        /* v[lo, j] <= p <= v[j+1, hi) */
        if (k <= j)
            hi = j + 1;
        else
            lo = j + 1;
    }
    for (uint32_t i = lo + 1; i < hi; i++) { /* a short range: insertion sort */
        float x = v[i];
        uint32_t j = i;
        for (; j > lo && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* A conversation is over (or the capture is): RTT quantiles from the samples, then the
 * cold part (samples, unacknowledged lists, SACK blocks) goes back to the pool, so ended
 * conversations keep only their 192 bytes (and the rare part if a flag occurred). */
static void finalize(struct nl_analysis *a, struct nl_ta_conv *t)
{
    if (t->finished)
        return;
    t->finished = 1;
    struct ta_cold *c = cold_of(a, t);
    if (c && c->nrtt) {
        float *v = c->rtt;
        uint32_t n = c->nrtt, h = n / 2;
        select_k(v, 0, n, h);
        if (n % 2) {
            t->rtt_median = v[h];
        } else {
            float below = v[0];
            for (uint32_t i = 1; i < h; i++)
                if (v[i] > below)
                    below = v[i];
            t->rtt_median = (below + v[h]) / 2;
        }
        uint32_t r = (uint32_t)((95ull * n + 99) / 100); /* nearest rank */
        uint32_t k = r ? r - 1 : 0;
        if (k > h)
            select_k(v, h + 1, n, k);
        t->rtt_p95 = v[k];
    }
    if (c && (t->d[0].nsack || t->d[1].nsack)) {
        /* the latest SACK blocks still count for bytes in flight: keep the part, empty its lists */
        c->nsegs[0] = c->nsegs[1] = 0;
        memset(c->spill, 0, sizeof c->spill);
        c->nrtt = 0;
        return;
    }
    cold_put(a, t);
}

/* Lookahead (see nl_analyze.c's run): bring in what nl_ta_packet will read for f, one
 * level of pointers per stage, each stage a few packets after the one before, so every
 * load here finds its line already arrived. Hints only. */
void nl_ta_prefetch(const struct nl_analysis *a, const struct nl_flow *f, int stage)
{
    const struct nl_ta_conv *t = f->ta;
    if (!t)
        return;
    if (stage == 0) {
        for (int i = 0; i < 3; i++)
            __builtin_prefetch((const char *)t + 64 * i, 1);
        return;
    }
    const struct ta_cold *c = cold_of(a, t);
    if (!c)
        return;
    if (stage == 1) {
        __builtin_prefetch(c, 1);
        __builtin_prefetch((const char *)c + sizeof *c - 1, 1);
        return;
    }
    for (int i = 0; i < 2; i++)
        if (c->segs[i]) {
            __builtin_prefetch(c->segs[i], 1);
            __builtin_prefetch(&c->segs[i][c->nsegs[i]], 1);
        }
    if (c->rtt)
        __builtin_prefetch(&c->rtt[c->nrtt < c->caprtt ? c->nrtt : 0], 1);
}

/* ---- the analysis of one segment: classify, advance, word ----
 *
 * As Wireshark's tcp_analyze_sequence_number sets flags and tcp_print_sequence_number_analysis
 * words them: ta_classify decides the segment's flags from the state before it (moving only
 * the counters the rules themselves keep: duplicate ACKs, the contiguous end an ACKed-unseen
 * segment moves), ta_advance moves the state on past the segment (its sequence, the other
 * side's list it acknowledges, options, episodes), ta_word writes the notes from what the
 * two recorded in a struct ta_facts. */

/* One segment's verdict and what its words quote, read before the state moved on. */
struct ta_facts {
    uint32_t bits;                /* NL_TA_BIT of each flag */
    int report;                   /* the flags are shown (the options were captured) */
    uint32_t dupack_num;
    uint64_t dupack_frame;
    uint64_t acked_frame;         /* the segment this ACK ends exactly, 0 if none */
    double ack_rtt;
    uint32_t in_flight;
    uint32_t scaled;              /* the window, scaled when the scale is known */
    int64_t idle;                 /* the conversation's silence before this segment */
    int zw_closed;                /* this segment reopened this side's zero window */
    uint64_t ka_frame;            /* the keep-alive this segment answers, 0 if none */
    int64_t ka_idle;
    /* Quoted by the words: not cleared per segment (nl_ta_packet clears only what is above);
     * each is written by the rule that sets the flag whose words quote it. */
    uint32_t miss_from, miss_to;  /* this side's bytes [from, to) before seq, not captured */
    uint32_t gap_from, gap_to;    /* the other side's bytes [from, to) acknowledged, never captured */
    uint64_t dup_first, dup_last; /* fast retransmission: the duplicate ACKs' frames */
    int32_t dup_count;
    int64_t since_ack;            /* since the other side's latest ACK */
    uint32_t their_ack;           /* spurious: the ACK that already covered it */
    uint64_t their_ack_frame;
    uint64_t top_frame;           /* out of order: the segment that set the highest sequence */
    int64_t since_top;
    uint64_t orig_frame;          /* retransmission: the first copy, 0 if not captured */
    int64_t orig_ts;
};
#define TA_FACTS_CLEARED offsetof(struct ta_facts, miss_from)
/* The flags ta_word has words for (with a zero window closed and a keep-alive answered). */
#define TA_WORDED                                                                                              \
    (NL_TA_BIT(NL_TA_FAST_RETRANSMISSION) | NL_TA_BIT(NL_TA_SPURIOUS_RETRANSMISSION) |                          \
     NL_TA_BIT(NL_TA_RETRANSMISSION) | NL_TA_BIT(NL_TA_OUT_OF_ORDER) | NL_TA_BIT(NL_TA_LOST_SEGMENT) |          \
     NL_TA_BIT(NL_TA_ACK_LOST_SEGMENT) | NL_TA_BIT(NL_TA_WINDOW_FULL))

static struct nl_ta_conv *ta_conv(struct nl_analysis *a, struct nl_flow *f)
{
    if (f->ta)
        return f->ta;
    struct nl_ta_conv *n = conv_new(a);
    if (!n)
        return NULL;
    for (int i = 0; i < 2; i++) {
        n->d[i].window = UINT32_MAX;
        n->d[i].win_scale = -1;
        n->d[i].st = ST_VALID_BIF;
        n->ws_offered[i] = -1;
    }
    n->first_rtt = -1;
    n->ts_mru_syn = -1;
    f->ta = n;
    return n;
}

/* Relative numbering: the ISN of a SYN, else the sequence number before the first seen. */
static void ta_bases(struct ta_dir *F, struct ta_dir *R, const struct nl_decoded *d)
{
    if (!(F->st & ST_BASE)) {
        F->base_seq = (d->tcp_flags & FL_SYN) ? d->seq : d->seq - 1;
        F->st |= ST_BASE;
    }
    if (!(R->st & ST_BASE) && (d->tcp_flags & FL_ACK)) {
        R->base_seq = d->ack - 1;
        R->st |= ST_BASE;
    }
    if (d->tcp_flags & FL_ACK)
        R->st |= ST_VALID_BIF;
}

/* The rules that read this side's window, sequence and ACK against its previous segment, in
 * Wireshark's order (a zero-window probe, a keep-alive ACK and a probe ACK end the list). */
static void ta_classify_window(const struct nl_flow *f, struct ta_cold *c, struct ta_dir *F, const struct ta_dir *R,
                               int dir, const struct nl_decoded *d, struct ta_facts *x)
{
    const uint32_t seq = d->seq, ack = d->ack, seglen = d->payload_len, window = d->window;
    const int plain = !(d->tcp_flags & (FL_SYN | FL_FIN | FL_RST));
    const int same = seglen == 0 && seq == F->nextseq && ack == F->lastack && plain; /* nothing new but maybe the window */

    /* A one-byte segment at the next sequence number while the other side's window is closed. */
    if (seglen == 1 && seq == F->nextseq && R->window == 0) {
        x->bits |= NL_TA_BIT(NL_TA_ZERO_WINDOW_PROBE);
        return;
    }
    if (window == 0 && plain)
        x->bits |= NL_TA_BIT(NL_TA_ZERO_WINDOW);
    /* Beyond the highest sequence seen: bytes before it were not captured. */
    if (F->nextseq && SEQ_GT(seq, F->nextseq) && !(d->tcp_flags & FL_RST)) {
        x->bits |= NL_TA_BIT(NL_TA_LOST_SEGMENT);
        x->miss_from = F->nextseq;
        x->miss_to = seq;
        /* where the capture picked this side up again after its first hole (see ta_classify_acked) */
        if (c && (!c->has_resume[dir] || SEQ_LE(c->resume[dir], F->maxseqtobeacked))) {
            c->resume[dir] = seq;
            c->has_resume[dir] = 1;
        }
        F->st &= (uint8_t)~ST_VALID_BIF;
    }
    /* Zero or one byte, one below the next sequence number: a keep-alive (RFC 9293 3.8.4). */
    if (seglen <= 1 && seq == F->nextseq - 1 && plain)
        x->bits |= NL_TA_BIT(NL_TA_KEEP_ALIVE);
    /* Nothing new but the window. */
    if (same && window && window != F->window)
        x->bits |= NL_TA_BIT(NL_TA_WINDOW_UPDATE);
    /* Data up to the right edge of the window the other side advertised. */
    if (seglen > 0 && R->win_scale != -1 && plain) {
        int shift = ((R->st & ST_WIN_SYN) || R->win_scale == -2) ? 0 : R->win_scale;
        if (seq + seglen == R->lastack + (uint32_t)((uint64_t)R->window << shift))
            x->bits |= NL_TA_BIT(NL_TA_WINDOW_FULL);
    }
    if (same && window && window == F->window && (R->lastflags & LF_KA)) {
        x->bits |= NL_TA_BIT(NL_TA_KEEP_ALIVE_ACK);
        return;
    }
    if (same && window == 0 && window == F->window && (R->lastflags & LF_ZWP)) {
        x->bits |= NL_TA_BIT(NL_TA_ZERO_WINDOW_PROBE_ACK);
        return;
    }
    /* The same ACK, window and sequence again, without data: a duplicate ACK (RFC 5681 2). */
    if (same && window && window == F->window) {
        F->dupacknum = F->dupacknum == -1 ? 1 : F->dupacknum + 1; /* -1: an ACKed-unseen segment was flagged */
        x->bits |= NL_TA_BIT(NL_TA_DUPLICATE_ACK);
        x->dupack_num = (uint32_t)F->dupacknum;
        x->dupack_frame = fr_get(f, F->lastnondupack);
    }
}

/* Acknowledging beyond the contiguous data seen from the other side: bytes the receiver got
 * that the capture did not (tshark 4.0's rule, found frame by frame on captures that missed
 * stretches of one or both directions). When that side has sent beyond its contiguous end
 * (data after a hole), the ACK is flagged and the end jumps to the highest sequence seen;
 * else (nothing new from it since) only the first such ACK is flagged until that side's own
 * ACK number moves (its duplicate-ACK counter, reset then, is set to -1 here). */
static void ta_classify_acked(struct ta_cold *c, struct ta_dir *R, int dir, const struct nl_decoded *d,
                              struct ta_facts *x)
{
    const uint32_t ack = d->ack;
    if (!R->maxseqtobeacked || !SEQ_GT(ack, R->maxseqtobeacked) || !(d->tcp_flags & FL_ACK))
        return;
    int flag;
    x->gap_from = R->maxseqtobeacked;
    if (R->nextseq > R->maxseqtobeacked) { /* a plain comparison, as Wireshark makes it */
        flag = 1;
        R->maxseqtobeacked = R->nextseq;
    } else {
        flag = R->dupacknum == 0;
        R->dupacknum = -1;
    }
    if (!flag)
        return;
    x->gap_to = ack;
    if (c && c->has_resume[!dir] && SEQ_GT(c->resume[!dir], x->gap_from) && SEQ_LT(c->resume[!dir], ack))
        x->gap_to = c->resume[!dir]; /* captured again from there */
    x->bits |= NL_TA_BIT(NL_TA_ACK_LOST_SEGMENT);
}

/* Data (or SYN/FIN) that does not advance the sequence: sent before, or overtaken. */
static void ta_classify_resent(const struct nl_analysis *a, const struct nl_flow *f, const struct nl_ta_conv *t,
                               const struct ta_cold *c, int dir, const struct nl_decoded *d, int64_t now,
                               struct ta_facts *x)
{
    const struct ta_dir *F = &t->d[dir], *R = &t->d[!dir];
    const uint32_t seq = d->seq, seglen = d->payload_len;
    const uint8_t fl = d->tcp_flags;
    if (!(seglen > 0 || (fl & (FL_SYN | FL_FIN))) || (x->bits & NL_TA_BIT(NL_TA_KEEP_ALIVE)))
        return;
    int not_advanced = F->nextseq && SEQ_LT(seq, F->nextseq);
    if (seglen > 1 && F->nextseq - 1 == seq) /* new data after a zero-window probe's byte */
        not_advanced = 0;
    if (seglen > 0 && R->lastack && SEQ_LE(seq + seglen, R->lastack)) {
        x->bits |= NL_TA_BIT(NL_TA_SPURIOUS_RETRANSMISSION) | NL_TA_BIT(NL_TA_RETRANSMISSION);
        x->their_ack = R->lastack;
        x->their_ack_frame = fr_get(f, R->lastack_frame);
        return;
    }
    int64_t since_ack = nl_time_sub(now, R->lastack_ts);
    if (not_advanced && R->dupacknum >= 2 && R->lastack == seq && since_ack >= 0 &&
        since_ack < NL_TA_FAST_RETRANS_NS) {
        x->bits |= NL_TA_BIT(NL_TA_FAST_RETRANSMISSION) | NL_TA_BIT(NL_TA_RETRANSMISSION);
        x->dup_first = fr_get(f, R->lastnondupack);
        x->dup_last = fr_get(f, R->lastack_frame);
        x->dup_count = R->dupacknum;
        x->since_ack = since_ack;
        return;
    }
    int64_t since_top = nl_time_sub(now, F->nextseq_ts);
    int64_t thres = t->first_rtt > 0 ? t->first_rtt : NL_TA_OOO_DEFAULT_NS;
    if (not_advanced && since_top >= 0 && since_top < thres &&
        F->nextseq != seq + seglen + ((fl & (FL_SYN | FL_FIN)) ? 1 : 0)) {
        x->bits |= NL_TA_BIT(NL_TA_OUT_OF_ORDER);
        x->top_frame = fr_get(f, F->nextseq_frame);
        x->since_top = since_top;
        return;
    }
    if (!not_advanced)
        return;
    x->bits |= NL_TA_BIT(NL_TA_RETRANSMISSION);
    x->dup_count = R->dupacknum;
    x->orig_frame = 0;
    if (a->ta->noted[NL_TA_RETRANSMISSION] >= TA_NOTES_PER_KIND)
        return; /* no note will quote the first copy */
    for (uint32_t i = 0; c && i < c->nsegs[dir]; i++)
        if (SEQ_LE(c->segs[dir][i].seq, seq) && SEQ_GT(c->segs[dir][i].nextseq, seq)) {
            x->orig_frame = c->segs[dir][i].frame;
            x->orig_ts = c->segs[dir][i].ts;
            break;
        }
}

static void ta_classify(struct nl_analysis *a, struct nl_flow *f, struct nl_ta_conv *t, struct ta_cold *c,
                        int dir, const struct nl_decoded *d, const struct nl_frame *pkt, struct ta_facts *x)
{
    struct ta_dir *F = &t->d[dir], *R = &t->d[!dir];
    ta_bases(F, R, d);
    ta_classify_window(f, c, F, R, dir, d, x);
    if (d->ack != F->lastack) {
        F->lastnondupack = fr_put(f, pkt->number);
        F->dupacknum = 0;
    }
    ta_classify_acked(c, R, dir, d, x);
    ta_classify_resent(a, f, t, c, dir, d, pkt->ts_ns, x);
    /* A segment whose TCP options the capture cut is analysed (the state moves on) but its
     * flags are not reported: tshark's dissection stops at the cut before it shows them. */
    x->report = !d->tcp_opts_cut;
}

/* Zero-window episodes (opened by this side's zero window, probed by the other, closed by a
 * window again) and keep-alives waiting for their answer; their details live in the rare part. */
static int ta_advance_episodes(struct nl_ta_conv *t, int dir, const struct nl_decoded *d, uint64_t frame,
                               int64_t now, struct ta_facts *x)
{
    struct ta_dir *F = &t->d[dir], *R = &t->d[!dir];
    if ((x->bits & NL_TA_BIT(NL_TA_ZERO_WINDOW)) && !(F->st & ST_ZW_OPEN)) {
        struct ta_rare *r = rare_get(t);
        if (!r)
            return NL_ENOMEM;
        F->st |= ST_ZW_OPEN;
        r->zw_frame[dir] = frame;
        r->zw_ts[dir] = now;
        r->zw_probes[dir] = 0;
        r->zw_first_probe[dir] = 0;
    } else if ((F->st & ST_ZW_OPEN) && d->window && !(d->tcp_flags & FL_RST)) {
        F->st &= (uint8_t)~ST_ZW_OPEN;
        x->zw_closed = 1;
    }
    if ((x->bits & NL_TA_BIT(NL_TA_ZERO_WINDOW_PROBE)) && (R->st & ST_ZW_OPEN)) {
        struct ta_rare *r = t->rare;
        if (!r->zw_probes[!dir])
            r->zw_first_probe[!dir] = frame;
        r->zw_probes[!dir]++;
    }
    if (x->bits & NL_TA_BIT(NL_TA_KEEP_ALIVE)) {
        struct ta_rare *r = rare_get(t);
        if (!r)
            return NL_ENOMEM;
        r->ka_frame[dir] = frame;
        r->ka_idle_ns[dir] = x->idle;
    }
    if ((x->bits & NL_TA_BIT(NL_TA_KEEP_ALIVE_ACK)) && t->rare && t->rare->ka_frame[!dir]) {
        x->ka_frame = t->rare->ka_frame[!dir];
        x->ka_idle = t->rare->ka_idle_ns[!dir];
        t->rare->ka_frame[!dir] = 0;
    }
    return 0;
}

/* This side's sequence past the segment: listed (or spilled), the highest sequence, the
 * contiguous end, the latest window and ACK. */
static int ta_advance_sequence(struct nl_analysis *a, struct nl_flow *f, struct nl_ta_conv *t, struct ta_cold **cp,
                               int dir, const struct nl_decoded *d, const struct nl_frame *pkt,
                               const struct ta_facts *x)
{
    struct ta_dir *F = &t->d[dir];
    const uint32_t seq = d->seq, seglen = d->payload_len;
    const uint8_t fl = d->tcp_flags;
    const int zwp = (x->bits & NL_TA_BIT(NL_TA_ZERO_WINDOW_PROBE)) != 0;
    uint32_t nextseq = seq + seglen;
    if (seglen || (fl & (FL_SYN | FL_FIN))) {
        struct ta_cold *c = *cp ? *cp : (*cp = cold_get(a, t, f->id));
        if (!c)
            return NL_ENOMEM;
        /* A SYN or FIN counts one byte while tshark still lists the segment (its list stops
         * at TA_WIRESHARK_UNACKED; past it, as there, the next sequence leaves the byte out). */
        if ((fl & (FL_SYN | FL_FIN)) && c->nsegs[dir] + c->spill[dir].n < TA_WIRESHARK_UNACKED)
            nextseq += 1;
        int rc = c->nsegs[dir] < NL_TA_UNACKED_CAP ? push_seg(c, dir, seq, nextseq, pkt->number, pkt->ts_ns)
                                                   : spill_seg(&c->spill[dir], seq, nextseq, pkt->number, pkt->ts_ns);
        if (rc < 0)
            return rc;
    }
    if ((SEQ_GT(nextseq, F->nextseq) || !F->nextseq) && !zwp) {
        F->nextseq = nextseq;
        F->nextseq_frame = fr_put(f, pkt->number);
        F->nextseq_ts = pkt->ts_ns;
    }
    if ((seq == F->maxseqtobeacked || !F->maxseqtobeacked) && !zwp)
        F->maxseqtobeacked = F->nextseq;
    F->window = d->window;
    F->st = (uint8_t)((F->st & ~ST_WIN_SYN) | ((fl & FL_SYN) ? ST_WIN_SYN : 0));
    F->lastack = d->ack;
    F->lastack_ts = pkt->ts_ns;
    F->lastack_frame = fr_put(f, pkt->number);
    F->lastflags = (uint8_t)(((x->bits & NL_TA_BIT(NL_TA_KEEP_ALIVE)) ? LF_KA : 0) | (zwp ? LF_ZWP : 0));
    return 0;
}

/* The other side's segments this ACK covers (an RTT sample from the oldest it ends exactly),
 * then bytes in flight after this segment: the span of its unacknowledged data (listed or
 * spilled), less what the other side's latest SACK blocks say arrived. */
static int ta_advance_acks(struct nl_ta_conv *t, struct ta_cold *c, int dir, const struct nl_decoded *d,
                           int64_t now, struct ta_facts *x)
{
    struct ta_dir *F = &t->d[dir], *R = &t->d[!dir];
    int rc;
    if (c && (c->nsegs[!dir] || spill_open(&c->spill[!dir]))) {
        struct ta_seg m;
        if (ack_segments(c, !dir, d->ack, &m)) {
            x->acked_frame = m.frame;
            x->ack_rtt = ms(nl_time_sub(now, m.ts));
            if (x->report && x->ack_rtt != 0 && (rc = add_rtt(t, c, x->ack_rtt)) < 0)
                return rc;
        }
    }
    if (d->payload_len && c && (c->nsegs[dir] || spill_open(&c->spill[dir])) && (F->st & ST_VALID_BIF)) {
        uint32_t first, last;
        unacked_span(c, dir, F->base_seq, &first, &last);
        uint32_t inf = last - first;
        for (int i = 0; i < R->nsack; i++)
            inf -= c->sack[!dir][i][1] - c->sack[!dir][i][0];
        if (inf > 0 && inf < 2000000000u) {
            if (d->tcp_flags & (FL_SYN | FL_FIN))
                inf -= 1;
            x->in_flight = inf;
            if (inf > t->max_in_flight)
                t->max_in_flight = inf;
        }
    }
    return 0;
}

/* After a SYN from side F (its own option already in *F, else -1): window scaling is
 * used only when both SYNs carry the option (RFC 7323 2.2), so a SYN without it turns it
 * off both ways, and a SYN-ACK answering a SYN without it uses none either. */
static void syn_scale_rule(int8_t *F, int8_t *R, int synack)
{
    if (*F == -1) {
        *F = -2;
        *R = -2;
    } else if (synack && *R == -2) {
        *F = -2;
    }
}

void nl_wscale_init(struct nl_wscale *w)
{
    memset(w, 0, sizeof *w);
    w->shift[0] = w->shift[1] = -1;
}

void nl_wscale_note(struct nl_wscale *w, int dir, const struct nl_decoded *d, uint64_t pkt)
{
    if (!(d->tcp_flags & FL_SYN))
        return;
    int synack = (d->tcp_flags & FL_ACK) != 0;
    if (!synack && w->syn_pkt[dir])
        nl_wscale_init(w); /* a new SYN: the ports were reused by a new connection */
    w->syn_pkt[dir] = pkt;
    const uint8_t *opt = d->payload && !d->tcp_opts_cut && d->tcp_hlen > NL_TCP_HDR_MIN
                             ? d->payload - d->tcp_hlen + NL_TCP_HDR_MIN : NULL;
    struct nl_tcp_opts o;
    memset(&o, 0, sizeof o);
    if (opt)
        (void)nl_tcp_options_parse(opt, d->tcp_hlen - NL_TCP_HDR_MIN, &o); /* what precedes a bad option counts */
    if (o.has_wscale)
        w->shift[dir] = (int8_t)(o.wscale > 14 ? 14 : o.wscale);
    else if (!w->refused_pkt)
        w->refused_pkt = pkt;
    syn_scale_rule(&w->shift[dir], &w->shift[!dir], synack);
}

void nl_wscale_explain(const struct nl_wscale *w, int dir, struct nl_explain_ctx *ctx)
{
    ctx->syn_packet = w->syn_pkt[dir];
    ctx->peer_syn_packet = w->syn_pkt[!dir];
    ctx->refused_packet = w->refused_pkt;
    ctx->shift = 0;
    if (w->shift[dir] == -2) {
        ctx->scale = NL_XSCALE_NONE;
    } else if (w->shift[dir] >= 0) {
        ctx->scale = NL_XSCALE_SHIFT;
        ctx->shift = (uint8_t)w->shift[dir];
    } else {
        ctx->scale = NL_XSCALE_UNKNOWN;
    }
}

/* Options: the SYN's negotiate (window scale as RFC 7323 2.2: both sides or neither), every
 * segment's SACK blocks are remembered for bytes in flight; the handshake RTT. */
static int ta_advance_options(struct nl_analysis *a, struct nl_flow *f, struct nl_ta_conv *t, struct ta_cold **cp,
                              int dir, const struct nl_decoded *d, int64_t now)
{
    struct ta_dir *F = &t->d[dir], *R = &t->d[!dir];
    const uint8_t fl = d->tcp_flags;
    F->nsack = 0;
    const uint8_t *opt = d->payload && !d->tcp_opts_cut && d->tcp_hlen > NL_TCP_HDR_MIN
                             ? d->payload - d->tcp_hlen + NL_TCP_HDR_MIN : NULL; /* the whole header was captured */
    /* The usual NOP, NOP, timestamps alone carries nothing this needs outside a SYN: skip the parse. */
    int ts_only = d->tcp_hlen == 32 && opt && opt[0] == 1 && opt[1] == 1 && opt[2] == 8 && !(fl & FL_SYN);
    struct nl_tcp_opts o;
    if (opt && !ts_only &&
        (nl_tcp_options_parse(opt, d->tcp_hlen - NL_TCP_HDR_MIN, &o) == 0 || o.has_mss || o.nsack)) {
        if (o.nsack > 0) {
            struct ta_cold *c = *cp ? *cp : (*cp = cold_get(a, t, f->id));
            if (!c)
                return NL_ENOMEM;
            for (int i = 0; i < o.nsack && i < 4; i++) {
                c->sack[dir][i][0] = o.sack[i][0];
                c->sack[dir][i][1] = o.sack[i][1];
            }
        }
        F->nsack = (uint8_t)(o.nsack > 4 ? 4 : o.nsack);
        if (fl & FL_SYN) {
            t->opt[dir] = (uint8_t)((o.has_mss ? OPT_MSS : 0) | (o.sack_permitted ? OPT_SACK : 0) |
                                    (o.has_ts ? OPT_TS : 0));
            t->mss[dir] = o.mss;
            if (o.has_wscale) {
                t->ws_offered[dir] = (int8_t)(o.wscale > 14 ? 14 : o.wscale);
                F->win_scale = t->ws_offered[dir];
            }
        }
    }
    if (fl & FL_SYN) {
        int synack = (fl & FL_ACK) != 0;
        syn_scale_rule(&F->win_scale, &R->win_scale, synack);
        if (!synack)
            t->ts_mru_syn = now;
    }
    if ((fl & (FL_SYN | FL_ACK)) == FL_ACK && t->ts_mru_syn >= 0 && t->first_rtt < 0)
        t->first_rtt = nl_time_sub(now, t->ts_mru_syn);
    return 0;
}

static int ta_advance(struct nl_analysis *a, struct nl_flow *f, struct nl_ta_conv *t, struct ta_cold *c, int dir,
                      const struct nl_decoded *d, const struct nl_frame *pkt, struct ta_facts *x)
{
    struct ta_dir *F = &t->d[dir], *R = &t->d[!dir];
    int rc;
    if ((rc = ta_advance_episodes(t, dir, d, pkt->number, pkt->ts_ns, x)) < 0 ||
        (rc = ta_advance_sequence(a, f, t, &c, dir, d, pkt, x)) < 0 ||
        (rc = ta_advance_acks(t, c, dir, d, pkt->ts_ns, x)) < 0 ||
        (rc = ta_advance_options(a, f, t, &c, dir, d, pkt->ts_ns)) < 0)
        return rc;
    const uint8_t fl = d->tcp_flags;
    x->scaled = (fl & FL_SYN) || F->win_scale < 0 ? d->window : (uint32_t)((uint64_t)d->window << F->win_scale);
    if (x->scaled > F->max_window)
        F->max_window = x->scaled;
    if (d->payload_len)
        F->data_segments++;
    if (fl & FL_FIN)
        F->st |= ST_FIN;
    /* Over: a reset, or both FINs sent and everything acknowledged. */
    if (!t->finished && ((fl & FL_RST) || ((F->st & R->st & ST_FIN) && (!c || all_acked(c)))))
        finalize(a, t);
    for (uint32_t b = x->report ? x->bits : 0; b; b &= b - 1)
        if ((rc = record_flag(a, t, __builtin_ctz(b), pkt->number)) < 0)
            return rc;
    return 0;
}

/* The note of a segment sent again (fast, spurious, after a timeout or SACK) or overtaken. */
static int ta_word_resent(struct nl_analysis *a, const struct nl_flow *f, const struct nl_decoded *d,
                          const struct nl_frame *pkt, uint32_t fb, const struct ta_facts *x)
{
    char g1[32], g2[32], g3[32];
    const uint32_t seq = d->seq, seglen = d->payload_len;
    const uint64_t frame = pkt->number;
    const unsigned long long fr = (unsigned long long)frame;
    if (x->bits & NL_TA_BIT(NL_TA_FAST_RETRANSMISSION)) {
        if (!want_note(a, NL_TA_FAST_RETRANSMISSION))
            return 0;
        return nl_note_tcp(a, "fast-retransmission", frame, f->id,
                           "packets %llu-%llu: %d duplicate ACKs for byte %s (the receiver is missing it); packet "
                           "%llu resends it %.1f ms after the last (a fast retransmission, RFC 5681 3.2)",
                           (unsigned long long)x->dup_first, (unsigned long long)x->dup_last, x->dup_count,
                           grouped(seq - fb, g1), fr, ms(x->since_ack));
    }
    if (x->bits & NL_TA_BIT(NL_TA_SPURIOUS_RETRANSMISSION)) {
        if (!want_note(a, NL_TA_SPURIOUS_RETRANSMISSION))
            return 0;
        return nl_note_tcp(a, "spurious-retransmission", frame, f->id,
                           "packet %llu resends bytes %s-%s, which the receiver had already acknowledged (ACK %s "
                           "in packet %llu): a spurious retransmission, not needed; the first copy arrived and "
                           "the sender's timer fired before the ACK reached it",
                           fr, grouped(seq - fb, g1), grouped(seq - fb + seglen - 1, g2),
                           grouped(x->their_ack - fb, g3), (unsigned long long)x->their_ack_frame);
    }
    if (x->bits & NL_TA_BIT(NL_TA_RETRANSMISSION)) {
        if (!want_note(a, NL_TA_RETRANSMISSION))
            return 0;
        if (x->orig_frame) /* what prompted it: duplicate ACKs, or the sender's timer */
            return nl_note_tcp(a, "retransmission", frame, f->id,
                               "packet %llu resends byte %s, first sent in packet %llu %.1f ms earlier%s", fr,
                               grouped(seq - fb, g1), (unsigned long long)x->orig_frame,
                               ms(nl_time_sub(pkt->ts_ns, x->orig_ts)),
                               x->dup_count > 0 ? ", during loss recovery: the receiver's duplicate ACKs (with their "
                                                  "SACK blocks) showed it missing (RFC 6675)"
                                                : "; no duplicate ACKs prompted it, so the sender's retransmission "
                                                  "timer expired (RFC 6298 5)");
        return nl_note_tcp(a, "retransmission", frame, f->id,
                           "packet %llu resends byte %s: its first copy is not in the capture (lost before "
                           "the capture point, see \"previous segment not captured\"), so TCP sent it again",
                           fr, grouped(seq - fb, g1));
    }
    if ((x->bits & NL_TA_BIT(NL_TA_OUT_OF_ORDER)) && want_note(a, NL_TA_OUT_OF_ORDER))
        return nl_note_tcp(a, "out-of-order", frame, f->id,
                           "packet %llu carries byte %s, below the highest already seen (packet %llu) only %.2f "
                           "ms later: it was overtaken on the way (out of order), not sent twice",
                           fr, grouped(seq - fb, g1), (unsigned long long)x->top_frame, ms(x->since_top));
    return 0;
}

/* The notes of one segment, in the order a reader meets them: how it was sent again, what the
 * capture lacks (before it, or acknowledged by it), a full window, a zero window it ends, the
 * keep-alive it answers. Only the first few of each kind are worded (want_note). */
static int ta_word(struct nl_analysis *a, const struct nl_flow *f, const struct nl_ta_conv *t, int dir,
                   const struct nl_decoded *d, const struct nl_frame *pkt, const struct ta_facts *x)
{
    if (!(x->report && (x->bits & TA_WORDED)) && !x->zw_closed && !x->ka_frame)
        return 0; /* most segments: nothing to say */
    const uint32_t fb = t->d[dir].base_seq, rb = t->d[!dir].base_seq, seq = d->seq;
    const unsigned long long fr = (unsigned long long)pkt->number;
    char ea[64], eb[64], g1[32], g2[32], g3[32];
    int rc;
    if (x->report && (rc = ta_word_resent(a, f, d, pkt, fb, x)) < 0)
        return rc;
    if (x->report && (x->bits & NL_TA_BIT(NL_TA_LOST_SEGMENT)) && want_note(a, NL_TA_LOST_SEGMENT) &&
        (rc = nl_note_tcp(a, "lost-segment", pkt->number, f->id,
                          "packet %llu starts at byte %s, but %s's data so far ended before it: bytes %s-%s "
                          "(%s) are not in the capture. If TCP resends them, the network lost them before "
                          "the capture point; if the receiver acknowledges them with no resend, they crossed "
                          "the wire but not the capture point",
                          fr, grouped(seq - fb, g1), ep(f, dir, eb), grouped(x->miss_from - fb, g2),
                          grouped(x->miss_to - 1 - fb, ea), grouped(x->miss_to - x->miss_from, g3))) < 0)
        return rc;
    if (x->report && (x->bits & NL_TA_BIT(NL_TA_ACK_LOST_SEGMENT)) && want_note(a, NL_TA_ACK_LOST_SEGMENT)) {
        if (x->gap_to - x->gap_from <= TA_MAX_WINDOW)
            rc = nl_note_tcp(a, "ack-lost-segment", pkt->number, f->id,
                             "packet %llu: the capture missed bytes %s-%s from %s that the receiver acknowledged: "
                             "they crossed the wire but not the capture point (the capture dropped them, started "
                             "mid-stream or saw another path); this is not loss in the network",
                             fr, grouped(x->gap_from - rb, g1), grouped(x->gap_to - 1 - rb, g2), ep(f, !dir, ea));
        else /* more than any window holds: not bytes in flight of this connection */
            rc = nl_note_tcp(a, "ack-lost-segment", pkt->number, f->id,
                             "packet %llu acknowledges byte %s of %s, %s bytes beyond anything captured from it: "
                             "more than any TCP window allows (2^30 bytes, RFC 7323), so these are not bytes that "
                             "crossed the wire unseen; the ACK answers another connection on the same ports (a "
                             "port reused after a reset) or is no real acknowledgement",
                             fr, grouped(d->ack - rb, g1), ep(f, !dir, ea), grouped(x->gap_to - x->gap_from, g2));
        if (rc < 0)
            return rc;
    }
    if (x->report && (x->bits & NL_TA_BIT(NL_TA_WINDOW_FULL)) && want_note(a, NL_TA_WINDOW_FULL) &&
        (rc = nl_note_tcp(a, "window-full", pkt->number, f->id,
                          "packet %llu fills the window %s advertised (up to byte %s): the sender must wait for an "
                          "ACK before sending more; when this repeats the receiver's buffer limits the throughput",
                          fr, ep(f, !dir, ea), grouped(seq - fb + d->payload_len, g1))) < 0)
        return rc;
    if (x->zw_closed && a->ta->zw_noted++ < TA_NOTES_PER_KIND) {
        const struct ta_rare *r = t->rare;
        char probes[96] = "";
        if (r->zw_probes[dir])
            snprintf(probes, sizeof probes, "; the sender probed it %u time%s (first in packet %llu)",
                     r->zw_probes[dir], r->zw_probes[dir] == 1 ? "" : "s", (unsigned long long)r->zw_first_probe[dir]);
        if ((rc = nl_note_tcp(a, "zero-window", r->zw_frame[dir], f->id,
                              "packet %llu: %s advertised a zero window: its receive buffer was full because "
                              "the application was not reading, so the sender had to stop%s; packet %llu "
                              "reopened the window %.3f s later",
                              (unsigned long long)r->zw_frame[dir], ep(f, dir, ea), probes, fr,
                              (double)nl_time_sub(pkt->ts_ns, r->zw_ts[dir]) / 1e9)) < 0)
            return rc;
    }
    if (x->ka_frame && want_note(a, NL_TA_KEEP_ALIVE) &&
        (rc = nl_note_tcp(a, "keep-alive", x->ka_frame, f->id,
                          "packet %llu is a keep-alive from %s after %.3f s of silence (one byte below its next "
                          "sequence number, SO_KEEPALIVE, RFC 9293 3.8.4) and packet %llu answers it: the "
                          "connection is idle but both ends are alive",
                          (unsigned long long)x->ka_frame, ep(f, !dir, ea), (double)x->ka_idle / 1e9, fr)) < 0)
        return rc;
    return 0;
}

/* With --packets: the segment's row, as Wireshark's packet list shows it. */
static int ta_row(struct nl_analysis *a, const struct nl_flow *f, const struct nl_ta_conv *t, int dir,
                  const struct nl_decoded *d, const struct nl_frame *pkt, const struct ta_facts *x)
{
    const struct ta_dir *F = &t->d[dir], *R = &t->d[!dir];
    if (GROW(a->ta, tpk, ntpk, captpk) < 0)
        return NL_ENOMEM;
    struct nl_tcp_packet *p = &a->ta->tpk[a->ta->ntpk++];
    memset(p, 0, sizeof *p);
    p->packet = pkt->number;
    p->ts_ns = pkt->ts_ns;
    p->conversation = f->id;
    p->from_client = (uint8_t)dir; /* resolved to the client's side when read */
    p->tcp_flags = d->tcp_flags;
    p->seq = d->seq - F->base_seq;
    p->ack = (d->tcp_flags & FL_ACK) ? d->ack - R->base_seq : 0;
    p->len = d->payload_len;
    p->window = x->scaled;
    p->flags = x->report ? x->bits : 0;
    p->dupack_num = x->dupack_num;
    p->dupack_frame = x->dupack_frame;
    p->acked_frame = x->report ? x->acked_frame : 0;
    p->ack_rtt_ms = x->report ? x->ack_rtt : 0;
    p->bytes_in_flight = x->in_flight;
    if (x->report && (x->bits & NL_TA_BIT(NL_TA_LOST_SEGMENT))) {
        p->missing_first = x->miss_from - F->base_seq;
        p->missing_last = x->miss_to - 1 - F->base_seq;
    }
    if (x->report && (x->bits & NL_TA_BIT(NL_TA_ACK_LOST_SEGMENT)) && x->gap_to - x->gap_from <= TA_MAX_WINDOW) {
        p->unseen_first = x->gap_from - R->base_seq;
        p->unseen_last = x->gap_to - 1 - R->base_seq;
    }
    return 0;
}

/* A TCP segment of conversation v->f (the conversations consumer found it): classify it
 * against the state, advance the state, word what a reader is told. */
int nl_ta_packet(struct nl_analysis *a, struct nl_pkt_view *v)
{
    struct nl_flow *f = v->f;
    const struct nl_decoded *d = v->d;
    const struct nl_frame *pkt = v->pkt;
    const int dir = v->dir;
    struct nl_ta_conv *t = ta_conv(a, f);
    if (!t)
        return NL_ENOMEM;
    struct ta_facts x;
    memset(&x, 0, TA_FACTS_CLEARED);
    x.idle = v->prev_ns ? nl_time_sub(pkt->ts_ns, v->prev_ns) : 0;
    struct ta_cold *c = cold_of(a, t); /* NULL until the conversation lists a segment */
    int rc;
    ta_classify(a, f, t, c, dir, d, pkt, &x);
    if ((rc = ta_advance(a, f, t, c, dir, d, pkt, &x)) < 0 || (rc = ta_word(a, f, t, dir, d, pkt, &x)) < 0)
        return rc;
    return a->ta->record_packets ? ta_row(a, f, t, dir, d, pkt, &x) : 0;
}

const struct nl_consumer nl_ta_consumer = {"tcp analysis", nl_ta_packet, NL_WANT_TCP};

/* After the last packet: RTT quantiles (then the samples are freed), open zero windows,
 * and a summary note per troubled conversation. */
int nl_ta_finish(struct nl_analysis *a)
{
    int rc;
    char ea[64], g1[32];
    size_t zw_more = 0;
    for (size_t i = 0; i < a->ft.nflows; i++) {
        struct nl_flow *f = &a->ft.flows[i];
        struct nl_ta_conv *t = f->ta;
        if (!t || t->noted)
            continue;
        t->noted = 1;
        finalize(a, t);
        if (t->cold) /* kept for its SACK blocks: no more packets */
            cold_put(a, t);
        for (int dir = 0; dir < 2; dir++) {
            if (t->d[dir].st & ST_ZW_OPEN) {
                const struct ta_rare *x = t->rare;
                if (a->ta->zw_noted++ < TA_NOTES_PER_KIND) {
                    if ((rc = nl_note_tcp(a, "zero-window", x->zw_frame[dir], f->id,
                                          "packet %llu: %s advertised a zero window (its receive buffer was full: "
                                          "the application was not reading) and the window was still closed when "
                                          "the capture ended; the sender probed it %u time%s",
                                          (unsigned long long)x->zw_frame[dir], ep(f, dir, ea), x->zw_probes[dir],
                                          x->zw_probes[dir] == 1 ? "" : "s")) < 0)
                        return rc;
                }
            }
        }
        uint64_t data = t->d[0].data_segments + t->d[1].data_segments;
        if (!t->rare)
            continue; /* no flag */
        const uint32_t *count = t->rare->count;
        uint64_t re = count[NL_TA_RETRANSMISSION];
        if (re || count[NL_TA_LOST_SEGMENT] || count[NL_TA_ZERO_WINDOW]) {
            if (a->ta->conv_noted++ >= 20) {
                zw_more++;
                continue;
            }
            char extra[256];
            snprintf(extra, sizeof extra,
                     "%llu fast (after duplicate ACKs), %llu spurious (not needed), %llu others (timeout or SACK "
                     "recovery); %llu "
                     "segments not captured, %llu duplicate ACKs, %llu zero windows",
                     (unsigned long long)count[NL_TA_FAST_RETRANSMISSION],
                     (unsigned long long)count[NL_TA_SPURIOUS_RETRANSMISSION],
                     (unsigned long long)(re - count[NL_TA_FAST_RETRANSMISSION] -
                                          count[NL_TA_SPURIOUS_RETRANSMISSION]),
                     (unsigned long long)count[NL_TA_LOST_SEGMENT],
                     (unsigned long long)count[NL_TA_DUPLICATE_ACK],
                     (unsigned long long)count[NL_TA_ZERO_WINDOW]);
            if ((rc = nl_note_tcp(a, "tcp-summary", 0, f->id,
                                  "conversation %u: %s of %llu data segments were retransmissions (%.1f%%): %s",
                                  f->id, grouped(re, g1), (unsigned long long)data,
                                  data ? 100.0 * (double)re / (double)data : 0.0, extra)) < 0)
                return rc;
        }
    }
    static const char *names[NL_TA_NKINDS] = {
        [NL_TA_RETRANSMISSION] = "other retransmissions",
        [NL_TA_FAST_RETRANSMISSION] = "fast retransmissions",
        [NL_TA_SPURIOUS_RETRANSMISSION] = "spurious retransmissions",
        [NL_TA_OUT_OF_ORDER] = "out-of-order segments",
        [NL_TA_LOST_SEGMENT] = "segments not captured",
        [NL_TA_ACK_LOST_SEGMENT] = "ACKs of segments not captured",
        [NL_TA_WINDOW_FULL] = "full windows",
        [NL_TA_KEEP_ALIVE] = "answered keep-alives",
    };
    for (int k = 0; k < NL_TA_NKINDS; k++) {
        if (!names[k] || a->ta->noted[k] <= TA_NOTES_PER_KIND)
            continue;
        if ((rc = nl_note_tcp(a, "tcp-more", 0, 0, "... and %llu more %s (every frame is listed in --json "
                              "tcp_analysis, one line each with --packets)",
                              (unsigned long long)(a->ta->noted[k] - TA_NOTES_PER_KIND), names[k])) < 0)
            return rc;
    }
    if (a->ta->zw_noted > TA_NOTES_PER_KIND &&
        (rc = nl_note_tcp(a, "tcp-more", 0, 0, "... and %llu more zero-window episodes",
                          (unsigned long long)(a->ta->zw_noted - TA_NOTES_PER_KIND))) < 0)
        return rc;
    if (zw_more && (rc = nl_note_tcp(a, "tcp-more", 0, 0, "... and %zu more conversations with retransmissions",
                                     zw_more)) < 0)
        return rc;
    return 0;
}

/* ---- accessors ---- */

uint64_t nl_analysis_ta_total(const struct nl_analysis *a, int k)
{
    return k >= 0 && k < NL_TA_NKINDS ? a->ta->total[k] : 0;
}

size_t nl_analysis_ta_listed(const struct nl_analysis *a, int k)
{
    return k >= 0 && k < NL_TA_NKINDS ? a->ta->n[k] : 0;
}

uint64_t nl_analysis_ta_frame(const struct nl_analysis *a, int k, size_t i)
{
    return k >= 0 && k < NL_TA_NKINDS && i < a->ta->n[k] ? a->ta->frames[k][i] : 0;
}

int nl_analysis_tcp_figures(const struct nl_analysis *a, size_t i, struct nl_tcp_figures *o)
{
    memset(o, 0, sizeof *o);
    o->wscale_c2s = o->wscale_s2c = -1;
    o->handshake_ms = -1;
    if (i >= a->ft.nflows || a->ft.flows[i].proto != 6)
        return NL_EINVAL;
    const struct nl_flow *f = &a->ft.flows[i];
    o->conversation = f->id;
    const struct nl_ta_conv *t = f->ta;
    if (!t)
        return 0;
    int srv = f->server < 0 ? 1 : f->server, cli = !srv;
    const struct ta_dir *C = &t->d[cli], *S = &t->d[srv];
    for (int k = 0; k < NL_TA_NKINDS; k++)
        o->count[k] = count_of(t, k);
    o->mss_c2s = (t->opt[cli] & OPT_MSS) ? t->mss[cli] : 0;
    o->mss_s2c = (t->opt[srv] & OPT_MSS) ? t->mss[srv] : 0;
    o->wscale_c2s = t->ws_offered[cli];
    o->wscale_s2c = t->ws_offered[srv];
    o->sack = (t->opt[cli] & OPT_SACK) && (t->opt[srv] & OPT_SACK);
    o->timestamps = (t->opt[cli] & OPT_TS) && (t->opt[srv] & OPT_TS);
    o->syn_seen = f->d[cli].syn || f->d[srv].syn;
    o->synack_seen = f->d[cli].synack || f->d[srv].synack;
    o->rtt_samples = t->rtt_seen;
    if (t->rtt_seen) {
        o->rtt_min_ms = t->rtt_min;
        o->rtt_max_ms = t->rtt_max;
        o->rtt_median_ms = t->rtt_median;
        o->rtt_p95_ms = t->rtt_p95;
    }
    o->handshake_ms = t->first_rtt >= 0 ? ms(t->first_rtt) : -1;
    double secs = nl_time_span_s(f->first_ns, f->last_ns);
    if (secs > 0) {
        /* the flow's payload counts the same segments (nl_flow_tcp, before nl_ta_packet) */
        o->throughput_bps_c2s = (double)f->d[cli].payload * 8 / secs;
        o->throughput_bps_s2c = (double)f->d[srv].payload * 8 / secs;
    }
    o->max_in_flight = t->max_in_flight;
    o->max_window_c2s = C->max_window;
    o->max_window_s2c = S->max_window;
    o->data_segments = C->data_segments + S->data_segments;
    o->retransmission_rate = o->data_segments ? (double)count_of(t, NL_TA_RETRANSMISSION) / (double)o->data_segments : 0;
    return 0;
}

uint64_t nl_ta_retransmissions(const struct nl_flow *f)
{
    return f->ta ? count_of(f->ta, NL_TA_RETRANSMISSION) : 0;
}

size_t nl_analysis_tcp_packet_count(const struct nl_analysis *a) { return a->ta->ntpk; }

void nl_analysis_tcp_packet(const struct nl_analysis *a, size_t i, struct nl_tcp_packet *out)
{
    if (i >= a->ta->ntpk) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = a->ta->tpk[i];
    const struct nl_flow *f = &a->ft.flows[out->conversation - 1];
    out->from_client = (uint8_t)from_client(f, out->from_client);
}
