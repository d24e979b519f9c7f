/*
 * nl_loop.c - the poll() event loop: a dense pollfd array handed to poll()
 * as is, a descriptor -> slot map, a short timer list, and a self-pipe that
 * nl_loop_stop writes so a stop from a signal handler or another thread
 * wakes poll() at once. Owns no descriptor but its pipe; knows no protocol.
 *
 * poll() costs time for every descriptor it is given (about 50-70 ns each
 * here: 0.7 ms for 10,000), whether or not anything happens on it. So the
 * array is split: descriptors with a recent event (within two sweep
 * intervals), new ones and those waiting to write are "hot" and sit at the
 * front; the rest are "cold".
 * While events keep coming, poll() gets only the hot part, and the whole
 * array is swept every few milliseconds (2-25, growing with the cold count,
 * so sweeping costs a few percent). When a pass finds nothing, the next one
 * polls everything and may block: an idle server wakes for anyone at once,
 * and a cold descriptor waits at most one sweep interval on a busy server.
 *
 * That is the poll() backend. The split cannot make an intermittent
 * descriptor fast among thousands of idle ones (it waits for a sweep, or
 * pays for a poll() over all of them), so on Linux the loop uses epoll by
 * default (nl_loop_epoll.c, as Redis's ae picks ae_epoll.c): the kernel
 * keeps the interest list and a wait costs what the ready descriptors cost.
 * NETLAB_LOOP=poll (or nl_loop_create_backend) selects poll(); the slot
 * table, timers, hooks and the order of a pass are the same for both.
 */
#include "netlab/nl_loop.h"
#include "nl_internal.h"
#include "nl_loop_epoll.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct handler {
    nl_loop_io_fn fn;  /* NULL: slot removed during this pass, compacted before the next poll() */
    void *ud;
    uint64_t last;     /* ms of its last event, or of its registration */
    uint8_t pinned;    /* never cold (the wake pipe) */
    uint32_t gen;      /* registration number: an epoll event for an earlier registration of the fd is stale */
};

#define COLD_MIN 256        /* fewer cold descriptors than this: always poll them all */

struct timer {
    int64_t id;
    uint64_t when;
    uint32_t every;
    nl_loop_fn fn;
    void *ud;
};

