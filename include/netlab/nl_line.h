/*
 * nl_line.h - a resumable line framer: bytes go in as they arrive from a
 * socket (any split, many lines per read), complete lines come out. Lines end
 * with LF or CRLF; the terminator is never part of the line. A line longer
 * than the limit is reported once and skipped up to its LF, and framing
 * carries on with the next line. Only an incomplete line is ever copied.
 */
#ifndef NL_LINE_H
#define NL_LINE_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#include "nl_buf.h"

#ifdef __cplusplus
extern "C" {
#endif

enum nl_line_status {
    NL_LINE_OK = 0,      /* a complete line of len bytes */
    NL_LINE_TOOLONG = 1  /* the current line passed max_line; line is NULL, len is how much was seen */
};

struct nl_line {
    struct nl_buf part;  /* the incomplete line carried between feeds (allocated only then) */
    size_t max_line;     /* longest line accepted, terminator excluded */
    int skipping;        /* inside an over-long line: discard up to the next LF */
};

/**
 * Called per line. line points into the caller's bytes or the framer's own
 * buffer and is valid only during the call (it may be modified in place).
 * Return 0 to go on; anything else stops nl_line_feed, which returns it and
 * drops the rest of that input (the caller is abandoning the stream).
 */
typedef int (*nl_line_fn)(void *ud, uint8_t *line, size_t len, int status);

NL_API void nl_line_init(struct nl_line *f, size_t max_line);

/** Feed n bytes. Returns 0, a callback's nonzero value, or NL_ENOMEM. */
NL_API int nl_line_feed(struct nl_line *f, uint8_t *p, size_t n, nl_line_fn fn, void *ud);

/**
 * End of stream: an incomplete last line (no terminator) is delivered as a
 * line; a trailing lone CR is dropped as the start of a CRLF. Resets f.
 */
NL_API int nl_line_finish(struct nl_line *f, nl_line_fn fn, void *ud);

/** Bytes of an incomplete line held (0 when between lines). */
static inline size_t nl_line_pending(const struct nl_line *f) { return f->part.len + (size_t)(f->skipping != 0); }

/**
 * Give up the incomplete line held (its memory is freed at once): the rest of
 * it, up to its LF, is discarded as for an over-long line.
 */
NL_API void nl_line_drop(struct nl_line *f);

/** Free the held bytes. */
NL_API void nl_line_free(struct nl_line *f);

#ifdef __cplusplus
}
#endif
#endif
