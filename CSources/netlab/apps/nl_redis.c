/*
 * nl_redis.c - hiredis's asynchronous API on nl_loop: the adapter hooks
 * (addRead/delRead/addWrite/delWrite/cleanup) become poll() interest on the
 * connection's descriptor; connect is non-blocking with a 2 s timeout and
 * reconnects back off from 100 ms to 2 s. Knows nothing of chat or keys.
 */
#include "nl_redis.h"
#include "nl_internal.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT_MS 2000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

struct nl_redis {
    struct nl_loop *loop;
    char host[256];
    int port;
    redisAsyncContext *ac;  /* connecting or connected */
    int up;                 /* connect callback said OK */
    int fd, events, watched;
    int closing;
    uint32_t backoff_ms;
    int64_t timer;          /* reconnect or connect timeout */
    nl_redis_state_fn fn;
    void *ud;
};

int nl_redis_parse_url(const char *url, char *host, size_t cap, int *port, char *errbuf)
{
    const char *p = url, *portp = NULL;
    if (!strncmp(p, "redis://", 8))
        p += 8;
    size_t hl;
    if (*p == '[') { /* [IPv6 address] (RFC 3986 3.2.2), then :port */
        const char *close = strchr(p, ']');
        if (!close || (close[1] && close[1] != ':'))
            return nl_err(errbuf, NL_EINVAL, "cluster %s: write an IPv6 address in brackets: redis://[::1]:6379", url);
        p++;
        hl = (size_t)(close - p);
        portp = close[1] == ':' ? close + 2 : NULL;
    } else {
        const char *colon = strchr(p, ':');
        if (colon && strchr(colon + 1, ':'))
            return nl_err(errbuf, NL_EINVAL, "cluster %s: write an IPv6 address in brackets: redis://[%s]:6379", url, p);
        hl = colon ? (size_t)(colon - p) : strlen(p);
        portp = colon ? colon + 1 : NULL;
    }
    if (hl == 0 || hl >= cap)
        return nl_err(errbuf, NL_EINVAL, "cluster %s: give redis://HOST:PORT", url);
    memcpy(host, p, hl);
    host[hl] = 0;
    if (strchr(host, '/') || strchr(host, '@'))
        return nl_err(errbuf, NL_EINVAL, "cluster %s: give redis://HOST:PORT (no path or password)", url);
    *port = 6379;
    if (portp) {
        char *end;
        long v = strtol(portp, &end, 10);
        if (end == portp || *end || v < 1 || v > 65535)
            return nl_err(errbuf, NL_EINVAL, "cluster %s: port must be 1-65535", url);
        *port = (int)v;
    }
    return NL_OK;
}

/* ---- the adapter: hiredis asks for read/write interest, nl_loop delivers it ---- */

static void on_io(struct nl_loop *loop, int fd, int revents, void *ud);

static void ev_apply(struct nl_redis *r)
{
    if (r->fd < 0)
        return;
    if (!r->watched) {
        if (nl_loop_add(r->loop, r->fd, r->events, on_io, r, NULL) >= 0)
            r->watched = 1;
    } else {
        nl_loop_modify(r->loop, r->fd, r->events);
    }
}

static void ev_add_read(void *d) { struct nl_redis *r = d; r->events |= POLLIN; ev_apply(r); }
static void ev_del_read(void *d) { struct nl_redis *r = d; r->events &= ~POLLIN; ev_apply(r); }
static void ev_add_write(void *d) { struct nl_redis *r = d; r->events |= POLLOUT; ev_apply(r); }
static void ev_del_write(void *d) { struct nl_redis *r = d; r->events &= ~POLLOUT; ev_apply(r); }

static void ev_cleanup(void *d)
{
    struct nl_redis *r = d;
    if (r->watched)
        nl_loop_remove(r->loop, r->fd);
    r->watched = 0;
    r->events = 0;
    r->fd = -1;
}

static void on_io(struct nl_loop *loop, int fd, int revents, void *ud)
{
    struct nl_redis *r = ud;
    redisAsyncContext *ac = r->ac;
    if (!ac)
        return;
    if (revents & (POLLIN | POLLHUP | POLLERR))
        redisAsyncHandleRead(ac); /* may free ac (the callbacks clear r->ac) */
    if (r->ac == ac && (revents & POLLOUT))
        redisAsyncHandleWrite(ac);
}

/* ---- connecting ---- */

static void connect_now(struct nl_redis *r);

static void on_timer(struct nl_loop *loop, void *ud)
{
    struct nl_redis *r = ud;
    r->timer = 0;
    if (r->ac && !r->up) {
        /* Connect timed out: free it (no disconnect callback: it never connected). */
        redisAsyncContext *ac = r->ac;
        r->ac = NULL;
        redisAsyncFree(ac);
        if (r->fn)
            r->fn(r, 0, "connect timed out", r->ud);
    }
    if (!r->ac)
        connect_now(r);
}

