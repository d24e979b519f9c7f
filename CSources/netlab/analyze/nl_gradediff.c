/*
 * nl_gradediff.c - "your capture vs the reference": two graded captures
 * compared by what they mean, per rubric item (the server port, the greeting,
 * the lines each way, where it travelled, how the connection began and ended).
 * Sequence numbers, client ports, IP identifications, timing, checksums, how
 * bytes were cut into segments and duplicate copies never enter: only the
 * reassembled streams and the conversation's facts are read. Decides no grade.
 */
#include "nl_analysis.h"
#include "nl_classgrade_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUOTE_MAX 60

/* What a graded capture means. */
struct meaning {
    const struct nl_gcap *g;
    int greeted;
    struct nl_line greeting;
    struct nl_line *lines[2];      /* 0: the client's lines, 1: the server's lines after its greeting */
    size_t n[2];
    int loopback;
    char where[512];
};

static int add_diff(struct nl_cap_res *out, const char *item, char *text)
{
    if (!text)
        return NL_ENOMEM;
    if (out->ndiffs >= NL_CLASS_MAX_DIFFERENCES) {
        free(text);
        return 0;
    }
    if (NL_GROW(out->diffs, out->ndiffs, out->capdiffs, 8) < 0) {
        free(text);
        return NL_ENOMEM;
    }
    out->diffs[out->ndiffs].item = item;
    out->diffs[out->ndiffs++].text = text;
    return 0;
}

/* The lines of a stream from offset `from` (LF or CRLF; a last line may lack its end). */
static int split_lines(const struct nl_stream_store *s, size_t from, struct nl_line **out, size_t *n)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    for (size_t at = from; s && at < s->len;) {
        const uint8_t *lf = memchr(s->data + at, '\n', s->len - at);
        size_t e = lf ? (size_t)(lf - s->data) : s->len;
        if (NL_GROW(*out, *n, cap, 16) < 0)
            return NL_ENOMEM;
        struct nl_line *l = &(*out)[(*n)++];
        l->p = s->data + at;
        l->n = e - at - (e > at && s->data[e - 1] == '\r' ? 1 : 0);
        l->packet = nl_stream_packet_at(s, at);
        at = e + 1;
    }
    return 0;
}

static int mean(const struct nl_gcap *g, struct meaning *m)
{
    memset(m, 0, sizeof *m);
    m->g = g;
    m->greeted = nl_gcap_greeting(g, &m->greeting);
    m->loopback = nl_gcap_loopback(g, m->where, sizeof m->where);
    const struct nl_stream_store *c2s = nl_analysis_stream(g->a, g->conv, 1), *s2c = nl_analysis_stream(g->a, g->conv, 0);
    size_t skip = 0;
    if (m->greeted && s2c && s2c->len && s2c->data == m->greeting.p) { /* the greeting and its line end, if any */
        skip = m->greeting.n;
        if (skip < s2c->len && s2c->data[skip] == '\r')
            skip++;
        if (skip < s2c->len && s2c->data[skip] == '\n')
            skip++;
    }
    int rc = split_lines(c2s, 0, &m->lines[0], &m->n[0]);
    return rc < 0 ? rc : split_lines(s2c, skip, &m->lines[1], &m->n[1]);
}

static void unmean(struct meaning *m)
{
    free(m->lines[0]);
    free(m->lines[1]);
}

static void quote_line(char *out, size_t cap, const struct nl_line *l)
{
    if (l)
        nl_quote(out, cap, l->p, l->n, QUOTE_MAX);
    else
        snprintf(out, cap, "none");
}

static int same_line(const struct nl_line *a, const struct nl_line *b)
{
    return a && b && a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

static int diff_lines(const struct meaning *y, const struct meaning *r, int side, struct nl_cap_res *out)
{
    const char *what = side ? "reply" : "line";
    size_t n = NL_MAX(y->n[side], r->n[side]);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct nl_line *a = i < y->n[side] ? &y->lines[side][i] : NULL;
        const struct nl_line *b = i < r->n[side] ? &r->lines[side][i] : NULL;
        if (same_line(a, b))
            continue;
        char ya[256], rb[256];
        quote_line(ya, sizeof ya, a);
        quote_line(rb, sizeof rb, b);
        rc = add_diff(out, "echo", a ? nl_fmt("%s %zu: yours %s (packet %llu), the reference's %s", what, i + 1, ya,
                                              (unsigned long long)a->packet, rb)
                                     : nl_fmt("%s %zu: yours none, the reference's %s", what, i + 1, rb));
    }
    return rc;
}

static const char *end_words(const struct nl_conversation *c)
{
    if (c->end == NL_END_RST)
        return "a reset (RST)";
    if (c->end == NL_END_FIN)
        return "FIN from both sides";
    return c->fin_c2s || c->fin_s2c ? "FIN from one side only" : "no FIN or RST (still open)";
}

static int diff_connection(const struct meaning *y, const struct meaning *r, struct nl_cap_res *out)
{
    const struct nl_conversation *a = &y->g->c, *b = &r->g->c;
    int rc = 0;
    if (a->ipver != b->ipver)
        rc = add_diff(out, "connection", nl_fmt("IP version: yours IPv%u, the reference's IPv%u", a->ipver, b->ipver));
    if (rc == 0 && a->handshake != b->handshake)
        rc = add_diff(out, "connection", nl_fmt("handshake: yours %s, the reference's %s",
                                                a->handshake ? "captured" : "not captured",
                                                b->handshake ? "captured" : "not captured"));
    if (rc == 0 && strcmp(end_words(a), end_words(b)) != 0)
        rc = add_diff(out, "connection", nl_fmt("end: yours %s, the reference's %s", end_words(a), end_words(b)));
    return rc;
}

int nl_grade_diff(const struct nl_gcap *g, const struct nl_gcap *ref, struct nl_cap_res *out)
{
    struct meaning y = {0}, r = {0};
    out->has_ref = 1;
    int rc = mean(g, &y);
    if (rc == 0)
        rc = mean(ref, &r);
    if (rc == 0 && g->c.server_port != ref->c.server_port)
        rc = add_diff(out, "port", nl_fmt("server port: yours %u, the reference's %u", g->c.server_port,
                                          ref->c.server_port));
    if (rc == 0 && (y.greeted != r.greeted || (y.greeted && !same_line(&y.greeting, &r.greeting)))) {
        char ya[256], rb[256];
        quote_line(ya, sizeof ya, y.greeted ? &y.greeting : NULL);
        quote_line(rb, sizeof rb, r.greeted ? &r.greeting : NULL);
        rc = add_diff(out, "greeting", nl_fmt("greeting: yours %s, the reference's %s", ya, rb));
    }
    if (rc == 0)
        rc = diff_lines(&y, &r, 0, out);
    if (rc == 0)
        rc = diff_lines(&y, &r, 1, out);
    if (rc == 0 && y.loopback != r.loopback)
        rc = add_diff(out, "interface", nl_fmt("where: yours %s (%s), the reference's %s (%s)",
                                               y.loopback ? "on loopback" : "across hosts", y.where,
                                               r.loopback ? "on loopback" : "across hosts", r.where));
    if (rc == 0)
        rc = diff_connection(&y, &r, out);
    unmean(&y);
    unmean(&r);
    return rc;
}
