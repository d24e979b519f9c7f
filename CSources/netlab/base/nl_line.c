/*
 * nl_line.c - the resumable LF/CRLF line framer over a capped carry buffer.
 * Complete lines inside one input chunk are handed out in place (no copy);
 * only a line split across chunks is carried. Never reads past n bytes.
 */
#include "netlab/nl_line.h"
#include "nl_internal.h"

#include <string.h>

void nl_line_init(struct nl_line *f, size_t max_line)
{
    f->max_line = max_line ? max_line : 4096;
    /* One extra byte: the CR of a CRLF may sit at the end of a carried line. */
    nl_buf_init(&f->part, f->max_line + 1);
    f->skipping = 0;
}

void nl_line_free(struct nl_line *f)
{
    nl_buf_clear(&f->part);
    f->skipping = 0;
}

void nl_line_drop(struct nl_line *f)
{
    if (f->part.len == 0 && !f->skipping)
        return;
    nl_buf_clear(&f->part);
    f->skipping = 1;
}

/* A complete line of len bytes (LF removed): strip one CR, check the limit, deliver. */
static int deliver(struct nl_line *f, uint8_t *line, size_t len, nl_line_fn fn, void *ud)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > f->max_line)
        return fn(ud, NULL, len, NL_LINE_TOOLONG);
    return fn(ud, line, len, NL_LINE_OK);
}

/* An incomplete line of len bytes ending in last: already certain to be too long? */
static int partial_too_long(const struct nl_line *f, size_t len, uint8_t last)
{
    return len > f->max_line + 1 || (len == f->max_line + 1 && last != '\r');
}

int nl_line_feed(struct nl_line *f, uint8_t *p, size_t n, nl_line_fn fn, void *ud)
{
    int rc;
    while (n > 0) {
        uint8_t *lf = memchr(p, '\n', n);
        size_t take = lf ? (size_t)(lf - p) : n;
        size_t adv = lf ? take + 1 : n;
        if (f->skipping) {
            if (lf)
                f->skipping = 0;
        } else if (f->part.len > 0) {
            size_t total = f->part.len + take;
            uint8_t last = take ? p[take - 1] : nl_buf_head(&f->part)[f->part.len - 1];
            if (lf ? total > f->max_line + 1 : partial_too_long(f, total, last)) {
                nl_buf_clear(&f->part);
                f->skipping = !lf;
                if ((rc = fn(ud, NULL, total, NL_LINE_TOOLONG)) != 0)
                    return rc;
            } else {
                if (nl_buf_append(&f->part, p, take) < 0)
                    return NL_ENOMEM;
                if (lf) {
                    /* Deliver from the carry buffer, then release it. */
                    rc = deliver(f, nl_buf_head(&f->part), f->part.len, fn, ud);
                    nl_buf_clear(&f->part);
                    if (rc != 0)
                        return rc;
                }
            }
        } else if (lf) {
            if ((rc = deliver(f, p, take, fn, ud)) != 0)
                return rc;
        } else if (partial_too_long(f, take, p[take - 1])) {
            f->skipping = 1;
            if ((rc = fn(ud, NULL, take, NL_LINE_TOOLONG)) != 0)
                return rc;
        } else {
            if (nl_buf_append(&f->part, p, take) < 0)
                return NL_ENOMEM;
        }
        p += adv;
        n -= adv;
    }
    return 0;
}

int nl_line_finish(struct nl_line *f, nl_line_fn fn, void *ud)
{
    int rc = 0;
    if (!f->skipping && f->part.len > 0) {
        /* No LF will come: the carried bytes are the last line. */
        rc = deliver(f, nl_buf_head(&f->part), f->part.len, fn, ud);
    }
    nl_line_free(f);
    return rc;
}
