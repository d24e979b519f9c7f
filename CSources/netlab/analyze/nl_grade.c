/*
 * nl_grade.c - the expectations of echo grading (analyze --expect-echo): the
 * lines of a text file turned into messages a capture must carry, each line to
 * the server and its echo (nl_echo_transform) back. Builds an in-memory CSV for
 * nl_csv.c; reads one file, prints nothing.
 */
#include "nl_internal.h"
#include "netlab/nl_analyze.h"
#include "netlab/nl_csv.h"
#include "netlab/nl_text.h"

#include <errno.h>
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

int nl_expect_echo_load(const char *path, struct nl_messages **out, char *errbuf)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return nl_err_sys(errbuf, errno, "%s: cannot open the input file", path);
    struct sbuf in = {0}, csv = {0};
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if ((rc = put(&in, chunk, n)) < 0)
            break;
    int err = ferror(f);
    fclose(f);
    if (rc == 0 && err)
        rc = nl_err(errbuf, NL_ESYS, "%s: read error", path);
    if (rc == 0 && (rc = put(&csv, "msg_id,app_protocol,src_app,dst_app,message,timestamp\r\n", 55)) < 0)
        rc = nl_err(errbuf, NL_ENOMEM, "out of memory");
    unsigned line = 0;
    uint8_t *echo = NULL;
    for (size_t at = 0; rc == 0 && at < in.len;) {
        const char *nl = memchr(in.p + at, '\n', in.len - at);
        size_t end = nl ? (size_t)(nl - in.p) : in.len;
        size_t ll = end - at;
        if (ll && in.p[at + ll - 1] == '\r')
            ll--;
        line++;
        uint8_t *e = realloc(echo, ll + 2);
        if (!e) {
            rc = nl_err(errbuf, NL_ENOMEM, "out of memory");
            break;
        }
        echo = e;
        uint8_t *req = malloc(ll + 2);
        if (!req) {
            rc = nl_err(errbuf, NL_ENOMEM, "out of memory");
            break;
        }
        memcpy(req, in.p + at, ll);
        req[ll] = '\n';
        nl_echo_transform(req, ll, echo);
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
        rc = nl_err(errbuf, NL_EMALFORMED, "%s: no line to check (the file is empty)", path);
    if (rc == 0)
        rc = nl_messages_parse(csv.p, csv.len, path, out, errbuf);
    /* Report the input file's line numbers, not those of the CSV made here (messages 2k and 2k+1 are line k+1). */
    for (size_t i = 0; rc == 0 && i < nl_messages_count(*out); i++)
        ((struct nl_message *)nl_messages_at(*out, i))->line = (unsigned)(i / 2 + 1);
    free(in.p);
    free(csv.p);
    return rc;
}
