/*
 * nl_conn.c - accepting, reading, framing, writing and closing line-oriented
 * connections on an nl_loop. Owns every connection's descriptor and buffers
 * and the order of their lifecycle (open -> closing -> lingering -> freed);
 * the protocol sees only whole lines and decides nothing about sockets here.
 *
 * Fairness between a sender and its readers (with soft_output): output
 * queued while a connection's line is being handled is that connection's
 * doing. When it pushes another connection past the soft mark, the sender
 * is held (not read from) until that reader drains to half the mark, so a
 * flooder is slowed instead of its readers being dropped; a reader is
 * dropped only past the hard cap (max_output) or after staying over the
 * soft mark for soft_output_ms (Redis's hard and soft output limits).
 * SO_SNDBUF bounds what the kernel holds per connection beside the queue.
 */
#include "netlab/nl_conn.h"
#include "netlab/nl_signal.h"
#include "netlab/nl_buf.h"
#include "netlab/nl_line.h"
#include "nl_internal.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)       /* one recv() per readable connection per pass */
#define WRITE_QUANTUM (256 * 1024)   /* bytes written per connection per pass, at most */
#define ACCEPTS_PER_PASS 512         /* a flood of connects cannot starve established ones */
#define FD_RESERVE 16                /* descriptors kept back from max_conns (listeners, logs, capture) */

enum {
    F_READY = 1 << 0,    /* login timeout no longer applies */
    F_CLOSING = 1 << 1,  /* nl_conn_close called: queued, or closing() already run */
    F_CLOSED_CB = 1 << 2,/* closing() has run */
    F_LINGER = 1 << 3,   /* draining output (then input) before close */
    F_PAUSED = 1 << 4,   /* back-pressure: not reading */
    F_PENDING = 1 << 5,  /* in the flush list */
    F_DEAD = 1 << 6,     /* socket unusable: nothing more is written */
    F_MUTED = 1 << 7,    /* overflowed: writes dropped until closing() */
    F_REAPED = 1 << 8,   /* descriptor closed; struct freed before the next poll() */
    F_SHUT = 1 << 9,     /* lingering: our side is shut down, discarding input until EOF */
    F_EV_IN = 1 << 10,   /* POLLIN is being asked for */
    F_EV_OUT = 1 << 11,  /* POLLOUT is being asked for */
    F_HELD = 1 << 12     /* fairness: its lines pushed a reader past the soft mark; not reading */
};

struct nl_conn {
    struct nl_server *srv;
    int fd;
    uint32_t index;         /* in srv->conns */
    uint16_t flags;
    uint8_t reason;
    int err;
    struct nl_addr peer;
    struct nl_line in;
    struct nl_buf out;
    struct nl_conn *next_pending; /* flush list */
    struct nl_conn *next_close;   /* close queue, then the free list */
    uint64_t created, last_active, partial_since; /* ms; partial_since doubles as the linger deadline */
    uint64_t sent;          /* bytes written to the socket */
    uint64_t over_since;          /* ms its queue went over soft_output (0: since back to half of it) */
    struct nl_conn *held_by;      /* F_HELD: the reader it waits for (NULL: that reader is gone) */
    uint32_t held_index;          /* F_HELD: in srv->held */
    uint32_t nholding;            /* senders held waiting for this connection to read */
    uint8_t midline;              /* the last byte sent was not a newline: a line is half sent */
    void *data;
};

struct nl_server {
    struct nl_loop *loop;
    struct nl_server_config cfg;
    const struct nl_server_ops *ops;
    void *ud;
    struct nl_listeners lst;
    int reserve_fd;               /* /dev/null, given up to accept-and-refuse at EMFILE */
    uint32_t max_conns;
    struct nl_conn **conns;
    size_t nconns, capconns;
    struct nl_conn *pending;      /* connections with output queued this pass */
    struct nl_conn *closeq, *closeq_tail;
    struct nl_conn *freeq;
    uint8_t *scratch;
    struct nl_conn *source;       /* whose input is being handled: output queued now is its doing */
    struct nl_conn **held;        /* senders held for fairness (F_HELD) */
    size_t nheld, capheld;
    int64_t tick;
    int halted;                   /* nl_server_halt: nothing is ever sent again */
    size_t released;              /* buffer bytes freed since the last malloc_trim */
    struct nl_server_stats st;
};

