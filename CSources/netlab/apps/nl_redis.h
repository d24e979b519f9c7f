/*
 * nl_redis.h - one hiredis asynchronous connection driven by netlab's own
 * nl_loop (internal; never installed: public headers do not name hiredis).
 * Connects without blocking (an IP address, or a name resolved once at
 * open), reconnects with backoff, and reports up/down through a callback.
 */
#ifndef NL_REDIS_H
#define NL_REDIS_H

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "netlab/nl_loop.h"

struct nl_redis;

/** up: 1 when connected, 0 when the connection was lost or an attempt failed (why says how). */
typedef void (*nl_redis_state_fn)(struct nl_redis *r, int up, const char *why, void *ud);

/**
 * Parse "redis://HOST:PORT" (or "HOST:PORT", or "HOST"; default port 6379; an
 * IPv6 address in brackets, "redis://[::1]:6379") into host (cap bytes, without
 * brackets) and *port. NL_EINVAL with errbuf on a bad URL.
 */
int nl_redis_parse_url(const char *url, char *host, size_t cap, int *port, char *errbuf);

/** Start connecting (asynchronously); fn is called on every change. */
int nl_redis_open(struct nl_redis **out, struct nl_loop *loop, const char *host, int port, nl_redis_state_fn fn,
                  void *ud, char *errbuf);

/** The hiredis context while connected, else NULL. */
redisAsyncContext *nl_redis_ctx(struct nl_redis *r);

/** Drop the connection (a watchdog found it hung); pending callbacks get a NULL reply; reconnect follows. */
void nl_redis_drop(struct nl_redis *r);

/** Try to write what is queued now, without waiting (for a last command at shutdown). */
void nl_redis_flush(struct nl_redis *r);

/** Close (pending callbacks get a NULL reply) and free. */
void nl_redis_close(struct nl_redis *r);

#endif
