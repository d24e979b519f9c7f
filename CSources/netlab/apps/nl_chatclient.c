/*
 * nl_chatclient.c - the chat client on one nl_loop: the server socket, the
 * user's input (a terminal through the line editor of nl_lineedit.c, or a pipe),
 * slash commands, the current session, failover between servers, and showing
 * everything the server says through the renderer (nl_chatrender.c).
 */
#include "netlab/nl_chatclient.h"
#include "netlab/nl_buf.h"
#include "netlab/nl_chat.h"
#include "netlab/nl_line.h"
#include "netlab/nl_loop.h"
#include "netlab/nl_signal.h"
#include "netlab/nl_sock.h"
#include "netlab/nl_text.h"
#include "nl_chatwords.h"
#include "nl_internal.h"
#include "nl_lineedit.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define NAME_CAP (NL_CHAT_MAX_NAME + 1)
#define SHOW_CAP (4 * 65536 + 64)  /* a neutralised line may be 4x its bytes ("\xNN") */

void nl_chat_client_config_init(struct nl_chat_client_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "localhost";
    cfg->port = 7000;
    cfg->in_fd = 0;
    cfg->out_fd = 1;
    cfg->interactive = -1;
    cfg->quit_wait_ms = 3000;
}

/* ---- translating what the user types (pure) ---- */

static int note_out(char *note, size_t cap, const char *fmt, const char *arg)
{
    if (note && cap)
        snprintf(note, cap, fmt, arg ? arg : "");
    return -1;
}

int nl_chat_client_translate(const char *current, const uint8_t *line, size_t len, char *out, size_t cap,
                             char *note, size_t note_cap)
{
    if (note && note_cap)
        note[0] = 0;
    if (len == 0)
        return 0;
    int n;
    if (line[0] != '/' || (len > 1 && line[1] == '/')) {
        const uint8_t *text = line[0] == '/' ? line + 1 : line; /* "//x" sends "/x" */
        size_t tl = line[0] == '/' ? len - 1 : len;
        if (!current || !*current)
            return note_out(note, note_cap,
                            "! no session to send to: /chat NAME asks someone, /accept NAME answers, /help lists more%s",
                            "");
        n = snprintf(out, cap, "MSG %s %.*s", current, (int)tl, (const char *)text);
        return n < 0 || (size_t)n >= cap ? note_out(note, note_cap, "! line too long%s", "") : n;
    }
    /* "/word rest" */
    size_t w = 1;
    while (w < len && line[w] != ' ')
        w++;
    char word[16] = "";
    size_t wl = NL_MIN(w - 1, sizeof word - 1);
    memcpy(word, line + 1, wl);
    word[wl] = 0;
    const char *rest = w < len ? (const char *)line + w + 1 : "";
    int rl = w < len ? (int)(len - w - 1) : 0;
    static const struct {
        const char *cmd, *verb;
        int arg; /* 0 none, 1 required, 2 optional, 3 name then text */
    } map[] = {
        {"nick", "NICK", 1},  {"list", "LIST", 0},     {"who", "WHO", 1},       {"chat", "CHAT", 1},
        {"accept", "ACCEPT", 1}, {"decline", "DECLINE", 1}, {"msg", "MSG", 3}, {"sessions", "SESSIONS", 0},
        {"join", "JOIN", 0},  {"part", "PART", 0},     {"say", "SAY", 1},       {"ping", "PING", 2},
        {"quit", "QUIT", 2},  {"users", "LIST", 0},
    };
    if (strcasecmp(word, "raw") == 0) {
        n = snprintf(out, cap, "%.*s", rl, rest);
        return n < 0 || (size_t)n >= cap ? note_out(note, note_cap, "! line too long%s", "") : n;
    }
    if (strcasecmp(word, "leave") == 0) {
        if (rl == 0 && (!current || !*current))
            return note_out(note, note_cap, "! /leave NAME: you are in no session%s", "");
        n = rl ? snprintf(out, cap, "LEAVE %.*s", rl, rest) : snprintf(out, cap, "LEAVE %s", current);
        return n;
    }
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcasecmp(word, map[i].cmd) != 0)
            continue;
        if ((map[i].arg == 1 || map[i].arg == 3) && rl == 0)
            return note_out(note, note_cap, "! /%s needs an argument: /help shows how", map[i].cmd);
        if (map[i].arg == 0 || rl == 0)
            n = snprintf(out, cap, "%s", map[i].verb);
        else
            n = snprintf(out, cap, "%s %.*s", map[i].verb, rl, rest);
        return n < 0 || (size_t)n >= cap ? note_out(note, note_cap, "! line too long%s", "") : n;
    }
    char shown[64];
    nl_text_sanitize((const uint8_t *)word, strlen(word), shown, sizeof shown);
    return note_out(note, note_cap, "! unknown command /%s: /help lists them", shown);
}

