/*
 * nl_loop.h - a small event loop (Redis ae.c in spirit): descriptors
 * with callbacks, one-shot and repeating timers, a hook before each poll()
 * and one after each pass, and a stop that is safe from signal handlers and
 * other threads. It knows nothing of connections or protocols.
 *
 * One iteration: before-poll hook, poll(), every ready descriptor's callback,
 * due timers, after-pass hook. Descriptors removed during a pass are not
 * called again in it; the loop never closes a descriptor it was given.
 * Two backends behind one API, as ae picks its own: epoll (the default on
 * Linux: a pass costs what the ready descriptors cost, however many are
 * idle) and poll(). With poll(), descriptors idle for a few milliseconds are
 * polled less often while others are busy (at most a sweep interval of 2-25 ms
 * later). The environment variable NETLAB_LOOP=poll or =epoll chooses for
 * every loop created with nl_loop_create; nl_loop_create_backend chooses for one.
 */
#ifndef NL_LOOP_H
#define NL_LOOP_H

#include "nl_api.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nl_loop;  /* opaque */

/** A ready descriptor: revents are poll() revents, whatever the backend (POLLIN, POLLOUT, POLLHUP, POLLERR). */
typedef void (*nl_loop_io_fn)(struct nl_loop *loop, int fd, int revents, void *ud);
typedef void (*nl_loop_fn)(struct nl_loop *loop, void *ud);

enum nl_loop_backend {
    NL_LOOP_DEFAULT = 0, /* NETLAB_LOOP if set ("poll" or "epoll"), else epoll where the system has it */
    NL_LOOP_POLL = 1,
    NL_LOOP_EPOLL = 2
};

/** A loop on the default backend (see NL_LOOP_DEFAULT). */
NL_API int nl_loop_create(struct nl_loop **out, char *errbuf);

/** A loop on the given backend; NL_EINVAL if this system does not have it. */
NL_API int nl_loop_create_backend(struct nl_loop **out, int backend, char *errbuf);

/** The backend NL_LOOP_DEFAULT stands for here and now (reads NETLAB_LOOP). */
NL_API int nl_loop_backend_from_env(void);

/** "epoll" or "poll". */
NL_API const char *nl_loop_backend_name(const struct nl_loop *loop);

/** Free the loop. Registered descriptors are left open (their owners close them). */
NL_API void nl_loop_destroy(struct nl_loop *loop);

/** Watch fd for events (POLLIN and/or POLLOUT; 0 is allowed: errors and hang-ups only). */
NL_API int nl_loop_add(struct nl_loop *loop, int fd, int events, nl_loop_io_fn fn, void *ud, char *errbuf);

/** Change the events of a watched fd. NL_ENOTFOUND if it is not watched. */
NL_API int nl_loop_modify(struct nl_loop *loop, int fd, int events);

/** Stop watching fd (no-op if it is not watched). Safe inside any callback. */
NL_API void nl_loop_remove(struct nl_loop *loop, int fd);

/**
 * Call fn after after_ms, then every every_ms if that is nonzero. Returns a
 * timer id (> 0) or a negative NL_E* code.
 */
NL_API int64_t nl_loop_timer(struct nl_loop *loop, uint32_t after_ms, uint32_t every_ms, nl_loop_fn fn, void *ud,
                      char *errbuf);

/** Cancel a timer (no-op for an unknown or finished id). */
NL_API void nl_loop_timer_cancel(struct nl_loop *loop, int64_t id);

/** Hooks run before every poll() and after every pass (either may be NULL). */
NL_API void nl_loop_set_hooks(struct nl_loop *loop, nl_loop_fn before_poll, nl_loop_fn after_pass, void *ud);

/**
 * Also stop once *flag becomes nonzero (for example nl_stop_flag() from
 * nl_signal.h). The loop then wakes at least every 250 ms to look at it.
 */
NL_API void nl_loop_watch_flag(struct nl_loop *loop, volatile sig_atomic_t *flag);

/** Ask the loop to return after the current pass. Async-signal-safe and thread-safe. */
NL_API void nl_loop_stop(struct nl_loop *loop);

/** Run until stopped. Returns 0, or NL_ESYS if poll() itself fails. */
NL_API int nl_loop_run(struct nl_loop *loop, char *errbuf);

/** Milliseconds on the monotonic clock, as of the end of the last poll(). */
NL_API uint64_t nl_loop_now(const struct nl_loop *loop);

/** Number of watched descriptors (the loop's own wake-up pipe excluded). */
NL_API size_t nl_loop_count(const struct nl_loop *loop);

/** Number of passes so far (one poll() each); for statistics and tests. */
NL_API uint64_t nl_loop_passes(const struct nl_loop *loop);

/**
 * poll() backend: descriptors in the hot part (wake-up pipe excluded): those with an event in
 * the last few sweep intervals, new ones, and those waiting to write. poll() is given only
 * these while events keep coming; all of them every few milliseconds, and
 * whenever a pass finds nothing (see nl_loop.c). epoll backend: every watched descriptor.
 */
NL_API size_t nl_loop_hot(const struct nl_loop *loop);

#ifdef __cplusplus
}
#endif
#endif
