/*
 * nl_chatsession.c - sessions between two users, one model for users here
 * and on other nodes: a link on each side keyed by (peer, node), moved by the
 * commands of its user (this side) and by the events of its peer (the other
 * side, from this server or carried by the bus of nl_chatnet.h). Owns every
 * session reply and event line; knows nothing of Redis or of sockets.
 *
 * A command changes its user's link, answers, and delivers one event to the
 * peer: at once when the peer is here (both links are this server's, so they
 * always mirror), through the mechanism's bus otherwise, where the peer's
 * server applies the same event with chat_sess_event.
 */
#include "nl_chat_int.h"
#include "nl_app.h"
#include "nl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- links ---- */

static int link_is(const struct chat_link *l, const struct chat_peer *t)
{
    if (t->u)
        return l->u == t->u;
    return !l->u && l->node == t->node && nl_name_same(l->name, l->len, t->name, t->len);
}

static struct chat_link *find_link(const struct chat_user *u, const struct chat_peer *t)
{
    for (uint32_t i = 0; i < u->nlinks; i++)
        if (link_is(&u->links[i], t))
            return &u->links[i];
    return NULL;
}

const struct chat_link *chat_sess_named(const struct chat_user *me, const uint8_t *name, size_t n)
{
    for (uint32_t i = 0; i < me->nlinks; i++)
        if (nl_name_same(me->links[i].name, me->links[i].len, (const char *)name, n))
            return &me->links[i];
    return NULL;
}

/* Users with sessions elsewhere are listed, so that a node's departure visits only them. */
static void remote_count(struct nl_chat_server *s, struct chat_user *u, int delta)
{
    if (delta > 0 && u->nremote++ == 0) {
        if (NL_GROW(s->remote_users, s->nremote_users, s->capremote_users, 16) == 0) {
            u->remote_index = (uint32_t)s->nremote_users;
            s->remote_users[s->nremote_users++] = u;
        }
    } else if (delta < 0 && --u->nremote == 0 && u->remote_index != NOT_LISTED) {
        s->remote_users[u->remote_index] = s->remote_users[--s->nremote_users];
        s->remote_users[u->remote_index]->remote_index = u->remote_index;
        u->remote_index = NOT_LISTED;
    }
}

static int add_link(struct nl_chat_server *s, struct chat_user *u, const struct chat_peer *t, uint8_t state)
{
    if (u->nlinks == u->caplinks) {
        uint32_t cap = u->caplinks ? u->caplinks * 2 : 4;
        struct chat_link *l = realloc(u->links, cap * sizeof *l);
        if (!l)
            return NL_ENOMEM;
        u->links = l;
        u->caplinks = cap;
    }
    struct chat_link *l = &u->links[u->nlinks++];
    l->u = t->u;
    l->node = (uint16_t)(t->u ? 0 : t->node);
    l->state = state;
    l->len = t->len;
    memcpy(l->name, t->name, t->len);
    l->name[t->len] = 0;
    if (!t->u)
        remote_count(s, u, 1);
    return NL_OK;
}

static void drop_link(struct nl_chat_server *s, struct chat_user *u, struct chat_link *l)
{
    if (!l->u)
        remote_count(s, u, -1);
    *l = u->links[--u->nlinks];
    if (u->nlinks == 0) {
        free(u->links);
        u->links = NULL;
        u->caplinks = 0;
    }
}

/* The peer of a link, or the user an event comes from, as a chat_peer. */
static struct chat_peer peer_of(struct chat_user *u, int node, const char *name, size_t n)
{
    struct chat_peer p = {.u = u, .node = u ? 0 : node, .len = (uint8_t)n};
    memcpy(p.name, name, n);
    p.name[n] = 0;
    return p;
}

static const char *node_of(const struct nl_chat_server *s, const struct chat_peer *t, char *buf, size_t cap)
{
    const char *nn = t->u ? NULL : s->net->ops->node_name(s->net, t->node);
    snprintf(buf, cap, "%s%s", nn ? "@" : "", nn ? nn : "");
    return buf;
}

