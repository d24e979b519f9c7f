/*
 * nl_conn_int.h - what the connections (nl_conn.c) and the server plumbing
 * (nl_server.c) share (internal; never installed): the connection and server
 * structures, their flags, and the calls each file makes into the other.
 */
#ifndef NL_CONN_INT_H
#define NL_CONN_INT_H

#include "netlab/nl_conn.h"
#include "netlab/nl_buf.h"
#include "netlab/nl_line.h"
#include "nl_wheel.h"

#include <stddef.h>
#include <stdint.h>

#define READ_CHUNK (64 * 1024)       /* one recv() per readable connection per pass */
#define WRITE_QUANTUM (256 * 1024)   /* bytes written per connection per pass, at most */
#define ACCEPTS_PER_PASS 512         /* a flood of connects cannot starve established ones */
#define FD_RESERVE 16                /* descriptors kept back from max_conns (listeners, logs, capture) */

enum {
    F_READY = 1 << 0,    /* login timeout no longer applies */
    F_CLOSING = 1 << 1,  /* nl_conn_close called: queued, or closing() already run */
    F_CLOSED_CB = 1 << 2,/* closing() has run */
    F_LINGER = 1 << 3,   /* draining output (then input) before close */
    F_PAUSED = 1 << 4,   /* back-pressure: not reading */
    F_PENDING = 1 << 5,  /* in the flush list */
    F_DEAD = 1 << 6,     /* socket unusable: nothing more is written */
    F_MUTED = 1 << 7,    /* overflowed: writes dropped until closing() */
    F_REAPED = 1 << 8,   /* descriptor closed; struct freed before the next poll() */
    F_SHUT = 1 << 9,     /* lingering: our side is shut down, discarding input until EOF */
    F_EV_IN = 1 << 10,   /* POLLIN is being asked for */
    F_EV_OUT = 1 << 11,  /* POLLOUT is being asked for */
    F_HELD = 1 << 12     /* fairness: its lines pushed a reader past the soft mark; not reading */
};

struct nl_conn {
    struct nl_server *srv;
    int fd;
    uint32_t index;         /* in srv->conns */
    uint16_t flags;
    uint8_t reason;
    int err;
    struct nl_addr peer;
    struct nl_line in;
    struct nl_buf out;
    struct nl_conn *next_pending; /* flush list */
    struct nl_conn *next_close;   /* close queue, then the free list */
    uint64_t created, last_active, partial_since; /* ms; partial_since doubles as the linger deadline */
    uint64_t last_in;             /* ms the peer last sent something */
    uint64_t sent;          /* bytes written to the socket */
    uint64_t over_since;          /* ms its queue went over soft_output (0: since back to half of it) */
    struct nl_conn *held_by;      /* F_HELD: the reader it waits for (NULL: that reader is gone) */
    uint32_t held_index;          /* F_HELD: in srv->held */
    uint32_t nholding;            /* senders held waiting for this connection to read */
    uint8_t midline;              /* the last byte sent was not a newline: a line is half sent */
    struct nl_wheel_entry due;    /* when one of its timeouts may be due (nl_server.c) */
    void *data;
};

struct nl_probe {
    struct nl_conn *c;
    uint64_t start, deadline;
    nl_conn_probed_fn done;
    void *ud;
};

struct nl_server {
    struct nl_loop *loop;
    struct nl_server_config cfg;
    const struct nl_server_ops *ops;
    void *ud;
    struct nl_listeners lst;
    int reserve_fd;               /* /dev/null, given up to accept-and-refuse at EMFILE */
    uint32_t max_conns;
    struct nl_conn **conns;
    size_t nconns, capconns;
    struct nl_conn *pending;      /* connections with output queued this pass */
    struct nl_conn *closeq, *closeq_tail;
    struct nl_conn *freeq;
    uint8_t *scratch;
    struct nl_conn *source;       /* whose input is being handled: output queued now is its doing */
    struct nl_conn **held;        /* senders held for fairness (F_HELD) */
    size_t nheld, capheld;
    int64_t tick;
    struct nl_wheel wheel;        /* the connections' deadlines (nl_conn_schedule) */
    struct nl_probe *probes;      /* connections being probed (nl_conn_probe) */
    size_t nprobes, capprobes;
    int64_t probe_timer;          /* while there are probes */
    int halted;                   /* nl_server_halt: nothing is ever sent again */
    size_t released;              /* buffer bytes freed since the last malloc_trim */
    struct nl_server_stats st;
};

/* nl_conn.c, for nl_server.c */
void nl_conn_drop_queued(struct nl_conn *c);
void nl_conn_finish(struct nl_conn *c);
int nl_conn_flush(struct nl_conn *c);
void nl_conn_free_reaped(struct nl_server *s);
void nl_conn_process_close_queue(struct nl_server *s);
void nl_conn_release_drained(struct nl_server *s);
void nl_conn_update_events(struct nl_conn *c);
void nl_conn_on_io(struct nl_loop *loop, int fd, int revents, void *ud);

/* nl_conn.c, for nl_server.c: put c where its earliest timeout is (or nowhere, when none applies);
 * _soon: a deadline at `at` just began (a line left half, output over the soft mark). */
void nl_conn_schedule(struct nl_conn *c);
void nl_conn_schedule_soon(struct nl_conn *c, uint64_t at);
/* nl_conn.c, for nl_server.c: the probes' table and timer, at the server's close. */
void nl_conn_probes_free(struct nl_server *s);


#endif
