/*
 * nl_echoclient.c - the echo client: sends an input file line by line, waits
 * for each answer, shows both (terminal-safe) on the caller's descriptor and
 * checks the answer against nl_echo_transform. One line in flight at a time.
 * A server's greeting is waited for a short while, never required: a server
 * that does not greet is sent to after the wait, and a greeting that comes late
 * (after the first line went) is told from the first answer.
 */
#include "netlab/nl_echo.h"
#include "netlab/nl_buf.h"
#include "netlab/nl_signal.h"
#include "netlab/nl_sock.h"
#include "netlab/nl_text.h"
#include "nl_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void nl_echo_client_config_init(struct nl_echo_client_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "localhost";
    cfg->port = 7007;
    cfg->input_path = NL_ECHO_INPUT;
    cfg->out_fd = 1;
    cfg->timeout_ms = 10000;
    cfg->max_line = 64u * 1024 * 1024;
    cfg->greeting_ms = 2000;
}

struct client {
    const struct nl_echo_client_config *cfg;
    int fd;
    char where[NL_ADDR_STRLEN];
    struct nl_buf rx;
    char *show;          /* sanitised copy for display */
    size_t show_cap;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int stop_requested(const struct client *cl) { return cl->cfg->handle_signals && *nl_stop_flag(); }

/* Wait for events on the socket until deadline; 0 on timeout. */
static int wait_for(struct client *cl, short events, int64_t deadline, char *errbuf)
{
    for (;;) {
        if (stop_requested(cl))
            return nl_err(errbuf, NL_ESYS, "interrupted");
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = cl->fd, .events = events};
        int r = poll(&p, 1, (int)NL_MIN(left, 250));
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return nl_err_sys(errbuf, errno, "%s: poll", cl->where);
    }
}

static int send_all(struct client *cl, const char *p, size_t n, char *errbuf)
{
    int64_t deadline = mono_ms() + cl->cfg->timeout_ms;
    while (n > 0) {
        ssize_t w = send(cl->fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            deadline = mono_ms() + cl->cfg->timeout_ms; /* progress restarts the clock */
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = wait_for(cl, POLLOUT, deadline, errbuf);
            if (r < 0)
                return r;
            if (r == 0)
                return nl_err(errbuf, NL_ESYS, "%s: the server took nothing for %u ms", cl->where,
                              cl->cfg->timeout_ms);
            continue;
        }
        return nl_err_sys(errbuf, w < 0 ? errno : EPIPE, "%s: send", cl->where);
    }
    return NL_OK;
}

/* Next line from the server (LF or CRLF removed) into line and len; valid until the next call.
 * 1 when a line came, 0 when none came within timeout_ms of silence, or a negative code. */
static int recv_line(struct client *cl, uint8_t **line, size_t *len, size_t *consumed, uint32_t timeout_ms,
                     char *errbuf)
{
    int64_t deadline = mono_ms() + timeout_ms;
    size_t scanned = 0;
    for (;;) {
        uint8_t *h = nl_buf_head(&cl->rx);
        uint8_t *lf = h ? memchr(h + scanned, '\n', cl->rx.len - scanned) : NULL;
        if (lf) {
            size_t n = (size_t)(lf - h);
            *consumed = n + 1;
            if (n > 0 && h[n - 1] == '\r')
                n--;
            *line = h;
            *len = n;
            return 1;
        }
        scanned = cl->rx.len;
        if (cl->rx.len > cl->cfg->max_line + 1)
            return nl_err(errbuf, NL_ELIMIT, "%s: an answer longer than %zu bytes", cl->where, cl->cfg->max_line);
        uint8_t *dst = nl_buf_reserve(&cl->rx, 64 * 1024);
        if (!dst)
            return nl_err(errbuf, NL_ENOMEM, "%s: out of memory for an answer", cl->where);
        ssize_t r = recv(cl->fd, dst, 64 * 1024, 0);
        if (r > 0) {
            nl_buf_commit(&cl->rx, (size_t)r);
            deadline = mono_ms() + timeout_ms;
            continue;
        }
        if (r == 0)
            return nl_err(errbuf, NL_ETRUNC, "%s: the server closed the connection", cl->where);
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return nl_err_sys(errbuf, errno, "%s: recv", cl->where);
        int w = wait_for(cl, POLLIN, deadline, errbuf);
        if (w <= 0)
            return w;
    }
}

