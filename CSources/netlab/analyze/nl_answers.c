/*
 * nl_answers.c - the answer sheet of a capture (see nl_answers.h for the rules): a
 * consumer of the analysis' one packet loop (nl_analyze.c, nl_analysis.h). It sees each
 * TCP segment after the conversations consumer has found its conversation and side
 * (duplicate copies are only counted, through nl_answers_copy), cuts each side's payload
 * into lines and pairs them as they come, and at the end checks the server it assumed
 * against the one the analysis decided. Owns no policy of the analysis (conversations,
 * servers, duplicates are nl_analyze's); prints nothing. nl_answers_file/mem are wrappers
 * that make an analysis asking for answers. The interface words live in nl_answers_if.c.
 */
#include "nl_analysis.h"
#include "nl_answers_int.h"
#include "nl_wscale.h"
#include "netlab/nl_answers.h"
#include "netlab/nl_link.h"
#include "netlab/nl_text.h"
#include "netlab/nl_tcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIDE_CLIENT 1
#define SIDE_SERVER 2
#define MATCH_WINDOW 64          /* waiting requests an echo line is compared with */
#define TAIL 64                  /* last bytes of a line kept to compare lines longer than the text kept */

enum { MATCH_NONE, MATCH_TRANSFORM, MATCH_IDENTICAL, MATCH_CHAT };

static const char *const no_reply_text[] = {
    NULL,
    "the server sent no line after it in the capture",
    "the server's next line is not its echo (reversed and case-swapped, or identical), and the protocol is "
    "not netlab's chat: nothing tells which of its lines would answer this one",
    "chat MSG/SAY: the server sends no reply",
    "the server echoed a later line but not this one",
    "no packet from the server was captured",
};
enum { NR_NONE, NR_NOTHING_AFTER, NR_NOT_ECHO, NR_NOT_EXPECTED, NR_SKIPPED, NR_ONE_WAY };

struct text {
    uint8_t *p;
    size_t len;
};

/* One message of one side: a line (to its line feed), which may span segments. */
struct msg {
    uint64_t pkt, last;
    uint32_t bytes, segs, pkt_bytes;
    struct text t;
    uint8_t tail[TAIL];          /* its last bytes (the text keeps only its first NL_ANSWERS_TEXT_CAP) */
    uint8_t ntail;
};

struct xchg {
    struct msg req, rep;
    uint32_t req_line, req_lines;
    uint32_t rep_shared;
    uint64_t unmatched;          /* the server line that came when this one waited and is not its reply */
    uint8_t expect_reply, req_done, match, no_reply;
};

struct conv {
    uint64_t frames[2], fbytes[2], payload[2]; /* by direction (0: from endpoint 0) */
    struct msg greet;
    struct xchg *x;
    size_t nx, capx, nx_total;
    size_t next_reply;           /* first exchange still waiting for its reply */
    size_t rep_at;               /* the exchange the open reply line belongs to (+1; 0: none) */
    uint64_t cfirst, sfirst;     /* first payload packet of each side */
    uint64_t unpaired;           /* server lines that answer no request */
    uint64_t *ties;
    size_t nties, capties, ties_total;
    uint32_t largest;
    uint32_t hi[2], cseq;
    int8_t srv;                  /* the server assumed while pairing; -1 before any payload */
    uint8_t have_hi[2], have_cseq, chat, echo, cand, snapped, srv_changed;
    uint8_t last_side;           /* SIDE_*: who sent the latest payload */
    uint8_t req_open, rep_open, greet_open;
    uint8_t full[3];             /* by SIDE_*: its latest segment was full-sized (cut by the MSS) */
    uint32_t maxseg[3];          /* by SIDE_*: its largest segment */
    struct nl_ans_if ifs[NL_ANSWERS_IFACE_CAP];
    size_t nifs;
    const char *user;
    char no_greet[160];
    char cannot[200];
};

struct user_rec {
    char *name;
    uint32_t flow;               /* index */
    uint64_t packet;
};

struct nl_answers {
    struct nl_analysis *an;      /* the analysis these answers belong to (NULL once taken from it) */
    const struct nl_flow *fl;    /* the conversations, by flow index: the analysis', or own once taken */
    struct nl_flow *own_fl;
    const struct nl_summary *sum;/* the capture's counts: the analysis', or own once taken */
    struct nl_summary own_sum;
    char read_err[NL_ERRBUF_SIZE];
    struct nl_analysis *owner;   /* nl_answers_file/mem: the analysis made for them, freed with them */
    char *file;
    const void *mem;             /* a capture in memory (the caller's), else NULL */
    size_t mem_len;
    int released;
    int taken;                   /* nl_analysis_take_answers: the caller's, freed by nl_answers_free */
    char **if_name, **if_desc;   /* the file's interfaces (pcapng IDB options), by number */
    size_t nfile_if;
    struct conv **cv;            /* by flow index; NULL: UDP, or past max_listed */
    size_t ncv;
    size_t *tcp;                 /* flow index of each answered TCP conversation, in order */
    size_t ntcp, captcp, ntcp_total;
    uint64_t nx_kept, nx_total;  /* exchanges kept (listed) and seen, over every conversation */
    uint32_t listed_cap;
    uint32_t largest;
    uint64_t *ties;
    size_t nties, capties, ties_total;
    struct user_rec *users;
    size_t nusers, capusers;
    char cannot[600];
};

static int text_append(struct text *t, const uint8_t *p, size_t n)
{
    if (t->len >= NL_ANSWERS_TEXT_CAP || !n)
        return 0;
    n = NL_MIN(n, NL_ANSWERS_TEXT_CAP - t->len);
    uint8_t *q = realloc(t->p, t->len + n);
    if (!q)
        return NL_ENOMEM;
    memcpy(q + t->len, p, n);
    t->p = q;
    t->len += n;
    return 0;
}

