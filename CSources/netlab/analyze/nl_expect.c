/*
 * nl_expect.c - checking CSV messages against reassembled payload streams (see
 * nl_expect.h): found intact, out of order, altered (where it belongs, bytes
 * differ) or missing. TCP gives each direction its own ordered byte stream and
 * nothing more, so order is the order of bytes in a direction's stream, never
 * that of segments or packets across the two directions: a client that writes
 * all its lines at once is as right as one that waits for each reply. Across
 * directions, only a reply's cause is checked (an echo cannot leave before its
 * line arrived). Reads the streams nl_analyze.c kept; no I/O.
 */
#include "nl_expect.h"
#include "netlab/nl_error.h"
#include "nl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct group {
    const char *proto, *a, *b;  /* a: src_app of the group's first message */
    size_t *idx;
    size_t n, cap;
};

/* Where one group is matched: a conversation, its orientation, and how messages are framed. */
struct match_ctx {
    const struct nl_messages *ms;
    const struct group *g;
    const struct nl_expect_conv *cv;
    int a_is_client;
    int lines;                  /* messages are lines (text + LF): a line ends in LF, CRLF or the stream's end */
    struct nl_expect_rec *recs; /* NULL: count only */
};

static int same_group(const struct group *g, const struct nl_message *m)
{
    return strcmp(g->proto, m->app_protocol) == 0 &&
           ((strcmp(g->a, m->src_app) == 0 && strcmp(g->b, m->dst_app) == 0) ||
            (strcmp(g->a, m->dst_app) == 0 && strcmp(g->b, m->src_app) == 0));
}

static void printable(uint8_t b, char out[8])
{
    if (b >= 0x20 && b < 0x7f && b != '\'')
        snprintf(out, 8, "'%c'", b);
    else
        snprintf(out, 8, "0x%02x", b);
}

static const char *dir_name(int c2s) { return c2s ? "client -> server" : "server -> client"; }

/* ---- finding a message in a stream ---- */

/* The line terminator at s[at]: LF or CRLF (its length), the stream's end (0), or none (-1). */
static int eol_at(const struct nl_stream_store *s, size_t at)
{
    if (at == s->len)
        return 0;
    if (s->data[at] == '\n')
        return 1;
    if (s->data[at] == '\r' && at + 1 < s->len && s->data[at + 1] == '\n')
        return 2;
    return -1;
}

/* An intact copy of m starting in [from, upto) and ending by end: its offset and the stream
 * bytes it takes (*span). Lines (m's text is the line + LF) start at a line start and end in
 * LF, CRLF or the stream's end. Returns 1 if found. */
static int locate(const struct nl_stream_store *s, size_t from, size_t upto, size_t end, const struct nl_message *m,
                  int lines, size_t also, size_t *off, size_t *span)
{
    size_t tl = lines && m->len && m->data[m->len - 1] == '\n' ? m->len - 1 : m->len;
    if (!s || end > s->len)
        return 0;
    for (size_t at = from; at < upto && at <= end;) {
        const uint8_t *hit;
        if (tl == 0) {
            hit = s->data + at;
        } else {
            hit = end - at >= tl ? memmem(s->data + at, end - at, m->data, tl) : NULL;
            if (!hit)
                return 0;
        }
        size_t pos = (size_t)(hit - s->data);
        if (pos >= upto || pos + tl > end)
            return 0;
        if (!lines) {
            *off = pos;
            *span = tl;
            return 1;
        }
        int e = eol_at(s, pos + tl);
        if ((pos == 0 || s->data[pos - 1] == '\n' || pos == also) && e >= 0 && pos + tl + (size_t)e <= end &&
            (e > 0 || tl > 0)) {
            *off = pos;
            *span = tl + (size_t)e;
            return 1;
        }
        at = pos + 1;
    }
    return 0;
}

/* The line starting at `at` (lines mode): its bytes without the terminator, and with it. 0 when none. */
static size_t line_at(const struct nl_stream_store *s, size_t at, size_t *span)
{
    if (!s || at >= s->len)
        return 0;
    const uint8_t *lf = memchr(s->data + at, '\n', s->len - at);
    size_t e = lf ? (size_t)(lf - s->data) : s->len;
    *span = e - at + (lf ? 1 : 0);
    size_t n = e - at;
    if (lf && n && s->data[e - 1] == '\r')
        n--;
    return n ? n : (lf ? (size_t)-1 : 0); /* (size_t)-1: an empty line */
}

