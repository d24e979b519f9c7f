/*
 * nl_cluster.c - several chat servers as one chat through Redis: names
 * claimed atomically (Lua scripts), a liveness key per server, a directory
 * cache of the other servers' users, cross-server sessions and the room
 * carried over pub/sub (one channel per server plus one for all). Owns the
 * Redis keys and messages described in docs/PROTOCOL.md ("Cluster"); never
 * blocks (hiredis async on nl_loop through nl_redis.c); never touches a
 * socket of a client except through nl_conn_write.
 */
#include "nl_cluster.h"
#include "nl_internal.h"
#include "nl_redis.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 250
#define ALIVE_TTL_MS 1500     /* a server silent this long is dead: its users go (refreshed every TICK_MS) */
#define GRACE_MS 4000         /* after (re)connecting, others get this long to come back before being reaped */
#define OP_TIMEOUT_MS 5000    /* a NICK claim or a WHO question unanswered this long fails with ERR 503 */
#define WATCHDOG_MS 3000      /* a refresh unanswered this long: the connection is hung, drop it */
#define HOLD_MAX (256 * 1024) /* bytes of lines held for one connection while it waits */
#define NAME_CAP (NL_CHAT_MAX_NAME + 1)
#define NODE_MAX 48
#define BATCH_MAX (64 * 1024) /* bytes of MSG lines gathered for one server before they are published */
#define REPLICA_LAG_MS 1000   /* a copy still behind Redis's version this long is taken again */
#define REPLICA_QMAX 65536    /* changes queued for one server while its snapshot is awaited */

enum { LINK_OUT = 1, LINK_IN = 2, LINK_ON = 3 };
enum { OP_CLAIM = 1, OP_WHO, OP_LOOKUP };

/* ---- Lua: each runs atomically in Redis ---- */

/*
 * Every change to a server's user set (nl:dir:<node>, nl:room:<node>) increments
 * nl:ver:<node> in the same script and its broadcast carries the new version, so a
 * server that keeps a copy knows when it missed one (and takes a fresh snapshot).
 */

/* ARGV: node, Name, lower, mode ("new" | "again"), room (0/1). Returns 1 (won) or the holder "<node> <Name>". */
static const char LUA_CLAIM[] =
    "local node, name, lower, mode, room = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]\n"
    "local k = 'nl:name:' .. lower\n"
    "local cur = redis.call('GET', k)\n"
    "if cur then\n"
    "  local owner, oname = string.match(cur, '^(%S+) (%S+)$')\n"
    "  if not (owner == node and mode == 'again' and oname == name) then\n"
    "    if owner and redis.call('EXISTS', 'nl:alive:' .. owner) == 1 then return cur end\n"
    "    if owner then\n"
    "      redis.call('SREM', 'nl:dir:' .. owner, oname); redis.call('SREM', 'nl:room:' .. owner, oname)\n"
    "      local ov = redis.call('INCR', 'nl:ver:' .. owner)\n"
    "      redis.call('PUBLISH', 'nl:all', 'DEL ' .. owner .. ' ' .. oname .. ' ' .. ov)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "redis.call('SET', k, node .. ' ' .. name)\n"
    "redis.call('SADD', 'nl:dir:' .. node, name)\n"
    "if room == '1' then redis.call('SADD', 'nl:room:' .. node, name) else redis.call('SREM', 'nl:room:' .. node, name) end\n"
    "local v = redis.call('INCR', 'nl:ver:' .. node)\n"
    "redis.call('PUBLISH', 'nl:all', 'ADD ' .. node .. ' ' .. name .. ' ' .. room .. ' ' .. v)\n"
    "return 1\n";

/* ARGV: node, Name, lower. */
static const char LUA_RELEASE[] =
    "local node, name, lower = ARGV[1], ARGV[2], ARGV[3]\n"
    "local k = 'nl:name:' .. lower\n"
    "if redis.call('GET', k) == node .. ' ' .. name then redis.call('DEL', k) end\n"
    "redis.call('SREM', 'nl:dir:' .. node, name)\n"
    "redis.call('SREM', 'nl:room:' .. node, name)\n"
    "local v = redis.call('INCR', 'nl:ver:' .. node)\n"
    "redis.call('PUBLISH', 'nl:all', 'DEL ' .. node .. ' ' .. name .. ' ' .. v)\n"
    "return 1\n";

/* ARGV: node, force ("1": this server's own leftovers at start). Frees a dead server's names.
 * -1: it is alive; -2: nothing left to reap (reaped before: no second DOWN). */
static const char LUA_REAP[] =
    "local node, force = ARGV[1], ARGV[2]\n"
    "if force ~= '1' and redis.call('EXISTS', 'nl:alive:' .. node) == 1 then return -1 end\n"
    "if force ~= '1' and redis.call('SISMEMBER', 'nl:nodes', node) == 0 and\n"
    "   redis.call('EXISTS', 'nl:dir:' .. node) == 0 and redis.call('EXISTS', 'nl:room:' .. node) == 0 then return -2 end\n"
    "local names = redis.call('SMEMBERS', 'nl:dir:' .. node)\n"
    "for _, name in ipairs(names) do\n"
    "  local k = 'nl:name:' .. string.lower(name)\n"
    "  if redis.call('GET', k) == node .. ' ' .. name then redis.call('DEL', k) end\n"
    "end\n"
    "redis.call('DEL', 'nl:dir:' .. node, 'nl:room:' .. node)\n"
    "if force ~= '1' then redis.call('SREM', 'nl:nodes', node) end\n"
    "local v = redis.call('INCR', 'nl:ver:' .. node)\n"
    "redis.call('PUBLISH', 'nl:all', 'DOWN ' .. node .. ' ' .. v)\n"
    "return #names\n";

/* ARGV: node, ttl ms, first ("1": only if no live server has the name). Returns 1 if the key was there, 0 if not, -1 refused. */
static const char LUA_ALIVE[] =
    "local k = 'nl:alive:' .. ARGV[1]\n"
    "local was = redis.call('EXISTS', k)\n"
    "if ARGV[3] == '1' and was == 1 then return -1 end\n"
    "redis.call('SET', k, '1', 'PX', tonumber(ARGV[2]))\n"
    "redis.call('SADD', 'nl:nodes', ARGV[1])\n"
    "return was\n";

/* ARGV: servers this one knows of. Returns {those (and any in nl:nodes) without a liveness key,
 * {server, version of its user set, ...} for all of them}: the once-a-tick check of the copies. */
static const char LUA_DEAD[] =
    "local dead, seen, vers = {}, {}, {}\n"
    "for _, n in ipairs(redis.call('SMEMBERS', 'nl:nodes')) do seen[n] = true end\n"
    "for _, n in ipairs(ARGV) do seen[n] = true end\n"
    "for n, _ in pairs(seen) do\n"
    "  if redis.call('EXISTS', 'nl:alive:' .. n) == 0 then table.insert(dead, n) end\n"
    "  table.insert(vers, n)\n"
    "  table.insert(vers, redis.call('GET', 'nl:ver:' .. n) or '0')\n"
    "end\n"
    "return {dead, vers}\n";

/* ARGV: node, then the names it has now. Releases its other names (users who left while Redis was away). */
static const char LUA_SYNC[] =
    "local node = ARGV[1]\n"
    "local keep = {}\n"
    "for i = 2, #ARGV do keep[ARGV[i]] = true end\n"
    "local gone = 0\n"
    "for _, name in ipairs(redis.call('SMEMBERS', 'nl:dir:' .. node)) do\n"
    "  if not keep[name] then\n"
    "    local k = 'nl:name:' .. string.lower(name)\n"
    "    if redis.call('GET', k) == node .. ' ' .. name then redis.call('DEL', k) end\n"
    "    redis.call('SREM', 'nl:dir:' .. node, name)\n"
    "    redis.call('SREM', 'nl:room:' .. node, name)\n"
    "    local v = redis.call('INCR', 'nl:ver:' .. node)\n"
    "    redis.call('PUBLISH', 'nl:all', 'DEL ' .. node .. ' ' .. name .. ' ' .. v)\n"
    "    gone = gone + 1\n"
    "  end\n"
    "end\n"
    "return gone\n";

/* ARGV: node, Name, join ("1") or part ("0"). */
static const char LUA_ROOM[] =
    "local node, name = ARGV[1], ARGV[2]\n"
    "if ARGV[3] == '1' then redis.call('SADD', 'nl:room:' .. node, name) else redis.call('SREM', 'nl:room:' .. node, name) end\n"
    "local v = redis.call('INCR', 'nl:ver:' .. node)\n"
    "redis.call('PUBLISH', 'nl:all', (ARGV[3] == '1' and 'JOINED ' or 'PARTED ') .. node .. ' ' .. name .. ' ' .. v)\n"
    "return v\n";

/* ARGV: node. One server's user set as it is now: {version, users, users in the room}. */
static const char LUA_SNAP[] =
    "local n = ARGV[1]\n"
    "return {redis.call('GET', 'nl:ver:' .. n) or '0', redis.call('SMEMBERS', 'nl:dir:' .. n),\n"
    "        redis.call('SMEMBERS', 'nl:room:' .. n)}\n";

enum { S_CLAIM, S_RELEASE, S_REAP, S_ALIVE, S_DEAD, S_SYNC, S_ROOM, S_SNAP, NSCRIPTS };
static const char *const SCRIPTS[NSCRIPTS] = {LUA_CLAIM, LUA_RELEASE, LUA_REAP, LUA_ALIVE,
                                              LUA_DEAD,  LUA_SYNC,    LUA_ROOM, LUA_SNAP};

/* ---- case-insensitive name tables ---- */

struct nent {
    struct nent *next;
    uint32_t hash;
    uint8_t len;
    char name[NAME_CAP];
};

struct ntab {
    struct nent **b;
    size_t nb, n;
};

static uint32_t lhash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)p[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + 32);
        h = (h ^ c) * 16777619u;
    }
    return h;
}

