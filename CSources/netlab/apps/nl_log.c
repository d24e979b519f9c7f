/*
 * nl_log.c - the non-blocking server log: one bounded buffer in front of a
 * descriptor, whole lines dropped and counted when it is full, the count
 * reported once it drains. Owns only its buffer and its own open file
 * description; never blocks, never writes anywhere but its descriptor. Also
 * nl_log: one formatted line handed to a server's log function.
 */
#include "netlab/nl_log.h"
#include "netlab/nl_conn.h"
#include "nl_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct nl_logger {
    int fd;              /* what is written to */
    int own_fd;          /* fd is our own reopened description: closed by nl_logger_close */
    int restore_flags;   /* >= 0: the shared description's flags to put back at close */
    int sock;            /* a socket: send(MSG_DONTWAIT) */
    int stamp;
    char *buf;           /* held bytes: buf[0..len) */
    size_t len, cap;
    uint64_t dropped, unreported;
    struct nl_loop *loop;
    int watching;        /* fd is in loop, for POLLOUT */
};

int nl_logger_open(struct nl_logger **out, int fd, int stamp, size_t cap, char *errbuf)
{
    *out = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return nl_err_sys(errbuf, errno, "log: descriptor %d", fd);
    struct nl_logger *lg = calloc(1, sizeof *lg);
    if (!lg)
        return nl_err(errbuf, NL_ENOMEM, "log: out of memory");
    lg->cap = cap ? cap : NL_LOGGER_BUFFER;
    lg->buf = malloc(lg->cap);
    if (!lg->buf) {
        free(lg);
        return nl_err(errbuf, NL_ENOMEM, "log: out of memory");
    }
    lg->fd = fd;
    lg->stamp = stamp;
    lg->restore_flags = -1;
    if (S_ISSOCK(st.st_mode)) {
        lg->sock = 1;
    } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
        /* A description of our own: O_NONBLOCK on the shared one would reach the shell or the reader's side. */
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        int own = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (own >= 0) {
            lg->fd = own;
            lg->own_fd = 1;
        } else {
            int fl = fcntl(fd, F_GETFL);
            if (fl >= 0 && !(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0)
                lg->restore_flags = fl;
        }
    }
    *out = lg;
    return NL_OK;
}

static ssize_t put(struct nl_logger *lg, const char *p, size_t n)
{
    ssize_t w;
    do
        w = lg->sock ? send(lg->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) : write(lg->fd, p, n);
    while (w < 0 && errno == EINTR);
    return w;
}

static void watch(struct nl_logger *lg);

/* Write what is held; once all of it is out, say how many lines were dropped. Never blocks. */
static void drain(struct nl_logger *lg)
{
    for (int round = 0; round < 2; round++) {
        size_t off = 0;
        while (off < lg->len) {
            ssize_t w = put(lg, lg->buf + off, lg->len - off);
            if (w <= 0)
                break; /* full (EAGAIN) or gone (EPIPE): keep it for later or drop it at close */
            off += (size_t)w;
        }
        if (off) {
            memmove(lg->buf, lg->buf + off, lg->len - off);
            lg->len -= off;
        }
        if (lg->len || !lg->unreported)
            break;
        char line[128];
        int n = 0;
        if (lg->stamp) {
            time_t now = time(NULL);
            struct tm tm;
            localtime_r(&now, &tm);
            n = (int)strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S ", &tm);
        }
        n += snprintf(line + n, sizeof line - (size_t)n, "%llu log lines dropped (the log reader was too slow)\n",
                      (unsigned long long)lg->unreported);
        lg->unreported = 0;
        size_t take = NL_MIN((size_t)n, lg->cap);
        memcpy(lg->buf, line, take);
        lg->len = take;
    }
    watch(lg);
}

static void on_writable(struct nl_loop *loop, int fd, int revents, void *ud)
{
    struct nl_logger *lg = ud;
    drain(lg);
    if (lg->len && (revents & (POLLERR | POLLHUP)) && !(revents & POLLOUT)) {
        /* The reader is gone for good: what is held can never be written. */
        for (size_t i = 0; i < lg->len; i++)
            lg->dropped += lg->buf[i] == '\n';
        lg->len = 0;
        watch(lg);
    }
}

/* Ask the loop for POLLOUT exactly while bytes are held. */
static void watch(struct nl_logger *lg)
{
    if (!lg->loop)
        return;
    if (lg->len && !lg->watching) {
        if (nl_loop_add(lg->loop, lg->fd, POLLOUT, on_writable, lg, NULL) == NL_OK)
            lg->watching = 1;
    } else if (!lg->len && lg->watching) {
        nl_loop_remove(lg->loop, lg->fd);
        lg->watching = 0;
    }
}

void nl_logger_line(void *ud, const char *text)
{
    struct nl_logger *lg = ud;
    if (!lg)
        return;
    char line[1024];
    size_t n = 0;
    if (lg->stamp) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S ", &tm);
    }
    int w = snprintf(line + n, sizeof line - n, "%s", text);
    n += w < 0 ? 0 : NL_MIN((size_t)w, sizeof line - n - 2);
    line[n++] = '\n';
    if (lg->len)
        drain(lg); /* older lines first */
    if (lg->len == 0 && !lg->unreported) {
        ssize_t put_now = put(lg, line, n);
        size_t done = put_now > 0 ? (size_t)put_now : 0;
        if (done == n)
            return;
        /* The rest of a started line must follow it, so it is held even past the mark. */
        size_t rest = NL_MIN(n - done, lg->cap);
        memcpy(lg->buf, line + done, rest);
        lg->len = rest;
        watch(lg);
        return;
    }
    if (lg->cap - lg->len < n) {
        lg->dropped++;
        lg->unreported++;
        return;
    }
    memcpy(lg->buf + lg->len, line, n);
    lg->len += n;
    watch(lg);
}

int nl_logger_attach(struct nl_logger *lg, struct nl_loop *loop, char *errbuf)
{
    nl_logger_detach(lg);
    lg->loop = loop;
    watch(lg);
    return NL_OK;
}

void nl_logger_detach(struct nl_logger *lg)
{
    if (!lg || !lg->loop)
        return;
    if (lg->watching)
        nl_loop_remove(lg->loop, lg->fd);
    lg->watching = 0;
    lg->loop = NULL;
}

size_t nl_logger_pending(const struct nl_logger *lg) { return lg->len; }
uint64_t nl_logger_dropped(const struct nl_logger *lg) { return lg->dropped; }

void nl_logger_close(struct nl_logger *lg, uint32_t wait_ms)
{
    if (!lg)
        return;
    nl_logger_detach(lg);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    drain(lg);
    while (lg->len || lg->unreported) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        int64_t used = (int64_t)(t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (used >= (int64_t)wait_ms)
            break;
        struct pollfd p = {.fd = lg->fd, .events = POLLOUT};
        int r = poll(&p, 1, (int)((int64_t)wait_ms - used));
        if (r <= 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
            break;
        drain(lg);
    }
    if (lg->restore_flags >= 0)
        fcntl(lg->fd, F_SETFL, lg->restore_flags);
    if (lg->own_fd)
        close(lg->fd);
    free(lg->buf);
    free(lg);
}

void nl_log(nl_log_fn fn, void *ud, const char *fmt, ...)
{
    if (!fn)
        return;
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fn(ud, line);
}
