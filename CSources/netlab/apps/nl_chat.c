/*
 * nl_chat.c - the chat server: registered users in a case-insensitive name
 * table, sessions as mirrored links between two users, the broadcast room.
 * Speaks only through nl_conn (lines in, lines out); never touches a socket
 * itself. Knows nothing of capture: what else runs on its loop (chatserver
 * --capture, lab/nl_chatcap.c) comes in through cfg.attach/cfg.detach.
 */
#include "netlab/nl_chat.h"
#include "netlab/nl_log.h"
#include "netlab/nl_signal.h"
#include "netlab/nl_text.h"
#include "nl_cluster.h"
#include "nl_app.h"
#include "nl_internal.h"

#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { LINK_OUT = 1, LINK_IN = 2, LINK_ON = 3 }; /* I asked / they asked / accepted */

struct chat_user;

struct chat_link {
    struct chat_user *peer;
    uint8_t state;
};

struct chat_user {
    struct nl_conn *conn;
    struct chat_user *hnext;    /* name table chain */
    struct chat_link *links;    /* allocated with the first session */
    uint32_t nlinks, caplinks;
    uint32_t room_index;        /* UINT32_MAX: not in the room */
    uint32_t hash;
    uint64_t since;             /* ms, registration */
    uint8_t name_len;
    char name[NL_CHAT_MAX_NAME + 1];
};

struct nl_chat_server {
    struct nl_chat_config cfg;
    struct nl_service svc;       /* loop, server, and a fatal error raised by a callback */
    struct chat_user **table;
    size_t nbuckets, nusers;
    struct chat_user **room;
    size_t nroom, caproom;
    int attached;                /* cfg.attach succeeded: cfg.detach is owed */
    struct nl_cluster *cluster;  /* NULL without --cluster: nothing below touches Redis */
};

#define NOT_IN_ROOM UINT32_MAX

static const char HELP_LINE[] =
    "OK HELP NICK <name> | LIST | WHO <user> | CHAT <user> | ACCEPT <user> | DECLINE <user> | "
    "MSG <user> <text> | LEAVE <user> | SESSIONS | JOIN | PART | SAY <text> | PING [token] | QUIT [reason] | HELP\n";

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
}

/* ---- output helpers ---- */

void nl_chat_say(struct nl_conn *c, const char *fmt, ...)
{
    char line[NL_CHAT_MAX_LINE + 256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = (int)sizeof line - 1;
    nl_conn_write(c, line, (size_t)n);
}

/* "<word> <name> <text>\n" without a format pass: the relay's hot path. */
static void relay(struct nl_conn *to, const char *word, size_t wlen, const struct chat_user *from, const uint8_t *text,
                  size_t tlen)
{
    size_t n = wlen + 1 + from->name_len + 1 + tlen + 1;
    uint8_t *p = nl_conn_reserve(to, n);
    if (!p)
        return;
    memcpy(p, word, wlen);
    p += wlen;
    *p++ = ' ';
    memcpy(p, from->name, from->name_len);
    p += from->name_len;
    *p++ = ' ';
    memcpy(p, text, tlen);
    p += tlen;
    *p = '\n';
    nl_conn_commit(to, n);
}

/* ---- the name table ---- */

static uint32_t name_hash(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a over the lower-cased name */
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + 32);
        h = (h ^ c) * 16777619u;
    }
    return h;
}

static int same_name(const struct chat_user *u, const uint8_t *p, size_t n)
{
    if (u->name_len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t a = (uint8_t)u->name[i], b = p[i];
        if (a >= 'A' && a <= 'Z')
            a = (uint8_t)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (uint8_t)(b + 32);
        if (a != b)
            return 0;
    }
    return 1;
}

static struct chat_user *find_user(const struct nl_chat_server *s, const uint8_t *p, size_t n)
{
    if (!s->nbuckets || !nl_chat_name_valid(p, n))
        return NULL;
    uint32_t h = name_hash(p, n);
    for (struct chat_user *u = s->table[h & (s->nbuckets - 1)]; u; u = u->hnext)
        if (u->hash == h && same_name(u, p, n))
            return u;
    return NULL;
}

