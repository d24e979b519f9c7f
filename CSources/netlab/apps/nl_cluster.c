/*
 * nl_cluster.c - the Redis mechanism behind nl_chatnet.h (several chat
 * servers as one chat), its life: the two connections (commands, and the
 * subscription to nl:all and nl:to:<node>), joining (the scripts loaded, this
 * server's place taken, the directory loaded, its users announced), leaving,
 * and the tick (liveness refreshed, dead servers reaped, copies checked).
 * Owns the keys and messages of docs/PROTOCOL.md ("Cluster") through its
 * parts: nl_clusterclaim.c, nl_clusterdir.c, nl_clusterbus.c over
 * nl_clusterwire.c. Never blocks (hiredis async on nl_loop through
 * nl_redis.c); never sees a client's connection.
 */
#include "nl_cluster_int.h"
#include "nl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const SCRIPTS[NSCRIPTS] = {
    [S_JOIN] = cl_lua_join,       [S_ALIVE] = cl_lua_alive, [S_REAP] = cl_lua_reap, [S_CLAIM] = cl_lua_claim,
    [S_RELEASE] = cl_lua_release, [S_SYNC] = cl_lua_sync,   [S_DEAD] = cl_lua_dead, [S_ROOM] = cl_lua_room,
    [S_SNAP] = cl_lua_snap,       [S_PUB] = cl_lua_pub,
};

#define POLICY_RETRY_MS 2000
#define LEASE_MARGIN_MS 100 /* the lease is taken to end this much before the key's expiry */

/*
 * Ready, unless this server's liveness key may have expired: its last refresh answered was sent at
 * lease_from, and no other server can have found the key gone (and reaped it) before lease_from + the
 * key's life. Past that (a stall: SIGSTOP, a long pause) it is unsure until a refresh answers: the
 * place still held (ready again), or taken (step down).
 */
static int cl_state(struct nl_chatnet *n)
{
    struct nl_cluster *cl = (struct nl_cluster *)n;
    if (!cl->ready)
        return NL_CHATNET_DOWN;
    if (nl_loop_now(cl->loop) < cl->lease_from + ALIVE_TTL_MS - LEASE_MARGIN_MS)
        return NL_CHATNET_READY;
    if (!cl->alive_sent)
        cl_alive_send(cl);
    cl->unsure = 1;
    return NL_CHATNET_UNSURE;
}

static const char *cl_node_name(const struct nl_chatnet *n, int node)
{
    const struct nl_cluster *cl = (const struct nl_cluster *)n;
    return node >= 0 && (size_t)node < cl->nnodes ? cl->nodes[node] : NULL;
}

/* ---- joining ---- */

/*
 * A write refused as stale: this incarnation lost its place (others reaped it while it stalled, or another
 * server took its name, or its epoch key was evicted). Before another line is served, every session with a
 * user elsewhere ends (the other side heard GONE already, from the reap), the cluster is unavailable, and
 * the server joins again under a new token; its users' names are claimed again then (a name taken
 * meanwhile goes to its new holder, and the user here is told and disconnected).
 */
static void step_down(struct nl_cluster *cl, const char *why)
{
    if (!cl->token[0])
        return; /* already stepped down */
    logf_(cl, "cluster: this server no longer holds its place as %s (%s); its sessions with users of other "
          "servers end, and it joins again", cl->node, why);
    cl->token[0] = 0;
    cl->ready = 0;
    cl->syncing = 0;
    cl->joined_once = 0;
    cl->alive_sent = 0;
    cl->unsure = 0;
    cl->sink->gone(cl->ud, -1, NULL, 0);
    cl->sink->state(cl->ud, NL_CHATNET_DOWN);
}

static void set_down(struct nl_cluster *cl, const char *why)
{
    if (cl->ready || cl->syncing)
        logf_(cl, "cluster: unavailable (%s); serving local users, retrying", why);
    cl->ready = 0;
    cl->syncing = 0;
    cl->alive_sent = 0;
    cl->unsure = 0;
    cl->sink->state(cl->ud, NL_CHATNET_DOWN);
}

