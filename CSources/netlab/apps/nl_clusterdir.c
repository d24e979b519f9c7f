/*
 * nl_clusterdir.c - the Redis mechanism's directory: who is on which other
 * server. One copy per server of nl:dir:<node> and nl:room:<node> at a version
 * of nl:ver:<node>, loaded by snapshot and kept current by the broadcasts
 * (nl_clusterbus.c hands them in), taken again on a gap or a lag; and the
 * directory's answers to the chat server (locate, look up, count, list).
 * Knows nothing of sessions: a server's departure is told through the sink.
 */
#include "nl_cluster_int.h"
#include "nl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Every change to a server's user set (nl:dir:<node>, nl:room:<node>) increments
 * nl:ver:<node> in the same script and its broadcast carries the new version, so a
 * server that keeps a copy knows when it missed one (and takes a fresh snapshot).
 */

/* ARGV: node, token, Name, join ("1") or part ("0"). */
const char cl_lua_room[] = "#!lua flags=allow-oom\n" CL_LUA_FENCE
    "local name = ARGV[3]\n"
    "if ARGV[4] == '1' then redis.call('SADD', 'nl:room:' .. node, name) else redis.call('SREM', 'nl:room:' .. node, name) end\n"
    "local v = redis.call('INCR', 'nl:ver:' .. node)\n"
    "redis.call('PUBLISH', 'nl:all', (ARGV[4] == '1' and 'JOINED ' or 'PARTED ') .. node .. ' ' .. name .. ' ' .. v)\n"
    "return v\n";

/* ARGV: node. One server's user set as it is now: {version, users, users in the room}. nl:dir:<node> maps
 * each user's skeleton to the name as registered. */
const char cl_lua_snap[] =
    "#!lua flags=no-writes\n"
    "local n = ARGV[1]\n"
    "return {redis.call('GET', 'nl:ver:' .. n) or '0', redis.call('HVALS', 'nl:dir:' .. n),\n"
    "        redis.call('SMEMBERS', 'nl:room:' .. n)}\n";

struct remote { /* a user on another server */
    struct nl_nament e;
    uint16_t node;
    uint8_t room;
};

/* ---- nodes ---- */

int cl_node_id(struct nl_cluster *cl, const char *p, size_t n)
{
    if (n == 0 || n > NODE_MAX)
        return -1;
    for (size_t i = 0; i < cl->nnodes; i++)
        if (strlen(cl->nodes[i]) == n && !memcmp(cl->nodes[i], p, n))
            return (int)i;
    if (cl->nnodes == cl->capnodes) {
        size_t cap = cl->capnodes ? cl->capnodes * 2 : 8;
        if (cap > UINT16_MAX)
            return -1;
        char(*x)[NODE_MAX + 1] = realloc(cl->nodes, cap * sizeof *x);
        if (!x)
            return -1;
        cl->nodes = x;
        struct replica *r = realloc(cl->reps, cap * sizeof *r);
        if (!r)
            return -1;
        memset(r + cl->capnodes, 0, (cap - cl->capnodes) * sizeof *r);
        cl->reps = r;
        cl->capnodes = cap;
    }
    memcpy(cl->nodes[cl->nnodes], p, n);
    cl->nodes[cl->nnodes][n] = 0;
    return (int)cl->nnodes++;
}

/* ---- one replica per server ---- */

static void remote_put(struct nl_cluster *cl, int node, const char *name, size_t n, int room)
{
    if (node <= 0 || (size_t)node >= cl->nnodes || !cl_name_valid(name, n))
        return;
    struct replica *rp = &cl->reps[node];
    struct remote *r = (struct remote *)nl_nametab_find(&rp->users, name, n);
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return;
        nl_nament_set(&r->e, name, n);
        if (nl_nametab_add(&rp->users, &r->e) < 0) {
            free(r);
            return;
        }
    } else {
        nl_nament_set(&r->e, name, n);
        if (r->room)
            rp->room--;
    }
    r->node = (uint16_t)node;
    r->room = room ? 1 : 0;
    rp->room += r->room;
}