/* Whether [off, off + len) overlaps a message already found in this conversation and direction. */
static int claimed(const struct match_ctx *x, int c2s, size_t off, size_t len)
{
    for (size_t k = 0; k < x->g->n; k++) {
        const struct nl_expect_rec *r = &x->recs[x->g->idx[k]];
        if (r->pub.status != NL_EXPECT_FOUND || r->pub.conversation != x->cv->id || r->pub.from_client != c2s)
            continue;
        if (off < r->pub.stream_offset + r->span && r->pub.stream_offset < off + len)
            return 1;
    }
    return 0;
}

/* A copy of m earlier in its stream than cur that no found message took. */
static int locate_earlier(const struct match_ctx *x, const struct nl_stream_store *s, int c2s, size_t cur,
                          const struct nl_message *m, size_t *off, size_t *span)
{
    for (size_t from = 0; from < cur;) {
        if (!locate(s, from, cur, cur, m, x->lines, SIZE_MAX, off, span))
            return 0;
        if (!claimed(x, c2s, *off, *span ? *span : 1))
            return 1;
        from = *off + 1;
    }
    return 0;
}

/* Lines mode: the line at cur is a later message of the same direction (so m itself is missing). */
static int line_is_later_message(const struct match_ctx *x, size_t k, int from_a, const struct nl_stream_store *s,
                                 size_t cur)
{
    size_t off, span, seen = 0;
    for (size_t j = k + 1; j < x->g->n && seen < 16; j++) {
        const struct nl_message *o = nl_messages_at(x->ms, x->g->idx[j]);
        if ((strcmp(o->src_app, x->g->a) == 0) != from_a)
            continue;
        seen++;
        if (locate(s, cur, cur + 1, s->len, o, 1, SIZE_MAX, &off, &span))
            return 1;
    }
    return 0;
}

/* ---- wording ---- */

static void where(char *out, size_t cap, uint64_t first, uint64_t last)
{
    if (first == last)
        snprintf(out, cap, "packet %llu", (unsigned long long)first);
    else
        snprintf(out, cap, "packets %llu-%llu", (unsigned long long)first, (unsigned long long)last);
}

/* The message found in this direction whose bytes come first after off (the one an out-of-order message precedes). */
static const char *next_found(const struct match_ctx *x, int c2s, size_t off)
{
    const struct nl_expect_rec *best = NULL;
    for (size_t k = 0; k < x->g->n; k++) {
        const struct nl_expect_rec *r = &x->recs[x->g->idx[k]];
        if (r->pub.status == NL_EXPECT_FOUND && r->pub.conversation == x->cv->id && r->pub.from_client == c2s &&
            r->pub.stream_offset > off && (!best || r->pub.stream_offset < best->pub.stream_offset))
            best = r;
    }
    return best ? best->pub.msg_id : "?";
}

static void set_found(const struct match_ctx *x, struct nl_expect_rec *r, const struct nl_stream_store *s, int c2s,
                      size_t off, size_t span, int status)
{
    r->pub.status = status;
    r->pub.stream_offset = off;
    r->span = span;
    r->pub.packet = nl_stream_packet_at(s, off);
    r->pub.last_packet = nl_stream_packet_at(s, off + (span ? span - 1 : 0));
    char w[64];
    where(w, sizeof w, r->pub.packet, r->pub.last_packet);
    if (status == NL_EXPECT_FOUND)
        snprintf(r->detail, sizeof r->detail, "intact in %s (%s)", w, dir_name(c2s));
    else
        snprintf(r->detail, sizeof r->detail, "intact in %s (%s), but out of order: its stream carries it before %s",
                 w, dir_name(c2s), next_found(x, c2s, off));
}

/* Lines mode, an echo (message mi odd): where at or after cur the bytes sent after its line had arrived
 * begin. Bytes sent before (a greeting, with or without its line end) cannot be this echo. SIZE_MAX when
 * its line was not found. */
static size_t after_cause(const struct match_ctx *x, size_t mi, const struct nl_stream_store *s, size_t cur)
{
    if (!x->lines || !(mi & 1) || !x->recs)
        return SIZE_MAX;
    const struct nl_expect_rec *q = &x->recs[mi - 1];
    if (q->pub.status == NL_EXPECT_MISSING || q->pub.conversation != x->cv->id)
        return SIZE_MAX;
    return nl_stream_sent_after(s, cur, q->pub.last_packet);
}

