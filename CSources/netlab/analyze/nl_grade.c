/*
 * nl_grade.c - the expectations of echo grading (analyze --expect-echo, netlab
 * grade): the lines of a text file turned into messages a capture must carry,
 * each line to the server and its transform (nl_text_transform; netlab's echo
 * server's by default) back. Builds an in-memory CSV for nl_csv.c; reads one
 * file at most, prints nothing.
 */
#include "nl_internal.h"
#include "netlab/nl_analyze.h"
#include "netlab/nl_csv.h"
#include "netlab/nl_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sbuf {
    char *p;
    size_t len, cap;
};

static int put(struct sbuf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t nc = (b->cap ? b->cap : 4096);
        while (nc < b->len + n + 1)
            nc *= 2;
        char *q = realloc(b->p, nc);
        if (!q)
            return NL_ENOMEM;
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

/* One CSV record: id, ECHO, src, dst, "text" (quotes doubled), no timestamp. */
static int record(struct sbuf *b, const char *id, const char *src, const char *dst, const uint8_t *t, size_t n)
{
    char head[128];
    int k = snprintf(head, sizeof head, "%s,ECHO,%s,%s,\"", id, src, dst);
    if (put(b, head, (size_t)k) < 0)
        return NL_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (put(b, t[i] == '"' ? "\"\"" : (const char *)&t[i], t[i] == '"' ? 2 : 1) < 0)
            return NL_ENOMEM;
    return put(b, "\",\r\n", 4);
}

int nl_expect_lines_parse(const void *buf, size_t len, const char *name, int transform, struct nl_messages **out,
                          char *errbuf)
{
    *out = NULL;
    const char *in = buf;
    if (transform < 0 || transform >= NL_TRANSFORM_COUNT)
        return nl_err(errbuf, NL_EINVAL, "%s: no transform numbered %d", name, transform);
    struct sbuf csv = {0};
    int rc = put(&csv, "msg_id,app_protocol,src_app,dst_app,message,timestamp\r\n", 55);
    if (rc < 0)
        rc = nl_err(errbuf, NL_ENOMEM, "out of memory");
    unsigned line = 0;
    uint8_t *echo = NULL;
    for (size_t at = 0; rc == 0 && at < len;) {
        const char *nl = memchr(in + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - in) : len;
        size_t ll = end - at;
        if (ll && in[at + ll - 1] == '\r')
            ll--;
        line++;
        uint8_t *e = realloc(echo, ll + 2), *req = e ? malloc(ll + 2) : NULL;
        if (!e || !req) {
            free(e ? e : echo);
            echo = NULL;
            rc = nl_err(errbuf, NL_ENOMEM, "out of memory");
            break;
        }
        echo = e;
        memcpy(req, in + at, ll);
        req[ll] = '\n';
        nl_text_transform(transform, req, ll, echo);
        echo[ll] = '\n';
        char id[48];
        snprintf(id, sizeof id, "line %u", line);
        rc = record(&csv, id, "client", "server", req, ll + 1);
        snprintf(id, sizeof id, "echo %u", line);
        if (rc == 0)
            rc = record(&csv, id, "server", "client", echo, ll + 1);
        free(req);
        if (rc < 0)
            rc = nl_err(errbuf, NL_ENOMEM, "out of memory");
        at = end + 1;
    }
    free(echo);
    if (rc == 0 && line == 0)
        rc = nl_err(errbuf, NL_EMALFORMED, "%s: no line to check (the file is empty)", name);
    if (rc == 0)
        rc = nl_messages_parse(csv.p, csv.len, name, out, errbuf);
    /* Report the input file's line numbers, not those of the CSV made here (messages 2k and 2k+1 are line k+1). */
    for (size_t i = 0; rc == 0 && i < nl_messages_count(*out); i++)
        ((struct nl_message *)nl_messages_at(*out, i))->line = (unsigned)(i / 2 + 1);
    free(csv.p);
    return rc;
}

int nl_expect_echo_load(const char *path, struct nl_messages **out, char *errbuf)
{
    *out = NULL;
    struct nl_file f;
    int rc = nl_file_load(&f, path, "the input file", "an input file", NL_CSV_MAX_MESSAGE * 16ull, errbuf);
    if (rc < 0)
        return rc;
    rc = nl_expect_lines_parse(f.data, f.size, path, NL_TRANSFORM_REVERSE_SWAPCASE, out, errbuf);
    nl_file_release(&f);
    return rc;
}