/* n captured bytes of a message (of `bytes` on the wire) in packet pkt, whose tcp.len is seg_len. */
static int msg_add(struct msg *m, const uint8_t *p, size_t n, uint32_t bytes, uint64_t pkt, uint32_t seg_len)
{
    if (!m->pkt) {
        m->pkt = pkt;
        m->pkt_bytes = seg_len;
    }
    if (m->last != pkt)
        m->segs++;
    m->last = pkt;
    m->bytes += bytes;
    if (n >= TAIL) {
        memcpy(m->tail, p + n - TAIL, TAIL);
        m->ntail = TAIL;
    } else {
        size_t keep = NL_MIN((size_t)m->ntail, TAIL - n);
        memmove(m->tail, m->tail + m->ntail - keep, keep);
        memcpy(m->tail + keep, p, n);
        m->ntail = (uint8_t)(keep + n);
    }
    return text_append(&m->t, p, n);
}

static void msg_free(struct msg *m)
{
    free(m->t.p);
    memset(m, 0, sizeof *m);
}

static int add_tie(uint64_t **arr, size_t *n, size_t *cap, size_t *total, uint32_t *largest, uint32_t len,
                   uint64_t pkt)
{
    if (len < *largest || len == 0)
        return 0;
    if (len > *largest) {
        *largest = len;
        *n = 0;
        *total = 0;
    }
    (*total)++;
    if (*n >= NL_ANSWERS_TIE_CAP)
        return 0;
    if (nl_grow((void **)arr, *n, cap, sizeof **arr) < 0)
        return NL_ENOMEM;
    (*arr)[(*n)++] = pkt;
    return 0;
}

/* ---- the chat protocol, as far as pairing needs it (docs/PROTOCOL.md) ---- */

static int starts_word(const uint8_t *p, size_t n, const char *w)
{
    size_t k = strlen(w);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++)
        if ((p[i] | 0x20) != (w[i] | 0x20))
            return 0;
    return n == k || p[k] == ' ' || p[k] == '\r' || p[k] == '\n';
}

/* A server line that reports someone else's action: not a reply. */
static int chat_event(const uint8_t *p, size_t n)
{
    static const char *ev[] = {"REQUEST", "ACCEPTED", "DECLINED", "FROM", "LEFT", "GONE", "JOINED", "PARTED", "ROOM"};
    for (size_t i = 0; i < sizeof ev / sizeof *ev; i++)
        if (starts_word(p, n, ev[i]))
            return 1;
    return 0;
}

/* An "OK NICK <name>" line of the server: register the user. */
static int chat_user(struct nl_answers *a, size_t flow, const uint8_t *p, size_t ll, uint64_t pkt)
{
    while (ll && (p[ll - 1] == '\n' || p[ll - 1] == '\r'))
        ll--;
    if (ll <= 8 || memcmp(p, "OK NICK ", 8) != 0 || ll - 8 > 64)
        return 0;
    if (nl_grow((void **)&a->users, a->nusers, &a->capusers, sizeof *a->users) < 0)
        return NL_ENOMEM;
    char *name = strndup((const char *)p + 8, ll - 8);
    if (!name)
        return NL_ENOMEM;
    a->users[a->nusers++] = (struct user_rec){name, (uint32_t)flow, pkt};
    if (!a->cv[flow]->user)
        a->cv[flow]->user = name;
    return 0;
}

/* ---- telling an echo ---- */

/* The line's length without its line end. */
static size_t strip_eol(const uint8_t *p, size_t n)
{
    if (n && p[n - 1] == '\n')
        n--;
    if (n && p[n - 1] == '\r')
        n--;
    return n;
}

/* Whether the server line beginning with p (n captured bytes; whole: the line ends in p) is the
 * echo of request x: netlab's transform (reversed, case swapped) or the same bytes. A request
 * longer than the text kept is compared by its length, its first bytes and its last bytes. */
static int echo_match(const struct xchg *x, const uint8_t *p, size_t n, int whole)
{
    if (!x->req_done || !x->expect_reply)
        return MATCH_NONE;
    const struct msg *r = &x->req;
    int complete = r->t.len == r->bytes;
    size_t rl = complete ? strip_eol(r->t.p, r->t.len) : r->bytes - (r->ntail && r->tail[r->ntail - 1] == '\n') -
                                                             (r->ntail > 1 && r->tail[r->ntail - 2] == '\r');
    size_t pl = whole ? strip_eol(p, n) : n;
    if (whole ? pl != rl : pl > rl)
        return MATCH_NONE;
    uint8_t buf[NL_ANSWERS_TEXT_CAP];
    if (complete) {
        nl_echo_transform(r->t.p, rl, buf);
        if (memcmp(buf, p, pl) == 0)
            return MATCH_TRANSFORM;
        return memcmp(r->t.p, p, pl) == 0 ? MATCH_IDENTICAL : MATCH_NONE;
    }
    size_t tl = strip_eol(r->tail, r->ntail), k = NL_MIN(tl, pl);
    nl_echo_transform(r->tail + tl - k, k, buf);
    if (k && memcmp(buf, p, k) == 0)
        return MATCH_TRANSFORM;
    k = NL_MIN(r->t.len, pl);
    return k && memcmp(r->t.p, p, k) == 0 ? MATCH_IDENTICAL : MATCH_NONE;
}

/* ---- where a message ends ----
 * A message is a line, up to its line feed. One left open continues in the same side's next
 * segment when that segment holds a line feed (the rest of the line), or when the open one was
 * full-sized (cut by the MSS: at least 536 bytes, and the largest the side has sent); never once
 * the other side has spoken (it took the message as whole). Otherwise the next segment is a
 * message of its own (a protocol without line feeds: one message per write). */

static int continues(const struct conv *c, int side, const uint8_t *p, size_t n)
{
    return c->last_side == side && (c->full[side] || (n && memchr(p, '\n', n)));
}

static void sent(struct conv *c, int side, uint32_t seg_len)
{
    if (seg_len > c->maxseg[side])
        c->maxseg[side] = seg_len;
    c->full[side] = seg_len >= 536 && seg_len >= c->maxseg[side];
    c->last_side = (uint8_t)side;
}

/* The other side spoke: the message left open is whole. */
static void other_spoke(struct conv *c, int side)
{
    if (side == SIDE_SERVER && c->req_open) {
        c->req_open = 0;
        if (c->nx && c->nx == c->nx_total)
            c->x[c->nx - 1].req_done = 1;
    }
    if (side == SIDE_CLIENT) {
        c->rep_open = 0;
        c->greet_open = 0;
    }
}

/* ---- the client's lines ---- */