/* Bytes where m belongs that differ from it; lines mode: the whole line there. Returns the bytes
 * of the stream it takes from cur (0: not altered). */
static size_t try_altered(const struct match_ctx *x, size_t k, int from_a, const struct nl_stream_store *s, int c2s,
                          size_t cur, size_t mi, struct nl_expect_rec *r)
{
    const struct nl_message *m = nl_messages_at(x->ms, mi);
    size_t n, span, at = after_cause(x, mi, s, cur);
    if (at == SIZE_MAX)
        at = cur;
    if (x->lines) {
        size_t ll = line_at(s, at, &span);
        if (ll == 0 || line_is_later_message(x, k, from_a, s, at))
            return 0;
        n = ll == (size_t)-1 ? 0 : ll;
    } else {
        size_t avail = s && s->len > at ? s->len - at : 0;
        n = span = avail < m->len ? avail : m->len;
    }
    size_t want = x->lines && m->len && m->data[m->len - 1] == '\n' ? m->len - 1 : m->len;
    size_t cmp = NL_MIN(n, want);
    size_t diff = (want > n ? want - n : n - want), first_diff = cmp;
    for (size_t i = 0; i < cmp; i++) {
        if (s->data[at + i] != m->data[i]) {
            diff++;
            if (first_diff == cmp)
                first_diff = i;
        }
    }
    if (!x->lines && !(n > 0 && diff * 2 <= m->len))
        return 0;
    size_t took = at - cur + (span ? span : 1);
    if (!r)
        return took;
    r->pub.status = NL_EXPECT_ALTERED;
    r->pub.stream_offset = at;
    r->span = span;
    r->pub.packet = nl_stream_packet_at(s, at);
    r->pub.last_packet = nl_stream_packet_at(s, at + (span ? span - 1 : 0));
    r->pub.differing = (uint32_t)diff;
    r->pub.first_difference = (uint32_t)first_diff;
    char want_c[8], got_c[8];
    if (first_diff < cmp) {
        printable(m->data[first_diff], want_c);
        printable(s->data[at + first_diff], got_c);
        snprintf(r->detail, sizeof r->detail,
                 "altered: %zu of %zu bytes differ, the first at byte %zu (expected %s, found %s), in packet %llu (%s)",
                 diff, want, first_diff, want_c, got_c, (unsigned long long)nl_stream_packet_at(s, at + first_diff),
                 dir_name(c2s));
    } else if (n < want) {
        snprintf(r->detail, sizeof r->detail, "altered: %s ends %zu bytes into it (%zu of %zu bytes missing), in packet %llu",
                 x->lines ? "the line" : "the stream", n, want - n, want, (unsigned long long)r->pub.packet);
    } else {
        snprintf(r->detail, sizeof r->detail, "altered: %zu bytes more than the %zu expected, in packet %llu (%s)",
                 n - want, want, (unsigned long long)r->pub.packet, dir_name(c2s));
    }
    return took;
}

/* Lines mode: an echo (message 2k+1) cannot leave before its line (2k) has arrived. */
static void check_cause(const struct match_ctx *x, struct nl_expect_rec *r, size_t mi)
{
    if (!x->lines || !(mi & 1) || r->pub.status != NL_EXPECT_FOUND)
        return;
    const struct nl_expect_rec *q = &x->recs[mi - 1];
    if (q->pub.status == NL_EXPECT_MISSING || q->pub.conversation != r->pub.conversation ||
        r->pub.packet >= q->pub.last_packet)
        return;
    r->pub.status = NL_EXPECT_OUT_OF_ORDER;
    r->cause = 1;
    snprintf(r->detail, sizeof r->detail,
             "intact in packet %llu (server -> client), but out of order: sent before %s, which it answers, had "
             "arrived (packet %llu)",
             (unsigned long long)r->pub.packet, nl_messages_at(x->ms, mi - 1)->id,
             (unsigned long long)q->pub.last_packet);
}

/* Match one group against one conversation and orientation. Returns how many messages were
 * found intact; fills x->recs when given. */