const char *nl_close_reason_text(int reason)
{
    switch (reason) {
    case NL_CLOSE_EOF: return "peer closed the connection";
    case NL_CLOSE_RESET: return "connection lost";
    case NL_CLOSE_LOCAL: return "closed by the server";
    case NL_CLOSE_OVERFLOW: return "not reading: output limit passed";
    case NL_CLOSE_LOGIN_TIMEOUT: return "timed out before identifying itself";
    case NL_CLOSE_LINE_TIMEOUT: return "timed out in the middle of a line";
    case NL_CLOSE_IDLE_TIMEOUT: return "idle timeout";
    case NL_CLOSE_SHUTDOWN: return "server shutting down";
    case NL_CLOSE_SLOW_READER: return "not reading: over the soft output limit for too long";
    default: return "closed";
    }
}

void nl_server_config_init(struct nl_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_line = 4096;
    cfg->max_output = 1024 * 1024;
    cfg->close_grace_ms = 2000;
    cfg->sndbuf = NL_SNDBUF_DEFAULT;
    cfg->max_input = NL_SERVER_MAX_INPUT;
}

/* ---- the input budget ---- */

/* A connection's incomplete-line buffer went from before to after bytes allocated. */
static void input_changed(struct nl_server *s, size_t before, size_t after)
{
    s->st.input_held = s->st.input_held + after - before;
    if (before > after)
        s->released += before - after;
    if (s->st.input_held > s->st.input_peak)
        s->st.input_peak = s->st.input_held;
}

/*
 * Over budget: drop the largest incomplete lines until the total fits (Redis
 * evicts its biggest clients the same way). A scan per drop; each drop frees
 * at least the average, and nothing happens while under the budget.
 */
static void shed_input(struct nl_server *s)
{
    while (s->st.input_held > s->cfg.max_input) {
        struct nl_conn *big = NULL;
        for (size_t i = 0; i < s->nconns; i++) {
            struct nl_conn *c = s->conns[i];
            if (!(c->flags & F_REAPED) && (!big || c->in.part.cap > big->in.part.cap))
                big = c;
        }
        if (!big || big->in.part.cap == 0)
            return;
        size_t before = big->in.part.cap, held = big->in.part.len;
        nl_line_drop(&big->in);
        input_changed(s, before, big->in.part.cap);
        s->st.shed++;
        if (s->ops->shed && !(big->flags & F_CLOSING))
            s->ops->shed(big, held, s->ud);
    }
}

/* ---- events ---- */

static void on_conn_io(struct nl_loop *loop, int fd, int revents, void *ud);

/* Ask poll() for what the connection needs now: input unless closing or paused, output while queued. */
static void update_events(struct nl_conn *c)
{
    if (c->flags & F_REAPED)
        return;
    int want_in = !(c->flags & (F_CLOSING | F_PAUSED | F_HELD)) || (c->flags & F_SHUT);
    int want_out = c->out.len > 0 && !(c->flags & F_DEAD);
    uint16_t now = (uint16_t)((want_in ? F_EV_IN : 0) | (want_out ? F_EV_OUT : 0));
    if ((c->flags & (F_EV_IN | F_EV_OUT)) == now)
        return;
    c->flags = (uint16_t)((c->flags & ~(F_EV_IN | F_EV_OUT)) | now);
    nl_loop_modify(c->srv->loop, c->fd, (want_in ? POLLIN : 0) | (want_out ? POLLOUT : 0));
}

static void push_pending(struct nl_conn *c)
{
    if (c->flags & F_PENDING)
        return;
    c->flags |= F_PENDING;
    c->next_pending = c->srv->pending;
    c->srv->pending = c;
}

/* ---- fairness: holding a sender for its readers ---- */

static void hold(struct nl_conn *sender, struct nl_conn *reader)
{
    struct nl_server *s = sender->srv;
    if (s->nheld == s->capheld) {
        size_t cap = s->capheld ? s->capheld * 2 : 16;
        struct nl_conn **h = realloc(s->held, cap * sizeof *h);
        if (!h)
            return; /* not held: the hard cap still protects the reader */
        s->held = h;
        s->capheld = cap;
    }
    sender->flags |= F_HELD;
    sender->held_by = reader;
    sender->held_index = (uint32_t)s->nheld;
    s->held[s->nheld++] = sender;
    reader->nholding++;
    s->st.held++;
    update_events(sender);
}