/* ---- the running client ---- */

struct cc {
    const struct nl_chat_client_config *cfg;
    struct nl_loop *loop;
    int fd;
    char where[NL_ADDR_STRLEN];
    struct nl_line from_server;
    struct nl_line from_user;       /* non-interactive input */
    struct nl_buf out;              /* to the server */
    int interactive;
    struct nl_edit ed;              /* the line being typed (interactive) */
    char me[NAME_CAP];
    char current[NAME_CAP];
    char (*sess)[NAME_CAP];
    size_t nsess, capsess;
    int quitting, done, server_closed;
    int rc;
    char (*srv_host)[256];          /* --server list */
    uint16_t *srv_port;
    size_t nsrv, cursrv;
    int renick;                     /* registering the name again after a failover: tries left */
    char err[NL_ERRBUF_SIZE];
    char *show;                     /* SHOW_CAP bytes */
};

static void put(struct cc *c, const char *p, size_t n)
{
    (void)nl_write_all(c->cfg->out_fd, p, n); /* on failure: nowhere to show it; the session itself goes on */
}

static void puts_(struct cc *c, const char *s) { put(c, s, strlen(s)); }

static void prompt(struct cc *c)
{
    if (!c->interactive)
        return;
    char p[NAME_CAP + 8];
    snprintf(p, sizeof p, "%s> ", c->current[0] ? c->current : "");
    puts_(c, "\r\033[K");
    puts_(c, p);
    put(c, c->ed.buf, c->ed.len);
}

/* Show a line of our own or already neutralised text, keeping the user's half-typed line below it. */
static void show_line(struct cc *c, const char *text, size_t n)
{
    if (c->interactive)
        puts_(c, "\r\033[K");
    put(c, text, n);
    puts_(c, c->interactive ? "\r\n" : "\n");
    prompt(c);
}

static void note(struct cc *c, const char *text) { show_line(c, text, strlen(text)); }

static int sess_find(const struct cc *c, const char *name)
{
    for (size_t i = 0; i < c->nsess; i++)
        if (strcasecmp(c->sess[i], name) == 0)
            return (int)i;
    return -1;
}

static void sess_add(struct cc *c, const char *name)
{
    if (sess_find(c, name) < 0) {
        if (NL_GROW(c->sess, c->nsess, c->capsess, 8) < 0)
            return;
        snprintf(c->sess[c->nsess++], NAME_CAP, "%s", name);
    }
    snprintf(c->current, sizeof c->current, "%s", name);
}

static void sess_remove(struct cc *c, const char *name)
{
    int i = sess_find(c, name);
    if (i < 0)
        return;
    memmove(c->sess[i], c->sess[i + 1], (c->nsess - (size_t)i - 1) * sizeof c->sess[0]);
    c->nsess--;
    if (strcasecmp(c->current, name) == 0) {
        if (c->nsess) {
            snprintf(c->current, sizeof c->current, "%s", c->sess[c->nsess - 1]);
            char m[96];
            snprintf(m, sizeof m, "* now talking to %s (/to NAME switches)", c->current);
            note(c, m);
        } else {
            c->current[0] = 0;
        }
    }
}

