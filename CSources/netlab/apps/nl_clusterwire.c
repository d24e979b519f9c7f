/*
 * nl_clusterwire.c - what the Redis mechanism writes to Redis, in one order:
 * scripts (EVALSHA), each write carrying this server's token (a stale one is
 * refused), publishes through one fenced script that also says whether the
 * target server is there to hear it, and the MSGs a pass gathers for each
 * server, published together before anything else leaves (so one user's
 * messages and the events around them keep their order). Also the checks every
 * part of the mechanism applies to what Redis gives back. Knows no verb.
 */
#include "nl_cluster_int.h"
#include "netlab/nl_chat.h"
#include "nl_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- what came back ---- */

void cl_bad_input(struct nl_cluster *cl, const char *what, const char *p, size_t n)
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

void cl_bad_reply(struct nl_cluster *cl, const char *what, const redisReply *rep)
{
    if (rep && rep->type == REDIS_REPLY_ERROR)
        cl_bad_input(cl, what, rep->str, (size_t)rep->len);
    else
        cl_bad_input(cl, what, "?", 1);
}

int cl_node_valid(const char *p, size_t n)
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

int cl_name_valid(const char *p, size_t n) { return nl_chat_name_valid((const uint8_t *)p, n); }

uint64_t cl_version(const char *p, size_t n)
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

int cl_reply_u64(const redisReply *e, uint64_t *v)
{
    if (e->type == REDIS_REPLY_INTEGER && e->integer >= 0) {
        *v = (uint64_t)e->integer;
        return 0;
    }
    if (e->type == REDIS_REPLY_STRING) {
        *v = cl_version(e->str, (size_t)e->len);
        return *v || (e->len == 1 && e->str[0] == '0') ? 0 : -1;
    }
    return -1;
}

int cl_stale(struct nl_cluster *cl, const redisReply *rep)
{
    if (!rep || rep->type != REDIS_REPLY_ERROR || rep->len < 6 || memcmp(rep->str, "STALE ", 6))
        return 0;
    if (cl->fenced)
        cl->fenced(cl, rep->str + 6);
    return 1;
}

int cl_oom(const redisReply *rep)
{
    return rep && rep->type == REDIS_REPLY_ERROR && rep->len >= 4 && !memcmp(rep->str, "OOM ", 4);
}

/* ---- commands and publishes ---- */

/*
 * Publishing, fenced: ARGV node, token, target server ('' for nl:all), message. The target's liveness
 * key and its own channel's subscribers decide whether a message can arrive (PUBLISH's count would
 * also count a pattern subscriber, a debugging `psubscribe *`). allow-oom: a publish stores nothing.
 */
const char cl_lua_pub[] = "#!lua flags=allow-oom\n" CL_LUA_FENCE
    "local to, msg = ARGV[3], ARGV[4]\n"
    "if to == '' then return redis.call('PUBLISH', 'nl:all', msg) end\n"
    "if redis.call('EXISTS', 'nl:alive:' .. to) == 0 then return -1 end\n"
    "local ch = 'nl:to:' .. to\n"
    "if redis.call('PUBSUB', 'NUMSUB', ch)[2] == 0 then return -2 end\n"
    "redis.call('PUBLISH', ch, msg)\n"
    "return 1\n";

static const char *const SCRIPT_NAME[NSCRIPTS] = {
    [S_JOIN] = "join", [S_ALIVE] = "liveness refresh", [S_REAP] = "reap", [S_CLAIM] = "name claim",
    [S_RELEASE] = "name release", [S_SYNC] = "name sync", [S_DEAD] = "liveness check", [S_ROOM] = "room change",
    [S_SNAP] = "directory snapshot", [S_PUB] = "publish",
};

#define ARGS_MAX 64

static void call(struct nl_cluster *cl, int which, redisCallbackFn *fn, void *priv, int n, const char **av,
                 size_t *lens)
{
    if (!cl->flushing)
        cl_batches_flush(cl); /* MSGs queued earlier go first: one order for all that leaves this server */
    redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
    if (!ac || redisAsyncCommandArgv(ac, fn, priv, n, av, lens) != REDIS_OK) {
        if (fn)
            fn(NULL, NULL, priv);
    }
}

void cl_script(struct nl_cluster *cl, int which, redisCallbackFn *fn, void *priv, int argc, const char **argv,
               const size_t *lens)
{
    const char *av[ARGS_MAX + 3];
    size_t ln[ARGS_MAX + 3];
    int n = 0;
    av[n++] = "EVALSHA";
    av[n++] = cl->sha[which];
    av[n++] = "0";
    for (int i = 0; i < argc && n < ARGS_MAX + 3; i++, n++) {
        av[n] = argv[i];
        ln[n] = lens ? lens[i] : strlen(argv[i]);
    }
    for (int i = 0; i < 3; i++)
        ln[i] = strlen(av[i]);
    call(cl, which, fn, priv, n, av, ln);
}

/* A write nobody waits for: a stale token makes this server step down, another refusal is logged. */
static void on_write(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    if (cl && rep && rep->type == REDIS_REPLY_ERROR && !cl_stale(cl, rep))
        cl_bad_reply(cl, SCRIPT_NAME[(uintptr_t)priv], rep);
}