struct nl_loop {
    struct pollfd *pfd;     /* hot slots [0, nhot), then cold ones */
    struct handler *h;
    size_t n, cap, ndead, nhot;
    int *promote;           /* descriptors to move into the hot part before the next poll() */
    size_t npromote, cappromote;
    uint64_t last_sweep;    /* ms of the last poll() over every descriptor */
    int busy;               /* the last pass had events */
    uint64_t sweeps;
    int *slot;              /* slot of each fd, -1 if unwatched */
    size_t slot_cap;
    struct timer *timers;
    size_t ntimers, timers_cap;
    int64_t next_id;
    nl_loop_fn before, after;
    void *hook_ud;
    volatile sig_atomic_t *flag;
    volatile sig_atomic_t stop;
    int wake[2];
    uint64_t now;
    uint64_t passes;
    int backend;            /* NL_LOOP_POLL or NL_LOOP_EPOLL */
    struct nl_epoll *ep;    /* the epoll backend's state; NULL with poll() */
    uint32_t gen;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void drain_wake(struct nl_loop *l, int fd, int revents, void *ud)
{
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

static int grow_slots(struct nl_loop *l, int fd)
{
    if ((size_t)fd < l->slot_cap)
        return NL_OK;
    size_t cap = l->slot_cap ? l->slot_cap : 64;
    while (cap <= (size_t)fd)
        cap *= 2;
    int *s = realloc(l->slot, cap * sizeof *s);
    if (!s)
        return NL_ENOMEM;
    for (size_t i = l->slot_cap; i < cap; i++)
        s[i] = -1;
    l->slot = s;
    l->slot_cap = cap;
    return NL_OK;
}

static void swap_slots(struct nl_loop *l, size_t a, size_t b)
{
    if (a == b)
        return;
    struct pollfd tp = l->pfd[a];
    l->pfd[a] = l->pfd[b];
    l->pfd[b] = tp;
    struct handler th = l->h[a];
    l->h[a] = l->h[b];
    l->h[b] = th;
    if (l->pfd[a].fd >= 0)
        l->slot[l->pfd[a].fd] = (int)a;
    if (l->pfd[b].fd >= 0)
        l->slot[l->pfd[b].fd] = (int)b;
}

/* Ask for fd to be hot from the next poll() on (moving slots mid-pass would upset the dispatch). */
static int queue_promotion(struct nl_loop *l, int fd)
{
    if (l->npromote == l->cappromote) {
        size_t cap = l->cappromote ? l->cappromote * 2 : 64;
        int *p = realloc(l->promote, cap * sizeof *p);
        if (!p)
            return NL_ENOMEM;
        l->promote = p;
        l->cappromote = cap;
    }
    l->promote[l->npromote++] = fd;
    return NL_OK;
}

static void promote_queued(struct nl_loop *l)
{
    for (size_t i = 0; i < l->npromote; i++) {
        int fd = l->promote[i];
        if (fd < 0 || (size_t)fd >= l->slot_cap || l->slot[fd] < 0)
            continue; /* removed since */
        size_t s = (size_t)l->slot[fd];
        if (s >= l->nhot) {
            swap_slots(l, s, l->nhot);
            l->h[l->nhot++].last = l->now; /* a while before it may go cold again */
        }
    }
    l->npromote = 0;
}

/* Milliseconds between full sweeps while busy: more cold descriptors, rarer sweeps. */
static uint64_t sweep_interval(size_t ncold)
{
    return NL_MAX((uint64_t)2, NL_MIN((uint64_t)25, (uint64_t)ncold / 500));
}

/*
 * After a full sweep: descriptors quiet for two sweep intervals (at least 10 ms)
 * and not waiting to write go cold. Whatever is likely to have an event before
 * the next sweep stays hot; the hot part stays as small as the activity.
 */
static void demote_quiet(struct nl_loop *l)
{
    uint64_t quiet = NL_MAX((uint64_t)10, 2 * sweep_interval(l->n - l->nhot));
    for (size_t i = 0; i < l->nhot;) {
        struct handler *h = &l->h[i];
        if (h->fn && !h->pinned && !(l->pfd[i].events & POLLOUT) && l->now - h->last >= quiet)
            swap_slots(l, i, --l->nhot); /* look at i again: it holds another slot now */
        else
            i++;
    }
}

int nl_loop_backend_from_env(void)
{
    const char *v = getenv("NETLAB_LOOP");
    if (v && strcmp(v, "poll") == 0)
        return NL_LOOP_POLL;
    if (v && strcmp(v, "epoll") == 0)
        return NL_LOOP_EPOLL;
    return nl_epoll_available() ? NL_LOOP_EPOLL : NL_LOOP_POLL;
}

const char *nl_loop_backend_name(const struct nl_loop *l) { return l->backend == NL_LOOP_EPOLL ? "epoll" : "poll"; }

int nl_loop_create(struct nl_loop **out, char *errbuf) { return nl_loop_create_backend(out, NL_LOOP_DEFAULT, errbuf); }

int nl_loop_create_backend(struct nl_loop **out, int backend, char *errbuf)
{
    *out = NULL;
    if (backend == NL_LOOP_DEFAULT)
        backend = nl_loop_backend_from_env();
    if (backend != NL_LOOP_POLL && backend != NL_LOOP_EPOLL)
        return nl_err(errbuf, NL_EINVAL, "event loop: unknown backend %d", backend);
    struct nl_loop *l = calloc(1, sizeof *l);
    if (!l)
        return nl_err(errbuf, NL_ENOMEM, "event loop: out of memory");
    l->wake[0] = l->wake[1] = -1;
    l->next_id = 1;
    l->backend = backend;
    if (backend == NL_LOOP_EPOLL) {
        int rc = nl_epoll_open(&l->ep, errbuf);
        if (rc < 0) {
            free(l);
            return rc;
        }
    }
    if (pipe2(l->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        int e = errno;
        nl_epoll_close(l->ep);
        free(l);
        return nl_err_sys(errbuf, e, "event loop: pipe");
    }
    l->now = mono_ms();
    int rc = nl_loop_add(l, l->wake[0], POLLIN, drain_wake, NULL, errbuf);
    if (rc < 0) {
        nl_loop_destroy(l);
        return rc;
    }
    l->h[0].pinned = 1;
    promote_queued(l);
    *out = l;
    return NL_OK;
}

void nl_loop_destroy(struct nl_loop *l)
{
    if (!l)
        return;
    if (l->wake[0] >= 0)
        close(l->wake[0]);
    if (l->wake[1] >= 0)
        close(l->wake[1]);
    free(l->pfd);
    free(l->h);
    free(l->slot);
    free(l->timers);
    free(l->promote);
    nl_epoll_close(l->ep);
    free(l);
}

int nl_loop_add(struct nl_loop *l, int fd, int events, nl_loop_io_fn fn, void *ud, char *errbuf)
{
    if (fd < 0 || !fn)
        return nl_err(errbuf, NL_EINVAL, "event loop: bad descriptor %d", fd);
    if (grow_slots(l, fd) < 0)
        return nl_err(errbuf, NL_ENOMEM, "event loop: out of memory for descriptor %d", fd);
    if (l->slot[fd] >= 0)
        return nl_err(errbuf, NL_EEXIST, "event loop: descriptor %d is already watched", fd);
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct pollfd *p = realloc(l->pfd, cap * sizeof *p);
        if (!p)
            return nl_err(errbuf, NL_ENOMEM, "event loop: out of memory");
        l->pfd = p;
        struct handler *h = realloc(l->h, cap * sizeof *h);
        if (!h)
            return nl_err(errbuf, NL_ENOMEM, "event loop: out of memory");
        l->h = h;
        l->cap = cap;
    }
    uint32_t gen = ++l->gen;
    if (l->ep) {
        int rc = nl_epoll_add(l->ep, fd, events, gen, errbuf);
        if (rc < 0)
            return rc;
    }
    l->pfd[l->n] = (struct pollfd){.fd = fd, .events = (short)events, .revents = 0};
    l->h[l->n] = (struct handler){.fn = fn, .ud = ud, .last = l->now, .gen = gen};
    l->slot[fd] = (int)l->n;
    l->n++;
    if (l->ep) {
        l->nhot = l->n; /* no hot/cold split with epoll */
        return NL_OK;
    }
    return queue_promotion(l, fd); /* new descriptors start hot */
}

int nl_loop_modify(struct nl_loop *l, int fd, int events)
{
    if (fd < 0 || (size_t)fd >= l->slot_cap || l->slot[fd] < 0)
        return NL_ENOTFOUND;
    struct pollfd *p = &l->pfd[l->slot[fd]];
    int added = events & ~p->events;
    if (l->ep) {
        if (events == p->events)
            return NL_OK;
        int rc = nl_epoll_modify(l->ep, fd, events, l->h[l->slot[fd]].gen);
        if (rc < 0)
            return rc;
        p->events = (short)events;
        return NL_OK;
    }
    p->events = (short)events;
    /* Newly wanted events (output to send, reading resumed) are wanted now: make it hot. */
    if (added && (size_t)l->slot[fd] >= l->nhot)
        return queue_promotion(l, fd);
    return NL_OK;
}

void nl_loop_remove(struct nl_loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->slot_cap || l->slot[fd] < 0)
        return;
    int s = l->slot[fd];
    l->slot[fd] = -1;
    if (l->ep)
        nl_epoll_remove(l->ep, fd);
    /* Leave a hole that poll() ignores (negative fd); compact before the next poll(). */
    l->pfd[s].fd = -1;
    l->pfd[s].events = 0;
    l->pfd[s].revents = 0;
    l->h[s].fn = NULL;
    l->ndead++;
}

static void compact(struct nl_loop *l)
{
    size_t j = 0, hot = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (!l->h[i].fn)
            continue;
        if (i < l->nhot)
            hot++; /* order is kept, so the hot slots stay in front */
        if (i != j) {
            l->pfd[j] = l->pfd[i];
            l->h[j] = l->h[i];
            l->slot[l->pfd[j].fd] = (int)j;
        }
        j++;
    }
    l->n = j;
    l->nhot = l->ep ? j : hot;
    l->ndead = 0;
}