static size_t simulate(const struct match_ctx *x)
{
    size_t cur[2] = {0, 0}; /* 0: client -> server, 1: server -> client */
    size_t found = 0;
    for (size_t k = 0; k < x->g->n; k++) {
        size_t mi = x->g->idx[k];
        const struct nl_message *m = nl_messages_at(x->ms, mi);
        int from_a = strcmp(m->src_app, x->g->a) == 0;
        int c2s = from_a == x->a_is_client;
        const struct nl_stream_store *s = c2s ? x->cv->c2s : x->cv->s2c;
        int d = c2s ? 0 : 1;
        struct nl_expect_rec *r = x->recs ? &x->recs[mi] : NULL;
        if (r) {
            r->pub.conversation = x->cv->id;
            r->pub.from_client = (uint8_t)c2s;
        }
        size_t off, span;
        size_t also = s ? after_cause(x, mi, s, cur[d]) : SIZE_MAX; /* an echo may start where its cause does */
        if (s && locate(s, cur[d], s->len + 1, s->len, m, x->lines, also, &off, &span)) {
            cur[d] = off + span;
            found++;
            if (r) {
                set_found(x, r, s, c2s, off, span, NL_EXPECT_FOUND);
                check_cause(x, r, mi);
            }
            continue;
        }
        if (r && s && locate_earlier(x, s, c2s, cur[d], m, &off, &span)) {
            set_found(x, r, s, c2s, off, span, NL_EXPECT_OUT_OF_ORDER);
            continue;
        }
        size_t took = s ? try_altered(x, k, from_a, s, c2s, cur[d], mi, r) : 0;
        if (took) {
            cur[d] += took;
            continue;
        }
        if (r) {
            r->pub.status = NL_EXPECT_MISSING;
            snprintf(r->detail, sizeof r->detail, "missing: not in conversation %u's %s stream", x->cv->id,
                     dir_name(c2s));
        }
    }
    return found;
}

/* As the injector decides without --server (nl_plan.c): the app whose name holds "server". */
static int names_server(const char *app)
{
    for (const char *p = app; *p; p++)
        if (strncasecmp(p, "server", 6) == 0)
            return 1;
    return 0;
}

static const char *status_name(int s)
{
    switch (s) {
    case NL_EXPECT_FOUND: return "found";
    case NL_EXPECT_OUT_OF_ORDER: return "out-of-order";
    case NL_EXPECT_ALTERED: return "altered";
    default: return "missing";
    }
}

static int add_to_groups(struct group *gs, size_t *ng, const struct nl_message *m, size_t i)
{
    size_t g;
    for (g = 0; g < *ng && !same_group(&gs[g], m); g++)
        ;
    if (g == *ng) {
        gs[g].proto = m->app_protocol;
        gs[g].a = m->src_app;
        gs[g].b = m->dst_app;
        (*ng)++;
    }
    if (NL_GROW(gs[g].idx, gs[g].n, gs[g].cap, 8) < 0)
        return NL_ENOMEM;
    gs[g].idx[gs[g].n++] = i;
    return 0;
}

int nl_expect_run(const struct nl_messages *ms, const struct nl_expect_conv *convs, size_t nconvs, int lines,
                  struct nl_expect_rec **out, size_t *nout)
{
    size_t nm = nl_messages_count(ms);
    *out = NULL;
    *nout = 0;
    struct nl_expect_rec *recs = calloc(nm ? nm : 1, sizeof *recs);
    struct group *gs = calloc(nm ? nm : 1, sizeof *gs);
    size_t ng = 0;
    int rc = 0;
    if (!recs || !gs) {
        rc = NL_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < nm; i++) {
        const struct nl_message *m = nl_messages_at(ms, i);
        if ((rc = add_to_groups(gs, &ng, m, i)) < 0)
            goto done;
        recs[i].pub.msg_id = m->id;
        recs[i].pub.line = m->line;
        recs[i].pub.length = (uint32_t)m->len;
        recs[i].pub.status = NL_EXPECT_MISSING;
        snprintf(recs[i].detail, sizeof recs[i].detail,
                 "missing: no conversation in the capture carries any message between %s and %s",
                 m->src_app[0] ? m->src_app : "?", m->dst_app[0] ? m->dst_app : "?");
    }
    for (size_t g = 0; g < ng; g++) {
        struct match_ctx x = {.ms = ms, .g = &gs[g], .lines = lines};
        x.a_is_client = !(names_server(gs[g].a) && !names_server(gs[g].b)); /* the group's first sender is its client */
        size_t best = 0, best_c = 0;
        for (size_t c = 0; c < nconvs; c++) {
            x.cv = &convs[c];
            size_t f = simulate(&x);
            if (f > best) {
                best = f;
                best_c = c;
            }
        }
        if (best > 0) {
            x.cv = &convs[best_c];
            x.recs = recs;
            simulate(&x);
        }
    }
    for (size_t i = 0; i < nm; i++)
        recs[i].pub.status_name = status_name(recs[i].pub.status);
    *out = recs;
    *nout = nm;
    recs = NULL;
done:
    for (size_t g = 0; g < ng; g++)
        free(gs[g].idx);
    free(gs);
    free(recs);
    return rc;
}

