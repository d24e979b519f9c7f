/*
 * nl_clusterclaim.c - the Redis mechanism's claims: this server's place among
 * the nodes (nl:epoch:<node> numbers its incarnations; nl:alive:<node> holds the
 * live one's token with an expiry) and its users' names (nl:name:<skeleton>,
 * so that two names that look alike cannot both be held), each claimed
 * atomically by a Lua script, given back on leaving, reaped from a dead server
 * (which fences its incarnation), checked and claimed again after an outage.
 * Owns the scripts that change names and liveness; knows nothing of sessions.
 */
#include "nl_cluster_int.h"
#include "nl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Lua: each runs atomically in Redis ---- */

/*
 * Scripts that only give memory back, or must work when Redis is at maxmemory with noeviction (the
 * liveness refresh, the reap, a release), run with allow-oom: a failed refresh would be taken for a
 * departure. A claim adds keys: it is refused whole, before any write, when Redis is out of memory.
 */

/* ARGV: node, ttl ms. Takes the node's name for a new incarnation: its token, or -1 if a live server has it. */
const char cl_lua_join[] =
    "#!lua flags=allow-oom\n"
    "local node, ttl = ARGV[1], ARGV[2]\n"
    "if redis.call('EXISTS', 'nl:alive:' .. node) == 1 then return -1 end\n"
    "local token = redis.call('INCR', 'nl:epoch:' .. node)\n"
    "redis.call('SET', 'nl:alive:' .. node, token, 'PX', ttl)\n"
    "redis.call('SADD', 'nl:nodes', node)\n"
    "return token\n";

/* ARGV: node, token, ttl ms. {1 if the key was there (0: it had lapsed, and was set again), names in
 * nl:dir:<node>}. An epoch that is gone while no live server holds the name (Redis started afresh, or the
 * key was evicted) is this incarnation's again: nobody took the name meanwhile (that would have set it). */
const char cl_lua_alive[] =
    "#!lua flags=allow-oom\n"
    "local node, token, ttl = ARGV[1], ARGV[2], ARGV[3]\n"
    "local k = 'nl:alive:' .. node\n"
    "local epoch = redis.call('GET', 'nl:epoch:' .. node)\n"
    "if not epoch and (redis.call('EXISTS', k) == 0 or redis.call('GET', k) == token) then\n"
    "  redis.call('SET', 'nl:epoch:' .. node, token)\n"
    "  redis.call('SADD', 'nl:nodes', node)\n"
    "  epoch = token\n"
    "end\n"
    "if epoch ~= token then\n"
    "  return redis.error_reply('STALE ' .. node .. ' is at epoch ' .. (epoch or 'none') .. ', not ' .. token)\n"
    "end\n"
    "local was = redis.call('PEXPIRE', k, ttl)\n"
    "if was == 0 then redis.call('SET', k, token, 'PX', ttl) end\n"
    "return {was, redis.call('HLEN', 'nl:dir:' .. node)}\n";

/* ARGV: node, token ('': a dead server's, reaped by another; else this server's own leftovers, fenced).
 * Frees the names; -1: it is alive; -2: nothing left to reap (reaped before: no second DOWN). */
