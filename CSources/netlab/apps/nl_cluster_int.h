/*
 * nl_cluster_int.h - what the Redis mechanism's files share (internal; never
 * installed): its state and the calls between nl_cluster.c (lifecycle: the
 * connections, joining, the tick), nl_clusterclaim.c (names and liveness in
 * Redis), nl_clusterdir.c (the copies of the other servers' users) and
 * nl_clusterbus.c (pub/sub: events to a node, the room, and what comes in).
 * The chat server is reached only through the sink of nl_chatnet.h.
 */
#ifndef NL_CLUSTER_INT_H
#define NL_CLUSTER_INT_H

#include "nl_app.h" /* logf_, logc_ over cfg.log */
#include "nl_chatnet.h"
#include "nl_nametab.h"
#include "nl_redis.h"

#include <stddef.h>
#include <stdint.h>

#define TICK_MS 250
#define ALIVE_TTL_MS 1500     /* a server silent this long is dead: its users go (refreshed every TICK_MS) */
#define GRACE_MS 4000         /* after (re)connecting, others get this long to come back before being reaped */
#define WATCHDOG_MS 3000      /* a refresh unanswered this long: the connection is hung, drop it */
#define NAME_CAP (NL_CHATNET_MAX_NAME + 1)
#define NODE_MAX 48
#define BATCH_MAX (64 * 1024) /* bytes of MSG lines gathered for one server before they are published */
#define REPLICA_LAG_MS 1000   /* a copy still behind Redis's version this long is taken again */
#define REPLICA_QMAX 65536    /* changes queued for one server while its snapshot is awaited */

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
    struct nl_nametab users; /* struct remote */
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

/*
 * The start of every script that writes as a node (ARGV[1] the node, ARGV[2] its token): a token that is not
 * the node's epoch is a stale incarnation's (the server was taken for dead, or another took its name), and
 * its write is refused; so is a missing epoch (an evicted key is a lost claim, not a free one).
 */
#define CL_LUA_FENCE                                                                                       \
    "local node, token = ARGV[1], ARGV[2]\n"                                                                \
    "local epoch = redis.call('GET', 'nl:epoch:' .. node)\n"                                                \
    "if epoch ~= token then\n"                                                                             \
    "  return redis.error_reply('STALE ' .. node .. ' is at epoch ' .. (epoch or 'none') .. ', not ' .. token)\n" \
    "end\n"

enum { S_JOIN, S_ALIVE, S_REAP, S_CLAIM, S_RELEASE, S_SYNC, S_DEAD, S_ROOM, S_SNAP, S_PUB, NSCRIPTS };

struct nl_cluster {
    struct nl_chatnet net;   /* first: the chat server holds a struct nl_chatnet * */
    struct nl_chatnet_config cfg;
    struct nl_loop *loop;
    const struct nl_chatnet_sink *sink;
    void *ud;
    char node[NODE_MAX + 1];
    char token[24];          /* this incarnation's epoch of the node's name (nl:epoch:<node>); every write carries it */
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
    size_t alive_users;      /* users here when it was sent (their names should all be in nl:dir:<node>) */
    uint64_t alive_from;     /* when the refresh in flight was sent (ms) */
    uint64_t lease_from;     /* when the last refresh answered was sent (ms): the key lives until that + its life */
    int unsure;              /* the chat server was told the lease may have lapsed: tell it when that is known */
    void (*fenced)(struct nl_cluster *cl, const char *why); /* a write was refused as stale (nl_cluster.c) */
    int policy_ok;           /* Redis's maxmemory-policy was read and allows running */
    uint64_t policy_at;      /* when to read it again (ms) while it does not */
    uint64_t waiting_logged; /* when "another live server is called ..." was last logged (ms) */
    int reannounce;          /* we were declared dead: claim our users again */
    uint64_t audit_at;       /* when to check that every cross-server session's peer is still announced */
    int dir_pending;
    void (*dir_loaded)(struct nl_cluster *cl); /* cl_dir_load's done */
    void (*joined)(struct nl_cluster *cl);     /* cl_join's */
    int64_t tick;
    char (*nodes)[NODE_MAX + 1];
    size_t nnodes, capnodes;
    struct replica *reps;    /* per node index (ours, 0, stays empty) */
    uint64_t resyncs;        /* snapshots taken after the first sync (a missed change, a lag) */
    uint64_t bad;            /* malformed replies and messages skipped */
    struct batch *batches;   /* per node index: MSGs of this pass, one PUBLISH each (nl_clusterbus.c) */
    size_t nbatches;
    int flushing;
};

/* ---- small helpers (every file) ---- */

static inline void cl_lower(char *out, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : p[i];
    out[n] = 0;
}

/* Split the next space-separated word off p[0..n); returns its length, advances *p and *n past it and one space. */
static inline size_t cl_word(const char **p, size_t *n, const char **w)
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

