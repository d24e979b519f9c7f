/*
 * nl_server.c - the server plumbing under the connections of nl_conn.c: listeners
 * and accepting (with refusal when out of descriptors: a reserved descriptor is
 * given up to accept and close), the per-pass work (flushing, the close queue,
 * the input budget), the timeouts (a wheel of deadlines, nl_wheel.c, turned by
 * the loop's tick: a connection with nothing due costs nothing), keepalive on
 * accepted sockets, the server's life and
 * statistics, and nl_service (a loop, signals and one server, for the tools).
 */
#include "nl_conn_int.h"
#include "netlab/nl_signal.h"
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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void nl_server_config_init(struct nl_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_line = 4096;
    cfg->max_output = 1024 * 1024;
    cfg->close_grace_ms = 2000;
    cfg->sndbuf = NL_SNDBUF_DEFAULT;
    cfg->max_input = NL_SERVER_MAX_INPUT;
    cfg->keepalive_idle_s = NL_KEEPALIVE_IDLE_S;
    cfg->keepalive_intvl_s = NL_KEEPALIVE_INTVL_S;
    cfg->keepalive_cnt = NL_KEEPALIVE_CNT;
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
    c->created = c->last_active = c->last_in = nl_loop_now(s->loop);
    if (nl_loop_add(s->loop, fd, POLLIN, nl_conn_on_io, c, NULL) < 0) {
        free(c);
        return NL_ENOMEM;
    }
    c->flags = F_EV_IN;
    c->index = (uint32_t)s->nconns;
    s->conns[s->nconns++] = c;
    s->st.accepted++;
    nl_conn_schedule(c);
    if (s->ops->open)
        s->ops->open(c, s->ud);
    return NL_OK;
}

/*
 * TCP keepalive (RFC 1122 4.2.3.6) on an accepted socket: a peer whose host vanished without a FIN (its
 * link gone, its power off) is found after idle + intvl * cnt seconds and the connection fails with
 * ETIMEDOUT, freeing what it held; TCP_USER_TIMEOUT bounds the same way how long output may stay
 * unacknowledged (keepalive probes only an idle connection).
 */
static void keepalive(const struct nl_server *s, int fd)
{
    const struct nl_server_config *cfg = &s->cfg;
    if (!cfg->keepalive_idle_s)
        return;
    int on = 1, idle = (int)cfg->keepalive_idle_s, intvl = (int)NL_MAX(cfg->keepalive_intvl_s, 1u),
        cnt = (int)NL_MAX(cfg->keepalive_cnt, 1u);
    unsigned int user = (unsigned int)NL_MIN(((uint64_t)idle + (uint64_t)intvl * (uint64_t)cnt) * 1000u,
                                             (uint64_t)UINT32_MAX);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user, sizeof user);
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
        keepalive(s, fd);
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
                nl_conn_flush(c);
        }
        nl_conn_process_close_queue(s);
    }
    /* Whatever is still queued goes out when poll() says the socket can take it. */
    for (struct nl_conn *c = s->pending; c; c = c->next_pending)
        nl_conn_update_events(c);
    if (s->nheld)
        nl_conn_release_drained(s);
    nl_conn_free_reaped(s);
}

static void after_pass(struct nl_loop *loop, void *ud)
{
    nl_conn_process_close_queue(ud);
}

/* ---- timeouts: each connection in the wheel at the earliest time one may be due ---- */

/* A connection whose time came: what is due is done, or it waits for its next time. */
static void conn_expired(struct nl_wheel_entry *e, void *ud)
{
    struct nl_server *s = ud;
    struct nl_conn *c = (struct nl_conn *)((char *)e - offsetof(struct nl_conn, due));
    const struct nl_server_config *cfg = &s->cfg;
    uint64_t now = nl_loop_now(s->loop);
    if (c->flags & F_LINGER) {
        if (now >= c->partial_since)
            nl_conn_finish(c);
        else
            nl_conn_schedule(c);
        return;
    }
    if (c->flags & F_CLOSING)
        return;
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
    } else if (cfg->soft_output && cfg->soft_output_ms && c->over_since && now - c->over_since >= cfg->soft_output_ms) {
        /* Over the soft mark all this time: not reading. What waited for it is dropped. */
        s->st.overflows++;
        nl_conn_drop_queued(c);
        c->over_since = 0;
        c->flags |= F_MUTED;
        nl_conn_close(c, NL_CLOSE_SLOW_READER);
    } else {
        nl_conn_schedule(c);
    }
}

static void on_tick(struct nl_loop *loop, void *ud)
{
    struct nl_server *s = ud;
#ifdef __GLIBC__
    /* Freed line buffers sit in malloc's heap: hand the pages back once a megabyte or more was freed. */
    if (s->released >= ((size_t)1 << 20)) {
        malloc_trim(0);
        s->released = 0;
    }
#endif
    /* Only the connections whose time came: an idle one with no timeout running costs nothing here. */
    nl_wheel_expire(&s->wheel, nl_loop_now(loop), conn_expired, s);
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
    /* Timeouts are checked a few times per shortest timeout, at most once a second; the wheel's slots
     * are that long (4096 of them: a turn of 68 minutes at a second a slot). */
    uint32_t every = tmin ? NL_MAX(20u, NL_MIN(1000u, tmin / 4)) : 1000u;
    if (nl_wheel_init(&s->wheel, 4096, every, nl_loop_now(loop)) < 0) {
        rc = nl_err(errbuf, NL_ENOMEM, "server: out of memory");
        goto fail;
    }
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
    nl_wheel_free(&s->wheel);
    free(s->scratch);
    free(s);
    return rc;
}

void nl_server_close(struct nl_server *s)
{
    if (!s)
        return;
    nl_conn_process_close_queue(s);
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
    nl_conn_process_close_queue(s); /* anything the callbacks above closed */
    while (s->nconns) {
        struct nl_conn *c = s->conns[s->nconns - 1];
        if (!(c->flags & F_DEAD) && c->out.len && !s->halted) {
            ssize_t w = send(c->fd, nl_buf_head(&c->out), c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)w;
        }
        nl_conn_finish(c);
    }
    s->pending = NULL;
    nl_conn_free_reaped(s);
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
    nl_conn_probes_free(s);
    nl_wheel_free(&s->wheel);
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