static void release(struct nl_conn *sender)
{
    struct nl_server *s = sender->srv;
    if (!(sender->flags & F_HELD))
        return;
    sender->flags &= (uint16_t)~F_HELD;
    if (sender->held_by)
        sender->held_by->nholding--;
    sender->held_by = NULL;
    s->held[sender->held_index] = s->held[--s->nheld];
    s->held[sender->held_index]->held_index = sender->held_index;
    update_events(sender);
}

/* Before each wait: let go of senders whose reader drained to half the soft mark, closed or went away. */
static void release_drained(struct nl_server *s)
{
    size_t low = s->cfg.soft_output / 2;
    for (size_t i = s->nheld; i-- > 0;) {
        struct nl_conn *c = s->held[i];
        struct nl_conn *r = c->held_by;
        if (!r || (r->flags & (F_CLOSING | F_REAPED)) || r->out.len <= low)
            release(c);
    }
}

/* A connection about to be freed: nothing may point at it any more. */
static void forget_holds(struct nl_conn *c)
{
    release(c);
    if (!c->nholding)
        return;
    for (size_t i = 0; i < c->srv->nheld; i++)
        if (c->srv->held[i]->held_by == c)
            c->srv->held[i]->held_by = NULL;
    c->nholding = 0;
}

/* ---- lifecycle ---- */

/* Close the descriptor and unlink; the struct is freed before the next poll(). */
static void finish(struct nl_conn *c)
{
    struct nl_server *s = c->srv;
    if (c->flags & F_REAPED)
        return;
    forget_holds(c);
    if (s->source == c)
        s->source = NULL;
    c->flags |= F_REAPED;
    nl_loop_remove(s->loop, c->fd);
    close(c->fd);
    c->fd = -1;
    input_changed(s, c->in.part.cap, 0);
    s->released += c->out.cap;
    nl_line_free(&c->in);
    nl_buf_clear(&c->out);
    s->conns[c->index] = s->conns[--s->nconns];
    s->conns[c->index]->index = c->index;
    s->st.closed++;
    c->next_close = s->freeq;
    s->freeq = c;
}

void nl_conn_close(struct nl_conn *c, int reason)
{
    if (c->flags & (F_CLOSING | F_REAPED))
        return;
    c->flags |= F_CLOSING;
    c->reason = (uint8_t)reason;
    struct nl_server *s = c->srv;
    c->next_close = NULL;
    if (s->closeq_tail)
        s->closeq_tail->next_close = c;
    else
        s->closeq = c;
    s->closeq_tail = c;
    update_events(c);
}

static void mark_dead(struct nl_conn *c, int err)
{
    c->flags |= F_DEAD;
    if (!c->err)
        c->err = err;
    nl_buf_clear(&c->out);
}

/* After closing(): linger while output remains and the socket works, else close now. */
static void after_closing(struct nl_conn *c)
{
    if ((c->flags & F_DEAD) || c->out.len == 0) {
        finish(c);
        return;
    }
    c->flags |= F_LINGER;
    c->partial_since = nl_loop_now(c->srv->loop) + c->srv->cfg.close_grace_ms;
    push_pending(c);
    update_events(c);
}

/* Output drained while lingering: send FIN and discard input until the peer's FIN. */
static void linger_drained(struct nl_conn *c)
{
    if (c->flags & F_SHUT)
        return;
    c->flags |= F_SHUT;
    if (shutdown(c->fd, SHUT_WR) != 0) {
        finish(c);
        return;
    }
    update_events(c);
}

/* Run closing() for everything queued; closing() may close further connections. */
static void process_close_queue(struct nl_server *s)
{
    while (s->closeq) {
        struct nl_conn *c = s->closeq;
        s->closeq = c->next_close;
        if (!s->closeq)
            s->closeq_tail = NULL;
        c->next_close = NULL;
        c->flags &= (uint16_t)~F_MUTED; /* the protocol may explain itself in a last line */
        if (s->ops->closing)
            s->ops->closing(c, c->reason, s->ud);
        c->flags |= F_CLOSED_CB;
        after_closing(c);
    }
}

/* Free finished connections that no list refers to any more. */
static void free_reaped(struct nl_server *s)
{
    struct nl_conn **pp = &s->freeq;
    while (*pp) {
        struct nl_conn *c = *pp;
        if (c->flags & F_PENDING) {
            pp = &c->next_close; /* still in the flush list: next time */
            continue;
        }
        *pp = c->next_close;
        free(c);
    }
}

/* ---- output ---- */

int nl_conn_write(struct nl_conn *c, const void *p, size_t n)
{
    uint8_t *dst = nl_conn_reserve(c, n);
    if (!dst)
        return NL_ELIMIT;
    memcpy(dst, p, n);
    nl_conn_commit(c, n);
    return NL_OK;
}