void cl_write(struct nl_cluster *cl, int which, redisCallbackFn *fn, void *priv, int argc, const char **argv,
              const size_t *lens)
{
    const char *av[ARGS_MAX];
    size_t ln[ARGS_MAX];
    av[0] = cl->node;
    av[1] = cl->token;
    ln[0] = strlen(cl->node);
    ln[1] = strlen(cl->token);
    int n = 2;
    for (int i = 0; i < argc && n < ARGS_MAX; i++, n++) {
        av[n] = argv[i];
        ln[n] = lens ? lens[i] : strlen(argv[i]);
    }
    if (!fn) {
        fn = on_write;
        priv = (void *)(uintptr_t)which;
    }
    cl_script(cl, which, fn, priv, n, av, ln);
}

int cl_publish(struct nl_cluster *cl, int node, const char *msg, size_t mn, redisCallbackFn *fn, void *priv)
{
    /* In sync (or syncing: the liveness refresh, which restores the epoch after a restart of Redis, went first). */
    if (!nl_redis_ctx(cl->cmd) || !(cl->ready || cl->syncing) || cl->nsha < NSCRIPTS ||
        (node >= 0 && (size_t)node >= cl->nnodes))
        return NL_ESYS;
    const char *to = node < 0 ? "" : cl->nodes[node];
    const char *argv[2] = {to, msg};
    size_t lens[2] = {strlen(to), mn};
    cl_write(cl, S_PUB, fn, priv, 2, argv, lens);
    return NL_OK;
}

int cl_to_node(struct nl_cluster *cl, int node, redisCallbackFn *fn, void *priv, const char *fmt, ...)
{
    char msg[NL_CHATNET_MAX_LINE + 256];
    if (node < 0 || (size_t)node >= cl->nnodes)
        return NL_EINVAL;
    va_list ap;
    va_start(ap, fmt);
    int mn = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (mn < 0 || (size_t)mn >= sizeof msg)
        return NL_ELIMIT;
    return cl_publish(cl, node, msg, (size_t)mn, fn, priv);
}

/* ---- the MSG batches ---- */

/* Each MSG of a batch that could not go: its sender is told ("sender\0target\0" pairs). */
static void batch_failed(struct nl_cluster *cl, int node, const char *names, size_t len)
{
    const char *p = names, *end = names + len;
    while (p < end) {
        size_t sn = strlen(p);
        const char *to = p + sn + 1;
        size_t tn = strlen(to);
        cl->sink->undelivered(cl->ud, NL_CHATNET_MSG, node, p, sn, to, tn);
        p = to + tn + 1;
    }
}

struct batch_ctx { /* a batch's senders and targets, for the answer */
    struct nl_cluster *cl;
    int node;
    size_t len;
    char names[];
};

/* A batch of MSGs whose target server is gone or not listening, refused as stale, or whose answer was lost:
 * each sender is told (stale: after this server stepped down). */
static void on_msg_published(redisAsyncContext *ac, void *r, void *priv)
{
    struct batch_ctx *x = priv;
    struct nl_cluster *cl = ac ? ac->data : x->cl; /* ac->data is NULL while closing */
    redisReply *rep = r;
    if (cl && !(rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)) {
        cl_stale(cl, rep);
        batch_failed(cl, x->node, x->names, x->len);
    }
    free(x);
}

void cl_batches_flush(struct nl_cluster *cl)
{
    int any = 0;
    cl->flushing = 1;
    for (size_t i = 0; i < cl->nbatches && i < cl->nnodes; i++) {
        struct batch *b = &cl->batches[i];
        if (!b->count)
            continue;
        struct batch_ctx *x = malloc(sizeof *x + b->nlen);
        if (x) {
            x->cl = cl;
            x->node = (int)i;
            x->len = b->nlen;
            memcpy(x->names, b->names, b->nlen);
        }
        if (!x || cl_publish(cl, (int)i, b->msg, b->len, on_msg_published, x) < 0) {
            free(x);
            batch_failed(cl, (int)i, b->names, b->nlen);
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

static struct batch *batch_of(struct nl_cluster *cl, int node)
{
    if ((size_t)node >= cl->nbatches) {
        size_t n = cl->nnodes > (size_t)node ? cl->nnodes : (size_t)node + 1;
        struct batch *nb = realloc(cl->batches, n * sizeof *nb);
        if (!nb)
            return NULL;
        memset(nb + cl->nbatches, 0, (n - cl->nbatches) * sizeof *nb);
        cl->batches = nb;
        cl->nbatches = n;
    }
    return &cl->batches[node];
}

int cl_batch_msg(struct nl_cluster *cl, int node, const char *me, size_t mn, const char *t, size_t tn,
                 const uint8_t *text, size_t len)
{
    if (!nl_redis_ctx(cl->cmd) || !cl->ready || node <= 0 || (size_t)node >= cl->nnodes)
        return NL_ESYS;
    struct batch *b = batch_of(cl, node);
    if (!b)
        return NL_ENOMEM;
    size_t nodel = strlen(cl->node);
    size_t line = 4 + nodel + 1 + mn + 1 + tn + 1 + len;
    if (b->count && b->len + 1 + line > BATCH_MAX)
        cl_batches_flush(cl);
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

void cl_batches_free(struct nl_cluster *cl)
{
    for (size_t i = 0; i < cl->nbatches; i++) {
        free(cl->batches[i].msg);
        free(cl->batches[i].names);
    }
    free(cl->batches);
    cl->batches = NULL;
    cl->nbatches = 0;
}