static int lsame(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return 0;
    for (size_t i = 0; i < an; i++) {
        uint8_t x = (uint8_t)a[i], y = (uint8_t)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (uint8_t)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (uint8_t)(y + 32);
        if (x != y)
            return 0;
    }
    return 1;
}

static struct nent *ntab_find(const struct ntab *t, const char *p, size_t n)
{
    if (!t->nb || n == 0 || n > NL_CHAT_MAX_NAME)
        return NULL;
    uint32_t h = lhash(p, n);
    for (struct nent *e = t->b[h & (t->nb - 1)]; e; e = e->next)
        if (e->hash == h && lsame(e->name, e->len, p, n))
            return e;
    return NULL;
}

static int ntab_add(struct ntab *t, struct nent *e)
{
    if (t->n + 1 > t->nb) {
        size_t nb = t->nb ? t->nb * 2 : 256;
        struct nent **b = calloc(nb, sizeof *b);
        if (!b)
            return NL_ENOMEM;
        for (size_t i = 0; i < t->nb; i++)
            for (struct nent *x = t->b[i], *nx; x; x = nx) {
                nx = x->next;
                x->next = b[x->hash & (nb - 1)];
                b[x->hash & (nb - 1)] = x;
            }
        free(t->b);
        t->b = b;
        t->nb = nb;
    }
    e->hash = lhash(e->name, e->len);
    struct nent **bk = &t->b[e->hash & (t->nb - 1)];
    e->next = *bk;
    *bk = e;
    t->n++;
    return NL_OK;
}

static void ntab_del(struct ntab *t, struct nent *e)
{
    for (struct nent **pp = &t->b[e->hash & (t->nb - 1)]; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            t->n--;
            return;
        }
}

static void set_name(struct nent *e, const char *p, size_t n)
{
    e->len = (uint8_t)n;
    memcpy(e->name, p, n);
    e->name[n] = 0;
}

/* ---- state ---- */

struct remote {      /* a user on another server */
    struct nent e;
    uint16_t node;
    uint8_t room;
};

/* A change to another server's user set, as its broadcast said (queued while a snapshot is awaited). */
enum { D_ADD = 1, D_DEL, D_JOIN, D_PART, D_DOWN };
struct dop {
    uint64_t v;
    uint8_t op, room, len;
    char name[NAME_CAP];
};

/*
 * This server's copy of another server's users: nl:dir:<node> and nl:room:<node> as
 * they were at version `ver` of nl:ver:<node>. Changes apply in version order; a gap,
 * a copy left behind Redis's version for REPLICA_LAG_MS, or a lost subscription
 * takes a fresh snapshot (changes arriving meanwhile wait in q, then apply on it).
 */
struct replica {
    struct ntab users;       /* struct remote */
    size_t room;
    uint64_t ver;
    int snaps;               /* snapshots asked for and not answered yet */
    int overflow;            /* q overflowed while waiting: take another snapshot */
    uint64_t behind_at;      /* since when Redis's version is ahead of ours (ms), 0: it is not */
    uint64_t behind_ver;     /* the version Redis had then */
    uint64_t ahead_at;       /* since when Redis's version is below ours (ms), 0: it is not */
    struct dop *q;
    size_t nq, capq;
};

struct rlink {       /* a session of a local user with a user on another server */
    char peer[NAME_CAP];
    uint8_t plen, state;
    uint16_t node;
};

struct luser {       /* a local user with sessions across servers */
    struct nent e;
    struct rlink *links;
    uint32_t n, cap;
};

struct hold {        /* a connection waiting for an answer from the cluster, and the lines it sent meanwhile */
    struct nl_conn *c;
    int waiting, replaying;
    uint8_t *q;
    size_t len, off, cap;
};

struct op {
    uint32_t id;
    int kind;
    struct nl_conn *c;
    uint64_t deadline;
    char name[NAME_CAP];
    uint8_t len;
    uint8_t *line;           /* OP_LOOKUP: the command to run again once the name is known */
    size_t line_len;
};

struct nl_cluster {
    struct nl_cluster_config cfg;
    struct nl_loop *loop;
    struct nl_cluster_hooks hooks;
    void *ud;
    char node[NODE_MAX + 1];
    char chan_me[NODE_MAX + 16];
    struct nl_redis *cmd, *sub;
    char sha[NSCRIPTS][41];
    int nsha;
    int subscribed;          /* subscription confirmations on the current sub connection */
    int ready;               /* in sync: cluster commands are served */
    int syncing;
    int joined_once;         /* our liveness key was set once: later syncs are reconnects */
    uint64_t grace_until;
    uint64_t alive_sent;     /* a refresh awaiting its answer since (ms), 0: none */
    int reannounce;          /* we were declared dead: claim our users again */
    int looked_up;           /* running a command again after a lookup: no second lookup */
    uint64_t audit_at;       /* when to check that every cross-server session's peer is still announced */
    int dir_pending;
    int64_t tick;
    char (*nodes)[NODE_MAX + 1];
    size_t nnodes, capnodes;
    struct replica *reps;    /* per node index (ours, 0, stays empty) */
    uint64_t resyncs;        /* snapshots taken after the first sync (a missed change, a lag) */
    const char *lk_name;     /* a name just looked up in Redis (valid while looked_up) */
    size_t lk_len;
    int lk_node;
    struct ntab lusers;      /* struct luser */
    struct hold *holds;
    size_t nholds, capholds;
    struct op *ops;
    size_t nops, capops;
    uint32_t next_id;
    uint64_t bad;            /* malformed replies and messages skipped */
    struct batch *batches;   /* per node index: MSGs of this pass, one PUBLISH each (nl_cluster_flush) */
    size_t nbatches;
    int flushing;
};

/* MSG lines for one server gathered during a pass: "MSG node from to text" lines
 * joined by LF (a chat line holds no LF), and "from\0to\0" per line for the
 * error report should the PUBLISH fail. Buffers are kept from pass to pass. */
struct batch {
    char *msg;
    size_t len, cap;
    char *names;
    size_t nlen, ncap;
    uint32_t count;
};

#define logf_(cl, ...) nl_log((cl)->cfg.log, (cl)->cfg.log_ud, __VA_ARGS__)
#define logc_(cl, ...)                \
    do {                              \
        if (!(cl)->cfg.quiet)         \
            logf_((cl), __VA_ARGS__); \
    } while (0)

static const char UNAVAILABLE[] = "ERR 503 cluster unavailable\n";

static void bad_input(struct nl_cluster *cl, const char *what, const char *p, size_t n)
{
    cl->bad++;
    char shown[120];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 5 < sizeof shown; i++) {
        uint8_t c = (uint8_t)p[i];
        if (c >= 0x20 && c < 0x7F)
            shown[k++] = (char)c;
        else
            k += (size_t)snprintf(shown + k, sizeof shown - k, "\\x%02x", c);
    }
    shown[k] = 0;
    logf_(cl, "cluster: skipped %s: %s%s", what, shown, n > 100 ? "..." : "");
}

/* ---- nodes ---- */

static int node_id(struct nl_cluster *cl, const char *p, size_t n)
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

