/*
 * nl_conn.h - line-oriented TCP connections on an nl_loop (Redis networking.c
 * in spirit): a listener set that accepts up to a limit, and per connection a
 * resumable line framer over a capped input buffer and an output buffer with
 * a hard cap, both allocated only while they hold bytes. Output is gathered
 * during a pass and written before the next poll(), at most a quantum per
 * connection per pass; POLLOUT is asked for only while output is pending.
 * Connections are closed from a queue after the pass, never inside their own
 * callback. Protocols (chat, echo) plug in through nl_server_ops.
 */
#ifndef NL_CONN_H
#define NL_CONN_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#include "nl_error.h"
#include "nl_loop.h"
#include "nl_sock.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NL_SERVER_MAX_INPUT ((size_t)64 << 20) /* default input budget: 64 MiB */

struct nl_server;  /* opaque */
struct nl_conn;    /* opaque */

/** Why a connection ends. */
enum nl_close_reason {
    NL_CLOSE_EOF = 1,        /* the peer closed its sending side */
    NL_CLOSE_RESET,          /* a read or write failed (reset, broken pipe); see nl_conn_errno */
    NL_CLOSE_LOCAL,          /* the protocol closed it (QUIT, a fatal error) */
    NL_CLOSE_OVERFLOW,       /* its output passed max_output: the peer is not reading */
    NL_CLOSE_LOGIN_TIMEOUT,  /* not marked ready within login_timeout_ms */
    NL_CLOSE_LINE_TIMEOUT,   /* a line stayed incomplete for line_timeout_ms */
    NL_CLOSE_IDLE_TIMEOUT,   /* nothing received or sent for idle_timeout_ms */
    NL_CLOSE_SHUTDOWN,       /* the server is stopping */
    NL_CLOSE_SLOW_READER,    /* its output went over soft_output and stayed above half of it for soft_output_ms */
    NL_CLOSE_VANISHED        /* the protocol found its host gone: a probe (nl_conn_probe) was not acknowledged */
};

/** SO_SNDBUF asked for on accepted sockets unless configured (the kernel doubles it for its bookkeeping). */
#define NL_SNDBUF_DEFAULT (128 * 1024)

/** "peer closed the connection", "connection reset", ... Never NULL. */
NL_API const char *nl_close_reason_text(int reason);

/** A server's callbacks; any may be NULL. ud is nl_server_open's. */
struct nl_server_ops {
    /** A new connection, before anything is read from it: may write a greeting. */
    void (*open)(struct nl_conn *c, void *ud);
    /** One complete line, terminator removed; valid only during the call. */
    void (*line)(struct nl_conn *c, uint8_t *line, size_t len, void *ud);
    /** A line passed max_line after seen bytes; the rest of it up to LF is discarded. */
    void (*too_long)(struct nl_conn *c, size_t seen, void *ud);
    /**
     * Called once per connection after the pass in which it was closed, before
     * its descriptor is: the protocol forgets it here and may write a last line,
     * which is sent (within close_grace_ms) before the close.
     */
    void (*closing)(struct nl_conn *c, int reason, void *ud);
    /** A connection turned away because the server is full (it got full_line). */
    void (*refused)(const struct nl_addr *peer, const char *why, void *ud);
    /**
     * The server's input budget (max_input) was spent: this connection held the
     * largest incomplete line, of held bytes, which was dropped (freed); the rest
     * of it up to its LF is discarded. The connection stays. May write a reply.
     */
    void (*shed)(struct nl_conn *c, size_t held, void *ud);
    /** Once per pass, just before queued output is written to the sockets. */
    void (*before_flush)(void *ud);
};