/* Exchanges kept: per conversation at most NL_ANSWERS_EXCHANGE_CAP and max_listed, in all at most
 * XCHG_PER_LISTED x max_listed (memory bounded by --max-listed; the counts stay whole). */
#define XCHG_PER_LISTED 16u

static struct xchg *new_xchg(struct nl_answers *a, struct conv *c, int *rc)
{
    *rc = 0;
    c->nx_total++;
    a->nx_total++;
    if (c->nx >= NL_MIN(NL_ANSWERS_EXCHANGE_CAP, a->listed_cap) ||
        a->nx_kept >= (uint64_t)XCHG_PER_LISTED * a->listed_cap)
        return NULL;
    a->nx_kept++;
    if (nl_grow((void **)&c->x, c->nx, &c->capx, sizeof *c->x) < 0) {
        *rc = NL_ENOMEM;
        return NULL;
    }
    struct xchg *x = &c->x[c->nx++];
    memset(x, 0, sizeof *x);
    return x;
}

/* A client segment: each line its own request; a line left open continues in the client's next
 * segment unless the server spoke in between (then the server took it as ended). */
static int on_client(struct nl_answers *a, struct conv *c, const uint8_t *p, size_t n, uint32_t seg_len, uint64_t pkt)
{
    static const uint8_t none[1];
    int rc = 0;
    if (!p)
        p = none;
    uint32_t lines = 0;
    size_t first_new = c->nx;
    for (size_t off = 0; off < n || (off == 0 && n == 0);) {
        const uint8_t *lf = memchr(p + off, '\n', n - off);
        size_t ll = lf ? (size_t)(lf - (p + off)) + 1 : n - off;
        uint32_t bytes = (uint32_t)ll + (lf ? 0 : seg_len - (uint32_t)n); /* a cut segment: the rest is this line's */
        int cont = off == 0 && c->req_open && continues(c, SIDE_CLIENT, p, n);
        if (off == 0 && c->req_open && !cont && c->nx && c->nx == c->nx_total)
            c->x[c->nx - 1].req_done = 1; /* the open line ended where this message begins */
        struct xchg *x = cont ? (c->nx == c->nx_total ? &c->x[c->nx - 1] : NULL) : new_xchg(a, c, &rc);
        if (rc < 0)
            return rc;
        if (!cont)
            lines++;
        if (x) {
            if (!cont)
                x->expect_reply = !(c->chat && (starts_word(p + off, ll, "MSG") || starts_word(p + off, ll, "SAY")));
            if ((rc = msg_add(&x->req, p + off, ll, bytes, pkt, seg_len)) < 0)
                return rc;
            x->req_done = lf != NULL;
        }
        c->req_open = lf == NULL;
        off += ll;
        if (!n)
            break;
    }
    for (size_t k = first_new; k < c->nx; k++) {
        c->x[k].req_line = (uint32_t)(k - first_new + 1);
        c->x[k].req_lines = lines;
    }
    sent(c, SIDE_CLIENT, seg_len);
    return 0;
}

/* ---- the server's lines ---- */

/* The waiting request a new server line answers (index), or -1; *how the match. */
static long reply_target(struct conv *c, const uint8_t *line, size_t ll, int whole, int *how)
{
    size_t end = NL_MIN(c->nx, c->next_reply + MATCH_WINDOW);
    for (size_t k = c->next_reply; k < end; k++) {
        struct xchg *x = &c->x[k];
        if (x->rep.pkt || !x->expect_reply)
            continue;
        if (c->chat) {
            *how = MATCH_CHAT;
            return (long)k;
        }
        if ((*how = echo_match(x, line, ll, whole)) != MATCH_NONE)
            return (long)k;
    }
    return -1;
}

/* A new server line (not the greeting). */
static int server_line(struct nl_answers *a, size_t flow, const uint8_t *line, size_t ll, uint32_t bytes,
                       uint64_t pkt, uint32_t seg_len, uint32_t *paired)
{
    struct conv *c = a->cv[flow];
    int rc, how = MATCH_NONE, whole = ll && line[ll - 1] == '\n';
    if (c->chat && (rc = chat_user(a, flow, line, ll, pkt)) < 0)
        return rc;
    if (c->chat && chat_event(line, ll))
        return 0;
    long k = reply_target(c, line, ll, whole, &how);
    if (k < 0) { /* a line of no request: the requests waiting are told it came and is not theirs */
        c->unpaired++;
        for (size_t i = c->next_reply; i < c->nx && i < c->next_reply + MATCH_WINDOW; i++)
            if (!c->x[i].rep.pkt && c->x[i].expect_reply && c->x[i].req_done && !c->x[i].unmatched)
                c->x[i].unmatched = pkt;
        return 0;
    }
    for (size_t i = c->next_reply; i < (size_t)k; i++)
        if (!c->x[i].rep.pkt && c->x[i].expect_reply)
            c->x[i].no_reply = NR_SKIPPED;
    struct xchg *x = &c->x[k];
    x->match = (uint8_t)how;
    c->echo |= how == MATCH_TRANSFORM || how == MATCH_IDENTICAL;
    c->next_reply = (size_t)k + 1;
    c->rep_at = (size_t)k + 1;
    (*paired)++;
    return msg_add(&x->rep, line, ll, bytes, pkt, seg_len);
}

/* A server segment after the greeting: its lines; the first may continue the reply line left open. */
static int server_lines(struct nl_answers *a, size_t flow, const uint8_t *p, size_t n, uint32_t seg_len, uint64_t pkt)
{
    struct conv *c = a->cv[flow];
    uint32_t paired = 0;
    size_t first = c->nx;
    int rc;
    for (size_t off = 0; off < n;) {
        const uint8_t *lf = memchr(p + off, '\n', n - off);
        size_t ll = lf ? (size_t)(lf - (p + off)) + 1 : n - off;
        uint32_t bytes = (uint32_t)ll + (lf ? 0 : seg_len - (uint32_t)n);
        if (off == 0 && c->rep_open && continues(c, SIDE_SERVER, p, n)) {
            if (c->rep_at && (rc = msg_add(&c->x[c->rep_at - 1].rep, p, ll, bytes, pkt, seg_len)) < 0)
                return rc;
        } else {
            c->rep_at = 0;
            if ((rc = server_line(a, flow, p + off, ll, bytes, pkt, seg_len, &paired)) < 0)
                return rc;
            if (c->rep_at && c->rep_at - 1 < first)
                first = c->rep_at - 1;
        }
        c->rep_open = lf == NULL;
        off += ll;
    }
    for (size_t k = first; k < c->nx; k++)
        if (c->x[k].rep.pkt == pkt)
            c->x[k].rep_shared = paired;
    sent(c, SIDE_SERVER, seg_len);
    return 0;
}

