/*
 * nl_loop_epoll.h - the epoll backend of nl_loop (internal, not installed):
 * the kernel's interest list and a wait that returns only ready descriptors.
 * Events are poll() bits (POLLIN, POLLOUT, POLLERR, POLLHUP); each
 * registration carries a number so that a stale event can be told apart.
 */
#ifndef NL_LOOP_EPOLL_H
#define NL_LOOP_EPOLL_H

#include <stddef.h>
#include <stdint.h>

struct nl_epoll;

/** 1 if this system has epoll (Linux), else 0: the loop then uses poll(). */
int nl_epoll_available(void);
int nl_epoll_open(struct nl_epoll **out, char *errbuf);
void nl_epoll_close(struct nl_epoll *ep); /* NULL allowed */
int nl_epoll_add(struct nl_epoll *ep, int fd, int events, uint32_t gen, char *errbuf);
int nl_epoll_modify(struct nl_epoll *ep, int fd, int events, uint32_t gen);
void nl_epoll_remove(struct nl_epoll *ep, int fd);
/**
 * Wait up to timeout_ms (-1: forever) for events on up to watched
 * descriptors' worth of slots. Returns how many are ready, NL_EINTR when a
 * signal interrupted the wait, or NL_ESYS.
 */
int nl_epoll_wait(struct nl_epoll *ep, size_t watched, int timeout_ms, char *errbuf);
/** The i-th ready event of the last wait. */
void nl_epoll_event(const struct nl_epoll *ep, int i, int *fd, uint32_t *gen, int *revents);

#endif