/* ---- the peer's side: an event applied to the link of user `to` with `from` ---- */

/* A request from `from`: a crossing request (both asked at once) is each other's acceptance. */
static int got_request(struct nl_chat_server *s, struct chat_user *to, const struct chat_peer *from)
{
    struct chat_link *l = find_link(to, from);
    if (l) {
        if (l->state == LINK_OUT) {
            l->state = LINK_ON;
            chat_say(to->conn, "ACCEPTED %s\n", from->name);
        }
        return NL_OK;
    }
    if (to->nlinks >= s->cfg.max_sessions) {
        /* Only from another node: a local asker was refused with ERR 429 before asking. */
        s->net->ops->send(s->net, from->node, NL_CHATNET_DEC, to->e.name, to->e.len, from->name, from->len, NULL, 0);
        return NL_OK;
    }
    int rc = add_link(s, to, from, LINK_IN);
    if (rc == NL_OK)
        chat_say(to->conn, "REQUEST %s\n", from->name);
    return rc;
}

static int got_event(struct nl_chat_server *s, struct chat_user *to, const struct chat_peer *from, int ev,
                     const uint8_t *text, size_t tlen)
{
    if (ev == NL_CHATNET_REQ)
        return got_request(s, to, from);
    struct chat_link *l = find_link(to, from);
    if (!l)
        return NL_OK; /* nothing between them (any more): stale, skipped */
    switch (ev) {
    case NL_CHATNET_MSG:
        if (l->state == LINK_ON)
            chat_relay(to->conn, "FROM", 4, from->name, from->len, text, tlen);
        break;
    case NL_CHATNET_ACC:
        if (l->state == LINK_OUT) {
            l->state = LINK_ON;
            chat_say(to->conn, "ACCEPTED %s\n", from->name);
        }
        break;
    case NL_CHATNET_DEC:
        if (l->state == LINK_OUT) {
            drop_link(s, to, l);
            chat_say(to->conn, "DECLINED %s\n", from->name);
        }
        break;
    case NL_CHATNET_LEAVE:
        drop_link(s, to, l);
        chat_say(to->conn, "LEFT %s\n", from->name);
        break;
    case NL_CHATNET_GONE:
    case NL_CHATNET_NOUSER:
        drop_link(s, to, l);
        chat_say(to->conn, "GONE %s\n", from->name);
        break;
    }
    return NL_OK;
}

/* Deliver me's event to t: applied here at once, or carried to t's node. <0: it could not be. */
static int deliver(struct nl_chat_server *s, struct chat_user *me, const struct chat_peer *t, int ev,
                   const uint8_t *text, size_t tlen)
{
    if (t->u) {
        struct chat_peer from = peer_of(me, 0, me->e.name, me->e.len);
        return got_event(s, t->u, &from, ev, text, tlen);
    }
    return s->net->ops->send(s->net, t->node, ev, me->e.name, me->e.len, t->name, t->len, text, tlen);
}

void chat_sess_event(struct nl_chat_server *s, int node, int ev, const char *from, size_t fn, const char *to,
                     size_t tn, const uint8_t *text, size_t tlen)
{
    struct chat_user *t = chat_find(s, (const uint8_t *)to, tn);
    if (!t) {
        if (ev == NL_CHATNET_REQ) /* the asker hears GONE */
            s->net->ops->send(s->net, node, NL_CHATNET_NOUSER, to, tn, from, fn, NULL, 0);
        return;
    }
    struct chat_peer p = peer_of(NULL, node, from, fn);
    got_event(s, t, &p, ev, text, tlen);
}

/* ---- this side: a user's commands ---- */

