/*
 * nl_log.h - a server log that never blocks its event loop: lines go to a
 * descriptor (standard output, a file, a pipe) without blocking; what the
 * reader is too slow for waits in a bounded buffer, and past it whole lines
 * are dropped and counted, with "N log lines dropped" written once the
 * buffer drains.
 */
#ifndef NL_LOG_H
#define NL_LOG_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#include "nl_error.h"
#include "nl_loop.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nl_logger;  /* opaque */

#define NL_LOGGER_BUFFER (64 * 1024)  /* default bytes held for a slow reader */

/**
 * Log to fd (not taken over: the caller closes it). A pipe, FIFO or terminal
 * is written through its own non-blocking open file description
 * (/proc/self/fd/N), so the flags of the descriptor others share are left
 * alone; a socket with MSG_DONTWAIT; a regular file as it is. stamp: start
 * each line with the local time ("2025-01-31 12:00:00 "). cap: bytes held
 * while the reader is slow (0: NL_LOGGER_BUFFER).
 */
NL_API int nl_logger_open(struct nl_logger **out, int fd, int stamp, size_t cap, char *errbuf);

/**
 * Log one line (no newline): an nl_log_fn, with the logger as its ud. Never
 * blocks. Given to a server as log = nl_logger_line, log_ud = the logger, the
 * server also drains it from its loop when the descriptor becomes writable.
 */
NL_API void nl_logger_line(void *logger, const char *line);

/** Drain the held bytes from loop (when the descriptor is writable) until detached. */
NL_API int nl_logger_attach(struct nl_logger *lg, struct nl_loop *loop, char *errbuf);
NL_API void nl_logger_detach(struct nl_logger *lg);

/** Bytes held; lines dropped so far (all of them, reported or not). */
NL_API size_t nl_logger_pending(const struct nl_logger *lg);
NL_API uint64_t nl_logger_dropped(const struct nl_logger *lg);

/** Give the reader up to wait_ms to take what is held (and the dropped count), then free lg. */
NL_API void nl_logger_close(struct nl_logger *lg, uint32_t wait_ms);

#ifdef __cplusplus
}
#endif
#endif
