/*
 * nl_chatwait.c - answers a connection awaits (from the directory of
 * nl_chatnet.h: a name claimed, looked up, or a WHO asked of another node; or
 * whether a name's idle holder is still there, probed at the TCP level), and
 * the lines the connection sends meanwhile, held and handled once the answer
 * (or its deadline) comes, so that replies stay in command order. Owns the
 * asks, the probes of holders and the held lines; the directory answers
 * through chat_wait_answer, exactly once per ask, perhaps at once.
 */
#include "nl_chat_int.h"
#include "nl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_TICK_MS 250
#define WAIT_TIMEOUT_MS 5000  /* an ask unanswered this long fails with ERR 503 */
#define HOLD_MAX (256 * 1024) /* bytes of lines held for one connection while it waits */
#define PROBE_QUIET_MS 10000  /* a holder that sent nothing this long looks idle: probed before its name is refused */
#define PROBE_AGAIN_MS 10000  /* one whose host answered a probe this recently is not probed again */
#define PROBE_TIMEOUT_MS 2000 /* the holder's host has this long to acknowledge the probe */

static const char PROBE_LINE[] =
    "PROBE someone asked for your name; this line checks that your connection is still there (nothing to answer)\n";

static const char UNAVAILABLE[] = "ERR 503 cluster unavailable\n";

struct chat_wait {
    uint32_t id;
    int kind;
    struct nl_conn *c;       /* NULL once it closed */
    uint64_t deadline;
    uint8_t len;
    char name[NAME_CAP];     /* WAIT_PROBE: the holder's */
    int node;                /* WAIT_PROBE: the holder's node (0: here) */
    uint8_t *line;           /* WAIT_LOOKUP, WAIT_PROBE: the command to run again once the name is known */
    size_t line_len;
};

struct chat_ask {            /* another node's probe of a holder here, awaiting its answer */
    int node;
    uint32_t id;
    uint8_t len;
    char name[NAME_CAP];
};

struct chat_hold {
    struct nl_conn *c;
    int waiting;             /* waits of c not answered yet */
    int replaying;
    uint8_t *q;              /* lines, each a 4-byte length then its bytes */
    size_t len, off, cap;
};

/* ---- held lines ---- */

static struct chat_hold *hold_find(struct nl_chat_server *s, const struct nl_conn *c)
{
    for (size_t i = 0; i < s->nholds; i++)
        if (s->holds[i].c == c)
            return &s->holds[i];
    return NULL;
}

static struct chat_hold *hold_begin(struct nl_chat_server *s, struct nl_conn *c)
{
    struct chat_hold *h = hold_find(s, c);
    if (!h) {
        if (NL_GROW(s->holds, s->nholds, s->capholds, 16) < 0)
            return NULL;
        h = &s->holds[s->nholds++];
        memset(h, 0, sizeof *h);
        h->c = c;
    }
    h->waiting++;
    return h;
}

static void hold_free(struct nl_chat_server *s, struct chat_hold *h)
{
    free(h->q);
    *h = s->holds[--s->nholds];
}

int chat_hold_line(struct nl_chat_server *s, struct nl_conn *c, const uint8_t *line, size_t len)
{
    if (!s->nholds)
        return 0;
    struct chat_hold *h = hold_find(s, c);
    if (!h || h->replaying)
        return 0;
    if (h->len + len + 4 > HOLD_MAX) {
        chat_say(c, "ERR 503 cluster busy: too many commands waiting for an answer; disconnected\n");
        nl_conn_close(c, NL_CLOSE_LOCAL);
        return 1;
    }
    if (h->len + len + 4 > h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 1024;
        while (cap < h->len + len + 4)
            cap *= 2;
        uint8_t *q = realloc(h->q, cap);
        if (!q) {
            nl_conn_close(c, NL_CLOSE_LOCAL);
            return 1;
        }
        h->q = q;
        h->cap = cap;
    }
    uint32_t n32 = (uint32_t)len;
    memcpy(h->q + h->len, &n32, 4);
    memcpy(h->q + h->len + 4, line, len);
    h->len += len + 4;
    return 1;
}

int chat_replaying(struct nl_chat_server *s, const struct nl_conn *c)
{
    struct chat_hold *h = s->nholds ? hold_find(s, c) : NULL;
    return h && h->replaying;
}

/* The answer c waited for was given: run `again` (a command that looked a name up) with what was
 * found, then what c sent meanwhile, in order, until a line makes it wait again. */