const char cl_lua_reap[] =
    "#!lua flags=allow-oom\n"
    "local node, token = ARGV[1], ARGV[2]\n"
    "if token == '' then\n"
    "  if redis.call('EXISTS', 'nl:alive:' .. node) == 1 then return -1 end\n"
    "  if redis.call('SISMEMBER', 'nl:nodes', node) == 0 and redis.call('EXISTS', 'nl:dir:' .. node) == 0 and\n"
    "     redis.call('EXISTS', 'nl:room:' .. node) == 0 then return -2 end\n"
    "  redis.call('INCR', 'nl:epoch:' .. node)\n"
    "  redis.call('SREM', 'nl:nodes', node)\n"
    "elseif redis.call('GET', 'nl:epoch:' .. node) ~= token then\n"
    "  return redis.error_reply('STALE ' .. node .. ' is no longer at epoch ' .. token)\n"
    "end\n"
    "local dir = redis.call('HGETALL', 'nl:dir:' .. node)\n"
    "for i = 1, #dir, 2 do\n"
    "  local k = 'nl:name:' .. dir[i]\n"
    "  if redis.call('GET', k) == node .. ' ' .. dir[i + 1] then redis.call('DEL', k) end\n"
    "end\n"
    "redis.call('DEL', 'nl:dir:' .. node, 'nl:room:' .. node)\n"
    "local v = redis.call('INCR', 'nl:ver:' .. node)\n"
    "redis.call('PUBLISH', 'nl:all', 'DOWN ' .. node .. ' ' .. v)\n"
    "return #dir / 2\n";

/* ARGV: node, token, Name, skeleton, mode ("new" | "again"), room (0/1). 1 (won), or the holder "<node> <Name>".
 * A missing nl:name key is not taken for a free name while a live server's directory lists one of that
 * skeleton (the key was evicted): the key is put back and the name stays its holder's. */
const char cl_lua_claim[] = "#!lua\n" CL_LUA_FENCE
    "local name, skel, mode, room = ARGV[3], ARGV[4], ARGV[5], ARGV[6]\n"
    "local k = 'nl:name:' .. skel\n"
    "local cur = redis.call('GET', k)\n"
    "if not cur then\n"
    "  for _, n in ipairs(redis.call('SMEMBERS', 'nl:nodes')) do\n"
    "    local held = redis.call('HGET', 'nl:dir:' .. n, skel)\n"
    "    if held and not (n == node and held == name) and redis.call('EXISTS', 'nl:alive:' .. n) == 1 then\n"
    "      redis.call('SET', k, n .. ' ' .. held)\n"
    "      return n .. ' ' .. held\n"
    "    end\n"
    "  end\n"
    "else\n"
    "  local owner, oname = string.match(cur, '^(%S+) (%S+)$')\n"
    "  if not (owner == node and mode == 'again' and oname == name) then\n"
    "    if owner and redis.call('EXISTS', 'nl:alive:' .. owner) == 1 then return cur end\n"
    "    if owner then\n"
    "      redis.call('HDEL', 'nl:dir:' .. owner, skel); redis.call('SREM', 'nl:room:' .. owner, oname)\n"
    "      local ov = redis.call('INCR', 'nl:ver:' .. owner)\n"
    "      redis.call('PUBLISH', 'nl:all', 'DEL ' .. owner .. ' ' .. oname .. ' ' .. ov)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "redis.call('SET', k, node .. ' ' .. name)\n"
    "redis.call('HSET', 'nl:dir:' .. node, skel, name)\n"
    "if room == '1' then redis.call('SADD', 'nl:room:' .. node, name) else redis.call('SREM', 'nl:room:' .. node, name) end\n"
    "local v = redis.call('INCR', 'nl:ver:' .. node)\n"
    "redis.call('PUBLISH', 'nl:all', 'ADD ' .. node .. ' ' .. name .. ' ' .. room .. ' ' .. v)\n"
    "return 1\n";

/* ARGV: node, token, Name, skeleton. */
const char cl_lua_release[] = "#!lua flags=allow-oom\n" CL_LUA_FENCE
    "local name, skel = ARGV[3], ARGV[4]\n"
    "local k = 'nl:name:' .. skel\n"
    "if redis.call('GET', k) == node .. ' ' .. name then redis.call('DEL', k) end\n"
    "if redis.call('HGET', 'nl:dir:' .. node, skel) == name then redis.call('HDEL', 'nl:dir:' .. node, skel) end\n"
    "redis.call('SREM', 'nl:room:' .. node, name)\n"
    "local v = redis.call('INCR', 'nl:ver:' .. node)\n"
    "redis.call('PUBLISH', 'nl:all', 'DEL ' .. node .. ' ' .. name .. ' ' .. v)\n"
    "return 1\n";