static int table_insert(struct nl_chat_server *s, struct chat_user *u)
{
    if (s->nusers + 1 > s->nbuckets) {
        size_t nb = s->nbuckets ? s->nbuckets * 2 : 1024;
        struct chat_user **t = calloc(nb, sizeof *t);
        if (!t)
            return NL_ENOMEM;
        for (size_t i = 0; i < s->nbuckets; i++) {
            struct chat_user *x = s->table[i];
            while (x) {
                struct chat_user *next = x->hnext;
                x->hnext = t[x->hash & (nb - 1)];
                t[x->hash & (nb - 1)] = x;
                x = next;
            }
        }
        free(s->table);
        s->table = t;
        s->nbuckets = nb;
    }
    struct chat_user **b = &s->table[u->hash & (s->nbuckets - 1)];
    u->hnext = *b;
    *b = u;
    s->nusers++;
    return NL_OK;
}

static void table_remove(struct nl_chat_server *s, struct chat_user *u)
{
    for (struct chat_user **pp = &s->table[u->hash & (s->nbuckets - 1)]; *pp; pp = &(*pp)->hnext) {
        if (*pp == u) {
            *pp = u->hnext;
            s->nusers--;
            return;
        }
    }
}

/* ---- sessions: a link on each side ---- */

static struct chat_link *find_link(const struct chat_user *u, const struct chat_user *peer)
{
    for (uint32_t i = 0; i < u->nlinks; i++)
        if (u->links[i].peer == peer)
            return &u->links[i];
    return NULL;
}

static int add_link(struct chat_user *u, struct chat_user *peer, uint8_t state)
{
    if (u->nlinks == u->caplinks) {
        uint32_t cap = u->caplinks ? u->caplinks * 2 : 4;
        struct chat_link *l = realloc(u->links, cap * sizeof *l);
        if (!l)
            return NL_ENOMEM;
        u->links = l;
        u->caplinks = cap;
    }
    u->links[u->nlinks++] = (struct chat_link){.peer = peer, .state = state};
    return NL_OK;
}

static void drop_link(struct chat_user *u, const struct chat_user *peer)
{
    for (uint32_t i = 0; i < u->nlinks; i++) {
        if (u->links[i].peer == peer) {
            u->links[i] = u->links[--u->nlinks];
            break;
        }
    }
    if (u->nlinks == 0) {
        free(u->links);
        u->links = NULL;
        u->caplinks = 0;
    }
}

/* ---- the room ---- */

static int room_add(struct nl_chat_server *s, struct chat_user *u)
{
    if (NL_GROW(s->room, s->nroom, s->caproom, 64) < 0)
        return NL_ENOMEM;
    u->room_index = (uint32_t)s->nroom;
    s->room[s->nroom++] = u;
    return NL_OK;
}

static void room_remove(struct nl_chat_server *s, struct chat_user *u, int announce)
{
    if (u->room_index == NOT_IN_ROOM)
        return;
    s->room[u->room_index] = s->room[--s->nroom];
    s->room[u->room_index]->room_index = u->room_index;
    u->room_index = NOT_IN_ROOM;
    if (announce)
        for (size_t i = 0; i < s->nroom; i++)
            nl_chat_say(s->room[i]->conn, "PARTED %s\n", u->name);
    if (announce && s->cluster)
        nl_cluster_room_event(s->cluster, "PARTED", u->name, u->name_len, NULL, 0);
}

/* ---- leaving ---- */

/* Forget u entirely: every peer hears GONE, the name is free at once. */
static void user_gone(struct nl_chat_server *s, struct chat_user *u, const char *why, int notify)
{
    char addr[NL_ADDR_STRLEN];
    logc_(s, "gone %s %s: %s", u->name, nl_conn_peer_text(u->conn, addr), why);
    for (uint32_t i = 0; i < u->nlinks; i++) {
        struct chat_user *p = u->links[i].peer;
        drop_link(p, u);
        if (notify)
            nl_chat_say(p->conn, "GONE %s\n", u->name);
    }
    free(u->links);
    u->links = NULL;
    u->nlinks = 0;
    room_remove(s, u, notify);
    if (s->cluster)
        nl_cluster_user_gone(s->cluster, u->name, u->name_len);
    table_remove(s, u);
    nl_conn_set_data(u->conn, NULL);
    free(u);
}

/* ---- commands ---- */

