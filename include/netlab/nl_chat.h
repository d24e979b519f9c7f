/*
 * nl_chat.h - the netlab chat protocol (docs/PROTOCOL.md) and its server:
 * unique case-insensitive names, two-way sessions by request and accept,
 * a broadcast room, on one nl_loop through nl_conn. The server owns no
 * terminal: it reports joins, sessions and departures through a log callback.
 */
#ifndef NL_CHAT_H
#define NL_CHAT_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#include "nl_conn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NL_CHAT_MAX_LINE 4096  /* bytes per line, terminator excluded */
#define NL_CHAT_MAX_NAME 32    /* name: 1-32 of A-Z a-z 0-9 _ - */

enum nl_chat_verb {
    NL_CHAT_EMPTY = 0,  /* a blank line: ignored */
    NL_CHAT_UNKNOWN,
    NL_CHAT_NICK, NL_CHAT_LIST, NL_CHAT_WHO, NL_CHAT_CHAT, NL_CHAT_ACCEPT, NL_CHAT_DECLINE,
    NL_CHAT_MSG, NL_CHAT_LEAVE, NL_CHAT_SESSIONS, NL_CHAT_JOIN, NL_CHAT_PART, NL_CHAT_SAY,
    NL_CHAT_PING, NL_CHAT_QUIT, NL_CHAT_HELP
};

/** A parsed command line; the pointers point into the line. */
struct nl_chat_cmd {
    int verb;
    const uint8_t *word;  /* the verb as sent */
    size_t word_len;
    const uint8_t *arg;   /* the user name argument (NICK, WHO, CHAT, ACCEPT, DECLINE, MSG, LEAVE) */
    size_t arg_len;
    const uint8_t *text;  /* MSG/SAY text, PING token, QUIT reason: everything after one space, verbatim */
    size_t text_len;
    int has_text;
    const char *error;    /* why NL_EMALFORMED, with the usage ("MSG needs a user and text: MSG <user> <text>") */
};

/**
 * Parse one line (terminator already removed). Verbs are case-insensitive;
 * leading blanks are skipped. Returns NL_OK, or NL_EMALFORMED with cmd->error
 * set when the verb is known but its arguments are wrong. Never reads past len.
 */
NL_API int nl_chat_parse(const uint8_t *line, size_t len, struct nl_chat_cmd *cmd);

/**
 * 1 if p[0..n) holds nothing a terminal acts on: no C0 control but TAB (so
 * no NUL, ESC, BEL or bare CR), no DEL, and no C1 control (U+0080..U+009F as
 * UTF-8). The server refuses other lines with ERR 400 (docs/PROTOCOL.md).
 */
NL_API int nl_chat_text_safe(const uint8_t *p, size_t n);

/** 1 if p[0..n) is a valid name: 1-32 of A-Z a-z 0-9 _ - */
NL_API int nl_chat_name_valid(const uint8_t *p, size_t n);

/** The verb's upper-case name ("NICK"); "" for EMPTY/UNKNOWN. */
NL_API const char *nl_chat_verb_name(int verb);

struct nl_chat_server;  /* opaque */

struct nl_chat_config {
    const char *host;             /* NULL: every address, IPv4 and IPv6 */
    uint16_t port;                /* 0: any free port (see nl_chat_server_port) */
    uint32_t max_clients;         /* 0: as many as the open-file limit allows */
    size_t max_output;            /* bytes queued for one client before it is dropped; default 1 MiB */
    size_t max_input;             /* bytes of unfinished lines held across all clients; past it the largest is
                                     dropped with ERR 503; default 64 MiB; SIZE_MAX: no budget */
    size_t soft_output;           /* past this, whoever sends to the client is not read from until it
                                     drains to half of it; default max_output / 4; 0: off */
    uint32_t soft_output_ms;      /* a client over soft_output this long is dropped (ERR 507); default 10000; 0: never */
    uint32_t login_timeout_ms;    /* connected without NICK; default 60000; 0: never */
    uint32_t line_timeout_ms;     /* half a line outstanding; default 60000; 0: never */
    uint32_t idle_timeout_ms;     /* nothing sent or received; default 0 (never) */
    uint32_t keepalive_idle_s;    /* TCP keepalive: a client's vanished host is found after idle + intvl * cnt s
                                     (defaults 60, 10, 3: 90 s), and its name freed; idle 0: keepalive off */
    uint32_t keepalive_intvl_s;
    uint32_t keepalive_cnt;
    uint32_t max_sessions;        /* sessions and requests per user; default 256 */
    int handle_signals;           /* SIGINT/SIGTERM stop the server; SIGPIPE ignored */
    nl_log_fn log;                /* NULL: silent */
    void *log_ud;
    int quiet;                    /* log the start and the end only, nothing per client */
    const char *cluster_url;      /* "redis://HOST:PORT": one chat with the other servers there (NULL: alone) */
    const char *cluster_node;     /* this server's name in the cluster (NULL: "<host name>-<port>") */
    int cluster_allow_eviction;   /* join even a Redis whose maxmemory-policy may evict keys (refused otherwise) */
    /* Something more on the server's loop, owned by the caller (chatserver --capture: nl_chatcap.h).
     * attach runs once the server listens (a negative return fails the open); detach runs once
     * after the connections are closed and before the last log line, failed set when the server
     * stopped on a fatal error or its open failed. NULL: nothing attached. */
    int (*attach)(struct nl_chat_server *s, void *ud, char *errbuf);
    int (*detach)(struct nl_chat_server *s, void *ud, int failed, char *errbuf);
    void *attach_ud;
};

NL_API void nl_chat_config_init(struct nl_chat_config *cfg);

/** Listen (and run cfg->attach). The server runs in nl_chat_server_serve. */
NL_API int nl_chat_server_open(struct nl_chat_server **out, const struct nl_chat_config *cfg, char *errbuf);

/** The port listened on. */
NL_API uint16_t nl_chat_server_port(const struct nl_chat_server *s);

/** Serve until stopped (nl_chat_server_stop, or a signal with handle_signals). */
NL_API int nl_chat_server_serve(struct nl_chat_server *s, char *errbuf);

/** Make serve return. Async-signal-safe and thread-safe. */
NL_API void nl_chat_server_stop(struct nl_chat_server *s);

/** Disconnect everyone, run cfg->detach, free s. */
NL_API int nl_chat_server_close(struct nl_chat_server *s, char *errbuf);

/** The server's event loop, for what cfg->attach adds to it (valid until close). */
NL_API struct nl_loop *nl_chat_server_loop(struct nl_chat_server *s);

/** Stop the server on a fatal error raised by something attached to its loop: serve returns code
 * and text (the first failure wins). */
NL_API void nl_chat_server_fail(struct nl_chat_server *s, int code, const char *text);

/** open + serve + close. */
NL_API int nl_chat_server_run(const struct nl_chat_config *cfg, char *errbuf);

/** Registered users right now. */
NL_API size_t nl_chat_server_users(const struct nl_chat_server *s);

#ifdef __cplusplus
}
#endif
#endif