/* ---- nl_clusterwire.c: what this server writes to Redis, in one order ---- */
extern const char cl_lua_pub[];
void cl_bad_input(struct nl_cluster *cl, const char *what, const char *p, size_t n);
/* A reply that is an error (its text shown) or of an unexpected type, logged and skipped. */
void cl_bad_reply(struct nl_cluster *cl, const char *what, const redisReply *rep);
/* 1 if rep refuses a write as stale (this server's place was taken): cl->fenced is called. */
int cl_stale(struct nl_cluster *cl, const redisReply *rep);
/* 1 if rep is Redis's out-of-memory refusal. */
int cl_oom(const redisReply *rep);
int cl_node_valid(const char *p, size_t n);
int cl_name_valid(const char *p, size_t n);
/* The decimal version word that ends a directory broadcast; 0 if there is none. */
uint64_t cl_version(const char *p, size_t n);
/* An integer reply or a decimal string as a version; <0 if neither. */
int cl_reply_u64(const redisReply *e, uint64_t *v);
/* EVALSHA of script `which` with argv (lens NULL: C strings); MSGs queued earlier go first; fn(NULL reply)
 * at once when not connected. */
void cl_script(struct nl_cluster *cl, int which, redisCallbackFn *fn, void *priv, int argc, const char **argv,
               const size_t *lens);
/* The same for a write made as this node: node and token go first. With fn NULL, a refusal is still read
 * (a stale token makes this server step down; other errors are logged). */
void cl_write(struct nl_cluster *cl, int which, redisCallbackFn *fn, void *priv, int argc, const char **argv,
              const size_t *lens);
/* Publish msg for node's users (node < 0: nl:all) through the fenced script: the reply is 1 when it went,
 * -1 when node is dead, -2 when nobody listens on its channel. <0: not connected. */
int cl_publish(struct nl_cluster *cl, int node, const char *msg, size_t mn, redisCallbackFn *fn, void *priv);
int cl_to_node(struct nl_cluster *cl, int node, redisCallbackFn *fn, void *priv, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Queue "MSG <us> <from> <to> <text>" for node: published by cl_batches_flush (or sooner when full). */
int cl_batch_msg(struct nl_cluster *cl, int node, const char *from, size_t fn, const char *to, size_t tn,
                 const uint8_t *text, size_t len);
void cl_batches_flush(struct nl_cluster *cl);
void cl_batches_free(struct nl_cluster *cl);

/* ---- nl_clusterdir.c: the copies of the other servers' users ---- */
extern const char cl_lua_room[], cl_lua_snap[];
/* The index of a server's name (0: this server), added when new; -1 if invalid or out of memory. */
int cl_node_id(struct nl_cluster *cl, const char *p, size_t n);
/* Take a copy of every server Redis lists; done(cl) once all are in. */
void cl_dir_load(struct nl_cluster *cl, void (*done)(struct nl_cluster *cl));
void cl_dir_change(struct nl_cluster *cl, int node, const struct dop *d);
/* DOWN of node at version v: its users' sessions end, then its copy is emptied. */
void cl_dir_down(struct nl_cluster *cl, int node, uint64_t v);
/* Redis's version of each server's user set ({node, version, ...}) against the copies. */
void cl_dir_check(struct nl_cluster *cl, const redisReply *vers);
void cl_dir_free(struct nl_cluster *cl);
size_t cl_dir_total(const struct nl_cluster *cl, int room);
int cl_locate(const struct nl_chatnet *n, const char *name, size_t len, char *display, int *node);
int cl_lookup(struct nl_chatnet *n, uint32_t id, const char *name, size_t len);
int cl_present(const struct nl_chatnet *n, int node, const char *name, size_t len);
size_t cl_count(const struct nl_chatnet *n, int in_room);
int cl_next(const struct nl_chatnet *n, struct nl_chatnet_iter *it, const char **name, size_t *len);

/* ---- nl_clusterclaim.c: names and liveness in Redis ---- */
extern const char cl_lua_join[], cl_lua_alive[], cl_lua_reap[], cl_lua_claim[], cl_lua_release[], cl_lua_sync[],
    cl_lua_dead[];
int cl_claim(struct nl_chatnet *n, uint32_t id, const char *name, size_t len);
void cl_release(struct nl_chatnet *n, const char *name, size_t len);
/* Take this server's name among the nodes (only if no live server has it), clear what an earlier
 * server of that name left, then joined(cl); while another live server has the name, the tick asks again. */
void cl_join(struct nl_cluster *cl, void (*joined)(struct nl_cluster *cl));
/* Refresh this server's liveness key. */
void cl_alive_send(struct nl_cluster *cl);
/* Give back the names of users who left while Redis was away, then claim the others again. */
void cl_reannounce(struct nl_cluster *cl);
/* Free a dead server's names, fencing the incarnation that held them. */
void cl_reap(struct nl_cluster *cl, const char *node);
/* Leave: this server's names are freed and its liveness key deleted (best effort, without waiting). */
void cl_leave(struct nl_cluster *cl);

/* ---- nl_clusterbus.c: events to a node, the room, and what comes in ---- */
int cl_send(struct nl_chatnet *n, int node, int ev, const char *from, size_t fn, const char *to, size_t tn,
            const uint8_t *text, size_t tlen);
void cl_room(struct nl_chatnet *n, int what, const char *name, size_t len, const uint8_t *text, size_t tlen);
int cl_who(struct nl_chatnet *n, uint32_t id, int node, const char *name, size_t len);
int cl_probe(struct nl_chatnet *n, uint32_t id, int node, const char *name, size_t len);
void cl_probed(struct nl_chatnet *n, int node, uint32_t id, int alive);
void cl_flush(struct nl_chatnet *n);
/* A message that came on the subscription (all: on nl:all, else on nl:to:<us>). */
void cl_bus_in(struct nl_cluster *cl, int all, const char *msg, size_t len);

#endif
