/*
 * nl_chat_int.h - what the chat server's files share (internal; never
 * installed): the server, its users, their sessions and the calls between
 * its files, each calling only those below it: nl_chat.c (lines, commands,
 * the server's life), nl_chatwait.c (answers awaited from the directory, and
 * the lines held meanwhile), nl_chatusers.c (registering, leaving, the room),
 * nl_chatsession.c (sessions), nl_chatout.c (lines out), over nl_nametab.c (the name table). Another node is reached only through nl_chatnet.h.
 */
#ifndef NL_CHAT_INT_H
#define NL_CHAT_INT_H

#include "netlab/nl_chat.h"
#include "netlab/nl_conn.h"
#include "nl_chatnet.h"
#include "nl_nametab.h"

#include <stddef.h>
#include <stdint.h>

#define NAME_CAP (NL_CHAT_MAX_NAME + 1)
#define NOT_LISTED UINT32_MAX

enum { LINK_OUT = 1, LINK_IN = 2, LINK_ON = 3 }; /* I asked / they asked / accepted */

struct chat_user;

/* One side of a session, keyed by (peer, node): the peer's side holds the mirror (on its own node). */
struct chat_link {
    struct chat_user *u; /* the peer when it is a user here (node 0), else NULL */
    uint16_t node;
    uint8_t state, len;
    char name[NAME_CAP]; /* the peer's name as registered */
};

struct chat_user {
    struct nl_nament e;       /* first: the name, as registered, in the name table */
    struct nl_nament skel;    /* its skeleton (nl_name_skeleton), in the table of names that look alike */
    struct nl_conn *conn;
    struct chat_link *links;  /* allocated with the first session */
    uint32_t nlinks, caplinks;
    uint32_t nremote;         /* links with users of other nodes */
    uint32_t remote_index;    /* in remote_users while nremote > 0, else NOT_LISTED */
    uint32_t room_index;      /* NOT_LISTED: not in the room */
    uint64_t since;           /* ms, registration */
    uint64_t probed_at;       /* ms its host last acknowledged a probe (nl_chatwait.c), 0: never */
    uint8_t probing;          /* a probe of its host is on its way */
};

/* The user a command names, resolved: here (u), or on another node (node, name as registered). */
struct chat_peer {
    struct chat_user *u;
    int node;
    uint8_t len;
    char name[NAME_CAP];
};

struct chat_wait; /* nl_chatwait.c */
struct chat_hold;
struct chat_ask;

struct nl_chat_server {
    struct nl_chat_config cfg;
    struct nl_service svc;       /* loop, server, and a fatal error raised by a callback */
    struct nl_chatnet *net;      /* the mechanism in use: alone, or Redis's with cluster_url */
    struct nl_chatnet *alone;    /* the in-process one */
    struct nl_nametab names;     /* struct chat_user */
    struct nl_nametab skels;     /* struct chat_user, by chat_user.skel */
    struct chat_user **room;
    size_t nroom, caproom;
    struct chat_user **remote_users; /* users with sessions on other nodes */
    size_t nremote_users, capremote_users;
    struct chat_wait *waits;
    size_t nwaits, capwaits;
    struct chat_hold *holds;
    size_t nholds, capholds;
    struct chat_ask *asks;
    size_t nasks, capasks;
    uint32_t next_id;
    int64_t wait_timer;
    void (*replay)(struct nl_chat_server *s, struct nl_conn *c, uint8_t *line, size_t len);
    void (*rerun)(struct nl_chat_server *s, struct nl_conn *c, const uint8_t *line, size_t len,
                  const struct chat_peer *found);
    int rerunning;               /* a command runs again after a lookup: no second lookup */
    const struct chat_peer *looked_up; /* while it runs: what the lookup found (NULL: nobody) */
    int attached;                /* cfg.attach succeeded: cfg.detach is owed */
};