static void hold_release(struct nl_chat_server *s, struct nl_conn *c, const uint8_t *again, size_t again_len,
                         const struct chat_peer *found)
{
    struct chat_hold *h = hold_find(s, c);
    if (!h || (h->waiting && --h->waiting))
        return; /* another answer is still awaited */
    uint8_t line[NL_CHAT_MAX_LINE + 8];
    if (again && !nl_conn_is_closing(c)) {
        size_t n = NL_MIN(again_len, (size_t)NL_CHAT_MAX_LINE);
        memcpy(line, again, n);
        h->replaying = 1;
        s->rerun(s, c, line, n, found);
        if ((h = hold_find(s, c)))
            h->replaying = 0;
    }
    while (h && !h->waiting && h->off < h->len) {
        if (nl_conn_is_closing(c)) {
            h->off = h->len;
            break;
        }
        uint32_t n;
        memcpy(&n, h->q + h->off, 4);
        if (n > NL_CHAT_MAX_LINE)
            n = NL_CHAT_MAX_LINE;
        memcpy(line, h->q + h->off + 4, n);
        h->off += (size_t)n + 4;
        h->replaying = 1;
        s->replay(s, c, line, n);
        if ((h = hold_find(s, c))) /* the array may have moved */
            h->replaying = 0;
    }
    if (h && !h->waiting)
        hold_free(s, h);
}

/* ---- asks awaiting an answer ---- */

static struct chat_wait *wait_new(struct nl_chat_server *s, int kind, struct nl_conn *c, const char *name, size_t n)
{
    if (NL_GROW(s->waits, s->nwaits, s->capwaits, 16) < 0)
        return NULL;
    struct chat_wait *w = &s->waits[s->nwaits++];
    memset(w, 0, sizeof *w);
    w->id = ++s->next_id ? s->next_id : ++s->next_id;
    w->kind = kind;
    w->c = c;
    w->deadline = nl_loop_now(s->svc.loop) + WAIT_TIMEOUT_MS;
    memcpy(w->name, name, n);
    w->name[n] = 0;
    w->len = (uint8_t)n;
    return w;
}

static struct chat_wait *wait_find(struct nl_chat_server *s, uint32_t id)
{
    for (size_t i = 0; i < s->nwaits; i++)
        if (s->waits[i].id == id)
            return &s->waits[i];
    return NULL;
}

/* Remove w; its connection (if still there) goes on with what it held, after `again` when given. */
static void wait_finish(struct nl_chat_server *s, struct chat_wait *w, int again, const struct chat_peer *found)
{
    struct nl_conn *c = w->c;
    uint8_t *line = w->line;
    size_t n = w->line_len;
    *w = s->waits[--s->nwaits];
    if (c)
        hold_release(s, c, again ? line : NULL, n, found);
    free(line);
}

/* Start an ask: the wait, then the hold of c's later lines unless the answer already came. */
static struct chat_wait *wait_start(struct nl_chat_server *s, int kind, struct nl_conn *c, const char *name, size_t n)
{
    struct chat_wait *w = wait_new(s, kind, c, name, n);
    if (!w || !hold_begin(s, c)) {
        if (w)
            s->nwaits--;
        chat_say(c, "ERR 503 server out of memory\n");
        return NULL;
    }
    return w;
}

/* The mechanism made no ask: the wait goes, c is not held for it (the line being handled carries on,
 * and a replay of held lines goes on after it), and reply, if any, is c's answer. */
static void wait_abandon(struct nl_chat_server *s, uint32_t id, struct nl_conn *c, const char *reply)
{
    if (reply)
        chat_say(c, "%s", reply);
    struct chat_wait *w = wait_find(s, id);
    if (w) {
        free(w->line);
        *w = s->waits[--s->nwaits];
    }
    struct chat_hold *h = hold_find(s, c);
    if (h && h->waiting && !--h->waiting && !h->replaying && h->off >= h->len)
        hold_free(s, h);
}

void chat_wait_claim(struct nl_chat_server *s, struct nl_conn *c, const char *name, size_t len)
{
    struct chat_wait *w = wait_start(s, WAIT_CLAIM, c, name, len);
    if (!w)
        return;
    uint32_t id = w->id;
    if (s->net->ops->claim(s->net, id, w->name, len) < 0)
        wait_abandon(s, id, c, UNAVAILABLE);
}