static void send_line(struct cc *c, const char *p, size_t n)
{
    if (c->server_closed)
        return;
    if (nl_buf_append(&c->out, p, n) < 0 || nl_buf_append(&c->out, "\n", 1) < 0) {
        note(c, "! too much unsent input; line dropped");
        return;
    }
    nl_loop_modify(c->loop, c->fd, POLLIN | POLLOUT);
}

static void finish(struct cc *c)
{
    c->done = 1;
    nl_loop_stop(c->loop);
}

static void on_quit_timer(struct nl_loop *loop, void *ud) { finish(ud); }

static void start_quit(struct cc *c)
{
    if (c->quitting)
        return;
    c->quitting = 1;
    send_line(c, "QUIT", 4);
    nl_loop_timer(c->loop, c->cfg->quit_wait_ms ? c->cfg->quit_wait_ms : 3000, 0, on_quit_timer, c, NULL);
}

static const char *HELP_TEXT[] = {
    "* /nick NAME        register as NAME (1-32 of A-Z a-z 0-9 _ -)",
    "* /list             who is online",
    "* /who NAME         about one user",
    "* /chat NAME        ask NAME for a session",
    "* /accept NAME      accept NAME's request  (/decline NAME refuses it)",
    "* /to NAME          talk to NAME (one of your sessions); plain text goes to them",
    "* /msg NAME TEXT    send to a session without switching",
    "* /leave [NAME]     end a session (default: the current one)",
    "* /sessions         your sessions",
    "* /join /part /say  the shared room",
    "* /ping /raw LINE   check the server / send a protocol line as is",
    "* /quit             leave (so does Ctrl-D on an empty line)",
    "* //text            send text that starts with a slash",
};

static void on_user_line(struct cc *c, const uint8_t *line, size_t len)
{
    if (len >= 3 && memcmp(line, "/to", 3) == 0 && (len == 3 || line[3] == ' ')) {
        char name[NAME_CAP] = "";
        size_t nl = len > 4 ? NL_MIN(len - 4, sizeof name - 1) : 0;
        memcpy(name, line + 4, nl);
        name[nl] = 0;
        if (sess_find(c, name) < 0) {
            char m[160];
            snprintf(m, sizeof m, "! /to: no session with '%s' (/sessions lists yours)", name);
            char safe[400];
            nl_text_sanitize((const uint8_t *)m, strlen(m), safe, sizeof safe);
            note(c, safe);
        } else {
            snprintf(c->current, sizeof c->current, "%s", c->sess[sess_find(c, name)]);
            prompt(c);
        }
        return;
    }
    if (len == 5 && memcmp(line, "/help", 5) == 0) {
        for (size_t i = 0; i < sizeof HELP_TEXT / sizeof HELP_TEXT[0]; i++)
            note(c, HELP_TEXT[i]);
        return;
    }
    char out[NL_CHAT_MAX_LINE + 64], msg[256];
    int n = nl_chat_client_translate(c->current, line, len, out, sizeof out, msg, sizeof msg);
    if (n < 0) {
        note(c, msg);
        return;
    }
    if (n == 0)
        return;
    if (strncmp(out, "QUIT", 4) == 0 && (n == 4 || out[4] == ' ')) {
        c->quitting = 1;
        send_line(c, out, (size_t)n);
        nl_loop_timer(c->loop, c->cfg->quit_wait_ms ? c->cfg->quit_wait_ms : 3000, 0, on_quit_timer, c, NULL);
        return;
    }
    send_line(c, out, (size_t)n);
}

/* Keep the client's idea of sessions in step with what the server says. */
static void track(struct cc *c, const uint8_t *line, size_t len)
{
    const uint8_t *a, *r;
    size_t al, rl;
    char name[NAME_CAP];
#define NAME_OF(p, n) (snprintf(name, sizeof name, "%.*s", (int)NL_MIN((n), (size_t)NL_CHAT_MAX_NAME), (const char *)(p)), name)
    if (word_is(line, len, "ACCEPTED")) {
        split(line, len, 8, &a, &al, &r, &rl);
        sess_add(c, NAME_OF(a, al));
    } else if (word_is(line, len, "LEFT") || word_is(line, len, "GONE")) {
        split(line, len, 4, &a, &al, &r, &rl);
        sess_remove(c, NAME_OF(a, al));
    } else if (word_is(line, len, "OK")) {
        split(line, len, 2, &a, &al, &r, &rl);
        if (word_is(a, al, "ACCEPT"))
            sess_add(c, NAME_OF(r, rl));
        else if (word_is(a, al, "LEAVE"))
            sess_remove(c, NAME_OF(r, rl));
        else if (word_is(a, al, "NICK"))
            snprintf(c->me, sizeof c->me, "%s", NAME_OF(r, rl));
    }
#undef NAME_OF
}