/* netlab's echo (reversed, case swapped) of the client's first line begins p: p answers that line.
 * Only the transform: a greeting may hold the same bytes as the client's line. */
static int echoes_first_line(const struct conv *c, const uint8_t *p, size_t n)
{
    if (!c->nx)
        return 0;
    const uint8_t *lf = memchr(p, '\n', n);
    return echo_match(&c->x[0], p, lf ? (size_t)(lf - p) + 1 : n, lf != NULL) == MATCH_TRANSFORM;
}

/* The candidate greeting held back turned out to be a reply (or a line of no request). */
static int candidate_is_reply(struct nl_answers *a, size_t flow)
{
    struct conv *c = a->cv[flow];
    c->cand = 0;
    struct msg g = c->greet;
    memset(&c->greet, 0, sizeof c->greet);
    uint8_t side = c->last_side;
    c->rep_open = 0;
    int rc = server_lines(a, flow, g.t.p, g.t.len, g.pkt_bytes, g.pkt);
    c->last_side = side;
    msg_free(&g);
    return rc;
}

/* The greeting: the server's first payload when the server sent it before it had any of the
 * client's bytes (before the client's first payload, or acknowledging none of it), or when it is
 * netlab chat's HELLO. Sent after the client's bytes reached it, it is a reply, unless the echo of
 * the client's first line comes later (netlab's echo server greets on accepting, and may accept
 * after the first request arrived): held back until the next server payload tells. A greeting
 * left without its line feed continues in the server's next segment, unless the client spoke. */
static int on_server(struct nl_answers *a, size_t flow, const struct nl_decoded *d, uint64_t pkt)
{
    struct conv *c = a->cv[flow];
    const uint8_t *p = d->payload;
    size_t n = d->payload_caplen;
    uint32_t bytes = d->payload_len;
    int rc;
    other_spoke(c, SIDE_SERVER);
    if (c->greet_open && continues(c, SIDE_SERVER, p, n) && c->greet.pkt && !c->cand) {
        c->greet_open = !(n == bytes && n && p[n - 1] == '\n');
        sent(c, SIDE_SERVER, bytes);
        return msg_add(&c->greet, p, n, bytes, pkt, bytes);
    }
    c->greet_open = 0;
    if (c->cand) {
        if (echoes_first_line(c, p, n))
            c->cand = 0; /* it was the greeting */
        else if ((rc = candidate_is_reply(a, flow)) < 0)
            return rc;
    }
    if (!c->sfirst) {
        c->sfirst = pkt;
        c->chat = n >= 17 && memcmp(p, "HELLO netlab-chat", 17) == 0;
        int before = !c->cfirst || (c->have_cseq && (d->tcp_flags & NL_TCP_ACK) && (int32_t)(d->ack - c->cseq) <= 0);
        int cand = !before && !c->chat && !echoes_first_line(c, p, n) && bytes == n;
        if (before || c->chat || cand) {
            c->cand = (uint8_t)cand;
            c->greet_open = !cand && !(n == bytes && n && p[n - 1] == '\n');
            sent(c, SIDE_SERVER, bytes);
            if (c->chat && (rc = chat_user(a, flow, p, n, pkt)) < 0)
                return rc;
            return msg_add(&c->greet, p, n, bytes, pkt, bytes);
        }
    }
    return server_lines(a, flow, p, n, bytes, pkt);
}

/* ---- the consumer ---- */

/* The server while the capture is read: the SYN's receiver or the SYN-ACK's sender once seen,
 * else nl_flow_finish's port rules (checked against the final decision at the end). */
static int provisional_server(const struct nl_flow *f)
{
    if (f->server >= 0)
        return f->server;
    int wk0 = f->port[0] < 1024, wk1 = f->port[1] < 1024;
    if (wk0 != wk1)
        return wk0 ? 0 : 1;
    if (f->port[0] != f->port[1])
        return f->port[0] < f->port[1] ? 0 : 1;
    return !f->first_dir;
}

/* The answers' record of flow index fi: made on its first packet while fewer than max_listed
 * TCP conversations are answered, else NULL (counted, not answered). */
static int conv_of(struct nl_answers *a, size_t fi, struct conv **out)
{
    *out = NULL;
    if (fi >= a->ncv) {
        size_t n = a->ncv ? a->ncv : 64;
        while (n <= fi)
            n *= 2;
        struct conv **p = realloc(a->cv, n * sizeof *p);
        if (!p)
            return NL_ENOMEM;
        memset(p + a->ncv, 0, (n - a->ncv) * sizeof *p);
        a->cv = p;
        a->ncv = n;
    }
    *out = a->cv[fi];
    return 0;
}

static int conv_new(struct nl_answers *a, size_t fi, struct conv **out)
{
    a->ntcp_total++;
    if (a->ntcp >= a->listed_cap)
        return 0;
    struct conv *c = calloc(1, sizeof *c);
    if (!c || nl_grow((void **)&a->tcp, a->ntcp, &a->captcp, sizeof *a->tcp) < 0) {
        free(c);
        return NL_ENOMEM;
    }
    c->srv = -1;
    a->tcp[a->ntcp++] = fi;
    a->cv[fi] = c;
    *out = c;
    return 0;
}

/* New data only: the bytes beyond the highest sequence this side had sent (a retransmission,
 * whole or in part, is not counted twice). */
static uint32_t fresh_bytes(struct conv *c, int dir, const struct nl_decoded *d)
{
    uint32_t start = d->seq + ((d->tcp_flags & NL_TCP_SYN) ? 1 : 0), end = start + d->payload_len;
    uint32_t fresh = d->payload_len;
    if (c->have_hi[dir]) {
        if ((int32_t)(end - c->hi[dir]) <= 0)
            fresh = 0;
        else if ((int32_t)(start - c->hi[dir]) < 0)
            fresh = end - c->hi[dir];
    }
    if (!c->have_hi[dir] || (int32_t)(end - c->hi[dir]) > 0) {
        c->hi[dir] = end;
        c->have_hi[dir] = 1;
    }
    return fresh;
}

