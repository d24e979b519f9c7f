/*
 * nl_proc.h - running programs for the lab: run to completion with output
 * captured, or start in the background (optionally inside a network namespace)
 * and stop by PID. Only processes started here are ever signalled. Every wait
 * has a deadline, and a stop request (nl_signal.h) ends it.
 */
#ifndef NL_PROC_H
#define NL_PROC_H

#include "nl_api.h"

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Run argv (argv[0] searched in PATH) to completion, inside network namespace
 * netns (a name under /run/netns) unless NULL. Standard output and error go
 * to out (NUL-terminated, truncated to outcap; may be NULL). *status receives
 * the exit status (128+signal if killed). Returns 0, or NL_ENOTFOUND/NL_ESYS if
 * it could not be started or timeout_s (> 0) passed (then it is killed).
 */
NL_API int nl_proc_run(const char *const argv[], const char *netns, double timeout_s, char *out, size_t outcap,
                int *status, char *errbuf);

/**
 * Start argv in the background in its own process group, inside netns unless
 * NULL, with stdout and stderr appended to log_path (NULL: /dev/null).
 */
NL_API int nl_proc_spawn(const char *const argv[], const char *netns, const char *log_path, pid_t *pid, char *errbuf);

/**
 * As nl_proc_spawn, with the child's standard input connected to a pipe whose
 * write end is returned in *stdin_fd (close it to send end-of-file).
 */
NL_API int nl_proc_spawn_input(const char *const argv[], const char *netns, const char *log_path, pid_t *pid, int *stdin_fd,
                        char *errbuf);

/**
 * Wait up to timeout_s for pid to exit; *status as for nl_proc_run. NL_ELIMIT on timeout,
 * NL_EINTR at once when a stop was requested (nl_signal.h; the process is left running).
 */
NL_API int nl_proc_wait(pid_t pid, double timeout_s, int *status, char *errbuf);

/**
 * Write len bytes of buf to fd (a child's input, nl_proc_spawn_input) without ever blocking
 * past the deadline: waits for room with poll(), at most timeout_s in all. *written gets the
 * bytes taken. 0 when all were; NL_ELIMIT at the deadline; NL_EINTR at a stop request (at
 * once: SIGINT/SIGTERM end the wait); NL_ESYS when the reader went away (EPIPE; SIGPIPE is
 * the caller's to ignore, nl_signals_install does). fd's blocking mode is restored.
 */
NL_API int nl_proc_feed(int fd, const void *buf, size_t len, double timeout_s, size_t *written, char *errbuf);

/** SIGTERM the process group of pid, wait up to grace_s for the whole group to go, then SIGKILL what is left of it
 *  (a member that ignores SIGTERM too, even when pid itself went at once); reap pid. */
NL_API int nl_proc_stop(pid_t pid, double grace_s, int *status, char *errbuf);

/** 1 if pid is alive (and not a zombie of ours already reaped). */
NL_API int nl_proc_alive(pid_t pid);

#ifdef __cplusplus
}
#endif
#endif
