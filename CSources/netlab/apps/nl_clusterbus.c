/*
 * nl_clusterbus.c - the Redis mechanism's bus: events for a user of another
 * server published on that server's channel (nl:to:<node>), the room on
 * nl:all, and every message that comes in on the subscription, checked and
 * dispatched from two tables of verbs (one per channel). A session event goes
 * to the chat server through the sink; a directory change to nl_clusterdir.c.
 */
#include "nl_cluster_int.h"
#include "nl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- out ---- */

static const char *const EV_VERB[] = {
    [NL_CHATNET_REQ] = "REQ",     [NL_CHATNET_ACC] = "ACC",   [NL_CHATNET_DEC] = "DEC",
    [NL_CHATNET_LEAVE] = "LEAVE", [NL_CHATNET_GONE] = "GONE", [NL_CHATNET_MSG] = "MSG",
    [NL_CHATNET_NOUSER] = "NOUSER",
};

struct sent_ctx { /* a session event, for its answer */
    struct nl_cluster *cl;
    int ev, node;
    uint8_t fn, tn;
    char from[NAME_CAP], to[NAME_CAP];
};

/* A session event whose server is gone or not listening, or refused as stale: the chat server hears of it. */
static void on_sent(redisAsyncContext *ac, void *r, void *priv)
{
    struct sent_ctx x = *(struct sent_ctx *)priv;
    struct nl_cluster *cl = ac ? ac->data : x.cl; /* ac->data is NULL while closing */
    redisReply *rep = r;
    free(priv);
    if (!cl || (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1))
        return;
    cl_stale(cl, rep);
    cl->sink->undelivered(cl->ud, x.ev, x.node, x.from, x.fn, x.to, x.tn);
}

int cl_send(struct nl_chatnet *n, int node, int ev, const char *from, size_t fn, const char *to, size_t tn,
            const uint8_t *text, size_t tlen)
{
    struct nl_cluster *cl = (struct nl_cluster *)n;
    if (node <= 0 || (size_t)node >= cl->nnodes || ev < NL_CHATNET_REQ || ev > NL_CHATNET_NOUSER ||
        fn >= NAME_CAP || tn >= NAME_CAP)
        return NL_EINVAL;
    if (ev == NL_CHATNET_MSG) /* the pass's MSGs for one server go in one publish */
        return cl_batch_msg(cl, node, from, fn, to, tn, text, tlen);
    struct sent_ctx *x = malloc(sizeof *x);
    if (!x)
        return NL_ENOMEM;
    *x = (struct sent_ctx){.cl = cl, .ev = ev, .node = node, .fn = (uint8_t)fn, .tn = (uint8_t)tn};
    memcpy(x->from, from, fn);
    memcpy(x->to, to, tn);
    int rc = cl_to_node(cl, node, on_sent, x, "%s %s %.*s %.*s", EV_VERB[ev], cl->node, (int)fn, from, (int)tn, to);
    if (rc < 0)
        free(x);
    return rc;
}

void cl_room(struct nl_chatnet *n, int what, const char *name, size_t len, const uint8_t *text, size_t tlen)
{
    struct nl_cluster *cl = (struct nl_cluster *)n;
    if (!cl->ready || !nl_redis_ctx(cl->cmd) || len >= NAME_CAP)
        return;
    if (what != NL_CHATNET_SAY) { /* the room set changes: one versioned change (cl_lua_room) */
        char nm[NAME_CAP];
        memcpy(nm, name, len);
        nm[len] = 0;
        const char *argv[2] = {nm, what == NL_CHATNET_JOINED ? "1" : "0"};
        cl_write(cl, S_ROOM, NULL, NULL, 2, argv, NULL);
        return;
    }
    char msg[NL_CHATNET_MAX_LINE + 128];
    int k = snprintf(msg, sizeof msg, "ROOM %s %.*s %.*s", cl->node, (int)len, name, (int)tlen, (const char *)text);
    if (k > 0 && (size_t)k < sizeof msg)
        cl_publish(cl, -1, msg, (size_t)k, NULL, NULL);
}