int64_t nl_loop_timer(struct nl_loop *l, uint32_t after_ms, uint32_t every_ms, nl_loop_fn fn, void *ud,
                      char *errbuf)
{
    if (!fn)
        return nl_err(errbuf, NL_EINVAL, "event loop: timer without a callback");
    if (l->ntimers == l->timers_cap) {
        size_t cap = l->timers_cap ? l->timers_cap * 2 : 8;
        struct timer *t = realloc(l->timers, cap * sizeof *t);
        if (!t)
            return nl_err(errbuf, NL_ENOMEM, "event loop: out of memory");
        l->timers = t;
        l->timers_cap = cap;
    }
    int64_t id = l->next_id++;
    l->timers[l->ntimers++] = (struct timer){
        .id = id, .when = mono_ms() + after_ms, .every = every_ms, .fn = fn, .ud = ud};
    return id;
}

void nl_loop_timer_cancel(struct nl_loop *l, int64_t id)
{
    for (size_t i = 0; i < l->ntimers; i++) {
        if (l->timers[i].id == id) {
            l->timers[i] = l->timers[--l->ntimers];
            return;
        }
    }
}

/* Run every timer that is due; a timer's callback may add or cancel timers. */
static void run_timers(struct nl_loop *l)
{
    for (int guard = 0; guard < 1024; guard++) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < l->ntimers; i++)
            if (l->timers[i].when <= l->now && (best == SIZE_MAX || l->timers[i].when < l->timers[best].when))
                best = i;
        if (best == SIZE_MAX)
            return;
        struct timer t = l->timers[best];
        if (t.every) {
            /* Next due time from now: a late loop does not call it in a burst. */
            l->timers[best].when = l->now + t.every;
        } else {
            l->timers[best] = l->timers[--l->ntimers];
        }
        t.fn(l, t.ud);
    }
}