static int on_payload(struct nl_answers *a, size_t fi, const struct nl_flow *f, int dir, const struct nl_decoded *d,
                      uint64_t pkt)
{
    struct conv *c = a->cv[fi];
    if (c->srv < 0)
        c->srv = (int8_t)provisional_server(f);
    c->snapped |= d->payload_caplen < d->payload_len;
    if (dir == c->srv)
        return on_server(a, fi, d, pkt);
    other_spoke(c, SIDE_CLIENT);
    if (!c->cfirst)
        c->cfirst = pkt;
    if (!c->have_cseq) {
        c->have_cseq = 1;
        c->cseq = d->seq;
    }
    return on_client(a, c, d->payload, d->payload_caplen, d->payload_len, pkt);
}

static int answers_packet(struct nl_analysis *an, struct nl_pkt_view *v)
{
    struct nl_answers *a = an->ans;
    const struct nl_decoded *d = v->d;
    const struct nl_frame *pkt = v->pkt;
    size_t fi = v->f->id - 1;
    struct conv *c;
    int rc;
    if ((rc = conv_of(a, fi, &c)) < 0)
        return rc;
    if (!c && v->f->d[0].packets + v->f->d[1].packets == 1 && (rc = conv_new(a, fi, &c)) < 0)
        return rc;
    if ((rc = add_tie(&a->ties, &a->nties, &a->capties, &a->ties_total, &a->largest, d->payload_len,
                      pkt->number)) < 0)
        return rc;
    if (!c)
        return 0;
    c->frames[v->dir]++;
    c->fbytes[v->dir] += pkt->len;
    if ((rc = nl_ans_if_note(c->ifs, &c->nifs, d, pkt)) < 0 ||
        (rc = add_tie(&c->ties, &c->nties, &c->capties, &c->ties_total, &c->largest, d->payload_len,
                      pkt->number)) < 0)
        return rc;
    if (!d->payload_len || (d->tcp_flags & NL_TCP_RST))
        return 0;
    uint32_t fresh = fresh_bytes(c, v->dir, d);
    if (!fresh)
        return 0;
    c->payload[v->dir] += fresh;
    return on_payload(a, fi, v->f, v->dir, d, pkt->number);
}

const struct nl_consumer nl_answers_consumer = {"answers", answers_packet, NL_WANT_TCP};

void nl_answers_copy(struct nl_analysis *an, const struct nl_flow *f, int dir, const struct nl_frame *pkt)
{
    struct nl_answers *a = an->ans;
    size_t fi = f->id - 1;
    if (f->proto != 6 || fi >= a->ncv || !a->cv[fi])
        return;
    a->cv[fi]->frames[dir]++;
    a->cv[fi]->fbytes[dir] += pkt->len;
}

int nl_answers_open(struct nl_analysis *an, const char *file, const void *mem, size_t mem_len)
{
    struct nl_answers *a = calloc(1, sizeof *a);
    if (!a || !(a->file = strdup(file ? file : "(memory)"))) {
        free(a);
        return NL_ENOMEM;
    }
    a->an = an;
    a->mem = mem;
    a->mem_len = mem_len;
    a->listed_cap = an->listed_cap;
    an->ans = a;
    return 0;
}

/* ---- after the last packet ---- */

/* Why there is no greeting, or what cannot be answered, in words. */
static void conv_words(struct conv *c, const struct nl_flow *f)
{
    int s = f->server, cl = !s;
    if (c->frames[s] == 0 || c->frames[cl] == 0)
        snprintf(c->cannot, sizeof c->cannot,
                 "only one direction was captured: no packet from the %s, so its %s cannot be answered",
                 c->frames[s] ? "client" : "server", c->frames[s] ? "requests" : "greeting and replies");
    else if (c->srv_changed)
        snprintf(c->cannot, sizeof c->cannot,
                 "the handshake came after the payload: who spoke first is not certain, so the greeting and the "
                 "exchanges are not answered");
    else if (c->snapped)
        snprintf(c->cannot, sizeof c->cannot,
                 "packets were cut by the snap length: texts are partial (byte counts are whole)");
    if (c->greet.pkt)
        return;
    if (!c->frames[s])
        snprintf(c->no_greet, sizeof c->no_greet, "no packet from the server was captured");
    else if (!c->sfirst)
        snprintf(c->no_greet, sizeof c->no_greet, "the server sent no payload");
    else if (c->cfirst && c->cfirst < c->sfirst)
        snprintf(c->no_greet, sizeof c->no_greet,
                 "the client spoke first, in packet %llu (the server's first payload, packet %llu, came after it)",
                 (unsigned long long)c->cfirst, (unsigned long long)c->sfirst);
    else
        snprintf(c->no_greet, sizeof c->no_greet,
                 "the server's first payload, packet %llu, answers the client's first line", (unsigned long long)c->sfirst);
}

static void conv_finish(struct nl_answers *a, size_t fi)
{
    struct conv *c = a->cv[fi];
    const struct nl_flow *f = &a->fl[fi];
    if (c->srv >= 0 && c->srv != f->server) {
        c->srv_changed = 1;
        msg_free(&c->greet);
        for (size_t k = 0; k < c->nx; k++) {
            msg_free(&c->x[k].req);
            msg_free(&c->x[k].rep);
        }
        c->nx = c->nx_total = 0;
        c->cfirst = c->sfirst = 0;
    }
    for (size_t k = 0; k < c->nx; k++) {
        struct xchg *x = &c->x[k];
        if (x->rep.pkt || x->no_reply)
            continue;
        x->no_reply = !x->expect_reply ? NR_NOT_EXPECTED
                      : !c->frames[f->server] ? NR_ONE_WAY
                      : x->unmatched ? NR_NOT_ECHO
                                     : NR_NOTHING_AFTER;
    }
    conv_words(c, f);
}