/*
 * Drop what waits for a connection being dropped, but finish a line already
 * half sent: the explanation the protocol writes next starts on its own line.
 */
static void drop_queued(struct nl_conn *c)
{
    if (c->midline && c->out.len) {
        uint8_t *h = nl_buf_head(&c->out);
        uint8_t *nl = memchr(h, '\n', c->out.len);
        if (nl) {
            c->out.len = (size_t)(nl - h) + 1;
            return;
        }
    }
    nl_buf_clear(&c->out);
}

static void overflow(struct nl_conn *c)
{
    struct nl_server *s = c->srv;
    s->st.overflows++;
    drop_queued(c);
    if (c->flags & F_CLOSED_CB) {
        /* Already past closing(): nothing more to say; close now. */
        mark_dead(c, 0);
        return;
    }
    c->flags |= F_MUTED;
    nl_conn_close(c, NL_CLOSE_OVERFLOW);
}

uint8_t *nl_conn_reserve(struct nl_conn *c, size_t n)
{
    if ((c->flags & (F_REAPED | F_DEAD | F_MUTED)) || c->srv->halted)
        return NULL;
    uint8_t *dst = nl_buf_reserve(&c->out, n);
    if (!dst) {
        overflow(c);
        return NULL;
    }
    return dst;
}

void nl_conn_commit(struct nl_conn *c, size_t n)
{
    nl_buf_commit(&c->out, n);
    push_pending(c);
    struct nl_server *s = c->srv;
    if (s->cfg.soft_output && c->out.len > s->cfg.soft_output) {
        if (!c->over_since)
            c->over_since = NL_MAX(nl_loop_now(s->loop), (uint64_t)1);
        /* The connection whose line queued this is slowed down, not the reader. */
        struct nl_conn *src = s->source;
        if (src && src != c && !(src->flags & (F_HELD | F_CLOSING | F_REAPED)))
            hold(src, c);
    }
    if (s->cfg.pause_output && c->out.len > s->cfg.pause_output && !(c->flags & F_PAUSED)) {
        c->flags |= F_PAUSED;
        update_events(c);
    }
}

/* Write up to a quantum. Returns 0, or -1 if the connection was finished. */
static int flush_conn(struct nl_conn *c)
{
    struct nl_server *s = c->srv;
    size_t done = 0;
    if (s->halted)
        nl_buf_clear(&c->out);
    while (c->out.len > 0 && done < WRITE_QUANTUM && !(c->flags & F_DEAD)) {
        size_t want = NL_MIN(c->out.len, WRITE_QUANTUM - done);
        ssize_t w = send(c->fd, nl_buf_head(&c->out), want, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            c->midline = nl_buf_head(&c->out)[w - 1] != '\n';
            nl_buf_consume(&c->out, (size_t)w);
            done += (size_t)w;
            c->sent += (uint64_t)w;
            s->st.bytes_out += (uint64_t)w;
            c->last_active = nl_loop_now(s->loop);
            if ((size_t)w < want)
                break; /* the socket buffer is full */
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            mark_dead(c, w < 0 ? errno : EPIPE);
        }
    }
    if (c->flags & F_DEAD) {
        if (c->flags & F_CLOSED_CB) {
            finish(c);
            return -1;
        }
        nl_conn_close(c, NL_CLOSE_RESET);
        return 0;
    }
    if ((c->flags & F_PAUSED) && c->out.len <= s->cfg.pause_output / 2)
        c->flags &= (uint16_t)~F_PAUSED;
    if (c->over_since && c->out.len <= s->cfg.soft_output / 2)
        c->over_since = 0; /* the mark at which senders held for it are let go */
    if ((c->flags & F_LINGER) && c->out.len == 0)
        linger_drained(c);
    if (!(c->flags & F_REAPED))
        update_events(c);
    return (c->flags & F_REAPED) ? -1 : 0;
}

/* ---- input ---- */

static int on_line(void *ud, uint8_t *line, size_t len, int status)
{
    struct nl_conn *c = ud;
    struct nl_server *s = c->srv;
    if (c->flags & F_CLOSING)
        return 1; /* the protocol closed it: ignore what follows */
    if (status == NL_LINE_TOOLONG) {
        s->st.too_long++;
        if (s->ops->too_long)
            s->ops->too_long(c, len, s->ud);
    } else {
        s->st.lines++;
        if (s->ops->line)
            s->ops->line(c, line, len, s->ud);
    }
    return (c->flags & F_CLOSING) ? 1 : 0;
}