/* ---- nl_chatout.c ---- */
void chat_say(struct nl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "<word> <from> <text>\n" without a format pass: the relay's hot path. */
void chat_relay(struct nl_conn *to, const char *word, size_t wlen, const char *from, size_t fn, const uint8_t *text,
                size_t tlen);

/* The user here of that name, ignoring case; NULL if none. */
static inline struct chat_user *chat_find(const struct nl_chat_server *s, const uint8_t *name, size_t n)
{
    return (struct chat_user *)nl_nametab_find(&s->names, (const char *)name, n);
}

/* The user here whose name looks like that one (the same skeleton), or NULL. */
static inline struct chat_user *chat_find_alike(const struct nl_chat_server *s, const uint8_t *name, size_t n)
{
    char sk[NAME_CAP];
    if (n > NL_CHAT_MAX_NAME)
        return NULL;
    size_t k = nl_name_skeleton((const char *)name, n, sk);
    struct nl_nament *e = nl_nametab_find(&s->skels, sk, k);
    return e ? (struct chat_user *)((char *)e - offsetof(struct chat_user, skel)) : NULL;
}

/* ---- nl_chatusers.c ---- */
/* Refuse a name held here, or looking like one held here; 1 if refused (c was told). */
int chat_name_refused(struct nl_chat_server *s, struct nl_conn *c, const char *name, size_t len);
/* "ERR 409 name taken: ..." for asked, held by holder (the same name, or one that looks like it). */
void chat_say_taken(struct nl_conn *c, const char *asked, size_t an, const char *holder, size_t hn);
int chat_register(struct nl_chat_server *s, struct nl_conn *c, const char *name, size_t len);
void chat_user_gone(struct nl_chat_server *s, struct chat_user *u, const char *why, int notify);
int chat_room_add(struct nl_chat_server *s, struct chat_user *u);
void chat_room_remove(struct nl_chat_server *s, struct chat_user *u, int announce);
void chat_room_line(struct nl_chat_server *s, const char *line, size_t n);
void chat_users_free(struct nl_chat_server *s);

/* ---- nl_chatsession.c ---- */
void chat_sess_chat(struct nl_chat_server *s, struct chat_user *me, const struct chat_peer *t);
void chat_sess_answer(struct nl_chat_server *s, struct chat_user *me, const struct chat_peer *t, int accept);
void chat_sess_msg(struct nl_chat_server *s, struct chat_user *me, const struct chat_peer *t, const uint8_t *text,
                   size_t tlen);
void chat_sess_leave(struct nl_chat_server *s, struct chat_user *me, const struct chat_peer *t);
/* A link of me with that name (on any node), or NULL. */
const struct chat_link *chat_sess_named(const struct chat_user *me, const uint8_t *name, size_t n);
/* Accepted sessions of u; with out, their peers' names appended (" name"), here first, then elsewhere. */
uint32_t chat_sess_on(const struct chat_user *u, char *out, size_t *len, size_t cap);
/* u leaves: every peer gets GONE (when notify), every link goes. */
void chat_sess_end_all(struct nl_chat_server *s, struct chat_user *u, int notify);
/* A session event from a user of another node for the user named to. */
void chat_sess_event(struct nl_chat_server *s, int node, int ev, const char *from, size_t fn, const char *to,
                     size_t tn, const uint8_t *text, size_t tlen);
/* Sessions with users of node (name NULL: every one of them) end: the local user gets GONE. */
void chat_sess_gone(struct nl_chat_server *s, int node, const char *name, size_t n);
/* Sessions whose peer the directory no longer has end with GONE. */
void chat_sess_audit(struct nl_chat_server *s);

/* ---- nl_chatwait.c ---- */
enum { WAIT_CLAIM = 1, WAIT_WHO, WAIT_LOOKUP, WAIT_NET, WAIT_PROBE };
/* 1 if the line was held: c awaits an answer (its replies stay in command order). */
int chat_hold_line(struct nl_chat_server *s, struct nl_conn *c, const uint8_t *line, size_t len);
/* Ask the directory for c (kind WAIT_*): claim or lookup of name, WHO of name on node. The answer, or
 * the deadline, replies to c; c's later lines are held until then. line: the command to run again. */
void chat_wait_claim(struct nl_chat_server *s, struct nl_conn *c, const char *name, size_t len);
void chat_wait_who(struct nl_chat_server *s, struct nl_conn *c, int node, const char *name, size_t len);
/* NL_ENOTFOUND (nothing asked, nothing said): the directory has no authority beyond its copy. */
int chat_wait_lookup(struct nl_chat_server *s, struct nl_conn *c, const uint8_t *line, size_t llen,
                     const uint8_t *name, size_t len);
/* NICK (the command line) of a name held here by u, or like u's: when u looks idle its host is probed first
 * and the command runs again once that is known (1: c waits); else 0 (refuse it now). */
int chat_wait_probe(struct nl_chat_server *s, struct nl_conn *c, const uint8_t *line, size_t len,
                    struct chat_user *u);
/* The user here holding name has gone: NICKs that waited on it run again, other nodes' probes are answered. */
void chat_wait_holder_gone(struct nl_chat_server *s, const char *name, size_t n);
/* nl_chatnet_sink.probe: another node asks whether the holder of name here is still there. */
void chat_wait_asked(void *ud, int node, uint32_t id, const char *name, size_t n);
/* 1 while c's held lines are being handled. */
int chat_replaying(struct nl_chat_server *s, const struct nl_conn *c);
/* The mechanism is unsure of this server's place: c's line and those after it wait (chat_wait_net_known). */
void chat_wait_net(struct nl_chat_server *s, struct nl_conn *c, const uint8_t *line, size_t len);
void chat_wait_net_known(struct nl_chat_server *s);
/* nl_chatnet_sink.answer */
void chat_wait_answer(void *ud, uint32_t id, const struct nl_chatnet_answer *a);
/* Every wait fails now (the mechanism was cut off). */
void chat_wait_fail_all(struct nl_chat_server *s);
/* c is closing: forget what it waited for. */
void chat_wait_conn_closing(struct nl_chat_server *s, struct nl_conn *c);
/* A claim on its way counts as a user (announced again with them). */
void chat_wait_each_claim(const struct nl_chat_server *s, void (*fn)(void *arg, const char *name, size_t n, int in_room),
                          void *arg);
/* line: a line of c handled now (held while c waited); rerun: a command that asked the directory's
 * authority for a name, run again with its answer (found NULL: nobody has it). Both nl_chat.c's. */
int chat_wait_open(struct nl_chat_server *s, void (*line)(struct nl_chat_server *s, struct nl_conn *c, uint8_t *line,
                                                          size_t len),
                   void (*rerun)(struct nl_chat_server *s, struct nl_conn *c, const uint8_t *line, size_t len,
                                 const struct chat_peer *found),
                   char *errbuf);
void chat_wait_close(struct nl_chat_server *s);

#endif