/* ARGV: node, token, then the names it has now. Releases its other names (users who left while Redis was away). */
const char cl_lua_sync[] = "#!lua flags=allow-oom\n" CL_LUA_FENCE
    "local keep = {}\n"
    "for i = 3, #ARGV do keep[ARGV[i]] = true end\n"
    "local gone = 0\n"
    "local dir = redis.call('HGETALL', 'nl:dir:' .. node)\n"
    "for i = 1, #dir, 2 do\n"
    "  local skel, name = dir[i], dir[i + 1]\n"
    "  if not keep[name] then\n"
    "    local k = 'nl:name:' .. skel\n"
    "    if redis.call('GET', k) == node .. ' ' .. name then redis.call('DEL', k) end\n"
    "    redis.call('HDEL', 'nl:dir:' .. node, skel)\n"
    "    redis.call('SREM', 'nl:room:' .. node, name)\n"
    "    local v = redis.call('INCR', 'nl:ver:' .. node)\n"
    "    redis.call('PUBLISH', 'nl:all', 'DEL ' .. node .. ' ' .. name .. ' ' .. v)\n"
    "    gone = gone + 1\n"
    "  end\n"
    "end\n"
    "return gone\n";

/* ARGV: servers this one knows of. Returns {those (and any in nl:nodes) without a liveness key,
 * {server, version of its user set, ...} for all of them}: the once-a-tick check of the copies. */
const char cl_lua_dead[] =
    "#!lua flags=no-writes\n"
    "local dead, seen, vers = {}, {}, {}\n"
    "for _, n in ipairs(redis.call('SMEMBERS', 'nl:nodes')) do seen[n] = true end\n"
    "for _, n in ipairs(ARGV) do seen[n] = true end\n"
    "for n, _ in pairs(seen) do\n"
    "  if redis.call('EXISTS', 'nl:alive:' .. n) == 0 then table.insert(dead, n) end\n"
    "  table.insert(vers, n)\n"
    "  table.insert(vers, redis.call('GET', 'nl:ver:' .. n) or '0')\n"
    "end\n"
    "return {dead, vers}\n";

/* ---- a user's name ---- */

struct claim_ctx {
    struct nl_cluster *cl;
    uint32_t id;
    uint8_t len;
    char name[NAME_CAP];
};

static const char OOM_TEXT[] = "Redis is out of memory (maxmemory): try again later";

static void on_claim(redisAsyncContext *ac, void *r, void *priv)
{
    struct claim_ctx x = *(struct claim_ctx *)priv;
    struct nl_cluster *cl = ac ? ac->data : x.cl; /* ac->data is NULL while closing */
    redisReply *rep = r;
    free(priv);
    if (!cl)
        return;
    struct nl_chatnet_answer a = {.kind = NL_CHATNET_FAILED, .name = x.name, .len = x.len};
    if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1) {
        a.kind = NL_CHATNET_WON;
    } else if (rep && rep->type == REDIS_REPLY_STRING) {
        const char *sp = memchr(rep->str, ' ', (size_t)rep->len);
        a.kind = NL_CHATNET_TAKEN;
        if (sp) {
            a.node = cl_node_id(cl, rep->str, (size_t)(sp - rep->str));
            a.name = sp + 1;
            a.len = (size_t)(rep->str + rep->len - a.name);
        }
    } else if (cl_oom(rep)) {
        a.text = OOM_TEXT; /* a failed write is an error for the user, nothing more */
        a.tlen = sizeof OOM_TEXT - 1;
    } else if (rep && !cl_stale(cl, rep)) {
        cl_bad_reply(cl, "answer to a name claim", rep);
    }
    cl->sink->answer(cl->ud, x.id, &a);
}

static void skeleton_of(const char *name, size_t len, char *sk) { nl_name_skeleton(name, len, sk); }