static struct chat_user *target(struct nl_chat_server *s, struct nl_conn *c, const struct nl_chat_cmd *cmd)
{
    struct chat_user *t = find_user(s, cmd->arg, cmd->arg_len);
    if (!t) {
        if (nl_chat_name_valid(cmd->arg, cmd->arg_len))
            nl_chat_say(c, "ERR 404 no such user: %.*s\n", (int)cmd->arg_len, (const char *)cmd->arg);
        else
            nl_chat_say(c, "ERR 404 no such user: names are 1-%d of A-Z a-z 0-9 _ -\n", NL_CHAT_MAX_NAME);
    }
    return t;
}

static int register_user(struct nl_chat_server *s, struct nl_conn *c, const uint8_t *name, size_t len);

static void cmd_nick(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd)
{
    if (me) {
        if (same_name(me, cmd->arg, cmd->arg_len))
            nl_chat_say(c, "OK NICK %s\n", me->name);
        else
            nl_chat_say(c, "ERR 409 already registered as %s\n", me->name);
        return;
    }
    if (!nl_chat_name_valid(cmd->arg, cmd->arg_len)) {
        nl_chat_say(c, "ERR 422 invalid name: use 1-%d characters from A-Z a-z 0-9 _ -\n", NL_CHAT_MAX_NAME);
        return;
    }
    struct chat_user *other = find_user(s, cmd->arg, cmd->arg_len);
    if (other) {
        nl_chat_say(c, "ERR 409 name taken: %s\n", other->name);
        return;
    }
    register_user(s, c, cmd->arg, cmd->arg_len);
}