struct nl_server_config {
    const char *host;           /* NULL: every address, IPv4 and IPv6 */
    uint16_t port;              /* 0: the kernel picks */
    int backlog;                /* 0: the system maximum */
    size_t max_line;            /* longest line accepted; default 4096 */
    size_t max_output;          /* queued output per connection; default 1 MiB */
    size_t pause_output;        /* 0: a connection passing max_output is dropped (NL_CLOSE_OVERFLOW);
                                   >0: back-pressure: stop reading from it while more than this is queued */
    size_t soft_output;         /* 0: off. Fairness: when a connection's lines push another one's queue
                                   past this, the sender is not read from until that queue is back to
                                   half of it (the reader is not dropped for it) */
    uint32_t soft_output_ms;    /* with soft_output: a connection over it, and not back to half of it, this long is dropped
                                   (NL_CLOSE_SLOW_READER); 0: only max_output drops */
    size_t sndbuf;              /* SO_SNDBUF for accepted sockets: bounds the kernel's send queue
                                   beside max_output (default NL_SNDBUF_DEFAULT; 0: the kernel's autotuning) */
    uint32_t max_conns;         /* 0: as many as the open-file limit allows */
    uint32_t login_timeout_ms;  /* 0: none */
    uint32_t line_timeout_ms;   /* 0: none */
    uint32_t idle_timeout_ms;   /* 0: none */
    uint32_t close_grace_ms;    /* default 2000 */
    const char *full_line;      /* written to a connection refused for lack of room (NULL: nothing) */
    size_t max_input;           /* budget for incomplete lines held across all connections (Redis's
                                   maxmemory-clients for input); past it the largest are dropped (see shed).
                                   Default NL_SERVER_MAX_INPUT; SIZE_MAX: none */
    int eof_line;               /* 1: an unterminated last line before the peer's FIN is delivered as a line;
                                   0 (default): it is dropped, as after a reset (a client killed mid-line) */
    uint32_t keepalive_idle_s;  /* TCP keepalive on accepted sockets: first probe after this long idle (default
                                   NL_KEEPALIVE_IDLE_S; 0: keepalive off) */
    uint32_t keepalive_intvl_s; /* then one every this long (default NL_KEEPALIVE_INTVL_S) */
    uint32_t keepalive_cnt;     /* this many unanswered and the connection is dead (default NL_KEEPALIVE_CNT); the
                                   same total bounds unacknowledged output (TCP_USER_TIMEOUT) */
};

/* A host that vanished without a FIN is found within idle + intvl * cnt = 90 s by default. */
#define NL_KEEPALIVE_IDLE_S 60
#define NL_KEEPALIVE_INTVL_S 10
#define NL_KEEPALIVE_CNT 3

NL_API void nl_server_config_init(struct nl_server_config *cfg);

/**
 * Raise the open-file limit, listen, and serve on loop (the caller runs it).
 * ops and ud must outlive the server.
 */
NL_API int nl_server_open(struct nl_server **out, struct nl_loop *loop, const struct nl_server_config *cfg,
                   const struct nl_server_ops *ops, void *ud, char *errbuf);

/**
 * Close every connection (closing(NL_CLOSE_SHUTDOWN) first, then one last
 * non-blocking write of what it queued) and the listeners, and free s.
 */
NL_API void nl_server_close(struct nl_server *s);

NL_API const struct nl_listeners *nl_server_listeners(const struct nl_server *s);

/** The listening addresses as text, space-separated ("127.0.0.1:7000 [::1]:7000"); returns out. */
NL_API char *nl_server_listen_text(const struct nl_server *s, char *out, size_t cap);

/** Receives one log line (no newline). The library prints nothing itself. */
typedef void (*nl_log_fn)(void *ud, const char *line);