static void on_renick_timer(struct nl_loop *loop, void *ud);

static int on_server_line(void *ud, uint8_t *line, size_t len, int status)
{
    struct cc *c = ud;
    if (status != NL_LINE_OK) {
        note(c, "! the server sent a line too long to show; skipped");
        return 0;
    }
    size_t k;
    if (c->cfg->raw)
        k = nl_text_sanitize(line, len, c->show, SHOW_CAP);
    else
        k = nl_chat_client_render(line, len, c->show, SHOW_CAP);
    /* Show the line, then update the sessions (which may add a note), then the prompt once. */
    if (c->interactive)
        puts_(c, "\r\033[K");
    put(c, c->show, NL_MIN(k, (size_t)SHOW_CAP - 1));
    puts_(c, c->interactive ? "\r\n" : "\n");
    if (c->renick > 0 && word_is(line, len, "OK") && len > 8 && !memcmp(line + 3, "NICK", 4)) {
        c->renick = 0;
    } else if (c->renick > 0 && len >= 7 && !memcmp(line, "ERR 409", 7)) {
        if (--c->renick > 0) /* the name is still held by the server that went: ask again shortly */
            nl_loop_timer(c->loop, 250, 0, on_renick_timer, c, NULL);
    }
    track(c, line, len);
    prompt(c);
    return 0;
}

static int failover(struct cc *c);

static void on_socket(struct nl_loop *loop, int fd, int revents, void *ud)
{
    struct cc *c = ud;
    if (revents & POLLOUT) {
        while (c->out.len) {
            ssize_t w = send(fd, nl_buf_head(&c->out), c->out.len, MSG_NOSIGNAL);
            if (w > 0) {
                nl_buf_consume(&c->out, (size_t)w);
                continue;
            }
            if (w < 0 && errno == EINTR)
                continue;
            break; /* EAGAIN, or an error the read side reports */
        }
        if (!c->out.len)
            nl_loop_modify(loop, fd, POLLIN);
    }
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
        uint8_t buf[16384];
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r > 0) {
            nl_line_feed(&c->from_server, buf, (size_t)r, on_server_line, c);
            return;
        }
        if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        int e = r < 0 ? errno : 0;
        nl_line_finish(&c->from_server, on_server_line, c);
        c->server_closed = 1;
        nl_loop_remove(loop, fd);
        if (!c->quitting && c->nsrv > 1 && failover(c) == 0)
            return;
        if (c->quitting) {
            c->rc = NL_OK;
        } else if (e) {
            c->rc = nl_err_sys(c->err, e, "chat server %s: connection lost", c->where);
        } else {
            c->rc = nl_err(c->err, NL_ESYS, "chat server %s closed the connection", c->where);
        }
        if (c->rc < 0) {
            char m[NL_ERRBUF_SIZE + 4];
            snprintf(m, sizeof m, "! %s", c->err);
            note(c, m);
        }
        finish(c);
    }
}

/* ---- failover between the servers of a cluster ---- */

static void on_socket(struct nl_loop *loop, int fd, int revents, void *ud);