static int poll_timeout(const struct nl_loop *l)
{
    uint64_t wait = UINT64_MAX;
    for (size_t i = 0; i < l->ntimers; i++) {
        uint64_t w = l->timers[i].when > l->now ? l->timers[i].when - l->now : 0;
        if (w < wait)
            wait = w;
    }
    if (l->flag && wait > 250)
        wait = 250;
    return wait == UINT64_MAX ? -1 : (int)NL_MIN(wait, (uint64_t)INT_MAX);
}

static int stopping(const struct nl_loop *l) { return l->stop || (l->flag && *l->flag); }

void nl_loop_set_hooks(struct nl_loop *l, nl_loop_fn before_poll, nl_loop_fn after_pass, void *ud)
{
    l->before = before_poll;
    l->after = after_pass;
    l->hook_ud = ud;
}

void nl_loop_watch_flag(struct nl_loop *l, volatile sig_atomic_t *flag) { l->flag = flag; }

void nl_loop_stop(struct nl_loop *l)
{
    int saved = errno;
    l->stop = 1;
    char b = 1;
    ssize_t r = write(l->wake[1], &b, 1); /* async-signal-safe; a full pipe already wakes poll() */
    (void)r;
    errno = saved;
}

/* One poll() pass over the hot part or everything. 1: done, 0: interrupted, <0: failed. */
static int pass_poll(struct nl_loop *l, char *errbuf)
{
    if (l->npromote)
        promote_queued(l);
    int timeout = poll_timeout(l);
    size_t ncold = l->n - l->nhot;
    uint64_t every = sweep_interval(ncold);
    int full = ncold < COLD_MIN || !l->busy || l->now - l->last_sweep >= every;
    size_t npoll = full ? l->n : l->nhot;
    if (!full) {
        uint64_t left = every - (l->now - l->last_sweep);
        if (timeout < 0 || (uint64_t)timeout > left)
            timeout = (int)left;
    }
    int ready = poll(l->pfd, (nfds_t)npoll, timeout);
    int err = errno;
    l->now = mono_ms();
    l->passes++;
    if (ready < 0) {
        if (err == EINTR)
            return 0;
        return nl_err_sys(errbuf, err, "event loop: poll over %zu descriptors", npoll);
    }
    l->busy = ready > 0;
    /* Callbacks may add slots (appended, not visited this pass) or remove any. */
    size_t nhot = l->nhot;
    for (size_t i = 0; i < npoll && ready > 0; i++) {
        int rev = l->pfd[i].revents;
        if (!rev)
            continue;
        ready--;
        l->pfd[i].revents = 0;
        if (!l->h[i].fn)
            continue;
        l->h[i].last = l->now;
        if (i >= nhot)
            queue_promotion(l, l->pfd[i].fd);
        l->h[i].fn(l, l->pfd[i].fd, rev, l->h[i].ud);
    }
    if (full) {
        l->last_sweep = l->now;
        l->sweeps++;
        demote_quiet(l);
    }
    return 1;
}

