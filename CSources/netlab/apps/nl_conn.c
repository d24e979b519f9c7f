/*
 * nl_conn.c - reading, framing, writing and closing line-oriented
 * connections on an nl_loop (accepting them, and the server around them: nl_server.c).
 * Owns every connection's descriptor and buffers
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
 *
 * Also where a connection waits for its timeouts (its slot in the server's
 * wheel, turned by nl_server.c's tick) and whether its peer's host is still
 * there (nl_conn_probe: the socket's acknowledgements watched).
 */
#include "nl_conn_int.h"
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
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <unistd.h>

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
    case NL_CLOSE_VANISHED: return "its host vanished: a probe was not acknowledged";
    default: return "closed";
    }
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


/* Ask poll() for what the connection needs now: input unless closing or paused, output while queued. */
void nl_conn_update_events(struct nl_conn *c)
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
    nl_conn_update_events(sender);
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
    nl_conn_update_events(sender);
    if (sender->partial_since && s->cfg.line_timeout_ms)
        nl_conn_schedule(sender); /* its half line's timeout applies again */
}

/* Before each wait: let go of senders whose reader drained to half the soft mark, closed or went away. */
void nl_conn_release_drained(struct nl_server *s)
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

static void forget_probes(struct nl_conn *c);

/* ---- lifecycle ---- */

/* Close the descriptor and unlink; the struct is freed before the next poll(). */
void nl_conn_finish(struct nl_conn *c)
{
    struct nl_server *s = c->srv;
    if (c->flags & F_REAPED)
        return;
    forget_holds(c);
    if (s->source == c)
        s->source = NULL;
    c->flags |= F_REAPED;
    nl_wheel_cancel(&s->wheel, &c->due);
    if (s->nprobes)
        forget_probes(c);
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
    nl_conn_update_events(c);
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
        nl_conn_finish(c);
        return;
    }
    c->flags |= F_LINGER;
    c->partial_since = nl_loop_now(c->srv->loop) + c->srv->cfg.close_grace_ms;
    nl_conn_schedule(c);
    push_pending(c);
    nl_conn_update_events(c);
}

/* Output drained while lingering: send FIN and discard input until the peer's FIN. */
static void linger_drained(struct nl_conn *c)
{
    if (c->flags & F_SHUT)
        return;
    c->flags |= F_SHUT;
    if (shutdown(c->fd, SHUT_WR) != 0) {
        nl_conn_finish(c);
        return;
    }
    nl_conn_update_events(c);
}

/* Run closing() for everything queued; closing() may close further connections. */
void nl_conn_process_close_queue(struct nl_server *s)
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
void nl_conn_free_reaped(struct nl_server *s)
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
void nl_conn_drop_queued(struct nl_conn *c)
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
    nl_conn_drop_queued(c);
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
        if (!c->over_since) {
            c->over_since = NL_MAX(nl_loop_now(s->loop), (uint64_t)1);
            if (s->cfg.soft_output_ms)
                nl_conn_schedule_soon(c, c->over_since + s->cfg.soft_output_ms);
        }
        /* The connection whose line queued this is slowed down, not the reader. */
        struct nl_conn *src = s->source;
        if (src && src != c && !(src->flags & (F_HELD | F_CLOSING | F_REAPED)))
            hold(src, c);
    }
    if (s->cfg.pause_output && c->out.len > s->cfg.pause_output && !(c->flags & F_PAUSED)) {
        c->flags |= F_PAUSED;
        nl_conn_update_events(c);
    }
}