static int parse_servers(struct cc *c, const char *list, char *errbuf)
{
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    c->srv_host = calloc(cap, sizeof *c->srv_host);
    c->srv_port = calloc(cap, sizeof *c->srv_port);
    if (!c->srv_host || !c->srv_port)
        return nl_err(errbuf, NL_ENOMEM, "chat client: out of memory");
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *colon = NULL;
        for (size_t i = 0; i < n; i++)
            if (p[i] == ':')
                colon = p + i;
        if (!colon || colon == p || (size_t)(colon - p) >= sizeof c->srv_host[0])
            return nl_err(errbuf, NL_EINVAL, "--server %.*s: give host:port", (int)n, p);
        char *e;
        long port = strtol(colon + 1, &e, 10);
        if (e != p + n || port < 1 || port > 65535)
            return nl_err(errbuf, NL_EINVAL, "--server %.*s: the port must be 1-65535", (int)n, p);
        const char *h = p;
        size_t hl = (size_t)(colon - p);
        if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') { /* [::1]:7000 */
            h++;
            hl -= 2;
        }
        memcpy(c->srv_host[c->nsrv], h, hl);
        c->srv_host[c->nsrv][hl] = 0;
        c->srv_port[c->nsrv++] = (uint16_t)port;
        p = end ? end + 1 : p + n;
    }
    if (!c->nsrv)
        return nl_err(errbuf, NL_EINVAL, "--server: give host:port[,host:port...]");
    return NL_OK;
}

/* Connect to the first server that answers, starting at cursrv. */
static int connect_next(struct cc *c, size_t tries, char *errbuf)
{
    int rc = NL_ESYS;
    for (size_t k = 0; k < tries; k++) {
        size_t i = (c->cursrv + k) % c->nsrv;
        struct nl_addr peer;
        rc = nl_sock_connect(c->srv_host[i], c->srv_port[i], 2000, &peer, errbuf);
        if (rc >= 0) {
            c->fd = rc;
            c->cursrv = i;
            nl_addr_format(&peer, c->where, sizeof c->where);
            return NL_OK;
        }
    }
    return rc;
}

static void send_nick(struct cc *c)
{
    char l[NAME_CAP + 8];
    int n = snprintf(l, sizeof l, "NICK %s", c->me);
    send_line(c, l, (size_t)n);
}

static void on_renick_timer(struct nl_loop *loop, void *ud)
{
    struct cc *c = ud;
    if (c->renick > 0 && !c->server_closed)
        send_nick(c);
}

/* The server went: the next one of the list, the same name, and the user told. 0, or <0 when none answers. */
static int failover(struct cc *c)
{
    char old[NL_ADDR_STRLEN];
    snprintf(old, sizeof old, "%s", c->where);
    close(c->fd);
    c->fd = -1;
    c->cursrv = (c->cursrv + 1) % c->nsrv;
    char err[NL_ERRBUF_SIZE];
    if (connect_next(c, c->nsrv, err) < 0 || nl_loop_add(c->loop, c->fd, POLLIN, on_socket, c, err) < 0)
        return -1;
    c->server_closed = 0;
    nl_line_free(&c->from_server);
    nl_line_init(&c->from_server, 65536);
    nl_buf_clear(&c->out);
    nl_buf_init(&c->out, 1024 * 1024);
    /* Sessions lived on the old server: their peers were told GONE. */
    c->nsess = 0;
    c->current[0] = 0;
    char m[2 * NL_ADDR_STRLEN + NAME_CAP + 96];
    snprintf(m, sizeof m, "* server %s went away; reconnected to %s%s%s", old, c->where,
             c->me[0] ? ", registering again as " : "", c->me);
    note(c, m);
    if (c->me[0]) {
        c->renick = 20; /* a killed server's names are free within ~3 s: try for a while */
        send_nick(c);
    }
    return 0;
}

static int on_user_piped(void *ud, uint8_t *line, size_t len, int status)
{
    struct cc *c = ud;
    if (status != NL_LINE_OK) {
        note(c, "! input line too long (4096 bytes at most); skipped");
        return 0;
    }
    if (!c->quitting)
        on_user_line(c, line, len);
    return 0;
}

/* One key (or byte of one) typed at the terminal. */
static void on_key(struct cc *c, uint8_t k)
{
    char line[NL_EDIT_MAX + 8];
    size_t n;
    switch (nl_edit_key(&c->ed, k, line, &n)) {
    case NL_EDIT_LINE:
        puts_(c, "\r\n");
        on_user_line(c, (const uint8_t *)line, n);
        prompt(c);
        return;
    case NL_EDIT_EOF:
        puts_(c, "\r\n");
        start_quit(c);
        return;
    case NL_EDIT_CHANGED:
        prompt(c);
        return;
    default:
        return;
    }
}

