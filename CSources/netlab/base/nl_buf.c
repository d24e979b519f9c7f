/*
 * nl_buf.c - byte buffers with a hard cap, allocated lazily and released when
 * drained. Owns growth and compaction; knows nothing of lines or sockets.
 */
#include "netlab/nl_buf.h"
#include "nl_internal.h"

#include <stdlib.h>
#include <string.h>

/* First allocation: small, so a buffer that only ever holds a reply line stays cheap. */
#define NL_BUF_MIN 128

void nl_buf_init(struct nl_buf *b, size_t max)
{
    b->data = NULL;
    b->off = b->len = b->cap = 0;
    b->max = max ? max : SIZE_MAX;
}

/* Make room for n more bytes after the unread ones: compact, then grow. */
static int make_room(struct nl_buf *b, size_t n)
{
    if (n > b->max - b->len)
        return NL_ELIMIT;
    size_t need = b->len + n;
    if (b->off + need <= b->cap)
        return NL_OK;
    if (need <= b->cap) {
        /* Enough space overall: slide the unread bytes to the front. */
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
        return NL_OK;
    }
    size_t cap = b->cap ? b->cap : NL_BUF_MIN;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max && need <= b->max)
        cap = b->max > NL_BUF_MIN ? b->max : NL_BUF_MIN;
    uint8_t *p = malloc(cap);
    if (!p)
        return NL_ENOMEM;
    if (b->len)
        memcpy(p, b->data + b->off, b->len);
    free(b->data);
    b->data = p;
    b->cap = cap;
    b->off = 0;
    return NL_OK;
}

int nl_buf_append(struct nl_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return NL_OK;
    int rc = make_room(b, n);
    if (rc < 0)
        return rc;
    memcpy(b->data + b->off + b->len, p, n);
    b->len += n;
    return NL_OK;
}

uint8_t *nl_buf_reserve(struct nl_buf *b, size_t n)
{
    if (make_room(b, n ? n : 1) < 0)
        return NULL;
    return b->data + b->off + b->len;
}

void nl_buf_commit(struct nl_buf *b, size_t n) { b->len += n; }

void nl_buf_consume(struct nl_buf *b, size_t n)
{
    if (n >= b->len) {
        nl_buf_clear(b);
        return;
    }
    b->off += n;
    b->len -= n;
}

void nl_buf_clear(struct nl_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}