/** Format one log line and hand it to fn (nothing when fn is NULL). */
NL_API void nl_log(nl_log_fn fn, void *ud, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/** Receives a connection's queued, never-to-be-sent output (see nl_server_halt). */
typedef void (*nl_conn_dropped_fn)(struct nl_conn *c, const uint8_t *p, size_t n, void *ud);

/**
 * Stop sending, for good (an echo server whose output file failed): every
 * connection's queued output is shown to dropped (NULL allowed) and
 * discarded; from then on nothing is written to any socket (nl_conn_write and
 * nl_conn_reserve refuse, a refused connection gets no full_line,
 * nl_server_close sends nothing) and the loop stops after this pass.
 */
NL_API void nl_server_halt(struct nl_server *s, nl_conn_dropped_fn dropped, void *ud);

/** The connection limit in force (max_conns, or what the open-file limit leaves). */
NL_API uint32_t nl_server_max_conns(const struct nl_server *s);

/** Open connections (closing ones included until their descriptor is closed). */
NL_API size_t nl_server_count(const struct nl_server *s);

struct nl_server_stats {
    uint64_t accepted, refused, closed;
    uint64_t lines, bytes_in, bytes_out;
    uint64_t overflows, timeouts, too_long;
    uint64_t shed;               /* incomplete lines dropped to stay within max_input */
    uint64_t input_held, input_peak; /* bytes allocated for incomplete lines: now, and at most */
    uint64_t held;              /* times a sender was held for fairness (soft_output) */
};
NL_API void nl_server_get_stats(const struct nl_server *s, struct nl_server_stats *st);

/**
 * What a line server built on nl_server keeps around it: its loop, the server,
 * and a fatal error a callback may raise (an output file that cannot be
 * written, a capture that fails), returned once the loop has ended.
 */
struct nl_service {
    struct nl_loop *loop;
    struct nl_server *srv;
    int fatal;
    char fatal_err[NL_ERRBUF_SIZE];
};

/**
 * Install SIGINT/SIGTERM handling if asked, create the loop and open the
 * server. On failure nothing is left open.
 */
NL_API int nl_service_open(struct nl_service *svc, int handle_signals, const struct nl_server_config *cfg,
                    const struct nl_server_ops *ops, void *ud, char *errbuf);

/** Serve until stopped; then the loop's error, or the fatal error a callback raised. */
NL_API int nl_service_serve(struct nl_service *svc, char *errbuf);

/** Raise a fatal error from a callback (code and text) and end the loop after this pass. */
NL_API void nl_service_fail(struct nl_service *svc, int code, const char *text);

/** The final counters (st may be NULL), then close the server and the loop. */
NL_API void nl_service_close(struct nl_service *svc, struct nl_server_stats *st);


/**
 * Queue n bytes. NL_OK, or NL_ELIMIT when the connection cannot take them:
 * it passed max_output (it is then closed with NL_CLOSE_OVERFLOW and what it
 * had queued is dropped) or it is already gone.
 */
NL_API int nl_conn_write(struct nl_conn *c, const void *p, size_t n);

/** Room for n bytes of output (NULL as nl_conn_write's NL_ELIMIT); then nl_conn_commit. */
NL_API uint8_t *nl_conn_reserve(struct nl_conn *c, size_t n);
NL_API void nl_conn_commit(struct nl_conn *c, size_t n);

/** Close after this pass (see closing). Reading stops at once. Idempotent. */
NL_API void nl_conn_close(struct nl_conn *c, int reason);

/** The login timeout no longer applies (the peer has identified itself). */
NL_API void nl_conn_set_ready(struct nl_conn *c);

/** Receives the outcome of nl_conn_probe: alive 1 if the peer's host acknowledged, 0 if not in time. */
typedef void (*nl_conn_probed_fn)(struct nl_conn *c, int alive, void *ud);

/**
 * Is the peer's host still there? Sends what is queued (the protocol writes a line first, so that there
 * is something to acknowledge) and watches the socket (TCP_INFO, SIOCOUTQ): done(c, 1, ud) as soon as
 * the host acknowledges everything sent, or acknowledges anything after the probe began; done(c, 0, ud)
 * after timeout_ms without that. Once per probe, from the loop, never inside this call; not at all if c
 * closes first. NL_OK, NL_ENOMEM, or NL_EINVAL for a closing connection.
 */
NL_API int nl_conn_probe(struct nl_conn *c, uint32_t timeout_ms, nl_conn_probed_fn done, void *ud);

/** Milliseconds since the peer last sent something (or connected). */
NL_API uint64_t nl_conn_quiet_ms(const struct nl_conn *c);

NL_API void nl_conn_set_data(struct nl_conn *c, void *data);
NL_API void *nl_conn_data(const struct nl_conn *c);
NL_API const struct nl_addr *nl_conn_peer(const struct nl_conn *c);
/** "127.0.0.1:5555" into buf (NL_ADDR_STRLEN bytes); returns buf. */
NL_API const char *nl_conn_peer_text(const struct nl_conn *c, char *buf);
/** Nonzero once nl_conn_close was called (or the peer went away). */
NL_API int nl_conn_is_closing(const struct nl_conn *c);
/** The errno of a failed read or write (NL_CLOSE_RESET), else 0. */
NL_API int nl_conn_errno(const struct nl_conn *c);
NL_API size_t nl_conn_queued(const struct nl_conn *c);
/** Bytes written to the socket so far. */
NL_API uint64_t nl_conn_sent(const struct nl_conn *c);
NL_API struct nl_server *nl_conn_server(const struct nl_conn *c);
NL_API struct nl_loop *nl_server_loop(const struct nl_server *s);

#ifdef __cplusplus
}
#endif
#endif