static int node_valid(const char *p, size_t n)
{
    if (n < 1 || n > NODE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

/* ---- the directory of remote users: one replica per server ---- */

static void remote_put(struct nl_cluster *cl, int node, const char *name, size_t n, int room)
{
    if (node <= 0 || (size_t)node >= cl->nnodes || !nl_chat_name_valid((const uint8_t *)name, n))
        return;
    struct replica *rp = &cl->reps[node];
    struct remote *r = (struct remote *)ntab_find(&rp->users, name, n);
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return;
        set_name(&r->e, name, n);
        if (ntab_add(&rp->users, &r->e) < 0) {
            free(r);
            return;
        }
    } else {
        set_name(&r->e, name, n);
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
    ntab_del(&rp->users, &r->e);
    free(r);
}

static void replica_clear(struct nl_cluster *cl, int node)
{
    struct ntab *t = &cl->reps[node].users;
    for (size_t i = 0; i < t->nb; i++) {
        struct nent *e = t->b[i];
        t->b[i] = NULL;
        while (e) {
            struct nent *next = e->next;
            free(e);
            e = next;
        }
    }
    t->n = 0;
    cl->reps[node].room = 0;
}

static void remote_clear(struct nl_cluster *cl, int node /* -1: all */)
{
    for (size_t i = 0; i < cl->nnodes; i++)
        if (node < 0 || (size_t)node == i)
            replica_clear(cl, (int)i);
}

/* The user of that name on another server (the first replica that has it). */
static struct remote *remote_find(const struct nl_cluster *cl, const char *name, size_t n)
{
    for (size_t i = 1; i < cl->nnodes; i++) {
        struct remote *r = (struct remote *)ntab_find(&cl->reps[i].users, name, n);
        if (r)
            return r;
    }
    return NULL;
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
    struct remote *r = (struct remote *)ntab_find(&rp->users, d->name, d->len);
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

/* A change announced by `node`: applied now, or queued while a snapshot of that server is awaited. */
static void dir_change(struct nl_cluster *cl, int node, const struct dop *d)
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

static size_t remote_total(const struct nl_cluster *cl, int room)
{
    size_t n = 0;
    for (size_t i = 1; i < cl->nnodes; i++)
        n += room ? cl->reps[i].room : cl->reps[i].users.n;
    return n;
}

/* ---- cross-server session links ---- */

static struct luser *luser_get(struct nl_cluster *cl, const char *name, size_t n, int create)
{
    struct luser *u = (struct luser *)ntab_find(&cl->lusers, name, n);
    if (u || !create)
        return u;
    u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    set_name(&u->e, name, n);
    if (ntab_add(&cl->lusers, &u->e) < 0) {
        free(u);
        return NULL;
    }
    return u;
}

static struct rlink *link_find(struct luser *u, const char *peer, size_t n)
{
    if (!u)
        return NULL;
    for (uint32_t i = 0; i < u->n; i++)
        if (lsame(u->links[i].peer, u->links[i].plen, peer, n))
            return &u->links[i];
    return NULL;
}

static struct rlink *link_add(struct luser *u, const char *peer, size_t n, int node, int state)
{
    if (u->n == u->cap) {
        uint32_t cap = u->cap ? u->cap * 2 : 4;
        struct rlink *l = realloc(u->links, cap * sizeof *l);
        if (!l)
            return NULL;
        u->links = l;
        u->cap = cap;
    }
    struct rlink *l = &u->links[u->n++];
    memset(l, 0, sizeof *l);
    memcpy(l->peer, peer, n);
    l->plen = (uint8_t)n;
    l->node = (uint16_t)node;
    l->state = (uint8_t)state;
    return l;
}

static void luser_free(struct nl_cluster *cl, struct luser *u)
{
    ntab_del(&cl->lusers, &u->e);
    free(u->links);
    free(u);
}

static void link_drop(struct nl_cluster *cl, struct luser *u, struct rlink *l)
{
    *l = u->links[--u->n];
    if (u->n == 0)
        luser_free(cl, u);
}

/* Every link for which ends(cl, link, arg) says so ends: the local user gets GONE. */
static void links_end(struct nl_cluster *cl, int (*ends)(struct nl_cluster *, const struct rlink *, const void *),
                      const void *arg)
{
    for (size_t i = 0; i < cl->lusers.nb; i++) {
        struct nent *e = cl->lusers.b[i];
        while (e) {
            struct nent *next = e->next;
            struct luser *u = (struct luser *)e;
            struct nl_conn *c = cl->hooks.find(cl->ud, u->e.name, u->e.len);
            for (uint32_t k = 0; k < u->n;) {
                struct rlink *l = &u->links[k];
                if (!ends(cl, l, arg)) {
                    k++;
                    continue;
                }
                if (c)
                    nl_chat_say(c, "GONE %s\n", l->peer);
                if (u->n == 1) {
                    luser_free(cl, u);
                    break;
                }
                *l = u->links[--u->n];
            }
            e = next;
        }
    }
}

struct gone_match {
    int node;
    const char *peer; /* NULL: any */
    size_t pn;
};

static int link_to(struct nl_cluster *cl, const struct rlink *l, const void *arg)
{
    (void)cl;
    const struct gone_match *g = arg;
    return l->node == g->node && (!g->peer || lsame(l->peer, l->plen, g->peer, g->pn));
}

/* Every link to a user of `node` (or to `peer` there when given) ends: the local user gets GONE. */
static void links_gone(struct nl_cluster *cl, int node, const char *peer, size_t pn)
{
    struct gone_match g = {node, peer, pn};
    links_end(cl, link_to, &g);
}

/* ---- publishing ---- */

static void batches_flush(struct nl_cluster *cl);

static int publish(struct nl_cluster *cl, const char *chan, size_t cn, const char *msg, size_t mn,
                   redisCallbackFn *fn, void *priv)
{
    if (!cl->flushing)
        batches_flush(cl); /* MSGs queued earlier go first: one order for all that leaves this server */
    redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
    if (!ac)
        return NL_ESYS;
    const char *argv[3] = {"PUBLISH", chan, msg};
    size_t lens[3] = {7, cn, mn};
    return redisAsyncCommandArgv(ac, fn, priv, 3, argv, lens) == REDIS_OK ? NL_OK : NL_ESYS;
}

static int to_node(struct nl_cluster *cl, int node, redisCallbackFn *fn, void *priv, const char *fmt, ...)
    NL_PRINTF(5, 6);
static int to_node(struct nl_cluster *cl, int node, redisCallbackFn *fn, void *priv, const char *fmt, ...)
{
    char chan[NODE_MAX + 16], msg[NL_CHAT_MAX_LINE + 256];
    if (node < 0 || (size_t)node >= cl->nnodes)
        return NL_EINVAL;
    int cn = snprintf(chan, sizeof chan, "nl:to:%s", cl->nodes[node]);
    va_list ap;
    va_start(ap, fmt);
    int mn = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (mn < 0 || (size_t)mn >= sizeof msg)
        return NL_ELIMIT;
    return publish(cl, chan, (size_t)cn, msg, (size_t)mn, fn, priv);
}

/* Each MSG of a batch whose PUBLISH failed: its sender is told ("sender\0target\0" pairs). */
static void batch_failed(struct nl_cluster *cl, const char *names, size_t len)
{
    const char *p = names, *end = names + len;
    while (p < end) {
        size_t sn = strlen(p);
        const char *to = p + sn + 1;
        struct nl_conn *c = cl->hooks.find(cl->ud, p, sn);
        if (c)
            nl_chat_say(c, "ERR 503 cluster unavailable: message to %s not delivered\n", to);
        p = to + strlen(to) + 1;
    }
}

/* A batch of MSGs whose PUBLISH reached no server (or whose answer was lost): each sender is told. */
static void on_msg_published(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac->data;
    redisReply *rep = r;
    size_t *names = priv; /* length, then the pairs */
    if (cl && (!rep || rep->type != REDIS_REPLY_INTEGER || rep->integer < 1))
        batch_failed(cl, (const char *)(names + 1), names[0]);
    free(names);
}

/* One PUBLISH per server for the MSGs gathered since the last flush, written at once. */
static void batches_flush(struct nl_cluster *cl)
{
    int any = 0;
    cl->flushing = 1;
    for (size_t i = 0; i < cl->nbatches && i < cl->nnodes; i++) {
        struct batch *b = &cl->batches[i];
        if (!b->count)
            continue;
        size_t *names = malloc(sizeof(size_t) + b->nlen);
        char chan[NODE_MAX + 16];
        int cn = snprintf(chan, sizeof chan, "nl:to:%s", cl->nodes[i]);
        if (names) {
            names[0] = b->nlen;
            memcpy(names + 1, b->names, b->nlen);
        }
        if (!names || publish(cl, chan, (size_t)cn, b->msg, b->len, on_msg_published, names) < 0) {
            free(names);
            batch_failed(cl, b->names, b->nlen);
        } else {
            any = 1;
        }
        b->len = b->nlen = 0;
        b->count = 0;
    }
    cl->flushing = 0;
    if (any)
        nl_redis_flush(cl->cmd);
}

void nl_cluster_flush(struct nl_cluster *cl)
{
    if (cl)
        batches_flush(cl);
}

static int grow(char **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    char *q = realloc(*p, n);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* Queue "MSG <us> <from> <to> <text>" for node; published by the next flush (or sooner when full). */
static int batch_msg(struct nl_cluster *cl, int node, const char *me, size_t mn, const char *t, size_t tn,
                     const uint8_t *text, size_t len)
{
    if (!nl_redis_ctx(cl->cmd))
        return NL_ESYS;
    if ((size_t)node >= cl->nbatches) {
        size_t n = cl->nnodes > (size_t)node ? cl->nnodes : (size_t)node + 1;
        struct batch *nb = realloc(cl->batches, n * sizeof *nb);
        if (!nb)
            return NL_ENOMEM;
        memset(nb + cl->nbatches, 0, (n - cl->nbatches) * sizeof *nb);
        cl->batches = nb;
        cl->nbatches = n;
    }
    struct batch *b = &cl->batches[node];
    size_t nodel = strlen(cl->node);
    size_t line = 4 + nodel + 1 + mn + 1 + tn + 1 + len;
    if (b->count && b->len + 1 + line > BATCH_MAX)
        batches_flush(cl);
    if (grow(&b->msg, &b->cap, b->len + 1 + line) < 0 || grow(&b->names, &b->ncap, b->nlen + mn + tn + 2) < 0)
        return NL_ENOMEM;
    char *p = b->msg + b->len;
    if (b->count)
        *p++ = '\n';
    memcpy(p, "MSG ", 4), p += 4;
    memcpy(p, cl->node, nodel), p += nodel;
    *p++ = ' ';
    memcpy(p, me, mn), p += mn;
    *p++ = ' ';
    memcpy(p, t, tn), p += tn;
    *p++ = ' ';
    memcpy(p, text, len), p += len;
    b->len = (size_t)(p - b->msg);
    memcpy(b->names + b->nlen, me, mn);
    b->names[b->nlen + mn] = 0;
    memcpy(b->names + b->nlen + mn + 1, t, tn);
    b->names[b->nlen + mn + 1 + tn] = 0;
    b->nlen += mn + tn + 2;
    b->count++;
    return NL_OK;
}

static void script(struct nl_cluster *cl, int which, redisCallbackFn *fn, void *priv, int argc, const char **argv)
{
    if (!cl->flushing)
        batches_flush(cl); /* MSGs queued earlier go first */
    redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
    if (!ac) {
        if (fn)
            fn(NULL, NULL, priv);
        return;
    }
    const char *av[16];
    size_t lens[16];
    av[0] = "EVALSHA";
    av[1] = cl->sha[which];
    av[2] = "0";
    int n = 3;
    for (int i = 0; i < argc && n < 16; i++)
        av[n++] = argv[i];
    for (int i = 0; i < n; i++)
        lens[i] = strlen(av[i]);
    if (redisAsyncCommandArgv(ac, fn, priv, n, av, lens) != REDIS_OK && fn)
        fn(NULL, NULL, priv);
}

static void lower_copy(char *out, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : p[i];
    out[n] = 0;
}

static void release_name(struct nl_cluster *cl, const char *name, size_t n)
{
    char nm[NAME_CAP], lo[NAME_CAP];
    memcpy(nm, name, n);
    nm[n] = 0;
    lower_copy(lo, name, n);
    const char *argv[3] = {cl->node, nm, lo};
    script(cl, S_RELEASE, NULL, NULL, 3, argv);
}

/* ---- holding a connection's lines while it waits ---- */

static struct hold *hold_find(struct nl_cluster *cl, const struct nl_conn *c)
{
    for (size_t i = 0; i < cl->nholds; i++)
        if (cl->holds[i].c == c)
            return &cl->holds[i];
    return NULL;
}

static struct hold *hold_begin(struct nl_cluster *cl, struct nl_conn *c)
{
    struct hold *h = hold_find(cl, c);
    if (!h) {
        if (NL_GROW(cl->holds, cl->nholds, cl->capholds, 16) < 0)
            return NULL;
        h = &cl->holds[cl->nholds++];
        memset(h, 0, sizeof *h);
        h->c = c;
    }
    h->waiting = 1;
    return h;
}

static void hold_free(struct nl_cluster *cl, struct hold *h)
{
    free(h->q);
    *h = cl->holds[--cl->nholds];
}

int nl_cluster_hold(struct nl_cluster *cl, struct nl_conn *c, const uint8_t *line, size_t len)
{
    if (!cl->nholds)
        return 0;
    struct hold *h = hold_find(cl, c);
    if (!h || h->replaying)
        return 0;
    if (h->len + len + 4 > HOLD_MAX) {
        nl_chat_say(c, "ERR 503 cluster busy: too many commands waiting for an answer; disconnected\n");
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

/* The answer c waited for was given: handle `first` (a command to run again) and what c sent meanwhile, in order. */
static void hold_release(struct nl_cluster *cl, struct nl_conn *c, const uint8_t *first, size_t first_len)
{
    struct hold *h = hold_find(cl, c);
    if (!h)
        return;
    h->waiting = 0;
    uint8_t line[NL_CHAT_MAX_LINE + 8];
    if (first && !nl_conn_is_closing(c)) {
        size_t n = NL_MIN(first_len, (size_t)NL_CHAT_MAX_LINE);
        memcpy(line, first, n);
        h->replaying = 1;
        cl->looked_up = 1;
        cl->hooks.replay(cl->ud, c, line, n);
        cl->looked_up = 0;
        h = hold_find(cl, c);
        if (h)
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
        cl->hooks.replay(cl->ud, c, line, n);
        h = hold_find(cl, c); /* the array may have moved */
        if (h)
            h->replaying = 0;
    }
    if (h && !h->waiting)
        hold_free(cl, h);
}

/* ---- operations awaiting an answer ---- */

static struct op *op_new(struct nl_cluster *cl, int kind, struct nl_conn *c, const char *name, size_t n)
{
    if (NL_GROW(cl->ops, cl->nops, cl->capops, 16) < 0)
        return NULL;
    struct op *o = &cl->ops[cl->nops++];
    memset(o, 0, sizeof *o);
    o->id = ++cl->next_id ? cl->next_id : ++cl->next_id;
    o->kind = kind;
    o->c = c;
    o->deadline = nl_loop_now(cl->loop) + OP_TIMEOUT_MS;
    memcpy(o->name, name, n);
    o->len = (uint8_t)n;
    return o;
}

static struct op *op_find(struct nl_cluster *cl, uint32_t id)
{
    for (size_t i = 0; i < cl->nops; i++)
        if (cl->ops[i].id == id)
            return &cl->ops[i];
    return NULL;
}

/* Remove o; its connection (if still there) may go on with what it held (after `again`, when set, is run again). */
static void op_finish(struct nl_cluster *cl, struct op *o, int again)
{
    struct nl_conn *c = o->c;
    uint8_t *line = o->line;
    size_t n = o->line_len;
    *o = cl->ops[--cl->nops];
    if (c)
        hold_release(cl, c, again ? line : NULL, n);
    free(line);
}

static void op_done(struct nl_cluster *cl, struct op *o) { op_finish(cl, o, 0); }

/* ---- NICK ---- */

struct claim_ctx {
    uint32_t id;
    uint8_t len;
    char name[NAME_CAP];
};

static void on_claim(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    struct claim_ctx x = *(struct claim_ctx *)priv;
    free(priv);
    if (!cl)
        return; /* closing */
    int won = rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
    if (rep && !won && rep->type != REDIS_REPLY_STRING)
        bad_input(cl, "answer to a name claim", rep->type == REDIS_REPLY_ERROR ? rep->str : "?",
                  rep->type == REDIS_REPLY_ERROR ? (size_t)rep->len : 1);
    struct op *o = op_find(cl, x.id);
    struct nl_conn *c = o ? o->c : NULL;
    if (!c) {
        /* Timed out, or the client left meanwhile: a name won for nobody is given back. */
        if (won)
            release_name(cl, x.name, x.len);
    } else if (won) {
        if (cl->hooks.registered(cl->ud, c, x.name, x.len) < 0)
            release_name(cl, x.name, x.len);
    } else if (rep && rep->type == REDIS_REPLY_STRING) {
        const char *sp = memchr(rep->str, ' ', (size_t)rep->len);
        const char *held = sp ? sp + 1 : x.name;
        size_t hl = sp ? (size_t)(rep->str + rep->len - held) : x.len;
        nl_chat_say(c, "ERR 409 name taken: %.*s\n", (int)hl, held);
    } else {
        nl_conn_write(c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
    }
    if ((o = op_find(cl, x.id)))
        op_done(cl, o);
}

static void claim_user(struct nl_cluster *cl, struct nl_conn *c, const char *name, size_t n)
{
    struct op *o = op_new(cl, OP_CLAIM, c, name, n);
    struct claim_ctx *x = malloc(sizeof *x);
    if (!o || !x || !hold_begin(cl, c)) {
        if (o)
            cl->nops--;
        free(x);
        nl_chat_say(c, "ERR 503 server out of memory\n");
        return;
    }
    x->id = o->id;
    x->len = (uint8_t)n;
    memcpy(x->name, name, n);
    x->name[n] = 0;
    char lo[NAME_CAP];
    lower_copy(lo, name, n);
    const char *argv[5] = {cl->node, x->name, lo, "new", "0"};
    script(cl, S_CLAIM, on_claim, x, 5, argv);
}

/* ---- WHO of a user on another server ---- */

static void who_answer(struct nl_cluster *cl, uint32_t id, const char *line, size_t n)
{
    struct op *o = op_find(cl, id);
    if (!o || o->kind != OP_WHO)
        return;
    if (o->c) {
        if (n == 1 && line[0] == '-')
            nl_chat_say(o->c, "ERR 404 no such user: %s\n", o->name);
        else
            nl_chat_say(o->c, "%.*s\n", (int)n, line);
    }
    op_done(cl, o);
}

static void start_sync(struct nl_cluster *cl);

/* Split the next space-separated word off p[0..n); returns its length, advances *p and *n past it and one space. */
static size_t word(const char **p, size_t *n, const char **w)
{
    const char *s = *p;
    size_t i = 0;
    while (i < *n && s[i] != ' ')
        i++;
    *w = s;
    size_t k = i;
    if (i < *n)
        i++;
    *p = s + i;
    *n -= i;
    return k;
}

/* ---- a name not (yet) in the directory: ask Redis before saying 404 ---- */

static void on_lookup(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    if (!cl)
        return;
    struct op *o = op_find(cl, (uint32_t)(uintptr_t)priv);
    if (!o)
        return;
    if (rep && rep->type == REDIS_REPLY_STRING) {
        const char *p = rep->str, *nodew, *name;
        size_t n = (size_t)rep->len;
        size_t nn = word(&p, &n, &nodew);
        size_t ml = word(&p, &n, &name);
        /* Its ADD is on the way: the command runs again with this answer (the copy waits for the ADD). */
        int id = node_valid(nodew, nn) && !(nn == strlen(cl->node) && !memcmp(nodew, cl->node, nn))
                     ? node_id(cl, nodew, nn) : -1;
        if (id > 0 && nl_chat_name_valid((const uint8_t *)name, ml)) {
            cl->lk_name = name;
            cl->lk_len = ml;
            cl->lk_node = id;
        }
    } else if (rep && rep->type != REDIS_REPLY_NIL) {
        bad_input(cl, "answer to a name lookup", "?", 1);
    }
    if (!rep) {
        if (o->c)
            nl_conn_write(o->c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
        op_done(cl, o);
        return;
    }
    op_finish(cl, o, 1);
    cl->lk_name = NULL;
}

static void lookup(struct nl_cluster *cl, struct nl_conn *c, const struct nl_chat_cmd *cmd)
{
    /* The command's own bytes: from the verb to the end of its name, or of its text. */
    const uint8_t *end = cmd->arg + cmd->arg_len;
    if (cmd->has_text && cmd->text + cmd->text_len > end)
        end = cmd->text + cmd->text_len;
    size_t n = (size_t)(end - cmd->word);
    struct op *o = op_new(cl, OP_LOOKUP, c, (const char *)cmd->arg, cmd->arg_len);
    uint8_t *line = malloc(n ? n : 1);
    redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
    if (!o || !line || !ac || !hold_begin(cl, c)) {
        if (o)
            cl->nops--;
        free(line);
        nl_conn_write(c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
        return;
    }
    memcpy(line, cmd->word, n);
    o->line = line;
    o->line_len = n;
    char lo[NAME_CAP];
    lower_copy(lo, (const char *)cmd->arg, cmd->arg_len);
    redisAsyncCommand(ac, on_lookup, (void *)(uintptr_t)o->id, "GET nl:name:%s", lo);
}

/* ---- messages from the other servers ---- */

static void on_directed(struct nl_cluster *cl, const char *verb, size_t vn, int src, const char *rest, size_t rn)
{
    const char *from, *to;
    size_t fn_ = 0, tn = 0;
    if (vn == 4 && !memcmp(verb, "WHOQ", 4)) {
        const char *idw;
        size_t il = word(&rest, &rn, &idw);
        char out[NL_CHAT_MAX_LINE];
        int k = nl_chat_name_valid((const uint8_t *)rest, rn) ? cl->hooks.who(cl->ud, rest, rn, out, sizeof out) : -1;
        if (k < 0)
            to_node(cl, src, NULL, NULL, "WHOA %s %.*s -", cl->node, (int)il, idw);
        else
            to_node(cl, src, NULL, NULL, "WHOA %s %.*s %.*s @%s", cl->node, (int)il, idw, k, out, cl->node);
        return;
    }
    if (vn == 4 && !memcmp(verb, "WHOA", 4)) {
        const char *idw;
        word(&rest, &rn, &idw);
        who_answer(cl, (uint32_t)strtoul(idw, NULL, 10), rest, rn);
        return;
    }
    fn_ = word(&rest, &rn, &from);
    if (vn == 3 && !memcmp(verb, "MSG", 3)) {
        tn = word(&rest, &rn, &to);
        /* rest is the text, verbatim */
    } else {
        to = rest;
        tn = rn;
    }
    if (!nl_chat_name_valid((const uint8_t *)from, fn_) || !nl_chat_name_valid((const uint8_t *)to, tn)) {
        bad_input(cl, "message with a bad name", verb, vn + 1 + fn_ + 1 + tn);
        return;
    }
    struct nl_conn *c = cl->hooks.find(cl->ud, to, tn);
    struct luser *u = luser_get(cl, to, tn, 0);
    struct rlink *l = link_find(u, from, fn_);
    if (vn == 3 && !memcmp(verb, "MSG", 3)) {
        if (c && l && l->state == LINK_ON && l->node == src) {
            size_t need = 5 + fn_ + 1 + rn + 1;
            uint8_t *p = nl_conn_reserve(c, need);
            if (p) {
                memcpy(p, "FROM ", 5);
                memcpy(p + 5, from, fn_);
                p[5 + fn_] = ' ';
                memcpy(p + 6 + fn_, rest, rn);
                p[need - 1] = '\n';
                nl_conn_commit(c, need);
            }
        }
        return;
    }
    if (vn == 3 && !memcmp(verb, "REQ", 3)) {
        if (!c) {
            to_node(cl, src, NULL, NULL, "NOUSER %s %.*s %.*s", cl->node, (int)tn, to, (int)fn_, from);
            return;
        }
        if (l) {
            if (l->state == LINK_OUT) { /* both asked at once: that is a yes from each */
                l->state = LINK_ON;
                nl_chat_say(c, "ACCEPTED %.*s\n", (int)fn_, from);
            }
            return;
        }
        if ((u ? u->n : 0) + cl->hooks.links(cl->ud, to, tn) >= cl->cfg.max_sessions) {
            to_node(cl, src, NULL, NULL, "DEC %s %.*s %.*s", cl->node, (int)tn, to, (int)fn_, from);
            return;
        }
        if (!u)
            u = luser_get(cl, to, tn, 1);
        if (!u || !link_add(u, from, fn_, src, LINK_IN))
            return;
        nl_chat_say(c, "REQUEST %.*s\n", (int)fn_, from);
        return;
    }
    if (!l || l->node != src)
        return; /* nothing between them (any more): stale, skip */
    if (vn == 3 && !memcmp(verb, "ACC", 3)) {
        if (l->state == LINK_OUT) {
            l->state = LINK_ON;
            if (c)
                nl_chat_say(c, "ACCEPTED %.*s\n", (int)fn_, from);
        }
    } else if (vn == 3 && !memcmp(verb, "DEC", 3)) {
        if (l->state == LINK_OUT) {
            link_drop(cl, u, l);
            if (c)
                nl_chat_say(c, "DECLINED %.*s\n", (int)fn_, from);
        }
    } else if (vn == 5 && !memcmp(verb, "LEAVE", 5)) {
        link_drop(cl, u, l);
        if (c)
            nl_chat_say(c, "LEFT %.*s\n", (int)fn_, from);
    } else if ((vn == 4 && !memcmp(verb, "GONE", 4)) || (vn == 6 && !memcmp(verb, "NOUSER", 6))) {
        link_drop(cl, u, l);
        if (c)
            nl_chat_say(c, "GONE %.*s\n", (int)fn_, from);
    } else {
        bad_input(cl, "unknown message", verb, vn);
    }
}

/* The version word that ends a directory broadcast; 0 if there is none (bad input). */
static uint64_t version(const char *p, size_t n)
{
    uint64_t v = 0;
    if (n == 0 || n > 19)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    return v;
}

static void node_down(struct nl_cluster *cl, int node, uint64_t v)
{
    size_t before = cl->reps[node].users.n;
    links_gone(cl, node, NULL, 0);
    struct dop d = {.v = v, .op = D_DOWN};
    dir_change(cl, node, &d);
    if (before && !cl->reps[node].users.n)
        logf_(cl, "cluster: server %s is gone with %zu users", cl->nodes[node], before);
}

static void on_broadcast(struct nl_cluster *cl, const char *verb, size_t vn, int src, const char *rest, size_t rn)
{
    const char *name, *w;
    if (src <= 0)
        return;
    if (vn == 4 && !memcmp(verb, "DOWN", 4)) {
        uint64_t v = version(rest, rn);
        if (!v) {
            bad_input(cl, "DOWN without a version", verb, vn);
            return;
        }
        node_down(cl, src, v);
        return;
    }
    size_t nn = word(&rest, &rn, &name);
    if (!nl_chat_name_valid((const uint8_t *)name, nn)) {
        bad_input(cl, "broadcast with a bad name", verb, vn);
        return;
    }
    struct dop d = {0};
    d.len = (uint8_t)nn;
    memcpy(d.name, name, nn);
    d.name[nn] = 0;
    if (vn == 3 && !memcmp(verb, "ADD", 3)) {
        size_t rl = word(&rest, &rn, &w);
        d.op = D_ADD;
        d.room = rl == 1 && w[0] == '1';
        if (!(d.v = version(rest, rn))) {
            bad_input(cl, "ADD without a version", verb, vn);
            return;
        }
        dir_change(cl, src, &d);
    } else if (vn == 3 && !memcmp(verb, "DEL", 3)) {
        links_gone(cl, src, name, nn); /* a GONE lost while Redis was away arrives this way */
        d.op = D_DEL;
        if (!(d.v = version(rest, rn))) {
            bad_input(cl, "DEL without a version", verb, vn);
            return;
        }
        dir_change(cl, src, &d);
    } else if (vn == 6 && (!memcmp(verb, "JOINED", 6) || !memcmp(verb, "PARTED", 6))) {
        int join = verb[0] == 'J';
        char line[NAME_CAP + 16];
        int k = snprintf(line, sizeof line, "%s %.*s\n", join ? "JOINED" : "PARTED", (int)nn, name);
        cl->hooks.room(cl->ud, line, (size_t)k, NULL, 0);
        d.op = join ? D_JOIN : D_PART;
        if (!(d.v = version(rest, rn))) {
            bad_input(cl, "room change without a version", verb, vn);
            return;
        }
        dir_change(cl, src, &d);
    } else if (vn == 4 && !memcmp(verb, "ROOM", 4)) {
        char line[NL_CHAT_MAX_LINE + 64];
        if (rn > NL_CHAT_MAX_LINE) {
            bad_input(cl, "room message too long", verb, vn);
            return;
        }
        int k = snprintf(line, sizeof line, "ROOM %.*s %.*s\n", (int)nn, name, (int)rn, rest);
        cl->hooks.room(cl->ud, line, (size_t)k, NULL, 0);
    } else {
        bad_input(cl, "unknown broadcast", verb, vn);
    }
}

static void one_message(struct nl_cluster *cl, int all, const char *line, size_t len)
{
    const char *p = line, *verb, *nodew;
    size_t n = len;
    size_t vn = word(&p, &n, &verb);
    size_t nl_ = word(&p, &n, &nodew);
    if (!vn || !node_valid(nodew, nl_)) {
        bad_input(cl, "message in the wrong format", line, len);
        return;
    }
    if (nl_ == strlen(cl->node) && !memcmp(nodew, cl->node, nl_)) {
        if (vn == 4 && !memcmp(verb, "DOWN", 4))
            cl->reannounce = 1; /* someone took us for dead: claim our users again */
        return;                 /* our own broadcast */
    }
    int src = node_id(cl, nodew, nl_);
    if (all)
        on_broadcast(cl, verb, vn, src, p, n);
    else if (src >= 0)
        on_directed(cl, verb, vn, src, p, n);
}

static void on_message(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    if (!cl || !rep)
        return; /* the subscription connection went; the state callback handles it */
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 3 || rep->element[0]->type != REDIS_REPLY_STRING) {
        bad_input(cl, "reply on the subscription", "?", 1);
        return;
    }
    const redisReply *kind = rep->element[0], *chan = rep->element[1], *msg = rep->element[2];
    if (kind->len == 9 && !memcmp(kind->str, "subscribe", 9)) {
        if (++cl->subscribed == 2)
            start_sync(cl);
        return;
    }
    if (!(kind->len == 7 && !memcmp(kind->str, "message", 7)) || chan->type != REDIS_REPLY_STRING ||
        msg->type != REDIS_REPLY_STRING)
        return;
    if (!cl->ready && !cl->syncing)
        return;
    /* A message may hold several lines (a batch of MSGs): each is one message. */
    int all = chan->len == 6 && !memcmp(chan->str, "nl:all", 6);
    const char *p = msg->str, *end = msg->str + msg->len;
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        size_t n = lf ? (size_t)(lf - p) : (size_t)(end - p);
        one_message(cl, all, p, n);
        p += n + 1;
    }
}

/* ---- synchronising with Redis ---- */

static void fail_ops(struct nl_cluster *cl)
{
    while (cl->nops) {
        struct op *o = &cl->ops[cl->nops - 1];
        if (o->c)
            nl_conn_write(o->c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
        op_done(cl, o);
    }
}

static void set_down(struct nl_cluster *cl, const char *why)
{
    if (cl->ready || cl->syncing)
        logf_(cl, "cluster: unavailable (%s); serving local users, retrying", why);
    cl->ready = 0;
    cl->syncing = 0;
    cl->alive_sent = 0;
}

struct reannounce_ctx {
    struct nl_cluster *cl;
    size_t n;
    const char **names;   /* for the sync script: every local name */
    size_t *lens;
    size_t cap;
};

static void on_reclaim(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    char *name = priv;
    if (cl && rep && rep->type == REDIS_REPLY_STRING) {
        /* The rule for a name claimed twice while Redis was away: the claim Redis already holds wins. */
        struct nl_conn *c = cl->hooks.find(cl->ud, name, strlen(name));
        if (c) {
            nl_chat_say(c, "ERR 409 name taken: %s was claimed on another server while the cluster was unavailable; "
                   "disconnected\n", name);
            nl_conn_close(c, NL_CLOSE_LOCAL);
        }
        logf_(cl, "cluster: %s lost its name to %.*s (claimed while the cluster was unavailable)", name,
              (int)rep->len, rep->str);
    }
    free(name);
}

static void reclaim_one(void *arg, const char *name, size_t n, int in_room)
{
    struct reannounce_ctx *x = arg;
    char *nm = malloc(n + 1);
    if (!nm)
        return;
    memcpy(nm, name, n);
    nm[n] = 0;
    char lo[NAME_CAP];
    lower_copy(lo, name, n);
    const char *argv[5] = {x->cl->node, nm, lo, "again", in_room ? "1" : "0"};
    script(x->cl, S_CLAIM, on_reclaim, nm, 5, argv);
    x->n++;
}

static void collect_one(void *arg, const char *name, size_t n, int in_room)
{
    struct reannounce_ctx *x = arg;
    if (x->n + 3 >= x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 1024;
        const char **a = realloc(x->names, cap * sizeof *a);
        size_t *l = a ? realloc(x->lens, cap * sizeof *l) : NULL;
        if (a)
            x->names = a;
        if (!a || !l)
            return;
        x->lens = l;
        x->cap = cap;
    }
    x->names[x->n] = name;
    x->lens[x->n++] = n;
}

/* After a reconnect: first give back the names of users who left meanwhile, then claim the others again. */
static void reannounce(struct nl_cluster *cl)
{
    struct reannounce_ctx all = {cl, 0, NULL, NULL, 0};
    collect_one(&all, "EVALSHA", 7, 0);
    collect_one(&all, cl->sha[S_SYNC], 40, 0);
    collect_one(&all, "0", 1, 0);
    collect_one(&all, cl->node, strlen(cl->node), 0);
    cl->hooks.each(cl->ud, collect_one, &all);
    /* A claim on its way is a user too: won in Redis, registered here when its answer comes. */
    for (size_t i = 0; i < cl->nops; i++)
        if (cl->ops[i].kind == OP_CLAIM)
            collect_one(&all, cl->ops[i].name, cl->ops[i].len, 0);
    redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
    if (ac && all.names && all.n >= 4)
        redisAsyncCommandArgv(ac, NULL, NULL, (int)all.n, all.names, all.lens);
    free(all.names);
    free(all.lens);
    struct reannounce_ctx x = {cl, 0, NULL, NULL, 0};
    cl->hooks.each(cl->ud, reclaim_one, &x);
    if (x.n)
        logf_(cl, "cluster: announced %zu local users again", x.n);
}

static void dir_done(struct nl_cluster *cl)
{
    if (--cl->dir_pending > 0 || !cl->syncing)
        return;
    cl->syncing = 0;
    cl->ready = 1;
    cl->audit_at = nl_loop_now(cl->loop) + GRACE_MS;
    cl->reannounce = 0; /* a DOWN of ours seen while syncing (our own reap at start): this is the answer */
    reannounce(cl);
    logf_(cl, "cluster: ready as %s (%zu users on other servers)", cl->node, remote_total(cl, 0));
}

struct snap_ctx {
    struct nl_cluster *cl; /* for an answer that never left (no connection) */
    int node;
    int counted; /* part of the first load: dir_done when answered */
};

static int reply_u64(const redisReply *e, uint64_t *v)
{
    if (e->type == REDIS_REPLY_INTEGER && e->integer >= 0) {
        *v = (uint64_t)e->integer;
        return 0;
    }
    if (e->type == REDIS_REPLY_STRING) {
        *v = version(e->str, (size_t)e->len);
        return *v || (e->len == 1 && e->str[0] == '0') ? 0 : -1;
    }
    return -1;
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
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 && !reply_u64(rep->element[0], &v) &&
        rep->element[1]->type == REDIS_REPLY_ARRAY && rep->element[2]->type == REDIS_REPLY_ARRAY) {
        replica_clear(cl, x.node);
        const redisReply *dir = rep->element[1], *room = rep->element[2];
        for (size_t i = 0; i < dir->elements; i++) {
            const redisReply *e = dir->element[i];
            if (e->type == REDIS_REPLY_STRING)
                remote_put(cl, x.node, e->str, (size_t)e->len, 0);
            else
                bad_input(cl, "directory entry", "?", 1);
        }
        for (size_t i = 0; i < room->elements; i++) {
            const redisReply *e = room->element[i];
            struct remote *u = e->type == REDIS_REPLY_STRING
                                   ? (struct remote *)ntab_find(&rp->users, e->str, (size_t)e->len) : NULL;
            if (u && !u->room) {
                u->room = 1;
                rp->room++;
            }
        }
        rp->ver = v;
        rp->behind_at = rp->ahead_at = 0;
        /* Changes newer than the snapshot stay queued (for the next snapshot, if one is awaited, or now). */
        size_t k = 0;
        for (size_t i = 0; i < rp->nq; i++)
            if (rp->q[i].v > v)
                rp->q[k++] = rp->q[i];
        rp->nq = k;
    } else if (rep) {
        bad_input(cl, "answer to a directory snapshot", rep->type == REDIS_REPLY_ERROR ? rep->str : "?",
                  rep->type == REDIS_REPLY_ERROR ? (size_t)rep->len : 1);
    }
    if (!rp->snaps) {
        struct dop *q = rp->q;
        size_t nq = rp->nq;
        int again = rp->overflow || (rep && rep->type != REDIS_REPLY_ARRAY);
        rp->q = NULL;
        rp->nq = rp->capq = 0;
        rp->overflow = 0;
        if (rep)
            for (size_t i = 0; i < nq; i++)
                dir_change(cl, x.node, &q[i]); /* a gap among them asks for another snapshot */
        free(q);
        if (again && rep)
            resync(cl, x.node, "changes overflowed while the snapshot was awaited");
    }
    if (x.counted)
        dir_done(cl);
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
    script(cl, S_SNAP, on_snap, x, 1, argv); /* not connected: on_snap(NULL) at once */
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
            bad_input(cl, "answer to SMEMBERS nl:nodes", "?", 1);
        return;
    }
    cl->dir_pending = 1;
    uint8_t *listed = calloc(cl->nnodes + rep->elements + 1, 1);
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        if (e->type != REDIS_REPLY_STRING || !node_valid(e->str, (size_t)e->len))
            continue;
        int id = node_id(cl, e->str, (size_t)e->len);
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
    dir_done(cl);
}

static void load_directory(struct nl_cluster *cl)
{
    redisAsyncContext *cmd = nl_redis_ctx(cl->cmd);
    if (cmd)
        redisAsyncCommand(cmd, on_nodes, NULL, "SMEMBERS nl:nodes");
}

static void alive_send(struct nl_cluster *cl, int first);

static void on_reap_self(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    if (!cl || !cl->syncing)
        return;
    cl->joined_once = 1;
    load_directory(cl);
}

static void on_alive(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    int first = (int)(uintptr_t)priv;
    if (!cl)
        return;
    cl->alive_sent = 0;
    if (!rep)
        return;
    if (rep->type != REDIS_REPLY_INTEGER) {
        bad_input(cl, "answer to the liveness refresh", rep->type == REDIS_REPLY_ERROR ? rep->str : "?",
                  rep->type == REDIS_REPLY_ERROR ? (size_t)rep->len : 1);
        return;
    }
    if (first) {
        if (rep->integer < 0) {
            logf_(cl, "cluster: another live server is called %s; waiting for it to go (or give --node)", cl->node);
            return; /* the tick tries again */
        }
        /* Ours now: clear what an earlier server of this name left (its users are gone), then sync. */
        const char *argv[2] = {cl->node, "1"};
        script(cl, S_REAP, on_reap_self, NULL, 2, argv);
        return;
    }
    if (rep->integer == 0 && cl->ready)
        cl->reannounce = 1; /* the key had expired: others may have reaped our users */
}

static void alive_send(struct nl_cluster *cl, int first)
{
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", ALIVE_TTL_MS);
    const char *argv[3] = {cl->node, ttl, first ? "1" : "0"};
    cl->alive_sent = nl_loop_now(cl->loop);
    script(cl, S_ALIVE, on_alive, (void *)(uintptr_t)first, 3, argv);
}

static void start_sync(struct nl_cluster *cl)
{
    if (cl->syncing || cl->ready || cl->nsha < NSCRIPTS || cl->subscribed < 2)
        return;
    cl->syncing = 1;
    cl->grace_until = nl_loop_now(cl->loop) + GRACE_MS;
    if (!cl->joined_once) {
        alive_send(cl, 1);
    } else {
        alive_send(cl, 0);
        load_directory(cl);
    }
}

static void on_script_loaded(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    int which = (int)(uintptr_t)priv;
    if (!cl || !rep)
        return;
    if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
        bad_input(cl, "answer to SCRIPT LOAD", rep->type == REDIS_REPLY_ERROR ? rep->str : "?",
                  rep->type == REDIS_REPLY_ERROR ? (size_t)rep->len : 1);
        return;
    }
    memcpy(cl->sha[which], rep->str, 40);
    cl->sha[which][40] = 0;
    if (++cl->nsha == NSCRIPTS)
        start_sync(cl);
}

static void on_cmd_state(struct nl_redis *r, int up, const char *why, void *ud)
{
    struct nl_cluster *cl = ud;
    if (!up) {
        cl->nsha = 0;
        set_down(cl, why);
        fail_ops(cl);
        return;
    }
    redisAsyncContext *ac = nl_redis_ctx(r);
    ac->data = cl;
    cl->nsha = 0;
    for (int i = 0; i < NSCRIPTS; i++)
        redisAsyncCommand(ac, on_script_loaded, (void *)(uintptr_t)i, "SCRIPT LOAD %s", SCRIPTS[i]);
}

static void on_sub_state(struct nl_redis *r, int up, const char *why, void *ud)
{
    struct nl_cluster *cl = ud;
    cl->subscribed = 0;
    if (!up) {
        set_down(cl, why);
        fail_ops(cl);
        return;
    }
    redisAsyncContext *ac = nl_redis_ctx(r);
    ac->data = cl;
    redisAsyncCommand(ac, on_message, NULL, "SUBSCRIBE nl:all %s", cl->chan_me);
}

/* ---- the tick: liveness, dead servers, timeouts ---- */

/* Redis's version of each server's user set against our copy's. */
static void check_versions(struct nl_cluster *cl, const redisReply *vers)
{
    uint64_t now = nl_loop_now(cl->loop);
    for (size_t i = 0; i + 1 < vers->elements; i += 2) {
        const redisReply *e = vers->element[i];
        uint64_t v;
        if (e->type != REDIS_REPLY_STRING || !node_valid(e->str, (size_t)e->len) ||
            reply_u64(vers->element[i + 1], &v) < 0)
            continue;
        int id = node_id(cl, e->str, (size_t)e->len);
        if (id <= 0)
            continue;
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
}

static void on_dead(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    if (!cl || !rep || !cl->ready)
        return;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 || rep->element[0]->type != REDIS_REPLY_ARRAY ||
        rep->element[1]->type != REDIS_REPLY_ARRAY) {
        bad_input(cl, "answer to the liveness check", "?", 1);
        return;
    }
    check_versions(cl, rep->element[1]);
    if (nl_loop_now(cl->loop) < cl->grace_until)
        return;
    const redisReply *dead = rep->element[0];
    for (size_t i = 0; i < dead->elements; i++) {
        const redisReply *e = dead->element[i];
        if (e->type != REDIS_REPLY_STRING || !node_valid(e->str, (size_t)e->len))
            continue;
        if ((size_t)e->len == strlen(cl->node) && !memcmp(e->str, cl->node, (size_t)e->len))
            continue;
        int id = node_id(cl, e->str, (size_t)e->len);
        if (id < 0)
            continue;
        /* Its users go from our copy when the DOWN comes back on the subscription, in order with the
         * server's own broadcasts (it may be back already: then there is no DOWN). */
        const char *argv[2] = {cl->nodes[id], "0"};
        script(cl, S_REAP, NULL, NULL, 2, argv);
    }
}

/*
 * After a reconnect, once every live server has had time to announce its users again:
 * a session whose peer is announced nowhere ended while Redis was away (its GONE was lost).
 */
static int link_unannounced(struct nl_cluster *cl, const struct rlink *l, const void *arg)
{
    (void)arg;
    return !(l->node < cl->nnodes && ntab_find(&cl->reps[l->node].users, l->peer, l->plen));
}

static void audit_links(struct nl_cluster *cl)
{
    links_end(cl, link_unannounced, NULL);
}

static void on_tick(struct nl_loop *loop, void *ud)
{
    struct nl_cluster *cl = ud;
    uint64_t now = nl_loop_now(loop);
    for (size_t i = 0; i < cl->nops;) {
        struct op *o = &cl->ops[i];
        if (o->deadline <= now) {
            if (o->c)
                nl_conn_write(o->c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
            op_done(cl, o);
            i = 0;
        } else {
            i++;
        }
    }
    if (cl->alive_sent && now - cl->alive_sent > WATCHDOG_MS) {
        logf_(cl, "cluster: redis has not answered for %d ms", WATCHDOG_MS);
        cl->alive_sent = 0;
        nl_redis_drop(cl->cmd);
        nl_redis_drop(cl->sub);
        return;
    }
    if (!cl->ready) {
        if (!cl->syncing && cl->nsha == NSCRIPTS && cl->subscribed >= 2)
            start_sync(cl);
        else if (cl->syncing && !cl->joined_once && !cl->alive_sent)
            alive_send(cl, 1); /* the name was in use: ask again */
        return;
    }
    if (!cl->alive_sent)
        alive_send(cl, 0);
    if (cl->reannounce) {
        cl->reannounce = 0;
        reannounce(cl);
    }
    if (cl->audit_at && now >= cl->audit_at) {
        cl->audit_at = 0;
        audit_links(cl);
    }
    /* Which servers have no liveness key: ours and whatever Redis lists. */
    const char *argv[64];
    int n = 0;
    for (size_t i = 0; i < cl->nnodes && n < 60; i++)
        if (strcmp(cl->nodes[i], cl->node))
            argv[n++] = cl->nodes[i];
    redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
    if (ac) {
        const char *av[68];
        size_t lens[68];
        av[0] = "EVALSHA";
        av[1] = cl->sha[S_DEAD];
        av[2] = "0";
        for (int i = 0; i < n; i++)
            av[3 + i] = argv[i];
        for (int i = 0; i < n + 3; i++)
            lens[i] = strlen(av[i]);
        redisAsyncCommandArgv(ac, on_dead, NULL, n + 3, av, lens);
    }
}

/* ---- the chat server's side ---- */

int nl_cluster_open(struct nl_cluster **out, struct nl_loop *loop, const struct nl_cluster_config *cfg,
                    const struct nl_cluster_hooks *hooks, void *ud, char *errbuf)
{
    *out = NULL;
    char host[256];
    int port;
    int rc = nl_redis_parse_url(cfg->url, host, sizeof host, &port, errbuf);
    if (rc < 0)
        return rc;
    if (!cfg->node || !node_valid(cfg->node, strlen(cfg->node)))
        return nl_err(errbuf, NL_EINVAL, "cluster node name '%s': use 1-%d of A-Z a-z 0-9 _ - . :",
                      cfg->node ? cfg->node : "", NODE_MAX);
    struct nl_cluster *cl = calloc(1, sizeof *cl);
    if (!cl)
        return nl_err(errbuf, NL_ENOMEM, "cluster: out of memory");
    cl->cfg = *cfg;
    cl->loop = loop;
    cl->hooks = *hooks;
    cl->ud = ud;
    snprintf(cl->node, sizeof cl->node, "%s", cfg->node);
    snprintf(cl->chan_me, sizeof cl->chan_me, "nl:to:%s", cl->node);
    cl->cfg.node = cl->node;
    if (!cl->cfg.max_sessions)
        cl->cfg.max_sessions = 256;
    node_id(cl, cl->node, strlen(cl->node)); /* we are node 0 */
    int64_t t = nl_loop_timer(loop, TICK_MS, TICK_MS, on_tick, cl, errbuf);
    if (t < 0) {
        free(cl);
        return (int)t;
    }
    cl->tick = t;
    if ((rc = nl_redis_open(&cl->cmd, loop, host, port, on_cmd_state, cl, errbuf)) < 0 ||
        (rc = nl_redis_open(&cl->sub, loop, host, port, on_sub_state, cl, errbuf)) < 0) {
        nl_cluster_close(cl);
        return rc;
    }
    logf_(cl, "cluster: server %s joining through redis %s:%d", cl->node, host, port);
    *out = cl;
    return NL_OK;
}

void nl_cluster_close(struct nl_cluster *cl)
{
    if (!cl)
        return;
    if (cl->ready) {
        /* Leave at once rather than after the liveness key expires: delete it and free our names. */
        redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
        if (ac) {
            batches_flush(cl); /* messages users sent in the last pass still go */
            redisAsyncCommand(ac, NULL, NULL, "DEL nl:alive:%s", cl->node);
            const char *argv[2] = {cl->node, "0"};
            script(cl, S_REAP, NULL, NULL, 2, argv);
            nl_redis_flush(cl->cmd);
        }
    }
    cl->ready = 0;
    for (size_t i = 0; i < cl->nbatches; i++) {
        free(cl->batches[i].msg);
        free(cl->batches[i].names);
    }
    free(cl->batches);
    cl->batches = NULL;
    cl->nbatches = 0;
    nl_loop_timer_cancel(cl->loop, cl->tick);
    /* Pending callbacks run with NULL replies while the contexts are freed: make them see no cluster. */
    redisAsyncContext *a = nl_redis_ctx(cl->cmd), *b = nl_redis_ctx(cl->sub);
    if (a)
        a->data = NULL;
    if (b)
        b->data = NULL;
    nl_redis_close(cl->cmd);
    nl_redis_close(cl->sub);
    remote_clear(cl, -1);
    for (size_t i = 0; i < cl->lusers.nb; i++)
        for (struct nent *e = cl->lusers.b[i], *nx; e; e = nx) {
            nx = e->next;
            free(((struct luser *)e)->links);
            free(e);
        }
    for (size_t i = 0; i < cl->nholds; i++)
        free(cl->holds[i].q);
    for (size_t i = 0; i < cl->nnodes; i++) {
        free(cl->reps[i].users.b);
        free(cl->reps[i].q);
    }
    free(cl->reps);
    free(cl->lusers.b);
    free(cl->holds);
    for (size_t i = 0; i < cl->nops; i++)
        free(cl->ops[i].line);
    free(cl->ops);
    free(cl->nodes);
    free(cl);
}

const char *nl_cluster_node(const struct nl_cluster *cl) { return cl->node; }
int nl_cluster_ready(const struct nl_cluster *cl) { return cl->ready; }
size_t nl_cluster_remote_count(const struct nl_cluster *cl) { return remote_total(cl, 0); }
size_t nl_cluster_remote_room(const struct nl_cluster *cl) { return remote_total(cl, 1); }

int nl_cluster_remote_next(const struct nl_cluster *cl, struct nl_cluster_iter *it, const char **name, size_t *n)
{
    const struct nent *e = it->at ? ((const struct nent *)it->at)->next : NULL;
    while (!e) {
        if (it->node >= cl->nnodes)
            break;
        const struct ntab *t = &cl->reps[it->node].users;
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
    *n = e->len;
    return 1;
}

uint32_t nl_cluster_sessions(const struct nl_cluster *cl, const char *name, size_t n, char *out, size_t *len,
                             size_t cap)
{
    struct luser *u = (struct luser *)ntab_find(&cl->lusers, name, n);
    uint32_t on = 0;
    for (uint32_t i = 0; u && i < u->n; i++) {
        if (u->links[i].state != LINK_ON)
            continue;
        on++;
        if (out && *len + 1 + u->links[i].plen + 1 <= cap) {
            out[(*len)++] = ' ';
            memcpy(out + *len, u->links[i].peer, u->links[i].plen);
            *len += u->links[i].plen;
        }
    }
    return on;
}

uint32_t nl_cluster_links(const struct nl_cluster *cl, const char *name, size_t n)
{
    const struct luser *u = (const struct luser *)ntab_find(&cl->lusers, name, n);
    return u ? u->n : 0;
}

void nl_cluster_conn_closing(struct nl_cluster *cl, struct nl_conn *c)
{
    for (size_t i = 0; i < cl->nops; i++)
        if (cl->ops[i].c == c)
            cl->ops[i].c = NULL;
    struct hold *h = hold_find(cl, c);
    if (h)
        hold_free(cl, h);
}

void nl_cluster_user_gone(struct nl_cluster *cl, const char *name, size_t n)
{
    struct luser *u = luser_get(cl, name, n, 0);
    if (u) {
        for (uint32_t i = 0; i < u->n; i++)
            to_node(cl, u->links[i].node, NULL, NULL, "GONE %s %.*s %s", cl->node, (int)n, name, u->links[i].peer);
        luser_free(cl, u);
    }
    if (cl->ready)
        release_name(cl, name, n);
}

void nl_cluster_room_event(struct nl_cluster *cl, const char *verb, const char *name, size_t n, const uint8_t *text,
                           size_t tlen)
{
    if (!cl->ready)
        return;
    redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
    if (!ac)
        return;
    if (verb[0] == 'J' || verb[0] == 'P') { /* the room set changes: one versioned change (LUA_ROOM) */
        char nm[NAME_CAP];
        if (n >= sizeof nm)
            return;
        memcpy(nm, name, n);
        nm[n] = 0;
        const char *argv[3] = {cl->node, nm, verb[0] == 'J' ? "1" : "0"};
        script(cl, S_ROOM, NULL, NULL, 3, argv);
        return;
    }
    char msg[NL_CHAT_MAX_LINE + 128];
    int k = snprintf(msg, sizeof msg, "%s %s %.*s%s%.*s", verb, cl->node, (int)n, name, text ? " " : "",
                     text ? (int)tlen : 0, text ? (const char *)text : "");
    if (k > 0 && (size_t)k < sizeof msg)
        publish(cl, "nl:all", 6, msg, (size_t)k, NULL, NULL);
}

/* The user a command names, on another server: its display name and server. */
static int resolve(struct nl_cluster *cl, const char *me, size_t mn, const struct nl_chat_cmd *cmd, char *name,
                   int *node)
{
    const char *a = (const char *)cmd->arg;
    size_t an = cmd->arg_len;
    struct remote *r = remote_find(cl, a, an);
    if (r) {
        memcpy(name, r->e.name, r->e.len + 1u);
        *node = r->node;
        return 1;
    }
    if (cl->looked_up && cl->lk_name && lsame(cl->lk_name, cl->lk_len, a, an)) {
        memcpy(name, cl->lk_name, cl->lk_len);
        name[cl->lk_len] = 0;
        *node = cl->lk_node;
        return 1;
    }
    struct rlink *l = me ? link_find(luser_get(cl, me, mn, 0), a, an) : NULL;
    if (l) {
        memcpy(name, l->peer, l->plen);
        name[l->plen] = 0;
        *node = l->node;
        return 1;
    }
    return 0;
}

int nl_cluster_command(struct nl_cluster *cl, struct nl_conn *c, const char *me, size_t mn,
                       const struct nl_chat_cmd *cmd)
{
    const char *a = (const char *)cmd->arg;
    size_t an = cmd->arg_len;
    switch (cmd->verb) {
    case NL_CHAT_NICK:
        if (me || !nl_chat_name_valid(cmd->arg, an) || cl->hooks.find(cl->ud, a, an))
            return 0; /* the chat server answers: already registered, invalid, taken here */
        if (!cl->ready) {
            nl_conn_write(c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
            return 1;
        }
        claim_user(cl, c, a, an);
        return 1;
    case NL_CHAT_LIST:
    case NL_CHAT_JOIN:
    case NL_CHAT_SAY:
        if (!cl->ready) {
            nl_conn_write(c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
            return 1;
        }
        return 0;
    case NL_CHAT_WHO:
    case NL_CHAT_CHAT:
    case NL_CHAT_ACCEPT:
    case NL_CHAT_DECLINE:
    case NL_CHAT_MSG:
    case NL_CHAT_LEAVE:
        break;
    default:
        return 0;
    }
    if (cl->hooks.find(cl->ud, a, an))
        return 0; /* on this server: as on one server */
    if (!cl->ready) {
        if (cmd->verb == NL_CHAT_MSG && nl_chat_name_valid(cmd->arg, an))
            nl_chat_say(c, "ERR 503 cluster unavailable: message to %.*s not delivered\n", (int)an, a);
        else
            nl_conn_write(c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
        return 1;
    }
    char t[NAME_CAP];
    int node;
    if (!resolve(cl, me, mn, cmd, t, &node)) {
        if (cl->looked_up || !nl_chat_name_valid(cmd->arg, an))
            return 0; /* nowhere: the chat server says 404 */
        lookup(cl, c, cmd); /* perhaps registered a moment ago elsewhere, its announcement still on the way */
        return 1;
    }
    size_t tn = strlen(t);
    if (cmd->verb == NL_CHAT_WHO) {
        struct op *o = op_new(cl, OP_WHO, c, t, tn);
        if (!o || !hold_begin(cl, c)) {
            if (o)
                cl->nops--;
            nl_chat_say(c, "ERR 503 server out of memory\n");
            return 1;
        }
        if (to_node(cl, node, NULL, NULL, "WHOQ %s %u %s", cl->node, o->id, t) < 0) {
            nl_conn_write(c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
            op_done(cl, o);
        }
        return 1;
    }
    struct luser *u = luser_get(cl, me, mn, 0);
    struct rlink *l = link_find(u, t, tn);
    switch (cmd->verb) {
    case NL_CHAT_CHAT:
        if (l) {
            if (l->state == LINK_ON)
                nl_chat_say(c, "ERR 409 already in a session with %s\n", t);
            else if (l->state == LINK_OUT)
                nl_chat_say(c, "ERR 409 already asked %s; waiting for an answer\n", t);
            else
                nl_chat_say(c, "ERR 409 %s has asked you: ACCEPT %s or DECLINE %s\n", t, t, t);
            return 1;
        }
        if ((u ? u->n : 0) + cl->hooks.links(cl->ud, me, mn) >= cl->cfg.max_sessions) {
            nl_chat_say(c, "ERR 429 too many sessions (at most %u each)\n", cl->cfg.max_sessions);
            return 1;
        }
        if (!u)
            u = luser_get(cl, me, mn, 1);
        if (!u || !link_add(u, t, tn, node, LINK_OUT)) {
            nl_chat_say(c, "ERR 503 server out of memory\n");
            return 1;
        }
        nl_chat_say(c, "OK CHAT %s\n", t);
        to_node(cl, node, NULL, NULL, "REQ %s %.*s %s", cl->node, (int)mn, me, t);
        logc_(cl, "session %.*s -> %s@%s requested", (int)mn, me, t, cl->nodes[node]);
        return 1;
    case NL_CHAT_ACCEPT:
    case NL_CHAT_DECLINE:
        if (!l || l->state != LINK_IN) {
            nl_chat_say(c, "ERR 403 %s has not asked you for a session\n", t);
            return 1;
        }
        if (cmd->verb == NL_CHAT_ACCEPT) {
            l->state = LINK_ON;
            nl_chat_say(c, "OK ACCEPT %s\n", t);
            to_node(cl, node, NULL, NULL, "ACC %s %.*s %s", cl->node, (int)mn, me, t);
        } else {
            link_drop(cl, u, l);
            nl_chat_say(c, "OK DECLINE %s\n", t);
            to_node(cl, node, NULL, NULL, "DEC %s %.*s %s", cl->node, (int)mn, me, t);
        }
        return 1;
    case NL_CHAT_MSG: {
        if (!l || l->state != LINK_ON) {
            if (l && l->state == LINK_OUT)
                nl_chat_say(c, "ERR 403 %s has not accepted yet\n", t);
            else if (l)
                nl_chat_say(c, "ERR 403 %s has asked you: ACCEPT %s first\n", t, t);
            else
                nl_chat_say(c, "ERR 403 no session with %s: CHAT %s first\n", t, t);
            return 1;
        }
        if (batch_msg(cl, node, me, mn, t, strlen(t), cmd->text, cmd->text_len) < 0)
            nl_chat_say(c, "ERR 503 cluster unavailable: message to %s not delivered\n", t);
        return 1;
    }
    case NL_CHAT_LEAVE:
        if (!l) {
            nl_chat_say(c, "ERR 403 no session with %s\n", t);
            return 1;
        }
        link_drop(cl, u, l);
        nl_chat_say(c, "OK LEAVE %s\n", t);
        to_node(cl, node, NULL, NULL, "LEAVE %s %.*s %s", cl->node, (int)mn, me, t);
        return 1;
    default:
        return 0;
    }
}
