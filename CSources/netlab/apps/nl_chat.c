/*
 * nl_chat.c - the chat server: lines in (checked, parsed, dispatched from a
 * table of verbs), replies out, and the server's life. Speaks only through
 * nl_conn (lines in, lines out); never touches a socket itself. Users, their
 * sessions and the room live in nl_chatusers.c and nl_chatsession.c; other
 * servers are reached only through the mechanism of nl_chatnet.h (in-process
 * when alone), whose calls into this server come in through chat_sink.
 * Knows nothing of capture: what else runs on its loop (chatserver --capture,
 * lab/nl_chatcap.c) comes in through cfg.attach/cfg.detach.
 */
#include "netlab/nl_log.h"
#include "netlab/nl_signal.h"
#include "netlab/nl_text.h"
#include "nl_chat_int.h"
#include "nl_app.h"
#include "nl_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Static_assert(NL_CHATNET_MAX_NAME == NL_CHAT_MAX_NAME, "the seam's name limit is the protocol's");
_Static_assert(NL_CHATNET_MAX_LINE == NL_CHAT_MAX_LINE, "the seam's line limit is the protocol's");
_Static_assert(NL_NAMETAB_MAX == NL_CHAT_MAX_NAME, "the name table holds the protocol's longest name");

static const char HELP_LINE[] =
    "OK HELP NICK <name> | LIST | WHO <user> | CHAT <user> | ACCEPT <user> | DECLINE <user> | "
    "MSG <user> <text> | LEAVE <user> | SESSIONS | JOIN | PART | SAY <text> | PING [token] | QUIT [reason] | HELP\n";
static const char GREETING[] = "HELLO netlab-chat 1: register with NICK <name>; HELP lists the commands\n";
static const char UNAVAILABLE[] = "ERR 503 cluster unavailable\n";

void nl_chat_config_init(struct nl_chat_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_output = 1024 * 1024;
    cfg->soft_output = cfg->max_output / 4;
    cfg->soft_output_ms = 10000;
    cfg->login_timeout_ms = 60000;
    cfg->line_timeout_ms = 60000;
    cfg->max_sessions = 256;
    cfg->max_input = NL_SERVER_MAX_INPUT;
    cfg->keepalive_idle_s = NL_KEEPALIVE_IDLE_S;
    cfg->keepalive_intvl_s = NL_KEEPALIVE_INTVL_S;
    cfg->keepalive_cnt = NL_KEEPALIVE_CNT;
}

static int net_ready(const struct nl_chat_server *s) { return s->net->ops->state(s->net) == NL_CHATNET_READY; }

/* ---- the user a command names ---- */

static void peer_set(struct chat_peer *t, struct chat_user *u, int node, const char *name, size_t n)
{
    t->u = u;
    t->node = node;
    t->len = (uint8_t)n;
    memcpy(t->name, name, n);
    t->name[n] = 0;
}

static void no_such_user(struct nl_conn *c, const struct nl_chat_cmd *cmd)
{
    if (nl_chat_name_valid(cmd->arg, cmd->arg_len))
        chat_say(c, "ERR 404 no such user: %.*s\n", (int)cmd->arg_len, (const char *)cmd->arg);
    else
        chat_say(c, "ERR 404 no such user: names are 1-%d of A-Z a-z 0-9 _ -\n", NL_CHAT_MAX_NAME);
}

/*
 * Resolve the user cmd names: here; on another node as the directory's copy has it, as a lookup
 * just found it, or as a session of me knows it. 0 when it could not be (the reply is given), or
 * when the directory's authority was asked (the command runs again with its answer).
 */
