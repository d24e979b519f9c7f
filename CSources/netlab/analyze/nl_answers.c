/*
 * nl_answers.c - the answer sheet of a capture (see nl_answers.h for the rules).
 * Two passes over the file with the conversation table of nl_analyze (nl_flow.h),
 * so conversations, numbers and servers agree with `analyze`: the first decides
 * each server, the second reads the payloads knowing who spoke. Owns no policy
 * of the analysis itself; prints nothing.
 */
#include "nl_internal.h"
#include "nl_flow.h"
#include "nl_wscale.h"
#include "netlab/nl_answers.h"
#include "netlab/nl_decode.h"
#include "netlab/nl_text.h"
#include "netlab/nl_pcapr.h"
#include "netlab/nl_tcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct text {
    uint8_t *p;
    size_t len;
};

struct xchg {
    uint64_t req_pkt, req_last, rep_pkt, rep_last;
    uint32_t req_bytes, rep_bytes;
    struct text req, rep;
    uint8_t expect_reply;
    uint32_t rep_shared;          /* requests answered by the same reply segment (1: this one alone) */
    uint32_t req_lines, rep_lines;/* complete lines asked and answered */
};

struct aif {
    int kind;
    uint32_t index;
    uint32_t file_iface;
    uint64_t packets;
    uint8_t loopback;
};

struct conv {
    uint64_t frames[2], fbytes[2], payload[2]; /* by direction (0: from endpoint 0) */
    uint64_t greet_pkt;
    uint32_t greet_bytes;
    struct text greet;
    uint8_t client_spoke, server_spoke, chat;
    uint8_t req_open, rep_open;   /* the last request/reply has not ended with LF */
    uint8_t have_cseq;
    uint8_t have_hi[2];           /* hi[dir] holds the end of the highest sequence seen */
    uint32_t hi[2];
    uint8_t cand;                 /* greet_* holds a candidate greeting not yet told from a reply */
    uint32_t cseq;                /* sequence number of the client's first payload byte */
    uint32_t largest;
    uint64_t *ties;
    size_t nties, capties, ties_total;
    struct xchg *x;
    size_t nx, capx, nx_total;
    size_t next_reply;            /* first exchange still waiting for its reply */
    struct aif ifs[NL_ANSWERS_IFACE_CAP];
    size_t nifs;
    const char *user;
};

struct user_rec {
    char *name;
    uint32_t flow;                /* index */
    uint64_t packet;
};

struct nl_answers {
    char *file;
    const void *mem;              /* nl_answers_mem: the capture in memory (the caller's), else NULL */
    size_t mem_len;
    int released;                 /* nl_answers_release_capture: the capture is no longer there */
    char **if_name, **if_desc;    /* the file's interfaces (pcapng IDB options), by number */
    size_t nfile_if;
    struct nl_flow_table ft;      /* of the first pass: servers decided */
    struct conv *cv;              /* by flow index */
    size_t ncv;
    size_t *tcp;                  /* flow index of each TCP conversation, in order */
    size_t ntcp;
    uint64_t packets;
    uint32_t largest;
    uint64_t *ties;
    size_t nties, capties, ties_total;
    struct user_rec *users;
    size_t nusers, capusers;
    int read_error;
    char read_err[NL_ERRBUF_SIZE];
};

