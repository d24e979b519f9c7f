/*
 * nl_chatnet.h - the seam between the chat server and what joins it to other
 * servers (internal; never installed). The chat server (nl_chat*.c) owns the
 * users, the sessions (keyed by user, peer and node) and the room; a mechanism
 * behind struct nl_chatnet answers who is where (the directory) and carries
 * events to a node (the bus). Node 0 is always this server, whose users the
 * chat server serves itself; a mechanism numbers the other nodes.
 *
 * As Redis's cluster.h splits "functions requiring mechanism specific
 * implementations" from "functions with shared implementations": the shared
 * part is the chat server; the mechanisms are nl_chatlocal.c (in-process: one
 * server, no other node) and nl_cluster*.c (Redis). A mechanism reaches the
 * chat server only through struct nl_chatnet_sink and never sees a client's
 * connection; the chat server never sees a Redis key or message.
 */
#ifndef NL_CHATNET_H
#define NL_CHATNET_H

#include <stddef.h>
#include <stdint.h>

#include "netlab/nl_conn.h"
#include "netlab/nl_loop.h"

#define NL_CHATNET_MAX_NAME 32    /* = NL_CHAT_MAX_NAME (checked in nl_chat.c) */
#define NL_CHATNET_MAX_LINE 4096  /* = NL_CHAT_MAX_LINE */

/* A session event between two users, carried to the node of its target. */
enum nl_chatnet_ev {
    NL_CHATNET_REQ = 1, /* CHAT: a request */
    NL_CHATNET_ACC,     /* ACCEPT */
    NL_CHATNET_DEC,     /* DECLINE, or a request refused for the session limit */
    NL_CHATNET_LEAVE,   /* LEAVE */
    NL_CHATNET_GONE,    /* the sender left the chat */
    NL_CHATNET_MSG,     /* MSG text */
    NL_CHATNET_NOUSER   /* a request reached no such user: "from" is the missing name */
};

/* Room events for every other node. */
enum nl_chatnet_room { NL_CHATNET_JOINED = 1, NL_CHATNET_PARTED, NL_CHATNET_SAY };

/* What the mechanism can do right now. */
enum nl_chatnet_state {
    NL_CHATNET_READY = 0, /* in sync with the other nodes */
    NL_CHATNET_DOWN,      /* cut off: what needs another node is answered ERR 503 */
    NL_CHATNET_UNSURE     /* this server's hold on its place may have lapsed (it stalled): until the
                             mechanism knows (state READY or DOWN follows), no line is served */
};

/* The answer to an ask (claim, lookup, who). */
enum nl_chatnet_answer_kind {
    NL_CHATNET_WON = 1,   /* claim: the name is ours */
    NL_CHATNET_TAKEN,     /* claim: held by name (as registered) */
    NL_CHATNET_FOUND,     /* lookup: name (as registered) is on node */
    NL_CHATNET_NONE,      /* lookup: nobody has it */
    NL_CHATNET_LINE,      /* who: the USER line (text) */
    NL_CHATNET_ABSENT,    /* who: the user is not there (any more) */
    NL_CHATNET_ALIVE,     /* probe: the holder's host answered; the name stays its */
    NL_CHATNET_VANISHED,  /* probe: the holder was gone (its name is free now, or will be at once) */
    NL_CHATNET_FAILED     /* no answer could be had (cut off, or a bad reply) */
};

struct nl_chatnet_answer {
    int kind;
    int node;
    const char *name; /* TAKEN, FOUND */
    size_t len;
    const char *text; /* LINE; FAILED: why, for the user (NULL: the cluster is unavailable) */
    size_t tlen;
};

/* Why a local user lost a name it held (nl_chatnet_sink.lost). */
enum nl_chatnet_lost {
    NL_CHATNET_LOST_TAKEN = 1 /* claimed on another server while this one was cut off */
};

/** What a mechanism asks of the chat server (ud is the chat server). */
struct nl_chatnet_sink {
    /** The answer to the ask numbered id (exactly one per ask; a late one may come after the chat server gave up). */
    void (*answer)(void *ud, uint32_t id, const struct nl_chatnet_answer *a);
    /** A session event from a user of another node for a user here. text only with MSG. */
    void (*event)(void *ud, int node, int ev, const char *from, size_t fn, const char *to, size_t tn,
                  const uint8_t *text, size_t tlen);
    /** An event handed to send (ev) could not be carried to its node (the node is gone, or not listening):
     *  a MSG's sender is told; a session waiting on the event ends as if the peer left. */
    void (*undelivered)(void *ud, int ev, int node, const char *from, size_t fn, const char *to, size_t tn);
    /** A room line (with its newline) from another node, for every room member here. */
    void (*room)(void *ud, const char *line, size_t n);
    /** The users of node left (name NULL: all of them; node < 0: of every other node): sessions with them
     *  end with GONE. */
    void (*gone)(void *ud, int node, const char *name, size_t n);
    /** Check every session with another node against the directory (mechanism's present). */
    void (*audit)(void *ud);
    /** The USER line of a local user, without newline and node (WHO from elsewhere); <0: no such user. */
    int (*who)(void *ud, const char *name, size_t n, char *out, size_t cap);
    /** Call fn for every local user (announcing them again); with claims, also for names being claimed. */
    void (*each)(void *ud, int claims, void (*fn)(void *arg, const char *name, size_t n, int in_room), void *arg);
    /** A local user lost the name (why: enum nl_chatnet_lost): the user is told and disconnected. */
    void (*lost)(void *ud, const char *name, size_t n, int why);
    /** The mechanism's state changed (enum nl_chatnet_state). */
    void (*state)(void *ud, int state);
    /** Registered users here now. */
    size_t (*users)(void *ud);
    /** Another node asks (id) whether the user here holding name is still there: answered with probed. */
    void (*probe)(void *ud, int node, uint32_t id, const char *name, size_t n);
    /** The server cannot run as configured (code, text as an errbuf would hold them): it stops. */
    void (*fatal)(void *ud, int code, const char *text);
};