struct who_ctx {
    struct nl_cluster *cl;
    uint32_t id;
};

/* A WHO or a PROBE whose server is gone or not listening: answered at once (FAILED) rather than after the
 * asker's deadline. */
static void on_who_sent(redisAsyncContext *ac, void *r, void *priv)
{
    struct who_ctx x = *(struct who_ctx *)priv;
    struct nl_cluster *cl = ac ? ac->data : x.cl;
    redisReply *rep = r;
    free(priv);
    if (!cl || (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1))
        return;
    cl_stale(cl, rep);
    struct nl_chatnet_answer a = {.kind = NL_CHATNET_FAILED};
    cl->sink->answer(cl->ud, x.id, &a);
}

/* "<verb> <us> <id> <name>" to node: a question whose answer (or its failure) comes back as id. */
static int ask(struct nl_cluster *cl, const char *verb, uint32_t id, int node, const char *name, size_t len)
{
    struct who_ctx *x = malloc(sizeof *x);
    if (!x)
        return NL_ENOMEM;
    *x = (struct who_ctx){cl, id};
    int rc = cl_to_node(cl, node, on_who_sent, x, "%s %s %u %.*s", verb, cl->node, id, (int)len, name);
    if (rc < 0)
        free(x);
    return rc;
}

int cl_who(struct nl_chatnet *n, uint32_t id, int node, const char *name, size_t len)
{
    return ask((struct nl_cluster *)n, "WHOQ", id, node, name, len);
}

int cl_probe(struct nl_chatnet *n, uint32_t id, int node, const char *name, size_t len)
{
    return ask((struct nl_cluster *)n, "PROBE", id, node, name, len);
}

void cl_probed(struct nl_chatnet *n, int node, uint32_t id, int alive)
{
    struct nl_cluster *cl = (struct nl_cluster *)n;
    cl_to_node(cl, node, NULL, NULL, "PROBED %s %u %s", cl->node, id, alive ? "alive" : "gone");
}

void cl_flush(struct nl_chatnet *n) { cl_batches_flush((struct nl_cluster *)n); }

/* ---- in: messages for this server's users (nl:to:<us>) ---- */

/* "WHOQ <from-server> <id> <name>": the USER line of a user here, or "-". */
static void in_whoq(struct nl_cluster *cl, int src, const char *rest, size_t rn)
{
    const char *idw;
    size_t il = cl_word(&rest, &rn, &idw);
    char out[NL_CHATNET_MAX_LINE];
    int k = cl_name_valid(rest, rn) ? cl->sink->who(cl->ud, rest, rn, out, sizeof out) : -1;
    if (k < 0)
        cl_to_node(cl, src, NULL, NULL, "WHOA %s %.*s -", cl->node, (int)il, idw);
    else
        cl_to_node(cl, src, NULL, NULL, "WHOA %s %.*s %.*s @%s", cl->node, (int)il, idw, k, out, cl->node);
}

/* "WHOA <from-server> <id> <USER line | ->": the answer to a WHO asked there. */
static void in_whoa(struct nl_cluster *cl, int src, const char *rest, size_t rn)
{
    const char *idw;
    cl_word(&rest, &rn, &idw);
    struct nl_chatnet_answer a = {.kind = NL_CHATNET_LINE, .node = src, .text = rest, .tlen = rn};
    if (rn == 1 && rest[0] == '-')
        a.kind = NL_CHATNET_ABSENT;
    cl->sink->answer(cl->ud, (uint32_t)strtoul(idw, NULL, 10), &a);
}

/* "PROBE <from-server> <id> <name>": is the user here holding name still there? */
static void in_probe(struct nl_cluster *cl, int src, const char *rest, size_t rn)
{
    const char *idw;
    cl_word(&rest, &rn, &idw);
    if (cl_name_valid(rest, rn))
        cl->sink->probe(cl->ud, src, (uint32_t)strtoul(idw, NULL, 10), rest, rn);
    else
        cl_bad_input(cl, "PROBE with a bad name", rest, rn);
}