static void capture_words(struct nl_answers *a)
{
    const struct nl_summary *s = a->sum;
    char *o = a->cannot;
    size_t cap = sizeof a->cannot;
#define ADD(...) snprintf(o + strlen(o), cap - strlen(o), __VA_ARGS__)
    if (s->packets == 0)
        ADD("the capture holds no packets: nothing can be answered");
    else if (s->unsupported_link == s->packets)
        ADD("link type %d (%s) is not one netlab reads: no packet could be decoded, so nothing can be answered "
            "(open it in Wireshark, or capture again on Ethernet, loopback or any)",
            s->linktype, nl_linktype_name(s->linktype) ? nl_linktype_name(s->linktype) : "unknown");
    else if (a->ntcp_total == 0)
        ADD("no TCP conversation in %llu packets (%llu UDP, %llu not IP, %llu of a link type netlab does not read): "
            "the questions are about a TCP conversation",
            (unsigned long long)s->packets, (unsigned long long)s->udp, (unsigned long long)s->non_ip,
            (unsigned long long)s->unsupported_link);
    if (s->read_error)
        ADD("%sthe file is damaged or cut short (%s): the answers cover the packets before it", *o ? "; " : "",
            s->read_error_text ? s->read_error_text : "read error");
    if (a->ntcp < a->ntcp_total)
        ADD("%s%zu of %zu TCP conversations answered in detail (max listed %u)", *o ? "; " : "", a->ntcp,
            a->ntcp_total, a->listed_cap);
    if (a->nx_kept < a->nx_total)
        ADD("%s%llu of %llu requests listed (max listed %u: at most that many per conversation, %u times it "
            "in all)", *o ? "; " : "", (unsigned long long)a->nx_kept, (unsigned long long)a->nx_total,
            a->listed_cap, XCHG_PER_LISTED);
#undef ADD
}

int nl_answers_finish(struct nl_analysis *an)
{
    struct nl_answers *a = an->ans;
    a->fl = an->ft.flows;
    a->sum = &an->sum;
    size_t n = nl_pcapr_iface_count(an->rd);
    a->if_name = calloc(n ? n : 1, sizeof *a->if_name);
    a->if_desc = calloc(n ? n : 1, sizeof *a->if_desc);
    if (!a->if_name || !a->if_desc)
        return NL_ENOMEM;
    for (size_t i = 0; i < n; i++, a->nfile_if++) {
        const struct nl_file_iface *fi = nl_pcapr_iface(an->rd, i);
        if ((fi->name && !(a->if_name[i] = strdup(fi->name))) ||
            (fi->description && !(a->if_desc[i] = strdup(fi->description))))
            return NL_ENOMEM;
    }
    int rc;
    for (size_t i = 0; i < a->ntcp; i++) {
        struct conv *c = a->cv[a->tcp[i]];
        if (c->cand && (rc = candidate_is_reply(a, a->tcp[i])) < 0)
            return rc;
        conv_finish(a, a->tcp[i]);
    }
    capture_words(a);
    return 0;
}

void nl_answers_destroy(struct nl_answers *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->ntcp; i++) {
        struct conv *c = a->cv[a->tcp[i]];
        msg_free(&c->greet);
        free(c->ties);
        for (size_t k = 0; k < c->nx; k++) {
            msg_free(&c->x[k].req);
            msg_free(&c->x[k].rep);
        }
        free(c->x);
        free(c);
    }
    free(a->cv);
    free(a->tcp);
    free(a->own_fl);
    for (size_t i = 0; i < a->nusers; i++)
        free(a->users[i].name);
    free(a->users);
    free(a->ties);
    for (size_t i = 0; i < a->nfile_if; i++) {
        free(a->if_name[i]);
        free(a->if_desc[i]);
    }
    free(a->if_name);
    free(a->if_desc);
    free(a->file);
    free(a);
}

void nl_answers_owned_by(struct nl_answers *a, struct nl_analysis *an) { a->owner = an; }

struct nl_analysis *nl_answers_let_go(struct nl_answers *a)
{
    if (a->owner)
        return a->owner;
    if (a->taken)
        nl_answers_destroy(a);
    return NULL;
}

void nl_answers_release_capture(struct nl_answers *a)
{
    if (a)
        a->released = 1;
}

const struct nl_answers *nl_analysis_answers(const struct nl_analysis *an) { return an ? an->ans : NULL; }

/* The answers keep their own copy of what they read of the analysis: the answered conversations
 * (renumbered 0..ntcp-1) and the capture's counts. */
struct nl_answers *nl_analysis_take_answers(struct nl_analysis *an)
{
    struct nl_answers *a = an ? an->ans : NULL;
    if (!a || !a->fl)
        return NULL;
    struct nl_flow *fl = calloc(a->ntcp ? a->ntcp : 1, sizeof *fl);
    struct conv **cv = calloc(a->ntcp ? a->ntcp : 1, sizeof *cv);
    if (!fl || !cv) {
        free(fl);
        free(cv);
        return NULL;
    }
    for (size_t i = 0; i < a->nusers; i++)
        for (size_t k = 0; k < a->ntcp; k++)
            if (a->tcp[k] == a->users[i].flow) {
                a->users[i].flow = (uint32_t)k;
                break;
            }
    for (size_t k = 0; k < a->ntcp; k++) {
        fl[k] = a->fl[a->tcp[k]];
        fl[k].ext = NULL;
        fl[k].ta = NULL;
        cv[k] = a->cv[a->tcp[k]];
        a->tcp[k] = k;
    }
    free(a->cv);
    a->cv = cv;
    a->ncv = a->ntcp;
    a->fl = a->own_fl = fl;
    a->own_sum = *a->sum;
    snprintf(a->read_err, sizeof a->read_err, "%s", a->sum->read_error_text ? a->sum->read_error_text : "");
    a->own_sum.read_error_text = a->read_err;
    a->own_sum.file = a->file;
    a->own_sum.format = NULL;
    a->sum = &a->own_sum;
    a->an = NULL;
    a->owner = NULL;
    a->taken = 1;
    an->ans = NULL;
    return a;
}

/* ---- accessors ---- */