static int grow(void **arr, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return NL_ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

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
    if (grow((void **)arr, *n, cap, sizeof **arr) < 0)
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

/* "OK NICK <name>" lines of a server segment: register the user. */
static int chat_users(struct nl_answers *a, size_t flow, const uint8_t *p, size_t n, uint64_t pkt)
{
    const uint8_t *end = p + n;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *le = nl ? nl : end;
        size_t ll = (size_t)(le - p);
        if (ll && p[ll - 1] == '\r')
            ll--;
        if (ll > 8 && memcmp(p, "OK NICK ", 8) == 0 && ll - 8 <= 64) {
            if (grow((void **)&a->users, a->nusers, &a->capusers, sizeof *a->users) < 0)
                return NL_ENOMEM;
            char *name = strndup((const char *)p + 8, ll - 8);
            if (!name)
                return NL_ENOMEM;
            a->users[a->nusers].name = name;
            a->users[a->nusers].flow = (uint32_t)flow;
            a->users[a->nusers].packet = pkt;
            a->nusers++;
            if (!a->cv[flow].user)
                a->cv[flow].user = name;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

/* ---- one payload segment carrying new data, in capture order ---- */

static int pair_reply(struct nl_answers *a, size_t flow, const uint8_t *p, size_t n, uint32_t payload_len, uint64_t pkt);
static int on_server(struct nl_answers *a, size_t flow, const uint8_t *p, size_t n, uint32_t payload_len, int has_ack,
                     uint32_t ack, uint64_t pkt);

static int on_payload(struct nl_answers *a, size_t flow, int from_client, const struct nl_decoded *d, uint64_t pkt)
{
    struct conv *c = &a->cv[flow];
    const uint8_t *p = d->payload;
    size_t n = d->payload_caplen;
    int ends_line = n && p[n - 1] == '\n' && n == d->payload_len;
    int rc;

    if (from_client) {
        if (c->req_open && c->nx_total && c->nx == c->nx_total) {
            struct xchg *x = &c->x[c->nx - 1];
            x->req_last = pkt;
            x->req_bytes += d->payload_len;
            if ((rc = text_append(&x->req, p, n)) < 0)
                return rc;
        } else {
            c->nx_total++;
            if (c->nx < NL_ANSWERS_EXCHANGE_CAP) {
                if (grow((void **)&c->x, c->nx, &c->capx, sizeof *c->x) < 0)
                    return NL_ENOMEM;
                struct xchg *x = &c->x[c->nx++];
                memset(x, 0, sizeof *x);
                x->req_pkt = x->req_last = pkt;
                x->req_bytes = d->payload_len;
                x->expect_reply = !(c->chat && (starts_word(p, n, "MSG") || starts_word(p, n, "SAY")));
                if ((rc = text_append(&x->req, p, n)) < 0)
                    return rc;
            }
        }
        for (size_t i = 0; i < n && c->nx && c->nx == c->nx_total; i++)
            c->x[c->nx - 1].req_lines += p[i] == '\n';
        if (!c->have_cseq) {
            c->have_cseq = 1;
            c->cseq = d->seq;
        }
        c->client_spoke = 1;
        c->req_open = !ends_line;
        c->rep_open = 0;
        return 0;
    }

    return on_server(a, flow, p, n, d->payload_len, (d->tcp_flags & NL_TCP_ACK) != 0, d->ack, pkt);
}

/* A server payload that is not the greeting: the replies it carries. */
static int pair_reply(struct nl_answers *a, size_t flow, const uint8_t *p, size_t n, uint32_t payload_len, uint64_t pkt)
{
    struct conv *c = &a->cv[flow];
    int rc;
    if (c->chat && (rc = chat_users(a, flow, p, n, pkt)) < 0)
        return rc;
    /* Each reply line answers the request waiting longest, which takes as many lines as it sent
     * (a server answering several requests at once sends their replies in one segment). */
    size_t touched = 0, first = c->next_reply;
    for (const uint8_t *q = p, *end = p + n; q < end;) {
        const uint8_t *lf = memchr(q, '\n', (size_t)(end - q));
        size_t ll = lf ? (size_t)(lf - q) + 1 : (size_t)(end - q);
        const uint8_t *line = q;
        q += ll;
        if (!c->rep_open && c->chat && chat_event(line, ll))
            continue;
        while (c->next_reply < c->nx && !c->x[c->next_reply].expect_reply)
            c->next_reply++;
        if (c->next_reply >= c->nx)
            break; /* nothing asked: not a reply */
        struct xchg *x = &c->x[c->next_reply];
        if (!x->rep_pkt)
            x->rep_pkt = pkt;
        if (x->rep_last != pkt) {
            x->rep_bytes += payload_len;
            touched++;
        }
        x->rep_last = pkt;
        if ((rc = text_append(&x->rep, line, ll)) < 0)
            return rc;
        c->rep_open = lf == NULL;
        if (lf && ++x->rep_lines >= NL_MAX(x->req_lines, 1u))
            c->next_reply++;
    }
    for (size_t k = first; k < c->nx && k <= c->next_reply; k++)
        if (c->x[k].rep_last == pkt)
            c->x[k].rep_shared = (uint32_t)touched;
    return 0;
}

/* The echo (nl_echo_transform) of the client's first line begins p: p answers that line. */
static int echoes_first_line(const struct conv *c, const uint8_t *p, size_t n)
{
    if (!c->nx || !c->x[0].req.len)
        return 0;
    const uint8_t *q = c->x[0].req.p, *lf = memchr(q, '\n', c->x[0].req.len);
    if (!lf)
        return 0;
    size_t ll = (size_t)(lf - q);
    if (ll && q[ll - 1] == '\r')
        ll--;
    if (n < ll + 1)
        return 0;
    uint8_t buf[NL_ANSWERS_TEXT_CAP];
    nl_echo_transform(q, ll, buf);
    return memcmp(buf, p, ll) == 0 && (p[ll] == '\n' || p[ll] == '\r');
}

static int set_greeting(struct conv *c, const uint8_t *p, size_t n, uint32_t payload_len, uint64_t pkt)
{
    c->greet_pkt = pkt;
    c->greet_bytes = payload_len;
    c->rep_open = 0;
    free(c->greet.p);
    c->greet.p = NULL;
    c->greet.len = 0;
    return text_append(&c->greet, p, n);
}

/* The candidate held back turned out to be the reply to the first request. */
static int candidate_is_reply(struct nl_answers *a, size_t flow)
{
    struct conv *c = &a->cv[flow];
    c->cand = 0;
    struct text t = c->greet;
    uint64_t pkt = c->greet_pkt;
    uint32_t len = c->greet_bytes;
    c->greet.p = NULL;
    c->greet.len = 0;
    c->greet_pkt = 0;
    c->greet_bytes = 0;
    int rc = pair_reply(a, flow, t.p, t.len, len, pkt);
    free(t.p);
    return rc;
}

/* The greeting: the server's first payload when the server sent it before it had any of the
 * client's bytes (before the client's first payload, or acknowledging none of it), or when it is
 * netlab chat's HELLO. Sent after the client's bytes reached it, it is a reply, unless the echo of
 * the client's first line comes later (netlab's echo server greets on accepting, and may accept
 * after the first request arrived): held back until the next server payload tells. */
static int on_server(struct nl_answers *a, size_t flow, const uint8_t *p, size_t n, uint32_t payload_len, int has_ack,
                     uint32_t ack, uint64_t pkt)
{
    struct conv *c = &a->cv[flow];
    int rc;
    if (c->cand) {
        if (echoes_first_line(c, p, n))
            c->cand = 0; /* it was the greeting */
        else if ((rc = candidate_is_reply(a, flow)) < 0)
            return rc;
    }
    if (!c->server_spoke) {
        c->server_spoke = 1;
        c->chat = n >= 17 && memcmp(p, "HELLO netlab-chat", 17) == 0;
        int before = !c->client_spoke || (c->have_cseq && has_ack && (int32_t)(ack - c->cseq) <= 0);
        if (before || c->chat)
            return set_greeting(c, p, n, payload_len, pkt);
        if (!echoes_first_line(c, p, n) && payload_len == n) {
            c->cand = 1;
            return set_greeting(c, p, n, payload_len, pkt);
        }
    }
    return pair_reply(a, flow, p, n, payload_len, pkt);
}

static int note_iface(struct conv *c, const struct nl_decoded *d, const struct nl_frame *pkt)
{
    int kind = d->link.has_ifindex ? NL_ANSWER_IFACE_INDEX : NL_ANSWER_IFACE_FILE;
    uint32_t idx = d->link.has_ifindex ? d->link.ifindex : pkt->iface;
    size_t i;
    for (i = 0; i < c->nifs; i++)
        if (c->ifs[i].kind == kind && c->ifs[i].index == idx)
            break;
    if (i == c->nifs) {
        if (c->nifs == NL_ANSWERS_IFACE_CAP)
            return 0;
        c->ifs[i].kind = kind;
        c->ifs[i].index = idx;
        c->ifs[i].file_iface = pkt->iface;
        c->ifs[i].packets = 0;
        c->ifs[i].loopback = 0;
        c->nifs++;
    }
    c->ifs[i].packets++;
    c->ifs[i].loopback |= d->link.loopback;
    return 0;
}

/* ---- the passes ---- */

/* A second copy of the packet just seen in this direction: nl_analyze.c's rule. */
static int duplicate(struct nl_flow_dir *D, const struct nl_decoded *d, const struct nl_frame *pkt)
{
    if (nl_flow_is_copy(D, d, pkt)) {
        D->last_l3 = NULL;
        return 1;
    }
    nl_flow_remember(D, d, pkt);
    return 0;
}

static int open_capture(const struct nl_answers *a, struct nl_pcapr **rd, char *errbuf)
{
    if (a->mem)
        return nl_pcapr_open_mem(rd, a->mem, a->mem_len, a->file, errbuf);
    return nl_pcapr_open(rd, a->file, errbuf);
}

static int pass(struct nl_answers *a, struct nl_flow_table *t, int second, char *errbuf)
{
    struct nl_pcapr *rd;
    int rc = open_capture(a, &rd, errbuf);
    if (rc < 0)
        return rc;
    struct nl_frame pkt;
    char eb[NL_ERRBUF_SIZE];
    for (;;) {
        rc = nl_pcapr_next(rd, &pkt, eb);
        if (rc == 0)
            break;
        if (rc < 0) { /* damaged part-way: answered up to the damage */
            if (!second) {
                a->read_error = rc;
                snprintf(a->read_err, sizeof a->read_err, "%s", eb);
            }
            rc = 0;
            break;
        }
        if (!second)
            a->packets++;
        if (!nl_linktype_supported(pkt.linktype))
            continue;
        struct nl_decoded d;
        nl_decode_packet(&pkt, 0, &d);
        if ((d.ipver != 4 && d.ipver != 6) || d.fragment || !d.has_l4 || (d.proto != 6 && d.proto != 17))
            continue;
        int dir, created;
        struct nl_flow *f = nl_flow_get(t, &d, &dir, &created);
        if (!f) {
            rc = NL_ENOMEM;
            break;
        }
        size_t fi = f->id - 1;
        struct conv *c = NULL;
        if (second && d.proto == 6) {
            if (fi >= a->ncv) {
                rc = NL_EMISMATCH; /* the file changed between the passes */
                break;
            }
            c = &a->cv[fi];
            c->frames[dir]++;
            c->fbytes[dir] += pkt.len;
        }
        if (duplicate(&f->d[dir], &d, &pkt))
            continue;
        nl_flow_touch(f, dir, &d, pkt.number, pkt.ts_ns);
        if (d.proto != 6) {
            nl_flow_udp(f, dir, &d, pkt.number, pkt.len);
            continue;
        }
        nl_flow_tcp(f, dir, &d, pkt.number, pkt.len);
        if (!c)
            continue;
        if ((rc = note_iface(c, &d, &pkt)) < 0)
            break;
        if ((rc = add_tie(&c->ties, &c->nties, &c->capties, &c->ties_total, &c->largest, d.payload_len,
                          pkt.number)) < 0 ||
            (rc = add_tie(&a->ties, &a->nties, &a->capties, &a->ties_total, &a->largest, d.payload_len,
                          pkt.number)) < 0)
            break;
        if (!d.payload_len || (d.tcp_flags & NL_TCP_RST))
            continue;
        /* New data only: the bytes beyond the highest sequence this side had sent
         * (a retransmission, whole or in part, is not counted twice). */
        uint32_t start = d.seq + ((d.tcp_flags & NL_TCP_SYN) ? 1 : 0), end = start + d.payload_len;
        uint32_t fresh = d.payload_len;
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
        if (!fresh)
            continue;
        c->payload[dir] += fresh;
        int server = a->ft.flows[fi].server;
        if ((rc = on_payload(a, fi, dir != server, &d, pkt.number)) < 0)
            break;
    }
    /* A candidate greeting no echo of the first line followed was the reply to it. */
    for (size_t i = 0; second && rc >= 0 && i < a->ncv; i++)
        if (a->cv[i].cand)
            rc = candidate_is_reply(a, i);
    if (!second && rc >= 0) {
        size_t n = nl_pcapr_iface_count(rd);
        a->if_name = calloc(n ? n : 1, sizeof *a->if_name);
        a->if_desc = calloc(n ? n : 1, sizeof *a->if_desc);
        if (!a->if_name || !a->if_desc)
            rc = NL_ENOMEM;
        for (size_t i = 0; rc >= 0 && i < n; i++, a->nfile_if++) {
            const struct nl_file_iface *fi = nl_pcapr_iface(rd, i);
            if ((fi->name && !(a->if_name[i] = strdup(fi->name))) ||
                (fi->description && !(a->if_desc[i] = strdup(fi->description))))
                rc = NL_ENOMEM;
        }
    }
    nl_pcapr_close(rd);
    if (rc < 0)
        return nl_err(errbuf, rc, "%s: %s", a->file, rc == NL_ENOMEM ? "out of memory" : "changed while read");
    return 0;
}

static int answer(const char *path, const void *mem, size_t mem_len, struct nl_answers **out, char *errbuf)
{
    *out = NULL;
    struct nl_answers *a = calloc(1, sizeof *a);
    if (!a || !(a->file = strdup(path ? path : "(memory)"))) {
        free(a);
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    }
    a->mem = mem;
    a->mem_len = mem_len;
    nl_flow_table_init(&a->ft);
    int rc = pass(a, &a->ft, 0, errbuf);
    if (rc == 0) {
        nl_flow_finish(&a->ft);
        a->ncv = a->ft.nflows;
        a->cv = calloc(a->ncv ? a->ncv : 1, sizeof *a->cv);
        if (!a->cv)
            rc = nl_err(errbuf, NL_ENOMEM, "out of memory");
    }
    if (rc == 0) {
        struct nl_flow_table t2;
        nl_flow_table_init(&t2);
        rc = pass(a, &t2, 1, errbuf);
        nl_flow_table_free(&t2);
    }
    if (rc == 0) {
        a->tcp = malloc((a->ft.nflows ? a->ft.nflows : 1) * sizeof *a->tcp);
        if (!a->tcp)
            rc = nl_err(errbuf, NL_ENOMEM, "out of memory");
        for (size_t f = 0; rc == 0 && f < a->ft.nflows; f++)
            if (a->ft.flows[f].proto == 6)
                a->tcp[a->ntcp++] = f;
    }
    if (rc < 0) {
        nl_answers_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int nl_answers_file(const char *path, struct nl_answers **out, char *errbuf)
{
    return answer(path, NULL, 0, out, errbuf);
}

int nl_answers_mem(const void *buf, size_t len, const char *name, struct nl_answers **out, char *errbuf)
{
    return answer(name, buf ? buf : "", len, out, errbuf);
}

void nl_answers_release_capture(struct nl_answers *a)
{
    if (a)
        a->released = 1;
}

void nl_answers_free(struct nl_answers *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->ncv; i++) {
        struct conv *c = &a->cv[i];
        free(c->greet.p);
        free(c->ties);
        for (size_t k = 0; k < c->nx; k++) {
            free(c->x[k].req.p);
            free(c->x[k].rep.p);
        }
        free(c->x);
    }
    free(a->cv);
    free(a->tcp);
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
    nl_flow_table_free(&a->ft);
    free(a->file);
    free(a);
}

/* ---- accessors ---- */

void nl_answers_capture(const struct nl_answers *a, struct nl_answers_capture *o)
{
    memset(o, 0, sizeof *o);
    o->file = a->file;
    o->packets = a->packets;
    o->conversations = nl_answers_count(a);
    o->largest_bytes = a->largest;
    o->largest_count = a->ties_total;
    o->users = a->nusers;
    o->read_error = a->read_error;
    o->read_error_text = a->read_error ? a->read_err : NULL;
}

uint64_t nl_answers_capture_largest(const struct nl_answers *a, size_t k)
{
    return k < a->nties ? a->ties[k] : 0;
}

/* The flow index of the i-th TCP conversation, or (size_t)-1. */
static size_t tcp_flow(const struct nl_answers *a, size_t i)
{
    return i < a->ntcp ? a->tcp[i] : (size_t)-1;
}

size_t nl_answers_count(const struct nl_answers *a) { return a->ntcp; }

int nl_answers_get(const struct nl_answers *a, size_t i, struct nl_answer *o)
{
    size_t fi = tcp_flow(a, i);
    if (fi == (size_t)-1)
        return NL_EINVAL;
    const struct nl_flow *f = &a->ft.flows[fi];
    const struct conv *c = &a->cv[fi];
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
    o->greeting_packet = c->greet_pkt;
    o->greeting_bytes = c->greet_bytes;
    o->greeting_text = c->greet.p;
    o->greeting_text_len = c->greet.len;
    o->largest_bytes = c->largest;
    o->largest_count = c->ties_total;
    o->exchanges = c->nx_total;
    o->interfaces = c->nifs;
    o->chat = c->chat;
    o->user = c->user;
    return 0;
}

uint64_t nl_answers_largest(const struct nl_answers *a, size_t i, size_t k)
{
    size_t fi = tcp_flow(a, i);
    if (fi == (size_t)-1 || k >= a->cv[fi].nties)
        return 0;
    return a->cv[fi].ties[k];
}

int nl_answers_exchange(const struct nl_answers *a, size_t i, size_t k, struct nl_exchange *o)
{
    size_t fi = tcp_flow(a, i);
    if (fi == (size_t)-1 || k >= a->cv[fi].nx)
        return NL_EINVAL;
    const struct xchg *x = &a->cv[fi].x[k];
    memset(o, 0, sizeof *o);
    o->request_packet = x->req_pkt;
    o->request_last_packet = x->req_last;
    o->request_bytes = x->req_bytes;
    o->request_text = x->req.p;
    o->request_text_len = x->req.len;
    o->reply_packet = x->rep_pkt;
    o->reply_last_packet = x->rep_last;
    o->reply_bytes = x->rep_bytes;
    o->reply_text = x->rep.p;
    o->reply_text_len = x->rep.len;
    o->reply_expected = x->expect_reply;
    o->reply_shared = x->rep_shared;
    o->field = "tcp.payload";
    return 0;
}

int nl_answers_iface(const struct nl_answers *a, size_t i, size_t k, struct nl_answer_iface *o)
{
    size_t fi = tcp_flow(a, i);
    if (fi == (size_t)-1 || k >= a->cv[fi].nifs)
        return NL_EINVAL;
    const struct aif *x = &a->cv[fi].ifs[k];
    memset(o, 0, sizeof *o);
    o->kind = x->kind;
    o->index = x->index;
    o->packets = x->packets;
    o->loopback = x->loopback;
    if (x->kind == NL_ANSWER_IFACE_FILE && x->index < a->nfile_if) {
        o->name = a->if_name[x->index];
        o->description = a->if_desc[x->index];
    }
    return 0;
}

int nl_answers_user(const struct nl_answers *a, size_t k, struct nl_chat_user *o)
{
    if (k >= a->nusers)
        return NL_EINVAL;
    const struct user_rec *u = &a->users[k];
    const struct nl_flow *f = &a->ft.flows[u->flow];
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
    int rc = open_capture(a, &rd, errbuf);
    if (rc < 0)
        return rc;
    struct nl_frame pkt;
    for (;;) {
        rc = nl_pcapr_next(rd, &pkt, errbuf);
        if (rc <= 0 || pkt.number == number)
            break;
    }
    if (rc <= 0) {
        nl_pcapr_close(rd);
        return rc < 0 ? rc : nl_err(errbuf, NL_ENOTFOUND, "%s: no packet %llu", a->file, (unsigned long long)number);
    }
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
    nl_pcapr_close(rd); /* d's pointers are not used past here except as offsets */
    o->ipver = d.ipver;
    if (d.ipver) {
        o->l3_offset = (uint32_t)(d.l3 - pkt.data);
        o->l3_len = d.l3_caplen;
    }
    o->ck_ip = d.ck_ip;
    o->ck_l4 = d.ck_l4;
    o->offload_l4 = d.offload_l4;
    if (!d.has_l4 || d.proto != 6)
        return 0;
    if (d.ck_l4 == NL_CK_OFFLOAD)
        o->ctx.tcp_offload = d.offload_l4 == NL_OFFLOAD_PARTIAL ? NL_XOFFLOAD_PARTIAL : NL_XOFFLOAD_ZERO;
    rc = window_scale(a, &d, number, &o->ctx, errbuf);
    if (rc < 0) {
        nl_packet_copy_free(o);
        return rc;
    }
    /* Its conversation: the same endpoints, and the packet within its span. */
    for (size_t i = 0; i < a->ft.nflows; i++) {
        const struct nl_flow *f = &a->ft.flows[i];
        if (f->proto != 6 || f->ipver != d.ipver || number < f->first_pkt || number > f->last_pkt)
            continue;
        size_t alen = d.ipver == 4 ? 4 : 16;
        int dir;
        if (!memcmp(f->addr[0], d.src, alen) && !memcmp(f->addr[1], d.dst, alen) && f->port[0] == d.sport &&
            f->port[1] == d.dport)
            dir = 0;
        else if (!memcmp(f->addr[1], d.src, alen) && !memcmp(f->addr[0], d.dst, alen) && f->port[1] == d.sport &&
                 f->port[0] == d.dport)
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
        break;
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
