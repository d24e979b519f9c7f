/*
 * nl_echo.c - the echo server: greeting, one answer per line (the echo
 * transform of nl_text.c), every answer
 * appended to the output file before it is sent, back-pressure for clients
 * that do not read. Sockets are nl_conn's business, not this file's.
 */
#include "netlab/nl_echo.h"
#include "netlab/nl_buf.h"
#include "netlab/nl_log.h"
#include "netlab/nl_signal.h"
#include "netlab/nl_text.h"
#include "nl_app.h"
#include "nl_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void nl_echo_config_init(struct nl_echo_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->greeting = NL_ECHO_GREETING;
    cfg->output_path = NL_ECHO_OUTPUT;
    cfg->max_line = 1024 * 1024;
    cfg->idle_timeout_ms = 300000;
    cfg->line_timeout_ms = 60000;
    cfg->batch_output = 1;
    cfg->max_input = (size_t)128 << 20; /* 128 unfinished lines of the 1 MiB limit */
}

struct nl_echo_server {
    struct nl_echo_config cfg;
    struct nl_service svc;       /* loop, server, and a fatal error raised by a callback */
    int out_fd;
    uint64_t file_size;          /* bytes in the output file: a failed write is cut back to this */
    struct nl_buf file;          /* answers of this pass, written before any is sent */
    uint64_t undelivered;        /* answers made but never sent, once the file failed */
    char *greeting;              /* with its LF */
    size_t greeting_len;
};