static int resolve(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd,
                   struct chat_peer *t)
{
    const char *a = (const char *)cmd->arg;
    size_t an = cmd->arg_len;
    struct chat_user *u = chat_find(s, cmd->arg, an);
    if (u) {
        peer_set(t, u, 0, u->e.name, u->e.len);
        return 1;
    }
    if (!net_ready(s)) {
        if (cmd->verb == NL_CHAT_MSG && nl_chat_name_valid(cmd->arg, an))
            chat_say(c, "ERR 503 cluster unavailable: message to %.*s not delivered\n", (int)an, a);
        else
            nl_conn_write(c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
        return 0;
    }
    char name[NAME_CAP];
    int node;
    const struct chat_link *l;
    if (s->net->ops->locate(s->net, a, an, name, &node)) {
        peer_set(t, NULL, node, name, strlen(name));
    } else if (s->looked_up && nl_name_same(s->looked_up->name, s->looked_up->len, a, an)) {
        *t = *s->looked_up;
    } else if ((l = chat_sess_named(me, cmd->arg, an)) && !l->u) {
        peer_set(t, NULL, l->node, l->name, l->len);
    } else {
        if (!s->rerunning && nl_chat_name_valid(cmd->arg, an)) {
            /* Perhaps registered a moment ago elsewhere, its announcement still on the way: ask. The
             * command's own bytes run again: from the verb to the end of its name, or of its text. */
            const uint8_t *end = cmd->arg + an;
            if (cmd->has_text && cmd->text + cmd->text_len > end)
                end = cmd->text + cmd->text_len;
            if (chat_wait_lookup(s, c, cmd->word, (size_t)(end - cmd->word), cmd->arg, an) != NL_ENOTFOUND)
                return 0;
        }
        no_such_user(c, cmd);
        return 0;
    }
    return 1;
}

/* ---- commands ---- */

typedef void (*verb_fn)(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me,
                        const struct nl_chat_cmd *cmd, const struct chat_peer *t);

static void cmd_nick(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd,
                     const struct chat_peer *t)
{
    if (me) {
        if (nl_name_same(me->e.name, me->e.len, (const char *)cmd->arg, cmd->arg_len))
            chat_say(c, "OK NICK %s\n", me->e.name);
        else
            chat_say(c, "ERR 409 already registered as %s\n", me->e.name);
        return;
    }
    if (!nl_chat_name_valid(cmd->arg, cmd->arg_len)) {
        chat_say(c, "ERR 422 invalid name: use 1-%d characters from A-Z a-z 0-9 _ -\n", NL_CHAT_MAX_NAME);
        return;
    }
    struct chat_user *holder = chat_find(s, cmd->arg, cmd->arg_len);
    if (!holder)
        holder = chat_find_alike(s, cmd->arg, cmd->arg_len);
    if (holder) { /* an idle holder's host is probed first: a vanished one loses the name at once */
        if (!chat_wait_probe(s, c, cmd->word, (size_t)(cmd->arg + cmd->arg_len - cmd->word), holder))
            chat_say_taken(c, (const char *)cmd->arg, cmd->arg_len, holder->e.name, holder->e.len);
        return;
    }
    if (!net_ready(s)) {
        nl_conn_write(c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
        return;
    }
    chat_wait_claim(s, c, (const char *)cmd->arg, cmd->arg_len); /* the directory gives it (perhaps at once) */
}

/* A USERS line being filled: head bytes of "USERS <total>", then " <name>" while they fit. */
struct users_line {
    char line[NL_CHAT_MAX_LINE + 1];
    size_t head, n;
    int sent_any;
};

/* One name onto the line; a full line is sent first. <0: the connection failed. */
static int users_add(struct nl_conn *c, struct users_line *l, const char *name, size_t len)
{
    if (l->n + 1 + len > NL_CHAT_MAX_LINE) {
        l->line[l->n++] = '\n';
        if (nl_conn_write(c, l->line, l->n) < 0)
            return -1;
        l->sent_any = 1;
        l->n = l->head;
    }
    l->line[l->n++] = ' ';
    memcpy(l->line + l->n, name, len);
    l->n += len;
    return 0;
}

/* USERS <total> <name>...: split so that no line passes the protocol's line limit; users here, then elsewhere. */
static void cmd_list(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd,
                     const struct chat_peer *t)
{
    struct users_line l;
    int head = snprintf(l.line, sizeof l.line, "USERS %zu", s->names.n + s->net->ops->count(s->net, 0));
    l.head = l.n = (size_t)head;
    l.sent_any = 0;
    for (size_t b = 0; b < s->names.nb; b++)
        for (struct nl_nament *e = s->names.b[b]; e; e = e->next)
            if (users_add(c, &l, e->name, e->len) < 0)
                return;
    const char *rn;
    size_t rl;
    struct nl_chatnet_iter it = {0, 0, NULL};
    while (s->net->ops->next(s->net, &it, &rn, &rl))
        if (users_add(c, &l, rn, rl) < 0)
            return;
    if (l.n > l.head || !l.sent_any) {
        l.line[l.n++] = '\n';
        nl_conn_write(c, l.line, l.n);
    }
}

/* "USER <name> <seconds> <sessions>[ room]" of a user here, without newline or node. */
static int describe(const struct nl_chat_server *s, const struct chat_user *u, char *out, size_t cap)
{
    uint64_t secs = (nl_loop_now(s->svc.loop) - u->since) / 1000;
    int k = snprintf(out, cap, "USER %s %llu %u%s", u->e.name, (unsigned long long)secs, chat_sess_on(u, NULL, NULL, 0),
                     u->room_index != NOT_LISTED ? " room" : "");
    return k < 0 || (size_t)k >= cap ? NL_ELIMIT : k;
}

static void cmd_who(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd,
                    const struct chat_peer *t)
{
    if (!t->u) { /* its sessions and room are known only on its own node: ask there */
        chat_wait_who(s, c, t->node, t->name, t->len);
        return;
    }
    char line[NL_CHAT_MAX_LINE];
    int k = describe(s, t->u, line, sizeof line);
    const char *node = s->net->ops->node_name(s->net, 0);
    if (k > 0)
        chat_say(c, "%s%s%s\n", line, node ? " @" : "", node ? node : "");
}

static void cmd_chat(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd,
                     const struct chat_peer *t)
{
    chat_sess_chat(s, me, t);
}

static void cmd_accept(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me,
                       const struct nl_chat_cmd *cmd, const struct chat_peer *t)
{
    chat_sess_answer(s, me, t, cmd->verb == NL_CHAT_ACCEPT);
}

static void cmd_msg(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd,
                    const struct chat_peer *t)
{
    chat_sess_msg(s, me, t, cmd->text, cmd->text_len);
}

static void cmd_leave(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me,
                      const struct nl_chat_cmd *cmd, const struct chat_peer *t)
{
    chat_sess_leave(s, me, t);
}

static void cmd_sessions(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me,
                         const struct nl_chat_cmd *cmd, const struct chat_peer *t)
{
    char line[NL_CHAT_MAX_LINE + 1];
    size_t n = (size_t)snprintf(line, sizeof line, "SESSIONS %u", chat_sess_on(me, NULL, NULL, 0));
    chat_sess_on(me, line, &n, sizeof line - 1);
    line[n++] = '\n';
    nl_conn_write(c, line, n);
}

static void cmd_join(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd,
                     const struct chat_peer *t)
{
    if (me->room_index != NOT_LISTED) {
        chat_say(c, "ERR 409 already in the room\n");
        return;
    }
    for (size_t i = 0; i < s->nroom; i++)
        chat_say(s->room[i]->conn, "JOINED %s\n", me->e.name);
    if (chat_room_add(s, me) < 0) {
        chat_say(c, "ERR 503 server out of memory\n");
        return;
    }
    s->net->ops->room(s->net, NL_CHATNET_JOINED, me->e.name, me->e.len, NULL, 0);
    chat_say(c, "OK JOIN %zu\n", s->nroom + s->net->ops->count(s->net, 1));
}

static void cmd_part(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd,
                     const struct chat_peer *t)
{
    if (me->room_index == NOT_LISTED) {
        chat_say(c, "ERR 403 not in the room\n");
        return;
    }
    chat_room_remove(s, me, 1);
    chat_say(c, "OK PART\n");
}

static void cmd_say(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd,
                    const struct chat_peer *t)
{
    if (me->room_index == NOT_LISTED) {
        chat_say(c, "ERR 403 not in the room: JOIN first\n");
        return;
    }
    for (size_t i = 0; i < s->nroom; i++)
        if (s->room[i] != me)
            chat_relay(s->room[i]->conn, "ROOM", 4, me->e.name, me->e.len, cmd->text, cmd->text_len);
    s->net->ops->room(s->net, NL_CHATNET_SAY, me->e.name, me->e.len, cmd->text, cmd->text_len);
}

static void cmd_ping(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd,
                     const struct chat_peer *t)
{
    if (cmd->has_text)
        chat_say(c, "PONG %.*s\n", (int)cmd->text_len, (const char *)cmd->text);
    else
        chat_say(c, "PONG\n");
}

static void cmd_quit(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd,
                     const struct chat_peer *t)
{
    chat_say(c, "OK QUIT\n");
    nl_conn_close(c, NL_CLOSE_LOCAL);
}

static void cmd_help(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd,
                     const struct chat_peer *t)
{
    nl_conn_write(c, HELP_LINE, sizeof HELP_LINE - 1);
}

/* The verbs, as Redis dispatches its commands from a table. */
static const struct verb {
    verb_fn fn;
    uint8_t anyone;  /* allowed before NICK */
    uint8_t net;     /* needs the other nodes: ERR 503 while cut off from them */
    uint8_t target;  /* names a user, resolved before fn runs */
} verbs[] = {
    [NL_CHAT_NICK] = {cmd_nick, 1, 0, 0},     [NL_CHAT_LIST] = {cmd_list, 0, 1, 0},
    [NL_CHAT_WHO] = {cmd_who, 0, 0, 1},       [NL_CHAT_CHAT] = {cmd_chat, 0, 0, 1},
    [NL_CHAT_ACCEPT] = {cmd_accept, 0, 0, 1}, [NL_CHAT_DECLINE] = {cmd_accept, 0, 0, 1},
    [NL_CHAT_MSG] = {cmd_msg, 0, 0, 1},       [NL_CHAT_LEAVE] = {cmd_leave, 0, 0, 1},
    [NL_CHAT_SESSIONS] = {cmd_sessions, 0, 0, 0}, [NL_CHAT_JOIN] = {cmd_join, 0, 1, 0},
    [NL_CHAT_PART] = {cmd_part, 0, 0, 0},     [NL_CHAT_SAY] = {cmd_say, 0, 1, 0},
    [NL_CHAT_PING] = {cmd_ping, 1, 0, 0},     [NL_CHAT_QUIT] = {cmd_quit, 1, 0, 0},
    [NL_CHAT_HELP] = {cmd_help, 1, 0, 0},
};

/* A parsed, well-formed command of a connection allowed to give it. */
static void dispatch(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd)
{
    const struct verb *v = &verbs[cmd->verb];
    if (v->net && !net_ready(s)) {
        nl_conn_write(c, UNAVAILABLE, sizeof UNAVAILABLE - 1);
        return;
    }
    struct chat_peer t;
    if (v->target && !resolve(s, c, me, cmd, &t))
        return;
    v->fn(s, c, me, cmd, v->target ? &t : NULL);
}

static void chat_line(struct nl_chat_server *s, struct nl_conn *c, uint8_t *line, size_t len)
{
    struct chat_user *me = nl_conn_data(c);
    struct nl_chat_cmd cmd;
    if (chat_hold_line(s, c, line, len))
        return; /* waiting for the directory: handled in order once it answers */
    if (s->net->ops->state(s->net) == NL_CHATNET_UNSURE && !chat_replaying(s, c)) {
        chat_wait_net(s, c, line, len); /* after a stall: nothing is served until the place is known */
        return;
    }
    if (!nl_utf8_valid(line, len)) {
        chat_say(c, "ERR 400 lines must be UTF-8 text\n");
        return;
    }
    if (!nl_chat_text_safe(line, len)) {
        /* Relayed raw, an ESC sequence, BEL or bare CR would act on the terminals of nc users. */
        chat_say(c, "ERR 400 lines must not hold control characters (ESC, CR, BEL, NUL, DEL, U+0080-U+009F; TAB is allowed)\n");
        return;
    }
    int rc = nl_chat_parse(line, len, &cmd);
    if (cmd.verb == NL_CHAT_EMPTY)
        return;
    if (cmd.verb == NL_CHAT_UNKNOWN || cmd.verb < 0 || (size_t)cmd.verb >= sizeof verbs / sizeof verbs[0]) {
        char shown[64];
        nl_text_sanitize(cmd.word, NL_MIN(cmd.word_len, (size_t)24), shown, sizeof shown);
        chat_say(c, "ERR 405 unknown command %s%s: HELP lists the commands\n", shown, cmd.word_len > 24 ? "..." : "");
        return;
    }
    if (!me && !verbs[cmd.verb].anyone) {
        chat_say(c, "ERR 401 register first: NICK <name>\n");
        return;
    }
    if (rc < 0) {
        chat_say(c, "ERR 400 %s %s\n", nl_chat_verb_name(cmd.verb), cmd.error);
        return;
    }
    dispatch(s, c, me, &cmd);
}

static void chat_rerun(struct nl_chat_server *s, struct nl_conn *c, const uint8_t *line, size_t len,
                const struct chat_peer *found)
{
    struct nl_chat_cmd cmd;
    struct chat_user *me = nl_conn_data(c);
    if (nl_chat_parse(line, len, &cmd) < 0 || cmd.verb <= NL_CHAT_UNKNOWN || (!me && cmd.verb != NL_CHAT_NICK))
        return; /* it was checked before it asked */
    s->rerunning = 1;
    s->looked_up = found;
    dispatch(s, c, me, &cmd);
    s->rerunning = 0;
    s->looked_up = NULL;
}

/* ---- nl_conn callbacks ---- */

static void on_open(struct nl_conn *c, void *ud) { nl_conn_write(c, GREETING, sizeof GREETING - 1); }

static void on_line(struct nl_conn *c, uint8_t *line, size_t len, void *ud) { chat_line(ud, c, line, len); }

static void on_too_long(struct nl_conn *c, size_t seen, void *ud)
{
    chat_say(c, "ERR 413 line too long: more than %d bytes; it was ignored\n", NL_CHAT_MAX_LINE);
}

static void on_shed(struct nl_conn *c, size_t held, void *ud)
{
    struct nl_chat_server *s = ud;
    char addr[NL_ADDR_STRLEN];
    logc_(s, "unfinished line from %s dropped after %zu bytes: input budget of %zu bytes spent",
          nl_conn_peer_text(c, addr), held, s->cfg.max_input);
    chat_say(c, "ERR 503 line dropped: the server holds too much unfinished input; send it again\n");
}

/* The last line a connection closed by the server gets, saying why. */
static void say_why_closed(const struct nl_chat_server *s, struct nl_conn *c, int reason)
{
    const struct nl_chat_config *cfg = &s->cfg;
    switch (reason) {
    case NL_CLOSE_OVERFLOW:
        chat_say(c, "ERR 507 you are not reading: more than %zu bytes were waiting for you; disconnected\n",
                 cfg->max_output);
        break;
    case NL_CLOSE_SLOW_READER:
        chat_say(c, "ERR 507 you are not reading: more than %zu bytes waited for you for %u s; disconnected\n",
                 cfg->soft_output, cfg->soft_output_ms / 1000);
        break;
    case NL_CLOSE_LOGIN_TIMEOUT:
        chat_say(c, "ERR 408 timed out: no NICK within %u s\n", cfg->login_timeout_ms / 1000);
        break;
    case NL_CLOSE_LINE_TIMEOUT:
        chat_say(c, "ERR 408 timed out: an incomplete line for %u s\n", cfg->line_timeout_ms / 1000);
        break;
    case NL_CLOSE_IDLE_TIMEOUT:
        chat_say(c, "ERR 408 timed out: idle for %u s\n", cfg->idle_timeout_ms / 1000);
        break;
    case NL_CLOSE_SHUTDOWN:
        chat_say(c, "ERR 503 server shutting down\n");
        break;
    default:
        break;
    }
}

static void on_closing(struct nl_conn *c, int reason, void *ud)
{
    struct nl_chat_server *s = ud;
    struct chat_user *me = nl_conn_data(c);
    say_why_closed(s, c, reason);
    char why[160];
    if (reason == NL_CLOSE_RESET && nl_conn_errno(c))
        snprintf(why, sizeof why, "%s (%s)", nl_close_reason_text(reason), strerror(nl_conn_errno(c)));
    else
        snprintf(why, sizeof why, "%s", reason == NL_CLOSE_LOCAL ? "quit" : nl_close_reason_text(reason));
    chat_wait_conn_closing(s, c);
    if (me) {
        char name[NAME_CAP];
        size_t n = me->e.len;
        memcpy(name, me->e.name, n);
        chat_user_gone(s, me, why, reason != NL_CLOSE_SHUTDOWN);
        chat_wait_holder_gone(s, name, n); /* NICKs of its name that waited on a probe go on */
    } else if (reason != NL_CLOSE_SHUTDOWN) {
        char addr[NL_ADDR_STRLEN];
        logc_(s, "disconnect %s (never registered): %s", nl_conn_peer_text(c, addr), why);
    }
}

static void on_refused(const struct nl_addr *peer, const char *why, void *ud)
{
    char addr[NL_ADDR_STRLEN];
    logc_((struct nl_chat_server *)ud, "refused %s: %s", nl_addr_format(peer, addr, sizeof addr), why);
}

/* Once per pass before output is written: what the pass gave the mechanism goes out (one PUBLISH per node). */
static void on_before_flush(void *ud)
{
    struct nl_chat_server *s = ud;
    s->net->ops->flush(s->net);
}

static const struct nl_server_ops chat_ops = {
    .before_flush = on_before_flush,
    .open = on_open,
    .line = on_line,
    .too_long = on_too_long,
    .shed = on_shed,
    .closing = on_closing,
    .refused = on_refused,
};

/* ---- what the mechanism asks of this server (nl_chatnet_sink) ---- */

static void sink_event(void *ud, int node, int ev, const char *from, size_t fn, const char *to, size_t tn,
                       const uint8_t *text, size_t tlen)
{
    chat_sess_event(ud, node, ev, from, fn, to, tn, text, tlen);
}

static void sink_undelivered(void *ud, int ev, int node, const char *from, size_t fn, const char *to, size_t tn)
{
    struct chat_user *u = chat_find(ud, (const uint8_t *)from, fn);
    if (!u)
        return;
    if (ev == NL_CHATNET_MSG)
        chat_say(u->conn, "ERR 503 cluster unavailable: message to %.*s not delivered\n", (int)tn, to);
    else if (ev == NL_CHATNET_REQ || ev == NL_CHATNET_ACC)
        chat_sess_gone(ud, node, to, tn); /* its server is gone: the session it opens cannot be */
}

static void sink_room(void *ud, const char *line, size_t n) { chat_room_line(ud, line, n); }

static void sink_gone(void *ud, int node, const char *name, size_t n) { chat_sess_gone(ud, node, name, n); }

static void sink_audit(void *ud) { chat_sess_audit(ud); }

static int sink_who(void *ud, const char *name, size_t n, char *out, size_t cap)
{
    struct chat_user *u = chat_find(ud, (const uint8_t *)name, n);
    return u ? describe(ud, u, out, cap) : NL_ENOTFOUND;
}

static void sink_each(void *ud, int claims, void (*fn)(void *arg, const char *name, size_t n, int in_room), void *arg)
{
    struct nl_chat_server *s = ud;
    for (size_t b = 0; b < s->names.nb; b++)
        for (struct nl_nament *e = s->names.b[b]; e; e = e->next)
            fn(arg, e->name, e->len, ((struct chat_user *)e)->room_index != NOT_LISTED);
    if (claims)
        chat_wait_each_claim(s, fn, arg);
}

static void sink_lost(void *ud, const char *name, size_t n, int why)
{
    struct chat_user *u = chat_find(ud, (const uint8_t *)name, n);
    if (!u)
        return;
    chat_say(u->conn, "ERR 409 name taken: %s was claimed on another server while the cluster was unavailable; "
             "disconnected\n", u->e.name);
    nl_conn_close(u->conn, NL_CLOSE_LOCAL);
}

static void sink_state(void *ud, int state)
{
    if (state == NL_CHATNET_DOWN)
        chat_wait_fail_all(ud); /* every answer awaited is lost with the connection */
    else if (state == NL_CHATNET_READY)
        chat_wait_net_known(ud);
}

static size_t sink_users(void *ud) { return ((struct nl_chat_server *)ud)->names.n; }

static void sink_fatal(void *ud, int code, const char *text) { nl_chat_server_fail(ud, code, text); }

static const struct nl_chatnet_sink chat_sink = {
    .answer = chat_wait_answer, .event = sink_event, .undelivered = sink_undelivered, .room = sink_room,
    .gone = sink_gone, .audit = sink_audit, .who = sink_who, .each = sink_each, .lost = sink_lost,
    .state = sink_state, .users = sink_users, .fatal = sink_fatal, .probe = chat_wait_asked,
};

/* The in-process mechanism always (it stands in once the other goes), and Redis's with cluster_url. */
static int net_start(struct nl_chat_server *s, char *errbuf)
{
    struct nl_chatnet_config alone = {0};
    int rc = nl_chatnet_open(&s->alone, s->svc.loop, &alone, &chat_sink, s, errbuf);
    if (rc < 0)
        return rc;
    s->net = s->alone;
    if (!s->cfg.cluster_url)
        return NL_OK;
    char node[96];
    if (s->cfg.cluster_node) {
        snprintf(node, sizeof node, "%s", s->cfg.cluster_node);
    } else {
        char host[64] = "chat";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = 0;
        snprintf(node, sizeof node, "%.40s-%u", host, nl_chat_server_port(s));
    }
    struct nl_chatnet_config nc = {
        .url = s->cfg.cluster_url, .node = node, .allow_eviction = s->cfg.cluster_allow_eviction,
        .log = s->cfg.log, .log_ud = s->cfg.log_ud, .quiet = s->cfg.quiet,
    };
    return nl_chatnet_open(&s->net, s->svc.loop, &nc, &chat_sink, s, errbuf);
}

static void net_stop(struct nl_chat_server *s)
{
    if (s->net && s->net != s->alone)
        s->net->ops->close(s->net);
    s->net = s->alone;
}

/* ---- the server ---- */

static void server_config(const struct nl_chat_server *s, struct nl_server_config *sc)
{
    const struct nl_chat_config *cfg = &s->cfg;
    nl_server_config_init(sc);
    sc->host = cfg->host;
    sc->port = cfg->port;
    sc->max_line = NL_CHAT_MAX_LINE;
    sc->max_output = cfg->max_output;
    sc->soft_output = cfg->soft_output;         /* a flooder is slowed down, its readers are not dropped */
    sc->soft_output_ms = cfg->soft_output_ms;
    sc->max_conns = cfg->max_clients;
    sc->max_input = cfg->max_input ? cfg->max_input : NL_SERVER_MAX_INPUT;
    sc->login_timeout_ms = cfg->login_timeout_ms;
    sc->line_timeout_ms = cfg->line_timeout_ms;
    sc->idle_timeout_ms = cfg->idle_timeout_ms;
    sc->keepalive_idle_s = cfg->keepalive_idle_s;
    sc->keepalive_intvl_s = cfg->keepalive_intvl_s;
    sc->keepalive_cnt = cfg->keepalive_cnt;
    sc->full_line = "ERR 503 server full: try again later\n";
}

int nl_chat_server_open(struct nl_chat_server **out, const struct nl_chat_config *cfg, char *errbuf)
{
    *out = NULL;
    struct nl_chat_server *s = calloc(1, sizeof *s);
    if (!s)
        return nl_err(errbuf, NL_ENOMEM, "chat server: out of memory");
    s->cfg = *cfg;
    s->names.first = s->skels.first = 1024;
    if (!s->cfg.max_sessions)
        s->cfg.max_sessions = 256;
    if (!s->cfg.max_output)
        s->cfg.max_output = 1024 * 1024;
    int rc = NL_OK;
    struct nl_server_config sc;
    server_config(s, &sc);
    if ((rc = nl_service_open(&s->svc, cfg->handle_signals, &sc, &chat_ops, s, errbuf)) < 0)
        goto fail;
    if (cfg->log == nl_logger_line && cfg->log_ud)
        nl_logger_attach(cfg->log_ud, s->svc.loop, NULL); /* a slow log reader is served by the loop, never waited for */
    char addrs[NL_LISTEN_MAX * NL_ADDR_STRLEN];
    logf_(s, "listening on %s (port %u, up to %u clients)", nl_server_listen_text(s->svc.srv, addrs, sizeof addrs),
          nl_server_listeners(s->svc.srv)->port, nl_server_max_conns(s->svc.srv));
    if (cfg->attach) {
        if ((rc = cfg->attach(s, cfg->attach_ud, errbuf)) < 0)
            goto fail;
        s->attached = 1;
    }
    if ((rc = chat_wait_open(s, chat_line, chat_rerun, errbuf)) < 0 || (rc = net_start(s, errbuf)) < 0)
        goto fail;
    *out = s;
    return NL_OK;
fail:
    if (s->attached)
        cfg->detach(s, cfg->attach_ud, 1, NULL);
    if (cfg->log == nl_logger_line && cfg->log_ud)
        nl_logger_detach(cfg->log_ud);
    chat_wait_close(s);
    net_stop(s);
    nl_service_close(&s->svc, NULL);
    if (s->alone)
        s->alone->ops->close(s->alone);
    free(s);
    return rc;
}

uint16_t nl_chat_server_port(const struct nl_chat_server *s) { return nl_server_listeners(s->svc.srv)->port; }
size_t nl_chat_server_users(const struct nl_chat_server *s) { return s->names.n; }

int nl_chat_server_serve(struct nl_chat_server *s, char *errbuf) { return nl_service_serve(&s->svc, errbuf); }

void nl_chat_server_stop(struct nl_chat_server *s) { nl_loop_stop(s->svc.loop); }

struct nl_loop *nl_chat_server_loop(struct nl_chat_server *s) { return s->svc.loop; }

void nl_chat_server_fail(struct nl_chat_server *s, int code, const char *text) { nl_service_fail(&s->svc, code, text); }

int nl_chat_server_close(struct nl_chat_server *s, char *errbuf)
{
    if (!s)
        return NL_OK;
    int rc = NL_OK;
    struct nl_server_stats st;
    /* The mechanism goes first (the other nodes forget this one's users at once), while the loop still exists;
     * the in-process one stands in for the users' departures below. */
    net_stop(s);
    if (s->cfg.log == nl_logger_line && s->cfg.log_ud)
        nl_logger_detach(s->cfg.log_ud);
    chat_wait_close(s);
    nl_service_close(&s->svc, &st);
    if (s->attached)
        rc = s->cfg.detach(s, s->cfg.attach_ud, s->svc.fatal != 0, errbuf);
    logf_(s, "stopped: %llu connections, %llu refused, %llu lines, %llu dropped for not reading, %llu timed out, "
          "%llu times a sender was slowed for a reader",
          (unsigned long long)st.accepted, (unsigned long long)st.refused, (unsigned long long)st.lines,
          (unsigned long long)st.overflows, (unsigned long long)st.timeouts, (unsigned long long)st.held);
    s->alone->ops->close(s->alone);
    chat_users_free(s);
    free(s);
    return rc;
}

NL_APP_RUN_FN(chat)
