/*
 * nl_clusterwire.c - what the Redis mechanism writes to Redis, in one order:
 * scripts (EVALSHA), publishes, and the MSGs a pass gathers for each server,
 * published together before anything else leaves (so one user's messages and
 * the events around them keep their order). Also the checks every part of the
 * mechanism applies to what Redis gives back. Knows no key and no verb.
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

/* ---- commands and publishes ---- */

void cl_script(struct nl_cluster *cl, int which, redisCallbackFn *fn, void *priv, int argc, const char **argv)
{
    if (!cl->flushing)
        cl_batches_flush(cl); /* MSGs queued earlier go first */
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

int cl_publish(struct nl_cluster *cl, const char *chan, size_t cn, const char *msg, size_t mn, redisCallbackFn *fn,
               void *priv)
{
    if (!cl->flushing)
        cl_batches_flush(cl); /* MSGs queued earlier go first: one order for all that leaves this server */
    redisAsyncContext *ac = nl_redis_ctx(cl->cmd);
    if (!ac)
        return NL_ESYS;
    const char *argv[3] = {"PUBLISH", chan, msg};
    size_t lens[3] = {7, cn, mn};
    return redisAsyncCommandArgv(ac, fn, priv, 3, argv, lens) == REDIS_OK ? NL_OK : NL_ESYS;
}

int cl_to_node(struct nl_cluster *cl, int node, redisCallbackFn *fn, void *priv, const char *fmt, ...)
{
    char chan[NODE_MAX + 16], msg[NL_CHATNET_MAX_LINE + 256];
    if (node < 0 || (size_t)node >= cl->nnodes)
        return NL_EINVAL;
    int cn = snprintf(chan, sizeof chan, "nl:to:%s", cl->nodes[node]);
    va_list ap;
    va_start(ap, fmt);
    int mn = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (mn < 0 || (size_t)mn >= sizeof msg)
        return NL_ELIMIT;
    return cl_publish(cl, chan, (size_t)cn, msg, (size_t)mn, fn, priv);
}

/* ---- the MSG batches ---- */

/* Each MSG of a batch whose PUBLISH failed: its sender is told ("sender\0target\0" pairs). */
static void batch_failed(struct nl_cluster *cl, const char *names, size_t len)
{
    const char *p = names, *end = names + len;
    while (p < end) {
        size_t sn = strlen(p);
        const char *to = p + sn + 1;
        size_t tn = strlen(to);
        cl->sink->undelivered(cl->ud, p, sn, to, tn);
        p = to + tn + 1;
    }
}

/* A batch of MSGs whose PUBLISH reached no server (or whose answer was lost): each sender is told. */
static void on_msg_published(redisAsyncContext *ac, void *r, void *priv)
{
    struct nl_cluster *cl = ac ? ac->data : NULL;
    redisReply *rep = r;
    size_t *names = priv; /* length, then the pairs */
    if (cl && (!rep || rep->type != REDIS_REPLY_INTEGER || rep->integer < 1))
        batch_failed(cl, (const char *)(names + 1), names[0]);
    free(names);
}

void cl_batches_flush(struct nl_cluster *cl)
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
        if (!names || cl_publish(cl, chan, (size_t)cn, b->msg, b->len, on_msg_published, names) < 0) {
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
    if (!nl_redis_ctx(cl->cmd) || node <= 0 || (size_t)node >= cl->nnodes)
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