/* Each unsent answer is one LF in a connection's queue; an unsent greeting is not an answer. */
static void count_dropped(struct nl_conn *c, const uint8_t *p, size_t n, void *ud)
{
    struct nl_echo_server *s = ud;
    uint64_t lines = 0;
    for (const uint8_t *q = p, *end = p + n; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
        lines++;
    if (s->greeting_len && nl_conn_sent(c) < s->greeting_len && lines)
        lines--;
    s->undelivered += lines;
}

/*
 * The output file failed: cut it back to its last whole answer, send nothing
 * more (not even what is queued: it is in the file, but what follows it is
 * not), and stop with a message that says how many answers were lost.
 */
static int file_failed(struct nl_echo_server *s, int err, uint64_t pending)
{
    char cut[160] = "";
    if (ftruncate(s->out_fd, (off_t)s->file_size) != 0)
        snprintf(cut, sizeof cut, "; cutting it back to its last whole answer failed too (%s)", strerror(errno));
    s->undelivered = pending;
    nl_server_halt(s->svc.srv, count_dropped, s);
    char text[NL_ERRBUF_SIZE];
    snprintf(text, sizeof text,
             "%s: cannot append an answer: %s; stopped without sending it: %llu answer%s not delivered%s",
             s->cfg.output_path, strerror(err), (unsigned long long)s->undelivered, s->undelivered == 1 ? "" : "s",
             cut);
    nl_service_fail(&s->svc, NL_ESYS, text);
    return NL_ESYS;
}

/* Append p[0..n) to the output file, all of it or nothing (a short write is undone). */
static int write_all(struct nl_echo_server *s, const uint8_t *p, size_t n, uint64_t pending)
{
    int err = nl_write_all(s->out_fd, p, n);
    if (err)
        return file_failed(s, err, pending);
    s->file_size += n;
    return NL_OK;
}

/* The batch of answers made since the last write; they are all queued on their connections already. */
static int write_file(struct nl_echo_server *s)
{
    int rc = s->file.len ? write_all(s, nl_buf_head(&s->file), s->file.len, 0) : NL_OK;
    nl_buf_clear(&s->file);
    return rc;
}

static void echo_before_flush(void *ud)
{
    struct nl_echo_server *s = ud;
    if (s->out_fd >= 0 && s->file.len && !s->svc.fatal)
        write_file(s);
}

/*
 * Queue one answer line (p[0..n), LF added, through transform or as is) and
 * keep it in the file first: per line, written now; batched, written before
 * the next socket write (at the end of the pass, or once 256 KiB wait).
 */
static void answer(struct nl_echo_server *s, struct nl_conn *c, const uint8_t *p, size_t n, int transform)
{
    if (s->svc.fatal)
        return; /* the file failed: nothing more is answered */
    uint8_t *dst = nl_conn_reserve(c, n + 1);
    if (!dst)
        return;
    if (transform)
        nl_echo_transform(p, n, dst);
    else
        memcpy(dst, p, n);
    dst[n] = '\n';
    if (s->out_fd >= 0) {
        if (!s->cfg.batch_output) {
            if (write_all(s, dst, n + 1, 1) < 0)
                return; /* not committed: the halt already dropped it */
        } else if (nl_buf_append(&s->file, dst, n + 1) < 0) {
            if (write_file(s) < 0)
                return;
            if (nl_buf_append(&s->file, dst, n + 1) < 0) {
                file_failed(s, ENOMEM, 1);
                return;
            }
        }
    }
    nl_conn_commit(c, n + 1);
    if (s->out_fd >= 0 && s->cfg.batch_output && s->file.len >= 256 * 1024)
        write_file(s);
}

static void addr_parts(const struct nl_conn *c, char *ip, size_t n, unsigned *port)
{
    nl_addr_ip(nl_conn_peer(c), ip, n);
    *port = nl_conn_peer(c)->port;
}

static void echo_open(struct nl_conn *c, void *ud)
{
    struct nl_echo_server *s = ud;
    char ip[NL_ADDR_STRLEN];
    unsigned port;
    addr_parts(c, ip, sizeof ip, &port);
    logc_(s, "connection from %s port %u", ip, port);
    nl_conn_set_ready(c);
    if (s->greeting_len)
        nl_conn_write(c, s->greeting, s->greeting_len);
}

static void echo_line(struct nl_conn *c, uint8_t *line, size_t len, void *ud)
{
    struct nl_echo_server *s = ud;
    nl_conn_set_data(c, (void *)((uintptr_t)nl_conn_data(c) + 1)); /* lines answered */
    answer(s, c, line, len, 1);
}

static void echo_too_long(struct nl_conn *c, size_t seen, void *ud)
{
    struct nl_echo_server *s = ud;
    char ip[NL_ADDR_STRLEN];
    unsigned port;
    addr_parts(c, ip, sizeof ip, &port);
    logc_(s, "line from %s port %u longer than %zu bytes: not answered", ip, port, s->cfg.max_line);
    char msg[128];
    int n = snprintf(msg, sizeof msg, "ERR line too long: more than %zu bytes", s->cfg.max_line);
    answer(s, c, (const uint8_t *)msg, (size_t)n, 0); /* an answer too: in the file before it is sent */
}

static void echo_shed(struct nl_conn *c, size_t held, void *ud)
{
    struct nl_echo_server *s = ud;
    char ip[NL_ADDR_STRLEN];
    unsigned port;
    addr_parts(c, ip, sizeof ip, &port);
    logc_(s, "unfinished line from %s port %u dropped after %zu bytes: input budget of %zu bytes spent", ip, port,
          held, s->cfg.max_input);
    char msg[160];
    int n = snprintf(msg, sizeof msg, "ERR line dropped: the server holds too much unfinished input (%zu bytes at most)",
                     s->cfg.max_input);
    answer(s, c, (const uint8_t *)msg, (size_t)n, 0);
}

static void echo_closing(struct nl_conn *c, int reason, void *ud)
{
    struct nl_echo_server *s = ud;
    char ip[NL_ADDR_STRLEN];
    unsigned port;
    addr_parts(c, ip, sizeof ip, &port);
    unsigned long long lines = (unsigned long long)(uintptr_t)nl_conn_data(c);
    if (reason == NL_CLOSE_RESET && nl_conn_errno(c))
        logc_(s, "closed %s port %u after %llu lines: %s (%s)", ip, port, lines, nl_close_reason_text(reason),
              strerror(nl_conn_errno(c)));
    else if (reason != NL_CLOSE_SHUTDOWN)
        logc_(s, "closed %s port %u after %llu lines: %s", ip, port, lines, nl_close_reason_text(reason));
}

static void echo_refused(const struct nl_addr *peer, const char *why, void *ud)
{
    char ip[NL_ADDR_STRLEN];
    logc_((struct nl_echo_server *)ud, "refused %s port %u: %s", nl_addr_ip(peer, ip, sizeof ip), peer->port, why);
}

static const struct nl_server_ops echo_ops = {
    .open = echo_open,
    .line = echo_line,
    .too_long = echo_too_long,
    .shed = echo_shed,
    .closing = echo_closing,
    .refused = echo_refused,
    .before_flush = echo_before_flush,
};

int nl_echo_server_open(struct nl_echo_server **out, const struct nl_echo_config *cfg, char *errbuf)
{
    *out = NULL;
    struct nl_echo_server *s = calloc(1, sizeof *s);
    if (!s)
        return nl_err(errbuf, NL_ENOMEM, "echo server: out of memory");
    s->cfg = *cfg;
    s->out_fd = -1;
    nl_buf_init(&s->file, 0);
    if (!s->cfg.max_line)
        s->cfg.max_line = 1024 * 1024;
    const char *g = cfg->greeting ? cfg->greeting : NL_ECHO_GREETING;
    int rc = NL_OK;
    if (strchr(g, '\n') || strchr(g, '\r')) {
        rc = nl_err(errbuf, NL_EINVAL, "greeting: must be one line (no CR or LF)");
        goto fail;
    }
    s->greeting_len = strlen(g);
    if (s->greeting_len) {
        s->greeting = malloc(s->greeting_len + 1);
        if (!s->greeting) {
            rc = nl_err(errbuf, NL_ENOMEM, "echo server: out of memory");
            goto fail;
        }
        memcpy(s->greeting, g, s->greeting_len);
        s->greeting[s->greeting_len++] = '\n';
    }
    if (cfg->output_path && *cfg->output_path) {
        s->out_fd = open(cfg->output_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (s->out_fd < 0) {
            rc = nl_err_sys(errbuf, errno, "%s: cannot open the output file", cfg->output_path);
            goto fail;
        }
        off_t end = lseek(s->out_fd, 0, SEEK_END);
        s->file_size = end > 0 ? (uint64_t)end : 0;
    }
    struct nl_server_config sc;
    nl_server_config_init(&sc);
    sc.host = cfg->host;
    sc.port = cfg->port;
    sc.max_line = s->cfg.max_line;
    /* Back-pressure: stop reading a client with 256 KiB of answers unread; a read's worth more always fits. */
    sc.pause_output = 256 * 1024;
    sc.max_output = sc.pause_output + 2 * 64 * 1024 + s->cfg.max_line + 64;
    sc.max_conns = cfg->max_clients;
    sc.max_input = s->cfg.max_input ? s->cfg.max_input : NL_SERVER_MAX_INPUT;
    sc.idle_timeout_ms = cfg->idle_timeout_ms;
    sc.line_timeout_ms = cfg->line_timeout_ms;
    sc.full_line = "ERR server full: try again later\n";
    sc.eof_line = 1; /* `printf 'last' | nc -N` is answered: the half-closed client still reads */
    if ((rc = nl_service_open(&s->svc, cfg->handle_signals, &sc, &echo_ops, s, errbuf)) < 0)
        goto fail;
    if (cfg->log == nl_logger_line && cfg->log_ud)
        nl_logger_attach(cfg->log_ud, s->svc.loop, NULL); /* a slow log reader is served by the loop, never waited for */
    char host[256] = "", addrs[512] = "";
    if (nl_sock_host_info(host, sizeof host, addrs, sizeof addrs, NULL) == NL_OK)
        logf_(s, "host %s, addresses %s", host, addrs);
    char lst[NL_LISTEN_MAX * NL_ADDR_STRLEN];
    logf_(s, "listening on %s (port %u); answers go to %s", nl_server_listen_text(s->svc.srv, lst, sizeof lst),
          nl_server_listeners(s->svc.srv)->port, s->out_fd >= 0 ? cfg->output_path : "no file");
    *out = s;
    return NL_OK;
fail:
    if (cfg->log == nl_logger_line && cfg->log_ud)
        nl_logger_detach(cfg->log_ud);
    nl_service_close(&s->svc, NULL);
    if (s->out_fd >= 0)
        close(s->out_fd);
    free(s->greeting);
    free(s);
    return rc;
}

uint16_t nl_echo_server_port(const struct nl_echo_server *s) { return nl_server_listeners(s->svc.srv)->port; }

int nl_echo_server_serve(struct nl_echo_server *s, char *errbuf)
{
    return nl_service_serve(&s->svc, errbuf);
}

void nl_echo_server_stop(struct nl_echo_server *s) { nl_loop_stop(s->svc.loop); }

int nl_echo_server_close(struct nl_echo_server *s, char *errbuf)
{
    if (!s)
        return NL_OK;
    struct nl_server_stats st;
    int rc = NL_OK;
    /* The last pass's answers go to the file before the close sends what is queued. */
    if (s->out_fd >= 0 && !s->svc.fatal && s->file.len && write_file(s) < 0)
        rc = nl_err(errbuf, s->svc.fatal, "%s", s->svc.fatal_err);
    if (s->cfg.log == nl_logger_line && s->cfg.log_ud)
        nl_logger_detach(s->cfg.log_ud);
    nl_service_close(&s->svc, &st);
    if (s->out_fd >= 0) {
        if (close(s->out_fd) != 0 && rc == NL_OK)
            rc = nl_err_sys(errbuf, errno, "%s: close", s->cfg.output_path);
    }
    logf_(s, "stopped: %llu connections, %llu lines answered", (unsigned long long)st.accepted,
          (unsigned long long)st.lines);
    nl_buf_clear(&s->file);
    free(s->greeting);
    free(s);
    return rc;
}

NL_APP_RUN_FN(echo)