/* The answer to a line: as recv_line, and silence for the answer timeout is an error. */
static int recv_answer(struct client *cl, uint8_t **line, size_t *len, size_t *consumed, char *errbuf)
{
    int rc = recv_line(cl, line, len, consumed, cl->cfg->timeout_ms, errbuf);
    if (rc == 0)
        return nl_err(errbuf, NL_ESYS, "%s: no answer within %u ms", cl->where, cl->cfg->timeout_ms);
    return rc;
}



static void show(struct client *cl, const char *label, const uint8_t *p, size_t n)
{
    int fd = cl->cfg->out_fd;
    if (fd < 0)
        return;
    size_t need = nl_text_sanitize(p, n, NULL, 0) + 1;
    if (need > cl->show_cap) {
        char *b = realloc(cl->show, need);
        if (!b)
            return;
        cl->show = b;
        cl->show_cap = need;
    }
    size_t k = nl_text_sanitize(p, n, cl->show, cl->show_cap);
    size_t ll = strlen(label);
    const char *parts[3] = {label, cl->show, "\n"};
    size_t lens[3] = {ll, k, 1};
    for (int i = 0; i < 3; i++)
        if (nl_write_all(fd, parts[i], lens[i]))
            return; /* the viewer went away; the exchange itself goes on */
}

static void note(struct client *cl, const char *text)
{
    show(cl, "", (const uint8_t *)text, strlen(text));
}

/* The greeting, waited for cfg->greeting_ms: shown, or its absence said. 1 when one came, 0 when
 * none did, or a negative code. */
static int await_greeting(struct client *cl, char *errbuf)
{
    if (cl->cfg->greeting_ms == 0) {
        note(cl, "no greeting expected: sending at once");
        return 0;
    }
    uint8_t *line;
    size_t len, used;
    int rc = recv_line(cl, &line, &len, &used, cl->cfg->greeting_ms, errbuf);
    if (rc == 0) {
        char t[128];
        if (cl->rx.len) /* a greeting without its line end: it stays in front of the first answer */
            snprintf(t, sizeof t, "the server sent %zu bytes but no line end within %.1f s: sending anyway", cl->rx.len,
                     cl->cfg->greeting_ms / 1000.0);
        else
            snprintf(t, sizeof t, "no greeting within %.1f s: sending without one", cl->cfg->greeting_ms / 1000.0);
        note(cl, t);
    }
    if (rc <= 0)
        return rc;
    show(cl, "greeting: ", line, len);
    nl_buf_consume(&cl->rx, used);
    return 1;
}

static int is_answer(const uint8_t *line, size_t len, const uint8_t *want, size_t n)
{
    return len == n && (n == 0 || memcmp(line, want, n) == 0);
}

/* The answer to the line just sent (want: its transform, n bytes): received, shown and compared.
 * While no greeting has come, a first answer that is not the one expected may be a greeting that
 * came late (after the first line went): when the next line comes within the greeting wait (1 s
 * at least) and is the answer, the first is shown as the greeting. Otherwise the first is the
 * answer, and a line after it stays for the next. */
static int take_answer(struct client *cl, const uint8_t *want, size_t n, int *greeted,
                       struct nl_echo_client_result *res, char *errbuf)
{
    uint8_t *line;
    size_t len, used;
    int rc = recv_answer(cl, &line, &len, &used, errbuf);
    if (rc < 0)
        return rc;
    if (!is_answer(line, len, want, n) && !*greeted && res->answers == 0) {
        uint8_t *first = malloc(len ? len : 1); /* the buffer may move while the next line is read */
        if (!first)
            return nl_err(errbuf, NL_ENOMEM, "out of memory");
        memcpy(first, line, len);
        size_t flen = len;
        nl_buf_consume(&cl->rx, used);
        uint32_t wait = cl->cfg->greeting_ms > 1000 ? cl->cfg->greeting_ms : 1000;
        rc = recv_line(cl, &line, &len, &used, wait, errbuf);
        if (rc == 1 && is_answer(line, len, want, n)) {
            show(cl, "greeting: ", first, flen);
            note(cl, "(the greeting came after the first line was sent)");
            *greeted = 1;
        } else {
            res->answers++;
            res->mismatches++;
            show(cl, "received: ", first, flen);
            show(cl, "expected: ", want, n);
            free(first);
            return rc < 0 && rc != NL_ETRUNC ? rc : 0; /* closed: the next line's send says so */
        }
        free(first);
    }
    res->answers++;
    show(cl, "received: ", line, len);
    if (!is_answer(line, len, want, n)) {
        res->mismatches++;
        show(cl, "expected: ", want, n);
    }
    nl_buf_consume(&cl->rx, used);
    return 0;
}

