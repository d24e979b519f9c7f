/*
 * nl_clusterclaim.c - the Redis mechanism's claims: a user's name
 * (nl:name:<lower>, claimed atomically by a Lua script) and this server's
 * place among the nodes (its liveness key nl:alive:<node>), given back on
 * leaving, reaped from a dead server, and claimed again after an outage.
 * Owns the scripts that change names and liveness; knows nothing of sessions.
 */
#include "nl_cluster_int.h"
#include "nl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Lua: each runs atomically in Redis ---- */

/* ARGV: node, Name, lower, mode ("new" | "again"), room (0/1). Returns 1 (won) or the holder "<node> <Name>". */
const char cl_lua_claim[] =
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
const char cl_lua_release[] =
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
const char cl_lua_reap[] =
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
const char cl_lua_alive[] =
    "local k = 'nl:alive:' .. ARGV[1]\n"
    "local was = redis.call('EXISTS', k)\n"
    "if ARGV[3] == '1' and was == 1 then return -1 end\n"
    "redis.call('SET', k, '1', 'PX', tonumber(ARGV[2]))\n"
    "redis.call('SADD', 'nl:nodes', ARGV[1])\n"
    "return was\n";

/* ARGV: servers this one knows of. Returns {those (and any in nl:nodes) without a liveness key,
 * {server, version of its user set, ...} for all of them}: the once-a-tick check of the copies. */
const char cl_lua_dead[] =
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
const char cl_lua_sync[] =
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

/* ---- a user's name ---- */

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
    struct nl_chatnet_answer a = {.kind = NL_CHATNET_FAILED, .name = x.name, .len = x.len};
    if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1) {
        a.kind = NL_CHATNET_WON;
    } else if (rep && rep->type == REDIS_REPLY_STRING) {
        const char *sp = memchr(rep->str, ' ', (size_t)rep->len);
        a.kind = NL_CHATNET_TAKEN;
        if (sp) {
            a.name = sp + 1;
            a.len = (size_t)(rep->str + rep->len - a.name);
        }
    } else if (rep) {
        cl_bad_reply(cl, "answer to a name claim", rep);
    }
    cl->sink->answer(cl->ud, x.id, &a);
}

int cl_claim(struct nl_chatnet *n, uint32_t id, const char *name, size_t len)
{
    struct nl_cluster *cl = (struct nl_cluster *)n;
    if (!cl->ready || !nl_redis_ctx(cl->cmd))
        return NL_ESYS;
    struct claim_ctx *x = malloc(sizeof *x);
    if (!x)
        return NL_ENOMEM;
    x->id = id;
    x->len = (uint8_t)len;
    memcpy(x->name, name, len);
    x->name[len] = 0;
    char lo[NAME_CAP];
    cl_lower(lo, name, len);
    const char *argv[5] = {cl->node, x->name, lo, "new", "0"};
    cl_script(cl, S_CLAIM, on_claim, x, 5, argv);
    return NL_OK;
}

void cl_release(struct nl_chatnet *n, const char *name, size_t len)
{
    struct nl_cluster *cl = (struct nl_cluster *)n;
    if (!cl->ready)
        return; /* the names of users who left meanwhile go when Redis is back (cl_reannounce) */
    char nm[NAME_CAP], lo[NAME_CAP];
    memcpy(nm, name, len);
    nm[len] = 0;
    cl_lower(lo, name, len);
    const char *argv[3] = {cl->node, nm, lo};
    cl_script(cl, S_RELEASE, NULL, NULL, 3, argv);
}

/* ---- this server's place among the nodes ---- */

static void on_reap_self(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    if (!cl || !cl->syncing)
        return;
    cl->joined_once = 1;
    if (cl->joined)
        cl->joined(cl);
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
        cl_bad_reply(cl, "answer to the liveness refresh", rep);
        return;
    }
    if (first) {
        if (rep->integer < 0) {
            logf_(cl, "cluster: another live server is called %s; waiting for it to go (or give --node)", cl->node);
            return; /* the tick tries again */
        }
        /* Ours now: clear what an earlier server of this name left (its users are gone), then sync. */
        const char *argv[2] = {cl->node, "1"};
        cl_script(cl, S_REAP, on_reap_self, NULL, 2, argv);
        return;
    }
    if (rep->integer == 0 && cl->ready)
        cl->reannounce = 1; /* the key had expired: others may have reaped our users */
}

static void alive(struct nl_cluster *cl, int first)
{
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", ALIVE_TTL_MS);
    const char *argv[3] = {cl->node, ttl, first ? "1" : "0"};
    cl->alive_sent = nl_loop_now(cl->loop);
    cl_script(cl, S_ALIVE, on_alive, (void *)(uintptr_t)first, 3, argv);
}

void cl_join(struct nl_cluster *cl, void (*joined)(struct nl_cluster *cl))
{
    cl->joined = joined;
    alive(cl, 1);
}

void cl_alive_send(struct nl_cluster *cl) { alive(cl, 0); }

void cl_reap(struct nl_cluster *cl, const char *node, int force)
{
    const char *argv[2] = {node, force ? "1" : "0"};
    cl_script(cl, S_REAP, NULL, NULL, 2, argv);
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
    cl_lower(lo, name, n);
    const char *argv[5] = {x->cl->node, nm, lo, "again", in_room ? "1" : "0"};
    cl_script(x->cl, S_CLAIM, on_reclaim, nm, 5, argv);
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

void cl_reannounce(struct nl_cluster *cl)
{
    struct reannounce_ctx all = {cl, 0, NULL, NULL, 0};
    collect_one(&all, "EVALSHA", 7, 0);
    collect_one(&all, cl->sha[S_SYNC], 40, 0);
    collect_one(&all, "0", 1, 0);
    collect_one(&all, cl->node, strlen(cl->node), 0);
    /* A claim on its way is a user too: won in Redis, registered here when its answer comes. */
    cl->sink->each(cl->ud, 1, collect_one, &all);
    redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
    if (ac && all.names && all.n >= 4)
        redisAsyncCommandArgv(ac, NULL, NULL, (int)all.n, all.names, all.lens);
    free(all.names);
    free(all.lens);
    struct reannounce_ctx x = {cl, 0, NULL, NULL, 0};
    cl->sink->each(cl->ud, 0, reclaim_one, &x);
    if (x.n)
        logf_(cl, "cluster: announced %zu local users again", x.n);
}
