/*
 * nl_buf.h - a growable byte buffer with a hard cap. Memory is taken on the
 * first append and given back once the buffer is drained, so an idle
 * connection's buffers cost nothing but the struct itself.
 */
#ifndef NL_BUF_H
#define NL_BUF_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nl_buf {
    uint8_t *data;  /* NULL while empty */
    size_t off;     /* first unread byte */
    size_t len;     /* unread bytes from off */
    size_t cap;     /* bytes allocated */
    size_t max;     /* len never exceeds this (SIZE_MAX: no cap) */
};

/** An empty buffer that will hold at most max bytes (0 means no cap). Allocates nothing. */
NL_API void nl_buf_init(struct nl_buf *b, size_t max);

/** Append n bytes. NL_ELIMIT if len + n would pass max (nothing is appended), NL_ENOMEM. */
NL_API int nl_buf_append(struct nl_buf *b, const void *p, size_t n);

/**
 * Room for n more bytes at the end: returns where to write them, or NULL
 * (over the cap or out of memory; nothing changes). Follow with nl_buf_commit.
 */
NL_API uint8_t *nl_buf_reserve(struct nl_buf *b, size_t n);

/** Count n bytes written after nl_buf_reserve as part of the buffer. */
NL_API void nl_buf_commit(struct nl_buf *b, size_t n);

/** The unread bytes (NULL when empty). */
static inline uint8_t *nl_buf_head(const struct nl_buf *b) { return b->data ? b->data + b->off : NULL; }

/** Drop n bytes from the front (n <= len); frees the memory when nothing is left. */
NL_API void nl_buf_consume(struct nl_buf *b, size_t n);

/** Drop everything and free the memory; the cap is kept. */
NL_API void nl_buf_clear(struct nl_buf *b);

#ifdef __cplusplus
}
#endif
#endif