int cl_claim(struct nl_chatnet *n, uint32_t id, const char *name, size_t len)
{
    struct nl_cluster *cl = (struct nl_cluster *)n;
    if (!cl->ready || !nl_redis_ctx(cl->cmd) || len >= NAME_CAP)
        return NL_ESYS;
    struct claim_ctx *x = malloc(sizeof *x);
    if (!x)
        return NL_ENOMEM;
    x->cl = cl;
    x->id = id;
    x->len = (uint8_t)len;
    memcpy(x->name, name, len);
    x->name[len] = 0;
    char sk[NAME_CAP];
    skeleton_of(name, len, sk);
    const char *argv[4] = {x->name, sk, "new", "0"};
    cl_write(cl, S_CLAIM, on_claim, x, 4, argv, NULL);
    return NL_OK;
}

void cl_release(struct nl_chatnet *n, const char *name, size_t len)
{
    struct nl_cluster *cl = (struct nl_cluster *)n;
    if (!cl->ready || len >= NAME_CAP)
        return; /* the names of users who left meanwhile go when Redis is back (cl_reannounce) */
    char nm[NAME_CAP], sk[NAME_CAP];
    memcpy(nm, name, len);
    nm[len] = 0;
    skeleton_of(name, len, sk);
    const char *argv[2] = {nm, sk};
    cl_write(cl, S_RELEASE, NULL, NULL, 2, argv, NULL);
}

/* ---- this server's place among the nodes ---- */

static void on_reap_self(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    if (!cl || !cl->syncing || cl_stale(cl, r))
        return;
    cl->joined_once = 1;
    if (cl->joined)
        cl->joined(cl);
}

static void on_join(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    if (!cl)
        return;
    cl->alive_sent = 0;
    if (!rep || !cl->syncing)
        return;
    if (rep->type != REDIS_REPLY_INTEGER) {
        cl_bad_reply(cl, "answer to joining", rep);
        return;
    }
    if (rep->integer < 0) {
        uint64_t now = nl_loop_now(cl->loop);
        if (!cl->waiting_logged || now - cl->waiting_logged >= 10000) {
            logf_(cl, "cluster: another live server is called %s; waiting for it to go (or give --node)", cl->node);
            cl->waiting_logged = now;
        }
        return; /* the tick asks again */
    }
    cl->waiting_logged = 0;
    snprintf(cl->token, sizeof cl->token, "%lld", (long long)rep->integer);
    /* Ours now: clear what an earlier incarnation of this name left (its users are gone), then sync. */
    cl_write(cl, S_REAP, on_reap_self, NULL, 0, NULL, NULL);
}

void cl_join(struct nl_cluster *cl, void (*joined)(struct nl_cluster *cl))
{
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", ALIVE_TTL_MS);
    const char *argv[2] = {cl->node, ttl};
    cl->joined = joined;
    cl->alive_sent = cl->alive_from = nl_loop_now(cl->loop);
    cl_script(cl, S_JOIN, on_join, NULL, 2, argv, NULL);
}

static void on_alive(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    if (!cl)
        return;
    cl->alive_sent = 0;
    if (!rep || cl_stale(cl, rep))
        return;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 || rep->element[0]->type != REDIS_REPLY_INTEGER ||
        rep->element[1]->type != REDIS_REPLY_INTEGER) {
        cl_bad_reply(cl, "answer to the liveness refresh", rep);
        return;
    }
    if (!cl->ready)
        return;
    cl->lease_from = cl->alive_from;
    if (cl->unsure) { /* still this server's place: lines go on */
        cl->unsure = 0;
        cl->sink->state(cl->ud, NL_CHATNET_READY);
    }
    long long was = rep->element[0]->integer, held = rep->element[1]->integer;
    if (was == 0) {
        /* Lapsed, but nobody reaped this server (that would have fenced it): it was slow; claim again. */
        logf_(cl, "cluster: this server's liveness key had lapsed (nobody took it for dead); set again");
        cl_reannounce(cl);
    } else if (held >= 0 && (size_t)held < cl->alive_users) {
        /* Names that should be in Redis are not (evicted): lost claims, claimed again now (a name taken
         * meanwhile stays its new holder's, and the user here is told). */
        logf_(cl, "cluster: %lld of this server's %zu names are missing from Redis (evicted?); claiming them again",
              (long long)cl->alive_users - held, cl->alive_users);
        cl_reannounce(cl);
    }
}