void nl_answers_capture(const struct nl_answers *a, struct nl_answers_capture *o)
{
    const struct nl_summary *s = a->sum;
    memset(o, 0, sizeof *o);
    o->file = a->file;
    o->packets = s->packets;
    o->conversations = a->ntcp;
    o->conversations_total = a->ntcp_total;
    o->listed_cap = a->listed_cap;
    o->largest_bytes = a->largest;
    o->largest_count = a->ties_total;
    o->users = a->nusers;
    o->read_error = s->read_error;
    o->read_error_text = s->read_error ? s->read_error_text : NULL;
    o->undecoded = s->unsupported_link;
    o->linktype = s->linktype;
    o->cannot = a->cannot[0] ? a->cannot : NULL;
}

uint64_t nl_answers_capture_largest(const struct nl_answers *a, size_t k)
{
    return k < a->nties ? a->ties[k] : 0;
}

/* The i-th answered conversation and its flow, or NULL. */
static const struct conv *conv_at(const struct nl_answers *a, size_t i, const struct nl_flow **f)
{
    if (i >= a->ntcp)
        return NULL;
    *f = &a->fl[a->tcp[i]];
    return a->cv[a->tcp[i]];
}

size_t nl_answers_count(const struct nl_answers *a) { return a->ntcp; }

static void greeting_of(const struct conv *c, struct nl_answer *o)
{
    o->greeting_packet = c->greet.pkt;
    o->greeting_last_packet = c->greet.last;
    o->greeting_bytes = c->greet.bytes;
    o->greeting_packet_bytes = c->greet.pkt_bytes;
    o->greeting_segments = c->greet.segs;
    o->greeting_text = c->greet.t.p;
    o->greeting_text_len = c->greet.t.len;
    o->no_greeting = c->greet.pkt ? NULL : c->no_greet;
}

int nl_answers_get(const struct nl_answers *a, size_t i, struct nl_answer *o)
{
    const struct nl_flow *f;
    const struct conv *c = conv_at(a, i, &f);
    if (!c)
        return NL_EINVAL;
    int s = f->server, cl = !s;
    memset(o, 0, sizeof *o);
    o->conversation = f->id;
    o->transport = "TCP";
    nl_endpoint_format(f->ipver, f->addr[s], f->port[s], o->server);
    nl_endpoint_format(f->ipver, f->addr[cl], f->port[cl], o->client);
    o->server_port = f->port[s];
    o->client_port = f->port[cl];
    o->server_basis = nl_server_basis_name(f->basis);
    o->first_packet = f->first_pkt;
    o->last_packet = f->last_pkt;
    /* direction d carries packets from endpoint d */
    o->frames_c2s = c->frames[cl];
    o->frames_s2c = c->frames[s];
    o->frame_bytes_c2s = c->fbytes[cl];
    o->frame_bytes_s2c = c->fbytes[s];
    o->payload_c2s = c->payload[cl];
    o->payload_s2c = c->payload[s];
    greeting_of(c, o);
    o->largest_bytes = c->largest;
    o->largest_count = c->ties_total;
    o->exchanges = c->nx_total;
    o->interfaces = c->nifs;
    o->chat = c->chat;
    o->echo = c->echo;
    o->user = c->user;
    o->client_first_packet = c->cfirst;
    o->server_first_packet = c->sfirst;
    o->cannot = c->cannot[0] ? c->cannot : NULL;
    return 0;
}

uint64_t nl_answers_largest(const struct nl_answers *a, size_t i, size_t k)
{
    const struct nl_flow *f;
    const struct conv *c = conv_at(a, i, &f);
    return c && k < c->nties ? c->ties[k] : 0;
}

int nl_answers_exchange(const struct nl_answers *a, size_t i, size_t k, struct nl_exchange *o)
{
    static const char *const match_text[] = {NULL, "echo (reversed, case swapped)", "echo (identical)", "chat reply"};
    const struct nl_flow *f;
    const struct conv *c = conv_at(a, i, &f);
    if (!c || k >= c->nx)
        return NL_EINVAL;
    const struct xchg *x = &c->x[k];
    memset(o, 0, sizeof *o);
    o->request_packet = x->req.pkt;
    o->request_last_packet = x->req.last;
    o->request_bytes = x->req.bytes;
    o->request_packet_bytes = x->req.pkt_bytes;
    o->request_segments = x->req.segs;
    o->request_line = x->req_line;
    o->request_lines = x->req_lines;
    o->request_text = x->req.t.p;
    o->request_text_len = x->req.t.len;
    o->reply_packet = x->rep.pkt;
    o->reply_last_packet = x->rep.last;
    o->reply_bytes = x->rep.bytes;
    o->reply_packet_bytes = x->rep.pkt_bytes;
    o->reply_segments = x->rep.segs;
    o->reply_text = x->rep.t.p;
    o->reply_text_len = x->rep.t.len;
    o->reply_expected = x->expect_reply;
    o->reply_shared = x->rep_shared;
    o->reply_match = match_text[x->match];
    o->no_reply = x->rep.pkt ? NULL : no_reply_text[x->no_reply];
    o->next_server_packet = x->rep.pkt ? 0 : x->unmatched;
    o->field = "tcp.payload";
    return 0;
}

int nl_answers_iface(const struct nl_answers *a, size_t i, size_t k, struct nl_answer_iface *o)
{
    const struct nl_flow *f;
    const struct conv *c = conv_at(a, i, &f);
    if (!c || k >= c->nifs)
        return NL_EINVAL;
    const struct nl_ans_if *x = &c->ifs[k];
    const char *fname = x->file_iface < a->nfile_if ? a->if_name[x->file_iface] : NULL;
    const char *fdesc = x->file_iface < a->nfile_if ? a->if_desc[x->file_iface] : NULL;
    nl_ans_if_describe(x, fname, fdesc, o);
    return 0;
}

int nl_answers_user(const struct nl_answers *a, size_t k, struct nl_chat_user *o)
{
    if (k >= a->nusers)
        return NL_EINVAL;
    const struct user_rec *u = &a->users[k];
    const struct nl_flow *f = &a->fl[u->flow];
    int cl = !f->server;
    memset(o, 0, sizeof *o);
    o->name = u->name;
    o->conversation = f->id;
    nl_endpoint_format(f->ipver, f->addr[cl], f->port[cl], o->client);
    o->client_port = f->port[cl];
    o->packet = u->packet;
    return 0;
}

/* ---- one packet, copied for explaining ---- */

