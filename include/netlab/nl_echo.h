/*
 * nl_echo.h - the echo exercise: a server that greets each client and answers
 * every line reversed (by UTF-8 character) with ASCII case swapped, keeping
 * every answer in an output file; and a client that sends a file line by line
 * and checks each answer.
 */
#ifndef NL_ECHO_H
#define NL_ECHO_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#include "nl_conn.h"  /* nl_log_fn */
#include "nl_text.h"  /* nl_echo_transform: the transform itself is plain text work */

#ifdef __cplusplus
extern "C" {
#endif

#define NL_ECHO_GREETING "Welcome to netlab!"
#define NL_ECHO_OUTPUT "out-proj.txt"
#define NL_ECHO_INPUT "in-proj.txt"


struct nl_echo_config {
    const char *host;            /* NULL: every address, IPv4 and IPv6 */
    uint16_t port;               /* 0: any free port */
    const char *greeting;        /* first line to every client; NULL: NL_ECHO_GREETING; "": none */
    const char *output_path;     /* answers appended here; NULL: none. Each answer is written before it is sent */
    int batch_output;            /* 1 (default): the answers of one loop pass in one write(2), made before any
                                    of them is sent, so the file holds every answer a client has received,
                                    also after a crash; 0: one write(2) per answer line */
    size_t max_line;             /* longest line answered; default 1 MiB */
    uint32_t max_clients;        /* 0: as many as the open-file limit allows */
    size_t max_input;            /* bytes of unfinished lines held across all clients; past it the largest is
                                    dropped with "ERR line dropped: ..."; default 128 MiB; SIZE_MAX: no budget */
    uint32_t idle_timeout_ms;    /* default 300000; 0: never */
    uint32_t line_timeout_ms;    /* an incomplete line outstanding; default 60000; 0: never */
    int handle_signals;          /* SIGINT/SIGTERM stop the server; SIGPIPE ignored */
    nl_log_fn log;               /* NULL: silent */
    void *log_ud;
    int quiet;                   /* log the start and the end only, nothing per client */
};

NL_API void nl_echo_config_init(struct nl_echo_config *cfg);

struct nl_echo_server;  /* opaque */

NL_API int nl_echo_server_open(struct nl_echo_server **out, const struct nl_echo_config *cfg, char *errbuf);
NL_API uint16_t nl_echo_server_port(const struct nl_echo_server *s);
NL_API int nl_echo_server_serve(struct nl_echo_server *s, char *errbuf);
NL_API void nl_echo_server_stop(struct nl_echo_server *s);  /* async-signal-safe, thread-safe */
NL_API int nl_echo_server_close(struct nl_echo_server *s, char *errbuf);
NL_API int nl_echo_server_run(const struct nl_echo_config *cfg, char *errbuf);

struct nl_echo_client_config {
    const char *host;            /* default "localhost" */
    uint16_t port;
    const char *input_path;      /* default NL_ECHO_INPUT */
    int out_fd;                  /* where the exchange is shown; -1: nowhere */
    uint32_t timeout_ms;         /* per answer; default 10000 */
    size_t max_line;             /* longest answer accepted; default 64 MiB */
    int handle_signals;
    /* How long to wait for the server's greeting before sending the first line without one
     * (and saying so): default 2000 ms; 0 sends at once (a server that does not greet). */
    uint32_t greeting_ms;
};

struct nl_echo_client_result {
    uint64_t lines;              /* lines sent */
    uint64_t answers;            /* answers received */
    uint64_t mismatches;         /* answers that are not the transform of the line sent */
};

NL_API void nl_echo_client_config_init(struct nl_echo_client_config *cfg);

/**
 * Connect, show the greeting (waiting cfg->greeting_ms for one; none is not an
 * error), then send each line of the input file (LF or CRLF; the terminator is
 * not sent as part of the line) and show it with its answer. A greeting that
 * comes late, after the first line was sent, is recognised: a first line back
 * that is not the answer, followed within greeting_ms by the answer. NL_EMISMATCH
 * if any answer is not the expected transform.
 */
NL_API int nl_echo_client_run(const struct nl_echo_client_config *cfg, struct nl_echo_client_result *res, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