/* The directory is loaded: serve, and announce this server's users (again). */
static void become_ready(struct nl_cluster *cl)
{
    cl->syncing = 0;
    cl->ready = 1;
    cl->lease_from = cl->alive_from;
    cl->audit_at = nl_loop_now(cl->loop) + GRACE_MS;
    cl->reannounce = 0; /* a DOWN of ours seen while syncing (our own reap at start): this is the answer */
    cl_reannounce(cl);
    cl->sink->state(cl->ud, NL_CHATNET_READY);
    logf_(cl, "cluster: ready as %s (%zu users on other servers)", cl->node, cl_dir_total(cl, 0));
}

static void joined(struct nl_cluster *cl) { cl_dir_load(cl, become_ready); }

static void cl_start_sync(struct nl_cluster *cl)
{
    if (cl->syncing || cl->ready || cl->nsha < NSCRIPTS || cl->subscribed < 2)
        return;
    cl->syncing = 1;
    cl->grace_until = nl_loop_now(cl->loop) + GRACE_MS;
    if (!cl->joined_once) {
        cl_join(cl, joined);
    } else {
        cl_alive_send(cl);
        cl_dir_load(cl, become_ready);
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
        cl_bad_reply(cl, "answer to SCRIPT LOAD", rep);
        return;
    }
    memcpy(cl->sha[which], rep->str, 40);
    cl->sha[which][40] = 0;
    if (++cl->nsha == NSCRIPTS)
        cl_start_sync(cl);
}

static void load_scripts(struct nl_cluster *cl)
{
    redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
    if (!ac)
        return;
    cl->nsha = 0;
    for (int i = 0; i < NSCRIPTS; i++)
        redisAsyncCommand(ac, on_script_loaded, (void *)(uintptr_t)i, "SCRIPT LOAD %s", SCRIPTS[i]);
}

/* Redis's maxmemory-policy from INFO memory ("" if it is not there). */
static void policy_of(const redisReply *rep, char *out, size_t cap)
{
    out[0] = 0;
    const char *p = rep && rep->type == REDIS_REPLY_STRING ? strstr(rep->str, "maxmemory_policy:") : NULL;
    if (!p)
        return;
    p += 17;
    size_t n = strcspn(p, "\r\n");
    snprintf(out, cap, "%.*s", (int)NL_MIN(n, cap - 1), p);
}

/*
 * Before joining (at start and on every reconnect): a Redis that may evict keys (any maxmemory-policy but
 * noeviction; volatile-* evicts the liveness keys, which have an expiry) could lose a claim and give a name
 * twice. Refused unless allow_eviction: at start the server stops with the reason; later it stays
 * unavailable to the cluster, reading the policy again every few seconds.
 */
static void on_policy(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    if (!cl || !r)
        return;
    char policy[64];
    policy_of(r, policy, sizeof policy);
    int ok = !strcmp(policy, "noeviction");
    if (!ok && cl->cfg.allow_eviction) {
        logf_(cl, "cluster: redis maxmemory-policy is %s (--allow-eviction): an evicted claim is taken for lost "
              "and claimed again", policy[0] ? policy : "unknown");
        ok = 1;
    }
    if (ok) {
        cl->policy_ok = 1;
        load_scripts(cl);
        return;
    }
    char text[320];
    snprintf(text, sizeof text,
             "cluster: redis maxmemory-policy is %s: Redis may evict netlab's keys and give a name twice; set "
             "maxmemory-policy noeviction (CONFIG SET maxmemory-policy noeviction), or give --allow-eviction",
             policy[0] ? policy : "unknown (INFO memory did not say)");
    cl->policy_at = nl_loop_now(cl->loop) + POLICY_RETRY_MS;
    if (!cl->joined_once) {
        cl->sink->fatal(cl->ud, NL_EINVAL, text); /* the server stops: it cannot run as configured */
    } else if (cl->policy_ok || !cl->waiting_logged) {
        logf_(cl, "%s; serving local users", text);
        cl->waiting_logged = nl_loop_now(cl->loop);
    }
    cl->policy_ok = 0;
}

static void check_policy(struct nl_cluster *cl)
{
    redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
    if (ac)
        redisAsyncCommand(ac, on_policy, NULL, "INFO memory");
}

static void on_cmd_state(struct nl_redis *r, int up, const char *why, void *ud)
{
    struct nl_cluster *cl = ud;
    cl->nsha = 0;
    if (!up) {
        set_down(cl, why);
        return;
    }
    nl_redis_ctx(r)->data = cl;
    check_policy(cl);
}

