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
 * default action (so a stuck program still dies). Returns 0 or NL_ESYS.
 */
NL_API int nl_signals_install(char *errbuf);

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