/* "PROBED <from-server> <id> alive|gone": the answer to a probe asked there. */
static void in_probed(struct nl_cluster *cl, int src, const char *rest, size_t rn)
{
    const char *idw;
    cl_word(&rest, &rn, &idw);
    struct nl_chatnet_answer a = {.kind = rn == 5 && !memcmp(rest, "alive", 5) ? NL_CHATNET_ALIVE : NL_CHATNET_VANISHED,
                                  .node = src};
    cl->sink->answer(cl->ud, (uint32_t)strtoul(idw, NULL, 10), &a);
}

/* A session event "<verb> <from-server> <from> <to>[ <text>]" for the chat server. */
static void in_session(struct nl_cluster *cl, int ev, int src, const char *verb, size_t vn, const char *rest,
                       size_t rn)
{
    const char *from, *to;
    size_t fn = cl_word(&rest, &rn, &from), tn;
    if (ev == NL_CHATNET_MSG) {
        tn = cl_word(&rest, &rn, &to); /* rest is the text, verbatim */
    } else {
        to = rest;
        tn = rn;
        rn = 0;
    }
    if (!cl_name_valid(from, fn) || !cl_name_valid(to, tn)) {
        cl_bad_input(cl, "message with a bad name", verb, vn + 1 + fn + 1 + tn);
        return;
    }
    cl->sink->event(cl->ud, src, ev, from, fn, to, tn, (const uint8_t *)rest, rn);
}

static const struct {
    const char *verb;
    int ev; /* a session event; 0: handled by fn */
    void (*fn)(struct nl_cluster *cl, int src, const char *rest, size_t rn);
} directed[] = {
    {"MSG", NL_CHATNET_MSG, NULL},     {"REQ", NL_CHATNET_REQ, NULL},   {"ACC", NL_CHATNET_ACC, NULL},
    {"DEC", NL_CHATNET_DEC, NULL},     {"LEAVE", NL_CHATNET_LEAVE, NULL}, {"GONE", NL_CHATNET_GONE, NULL},
    {"NOUSER", NL_CHATNET_NOUSER, NULL}, {"WHOQ", 0, in_whoq},         {"WHOA", 0, in_whoa},
    {"PROBE", 0, in_probe},            {"PROBED", 0, in_probed},
};

static void on_directed(struct nl_cluster *cl, const char *verb, size_t vn, int src, const char *rest, size_t rn)
{
    for (size_t i = 0; i < sizeof directed / sizeof directed[0]; i++) {
        if (strlen(directed[i].verb) != vn || memcmp(directed[i].verb, verb, vn))
            continue;
        if (directed[i].fn)
            directed[i].fn(cl, src, rest, rn);
        else
            in_session(cl, directed[i].ev, src, verb, vn, rest, rn);
        return;
    }
    cl_bad_input(cl, "unknown message", verb, vn);
}

/* ---- in: the directory and the room (nl:all) ---- */

/* "ADD|DEL|JOINED|PARTED <server> <name> [...] <version>": a change to the server's user set. */
static void in_change(struct nl_cluster *cl, int op, int src, const char *verb, size_t vn, const char *rest,
                      size_t rn)
{
    const char *name, *w;
    size_t nn = cl_word(&rest, &rn, &name);
    if (!cl_name_valid(name, nn)) {
        cl_bad_input(cl, "broadcast with a bad name", verb, vn);
        return;
    }
    struct dop d = {.op = (uint8_t)op, .len = (uint8_t)nn};
    memcpy(d.name, name, nn);
    d.name[nn] = 0;
    if (op == D_ADD) {
        size_t rl = cl_word(&rest, &rn, &w);
        d.room = rl == 1 && w[0] == '1';
    } else if (op == D_DEL) {
        cl->sink->gone(cl->ud, src, name, nn); /* a GONE lost while Redis was away arrives this way */
    } else { /* the room hears it at once */
        char line[NAME_CAP + 16];
        int k = snprintf(line, sizeof line, "%s %.*s\n", op == D_JOIN ? "JOINED" : "PARTED", (int)nn, name);
        cl->sink->room(cl->ud, line, (size_t)k);
    }
    if (!(d.v = cl_version(rest, rn))) {
        char what[48];
        snprintf(what, sizeof what, "%.*s without a version", (int)vn, verb);
        cl_bad_input(cl, what, verb, vn);
        return;
    }
    cl_dir_change(cl, src, &d);
}