struct nl_chatnet;

/** An iterator over the users of other nodes (zeros to begin). */
struct nl_chatnet_iter {
    size_t bucket, node;
    const void *at;
};

/** Functions requiring mechanism specific implementations. */
struct nl_chatnet_ops {
    const char *kind;
    /** enum nl_chatnet_state; UNSURE also sets finding out going. */
    int (*state)(struct nl_chatnet *n);
    /** The node's name as users see it in WHO ("@b"); NULL for node 0 when there are no other nodes. */
    const char *(*node_name)(const struct nl_chatnet *n, int node);

    /* ---- the directory: who is where ---- */
    /** Claim a name for a local user: answered (perhaps at once) WON, TAKEN or FAILED. <0: no ask was made. */
    int (*claim)(struct nl_chatnet *n, uint32_t id, const char *name, size_t len);
    /** A local user left: its name is free. */
    void (*release)(struct nl_chatnet *n, const char *name, size_t len);
    /** A user of another node as the directory's copy has it: 1 with its registered name and node. */
    int (*locate)(const struct nl_chatnet *n, const char *name, size_t len, char *display, int *node);
    /** Ask the directory's authority for a name the copy lacks: answered FOUND, NONE or FAILED.
     *  NL_ENOTFOUND: there is no authority beyond the copy (nobody has it). */
    int (*lookup)(struct nl_chatnet *n, uint32_t id, const char *name, size_t len);
    /** 1 if name is still a user of node (for the audit). */
    int (*present)(const struct nl_chatnet *n, int node, const char *name, size_t len);
    /** Users of other nodes (in_room: only those in the room). */
    size_t (*count)(const struct nl_chatnet *n, int in_room);
    /** The next user of another node; 0 at the end. */
    int (*next)(const struct nl_chatnet *n, struct nl_chatnet_iter *it, const char **name, size_t *len);
    /** Ask node for the USER line of name: answered LINE, ABSENT or not at all (the asker times out). */
    int (*who)(struct nl_chatnet *n, uint32_t id, int node, const char *name, size_t len);
    /** Ask node whether its user holding name is still there: answered ALIVE or VANISHED (its name then
     *  released before the answer), or not at all. */
    int (*probe)(struct nl_chatnet *n, uint32_t id, int node, const char *name, size_t len);
    /** The answer to node's probe id. */
    void (*probed)(struct nl_chatnet *n, int node, uint32_t id, int alive);

    /* ---- the bus: deliver to a node ---- */
    /** A session event for user `to` of node (text with MSG only). <0: it cannot be sent. */
    int (*send)(struct nl_chatnet *n, int node, int ev, const char *from, size_t fn, const char *to, size_t tn,
                const uint8_t *text, size_t tlen);
    /** A room event of a local user for every other node (text with NL_CHATNET_SAY only). */
    void (*room)(struct nl_chatnet *n, int what, const char *name, size_t len, const uint8_t *text, size_t tlen);
    /** Send what this pass gathered (once per pass, before output is written). */
    void (*flush)(struct nl_chatnet *n);
    /** Leave (the other nodes forget this one's users) and free. */
    void (*close)(struct nl_chatnet *n);
};

/** Every mechanism's instance starts with this. */
struct nl_chatnet {
    const struct nl_chatnet_ops *ops;
};

/** What a mechanism is opened with. */
struct nl_chatnet_config {
    const char *url;       /* "redis://HOST:PORT"; NULL: in-process (one server) */
    const char *node;      /* this server's name among the nodes */
    int allow_eviction;    /* run even where the store may evict keys (Redis's maxmemory-policy) */
    nl_log_fn log;
    void *log_ud;
    int quiet;
};

/* Opening a mechanism: NL_OK with *out, or a negative NL_E* code with errbuf. */
typedef int (*nl_chatnet_open_fn)(struct nl_chatnet **out, struct nl_loop *loop, const struct nl_chatnet_config *cfg,
                                  const struct nl_chatnet_sink *sink, void *ud, char *errbuf);

/* nl_chatmech.c: open the mechanism cfg names (from its table of mechanisms). */
int nl_chatnet_open(struct nl_chatnet **out, struct nl_loop *loop, const struct nl_chatnet_config *cfg,
                    const struct nl_chatnet_sink *sink, void *ud, char *errbuf);

/* The mechanisms, for nl_chatmech.c's table. */
int nl_chatlocal_open(struct nl_chatnet **out, struct nl_loop *loop, const struct nl_chatnet_config *cfg,
                      const struct nl_chatnet_sink *sink, void *ud, char *errbuf);   /* nl_chatlocal.c */
int nl_cluster_open(struct nl_chatnet **out, struct nl_loop *loop, const struct nl_chatnet_config *cfg,
                    const struct nl_chatnet_sink *sink, void *ud, char *errbuf);     /* nl_cluster.c */

#endif