static void on_input(struct nl_loop *loop, int fd, int revents, void *ud)
{
    struct cc *c = ud;
    uint8_t buf[4096];
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (r <= 0) {
        nl_loop_remove(loop, fd);
        if (!c->interactive)
            nl_line_finish(&c->from_user, on_user_piped, c);
        start_quit(c);
        return;
    }
    if (c->interactive) {
        for (ssize_t i = 0; i < r; i++)
            on_key(c, buf[i]);
    } else {
        nl_line_feed(&c->from_user, buf, (size_t)r, on_user_piped, c);
    }
}

int nl_chat_client_run(const struct nl_chat_client_config *cfg, char *errbuf)
{
    struct cc *c = calloc(1, sizeof *c);
    if (!c)
        return nl_err(errbuf, NL_ENOMEM, "chat client: out of memory");
    c->cfg = cfg;
    c->fd = -1;
    c->show = malloc(SHOW_CAP);
    nl_line_init(&c->from_server, 65536);
    nl_line_init(&c->from_user, NL_CHAT_MAX_LINE);
    nl_buf_init(&c->out, 1024 * 1024);
    int rc = NL_OK;
    if (!c->show) {
        rc = nl_err(errbuf, NL_ENOMEM, "chat client: out of memory");
        goto out;
    }
    if (cfg->handle_signals && (rc = nl_signals_install(errbuf)) < 0)
        goto out;
    if (cfg->servers && *cfg->servers) {
        if ((rc = parse_servers(c, cfg->servers, errbuf)) < 0 || (rc = connect_next(c, c->nsrv, errbuf)) < 0)
            goto out;
    } else {
        struct nl_addr peer;
        rc = nl_sock_connect(cfg->host, cfg->port, 10000, &peer, errbuf);
        if (rc < 0)
            goto out;
        c->fd = rc;
        nl_addr_format(&peer, c->where, sizeof c->where);
    }
    if ((rc = nl_loop_create(&c->loop, errbuf)) < 0)
        goto out;
    if (cfg->handle_signals)
        nl_loop_watch_flag(c->loop, nl_stop_flag());
    c->interactive = cfg->interactive >= 0 ? cfg->interactive : (isatty(cfg->in_fd) && isatty(cfg->out_fd));
    if ((rc = nl_loop_add(c->loop, c->fd, POLLIN, on_socket, c, errbuf)) < 0)
        goto out;
    if ((rc = nl_loop_add(c->loop, cfg->in_fd, POLLIN, on_input, c, errbuf)) < 0)
        goto out;
    if (c->interactive)
        nl_edit_raw(&c->ed, cfg->in_fd);
    char hello[NL_ADDR_STRLEN + 96];
    snprintf(hello, sizeof hello, "* connected to %s; /help lists the commands", c->where);
    note(c, hello);
    if (cfg->nick && *cfg->nick) {
        char l[NAME_CAP + 8];
        int n = snprintf(l, sizeof l, "NICK %.*s", NL_CHAT_MAX_NAME + 1, cfg->nick);
        send_line(c, l, (size_t)n);
    }
    rc = nl_loop_run(c->loop, errbuf);
    if (rc >= 0) {
        if (!c->done)
            note(c, "* interrupted");
        rc = c->rc;
        if (rc < 0)
            nl_err(errbuf, rc, "%s", c->err);
    }
    if (c->interactive)
        puts_(c, "\r\033[K");
out:
    nl_edit_restore(&c->ed);
    if (c->fd >= 0)
        close(c->fd);
    nl_loop_destroy(c->loop);
    nl_line_free(&c->from_server);
    nl_line_free(&c->from_user);
    nl_buf_clear(&c->out);
    free(c->sess);
    free(c->show);
    free(c->srv_host);
    free(c->srv_port);
    free(c);
    return rc;
}