/* ---- bytes no message accounts for ---- */

struct range {
    size_t lo, hi;
};

static int cmp_range(const void *x, const void *y)
{
    const struct range *a = x, *b = y;
    return a->lo < b->lo ? -1 : a->lo > b->lo;
}

static int only_eol(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != '\r' && p[i] != '\n')
            return 0;
    return 1;
}

/* The ranges of one conversation's direction that messages account for; *expected: messages
 * meant for it. */
static size_t ranges_of(const struct nl_expect_rec *recs, size_t nrecs, uint32_t conv, int from_client,
                        const struct nl_stream_store *s, struct range *rs, size_t *expected)
{
    size_t nr = 0;
    *expected = 0;
    for (size_t i = 0; i < nrecs; i++) {
        const struct nl_expect_rec *r = &recs[i];
        if (r->pub.conversation != conv || r->pub.from_client != from_client)
            continue;
        (*expected)++;
        if (r->pub.status == NL_EXPECT_MISSING)
            continue;
        rs[nr].lo = r->pub.stream_offset;
        rs[nr].hi = r->pub.stream_offset + NL_MAX(r->span, (size_t)1);
        if (rs[nr].hi > s->len)
            rs[nr].hi = s->len;
        nr++;
    }
    qsort(rs, nr, sizeof *rs, cmp_range);
    return nr;
}

static int add_unexpected(struct nl_unexpected_rec **u, size_t *nu, size_t *capu, const struct nl_expect_conv *cv,
                          int from_client, const struct nl_stream_store *s, size_t lo, size_t hi, const char *kind)
{
    if (NL_GROW(*u, *nu, *capu, 8) < 0)
        return NL_ENOMEM;
    struct nl_unexpected_rec *x = &(*u)[(*nu)++];
    memset(x, 0, sizeof *x);
    x->pub.conversation = cv->id;
    x->pub.from_client = (uint8_t)from_client;
    x->pub.packet = nl_stream_packet_at(s, lo);
    x->pub.last_packet = nl_stream_packet_at(s, hi - 1);
    x->pub.stream_offset = lo;
    x->pub.length = (uint32_t)(hi - lo);
    x->pub.kind = kind;
    size_t pn = NL_MIN(hi - lo, sizeof x->preview);
    memcpy(x->preview, s->data + lo, pn);
    x->pub.data_len = pn;
    return 0;
}

int nl_expect_unexpected(const struct nl_expect_rec *recs, size_t nrecs, const struct nl_expect_conv *convs,
                         size_t nconvs, int echo, struct nl_unexpected_rec **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    struct nl_unexpected_rec *u = NULL;
    size_t nu = 0, capu = 0;
    struct range *rs = malloc((nrecs ? nrecs : 1) * sizeof *rs);
    if (!rs)
        return NL_ENOMEM;
    for (size_t c = 0; c < nconvs; c++) {
        for (int from_client = 1; from_client >= 0; from_client--) {
            const struct nl_stream_store *s = from_client ? convs[c].c2s : convs[c].s2c;
            if (!s)
                continue;
            size_t expected;
            size_t nr = ranges_of(recs, nrecs, convs[c].id, from_client, s, rs, &expected);
            if (!expected)
                continue;
            size_t at = 0;
            for (size_t k = 0; k <= nr; k++) {
                size_t lo = at, hi = k < nr ? rs[k].lo : s->len;
                const char *kind = echo && !from_client && lo == 0 ? "greeting" : "unexpected";
                if (hi > lo && !only_eol(s->data + lo, hi - lo) &&
                    add_unexpected(&u, &nu, &capu, &convs[c], from_client, s, lo, hi, kind) < 0) {
                    free(u);
                    free(rs);
                    return NL_ENOMEM;
                }
                if (k < nr && rs[k].hi > at)
                    at = rs[k].hi;
            }
        }
    }
    free(rs);
    for (size_t i = 0; i < nu; i++)
        u[i].pub.data = u[i].preview;
    *out = u;
    *nout = nu;
    return 0;
}