/* One epoll_wait() pass: only ready descriptors are visited. Same contract as pass_poll. */
static int pass_epoll(struct nl_loop *l, char *errbuf)
{
    int timeout = poll_timeout(l);
    int ready = nl_epoll_wait(l->ep, l->n, timeout, errbuf);
    l->now = mono_ms();
    l->passes++;
    if (ready < 0)
        return ready == NL_EINTR ? 0 : ready;
    l->busy = ready > 0;
    for (int i = 0; i < ready; i++) {
        int fd, rev;
        uint32_t gen;
        nl_epoll_event(l->ep, i, &fd, &gen, &rev);
        /* Removed during this pass, or removed and the number given to a new registration: skip. */
        if (fd < 0 || (size_t)fd >= l->slot_cap || l->slot[fd] < 0)
            continue;
        size_t s = (size_t)l->slot[fd];
        if (!l->h[s].fn || l->h[s].gen != gen)
            continue;
        l->h[s].last = l->now;
        l->h[s].fn(l, fd, rev, l->h[s].ud);
    }
    return 1;
}

int nl_loop_run(struct nl_loop *l, char *errbuf)
{
    while (!stopping(l)) {
        if (l->before)
            l->before(l, l->hook_ud);
        if (l->ndead)
            compact(l);
        int rc = l->ep ? pass_epoll(l, errbuf) : pass_poll(l, errbuf);
        if (rc < 0)
            return rc;
        if (rc == 0)
            continue;
        run_timers(l);
        if (l->after)
            l->after(l, l->hook_ud);
    }
    l->stop = 0; /* a later nl_loop_run starts afresh; a stop asked before it is not lost */
    return NL_OK;
}

uint64_t nl_loop_now(const struct nl_loop *l) { return l->now; }

size_t nl_loop_count(const struct nl_loop *l) { return l->n - l->ndead - 1; }

uint64_t nl_loop_passes(const struct nl_loop *l) { return l->passes; }

size_t nl_loop_hot(const struct nl_loop *l) { return l->nhot ? l->nhot - 1 : 0; }