/* Write up to a quantum. Returns 0, or -1 if the connection was finished. */
int nl_conn_flush(struct nl_conn *c)
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
            nl_conn_finish(c);
            return -1;
        }
        nl_conn_close(c, NL_CLOSE_RESET);
        return 0;
    }
    if ((c->flags & F_PAUSED) && c->out.len <= s->cfg.pause_output / 2) {
        c->flags &= (uint16_t)~F_PAUSED;
        if (c->partial_since && s->cfg.line_timeout_ms)
            nl_conn_schedule(c); /* its half line's timeout applies again */
    }
    if (c->over_since && c->out.len <= s->cfg.soft_output / 2)
        c->over_since = 0; /* the mark at which senders held for it are let go */
    if ((c->flags & F_LINGER) && c->out.len == 0)
        linger_drained(c);
    if (!(c->flags & F_REAPED))
        nl_conn_update_events(c);
    return (c->flags & F_REAPED) ? -1 : 0;
}

/* ---- timeouts: where a connection waits in the server's wheel (nl_server.c turns it) ---- */

/* When the first of c's timeouts may be due (UINT64_MAX: none applies now). Activity only moves them
 * later, so the wheel holds this time or an earlier one, and is looked at again when it comes. */
static uint64_t conn_due(const struct nl_conn *c, const struct nl_server_config *cfg)
{
    if (c->flags & F_LINGER)
        return c->partial_since; /* the end of its grace */
    if (c->flags & F_CLOSING)
        return UINT64_MAX;
    uint64_t due = UINT64_MAX;
    if (cfg->login_timeout_ms && !(c->flags & F_READY))
        due = NL_MIN(due, c->created + cfg->login_timeout_ms);
    if (cfg->line_timeout_ms && c->partial_since && !(c->flags & (F_PAUSED | F_HELD)))
        due = NL_MIN(due, c->partial_since + cfg->line_timeout_ms);
    if (cfg->idle_timeout_ms)
        due = NL_MIN(due, c->last_active + cfg->idle_timeout_ms);
    if (cfg->soft_output && cfg->soft_output_ms && c->over_since)
        due = NL_MIN(due, c->over_since + cfg->soft_output_ms);
    return due;
}

void nl_conn_schedule(struct nl_conn *c)
{
    struct nl_server *s = c->srv;
    uint64_t due = conn_due(c, &s->cfg);
    if (due == UINT64_MAX)
        nl_wheel_cancel(&s->wheel, &c->due);
    else
        nl_wheel_set(&s->wheel, &c->due, due);
}

void nl_conn_schedule_soon(struct nl_conn *c, uint64_t at) { nl_wheel_set_before(&c->srv->wheel, &c->due, at); }

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
            nl_conn_finish(c);
            return;
        }
        mark_dead(c, e);
        nl_conn_close(c, NL_CLOSE_RESET);
        return;
    }
    if (c->flags & F_SHUT) {
        /* Lingering: input is discarded; the peer's FIN ends it. */
        if (r == 0)
            nl_conn_finish(c);
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
    c->last_active = c->last_in = now;
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
        if (!c->partial_since) {
            c->partial_since = now;
            if (s->cfg.line_timeout_ms && !(c->flags & (F_PAUSED | F_HELD)))
                nl_conn_schedule_soon(c, now + s->cfg.line_timeout_ms);
        }
    } else {
        c->partial_since = 0;
    }
}

void nl_conn_on_io(struct nl_loop *loop, int fd, int revents, void *ud)
{
    struct nl_conn *c = ud;
    if (c->flags & F_REAPED)
        return;
    if (revents & POLLOUT) {
        if (nl_conn_flush(c) < 0)
            return;
    }
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
        if ((c->flags & F_CLOSING) && !(c->flags & F_SHUT)) {
            /* Not reading any more; a hang-up or error while lingering ends it. */
            if (revents & (POLLHUP | POLLERR)) {
                if (c->flags & F_CLOSED_CB)
                    nl_conn_finish(c);
                else
                    mark_dead(c, ECONNRESET);
            }
            return;
        }
        read_conn(c);
    }
}

/* ---- probes: is a peer's host still there? ---- */

#define PROBE_EVERY_MS 10