static void schedule(struct nl_redis *r, uint32_t ms)
{
    if (r->closing)
        return;
    if (r->timer)
        nl_loop_timer_cancel(r->loop, r->timer);
    int64_t t = nl_loop_timer(r->loop, ms, 0, on_timer, r, NULL);
    r->timer = t > 0 ? t : 0;
}

static void retry_later(struct nl_redis *r)
{
    schedule(r, r->backoff_ms);
    r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct nl_redis *r = ac->ev.data;
    if (status != REDIS_OK) {
        char why[160];
        snprintf(why, sizeof why, "connect: %s", ac->c.errstr[0] ? ac->c.errstr : "failed");
        r->ac = NULL; /* hiredis frees it after this returns */
        if (r->fn)
            r->fn(r, 0, why, r->ud);
        retry_later(r);
        return;
    }
    r->up = 1;
    r->backoff_ms = BACKOFF_MIN_MS;
    if (r->timer) {
        nl_loop_timer_cancel(r->loop, r->timer);
        r->timer = 0;
    }
    if (r->fn)
        r->fn(r, 1, "connected", r->ud);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct nl_redis *r = ac->ev.data;
    char why[160];
    snprintf(why, sizeof why, "%s", ac->c.errstr[0] ? ac->c.errstr : "connection closed");
    r->ac = NULL;
    r->up = 0;
    if (r->closing)
        return;
    if (r->fn)
        r->fn(r, 0, why, r->ud);
    retry_later(r);
}

static void connect_now(struct nl_redis *r)
{
    if (r->closing || r->ac)
        return;
    redisAsyncContext *ac = redisAsyncConnect(r->host, r->port);
    if (!ac || ac->err) {
        char why[160];
        snprintf(why, sizeof why, "connect: %s", ac ? ac->c.errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        if (r->fn)
            r->fn(r, 0, why, r->ud);
        retry_later(r);
        return;
    }
    r->ac = ac;
    r->up = 0;
    r->fd = ac->c.fd;
    r->events = 0;
    r->watched = 0;
    ac->ev.data = r;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    redisAsyncSetConnectCallback(ac, on_connect); /* asks for write interest: the connect's completion */
    schedule(r, CONNECT_TIMEOUT_MS);
}

int nl_redis_open(struct nl_redis **out, struct nl_loop *loop, const char *host, int port, nl_redis_state_fn fn,
                  void *ud, char *errbuf)
{
    *out = NULL;
    struct nl_redis *r = calloc(1, sizeof *r);
    if (!r)
        return nl_err(errbuf, NL_ENOMEM, "redis: out of memory");
    r->loop = loop;
    r->port = port;
    r->fd = -1;
    r->fn = fn;
    r->ud = ud;
    r->backoff_ms = BACKOFF_MIN_MS;
    /* hiredis resolves names with a blocking getaddrinfo on every connect: resolve once, here, before the loop runs. */
    struct in6_addr a6;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1) {
        snprintf(r->host, sizeof r->host, "%s", host);
    } else {
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
        int g = getaddrinfo(host, NULL, &hints, &ai);
        if (g != 0) {
            free(r);
            return nl_err(errbuf, NL_ENOTFOUND, "redis %s: %s", host, gai_strerror(g));
        }
        if (ai->ai_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, r->host, sizeof r->host);
        else
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, r->host, sizeof r->host);
        freeaddrinfo(ai);
    }
    connect_now(r);
    *out = r;
    return NL_OK;
}

redisAsyncContext *nl_redis_ctx(struct nl_redis *r) { return r && r->up ? r->ac : NULL; }

void nl_redis_drop(struct nl_redis *r)
{
    if (!r->ac || !r->up)
        return;
    /* hiredis's own path: pending callbacks get NULL, then on_disconnect reports it and a reconnect follows. */
    redisAsyncContext *ac = r->ac;
    ac->c.err = REDIS_ERR_IO;
    snprintf(ac->c.errstr, sizeof ac->c.errstr, "no answer from redis: dropped");
    redisAsyncFree(ac);
}

void nl_redis_flush(struct nl_redis *r)
{
    if (r->ac && r->up)
        redisAsyncHandleWrite(r->ac);
}

void nl_redis_close(struct nl_redis *r)
{
    if (!r)
        return;
    r->closing = 1;
    if (r->timer)
        nl_loop_timer_cancel(r->loop, r->timer);
    if (r->ac) {
        redisAsyncContext *ac = r->ac;
        r->ac = NULL;
        redisAsyncFree(ac);
    }
    free(r);
}
