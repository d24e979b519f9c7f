/*
 * nl_signal.h - one process-wide stop flag for long-running loops (capture,
 * servers): SIGINT and SIGTERM set it, SIGPIPE is ignored. Handlers are
 * installed without SA_RESTART so a blocking poll() returns EINTR at once.
 */
#ifndef NL_SIGNAL_H
#define NL_SIGNAL_H

#include "nl_api.h"

#include <signal.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Install the handlers. A second SIGINT/SIGTERM after the first restores the
 * default action (so a stuck program still dies; see nl_signals_hold). Returns 0 or NL_ESYS.
 */
NL_API int nl_signals_install(char *errbuf);

/**
 * For a program whose clean-up must finish and is bounded in time (the lab removing its
 * namespaces): while on, up to NL_SIGNALS_HELD requests only set the flag and are counted;
 * one more gives the default action back (Ctrl-C pressed three times still ends a stuck
 * program). Off (the default), the second request does.
 */
#define NL_SIGNALS_HELD 2
NL_API void nl_signals_hold(int on);

/** How many SIGINT/SIGTERM arrived since the flag was last reset (at most 1000). */
NL_API int nl_stop_requests(void);

/** The flag itself, for loops that poll it. Nonzero once a stop was requested. */
NL_API volatile sig_atomic_t *nl_stop_flag(void);

/** The signal that set the flag (0 if none, or if nl_stop_request set it). */
NL_API int nl_stop_signal(void);

/** Set or clear the flag from code (tests, a "quit" command). */
NL_API void nl_stop_request(void);
NL_API void nl_stop_reset(void);

#ifdef __cplusplus
}
#endif
#endif
