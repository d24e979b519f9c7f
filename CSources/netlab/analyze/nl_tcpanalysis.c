/*
 * nl_tcpanalysis.c - TCP sequence analysis per packet (see nl_tcpanalysis.h):
 * the state each direction of a conversation needs to tell a retransmission
 * from an out-of-order segment, duplicate ACKs, window problems and
 * keep-alives, as Wireshark's expert analysis names them; RTT samples, bytes in
 * flight, options. Bounded per conversation: fixed fields, at most
 * NL_TA_UNACKED_CAP unacknowledged segments per direction and NL_TA_RTT_CAP
 * RTT samples (then a uniform reservoir). Notes are worded here, stored by nl_notes.c.
 */
#include "netlab/nl_time.h"
#include "nl_analysis.h"
#include "netlab/nl_tcp.h"
#include "netlab/nl_tcpanalysis.h"

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

struct ta_dir {
    uint32_t base_seq;
    uint32_t nextseq;          /* highest sequence sent + 1; 0: nothing yet (as Wireshark) */
    uint32_t maxseqtobeacked;  /* end of the contiguous data seen */
    uint32_t lastack;          /* ack field of the latest segment */
    uint32_t window;           /* raw window field of the latest segment; ~0 before any */
    uint32_t lastflags;        /* analysis flags of the latest segment */
    uint64_t nextseq_frame, lastack_frame, lastnondupack;
    int64_t nextseq_ts, lastack_ts;
    int32_t dupacknum;         /* -1: an ACKed unseen segment was reported */
    int8_t win_scale;          /* -1 unknown, -2 not used, else the shift */
    uint8_t base_set, valid_bif, window_from_syn;
    uint8_t has_mss, sack_perm, has_ts, nsack, fin;
    uint16_t mss;
    int8_t ws_offered;
    uint32_t sack[4][2];       /* SACK blocks of the latest segment */
    uint32_t max_window;       /* scaled */
    uint64_t data_segments, payload;
    struct ta_seg *segs;       /* unacknowledged segments, oldest first */
    uint32_t nsegs, capsegs;
    /* a zero-window episode this side announced */
    uint8_t zw_open;
    uint64_t zw_frame, zw_first_probe;
    int64_t zw_ts;
    uint32_t zw_probes;
    /* a keep-alive waiting for its answer */
    uint64_t ka_frame;
    int64_t ka_idle_ns;
};

struct nl_ta_conv {
    struct ta_dir d[2];
    int64_t ts_mru_syn, first_rtt, last_ts;
    uint32_t count[NL_TA_NKINDS];
    float *rtt;                /* ms */
    uint32_t nrtt, caprtt;
    uint32_t rtt_seen;
    float rtt_min, rtt_max, rtt_median, rtt_p95;
    uint64_t rng;
    uint32_t max_in_flight;
    uint8_t finished;          /* RTT quantiles computed, lists freed (closed, or the capture ended) */
    uint8_t noted;             /* end-of-capture notes written */
};

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

void nl_ta_free(struct nl_ta_conv *t)
{
    if (!t)
        return;
    free(t->d[0].segs);
    free(t->d[1].segs);
    free(t->rtt);
    free(t);
}

/* ---- helpers ---- */

static int push_seg(struct ta_dir *D, uint32_t seq, uint32_t nextseq, uint64_t frame, int64_t ts)
{
    if (D->nsegs == D->capsegs) {
        uint32_t nc = D->capsegs ? D->capsegs * 2 : 8;
        if (nc > NL_TA_UNACKED_CAP)
            nc = NL_TA_UNACKED_CAP;
        struct ta_seg *s = realloc(D->segs, nc * sizeof *s);
        if (!s)
            return NL_ENOMEM;
        D->segs = s;
        D->capsegs = nc;
    }
    D->segs[D->nsegs++] = (struct ta_seg){seq, nextseq, frame, ts};
    return 0;
}

static int add_rtt(struct nl_ta_conv *t, double ms)
{
    t->rtt_seen++;
    if (t->rtt_seen == 1 || ms < t->rtt_min)
        t->rtt_min = (float)ms;
    if (t->rtt_seen == 1 || ms > t->rtt_max)
        t->rtt_max = (float)ms;
    if (t->finished)
        return 0; /* after the close: counted, not in the quantiles */
    if (t->nrtt < NL_TA_RTT_CAP) {
        if (t->nrtt == t->caprtt) {
            uint32_t nc = t->caprtt ? t->caprtt * 2 : 16;
            float *r = realloc(t->rtt, nc * sizeof *r);
            if (!r)
                return NL_ENOMEM;
            t->rtt = r;
            t->caprtt = nc;
        }
        t->rtt[t->nrtt++] = (float)ms;
        return 0;
    }
    /* Reservoir sampling (Vitter's algorithm R) with a fixed-seed xorshift. */
    t->rng ^= t->rng << 13;
    t->rng ^= t->rng >> 7;
    t->rng ^= t->rng << 17;
    uint64_t j = t->rng % t->rtt_seen;
    if (j < NL_TA_RTT_CAP)
        t->rtt[j] = (float)ms;
    return 0;
}