void chat_sess_chat(struct nl_chat_server *s, struct chat_user *me, const struct chat_peer *t)
{
    struct nl_conn *c = me->conn;
    if (t->u == me) {
        chat_say(c, "ERR 403 you cannot chat with yourself\n");
        return;
    }
    struct chat_link *l = find_link(me, t);
    if (l) {
        if (l->state == LINK_ON)
            chat_say(c, "ERR 409 already in a session with %s\n", t->name);
        else if (l->state == LINK_OUT)
            chat_say(c, "ERR 409 already asked %s; waiting for an answer\n", t->name);
        else
            chat_say(c, "ERR 409 %s has asked you: ACCEPT %s or DECLINE %s\n", t->name, t->name, t->name);
        return;
    }
    /* The limit counts every session and request of a user, with users here and on other nodes; a
     * peer elsewhere is counted by its own server, which declines a request past it. */
    if (me->nlinks >= s->cfg.max_sessions || (t->u && t->u->nlinks >= s->cfg.max_sessions)) {
        chat_say(c, "ERR 429 too many sessions (at most %u each)\n", s->cfg.max_sessions);
        return;
    }
    if (add_link(s, me, t, LINK_OUT) < 0) {
        chat_say(c, "ERR 503 server out of memory\n");
        return;
    }
    if (deliver(s, me, t, NL_CHATNET_REQ, NULL, 0) < 0 && t->u) {
        drop_link(s, me, find_link(me, t)); /* the peer here could not take it: nothing is half open */
        chat_say(c, "ERR 503 server out of memory\n");
        return;
    }
    chat_say(c, "OK CHAT %s\n", t->name);
    char at[64];
    logc_(s, "session %s -> %s%s requested", me->e.name, t->name, node_of(s, t, at, sizeof at));
}

void chat_sess_answer(struct nl_chat_server *s, struct chat_user *me, const struct chat_peer *t, int accept)
{
    struct nl_conn *c = me->conn;
    struct chat_link *l = find_link(me, t);
    if (!l || l->state != LINK_IN) {
        chat_say(c, "ERR 403 %s has not asked you for a session\n", t->name);
        return;
    }
    char at[64];
    if (accept) {
        l->state = LINK_ON;
        chat_say(c, "OK ACCEPT %s\n", t->name);
        deliver(s, me, t, NL_CHATNET_ACC, NULL, 0);
        logc_(s, "session %s%s <-> %s accepted", t->name, node_of(s, t, at, sizeof at), me->e.name);
    } else {
        drop_link(s, me, l);
        chat_say(c, "OK DECLINE %s\n", t->name);
        deliver(s, me, t, NL_CHATNET_DEC, NULL, 0);
        logc_(s, "session %s%s -> %s declined", t->name, node_of(s, t, at, sizeof at), me->e.name);
    }
}

void chat_sess_msg(struct nl_chat_server *s, struct chat_user *me, const struct chat_peer *t, const uint8_t *text,
                   size_t tlen)
{
    struct chat_link *l = find_link(me, t);
    if (!l || l->state != LINK_ON) {
        struct nl_conn *c = me->conn;
        if (l && l->state == LINK_OUT)
            chat_say(c, "ERR 403 %s has not accepted yet\n", t->name);
        else if (l)
            chat_say(c, "ERR 403 %s has asked you: ACCEPT %s first\n", t->name, t->name);
        else
            chat_say(c, "ERR 403 no session with %s: CHAT %s first\n", t->name, t->name);
        return;
    }
    if (t->u) /* the links mirror each other here: straight to the peer */
        chat_relay(t->u->conn, "FROM", 4, me->e.name, me->e.len, text, tlen);
    else if (deliver(s, me, t, NL_CHATNET_MSG, text, tlen) < 0)
        chat_say(me->conn, "ERR 503 cluster unavailable: message to %s not delivered\n", t->name);
}

