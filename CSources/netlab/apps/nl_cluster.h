/*
 * nl_cluster.h - what the chat server (nl_chat.c) sees of the cluster
 * (internal; never installed). The chat server keeps its own users; the
 * cluster claims their names in Redis, knows the users of the other servers,
 * and carries sessions and the room between servers. Without --cluster the
 * chat server never calls any of this.
 */
#ifndef NL_CLUSTER_H
#define NL_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "netlab/nl_chat.h"
#include "netlab/nl_conn.h"

struct nl_cluster;

/* nl_chat.c: one formatted protocol line (at most NL_CHAT_MAX_LINE + 255 bytes) to a connection. */
void nl_chat_say(struct nl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** What the cluster asks of the chat server (ud is the chat server). */
struct nl_cluster_hooks {
    /** The connection of a local registered user, or NULL. */
    struct nl_conn *(*find)(void *ud, const char *name, size_t n);
    /** A NICK claim was won: register the user locally and answer OK NICK. <0: could not (the name is released). */
    int (*registered)(void *ud, struct nl_conn *c, const char *name, size_t n);
    /** A line held while a cluster answer was awaited, handled now (the chat server's line callback). */
    void (*replay)(void *ud, struct nl_conn *c, uint8_t *line, size_t n);
    /** Write a room line (with its newline) to every local room member except `except` (may be NULL). */
    void (*room)(void *ud, const char *line, size_t n, const char *except, size_t exn);
    /** Call fn for every local user (re-announcing after a reconnect). */
    void (*each)(void *ud, void (*fn)(void *arg, const char *name, size_t n, int in_room), void *arg);
    /** The USER line of a local user without the newline (WHO from another server); <0 if there is none. */
    int (*who)(void *ud, const char *name, size_t n, char *out, size_t cap);
    /** Sessions and requests the local user holds on this server (for the session limit). */
    uint32_t (*links)(void *ud, const char *name, size_t n);
};

struct nl_cluster_config {
    const char *url;       /* redis://HOST:PORT */
    const char *node;      /* this server's name in the cluster: 1-48 of A-Z a-z 0-9 _ - . : */
    uint32_t max_sessions;
    nl_log_fn log;
    void *log_ud;
    int quiet;
};

int nl_cluster_open(struct nl_cluster **out, struct nl_loop *loop, const struct nl_cluster_config *cfg,
                    const struct nl_cluster_hooks *hooks, void *ud, char *errbuf);
/** Release this server's names and liveness key (best effort, without waiting), then free. */
void nl_cluster_close(struct nl_cluster *cl);

const char *nl_cluster_node(const struct nl_cluster *cl);
/** 1 while Redis is reachable and this server is in sync with it. */
int nl_cluster_ready(const struct nl_cluster *cl);

/** 1 if the line was queued because c awaits a cluster answer (replies stay in command order). */
int nl_cluster_hold(struct nl_cluster *cl, struct nl_conn *c, const uint8_t *line, size_t len);

/**
 * A parsed, well-formed command of c (me: its registered name, or NULL).
 * 1 if the cluster answered it (or will); 0 if the chat server handles it as on one server.
 */
int nl_cluster_command(struct nl_cluster *cl, struct nl_conn *c, const char *me, size_t me_len,
                       const struct nl_chat_cmd *cmd);

/** Publish the MSGs gathered during this pass (one PUBLISH per server); the chat server calls it before each poll(). */
void nl_cluster_flush(struct nl_cluster *cl);

/** The connection is closing: forget what it waited for. */
void nl_cluster_conn_closing(struct nl_cluster *cl, struct nl_conn *c);
/** A local user left: peers on other servers get GONE, the name is released. */
void nl_cluster_user_gone(struct nl_cluster *cl, const char *name, size_t n);
/** A local room event for the other servers: verb "JOINED", "PARTED" or "ROOM" (with text). */
void nl_cluster_room_event(struct nl_cluster *cl, const char *verb, const char *name, size_t n, const uint8_t *text,
                           size_t tlen);

/** Users on other servers, and how many of them are in the room. */
size_t nl_cluster_remote_count(const struct nl_cluster *cl);
size_t nl_cluster_remote_room(const struct nl_cluster *cl);

struct nl_cluster_iter {
    size_t bucket;
    const void *at;
    size_t node;
};
/** The next user on another server (an iterator of zeros to begin); 0 at the end. */
int nl_cluster_remote_next(const struct nl_cluster *cl, struct nl_cluster_iter *it, const char **name, size_t *n);

/** Sessions and pending requests (either way) of a local user with users on other servers. */
uint32_t nl_cluster_links(const struct nl_cluster *cl, const char *name, size_t n);

/** Accepted sessions of a local user with users on other servers; their names appended (" name") to out. */
uint32_t nl_cluster_sessions(const struct nl_cluster *cl, const char *name, size_t n, char *out, size_t *len,
                             size_t cap);

#endif