static void read_conn(struct nl_conn *c)
{
    struct nl_server *s = c->srv;
    ssize_t r;
    do
        r = recv(c->fd, s->scratch, READ_CHUNK, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        int e = errno;
        if (c->flags & F_SHUT) {
            finish(c);
            return;
        }
        mark_dead(c, e);
        nl_conn_close(c, NL_CLOSE_RESET);
        return;
    }
    if (c->flags & F_SHUT) {
        /* Lingering: input is discarded; the peer's FIN ends it. */
        if (r == 0)
            finish(c);
        return;
    }
    uint64_t now = nl_loop_now(s->loop);
    size_t held_before = c->in.part.cap;
    if (r == 0) {
        /* An unterminated last line: delivered only if the protocol asked (a killed client's FIN looks the same). */
        if (s->cfg.eof_line) {
            s->source = c;
            int rc = nl_line_finish(&c->in, on_line, c);
            s->source = NULL;
            (void)rc;
        }
        nl_line_free(&c->in);
        input_changed(s, held_before, 0);
        nl_conn_close(c, NL_CLOSE_EOF);
        return;
    }
    s->st.bytes_in += (uint64_t)r;
    c->last_active = now;
    s->source = c;
    int rc = nl_line_feed(&c->in, s->scratch, (size_t)r, on_line, c);
    s->source = NULL;
    input_changed(s, held_before, c->in.part.cap);
    if (s->st.input_held > s->cfg.max_input)
        shed_input(s);
    if (rc == NL_ENOMEM) {
        mark_dead(c, ENOMEM);
        nl_conn_close(c, NL_CLOSE_RESET);
        return;
    }
    if (nl_line_pending(&c->in)) {
        if (!c->partial_since)
            c->partial_since = now;
    } else {
        c->partial_since = 0;
    }
}

static void on_conn_io(struct nl_loop *loop, int fd, int revents, void *ud)
{
    struct nl_conn *c = ud;
    if (c->flags & F_REAPED)
        return;
    if (revents & POLLOUT) {
        if (flush_conn(c) < 0)
            return;
    }
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
        if ((c->flags & F_CLOSING) && !(c->flags & F_SHUT)) {
            /* Not reading any more; a hang-up or error while lingering ends it. */
            if (revents & (POLLHUP | POLLERR)) {
                if (c->flags & F_CLOSED_CB)
                    finish(c);
                else
                    mark_dead(c, ECONNRESET);
            }
            return;
        }
        read_conn(c);
    }
}

/* ---- accepting ---- */

static void refuse(struct nl_server *s, int fd, const struct nl_addr *peer, const char *why)
{
    s->st.refused++;
    if (s->cfg.full_line && !s->halted) {
        ssize_t w = send(fd, s->cfg.full_line, strlen(s->cfg.full_line), MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
    }
    /* Take what the peer already sent, so the close is a FIN and the line above arrives. */
    while (recv(fd, s->scratch, READ_CHUNK, MSG_DONTWAIT) > 0) {
    }
    shutdown(fd, SHUT_WR);
    close(fd);
    if (s->ops->refused)
        s->ops->refused(peer, why, s->ud);
}

static int add_conn(struct nl_server *s, int fd, const struct nl_addr *peer)
{
    if (s->nconns == s->capconns) {
        size_t cap = s->capconns ? s->capconns * 2 : 256;
        struct nl_conn **a = realloc(s->conns, cap * sizeof *a);
        if (!a)
            return NL_ENOMEM;
        s->conns = a;
        s->capconns = cap;
    }
    struct nl_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NL_ENOMEM;
    c->srv = s;
    c->fd = fd;
    c->peer = *peer;
    nl_line_init(&c->in, s->cfg.max_line);
    nl_buf_init(&c->out, s->cfg.max_output);
    c->created = c->last_active = nl_loop_now(s->loop);
    if (nl_loop_add(s->loop, fd, POLLIN, on_conn_io, c, NULL) < 0) {
        free(c);
        return NL_ENOMEM;
    }
    c->flags = F_EV_IN;
    c->index = (uint32_t)s->nconns;
    s->conns[s->nconns++] = c;
    s->st.accepted++;
    if (s->ops->open)
        s->ops->open(c, s->ud);
    return NL_OK;
}

static void on_listener(struct nl_loop *loop, int lfd, int revents, void *ud)
{
    struct nl_server *s = ud;
    for (int i = 0; i < ACCEPTS_PER_PASS; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if ((errno == EMFILE || errno == ENFILE) && s->reserve_fd >= 0) {
                /* Out of descriptors: free the reserve to accept and refuse, so the peer is told. */
                close(s->reserve_fd);
                s->reserve_fd = -1;
                sl = sizeof ss;
                fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd >= 0) {
                    struct nl_addr peer;
                    nl_addr_from_sockaddr(&peer, (struct sockaddr *)&ss);
                    refuse(s, fd, &peer, "no file descriptors left");
                }
                s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd >= 0)
                    continue;
            }
            return; /* EAGAIN, or an error that the next readiness will retry */
        }
        struct nl_addr peer;
        nl_addr_from_sockaddr(&peer, (struct sockaddr *)&ss);
        if (s->nconns >= s->max_conns) {
            refuse(s, fd, &peer, "server full");
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (s->cfg.sndbuf > 0) {
            /* A fixed send buffer (no autotuning to tcp_wmem's 4 MB): the kernel's share stays bounded. */
            int sb = (int)NL_MIN(s->cfg.sndbuf, (size_t)INT32_MAX / 2);
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);
        }
        if (add_conn(s, fd, &peer) < 0)
            refuse(s, fd, &peer, "out of memory");
    }
}