/* Everything sent has been acknowledged, or an acknowledgement came after the probe began. */
static int probe_answered(const struct nl_probe *p, uint64_t now)
{
    const struct nl_conn *c = p->c;
    int outq = -1;
    if (c->out.len == 0 && ioctl(c->fd, SIOCOUTQ, &outq) == 0 && outq == 0)
        return 1;
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    return getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 && len >= sizeof ti &&
           (uint64_t)ti.tcpi_last_ack_recv < now - p->start;
}

static void on_probe_tick(struct nl_loop *loop, void *ud)
{
    struct nl_server *s = ud;
    uint64_t now = nl_loop_now(loop);
    for (size_t i = 0; i < s->nprobes;) {
        struct nl_probe p = s->probes[i];
        int alive = !(p.c->flags & (F_DEAD | F_REAPED)) && probe_answered(&p, now);
        if (!alive && now < p.deadline) {
            i++;
            continue;
        }
        s->probes[i] = s->probes[--s->nprobes];
        p.done(p.c, alive, p.ud); /* may probe again, or close connections: the array may change */
        i = 0;
    }
    if (!s->nprobes && s->probe_timer > 0) { /* no tick while nobody is probed */
        nl_loop_timer_cancel(loop, s->probe_timer);
        s->probe_timer = 0;
    }
}

int nl_conn_probe(struct nl_conn *c, uint32_t timeout_ms, nl_conn_probed_fn done, void *ud)
{
    struct nl_server *s = c->srv;
    if (c->flags & (F_CLOSING | F_REAPED | F_DEAD) || !done)
        return NL_EINVAL;
    if (NL_GROW(s->probes, s->nprobes, s->capprobes, 4) < 0)
        return NL_ENOMEM;
    if (s->probe_timer <= 0) {
        int64_t t = nl_loop_timer(s->loop, PROBE_EVERY_MS, PROBE_EVERY_MS, on_probe_tick, s, NULL);
        if (t < 0)
            return (int)t;
        s->probe_timer = t;
    }
    if (c->out.len && nl_conn_flush(c) < 0) /* the line to acknowledge goes now, not at the end of the pass */
        return NL_EINVAL;
    if (c->flags & (F_CLOSING | F_DEAD))
        return NL_EINVAL;
    uint64_t now = nl_loop_now(s->loop);
    s->probes[s->nprobes++] = (struct nl_probe){c, now, now + timeout_ms, done, ud};
    return NL_OK;
}

void nl_conn_probes_free(struct nl_server *s)
{
    if (s->probe_timer > 0)
        nl_loop_timer_cancel(s->loop, s->probe_timer);
    free(s->probes);
    s->probes = NULL;
    s->nprobes = s->capprobes = 0;
}

static void forget_probes(struct nl_conn *c)
{
    struct nl_server *s = c->srv;
    for (size_t i = 0; i < s->nprobes;)
        if (s->probes[i].c == c)
            s->probes[i] = s->probes[--s->nprobes];
        else
            i++;
}

void nl_conn_set_ready(struct nl_conn *c)
{
    c->flags |= F_READY;
    nl_conn_schedule(c); /* the login timeout is over: perhaps nothing is due any more */
}
void nl_conn_set_data(struct nl_conn *c, void *data) { c->data = data; }
void *nl_conn_data(const struct nl_conn *c) { return c->data; }
const struct nl_addr *nl_conn_peer(const struct nl_conn *c) { return &c->peer; }
const char *nl_conn_peer_text(const struct nl_conn *c, char *buf) { return nl_addr_format(&c->peer, buf, NL_ADDR_STRLEN); }
int nl_conn_is_closing(const struct nl_conn *c) { return (c->flags & (F_CLOSING | F_REAPED)) != 0; }
int nl_conn_errno(const struct nl_conn *c) { return c->err; }
size_t nl_conn_queued(const struct nl_conn *c) { return c->out.len; }
uint64_t nl_conn_sent(const struct nl_conn *c) { return c->sent; }
uint64_t nl_conn_quiet_ms(const struct nl_conn *c) { return nl_loop_now(c->srv->loop) - c->last_in; }
struct nl_server *nl_conn_server(const struct nl_conn *c) { return c->srv; }
