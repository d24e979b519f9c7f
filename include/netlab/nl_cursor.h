/*
 * nl_cursor.h - bounds-checked reading of wire bytes (tcpdump's EXTRACT style).
 * A cursor is {p, end, err}: a read past the end sets the sticky err and yields 0,
 * so a decoder checks err once per header. Never cast structs onto packet bytes.
 */
#ifndef NL_CURSOR_H
#define NL_CURSOR_H

#include "nl_error.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nl_cursor {
    const uint8_t *p;    /* next byte to read */
    const uint8_t *end;  /* one past the last readable byte */
    int err;             /* sticky: nonzero once any read ran past end */
};

static inline void nl_cur_init(struct nl_cursor *c, const void *buf, size_t len)
{
    c->p = (const uint8_t *)buf;
    c->end = c->p + len;
    c->err = 0;
}

static inline size_t nl_cur_left(const struct nl_cursor *c) { return (size_t)(c->end - c->p); }

/** Claim n bytes: returns a pointer to them, or NULL (and sets err) if fewer remain. */
static inline const uint8_t *nl_cur_bytes(struct nl_cursor *c, size_t n)
{
    if (c->err || nl_cur_left(c) < n) {
        c->err = 1;
        c->p = c->end;
        return NULL;
    }
    const uint8_t *r = c->p;
    c->p += n;
    return r;
}

static inline void nl_cur_skip(struct nl_cursor *c, size_t n) { (void)nl_cur_bytes(c, n); }

static inline uint8_t nl_cur_u8(struct nl_cursor *c)
{
    const uint8_t *b = nl_cur_bytes(c, 1);
    return b ? b[0] : 0;
}

static inline uint16_t nl_cur_be16(struct nl_cursor *c)
{
    const uint8_t *b = nl_cur_bytes(c, 2);
    return b ? (uint16_t)(b[0] << 8 | b[1]) : 0;
}

static inline uint32_t nl_cur_be32(struct nl_cursor *c)
{
    const uint8_t *b = nl_cur_bytes(c, 4);
    return b ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3] : 0;
}

static inline uint16_t nl_cur_le16(struct nl_cursor *c)
{
    const uint8_t *b = nl_cur_bytes(c, 2);
    return b ? (uint16_t)(b[1] << 8 | b[0]) : 0;
}

static inline uint32_t nl_cur_le32(struct nl_cursor *c)
{
    const uint8_t *b = nl_cur_bytes(c, 4);
    return b ? (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0] : 0;
}

/** Copy n bytes into out: 0, or NL_ETRUNC (out untouched) when fewer than n remain. */
static inline int nl_cur_take(struct nl_cursor *c, void *out, size_t n)
{
    const uint8_t *b = nl_cur_bytes(c, n);
    if (!b)
        return NL_ETRUNC;
    memcpy(out, b, n);
    return 0;
}

/** Copy n bytes into out (zero-filled on a short read). */
static inline void nl_cur_copy(struct nl_cursor *c, void *out, size_t n)
{
    const uint8_t *b = nl_cur_bytes(c, n);
    if (b)
        memcpy(out, b, n);
    else
        memset(out, 0, n);
}

/** Split off a sub-cursor over the next n bytes (clipped to what remains; err set if short). */
static inline struct nl_cursor nl_cur_sub(struct nl_cursor *c, size_t n)
{
    struct nl_cursor s;
    size_t left = nl_cur_left(c);
    s.p = c->p;
    s.err = 0;
    if (n > left) {
        s.end = c->end;
        c->err = 1;
        c->p = c->end;
    } else {
        s.end = c->p + n;
        c->p += n;
    }
    return s;
}

/* Big-endian stores for building headers. */
static inline void nl_put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void nl_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline uint16_t nl_get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t nl_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#ifdef __cplusplus
}
#endif
#endif