static void remote_del(struct nl_cluster *cl, struct remote *r)
{
    struct replica *rp = &cl->reps[r->node];
    if (r->room)
        rp->room--;
    nl_nametab_del(&rp->users, &r->e);
    free(r);
}

static void remote_free(struct nl_nament *e) { free(e); }

static void replica_clear(struct nl_cluster *cl, int node)
{
    nl_nametab_clear(&cl->reps[node].users, remote_free);
    cl->reps[node].room = 0;
}

/* The user of that name on another server (the first replica that has it). */
static struct remote *remote_find(const struct nl_cluster *cl, const char *name, size_t n)
{
    for (size_t i = 1; i < cl->nnodes; i++) {
        struct remote *r = (struct remote *)nl_nametab_find(&cl->reps[i].users, name, n);
        if (r)
            return r;
    }
    return NULL;
}

size_t cl_dir_total(const struct nl_cluster *cl, int room)
{
    size_t n = 0;
    for (size_t i = 1; i < cl->nnodes; i++)
        n += room ? cl->reps[i].room : cl->reps[i].users.n;
    return n;
}

static void resync(struct nl_cluster *cl, int node, const char *why);

/* One change, in version order: older than the copy is skipped, a gap takes a snapshot. */
static void dir_apply(struct nl_cluster *cl, int node, const struct dop *d)
{
    struct replica *rp = &cl->reps[node];
    if (d->v <= rp->ver)
        return; /* the snapshot had it already */
    if (d->op == D_DOWN) { /* the whole set, empty, at that version */
        replica_clear(cl, node);
        rp->ver = d->v;
        return;
    }
    if (d->v != rp->ver + 1) {
        char why[64];
        snprintf(why, sizeof why, "a change was missed: version %llu came next", (unsigned long long)d->v);
        resync(cl, node, why);
        return;
    }
    rp->ver = d->v;
    struct remote *r = (struct remote *)nl_nametab_find(&rp->users, d->name, d->len);
    switch (d->op) {
    case D_ADD:
        remote_put(cl, node, d->name, d->len, d->room);
        break;
    case D_DEL:
        if (r)
            remote_del(cl, r);
        break;
    case D_JOIN:
    case D_PART:
        if (r && r->room != (d->op == D_JOIN)) {
            r->room = d->op == D_JOIN;
            if (r->room)
                rp->room++;
            else
                rp->room--;
        }
        break;
    }
}

void cl_dir_change(struct nl_cluster *cl, int node, const struct dop *d)
{
    if (node <= 0 || (size_t)node >= cl->nnodes)
        return;
    struct replica *rp = &cl->reps[node];
    if (!rp->snaps) {
        dir_apply(cl, node, d);
        return;
    }
    if (rp->overflow)
        return;
    if (rp->nq == rp->capq) {
        size_t cap = rp->capq ? rp->capq * 2 : 64;
        struct dop *q = cap <= REPLICA_QMAX ? realloc(rp->q, cap * sizeof *q) : NULL;
        if (!q) {
            rp->overflow = 1; /* another snapshot once this one is in */
            rp->nq = 0;
            return;
        }
        rp->q = q;
        rp->capq = cap;
    }
    rp->q[rp->nq++] = *d;
}

void cl_dir_down(struct nl_cluster *cl, int node, uint64_t v)
{
    if (node <= 0 || (size_t)node >= cl->nnodes)
        return;
    size_t before = cl->reps[node].users.n;
    cl->sink->gone(cl->ud, node, NULL, 0);
    struct dop d = {.v = v, .op = D_DOWN};
    cl_dir_change(cl, node, &d);
    if (before && !cl->reps[node].users.n)
        logf_(cl, "cluster: server %s is gone with %zu users", cl->nodes[node], before);
}

/* ---- snapshots ---- */