/* ---- per pass ---- */

static void before_poll(struct nl_loop *loop, void *ud)
{
    struct nl_server *s = ud;
    if (s->ops->before_flush)
        s->ops->before_flush(s->ud);
    /* Writing may close connections, whose closing() may queue output: repeat until quiet. */
    for (int round = 0; round < 4 && (s->pending || s->closeq); round++) {
        while (s->pending) {
            struct nl_conn *c = s->pending;
            s->pending = c->next_pending;
            c->flags &= (uint16_t)~F_PENDING;
            if (!(c->flags & F_REAPED))
                flush_conn(c);
        }
        process_close_queue(s);
    }
    /* Whatever is still queued goes out when poll() says the socket can take it. */
    for (struct nl_conn *c = s->pending; c; c = c->next_pending)
        update_events(c);
    if (s->nheld)
        release_drained(s);
    free_reaped(s);
}

static void after_pass(struct nl_loop *loop, void *ud)
{
    process_close_queue(ud);
}

static void on_tick(struct nl_loop *loop, void *ud)
{
    struct nl_server *s = ud;
    uint64_t now = nl_loop_now(loop);
    const struct nl_server_config *cfg = &s->cfg;
#ifdef __GLIBC__
    /* Freed line buffers sit in malloc's heap: hand the pages back once a megabyte or more was freed. */
    if (s->released >= ((size_t)1 << 20)) {
        malloc_trim(0);
        s->released = 0;
    }
#endif
    /* Backwards: finish() moves the last connection into the freed index. */
    for (size_t i = s->nconns; i-- > 0;) {
        struct nl_conn *c = s->conns[i];
        if (c->flags & F_LINGER) {
            if (now >= c->partial_since)
                finish(c);
            continue;
        }
        if (c->flags & F_CLOSING)
            continue;
        int reason = 0;
        if (cfg->login_timeout_ms && !(c->flags & F_READY) && now - c->created >= cfg->login_timeout_ms)
            reason = NL_CLOSE_LOGIN_TIMEOUT;
        else if (cfg->line_timeout_ms && c->partial_since && !(c->flags & (F_PAUSED | F_HELD))
                 && now - c->partial_since >= cfg->line_timeout_ms)
            reason = NL_CLOSE_LINE_TIMEOUT;
        else if (cfg->idle_timeout_ms && now - c->last_active >= cfg->idle_timeout_ms)
            reason = NL_CLOSE_IDLE_TIMEOUT;
        if (reason) {
            s->st.timeouts++;
            nl_conn_close(c, reason);
        } else if (cfg->soft_output_ms && c->over_since && now - c->over_since >= cfg->soft_output_ms) {
            /* Over the soft mark all this time: not reading. What waited for it is dropped. */
            s->st.overflows++;
            drop_queued(c);
            c->over_since = 0;
            c->flags |= F_MUTED;
            nl_conn_close(c, NL_CLOSE_SLOW_READER);
        }
    }
}

/* ---- server ---- */