/* The subscription's replies: its two confirmations (then joining goes on), then the messages. */
static void on_subscription(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    if (!cl || !rep)
        return; /* the subscription connection went; the state callback handles it */
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 3 || rep->element[0]->type != REDIS_REPLY_STRING) {
        cl_bad_input(cl, "reply on the subscription", "?", 1);
        return;
    }
    const redisReply *kind = rep->element[0], *chan = rep->element[1], *msg = rep->element[2];
    if (kind->len == 9 && !memcmp(kind->str, "subscribe", 9)) {
        if (++cl->subscribed == 2)
            cl_start_sync(cl);
        return;
    }
    if (!(kind->len == 7 && !memcmp(kind->str, "message", 7)) || chan->type != REDIS_REPLY_STRING ||
        msg->type != REDIS_REPLY_STRING || (!cl->ready && !cl->syncing))
        return;
    cl_bus_in(cl, chan->len == 6 && !memcmp(chan->str, "nl:all", 6), msg->str, (size_t)msg->len);
}

static void on_sub_state(struct nl_redis *r, int up, const char *why, void *ud)
{
    struct nl_cluster *cl = ud;
    cl->subscribed = 0;
    if (!up) {
        set_down(cl, why);
        return;
    }
    redisAsyncContext *ac = nl_redis_ctx(r);
    ac->data = cl;
    redisAsyncCommand(ac, on_subscription, NULL, "SUBSCRIBE nl:all %s", cl->chan_me);
}

/* ---- the tick: liveness, dead servers, the copies ---- */

/* The once-a-tick check: servers without a liveness key are reaped (after the grace after joining), and
 * each copy's version is held against Redis's. */
static void on_dead(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    if (!cl || !rep || !cl->ready)
        return;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 || rep->element[0]->type != REDIS_REPLY_ARRAY ||
        rep->element[1]->type != REDIS_REPLY_ARRAY) {
        cl_bad_input(cl, "answer to the liveness check", "?", 1);
        return;
    }
    cl_dir_check(cl, rep->element[1]);
    if (nl_loop_now(cl->loop) < cl->grace_until)
        return;
    const redisReply *dead = rep->element[0];
    for (size_t i = 0; i < dead->elements; i++) {
        const redisReply *e = dead->element[i];
        if (e->type != REDIS_REPLY_STRING || !cl_node_valid(e->str, (size_t)e->len))
            continue;
        if ((size_t)e->len == strlen(cl->node) && !memcmp(e->str, cl->node, (size_t)e->len))
            continue;
        /* Its users go from our copy when the DOWN comes back on the subscription, in order with the
         * server's own broadcasts (it may be back already: then there is no DOWN). */
        int id = cl_node_id(cl, e->str, (size_t)e->len);
        if (id > 0)
            cl_reap(cl, cl->nodes[id]);
    }
}

static void check_dead(struct nl_cluster *cl)
{
    redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
    if (!ac)
        return;
    /* Which servers have no liveness key: those we know of and whatever Redis lists. */
    const char *av[68];
    size_t lens[68];
    int n = 3;
    av[0] = "EVALSHA";
    av[1] = cl->sha[S_DEAD];
    av[2] = "0";
    for (size_t i = 0; i < cl->nnodes && n < 63; i++)
        if (strcmp(cl->nodes[i], cl->node))
            av[n++] = cl->nodes[i];
    for (int i = 0; i < n; i++)
        lens[i] = strlen(av[i]);
    redisAsyncCommandArgv(ac, on_dead, NULL, n, av, lens);
}

static void on_tick(struct nl_loop *loop, void *ud)
{
    struct nl_cluster *cl = ud;
    uint64_t now = nl_loop_now(loop);
    if (!cl->policy_ok && nl_redis_ctx(cl->cmd) && cl->policy_at && now >= cl->policy_at) {
        cl->policy_at = 0;
        check_policy(cl);
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
            cl_start_sync(cl);
        else if (cl->syncing && !cl->joined_once && !cl->alive_sent)
            cl_join(cl, joined); /* the name was in use: ask again */
        return;
    }
    if (!cl->alive_sent)
        cl_alive_send(cl);
    if (cl->reannounce) {
        cl->reannounce = 0;
        cl_reannounce(cl);
    }
    if (cl->audit_at && now >= cl->audit_at) {
        /* After a reconnect, once every live server has had time to announce its users again:
         * a session whose peer is announced nowhere ended while Redis was away (its GONE was lost). */
        cl->audit_at = 0;
        cl->sink->audit(cl->ud);
    }
    check_dead(cl);
}