void cl_alive_send(struct nl_cluster *cl)
{
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", ALIVE_TTL_MS);
    const char *argv[1] = {ttl};
    cl->alive_sent = cl->alive_from = nl_loop_now(cl->loop);
    cl->alive_users = cl->sink->users(cl->ud);
    cl_write(cl, S_ALIVE, on_alive, NULL, 1, argv, NULL);
}

void cl_reap(struct nl_cluster *cl, const char *node)
{
    const char *argv[2] = {node, ""};
    cl_script(cl, S_REAP, NULL, NULL, 2, argv, NULL);
}

void cl_leave(struct nl_cluster *cl)
{
    redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
    if (!ac || !cl->token[0])
        return;
    cl_write(cl, S_REAP, NULL, NULL, 0, NULL, NULL);
    /* The liveness key goes only if it is still this incarnation's. */
    redisAsyncCommand(ac, NULL, NULL, "EVAL %s 1 nl:alive:%s %s",
                      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
                      cl->node, cl->token);
}

/* ---- after an outage: names given back, and claimed again ---- */

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
        cl->sink->lost(cl->ud, name, strlen(name), NL_CHATNET_LOST_TAKEN);
        logf_(cl, "cluster: %s lost its name to %.*s (claimed while the cluster was unavailable)", name,
              (int)rep->len, rep->str);
    } else if (cl && rep && rep->type == REDIS_REPLY_ERROR && !cl_stale(cl, rep)) {
        cl_bad_reply(cl, "answer to a name claimed again", rep);
    }
    free(name);
}

static void reclaim_one(void *arg, const char *name, size_t n, int in_room)
{
    struct reannounce_ctx *x = arg;
    char *nm = malloc(n + 1);
    if (!nm || n >= NAME_CAP) {
        free(nm);
        return;
    }
    memcpy(nm, name, n);
    nm[n] = 0;
    char sk[NAME_CAP];
    skeleton_of(name, n, sk);
    const char *argv[4] = {nm, sk, "again", in_room ? "1" : "0"};
    cl_write(x->cl, S_CLAIM, on_reclaim, nm, 4, argv, NULL);
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

static void on_synced(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    if (cl && rep && rep->type == REDIS_REPLY_ERROR && !cl_stale(cl, rep))
        cl_bad_reply(cl, "answer to the name sync", rep);
}

void cl_reannounce(struct nl_cluster *cl)
{
    struct reannounce_ctx all = {cl, 0, NULL, NULL, 0};
    collect_one(&all, "EVALSHA", 7, 0);
    collect_one(&all, cl->sha[S_SYNC], 40, 0);
    collect_one(&all, "0", 1, 0);
    collect_one(&all, cl->node, strlen(cl->node), 0);
    collect_one(&all, cl->token, strlen(cl->token), 0);
    /* A claim on its way is a user too: won in Redis, registered here when its answer comes. */
    cl->sink->each(cl->ud, 1, collect_one, &all);
    redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
    if (ac && all.names && all.n >= 5) {
        cl_batches_flush(cl);
        redisAsyncCommandArgv(ac, on_synced, NULL, (int)all.n, all.names, all.lens);
    }
    free(all.names);
    free(all.lens);
    struct reannounce_ctx x = {cl, 0, NULL, NULL, 0};
    cl->sink->each(cl->ud, 0, reclaim_one, &x);
    if (x.n)
        logf_(cl, "cluster: announced %zu local users again", x.n);
}