void chat_wait_who(struct nl_chat_server *s, struct nl_conn *c, int node, const char *name, size_t len)
{
    struct chat_wait *w = wait_start(s, WAIT_WHO, c, name, len);
    if (!w)
        return;
    uint32_t id = w->id;
    if (s->net->ops->who(s->net, id, node, w->name, len) < 0)
        wait_abandon(s, id, c, UNAVAILABLE);
}

int chat_wait_lookup(struct nl_chat_server *s, struct nl_conn *c, const uint8_t *line, size_t llen,
                     const uint8_t *name, size_t len)
{
    uint8_t *copy = malloc(llen ? llen : 1);
    struct chat_wait *w = copy ? wait_start(s, WAIT_LOOKUP, c, (const char *)name, len) : NULL;
    if (!w) {
        free(copy);
        if (!copy)
            chat_say(c, "ERR 503 server out of memory\n");
        return NL_ENOMEM;
    }
    memcpy(copy, line, llen);
    w->line = copy;
    w->line_len = llen;
    uint32_t id = w->id;
    int rc = s->net->ops->lookup(s->net, id, w->name, len);
    if (rc < 0)
        wait_abandon(s, id, c, rc == NL_ENOTFOUND ? NULL : UNAVAILABLE);
    return rc;
}

/* Lines wait while the mechanism is unsure of this server's place (it stalled): c's line is the first held. */
void chat_wait_net(struct nl_chat_server *s, struct nl_conn *c, const uint8_t *line, size_t len)
{
    struct chat_wait *w = wait_start(s, WAIT_NET, c, "", 0);
    if (w)
        chat_hold_line(s, c, line, len);
}

/* The mechanism knows again (ready, or cut off): the lines held for it are served, in order. */
void chat_wait_net_known(struct nl_chat_server *s)
{
    for (size_t i = 0; i < s->nwaits;) {
        if (s->waits[i].kind != WAIT_NET) {
            i++;
            continue;
        }
        wait_finish(s, &s->waits[i], 0, NULL);
        i = 0; /* serving the lines may have added or removed waits */
    }
}

/* ---- is a name's holder still there? ---- */

static int looks_idle(const struct nl_chat_server *s, const struct chat_user *u)
{
    uint64_t now = nl_loop_now(s->svc.loop);
    return nl_conn_quiet_ms(u->conn) >= PROBE_QUIET_MS && (!u->probed_at || now - u->probed_at >= PROBE_AGAIN_MS);
}

/* The holder of name is known to be there (alive) or gone: the NICKs that waited on it run again (now they
 * are refused at once, or find the name free), and other nodes that asked are answered. */
static void holder_known(struct nl_chat_server *s, const char *name, size_t n, int alive)
{
    for (size_t i = 0; i < s->nwaits;) {
        struct chat_wait *w = &s->waits[i];
        if (w->kind != WAIT_PROBE || w->node != 0 || !nl_name_same(w->name, w->len, name, n)) {
            i++;
            continue;
        }
        wait_finish(s, w, 1, NULL);
        i = 0; /* running them again may have changed the waits */
    }
    for (size_t i = 0; i < s->nasks;) {
        struct chat_ask a = s->asks[i];
        if (!nl_name_same(a.name, a.len, name, n)) {
            i++;
            continue;
        }
        s->asks[i] = s->asks[--s->nasks];
        s->net->ops->probed(s->net, a.node, a.id, alive);
    }
}

static void on_probed(struct nl_conn *c, int alive, void *ud)
{
    struct nl_chat_server *s = ud;
    struct chat_user *u = nl_conn_data(c);
    if (!u)
        return;
    u->probing = 0;
    if (!alive) { /* the name is free once it has gone (chat_wait_holder_gone) */
        nl_conn_close(c, NL_CLOSE_VANISHED);
        return;
    }
    u->probed_at = nl_loop_now(s->svc.loop);
    holder_known(s, u->e.name, u->e.len, 1);
}

/* A line to the holder, and its host's acknowledgement watched. */
static int probe(struct nl_chat_server *s, struct chat_user *u)
{
    if (u->probing)
        return NL_OK;
    nl_conn_write(u->conn, PROBE_LINE, sizeof PROBE_LINE - 1);
    int rc = nl_conn_probe(u->conn, PROBE_TIMEOUT_MS, on_probed, s);
    if (rc == NL_OK)
        u->probing = 1;
    return rc;
}