/* The name is free (here, and in the cluster if there is one): c becomes its user. */
static int register_user(struct nl_chat_server *s, struct nl_conn *c, const uint8_t *name, size_t len)
{
    struct chat_user *u = calloc(1, sizeof *u);
    if (!u) {
        nl_chat_say(c, "ERR 503 server out of memory\n");
        return NL_ENOMEM;
    }
    u->conn = c;
    u->name_len = (uint8_t)len;
    memcpy(u->name, name, len);
    u->hash = name_hash(name, len);
    u->room_index = NOT_IN_ROOM;
    u->since = nl_loop_now(s->svc.loop);
    if (table_insert(s, u) < 0) {
        free(u);
        nl_chat_say(c, "ERR 503 server out of memory\n");
        return NL_ENOMEM;
    }
    nl_conn_set_data(c, u);
    nl_conn_set_ready(c);
    nl_chat_say(c, "OK NICK %s\n", u->name);
    char addr[NL_ADDR_STRLEN];
    logc_(s, "join %s %s", u->name, nl_conn_peer_text(c, addr));
    return NL_OK;
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

/* USERS <total> <name>...: split so that no line passes the protocol's line limit. */
static void cmd_list(struct nl_chat_server *s, struct nl_conn *c)
{
    struct users_line l;
    int head = snprintf(l.line, sizeof l.line, "USERS %zu",
                        s->nusers + (s->cluster ? nl_cluster_remote_count(s->cluster) : 0));
    l.head = l.n = (size_t)head;
    l.sent_any = 0;
    for (size_t b = 0; b < s->nbuckets; b++) {
        for (struct chat_user *u = s->table[b]; u; u = u->hnext) {
            if (users_add(c, &l, u->name, u->name_len) < 0)
                return;
        }
    }
    const char *rn;
    size_t rl;
    struct nl_cluster_iter it = {0, NULL, 0};
    while (s->cluster && nl_cluster_remote_next(s->cluster, &it, &rn, &rl)) {
        if (users_add(c, &l, rn, rl) < 0) /* users of the other servers, split the same way */
            return;
    }
    if (l.n > l.head || !l.sent_any) {
        l.line[l.n++] = '\n';
        nl_conn_write(c, l.line, l.n);
    }
}

static void cmd_chat(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd)
{
    struct chat_user *t = target(s, c, cmd);
    if (!t)
        return;
    if (t == me) {
        nl_chat_say(c, "ERR 403 you cannot chat with yourself\n");
        return;
    }
    struct chat_link *l = find_link(me, t);
    if (l) {
        if (l->state == LINK_ON)
            nl_chat_say(c, "ERR 409 already in a session with %s\n", t->name);
        else if (l->state == LINK_OUT)
            nl_chat_say(c, "ERR 409 already asked %s; waiting for an answer\n", t->name);
        else
            nl_chat_say(c, "ERR 409 %s has asked you: ACCEPT %s or DECLINE %s\n", t->name, t->name, t->name);
        return;
    }
    /* The limit counts every session and request of a user, with users here and on other servers. */
    uint32_t mine = me->nlinks, theirs = t->nlinks;
    if (s->cluster) {
        mine += nl_cluster_links(s->cluster, me->name, me->name_len);
        theirs += nl_cluster_links(s->cluster, t->name, t->name_len);
    }
    if (mine >= s->cfg.max_sessions || theirs >= s->cfg.max_sessions) {
        nl_chat_say(c, "ERR 429 too many sessions (at most %u each)\n", s->cfg.max_sessions);
        return;
    }
    if (add_link(me, t, LINK_OUT) < 0) {
        nl_chat_say(c, "ERR 503 server out of memory\n");
        return;
    }
    if (add_link(t, me, LINK_IN) < 0) {
        drop_link(me, t);
        nl_chat_say(c, "ERR 503 server out of memory\n");
        return;
    }
    nl_chat_say(c, "OK CHAT %s\n", t->name);
    nl_chat_say(t->conn, "REQUEST %s\n", me->name);
    logc_(s, "session %s -> %s requested", me->name, t->name);
}

static void cmd_answer(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me,
                       const struct nl_chat_cmd *cmd, int accept)
{
    struct chat_user *t = target(s, c, cmd);
    if (!t)
        return;
    struct chat_link *l = find_link(me, t);
    if (!l || l->state != LINK_IN) {
        nl_chat_say(c, "ERR 403 %s has not asked you for a session\n", t->name);
        return;
    }
    if (accept) {
        l->state = LINK_ON;
        find_link(t, me)->state = LINK_ON;
        nl_chat_say(c, "OK ACCEPT %s\n", t->name);
        nl_chat_say(t->conn, "ACCEPTED %s\n", me->name);
        logc_(s, "session %s <-> %s accepted", t->name, me->name);
    } else {
        drop_link(me, t);
        drop_link(t, me);
        nl_chat_say(c, "OK DECLINE %s\n", t->name);
        nl_chat_say(t->conn, "DECLINED %s\n", me->name);
        logc_(s, "session %s -> %s declined", t->name, me->name);
    }
}

static void cmd_msg(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd)
{
    struct chat_user *t = target(s, c, cmd);
    if (!t)
        return;
    struct chat_link *l = find_link(me, t);
    if (!l || l->state != LINK_ON) {
        if (l && l->state == LINK_OUT)
            nl_chat_say(c, "ERR 403 %s has not accepted yet\n", t->name);
        else if (l)
            nl_chat_say(c, "ERR 403 %s has asked you: ACCEPT %s first\n", t->name, t->name);
        else
            nl_chat_say(c, "ERR 403 no session with %s: CHAT %s first\n", t->name, t->name);
        return;
    }
    relay(t->conn, "FROM", 4, me, cmd->text, cmd->text_len);
}

static void cmd_leave(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd)
{
    struct chat_user *t = target(s, c, cmd);
    if (!t)
        return;
    if (!find_link(me, t)) {
        nl_chat_say(c, "ERR 403 no session with %s\n", t->name);
        return;
    }
    drop_link(me, t);
    drop_link(t, me);
    nl_chat_say(c, "OK LEAVE %s\n", t->name);
    nl_chat_say(t->conn, "LEFT %s\n", me->name);
    logc_(s, "session %s x %s ended by %s", me->name, t->name, me->name);
}

static void cmd_who(struct nl_chat_server *s, struct nl_conn *c, const struct nl_chat_cmd *cmd)
{
    struct chat_user *t = target(s, c, cmd);
    if (!t)
        return;
    uint32_t on = 0;
    for (uint32_t i = 0; i < t->nlinks; i++)
        on += t->links[i].state == LINK_ON;
    uint64_t secs = (nl_loop_now(s->svc.loop) - t->since) / 1000;
    if (s->cluster) {
        on += nl_cluster_sessions(s->cluster, t->name, t->name_len, NULL, NULL, 0);
        nl_chat_say(c, "USER %s %llu %u%s @%s\n", t->name, (unsigned long long)secs, on,
            t->room_index != NOT_IN_ROOM ? " room" : "", nl_cluster_node(s->cluster));
        return;
    }
    nl_chat_say(c, "USER %s %llu %u%s\n", t->name, (unsigned long long)secs, on,
        t->room_index != NOT_IN_ROOM ? " room" : "");
}

static void cmd_sessions(struct nl_chat_server *s, struct nl_conn *c, const struct chat_user *me)
{
    char line[NL_CHAT_MAX_LINE + 1];
    uint32_t on = 0;
    for (uint32_t i = 0; i < me->nlinks; i++)
        on += me->links[i].state == LINK_ON;
    if (s->cluster)
        on += nl_cluster_sessions(s->cluster, me->name, me->name_len, NULL, NULL, 0);
    size_t n = (size_t)snprintf(line, sizeof line, "SESSIONS %u", on);
    for (uint32_t i = 0; i < me->nlinks; i++) {
        const struct chat_user *p = me->links[i].peer;
        if (me->links[i].state != LINK_ON)
            continue;
        if (n + 1 + p->name_len + 1 > sizeof line)
            break; /* 256 sessions of 32-byte names fit easily; never overrun */
        line[n++] = ' ';
        memcpy(line + n, p->name, p->name_len);
        n += p->name_len;
    }
    if (s->cluster)
        nl_cluster_sessions(s->cluster, me->name, me->name_len, line, &n, sizeof line - 1);
    line[n++] = '\n';
    nl_conn_write(c, line, n);
}

static void cmd_join(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me)
{
    if (me->room_index != NOT_IN_ROOM) {
        nl_chat_say(c, "ERR 409 already in the room\n");
        return;
    }
    for (size_t i = 0; i < s->nroom; i++)
        nl_chat_say(s->room[i]->conn, "JOINED %s\n", me->name);
    if (room_add(s, me) < 0) {
        nl_chat_say(c, "ERR 503 server out of memory\n");
        return;
    }
    if (s->cluster)
        nl_cluster_room_event(s->cluster, "JOINED", me->name, me->name_len, NULL, 0);
    nl_chat_say(c, "OK JOIN %zu\n", s->nroom + (s->cluster ? nl_cluster_remote_room(s->cluster) : 0));
}

static void cmd_say(struct nl_chat_server *s, struct nl_conn *c, struct chat_user *me, const struct nl_chat_cmd *cmd)
{
    if (me->room_index == NOT_IN_ROOM) {
        nl_chat_say(c, "ERR 403 not in the room: JOIN first\n");
        return;
    }
    for (size_t i = 0; i < s->nroom; i++)
        if (s->room[i] != me)
            relay(s->room[i]->conn, "ROOM", 4, me, cmd->text, cmd->text_len);
    if (s->cluster)
        nl_cluster_room_event(s->cluster, "ROOM", me->name, me->name_len, cmd->text, cmd->text_len);
}

/* ---- nl_conn callbacks ---- */

static const char GREETING[] = "HELLO netlab-chat 1: register with NICK <name>; HELP lists the commands\n";

static void on_open(struct nl_conn *c, void *ud) { nl_conn_write(c, GREETING, sizeof GREETING - 1); }

static void on_line(struct nl_conn *c, uint8_t *line, size_t len, void *ud)
{
    struct nl_chat_server *s = ud;
    struct chat_user *me = nl_conn_data(c);
    struct nl_chat_cmd cmd;
    if (s->cluster && nl_cluster_hold(s->cluster, c, line, len))
        return; /* waiting for the cluster: handled in order once it answers */
    if (!nl_utf8_valid(line, len)) {
        nl_chat_say(c, "ERR 400 lines must be UTF-8 text\n");
        return;
    }
    if (!nl_chat_text_safe(line, len)) {
        /* Relayed raw, an ESC sequence, BEL or bare CR would act on the terminals of nc users. */
        nl_chat_say(c, "ERR 400 lines must not hold control characters (ESC, CR, BEL, NUL, DEL, U+0080-U+009F; TAB is allowed)\n");
        return;
    }
    int rc = nl_chat_parse(line, len, &cmd);
    if (cmd.verb == NL_CHAT_EMPTY)
        return;
    if (cmd.verb == NL_CHAT_UNKNOWN) {
        char shown[64];
        nl_text_sanitize(cmd.word, NL_MIN(cmd.word_len, (size_t)24), shown, sizeof shown);
        nl_chat_say(c, "ERR 405 unknown command %s%s: HELP lists the commands\n", shown, cmd.word_len > 24 ? "..." : "");
        return;
    }
    if (!me && cmd.verb != NL_CHAT_NICK && cmd.verb != NL_CHAT_PING && cmd.verb != NL_CHAT_QUIT
        && cmd.verb != NL_CHAT_HELP) {
        nl_chat_say(c, "ERR 401 register first: NICK <name>\n");
        return;
    }
    if (rc < 0) {
        nl_chat_say(c, "ERR 400 %s %s\n", nl_chat_verb_name(cmd.verb), cmd.error);
        return;
    }
    if (s->cluster && nl_cluster_command(s->cluster, c, me ? me->name : NULL, me ? me->name_len : 0, &cmd))
        return; /* a user on another server, or something only Redis can answer */
    switch (cmd.verb) {
    case NL_CHAT_NICK: cmd_nick(s, c, me, &cmd); break;
    case NL_CHAT_LIST: cmd_list(s, c); break;
    case NL_CHAT_WHO: cmd_who(s, c, &cmd); break;
    case NL_CHAT_CHAT: cmd_chat(s, c, me, &cmd); break;
    case NL_CHAT_ACCEPT: cmd_answer(s, c, me, &cmd, 1); break;
    case NL_CHAT_DECLINE: cmd_answer(s, c, me, &cmd, 0); break;
    case NL_CHAT_MSG: cmd_msg(s, c, me, &cmd); break;
    case NL_CHAT_LEAVE: cmd_leave(s, c, me, &cmd); break;
    case NL_CHAT_SESSIONS: cmd_sessions(s, c, me); break;
    case NL_CHAT_JOIN: cmd_join(s, c, me); break;
    case NL_CHAT_PART:
        if (me->room_index == NOT_IN_ROOM) {
            nl_chat_say(c, "ERR 403 not in the room\n");
        } else {
            room_remove(s, me, 1);
            nl_chat_say(c, "OK PART\n");
        }
        break;
    case NL_CHAT_SAY: cmd_say(s, c, me, &cmd); break;
    case NL_CHAT_PING:
        if (cmd.has_text)
            nl_chat_say(c, "PONG %.*s\n", (int)cmd.text_len, (const char *)cmd.text);
        else
            nl_chat_say(c, "PONG\n");
        break;
    case NL_CHAT_QUIT:
        nl_chat_say(c, "OK QUIT\n");
        nl_conn_close(c, NL_CLOSE_LOCAL);
        break;
    case NL_CHAT_HELP: nl_conn_write(c, HELP_LINE, sizeof HELP_LINE - 1); break;
    }
}

static void on_too_long(struct nl_conn *c, size_t seen, void *ud)
{
    nl_chat_say(c, "ERR 413 line too long: more than %d bytes; it was ignored\n", NL_CHAT_MAX_LINE);
}

static void on_shed(struct nl_conn *c, size_t held, void *ud)
{
    struct nl_chat_server *s = ud;
    char addr[NL_ADDR_STRLEN];
    logc_(s, "unfinished line from %s dropped after %zu bytes: input budget of %zu bytes spent",
          nl_conn_peer_text(c, addr), held, s->cfg.max_input);
    nl_chat_say(c, "ERR 503 line dropped: the server holds too much unfinished input; send it again\n");
}

static void on_closing(struct nl_conn *c, int reason, void *ud)
{
    struct nl_chat_server *s = ud;
    struct chat_user *me = nl_conn_data(c);
    const struct nl_chat_config *cfg = &s->cfg;
    switch (reason) {
    case NL_CLOSE_OVERFLOW:
        nl_chat_say(c, "ERR 507 you are not reading: more than %zu bytes were waiting for you; disconnected\n",
            cfg->max_output);
        break;
    case NL_CLOSE_SLOW_READER:
        nl_chat_say(c, "ERR 507 you are not reading: more than %zu bytes waited for you for %u s; disconnected\n",
            cfg->soft_output, cfg->soft_output_ms / 1000);
        break;
    case NL_CLOSE_LOGIN_TIMEOUT:
        nl_chat_say(c, "ERR 408 timed out: no NICK within %u s\n", cfg->login_timeout_ms / 1000);
        break;
    case NL_CLOSE_LINE_TIMEOUT:
        nl_chat_say(c, "ERR 408 timed out: an incomplete line for %u s\n", cfg->line_timeout_ms / 1000);
        break;
    case NL_CLOSE_IDLE_TIMEOUT:
        nl_chat_say(c, "ERR 408 timed out: idle for %u s\n", cfg->idle_timeout_ms / 1000);
        break;
    case NL_CLOSE_SHUTDOWN:
        nl_chat_say(c, "ERR 503 server shutting down\n");
        break;
    default:
        break;
    }
    char why[160];
    if (reason == NL_CLOSE_RESET && nl_conn_errno(c))
        snprintf(why, sizeof why, "%s (%s)", nl_close_reason_text(reason), strerror(nl_conn_errno(c)));
    else
        snprintf(why, sizeof why, "%s", reason == NL_CLOSE_LOCAL ? "quit" : nl_close_reason_text(reason));
    if (s->cluster)
        nl_cluster_conn_closing(s->cluster, c);
    if (me) {
        user_gone(s, me, why, reason != NL_CLOSE_SHUTDOWN);
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

/* Once per pass before output is written: cross-server MSGs of the pass go out in one PUBLISH per server. */
static void on_before_flush(void *ud)
{
    struct nl_chat_server *s = ud;
    if (s->cluster)
        nl_cluster_flush(s->cluster);
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

/* ---- the cluster's view of this server (nl_cluster.h) ---- */

static struct nl_conn *cl_find(void *ud, const char *name, size_t n)
{
    struct chat_user *u = find_user(ud, (const uint8_t *)name, n);
    return u ? u->conn : NULL;
}

static int cl_registered(void *ud, struct nl_conn *c, const char *name, size_t n)
{
    struct nl_chat_server *s = ud;
    if (nl_conn_data(c) || find_user(s, (const uint8_t *)name, n)) {
        nl_chat_say(c, "ERR 409 name taken: %.*s\n", (int)n, name);
        return NL_EEXIST;
    }
    return register_user(s, c, (const uint8_t *)name, n);
}

static void cl_replay(void *ud, struct nl_conn *c, uint8_t *line, size_t n) { on_line(c, line, n, ud); }

static void cl_room(void *ud, const char *line, size_t n, const char *except, size_t exn)
{
    struct nl_chat_server *s = ud;
    for (size_t i = 0; i < s->nroom; i++)
        if (!except || !same_name(s->room[i], (const uint8_t *)except, exn))
            nl_conn_write(s->room[i]->conn, line, n);
}

static void cl_each(void *ud, void (*fn)(void *arg, const char *name, size_t n, int in_room), void *arg)
{
    struct nl_chat_server *s = ud;
    for (size_t b = 0; b < s->nbuckets; b++)
        for (struct chat_user *u = s->table[b]; u; u = u->hnext)
            fn(arg, u->name, u->name_len, u->room_index != NOT_IN_ROOM);
}

static int cl_who(void *ud, const char *name, size_t n, char *out, size_t cap)
{
    struct nl_chat_server *s = ud;
    struct chat_user *t = find_user(s, (const uint8_t *)name, n);
    if (!t)
        return NL_ENOTFOUND;
    uint32_t on = nl_cluster_sessions(s->cluster, t->name, t->name_len, NULL, NULL, 0);
    for (uint32_t i = 0; i < t->nlinks; i++)
        on += t->links[i].state == LINK_ON;
    uint64_t secs = (nl_loop_now(s->svc.loop) - t->since) / 1000;
    int k = snprintf(out, cap, "USER %s %llu %u%s", t->name, (unsigned long long)secs, on,
                     t->room_index != NOT_IN_ROOM ? " room" : "");
    return k < 0 || (size_t)k >= cap ? NL_ELIMIT : k;
}

static uint32_t cl_links(void *ud, const char *name, size_t n)
{
    struct chat_user *u = find_user(ud, (const uint8_t *)name, n);
    return u ? u->nlinks : 0;
}

static const struct nl_cluster_hooks cluster_hooks = {
    .find = cl_find, .registered = cl_registered, .replay = cl_replay, .room = cl_room,
    .each = cl_each, .who = cl_who, .links = cl_links,
};

static int cluster_start(struct nl_chat_server *s, char *errbuf)
{
    char node[96];
    if (s->cfg.cluster_node) {
        snprintf(node, sizeof node, "%s", s->cfg.cluster_node);
    } else {
        char host[64] = "chat";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = 0;
        snprintf(node, sizeof node, "%.40s-%u", host, nl_chat_server_port(s));
    }
    struct nl_cluster_config cc = {
        .url = s->cfg.cluster_url, .node = node, .max_sessions = s->cfg.max_sessions,
        .log = s->cfg.log, .log_ud = s->cfg.log_ud, .quiet = s->cfg.quiet,
    };
    return nl_cluster_open(&s->cluster, s->svc.loop, &cc, &cluster_hooks, s, errbuf);
}

/* ---- the server ---- */

int nl_chat_server_open(struct nl_chat_server **out, const struct nl_chat_config *cfg, char *errbuf)
{
    *out = NULL;
    struct nl_chat_server *s = calloc(1, sizeof *s);
    if (!s)
        return nl_err(errbuf, NL_ENOMEM, "chat server: out of memory");
    s->cfg = *cfg;
    if (!s->cfg.max_sessions)
        s->cfg.max_sessions = 256;
    if (!s->cfg.max_output)
        s->cfg.max_output = 1024 * 1024;
    int rc = NL_OK;
    struct nl_server_config sc;
    nl_server_config_init(&sc);
    sc.host = cfg->host;
    sc.port = cfg->port;
    sc.max_line = NL_CHAT_MAX_LINE;
    sc.max_output = s->cfg.max_output;
    sc.soft_output = s->cfg.soft_output;         /* a flooder is slowed down, its readers are not dropped */
    sc.soft_output_ms = s->cfg.soft_output_ms;
    sc.max_conns = cfg->max_clients;
    sc.max_input = s->cfg.max_input ? s->cfg.max_input : NL_SERVER_MAX_INPUT;
    sc.login_timeout_ms = cfg->login_timeout_ms;
    sc.line_timeout_ms = cfg->line_timeout_ms;
    sc.idle_timeout_ms = cfg->idle_timeout_ms;
    sc.full_line = "ERR 503 server full: try again later\n";
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
    if (cfg->cluster_url && (rc = cluster_start(s, errbuf)) < 0)
        goto fail;
    *out = s;
    return NL_OK;
fail:
    if (s->attached)
        cfg->detach(s, cfg->attach_ud, 1, NULL);
    if (cfg->log == nl_logger_line && cfg->log_ud)
        nl_logger_detach(cfg->log_ud);
    nl_service_close(&s->svc, NULL);
    free(s);
    return rc;
}

uint16_t nl_chat_server_port(const struct nl_chat_server *s) { return nl_server_listeners(s->svc.srv)->port; }
size_t nl_chat_server_users(const struct nl_chat_server *s) { return s->nusers; }

int nl_chat_server_serve(struct nl_chat_server *s, char *errbuf)
{
    return nl_service_serve(&s->svc, errbuf);
}

void nl_chat_server_stop(struct nl_chat_server *s) { nl_loop_stop(s->svc.loop); }

struct nl_loop *nl_chat_server_loop(struct nl_chat_server *s) { return s->svc.loop; }

void nl_chat_server_fail(struct nl_chat_server *s, int code, const char *text) { nl_service_fail(&s->svc, code, text); }

int nl_chat_server_close(struct nl_chat_server *s, char *errbuf)
{
    if (!s)
        return NL_OK;
    int rc = NL_OK;
    struct nl_server_stats st;
    /* The cluster goes first (its users' peers elsewhere get GONE through it), while the loop still exists. */
    nl_cluster_close(s->cluster);
    s->cluster = NULL;
    if (s->cfg.log == nl_logger_line && s->cfg.log_ud)
        nl_logger_detach(s->cfg.log_ud);
    nl_service_close(&s->svc, &st);
    if (s->attached)
        rc = s->cfg.detach(s, s->cfg.attach_ud, s->svc.fatal != 0, errbuf);
    logf_(s, "stopped: %llu connections, %llu refused, %llu lines, %llu dropped for not reading, %llu timed out, "
          "%llu times a sender was slowed for a reader",
          (unsigned long long)st.accepted, (unsigned long long)st.refused, (unsigned long long)st.lines,
          (unsigned long long)st.overflows, (unsigned long long)st.timeouts, (unsigned long long)st.held);
    free(s->table);
    free(s->room);
    free(s);
    return rc;
}

NL_APP_RUN_FN(chat)