static int open_capture(const struct nl_answers *a, struct nl_pcapr **rd, char *errbuf)
{
    return a->mem ? nl_pcapr_open_mem(rd, a->mem, a->mem_len, a->file, errbuf) : nl_pcapr_open(rd, a->file, errbuf);
}

static int find_frame(const struct nl_answers *a, uint64_t number, struct nl_pcapr **rd, struct nl_frame *pkt,
                      char *errbuf)
{
    int rc = open_capture(a, rd, errbuf);
    if (rc < 0)
        return rc;
    for (;;) {
        rc = nl_pcapr_next(*rd, pkt, errbuf);
        if (rc <= 0 || pkt->number == number)
            break;
    }
    if (rc <= 0) {
        nl_pcapr_close(*rd);
        return rc < 0 ? rc : nl_err(errbuf, NL_ENOTFOUND, "%s: no packet %llu", a->file, (unsigned long long)number);
    }
    return 0;
}

/* The conversation of a decoded TCP packet: the same endpoints, and the packet within its span. */
static void packet_conversation(const struct nl_answers *a, uint64_t number, const struct nl_decoded *d,
                                struct nl_packet_copy *o)
{
    size_t alen = d->ipver == 4 ? 4 : 16;
    for (size_t i = 0; i < a->ntcp; i++) {
        const struct nl_flow *f = &a->fl[a->tcp[i]];
        if (f->proto != 6 || f->ipver != d->ipver || number < f->first_pkt || number > f->last_pkt)
            continue;
        int dir;
        if (!memcmp(f->addr[0], d->src, alen) && !memcmp(f->addr[1], d->dst, alen) && f->port[0] == d->sport &&
            f->port[1] == d->dport)
            dir = 0;
        else if (!memcmp(f->addr[1], d->src, alen) && !memcmp(f->addr[0], d->dst, alen) &&
                 f->port[1] == d->sport && f->port[0] == d->dport)
            dir = 1;
        else
            continue;
        o->conversation = f->id;
        o->from_client = dir != f->server;
        const struct nl_flow_dir *S = &f->d[dir], *R = &f->d[!dir];
        if ((S->syn || S->synack) && (R->syn || R->synack)) {
            o->ctx.has_isn = 1;
            o->ctx.sender_isn = S->isn;
            o->ctx.receiver_isn = R->isn;
        }
        return;
    }
}

/* The window scale of packet `number` (decoded in *p, its pointers no longer valid): the
 * SYNs of its connection captured before it, as Wireshark knows them at that frame. */
static int window_scale(const struct nl_answers *a, const struct nl_decoded *p, uint64_t number,
                        struct nl_explain_ctx *ctx, char *errbuf)
{
    struct nl_pcapr *rd;
    int rc = open_capture(a, &rd, errbuf);
    if (rc < 0)
        return rc;
    size_t alen = p->ipver == 4 ? 4 : 16;
    struct nl_wscale w;
    nl_wscale_init(&w);
    struct nl_frame pkt;
    while ((rc = nl_pcapr_next(rd, &pkt, errbuf)) > 0 && pkt.number < number) {
        struct nl_decoded d;
        memset(&d, 0, sizeof d);
        if (!nl_linktype_supported(pkt.linktype))
            continue;
        nl_decode_packet(&pkt, 0, &d);
        if (!d.has_l4 || d.proto != 6 || d.ipver != p->ipver || !(d.tcp_flags & NL_TCP_SYN))
            continue;
        if (!memcmp(d.src, p->src, alen) && !memcmp(d.dst, p->dst, alen) && d.sport == p->sport && d.dport == p->dport)
            nl_wscale_note(&w, 0, &d, pkt.number);
        else if (!memcmp(d.src, p->dst, alen) && !memcmp(d.dst, p->src, alen) && d.sport == p->dport &&
                 d.dport == p->sport)
            nl_wscale_note(&w, 1, &d, pkt.number);
    }
    nl_pcapr_close(rd);
    if (rc < 0)
        return rc;
    nl_wscale_explain(&w, 0, ctx);
    return 0;
}

int nl_answers_packet(const struct nl_answers *a, uint64_t number, struct nl_packet_copy *o, char *errbuf)
{
    memset(o, 0, sizeof *o);
    if (a->released)
        return nl_err(errbuf, NL_ENOTFOUND, "%s: the capture is no longer held: no packet to copy", a->file);
    struct nl_pcapr *rd;
    struct nl_frame pkt;
    int rc = find_frame(a, number, &rd, &pkt, errbuf);
    if (rc < 0)
        return rc;
    o->frame = malloc(pkt.caplen ? pkt.caplen : 1);
    if (!o->frame) {
        nl_pcapr_close(rd);
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    }
    memcpy(o->frame, pkt.data, pkt.caplen);
    o->frame_len = pkt.caplen;
    o->wire_len = pkt.len;
    o->linktype = pkt.linktype;
    struct nl_decoded d;
    memset(&d, 0, sizeof d);
    if (nl_linktype_supported(pkt.linktype))
        nl_decode_packet(&pkt, NL_DECODE_CHECKSUMS, &d);
    if (d.ipver) {
        o->l3_offset = (uint32_t)(d.l3 - pkt.data);
        o->l3_len = d.l3_caplen;
    }
    o->ipver = d.ipver;
    o->ck_ip = d.ck_ip;
    o->ck_l4 = d.ck_l4;
    o->offload_l4 = d.offload_l4;
    int tcp = d.has_l4 && d.proto == 6;
    if (tcp) {
        packet_conversation(a, number, &d, o);
        if (d.ck_l4 == NL_CK_OFFLOAD)
            o->ctx.tcp_offload = d.offload_l4 == NL_OFFLOAD_PARTIAL ? NL_XOFFLOAD_PARTIAL : NL_XOFFLOAD_ZERO;
    }
    nl_pcapr_close(rd); /* d's pointers are not used past here (its addresses and ports are copies) */
    if (!tcp)
        return 0;
    rc = window_scale(a, &d, number, &o->ctx, errbuf);
    if (rc < 0) {
        nl_packet_copy_free(o);
        return rc;
    }
    return 0;
}

void nl_packet_copy_free(struct nl_packet_copy *p)
{
    if (!p)
        return;
    free(p->frame);
    p->frame = NULL;
}