void chat_sess_leave(struct nl_chat_server *s, struct chat_user *me, const struct chat_peer *t)
{
    struct chat_link *l = find_link(me, t);
    if (!l) {
        chat_say(me->conn, "ERR 403 no session with %s\n", t->name);
        return;
    }
    drop_link(s, me, l);
    chat_say(me->conn, "OK LEAVE %s\n", t->name);
    deliver(s, me, t, NL_CHATNET_LEAVE, NULL, 0);
    char at[64];
    logc_(s, "session %s x %s%s ended by %s", me->e.name, t->name, node_of(s, t, at, sizeof at), me->e.name);
}

uint32_t chat_sess_on(const struct chat_user *u, char *out, size_t *len, size_t cap)
{
    uint32_t on = 0;
    for (int elsewhere = 0; elsewhere < 2; elsewhere++) {
        for (uint32_t i = 0; i < u->nlinks; i++) {
            const struct chat_link *l = &u->links[i];
            if (l->state != LINK_ON || (l->u == NULL) != elsewhere)
                continue;
            on++;
            if (out && *len + 1 + l->len + 1 <= cap) { /* 256 sessions of 32-byte names fit; never overrun */
                out[(*len)++] = ' ';
                memcpy(out + *len, l->name, l->len);
                *len += l->len;
            }
        }
    }
    return on;
}

void chat_sess_end_all(struct nl_chat_server *s, struct chat_user *u, int notify)
{
    for (uint32_t i = 0; i < u->nlinks; i++) {
        struct chat_link *l = &u->links[i];
        if (l->u) {
            struct chat_peer me = peer_of(u, 0, u->e.name, u->e.len);
            struct chat_link *back = find_link(l->u, &me);
            if (back)
                drop_link(s, l->u, back);
            if (notify)
                chat_say(l->u->conn, "GONE %s\n", u->e.name);
        } else {
            s->net->ops->send(s->net, l->node, NL_CHATNET_GONE, u->e.name, u->e.len, l->name, l->len, NULL, 0);
        }
    }
    if (u->nremote) {
        u->nremote = 1;
        remote_count(s, u, -1); /* off the list */
    }
    free(u->links);
    u->links = NULL;
    u->nlinks = u->caplinks = 0;
}

/* ---- the other nodes' users leaving ---- */

enum { GONE_NODE, GONE_ALL, GONE_UNLISTED };

struct gone_match {
    int kind;
    int node;          /* GONE_NODE */
    const char *name;  /* GONE_NODE: NULL for every user of the node */
    size_t n;
};

static int link_gone(const struct nl_chat_server *s, const struct chat_link *l, const struct gone_match *g)
{
    if (l->u)
        return 0;
    if (g->kind == GONE_ALL)
        return 1;
    if (g->kind == GONE_UNLISTED) /* the audit: no longer a user of its node */
        return !s->net->ops->present(s->net, l->node, l->name, l->len);
    return l->node == g->node && (!g->name || nl_name_same(l->name, l->len, g->name, g->n));
}

/* Every link with a user elsewhere that g matches ends: its local user gets GONE. */
static void end_matching(struct nl_chat_server *s, const struct gone_match *g)
{
    for (size_t i = 0; i < s->nremote_users;) {
        struct chat_user *u = s->remote_users[i];
        for (uint32_t k = 0; k < u->nlinks;) {
            struct chat_link *l = &u->links[k];
            if (!link_gone(s, l, g)) {
                k++;
                continue;
            }
            chat_say(u->conn, "GONE %s\n", l->name);
            drop_link(s, u, l);
        }
        if (i < s->nremote_users && s->remote_users[i] == u)
            i++; /* else u left the list and another took its place */
    }
}

void chat_sess_gone(struct nl_chat_server *s, int node, const char *name, size_t n)
{
    struct gone_match g = {node < 0 ? GONE_ALL : GONE_NODE, node, name, n};
    end_matching(s, &g);
}

void chat_sess_audit(struct nl_chat_server *s)
{
    struct gone_match g = {GONE_UNLISTED, 0, NULL, 0};
    end_matching(s, &g);
}