/* Part of a load: once every snapshot is in, the load is done. */
static void load_step(struct nl_cluster *cl)
{
    if (--cl->dir_pending > 0 || !cl->syncing)
        return;
    if (cl->dir_loaded)
        cl->dir_loaded(cl);
}

struct snap_ctx {
    struct nl_cluster *cl; /* for an answer that never left (no connection) */
    int node;
    int counted; /* part of a load: load_step when answered */
};

/* The snapshot replaces the copy; changes queued meanwhile and newer than it stay for what follows. */
static void snap_take(struct nl_cluster *cl, struct replica *rp, int node, const redisReply *rep, uint64_t v)
{
    replica_clear(cl, node);
    const redisReply *dir = rep->element[1], *room = rep->element[2];
    for (size_t i = 0; i < dir->elements; i++) {
        const redisReply *e = dir->element[i];
        if (e->type == REDIS_REPLY_STRING)
            remote_put(cl, node, e->str, (size_t)e->len, 0);
        else
            cl_bad_input(cl, "directory entry", "?", 1);
    }
    for (size_t i = 0; i < room->elements; i++) {
        const redisReply *e = room->element[i];
        struct remote *u = e->type == REDIS_REPLY_STRING
                               ? (struct remote *)nl_nametab_find(&rp->users, e->str, (size_t)e->len) : NULL;
        if (u && !u->room) {
            u->room = 1;
            rp->room++;
        }
    }
    rp->ver = v;
    rp->behind_at = rp->ahead_at = 0;
    size_t k = 0;
    for (size_t i = 0; i < rp->nq; i++)
        if (rp->q[i].v > v)
            rp->q[k++] = rp->q[i];
    rp->nq = k;
}

/* A server's user set as Redis had it at version S: it replaces the copy, then what came meanwhile applies. */
static void on_snap(redisAsyncContext *ac, void *r, void *priv)
{
    struct snap_ctx x = *(struct snap_ctx *)priv;
    struct nl_cluster *cl = ac ? ac->data : x.cl; /* ac->data is NULL while closing */
    redisReply *rep = r;
    free(priv);
    if (!cl)
        return;
    struct replica *rp = &cl->reps[x.node];
    if (rp->snaps > 0)
        rp->snaps--;
    uint64_t v = 0;
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 && !cl_reply_u64(rep->element[0], &v) &&
        rep->element[1]->type == REDIS_REPLY_ARRAY && rep->element[2]->type == REDIS_REPLY_ARRAY)
        snap_take(cl, rp, x.node, rep, v);
    else if (rep)
        cl_bad_reply(cl, "answer to a directory snapshot", rep);
    if (!rp->snaps) {
        struct dop *q = rp->q;
        size_t nq = rp->nq;
        int again = rp->overflow || (rep && rep->type != REDIS_REPLY_ARRAY);
        rp->q = NULL;
        rp->nq = rp->capq = 0;
        rp->overflow = 0;
        if (rep)
            for (size_t i = 0; i < nq; i++)
                cl_dir_change(cl, x.node, &q[i]); /* a gap among them asks for another snapshot */
        free(q);
        if (again && rep)
            resync(cl, x.node, "changes overflowed while the snapshot was awaited");
    }
    if (x.counted)
        load_step(cl);
}

static void snapshot(struct nl_cluster *cl, int node, int counted)
{
    struct snap_ctx *x = malloc(sizeof *x);
    if (!x)
        return;
    x->cl = cl;
    x->node = node;
    x->counted = counted;
    cl->reps[node].snaps++;
    if (counted)
        cl->dir_pending++;
    const char *argv[1] = {cl->nodes[node]};
    cl_script(cl, S_SNAP, on_snap, x, 1, argv, NULL); /* not connected: on_snap(NULL) at once */
}

/* Take the copy of one server again (it missed a change, or fell behind Redis). */
static void resync(struct nl_cluster *cl, int node, const char *why)
{
    if ((!cl->ready && !cl->syncing) || node <= 0 || (size_t)node >= cl->nnodes || cl->reps[node].snaps)
        return;
    cl->resyncs++;
    logf_(cl, "cluster: taking the users of %s again (%s; copy at version %llu)", cl->nodes[node], why,
          (unsigned long long)cl->reps[node].ver);
    snapshot(cl, node, 0);
}