int nl_server_open(struct nl_server **out, struct nl_loop *loop, const struct nl_server_config *cfg,
                   const struct nl_server_ops *ops, void *ud, char *errbuf)
{
    *out = NULL;
    static const struct nl_server_ops none;
    struct nl_server *s = calloc(1, sizeof *s);
    if (!s)
        return nl_err(errbuf, NL_ENOMEM, "server: out of memory");
    s->loop = loop;
    s->cfg = *cfg;
    s->ops = ops ? ops : &none;
    s->ud = ud;
    s->reserve_fd = -1;
    s->tick = -1;
    if (!s->cfg.max_line)
        s->cfg.max_line = 4096;
    if (!s->cfg.max_output)
        s->cfg.max_output = 1024 * 1024;
    if (!s->cfg.max_input)
        s->cfg.max_input = NL_SERVER_MAX_INPUT;
    if (s->cfg.pause_output >= s->cfg.max_output)
        s->cfg.pause_output = s->cfg.max_output / 2;
    if (s->cfg.soft_output >= s->cfg.max_output)
        s->cfg.soft_output = s->cfg.max_output / 2;
    s->scratch = malloc(READ_CHUNK);
    if (!s->scratch) {
        free(s);
        return nl_err(errbuf, NL_ENOMEM, "server: out of memory");
    }
    uint64_t soft = 0;
    int rc = nl_sock_raise_nofile(&soft, NULL, errbuf);
    if (rc < 0)
        goto fail;
    uint64_t room = soft > FD_RESERVE + 16 ? soft - FD_RESERVE : 16;
    s->max_conns = (uint32_t)NL_MIN(room, (uint64_t)UINT32_MAX);
    if (cfg->max_conns && cfg->max_conns < s->max_conns)
        s->max_conns = cfg->max_conns;
    rc = nl_sock_listen(&s->lst, cfg->host, cfg->port, cfg->backlog, errbuf);
    if (rc < 0)
        goto fail;
    for (size_t i = 0; i < s->lst.n; i++) {
        rc = nl_loop_add(loop, s->lst.fd[i], POLLIN, on_listener, s, errbuf);
        if (rc < 0)
            goto fail;
    }
    s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    uint32_t tmin = 0;
    const uint32_t t[] = {cfg->login_timeout_ms, cfg->line_timeout_ms, cfg->idle_timeout_ms,
                          s->cfg.close_grace_ms, s->cfg.soft_output ? cfg->soft_output_ms : 0};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i] && (!tmin || t[i] < tmin))
            tmin = t[i];
    /* Timeouts are checked a few times per shortest timeout, at most once a second. */
    uint32_t every = tmin ? NL_MAX(20u, NL_MIN(1000u, tmin / 4)) : 1000u;
    s->tick = nl_loop_timer(loop, every, every, on_tick, s, errbuf);
    if (s->tick < 0) {
        rc = (int)s->tick;
        goto fail;
    }
    nl_loop_set_hooks(loop, before_poll, after_pass, s);
    *out = s;
    return NL_OK;
fail:
    for (size_t i = 0; i < s->lst.n; i++)
        nl_loop_remove(loop, s->lst.fd[i]);
    nl_sock_close_listeners(&s->lst);
    if (s->tick > 0)
        nl_loop_timer_cancel(loop, s->tick);
    if (s->reserve_fd >= 0)
        close(s->reserve_fd);
    free(s->scratch);
    free(s);
    return rc;
}

void nl_server_close(struct nl_server *s)
{
    if (!s)
        return;
    process_close_queue(s);
    for (size_t i = s->nconns; i-- > 0;) {
        struct nl_conn *c = s->conns[i];
        if (!(c->flags & F_CLOSING)) {
            c->flags |= F_CLOSING;
            c->reason = NL_CLOSE_SHUTDOWN;
            if (s->ops->closing)
                s->ops->closing(c, NL_CLOSE_SHUTDOWN, s->ud);
            c->flags |= F_CLOSED_CB;
        }
    }
    process_close_queue(s); /* anything the callbacks above closed */
    while (s->nconns) {
        struct nl_conn *c = s->conns[s->nconns - 1];
        if (!(c->flags & F_DEAD) && c->out.len && !s->halted) {
            ssize_t w = send(c->fd, nl_buf_head(&c->out), c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)w;
        }
        finish(c);
    }
    s->pending = NULL;
    free_reaped(s);
    for (size_t i = 0; i < s->lst.n; i++)
        nl_loop_remove(s->loop, s->lst.fd[i]);
    nl_sock_close_listeners(&s->lst);
    if (s->tick > 0)
        nl_loop_timer_cancel(s->loop, s->tick);
    nl_loop_set_hooks(s->loop, NULL, NULL, NULL);
    if (s->reserve_fd >= 0)
        close(s->reserve_fd);
    free(s->conns);
    free(s->held);
    free(s->scratch);
    free(s);
}