int chat_wait_probe(struct nl_chat_server *s, struct nl_conn *c, const uint8_t *line, size_t len,
                    struct chat_user *u)
{
    if (!looks_idle(s, u))
        return 0;
    uint8_t *copy = malloc(len ? len : 1);
    struct chat_wait *w = copy ? wait_start(s, WAIT_PROBE, c, u->e.name, u->e.len) : NULL;
    if (!w) {
        free(copy);
        return 0;
    }
    memcpy(copy, line, len);
    w->line = copy;
    w->line_len = len;
    uint32_t id = w->id;
    if (probe(s, u) < 0) {
        wait_abandon(s, id, c, NULL);
        return 0;
    }
    return 1;
}

void chat_wait_holder_gone(struct nl_chat_server *s, const char *name, size_t n) { holder_known(s, name, n, 0); }

void chat_wait_asked(void *ud, int node, uint32_t id, const char *name, size_t n)
{
    struct nl_chat_server *s = ud;
    struct chat_user *u = chat_find(s, (const uint8_t *)name, n);
    if (!u || !looks_idle(s, u) || NL_GROW(s->asks, s->nasks, s->capasks, 4) < 0 || probe(s, u) < 0) {
        s->net->ops->probed(s->net, node, id, u != NULL);
        return;
    }
    struct chat_ask *a = &s->asks[s->nasks++];
    *a = (struct chat_ask){.node = node, .id = id, .len = (uint8_t)n};
    memcpy(a->name, name, n);
}

/* A claim found the name (or one like it) held on another node: ask that node whether its holder is still
 * there, the NICK waiting meanwhile. 0: no probe could be asked. */
static int probe_elsewhere(struct nl_chat_server *s, struct nl_conn *c, const char *asked, size_t an, int node,
                           const char *holder, size_t hn)
{
    char line[NAME_CAP + 8];
    int ln = snprintf(line, sizeof line, "NICK %.*s", (int)an, asked);
    uint8_t *copy = malloc((size_t)ln);
    struct chat_wait *w = copy && hn < NAME_CAP ? wait_start(s, WAIT_PROBE, c, holder, hn) : NULL;
    if (!w) {
        free(copy);
        return 0;
    }
    memcpy(copy, line, (size_t)ln);
    w->line = copy;
    w->line_len = (size_t)ln;
    w->node = node;
    uint32_t id = w->id;
    if (s->net->ops->probe(s->net, id, node, holder, hn) < 0) {
        wait_abandon(s, id, c, NULL);
        return 0;
    }
    return 1;
}

static void answer_probe(struct nl_chat_server *s, struct chat_wait *w, const struct nl_chatnet_answer *a)
{
    if (a->kind == NL_CHATNET_VANISHED) {
        wait_finish(s, w, 1, NULL); /* its name was released first: the NICK runs again */
        return;
    }
    struct nl_chat_cmd cmd; /* the name asked for, from the NICK kept */
    if (nl_chat_parse(w->line, w->line_len, &cmd) == NL_OK)
        chat_say_taken(w->c, (const char *)cmd.arg, cmd.arg_len, w->name, w->len);
    wait_finish(s, w, 0, NULL);
}