/* "ROOM <server> <name> <text>": a room message. */
static void in_room(struct nl_cluster *cl, int src, const char *verb, size_t vn, const char *rest, size_t rn)
{
    const char *name;
    size_t nn = cl_word(&rest, &rn, &name);
    if (!cl_name_valid(name, nn)) {
        cl_bad_input(cl, "broadcast with a bad name", verb, vn);
        return;
    }
    char line[NL_CHATNET_MAX_LINE + 64];
    if (rn > NL_CHATNET_MAX_LINE) {
        cl_bad_input(cl, "room message too long", verb, vn);
        return;
    }
    int k = snprintf(line, sizeof line, "ROOM %.*s %.*s\n", (int)nn, name, (int)rn, rest);
    cl->sink->room(cl->ud, line, (size_t)k);
}

/* "DOWN <server> <version>": the server is gone with its users. */
static void in_down(struct nl_cluster *cl, int src, const char *verb, size_t vn, const char *rest, size_t rn)
{
    uint64_t v = cl_version(rest, rn);
    if (!v)
        cl_bad_input(cl, "DOWN without a version", verb, vn);
    else
        cl_dir_down(cl, src, v);
}

static const struct {
    const char *verb;
    int op; /* a change to the user set; 0: handled by fn */
    void (*fn)(struct nl_cluster *cl, int src, const char *verb, size_t vn, const char *rest, size_t rn);
} broadcast[] = {
    {"ADD", D_ADD, NULL},      {"DEL", D_DEL, NULL},     {"JOINED", D_JOIN, NULL},
    {"PARTED", D_PART, NULL},  {"ROOM", 0, in_room},     {"DOWN", 0, in_down},
};

static void on_broadcast(struct nl_cluster *cl, const char *verb, size_t vn, int src, const char *rest, size_t rn)
{
    if (src <= 0)
        return;
    for (size_t i = 0; i < sizeof broadcast / sizeof broadcast[0]; i++) {
        if (strlen(broadcast[i].verb) != vn || memcmp(broadcast[i].verb, verb, vn))
            continue;
        if (broadcast[i].fn)
            broadcast[i].fn(cl, src, verb, vn, rest, rn);
        else
            in_change(cl, broadcast[i].op, src, verb, vn, rest, rn);
        return;
    }
    cl_bad_input(cl, "unknown broadcast", verb, vn);
}

static void one_message(struct nl_cluster *cl, int all, const char *line, size_t len)
{
    const char *p = line, *verb, *nodew;
    size_t n = len;
    size_t vn = cl_word(&p, &n, &verb);
    size_t nl_ = cl_word(&p, &n, &nodew);
    if (!vn || !cl_node_valid(nodew, nl_)) {
        cl_bad_input(cl, "message in the wrong format", line, len);
        return;
    }
    if (nl_ == strlen(cl->node) && !memcmp(nodew, cl->node, nl_)) {
        if (vn == 4 && !memcmp(verb, "DOWN", 4))
            cl->reannounce = 1; /* someone took us for dead: claim our users again */
        return;                 /* our own broadcast */
    }
    int src = cl_node_id(cl, nodew, nl_);
    if (all)
        on_broadcast(cl, verb, vn, src, p, n);
    else if (src >= 0)
        on_directed(cl, verb, vn, src, p, n);
}

void cl_bus_in(struct nl_cluster *cl, int all, const char *msg, size_t len)
{
    /* A message may hold several lines (a batch of MSGs): each is one message. */
    const char *p = msg, *end = msg + len;
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        size_t n = lf ? (size_t)(lf - p) : (size_t)(end - p);
        one_message(cl, all, p, n);
        p += n + 1;
    }
}