const struct nl_listeners *nl_server_listeners(const struct nl_server *s) { return &s->lst; }

char *nl_server_listen_text(const struct nl_server *s, char *out, size_t cap)
{
    size_t o = 0;
    if (cap)
        out[0] = 0;
    for (size_t i = 0; i < s->lst.n && o < cap; i++) {
        char a[NL_ADDR_STRLEN];
        int w = snprintf(out + o, cap - o, "%s%s", i ? " " : "", nl_addr_format(&s->lst.addr[i], a, sizeof a));
        if (w < 0)
            break;
        o += (size_t)w;
    }
    return out;
}

int nl_service_open(struct nl_service *svc, int handle_signals, const struct nl_server_config *cfg,
                    const struct nl_server_ops *ops, void *ud, char *errbuf)
{
    memset(svc, 0, sizeof *svc);
    int rc = NL_OK;
    if (handle_signals && (rc = nl_signals_install(errbuf)) < 0)
        return rc;
    if ((rc = nl_loop_create(&svc->loop, errbuf)) < 0)
        return rc;
    if (handle_signals)
        nl_loop_watch_flag(svc->loop, nl_stop_flag());
    if ((rc = nl_server_open(&svc->srv, svc->loop, cfg, ops, ud, errbuf)) < 0) {
        nl_loop_destroy(svc->loop);
        svc->loop = NULL;
        return rc;
    }
    return NL_OK;
}

int nl_service_serve(struct nl_service *svc, char *errbuf)
{
    int rc = nl_loop_run(svc->loop, errbuf);
    if (rc < 0)
        return rc;
    if (svc->fatal)
        return nl_err(errbuf, svc->fatal, "%s", svc->fatal_err);
    return NL_OK;
}

void nl_service_fail(struct nl_service *svc, int code, const char *text)
{
    if (svc->fatal)
        return;
    svc->fatal = code;
    snprintf(svc->fatal_err, sizeof svc->fatal_err, "%s", text);
    nl_loop_stop(svc->loop);
}

void nl_service_close(struct nl_service *svc, struct nl_server_stats *st)
{
    if (svc->srv) {
        if (st)
            nl_server_get_stats(svc->srv, st);
        nl_server_close(svc->srv);
    } else if (st) {
        memset(st, 0, sizeof *st);
    }
    nl_loop_destroy(svc->loop);
    svc->srv = NULL;
    svc->loop = NULL;
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
void nl_server_halt(struct nl_server *s, nl_conn_dropped_fn dropped, void *ud)
{
    s->halted = 1;
    for (size_t i = 0; i < s->nconns; i++) {
        struct nl_conn *c = s->conns[i];
        if (c->out.len && dropped)
            dropped(c, nl_buf_head(&c->out), c->out.len, ud);
        nl_buf_clear(&c->out);
    }
    nl_loop_stop(s->loop);
}

uint32_t nl_server_max_conns(const struct nl_server *s) { return s->max_conns; }
size_t nl_server_count(const struct nl_server *s) { return s->nconns; }
void nl_server_get_stats(const struct nl_server *s, struct nl_server_stats *st) { *st = s->st; }
struct nl_loop *nl_server_loop(const struct nl_server *s) { return s->loop; }

void nl_conn_set_ready(struct nl_conn *c) { c->flags |= F_READY; }
void nl_conn_set_data(struct nl_conn *c, void *data) { c->data = data; }
void *nl_conn_data(const struct nl_conn *c) { return c->data; }
const struct nl_addr *nl_conn_peer(const struct nl_conn *c) { return &c->peer; }
const char *nl_conn_peer_text(const struct nl_conn *c, char *buf) { return nl_addr_format(&c->peer, buf, NL_ADDR_STRLEN); }
int nl_conn_is_closing(const struct nl_conn *c) { return (c->flags & (F_CLOSING | F_REAPED)) != 0; }
int nl_conn_errno(const struct nl_conn *c) { return c->err; }
size_t nl_conn_queued(const struct nl_conn *c) { return c->out.len; }
uint64_t nl_conn_sent(const struct nl_conn *c) { return c->sent; }
struct nl_server *nl_conn_server(const struct nl_conn *c) { return c->srv; }