static int record_flag(struct nl_analysis *a, struct nl_ta_conv *t, int k, uint64_t frame)
{
    t->count[k]++;
    a->ta_total[k]++;
    if (a->ta_n[k] >= a->listed_cap)
        return 0;
    if (a->ta_n[k] == a->ta_cap[k]) {
        size_t nc = a->ta_cap[k] ? a->ta_cap[k] * 2 : 64;
        uint64_t *p = realloc(a->ta_frames[k], nc * sizeof *p);
        if (!p)
            return NL_ENOMEM;
        a->ta_frames[k] = p;
        a->ta_cap[k] = nc;
    }
    a->ta_frames[k][a->ta_n[k]++] = frame;
    return 0;
}

static const char *ep(const struct nl_flow *f, int i, char out[64])
{
    return nl_endpoint_format(f->ipver, f->addr[i], f->port[i], out);
}

static double ms(int64_t ns) { return (double)ns / 1e6; }

/* Should an individual note of this kind be written? Counts every occurrence. */
static int want_note(struct nl_analysis *a, int k)
{
    return a->ta_noted[k]++ < TA_NOTES_PER_KIND;
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

static int cmp_float(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return a < b ? -1 : a > b;
}

/* A conversation is over (or the capture is): RTT quantiles from the samples, then the
 * samples and the unacknowledged lists are freed, so ended conversations keep only the
 * fixed fields. */
static void finalize(struct nl_ta_conv *t)
{
    if (t->finished)
        return;
    t->finished = 1;
    if (t->nrtt) {
        qsort(t->rtt, t->nrtt, sizeof *t->rtt, cmp_float);
        uint32_t n = t->nrtt;
        t->rtt_median = n % 2 ? t->rtt[n / 2] : (t->rtt[n / 2 - 1] + t->rtt[n / 2]) / 2;
        uint32_t r = (uint32_t)((95ull * n + 99) / 100); /* nearest rank */
        t->rtt_p95 = t->rtt[r ? r - 1 : 0];
    }
    free(t->rtt);
    t->rtt = NULL;
    t->nrtt = t->caprtt = 0;
    for (int i = 0; i < 2; i++) {
        free(t->d[i].segs);
        t->d[i].segs = NULL;
        t->d[i].nsegs = t->d[i].capsegs = 0;
    }
}

/* ---- the analysis of one segment ---- */

int nl_ta_packet(struct nl_analysis *a, struct nl_flow *f, int dir, const struct nl_decoded *d,
                 const struct nl_frame *pkt)
{
    if (!f->ta) {
        f->ta = calloc(1, sizeof *f->ta);
        if (!f->ta)
            return NL_ENOMEM;
        for (int i = 0; i < 2; i++) {
            f->ta->d[i].window = UINT32_MAX;
            f->ta->d[i].win_scale = -1;
            f->ta->d[i].valid_bif = 1;
            f->ta->d[i].ws_offered = -1;
        }
        f->ta->first_rtt = -1;
        f->ta->ts_mru_syn = -1;
        f->ta->rng = 0x9e3779b97f4a7c15ull ^ f->id;
    }
    struct nl_ta_conv *t = f->ta;
    struct ta_dir *F = &t->d[dir], *R = &t->d[!dir];
    const uint32_t seq = d->seq, ack = d->ack, seglen = d->payload_len, window = d->window;
    const uint8_t fl = d->tcp_flags;
    const uint64_t frame = pkt->number;
    const int64_t now = pkt->ts_ns;
    uint32_t bits = 0, dupack_num = 0;
    uint64_t dupack_frame = 0, acked_frame = 0;
    double ack_rtt = 0;
    uint32_t in_flight_out = 0;
    int rc;
    int64_t idle = t->last_ts ? nl_time_sub(now, t->last_ts) : 0;
    char ea[64], eb[64], g1[32], g2[32];

    /* Relative numbering: the ISN of a SYN, else the sequence number before the first seen. */
    if (!F->base_set) {
        F->base_seq = (fl & FL_SYN) ? seq : seq - 1;
        F->base_set = 1;
    }
    if (!R->base_set && (fl & FL_ACK)) {
        R->base_seq = ack - 1;
        R->base_set = 1;
    }
    if (fl & FL_ACK)
        R->valid_bif = 1;

    /* A one-byte segment at the next sequence number while the other side's window is closed. */
    if (seglen == 1 && seq == F->nextseq && R->window == 0) {
        bits |= NL_TA_BIT(NL_TA_ZERO_WINDOW_PROBE);
        goto finished_fwd;
    }
    if (window == 0 && !(fl & (FL_RST | FL_FIN | FL_SYN)))
        bits |= NL_TA_BIT(NL_TA_ZERO_WINDOW);
    /* Beyond the highest sequence seen: bytes before it were not captured. */
    if (F->nextseq && SEQ_GT(seq, F->nextseq) && !(fl & FL_RST)) {
        bits |= NL_TA_BIT(NL_TA_LOST_SEGMENT);
        F->valid_bif = 0;
    }
    /* Zero or one byte, one below the next sequence number: a keep-alive (RFC 9293 3.8.4). */
    if (seglen <= 1 && seq == F->nextseq - 1 && !(fl & (FL_SYN | FL_FIN | FL_RST)))
        bits |= NL_TA_BIT(NL_TA_KEEP_ALIVE);
    /* Nothing new but the window. */
    if (seglen == 0 && window && window != F->window && seq == F->nextseq && ack == F->lastack &&
        !(fl & (FL_SYN | FL_FIN | FL_RST)))
        bits |= NL_TA_BIT(NL_TA_WINDOW_UPDATE);
    /* Data up to the right edge of the window the other side advertised. */
    if (seglen > 0 && R->win_scale != -1 && !(fl & (FL_SYN | FL_FIN | FL_RST))) {
        int shift = (R->window_from_syn || R->win_scale == -2) ? 0 : R->win_scale;
        if (seq + seglen == R->lastack + (uint32_t)((uint64_t)R->window << shift))
            bits |= NL_TA_BIT(NL_TA_WINDOW_FULL);
    }
    if (seglen == 0 && window && window == F->window && seq == F->nextseq && ack == F->lastack &&
        (R->lastflags & NL_TA_BIT(NL_TA_KEEP_ALIVE)) && !(fl & (FL_SYN | FL_FIN | FL_RST))) {
        bits |= NL_TA_BIT(NL_TA_KEEP_ALIVE_ACK);
        goto finished_fwd;
    }
    if (seglen == 0 && window == 0 && window == F->window && seq == F->nextseq && ack == F->lastack &&
        (R->lastflags & NL_TA_BIT(NL_TA_ZERO_WINDOW_PROBE)) && !(fl & (FL_SYN | FL_FIN | FL_RST))) {
        bits |= NL_TA_BIT(NL_TA_ZERO_WINDOW_PROBE_ACK);
        goto finished_fwd;
    }
    /* The same ACK, window and sequence again, without data: a duplicate ACK (RFC 5681 2). */
    if (seglen == 0 && window && window == F->window && seq == F->nextseq && ack == F->lastack &&
        !(fl & (FL_SYN | FL_FIN | FL_RST))) {
        F->dupacknum = F->dupacknum == -1 ? 1 : F->dupacknum + 1;
        bits |= NL_TA_BIT(NL_TA_DUPLICATE_ACK);
        dupack_num = (uint32_t)F->dupacknum;
        dupack_frame = F->lastnondupack;
    }

finished_fwd:
    if (ack != F->lastack) {
        F->lastnondupack = frame;
        F->dupacknum = 0;
    }

    /* Acknowledging beyond the contiguous data seen from the other side. */
    if (R->maxseqtobeacked && SEQ_GT(ack, R->maxseqtobeacked) && (fl & FL_ACK)) {
        if (R->maxseqtobeacked > R->nextseq) { /* a plain comparison, as Wireshark makes it */
            R->maxseqtobeacked = R->nextseq;
            bits |= NL_TA_BIT(NL_TA_ACK_LOST_SEGMENT);
        } else {
            if (R->dupacknum == 0)
                bits |= NL_TA_BIT(NL_TA_ACK_LOST_SEGMENT);
            R->dupacknum = -1;
        }
    }

    /* Data (or SYN/FIN) that does not advance the sequence: sent before, or overtaken. */
    if (seglen > 0 || (fl & (FL_SYN | FL_FIN))) {
        int not_advanced = F->nextseq && SEQ_LT(seq, F->nextseq);
        if (bits & NL_TA_BIT(NL_TA_KEEP_ALIVE))
            goto classified;
        if (seglen > 1 && F->nextseq - 1 == seq) /* new data after a zero-window probe's byte */
            not_advanced = 0;
        if (seglen > 0 && R->lastack && SEQ_LE(seq + seglen, R->lastack)) {
            bits |= NL_TA_BIT(NL_TA_SPURIOUS_RETRANSMISSION) | NL_TA_BIT(NL_TA_RETRANSMISSION);
            goto classified;
        }
        int64_t since_ack = nl_time_sub(now, R->lastack_ts);
        if (not_advanced && R->dupacknum >= 2 && R->lastack == seq && since_ack >= 0 &&
            since_ack < NL_TA_FAST_RETRANS_NS) {
            bits |= NL_TA_BIT(NL_TA_FAST_RETRANSMISSION) | NL_TA_BIT(NL_TA_RETRANSMISSION);
            goto classified;
        }
        int64_t since_top = nl_time_sub(now, F->nextseq_ts);
        int64_t thres = t->first_rtt > 0 ? t->first_rtt : NL_TA_OOO_DEFAULT_NS;
        if (not_advanced && since_top >= 0 && since_top < thres &&
            F->nextseq != seq + seglen + ((fl & (FL_SYN | FL_FIN)) ? 1 : 0)) {
            bits |= NL_TA_BIT(NL_TA_OUT_OF_ORDER);
            goto classified;
        }
        if (not_advanced)
            bits |= NL_TA_BIT(NL_TA_RETRANSMISSION);
    }
classified:;

    /* A segment whose TCP options the capture cut is analysed (the state moves on) but its
     * flags are not reported: tshark's dissection stops at the cut before it shows them. */
    const int report = !d->tcp_opts_cut;

    /* ---- plain-language notes, worded before the state moves on ---- */
    uint32_t fb = F->base_seq, rb = R->base_seq;
    if (!report) {
        /* nothing to say */
    } else if (bits & NL_TA_BIT(NL_TA_FAST_RETRANSMISSION)) {
        if (want_note(a, NL_TA_FAST_RETRANSMISSION) &&
            (rc = nl_note_tcp(a, "fast-retransmission", frame, f->id,
                              "packets %llu-%llu: %d duplicate ACKs for byte %s (the receiver is missing it); packet "
                              "%llu resends it %.1f ms after the last (a fast retransmission, RFC 5681 3.2)",
                              (unsigned long long)R->lastnondupack, (unsigned long long)R->lastack_frame,
                              R->dupacknum, grouped(seq - fb, g1), (unsigned long long)frame, ms(nl_time_sub(now, R->lastack_ts))))
                < 0)
            return rc;
    } else if (bits & NL_TA_BIT(NL_TA_SPURIOUS_RETRANSMISSION)) {
        if (want_note(a, NL_TA_SPURIOUS_RETRANSMISSION) &&
            (rc = nl_note_tcp(a, "spurious-retransmission", frame, f->id,
                              "packet %llu resends bytes %s-%s, which the receiver had already acknowledged (ACK %s "
                              "in packet %llu): a spurious retransmission, not needed; the first copy arrived and "
                              "the sender's timer fired before the ACK reached it",
                              (unsigned long long)frame, grouped(seq - fb, g1), grouped(seq - fb + seglen - 1, g2),
                              grouped(R->lastack - fb, ea), (unsigned long long)R->lastack_frame)) < 0)
            return rc;
    } else if (bits & NL_TA_BIT(NL_TA_RETRANSMISSION)) {
        if (want_note(a, NL_TA_RETRANSMISSION)) {
            uint64_t orig = 0;
            int64_t ots = 0;
            for (uint32_t i = 0; i < F->nsegs; i++)
                if (SEQ_LE(F->segs[i].seq, seq) && SEQ_GT(F->segs[i].nextseq, seq)) {
                    orig = F->segs[i].frame;
                    ots = F->segs[i].ts;
                    break;
                }
            if (orig && R->dupacknum > 0)
                rc = nl_note_tcp(a, "retransmission", frame, f->id,
                                 "packet %llu resends byte %s, first sent in packet %llu %.1f ms earlier, during "
                                 "loss recovery: the receiver's duplicate ACKs (with their SACK blocks) showed it "
                                 "missing (RFC 6675)",
                                 (unsigned long long)frame, grouped(seq - fb, g1), (unsigned long long)orig,
                                 ms(nl_time_sub(now, ots)));
            else if (orig)
                rc = nl_note_tcp(a, "retransmission", frame, f->id,
                                 "packet %llu resends byte %s, first sent in packet %llu %.1f ms earlier; no "
                                 "duplicate ACKs prompted it, so the sender's retransmission timer expired "
                                 "(RFC 6298 5)",
                                 (unsigned long long)frame, grouped(seq - fb, g1), (unsigned long long)orig,
                                 ms(nl_time_sub(now, ots)));
            else
                rc = nl_note_tcp(a, "retransmission", frame, f->id,
                                 "packet %llu resends byte %s: its first copy is not in the capture (lost before "
                                 "the capture point, see \"previous segment not captured\"), so TCP sent it again",
                                 (unsigned long long)frame, grouped(seq - fb, g1));
            if (rc < 0)
                return rc;
        }
    } else if (bits & NL_TA_BIT(NL_TA_OUT_OF_ORDER)) {
        if (want_note(a, NL_TA_OUT_OF_ORDER) &&
            (rc = nl_note_tcp(a, "out-of-order", frame, f->id,
                              "packet %llu carries byte %s, below the highest already seen (packet %llu) only %.2f "
                              "ms later: it was overtaken on the way (out of order), not sent twice",
                              (unsigned long long)frame, grouped(seq - fb, g1), (unsigned long long)F->nextseq_frame,
                              ms(nl_time_sub(now, F->nextseq_ts)))) < 0)
            return rc;
    }
    if (report && (bits & NL_TA_BIT(NL_TA_LOST_SEGMENT)) && want_note(a, NL_TA_LOST_SEGMENT) &&
        (rc = nl_note_tcp(a, "lost-segment", frame, f->id,
                          "packet %llu starts at byte %s, but %s's data so far ended at byte %s: %u bytes were "
                          "never captured (dropped before the capture point, or by the capture itself); a "
                          "retransmission should follow",
                          (unsigned long long)frame, grouped(seq - fb, g1), ep(f, dir, eb),
                          grouped(F->nextseq - fb, g2), seq - F->nextseq)) < 0)
        return rc;
    if (report && (bits & NL_TA_BIT(NL_TA_ACK_LOST_SEGMENT)) && want_note(a, NL_TA_ACK_LOST_SEGMENT) &&
        (rc = nl_note_tcp(a, "ack-lost-segment", frame, f->id,
                          "packet %llu acknowledges byte %s from %s, beyond the data captured from it: segments "
                          "the receiver got were not captured (common at the start of a capture)",
                          (unsigned long long)frame, grouped(ack - rb, g1), ep(f, !dir, ea))) < 0)
        return rc;
    if (report && (bits & NL_TA_BIT(NL_TA_WINDOW_FULL)) && want_note(a, NL_TA_WINDOW_FULL) &&
        (rc = nl_note_tcp(a, "window-full", frame, f->id,
                          "packet %llu fills the window %s advertised (up to byte %s): the sender must wait for an "
                          "ACK before sending more; when this repeats the receiver's buffer limits the throughput",
                          (unsigned long long)frame, ep(f, !dir, ea), grouped(seq - fb + seglen, g1))) < 0)
        return rc;
    /* Zero-window episodes: opened by this side's zero window, probed by the other, closed by a
     * window again. */
    if ((bits & NL_TA_BIT(NL_TA_ZERO_WINDOW)) && !F->zw_open) {
        F->zw_open = 1;
        F->zw_frame = frame;
        F->zw_ts = now;
        F->zw_probes = 0;
        F->zw_first_probe = 0;
    } else if (F->zw_open && window && !(fl & FL_RST)) {
        F->zw_open = 0;
        if (a->ta_zw_noted++ < TA_NOTES_PER_KIND) {
            char probes[96] = "";
            if (F->zw_probes)
                snprintf(probes, sizeof probes, "; the sender probed it %u time%s (first in packet %llu)",
                         F->zw_probes, F->zw_probes == 1 ? "" : "s", (unsigned long long)F->zw_first_probe);
            if ((rc = nl_note_tcp(a, "zero-window", F->zw_frame, f->id,
                                  "packet %llu: %s advertised a zero window: its receive buffer was full because "
                                  "the application was not reading, so the sender had to stop%s; packet %llu "
                                  "reopened the window %.3f s later",
                                  (unsigned long long)F->zw_frame, ep(f, dir, ea), probes,
                                  (unsigned long long)frame, (double)nl_time_sub(now, F->zw_ts) / 1e9)) < 0)
                return rc;
        }
    }
    if ((bits & NL_TA_BIT(NL_TA_ZERO_WINDOW_PROBE)) && R->zw_open) {
        if (!R->zw_probes)
            R->zw_first_probe = frame;
        R->zw_probes++;
    }
    if (bits & NL_TA_BIT(NL_TA_KEEP_ALIVE)) {
        F->ka_frame = frame;
        F->ka_idle_ns = idle;
    }
    if ((bits & NL_TA_BIT(NL_TA_KEEP_ALIVE_ACK)) && R->ka_frame) {
        if (want_note(a, NL_TA_KEEP_ALIVE) &&
            (rc = nl_note_tcp(a, "keep-alive", R->ka_frame, f->id,
                              "packet %llu is a keep-alive from %s after %.3f s of silence (one byte below its next "
                              "sequence number, SO_KEEPALIVE, RFC 9293 3.8.4) and packet %llu answers it: the "
                              "connection is idle but both ends are alive",
                              (unsigned long long)R->ka_frame, ep(f, !dir, ea), (double)R->ka_idle_ns / 1e9,
                              (unsigned long long)frame)) < 0)
            return rc;
        R->ka_frame = 0;
    }

    /* ---- the state moves on ---- */
    uint32_t nextseq = seq + seglen;
    if ((seglen || (fl & (FL_SYN | FL_FIN))) && F->nsegs < NL_TA_UNACKED_CAP) {
        if (fl & (FL_SYN | FL_FIN))
            nextseq += 1;
        if ((rc = push_seg(F, seq, nextseq, frame, now)) < 0)
            return rc;
    }
    if (SEQ_GT(nextseq, F->nextseq) || !F->nextseq) {
        if (!(bits & NL_TA_BIT(NL_TA_ZERO_WINDOW_PROBE))) {
            F->nextseq = nextseq;
            F->nextseq_frame = frame;
            F->nextseq_ts = now;
        }
    }
    if (seq == F->maxseqtobeacked || !F->maxseqtobeacked) {
        if (!(bits & NL_TA_BIT(NL_TA_ZERO_WINDOW_PROBE)))
            F->maxseqtobeacked = F->nextseq;
    }
    F->window = window;
    F->window_from_syn = (fl & FL_SYN) != 0;
    F->lastack = ack;
    F->lastack_ts = now;
    F->lastack_frame = frame;
    F->lastflags = bits;

    /* Segments of the other side this ACK covers: an RTT sample from the oldest one it ends exactly. */
    {
        uint32_t k = 0;
        int matched = 0;
        for (uint32_t i = 0; i < R->nsegs; i++) {
            struct ta_seg *s = &R->segs[i];
            if (ack == s->nextseq) {
                if (!matched) {
                    matched = 1;
                    acked_frame = s->frame;
                    ack_rtt = ms(nl_time_sub(now, s->ts));
                }
                continue; /* removed */
            }
            if (SEQ_GT(ack, s->seq) && SEQ_LE(ack, s->nextseq))
                s->seq = ack; /* partly acknowledged */
            if (SEQ_GT(s->nextseq, ack)) {
                R->segs[k++] = *s;
                continue;
            }
        }
        R->nsegs = k;
        if (matched && report && ack_rtt != 0 && (rc = add_rtt(t, ack_rtt)) < 0)
            return rc;
    }

    /* Bytes in flight after this segment: the span of its unacknowledged data, less what the
     * other side's latest SACK blocks say arrived. */
    if (seglen && F->nsegs && F->valid_bif) {
        uint32_t first = F->segs[0].seq - F->base_seq, last = F->segs[0].nextseq - F->base_seq;
        for (uint32_t i = 1; i < F->nsegs; i++) {
            uint32_t s = F->segs[i].seq - F->base_seq, e = F->segs[i].nextseq - F->base_seq;
            if (e > last)
                last = e;
            if (s < first)
                first = s;
        }
        uint32_t inf = last - first;
        for (int i = 0; i < R->nsack; i++)
            inf -= R->sack[i][1] - R->sack[i][0];
        if (inf > 0 && inf < 2000000000u) {
            if (fl & (FL_SYN | FL_FIN))
                inf -= 1;
            in_flight_out = inf;
            if (inf > t->max_in_flight)
                t->max_in_flight = inf;
        }
    }

    /* Options: the SYN's negotiate (window scale as RFC 7323 2.2: both sides or neither),
     * every segment's SACK blocks are remembered for bytes in flight. */
    F->nsack = 0;
    const uint8_t *opt = d->payload && !d->tcp_opts_cut && d->tcp_hlen > NL_TCP_HDR_MIN
                             ? d->payload - d->tcp_hlen + NL_TCP_HDR_MIN : NULL; /* the whole header was captured */
    /* The usual NOP, NOP, timestamps alone carries nothing this needs outside a SYN: skip the parse. */
    int ts_only = d->tcp_hlen == 32 && opt && opt[0] == 1 && opt[1] == 1 && opt[2] == 8 && !(fl & FL_SYN);
    if (opt && !ts_only) {
        struct nl_tcp_opts o;
        if (nl_tcp_options_parse(opt, d->tcp_hlen - NL_TCP_HDR_MIN, &o) == 0 || o.has_mss || o.nsack) {
            for (int i = 0; i < o.nsack && i < 4; i++) {
                F->sack[i][0] = o.sack[i][0];
                F->sack[i][1] = o.sack[i][1];
            }
            F->nsack = (uint8_t)(o.nsack > 4 ? 4 : o.nsack);
            if (fl & FL_SYN) {
                F->has_mss = (uint8_t)o.has_mss;
                F->mss = o.mss;
                F->sack_perm = (uint8_t)o.sack_permitted;
                F->has_ts = (uint8_t)o.has_ts;
                if (o.has_wscale) {
                    F->ws_offered = (int8_t)(o.wscale > 14 ? 14 : o.wscale);
                    F->win_scale = F->ws_offered;
                }
            }
        }
    }
    if (fl & FL_SYN) {
        int synack = (fl & FL_ACK) != 0;
        if (F->win_scale == -1) {
            F->win_scale = -2;
            R->win_scale = -2;
        } else if (synack && R->win_scale == -2) {
            F->win_scale = -2;
        }
        if (!synack)
            t->ts_mru_syn = now;
    }
    if ((fl & (FL_SYN | FL_ACK)) == FL_ACK && t->ts_mru_syn >= 0 && t->first_rtt < 0)
        t->first_rtt = nl_time_sub(now, t->ts_mru_syn);

    uint32_t scaled = (fl & FL_SYN) || F->win_scale < 0 ? window : (uint32_t)((uint64_t)window << F->win_scale);
    if (scaled > F->max_window)
        F->max_window = scaled;
    if (seglen) {
        F->data_segments++;
        F->payload += seglen;
    }
    t->last_ts = now;
    if (fl & FL_FIN)
        F->fin = 1;
    /* Over: a reset, or both FINs sent and everything acknowledged. */
    if (!t->finished && ((fl & FL_RST) || (F->fin && R->fin && !F->nsegs && !R->nsegs)))
        finalize(t);

    for (int k = 0; k < NL_TA_NKINDS && report; k++)
        if ((bits & NL_TA_BIT(k)) && (rc = record_flag(a, t, k, frame)) < 0)
            return rc;

    if (a->record_packets) {
        if (GROW(a, tpk, ntpk, captpk) < 0)
            return NL_ENOMEM;
        struct nl_tcp_packet *p = &a->tpk[a->ntpk++];
        memset(p, 0, sizeof *p);
        p->packet = frame;
        p->ts_ns = now;
        p->conversation = f->id;
        p->from_client = (uint8_t)dir; /* resolved to the client's side when read */
        p->tcp_flags = fl;
        p->seq = seq - F->base_seq;
        p->ack = (fl & FL_ACK) ? ack - R->base_seq : 0;
        p->len = seglen;
        p->window = scaled;
        p->flags = report ? bits : 0;
        p->dupack_num = dupack_num;
        p->dupack_frame = dupack_frame;
        p->acked_frame = report ? acked_frame : 0;
        p->ack_rtt_ms = report ? ack_rtt : 0;
        p->bytes_in_flight = in_flight_out;
    }
    return 0;
}


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
        finalize(t);
        for (int dir = 0; dir < 2; dir++) {
            struct ta_dir *D = &t->d[dir];
            if (D->zw_open) {
                if (a->ta_zw_noted++ < TA_NOTES_PER_KIND) {
                    if ((rc = nl_note_tcp(a, "zero-window", D->zw_frame, f->id,
                                          "packet %llu: %s advertised a zero window (its receive buffer was full: "
                                          "the application was not reading) and the window was still closed when "
                                          "the capture ended; the sender probed it %u time%s",
                                          (unsigned long long)D->zw_frame, ep(f, dir, ea), D->zw_probes,
                                          D->zw_probes == 1 ? "" : "s")) < 0)
                        return rc;
                }
            }
        }
        uint64_t data = t->d[0].data_segments + t->d[1].data_segments;
        uint64_t re = t->count[NL_TA_RETRANSMISSION];
        if (re || t->count[NL_TA_LOST_SEGMENT] || t->count[NL_TA_ZERO_WINDOW]) {
            if (a->ta_conv_noted++ >= 20) {
                zw_more++;
                continue;
            }
            char extra[256];
            snprintf(extra, sizeof extra,
                     "%llu fast (after duplicate ACKs), %llu spurious (not needed), %llu others (timeout or SACK "
                     "recovery); %llu "
                     "segments not captured, %llu duplicate ACKs, %llu zero windows",
                     (unsigned long long)t->count[NL_TA_FAST_RETRANSMISSION],
                     (unsigned long long)t->count[NL_TA_SPURIOUS_RETRANSMISSION],
                     (unsigned long long)(re - t->count[NL_TA_FAST_RETRANSMISSION] -
                                          t->count[NL_TA_SPURIOUS_RETRANSMISSION]),
                     (unsigned long long)t->count[NL_TA_LOST_SEGMENT],
                     (unsigned long long)t->count[NL_TA_DUPLICATE_ACK],
                     (unsigned long long)t->count[NL_TA_ZERO_WINDOW]);
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
        if (!names[k] || a->ta_noted[k] <= TA_NOTES_PER_KIND)
            continue;
        if ((rc = nl_note_tcp(a, "tcp-more", 0, 0, "... and %llu more %s (every frame is listed in --json "
                              "tcp_analysis, one line each with --packets)",
                              (unsigned long long)(a->ta_noted[k] - TA_NOTES_PER_KIND), names[k])) < 0)
            return rc;
    }
    if (a->ta_zw_noted > TA_NOTES_PER_KIND &&
        (rc = nl_note_tcp(a, "tcp-more", 0, 0, "... and %llu more zero-window episodes",
                          (unsigned long long)(a->ta_zw_noted - TA_NOTES_PER_KIND))) < 0)
        return rc;
    if (zw_more && (rc = nl_note_tcp(a, "tcp-more", 0, 0, "... and %zu more conversations with retransmissions",
                                     zw_more)) < 0)
        return rc;
    return 0;
}