static void answer_claim(struct nl_chat_server *s, struct chat_wait *w, const struct nl_chatnet_answer *a)
{
    switch (a->kind) {
    case NL_CHATNET_WON:
        if (chat_register(s, w->c, w->name, w->len) < 0)
            s->net->ops->release(s->net, w->name, w->len);
        break;
    case NL_CHATNET_TAKEN:
        if (a->node <= 0 || !probe_elsewhere(s, w->c, w->name, w->len, a->node, a->name, a->len))
            chat_say_taken(w->c, w->name, w->len, a->name, a->len);
        break;
    default:
        if (a->text)
            chat_say(w->c, "ERR 503 cluster unavailable: %.*s\n", (int)a->tlen, a->text);
        else
            nl_conn_write(w->c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
        break;
    }
}

static void answer_who(struct nl_chat_server *s, struct chat_wait *w, const struct nl_chatnet_answer *a)
{
    if (a->kind == NL_CHATNET_LINE)
        chat_say(w->c, "%.*s\n", (int)a->tlen, a->text);
    else if (a->kind == NL_CHATNET_ABSENT)
        chat_say(w->c, "ERR 404 no such user: %s\n", w->name);
    else
        nl_conn_write(w->c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
}

void chat_wait_answer(void *ud, uint32_t id, const struct nl_chatnet_answer *a)
{
    struct nl_chat_server *s = ud;
    struct chat_wait *w = wait_find(s, id);
    if (!w || !w->c) {
        /* Timed out, or the client left meanwhile: a name won for nobody is given back. */
        if (a->kind == NL_CHATNET_WON)
            s->net->ops->release(s->net, a->name, a->len);
        if (w)
            wait_finish(s, w, 0, NULL);
        return;
    }
    if (w->kind == WAIT_PROBE) {
        answer_probe(s, w, a);
        return;
    } else if (w->kind == WAIT_CLAIM) {
        answer_claim(s, w, a);
    } else if (w->kind == WAIT_WHO) {
        answer_who(s, w, a);
    } else if (a->kind == NL_CHATNET_FOUND || a->kind == NL_CHATNET_NONE) {
        struct chat_peer p = {.node = a->node};
        if (a->kind == NL_CHATNET_FOUND) {
            p.len = (uint8_t)NL_MIN(a->len, (size_t)NL_CHAT_MAX_NAME);
            memcpy(p.name, a->name, p.len);
        }
        wait_finish(s, w, 1, a->kind == NL_CHATNET_FOUND ? &p : NULL);
        return;
    } else {
        nl_conn_write(w->c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
    }
    if ((w = wait_find(s, id)))
        wait_finish(s, w, 0, NULL);
}

void chat_wait_fail_all(struct nl_chat_server *s)
{
    while (s->nwaits) {
        struct chat_wait *w = &s->waits[s->nwaits - 1];
        if (w->c && w->kind != WAIT_NET)
            nl_conn_write(w->c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
        wait_finish(s, w, 0, NULL);
    }
}

void chat_wait_conn_closing(struct nl_chat_server *s, struct nl_conn *c)
{
    for (size_t i = 0; i < s->nwaits; i++)
        if (s->waits[i].c == c)
            s->waits[i].c = NULL;
    struct chat_hold *h = hold_find(s, c);
    if (h)
        hold_free(s, h);
}

void chat_wait_each_claim(const struct nl_chat_server *s, void (*fn)(void *arg, const char *name, size_t n, int in_room),
                          void *arg)
{
    for (size_t i = 0; i < s->nwaits; i++)
        if (s->waits[i].kind == WAIT_CLAIM)
            fn(arg, s->waits[i].name, s->waits[i].len, 0);
}

static void on_wait_tick(struct nl_loop *loop, void *ud)
{
    struct nl_chat_server *s = ud;
    uint64_t now = nl_loop_now(loop);
    for (size_t i = 0; i < s->nwaits;) {
        struct chat_wait *w = &s->waits[i];
        if (w->deadline > now) {
            i++;
            continue;
        }
        if (w->c && w->kind == WAIT_PROBE) { /* no answer from the holder's server: the name stays its */
            struct nl_chatnet_answer a = {.kind = NL_CHATNET_FAILED};
            answer_probe(s, w, &a);
            i = 0;
            continue;
        }
        if (w->c && w->kind != WAIT_NET) /* held lines are served as they are (they were not answered yet) */
            nl_conn_write(w->c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
        wait_finish(s, w, 0, NULL);
        i = 0; /* finishing may have added or removed waits */
    }
}

int chat_wait_open(struct nl_chat_server *s, void (*line)(struct nl_chat_server *s, struct nl_conn *c, uint8_t *line,
                                                          size_t len),
                   void (*rerun)(struct nl_chat_server *s, struct nl_conn *c, const uint8_t *line, size_t len,
                                 const struct chat_peer *found),
                   char *errbuf)
{
    s->replay = line;
    s->rerun = rerun;
    int64_t t = nl_loop_timer(s->svc.loop, WAIT_TICK_MS, WAIT_TICK_MS, on_wait_tick, s, errbuf);
    if (t < 0)
        return (int)t;
    s->wait_timer = t;
    return NL_OK;
}

void chat_wait_close(struct nl_chat_server *s)
{
    if (s->wait_timer > 0)
        nl_loop_timer_cancel(s->svc.loop, s->wait_timer);
    s->wait_timer = 0;
    for (size_t i = 0; i < s->nholds; i++)
        free(s->holds[i].q);
    for (size_t i = 0; i < s->nwaits; i++)
        free(s->waits[i].line);
    free(s->holds);
    free(s->waits);
    free(s->asks);
    s->holds = NULL;
    s->waits = NULL;
    s->asks = NULL;
    s->nholds = s->nwaits = s->nasks = 0;
}