static void on_nodes(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    if (!cl || !cl->syncing)
        return;
    if (!rep || rep->type != REDIS_REPLY_ARRAY) {
        if (rep)
            cl_bad_input(cl, "answer to SMEMBERS nl:nodes", "?", 1);
        return;
    }
    cl->dir_pending = 1;
    uint8_t *listed = calloc(cl->nnodes + rep->elements + 1, 1);
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        if (e->type != REDIS_REPLY_STRING || !cl_node_valid(e->str, (size_t)e->len))
            continue;
        int id = cl_node_id(cl, e->str, (size_t)e->len);
        if (id <= 0)
            continue; /* ours, or no memory */
        if (listed)
            listed[id] = 1;
        snapshot(cl, id, 1); /* a copy of each server, whatever was kept before the connection went */
    }
    /* Servers no longer listed were reaped while this one was away: nothing of theirs is left. */
    for (size_t i = 1; listed && i < cl->nnodes; i++)
        if (!listed[i] && !cl->reps[i].snaps) {
            replica_clear(cl, (int)i);
            cl->reps[i].ver = 0; /* Redis may have started afresh: its next change is version 1 */
        }
    free(listed);
    load_step(cl);
}

void cl_dir_load(struct nl_cluster *cl, void (*done)(struct nl_cluster *cl))
{
    cl->dir_loaded = done;
    redisAsyncContext *cmd = nl_redis_ctx(cl->cmd);
    if (cmd)
        redisAsyncCommand(cmd, on_nodes, NULL, "SMEMBERS nl:nodes");
}

/* ---- versions: is each copy where Redis is? ---- */

static void check_one(struct nl_cluster *cl, int id, uint64_t v, uint64_t now)
{
    struct replica *rp = &cl->reps[id];
    if (rp->snaps || v == rp->ver) {
        rp->behind_at = rp->ahead_at = 0;
    } else if (v < rp->ver) {
        /* Ahead: changes published after this answer came in first; for a whole second, not that. */
        rp->behind_at = 0;
        if (!rp->ahead_at) {
            rp->ahead_at = now;
        } else if (now - rp->ahead_at >= REPLICA_LAG_MS) {
            rp->ahead_at = 0;
            resync(cl, id, "ahead of the version in Redis");
        }
    } else {
        rp->ahead_at = 0;
        if (!rp->behind_at || rp->ver >= rp->behind_ver) {
            rp->behind_at = now; /* behind; its broadcasts may still be on the way */
            rp->behind_ver = v;
        } else if (now - rp->behind_at >= REPLICA_LAG_MS) {
            rp->behind_at = 0;
            resync(cl, id, "behind the version in Redis");
        }
    }
}

void cl_dir_check(struct nl_cluster *cl, const redisReply *vers)
{
    uint64_t now = nl_loop_now(cl->loop);
    for (size_t i = 0; i + 1 < vers->elements; i += 2) {
        const redisReply *e = vers->element[i];
        uint64_t v;
        if (e->type != REDIS_REPLY_STRING || !cl_node_valid(e->str, (size_t)e->len) ||
            cl_reply_u64(vers->element[i + 1], &v) < 0)
            continue;
        int id = cl_node_id(cl, e->str, (size_t)e->len);
        if (id > 0)
            check_one(cl, id, v, now);
    }
}

/* ---- the directory's answers to the chat server ---- */

int cl_locate(const struct nl_chatnet *n, const char *name, size_t len, char *display, int *node)
{
    const struct nl_cluster *cl = (const struct nl_cluster *)n;
    const struct remote *r = remote_find(cl, name, len);
    if (!r)
        return 0;
    memcpy(display, r->e.name, r->e.len + 1u);
    *node = r->node;
    return 1;
}