/* ---- accessors ---- */

uint64_t nl_analysis_ta_total(const struct nl_analysis *a, int k)
{
    return k >= 0 && k < NL_TA_NKINDS ? a->ta_total[k] : 0;
}

size_t nl_analysis_ta_listed(const struct nl_analysis *a, int k)
{
    return k >= 0 && k < NL_TA_NKINDS ? a->ta_n[k] : 0;
}

uint64_t nl_analysis_ta_frame(const struct nl_analysis *a, int k, size_t i)
{
    return k >= 0 && k < NL_TA_NKINDS && i < a->ta_n[k] ? a->ta_frames[k][i] : 0;
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
        o->count[k] = t->count[k];
    o->mss_c2s = C->has_mss ? C->mss : 0;
    o->mss_s2c = S->has_mss ? S->mss : 0;
    o->wscale_c2s = C->ws_offered;
    o->wscale_s2c = S->ws_offered;
    o->sack = C->sack_perm && S->sack_perm;
    o->timestamps = C->has_ts && S->has_ts;
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
        o->throughput_bps_c2s = (double)C->payload * 8 / secs;
        o->throughput_bps_s2c = (double)S->payload * 8 / secs;
    }
    o->max_in_flight = t->max_in_flight;
    o->max_window_c2s = C->max_window;
    o->max_window_s2c = S->max_window;
    o->data_segments = C->data_segments + S->data_segments;
    o->retransmission_rate = o->data_segments ? (double)t->count[NL_TA_RETRANSMISSION] / (double)o->data_segments : 0;
    return 0;
}

uint64_t nl_ta_retransmissions(const struct nl_flow *f)
{
    return f->ta ? f->ta->count[NL_TA_RETRANSMISSION] : 0;
}

size_t nl_analysis_tcp_packet_count(const struct nl_analysis *a) { return a->ntpk; }

void nl_analysis_tcp_packet(const struct nl_analysis *a, size_t i, struct nl_tcp_packet *out)
{
    if (i >= a->ntpk) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = a->tpk[i];
    const struct nl_flow *f = &a->ft.flows[out->conversation - 1];
    out->from_client = (uint8_t)from_client(f, out->from_client);
}
