/*
 * nl_loop_epoll.c - nl_loop's epoll backend (Linux), as Redis's ae_epoll.c
 * beside ae_select.c: level-triggered, the same poll() event bits, one
 * registration number per descriptor in the event's data so nl_loop can
 * discard an event for a descriptor removed (and its number reused) earlier
 * in the same pass. Owns only the epoll descriptor and its event array;
 * knows nothing of callbacks or timers.
 */
#include "nl_loop_epoll.h"
#include "netlab/nl_error.h"
#include "nl_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/epoll.h>

#define EV_MIN 64
#define EV_MAX 4096 /* events taken per wait; the rest come in the next (level-triggered) */

struct nl_epoll {
    int fd;
    struct epoll_event *ev;
    int nev, capev;
};

int nl_epoll_available(void) { return 1; }

static uint32_t to_epoll(int events)
{
    return (uint32_t)(((events & POLLIN) ? EPOLLIN : 0) | ((events & POLLOUT) ? EPOLLOUT : 0));
}

int nl_epoll_open(struct nl_epoll **out, char *errbuf)
{
    *out = NULL;
    struct nl_epoll *ep = calloc(1, sizeof *ep);
    if (!ep)
        return nl_err(errbuf, NL_ENOMEM, "event loop: out of memory");
    ep->fd = epoll_create1(EPOLL_CLOEXEC);
    if (ep->fd < 0) {
        int e = errno;
        free(ep);
        return nl_err_sys(errbuf, e, "event loop: epoll_create1");
    }
    *out = ep;
    return NL_OK;
}

void nl_epoll_close(struct nl_epoll *ep)
{
    if (!ep)
        return;
    close(ep->fd);
    free(ep->ev);
    free(ep);
}

int nl_epoll_add(struct nl_epoll *ep, int fd, int events, uint32_t gen, char *errbuf)
{
    struct epoll_event e = {.events = to_epoll(events), .data.u64 = ((uint64_t)gen << 32) | (uint32_t)fd};
    if (epoll_ctl(ep->fd, EPOLL_CTL_ADD, fd, &e) != 0) {
        int err = errno;
        return nl_err_sys(errbuf, err, "event loop: epoll_ctl add descriptor %d", fd);
    }
    return NL_OK;
}

int nl_epoll_modify(struct nl_epoll *ep, int fd, int events, uint32_t gen)
{
    struct epoll_event e = {.events = to_epoll(events), .data.u64 = ((uint64_t)gen << 32) | (uint32_t)fd};
    return epoll_ctl(ep->fd, EPOLL_CTL_MOD, fd, &e) == 0 ? NL_OK : NL_ESYS;
}

void nl_epoll_remove(struct nl_epoll *ep, int fd)
{
    struct epoll_event e = {0}; /* non-NULL for kernels before 2.6.9 */
    epoll_ctl(ep->fd, EPOLL_CTL_DEL, fd, &e);
}

int nl_epoll_wait(struct nl_epoll *ep, size_t watched, int timeout_ms, char *errbuf)
{
    int want = (int)NL_MAX((size_t)EV_MIN, NL_MIN(watched, (size_t)EV_MAX));
    if (want > ep->capev) {
        struct epoll_event *ev = realloc(ep->ev, (size_t)want * sizeof *ev);
        if (ev) {
            ep->ev = ev;
            ep->capev = want;
        } else if (!ep->ev) {
            return nl_err(errbuf, NL_ENOMEM, "event loop: out of memory");
        }
    }
    int n = epoll_wait(ep->fd, ep->ev, ep->capev, timeout_ms);
    if (n < 0) {
        int e = errno;
        ep->nev = 0;
        if (e == EINTR)
            return NL_EINTR;
        return nl_err_sys(errbuf, e, "event loop: epoll_wait over %zu descriptors", watched);
    }
    ep->nev = n;
    return n;
}

void nl_epoll_event(const struct nl_epoll *ep, int i, int *fd, uint32_t *gen, int *revents)
{
    const struct epoll_event *e = &ep->ev[i];
    *fd = (int)(uint32_t)e->data.u64;
    *gen = (uint32_t)(e->data.u64 >> 32);
    uint32_t x = e->events;
    *revents = ((x & EPOLLIN) ? POLLIN : 0) | ((x & EPOLLOUT) ? POLLOUT : 0) | ((x & EPOLLERR) ? POLLERR : 0)
               | ((x & EPOLLHUP) ? POLLHUP : 0);
}

#else /* no epoll: the loop uses poll() */

int nl_epoll_available(void) { return 0; }
int nl_epoll_open(struct nl_epoll **out, char *errbuf)
{
    *out = NULL;
    return nl_err(errbuf, NL_EINVAL, "event loop: epoll is not available on this system");
}
void nl_epoll_close(struct nl_epoll *ep) { (void)ep; }
int nl_epoll_add(struct nl_epoll *ep, int fd, int events, uint32_t gen, char *errbuf) { return NL_EINVAL; }
int nl_epoll_modify(struct nl_epoll *ep, int fd, int events, uint32_t gen) { return NL_EINVAL; }
void nl_epoll_remove(struct nl_epoll *ep, int fd) {}
int nl_epoll_wait(struct nl_epoll *ep, size_t watched, int timeout_ms, char *errbuf) { return NL_EINVAL; }
void nl_epoll_event(const struct nl_epoll *ep, int i, int *fd, uint32_t *gen, int *revents) {}

#endif
