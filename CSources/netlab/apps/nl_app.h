/*
 * nl_app.h - what the line servers (nl_chat.c, nl_echo.c) share (internal; never
 * installed): their logging macros, over a config with log, log_ud and quiet, and
 * nl_<name>_server_run (open + serve + close).
 */
#ifndef NL_APP_H
#define NL_APP_H

#include "netlab/nl_error.h"
#include "netlab/nl_log.h"

/* A server event, to the configured log function. */
#define logf_(s, ...) nl_log((s)->cfg.log, (s)->cfg.log_ud, __VA_ARGS__)

/* A per-client event: left out with cfg.quiet. */
#define logc_(s, ...)                 \
    do {                              \
        if (!(s)->cfg.quiet)          \
            logf_((s), __VA_ARGS__);  \
    } while (0)

/* int nl_<name>_server_run(cfg, errbuf): open, serve, close; the first failure is the one reported. */
#define NL_APP_RUN_FN(name)                                                                  \
    int nl_##name##_server_run(const struct nl_##name##_config *cfg, char *errbuf)           \
    {                                                                                        \
        struct nl_##name##_server *s;                                                        \
        int rc = nl_##name##_server_open(&s, cfg, errbuf);                                   \
        if (rc < 0)                                                                          \
            return rc;                                                                       \
        rc = nl_##name##_server_serve(s, errbuf);                                            \
        char err2[NL_ERRBUF_SIZE];                                                           \
        int rc2 = nl_##name##_server_close(s, rc < 0 ? err2 : errbuf);                       \
        return rc < 0 ? rc : rc2;                                                            \
    }

#endif