/* ---- open and close ---- */

static void cl_close(struct nl_chatnet *n)
{
    struct nl_cluster *cl = (struct nl_cluster *)n;
    if (cl->ready && nl_redis_ctx(cl->cmd)) {
        /* Leave at once rather than after the liveness key expires: free our names, delete the key. */
        cl_batches_flush(cl); /* messages users sent in the last pass still go */
        cl_leave(cl);
        nl_redis_flush(cl->cmd);
    }
    cl->ready = 0;
    cl_batches_free(cl);
    nl_loop_timer_cancel(cl->loop, cl->tick);
    /* Pending callbacks run with NULL replies while the contexts are freed: make them see no cluster. */
    redisAsyncContext *a = nl_redis_ctx(cl->cmd), *b = nl_redis_ctx(cl->sub);
    if (a)
        a->data = NULL;
    if (b)
        b->data = NULL;
    nl_redis_close(cl->cmd);
    nl_redis_close(cl->sub);
    cl_dir_free(cl);
    free(cl);
}

static const struct nl_chatnet_ops cluster_ops = {
    .kind = "redis",
    .state = cl_state,
    .node_name = cl_node_name,
    .claim = cl_claim,
    .release = cl_release,
    .locate = cl_locate,
    .lookup = cl_lookup,
    .present = cl_present,
    .count = cl_count,
    .next = cl_next,
    .who = cl_who,
    .probe = cl_probe,
    .probed = cl_probed,
    .send = cl_send,
    .room = cl_room,
    .flush = cl_flush,
    .close = cl_close,
};

int nl_cluster_open(struct nl_chatnet **out, struct nl_loop *loop, const struct nl_chatnet_config *cfg,
                    const struct nl_chatnet_sink *sink, void *ud, char *errbuf)
{
    *out = NULL;
    char host[256];
    int port;
    int rc = nl_redis_parse_url(cfg->url, host, sizeof host, &port, errbuf);
    if (rc < 0)
        return rc;
    if (!cfg->node || !cl_node_valid(cfg->node, strlen(cfg->node)))
        return nl_err(errbuf, NL_EINVAL, "cluster node name '%s': use 1-%d of A-Z a-z 0-9 _ - . :",
                      cfg->node ? cfg->node : "", NODE_MAX);
    struct nl_cluster *cl = calloc(1, sizeof *cl);
    if (!cl)
        return nl_err(errbuf, NL_ENOMEM, "cluster: out of memory");
    cl->net.ops = &cluster_ops;
    cl->fenced = step_down;
    cl->cfg = *cfg;
    cl->loop = loop;
    cl->sink = sink;
    cl->ud = ud;
    snprintf(cl->node, sizeof cl->node, "%s", cfg->node);
    snprintf(cl->chan_me, sizeof cl->chan_me, "nl:to:%s", cl->node);
    cl->cfg.node = cl->node;
    cl->cfg.url = NULL; /* the caller's; not kept */
    cl_node_id(cl, cl->node, strlen(cl->node)); /* we are node 0 */
    int64_t t = nl_loop_timer(loop, TICK_MS, TICK_MS, on_tick, cl, errbuf);
    if (t < 0) {
        cl_dir_free(cl);
        free(cl);
        return (int)t;
    }
    cl->tick = t;
    if ((rc = nl_redis_open(&cl->cmd, loop, host, port, on_cmd_state, cl, errbuf)) < 0 ||
        (rc = nl_redis_open(&cl->sub, loop, host, port, on_sub_state, cl, errbuf)) < 0) {
        cl_close(&cl->net);
        return rc;
    }
    int v6 = strchr(host, ':') != NULL;
    logf_(cl, "cluster: server %s joining through redis %s%s%s:%d", cl->node, v6 ? "[" : "", host, v6 ? "]" : "", port);
    *out = &cl->net;
    return NL_OK;
}