int cl_present(const struct nl_chatnet *n, int node, const char *name, size_t len)
{
    const struct nl_cluster *cl = (const struct nl_cluster *)n;
    return node > 0 && (size_t)node < cl->nnodes && nl_nametab_find(&cl->reps[node].users, name, len) != NULL;
}

size_t cl_count(const struct nl_chatnet *n, int in_room) { return cl_dir_total((const struct nl_cluster *)n, in_room); }

int cl_next(const struct nl_chatnet *n, struct nl_chatnet_iter *it, const char **name, size_t *len)
{
    const struct nl_cluster *cl = (const struct nl_cluster *)n;
    const struct nl_nament *e = it->at ? ((const struct nl_nament *)it->at)->next : NULL;
    while (!e) {
        if (it->node >= cl->nnodes)
            break;
        const struct nl_nametab *t = &cl->reps[it->node].users;
        if (it->bucket < t->nb) {
            e = t->b[it->bucket++];
        } else {
            it->node++;
            it->bucket = 0;
        }
    }
    it->at = e;
    if (!e)
        return 0;
    *name = e->name;
    *len = e->len;
    return 1;
}

struct lookup_ctx {
    uint32_t id;
    uint8_t len;
    char name[NAME_CAP];
};

/* A name not (yet) in the copy, as Redis holds its skeleton: "<node> <Name>" (that name, or one like it), or
 * nothing. */
static void on_lookup(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    struct lookup_ctx x = *(struct lookup_ctx *)priv;
    free(priv);
    if (!cl)
        return;
    uint32_t id = x.id;
    struct nl_chatnet_answer a = {.kind = NL_CHATNET_NONE};
    if (!rep) {
        a.kind = NL_CHATNET_FAILED;
    } else if (rep->type == REDIS_REPLY_STRING) {
        const char *p = rep->str, *nodew, *name;
        size_t n = (size_t)rep->len;
        size_t nn = cl_word(&p, &n, &nodew);
        size_t ml = cl_word(&p, &n, &name);
        /* Its ADD is on the way: the command runs again with this answer (the copy waits for the ADD). */
        int node = cl_node_valid(nodew, nn) && !(nn == strlen(cl->node) && !memcmp(nodew, cl->node, nn))
                       ? cl_node_id(cl, nodew, nn) : -1;
        if (node > 0 && cl_name_valid(name, ml) && nl_name_same(name, ml, x.name, x.len)) {
            a.kind = NL_CHATNET_FOUND;
            a.node = node;
            a.name = name;
            a.len = ml;
        }
    } else if (rep->type != REDIS_REPLY_NIL) {
        cl_bad_input(cl, "answer to a name lookup", "?", 1);
    }
    cl->sink->answer(cl->ud, id, &a);
}

int cl_lookup(struct nl_chatnet *n, uint32_t id, const char *name, size_t len)
{
    struct nl_cluster *cl = (struct nl_cluster *)n;
    redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
    if (!ac)
        return NL_ESYS;
    struct lookup_ctx *x = len < NAME_CAP ? malloc(sizeof *x) : NULL;
    if (!x)
        return NL_ENOMEM;
    x->id = id;
    x->len = (uint8_t)len;
    memcpy(x->name, name, len);
    char sk[NAME_CAP];
    nl_name_skeleton(name, len, sk);
    if (redisAsyncCommand(ac, on_lookup, x, "GET nl:name:%s", sk) != REDIS_OK) {
        free(x);
        return NL_ESYS;
    }
    return NL_OK;
}

void cl_dir_free(struct nl_cluster *cl)
{
    for (size_t i = 0; i < cl->nnodes; i++) {
        replica_clear(cl, (int)i);
        nl_nametab_free(&cl->reps[i].users);
        free(cl->reps[i].q);
    }
    free(cl->reps);
    free(cl->nodes);
    cl->reps = NULL;
    cl->nodes = NULL;
    cl->nnodes = cl->capnodes = 0;
}