int nl_echo_client_run(const struct nl_echo_client_config *cfg, struct nl_echo_client_result *res, char *errbuf)
{
    struct nl_echo_client_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    const char *path = cfg->input_path ? cfg->input_path : NL_ECHO_INPUT;
    if (cfg->handle_signals) {
        int rc = nl_signals_install(errbuf);
        if (rc < 0)
            return rc;
    }
    FILE *in = fopen(path, "rb");
    if (!in)
        return nl_err_sys(errbuf, errno, "%s: cannot open the input file", path);
    struct client cl = {.cfg = cfg, .fd = -1};
    nl_buf_init(&cl.rx, 0);
    struct nl_addr peer;
    int rc = nl_sock_connect(cfg->host, cfg->port, cfg->timeout_ms, &peer, errbuf);
    if (rc < 0) {
        fclose(in);
        return rc;
    }
    cl.fd = rc;
    nl_addr_format(&peer, cl.where, sizeof cl.where);
    char hello[NL_ADDR_STRLEN + 32];
    snprintf(hello, sizeof hello, "connected to %s", cl.where);
    note(&cl, hello);

    char *buf = NULL, *expect = NULL;
    size_t bufcap = 0, expcap = 0;
    int greeted = await_greeting(&cl, errbuf);
    if ((rc = greeted) < 0)
        goto out;

    ssize_t got;
    while ((got = getline(&buf, &bufcap, in)) >= 0) {
        size_t n = (size_t)got;
        if (n > 0 && buf[n - 1] == '\n')
            n--;
        if (n > 0 && buf[n - 1] == '\r')
            n--; /* CRLF files: the CR belongs to the terminator */
        if (n > cfg->max_line) {
            rc = nl_err(errbuf, NL_ELIMIT, "%s:%llu: line of %zu bytes is longer than the %zu accepted", path,
                        (unsigned long long)res->lines + 1, n, cfg->max_line);
            goto out;
        }
        show(&cl, "sent:     ", (const uint8_t *)buf, n);
        buf[n] = '\n';
        if ((rc = send_all(&cl, buf, n + 1, errbuf)) < 0)
            goto out;
        res->lines++;
        if (n > expcap) {
            char *e = realloc(expect, n);
            if (!e) {
                rc = nl_err(errbuf, NL_ENOMEM, "out of memory");
                goto out;
            }
            expect = e;
            expcap = n;
        }
        if (n)
            nl_echo_transform((const uint8_t *)buf, n, (uint8_t *)expect);
        if ((rc = take_answer(&cl, (const uint8_t *)expect, n, &greeted, res, errbuf)) < 0)
            goto out;
    }
    if (ferror(in)) {
        rc = nl_err_sys(errbuf, errno, "%s: read error", path);
        goto out;
    }
    char summary[160];
    snprintf(summary, sizeof summary, "%llu lines sent, %llu answers, %llu not as expected",
             (unsigned long long)res->lines, (unsigned long long)res->answers,
             (unsigned long long)res->mismatches);
    note(&cl, summary);
    rc = res->mismatches ? nl_err(errbuf, NL_EMISMATCH, "%s: %llu of %llu answers were not the expected transform",
                                  cl.where, (unsigned long long)res->mismatches, (unsigned long long)res->answers)
                         : NL_OK;
out:
    free(buf);
    free(expect);
    free(cl.show);
    nl_buf_clear(&cl.rx);
    if (cl.fd >= 0)
        close(cl.fd);
    fclose(in);
    return rc;
}
