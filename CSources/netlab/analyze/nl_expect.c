/*
 * nl_expect.c - checking CSV messages against reassembled payload streams (see
 * nl_expect.h): found intact, out of order, altered (where it belongs, bytes
 * differ) or missing. Reads the streams nl_analyze.c kept; no I/O.
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

static int same_group(const struct group *g, const struct nl_message *m)
{
    return strcmp(g->proto, m->app_protocol) == 0 &&
           ((strcmp(g->a, m->src_app) == 0 && strcmp(g->b, m->dst_app) == 0) ||
            (strcmp(g->a, m->dst_app) == 0 && strcmp(g->b, m->src_app) == 0));
}

static const uint8_t *find_bytes(const uint8_t *hay, size_t hlen, const uint8_t *needle, size_t nlen)
{
    return nlen ? memmem(hay, hlen, needle, nlen) : NULL;
}

static void printable(uint8_t b, char out[8])
{
    if (b >= 0x20 && b < 0x7f && b != '\'')
        snprintf(out, 8, "'%c'", b);
    else
        snprintf(out, 8, "0x%02x", b);
}

/* Match one group against one conversation and orientation (a_is_client).
 * Returns how many messages were found intact; fills recs when given. */
static size_t simulate(const struct nl_messages *ms, const struct group *g, const struct nl_expect_conv *cv,
                       int a_is_client, struct nl_expect_rec *recs)
{
    size_t cur[2] = {0, 0}; /* 0: client -> server, 1: server -> client */
    uint64_t latest = 0;
    const char *latest_id = NULL;
    size_t found = 0;
    for (size_t k = 0; k < g->n; k++) {
        const struct nl_message *m = nl_messages_at(ms, g->idx[k]);
        int from_a = strcmp(m->src_app, g->a) == 0;
        int c2s = from_a == a_is_client;
        const struct nl_stream_store *s = c2s ? cv->c2s : cv->s2c;
        int d = c2s ? 0 : 1;
        struct nl_expect_rec *r = recs ? &recs[g->idx[k]] : NULL;
        if (r) {
            r->pub.conversation = cv->id;
            r->pub.from_client = (uint8_t)c2s;
        }
        const uint8_t *hit = s->len > cur[d] ? find_bytes(s->data + cur[d], s->len - cur[d], m->data, m->len) : NULL;
        if (hit) {
            size_t off = (size_t)(hit - s->data);
            uint64_t first = nl_stream_packet_at(s, off), last = nl_stream_packet_at(s, off + m->len - 1);
            cur[d] = off + m->len;
            found++;
            if (!r)
                continue;
            r->pub.packet = first;
            r->pub.last_packet = last;
            r->pub.stream_offset = off;
            char where[64];
            if (first == last)
                snprintf(where, sizeof where, "packet %llu", (unsigned long long)first);
            else
                snprintf(where, sizeof where, "packets %llu-%llu", (unsigned long long)first,
                         (unsigned long long)last);
            if (first < latest) {
                r->pub.status = NL_EXPECT_OUT_OF_ORDER;
                snprintf(r->detail, sizeof r->detail,
                         "intact in %s (%s), but out of order: it arrived before message %s (packet %llu)", where,
                         c2s ? "client -> server" : "server -> client", latest_id ? latest_id : "?",
                         (unsigned long long)latest);
            } else {
                r->pub.status = NL_EXPECT_FOUND;
                snprintf(r->detail, sizeof r->detail, "intact in %s (%s)", where,
                         c2s ? "client -> server" : "server -> client");
                latest = first;
                latest_id = m->id;
            }
            continue;
        }
        /* Not intact: compare with the bytes where it belongs (right after the
         * previous message of this direction). */
        size_t avail = s->len > cur[d] ? s->len - cur[d] : 0;
        size_t n = avail < m->len ? avail : m->len;
        size_t diff = m->len - n, first_diff = n;
        for (size_t i = 0; i < n; i++) {
            if (s->data[cur[d] + i] != m->data[i]) {
                diff++;
                if (first_diff == n)
                    first_diff = i;
            }
        }
        if (n > 0 && diff * 2 <= m->len) {
            if (r) {
                uint64_t first = nl_stream_packet_at(s, cur[d]);
                r->pub.status = NL_EXPECT_ALTERED;
                r->pub.packet = first;
                r->pub.last_packet = nl_stream_packet_at(s, cur[d] + n - 1);
                r->pub.stream_offset = cur[d];
                r->pub.differing = (uint32_t)diff;
                r->pub.first_difference = (uint32_t)first_diff;
                char want[8], got[8];
                if (first_diff < n) {
                    printable(m->data[first_diff], want);
                    printable(s->data[cur[d] + first_diff], got);
                    snprintf(r->detail, sizeof r->detail,
                             "altered: %zu of %zu bytes differ, the first at byte %zu (expected %s, found %s), in "
                             "packet %llu (%s)",
                             diff, m->len, first_diff, want, got,
                             (unsigned long long)nl_stream_packet_at(s, cur[d] + first_diff),
                             c2s ? "client -> server" : "server -> client");
                } else {
                    snprintf(r->detail, sizeof r->detail,
                             "altered: the stream ends %zu bytes into it (%zu of %zu bytes missing), in packet %llu",
                             n, m->len - n, m->len, (unsigned long long)first);
                }
            }
            cur[d] += n;
            continue;
        }
        if (r) {
            r->pub.status = NL_EXPECT_MISSING;
            snprintf(r->detail, sizeof r->detail, "missing: not in conversation %u's %s stream", cv->id,
                     c2s ? "client -> server" : "server -> client");
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

int nl_expect_run(const struct nl_messages *ms, const struct nl_expect_conv *convs, size_t nconvs,
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
        size_t g;
        for (g = 0; g < ng && !same_group(&gs[g], m); g++)
            ;
        if (g == ng) {
            gs[g].proto = m->app_protocol;
            gs[g].a = m->src_app;
            gs[g].b = m->dst_app;
            ng++;
        }
        if (gs[g].n == gs[g].cap) {
            size_t nc = gs[g].cap ? gs[g].cap * 2 : 8;
            size_t *p = realloc(gs[g].idx, nc * sizeof *p);
            if (!p) {
                rc = NL_ENOMEM;
                goto done;
            }
            gs[g].idx = p;
            gs[g].cap = nc;
        }
        gs[g].idx[gs[g].n++] = i;
        recs[i].pub.msg_id = m->id;
        recs[i].pub.line = m->line;
        recs[i].pub.length = (uint32_t)m->len;
        recs[i].pub.status = NL_EXPECT_MISSING;
        snprintf(recs[i].detail, sizeof recs[i].detail,
                 "missing: no conversation in the capture carries any message between %s and %s",
                 m->src_app[0] ? m->src_app : "?", m->dst_app[0] ? m->dst_app : "?");
    }
    for (size_t g = 0; g < ng; g++) {
        size_t best = 0, best_c = 0;
        int best_o = -1;
        int o = !(names_server(gs[g].a) && !names_server(gs[g].b)); /* the group's first sender is its client */
        for (size_t c = 0; c < nconvs; c++) {
            size_t f = simulate(ms, &gs[g], &convs[c], o, NULL);
            if (f > best) {
                best = f;
                best_c = c;
                best_o = o;
            }
        }
        if (best_o >= 0)
            simulate(ms, &gs[g], &convs[best_c], best_o, recs);
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
            size_t nr = 0, expected = 0;
            for (size_t i = 0; i < nrecs; i++) {
                const struct nl_expect_result *r = &recs[i].pub;
                if (r->conversation != convs[c].id || r->from_client != from_client)
                    continue;
                expected++;
                if (r->status == NL_EXPECT_MISSING)
                    continue;
                rs[nr].lo = r->stream_offset;
                rs[nr].hi = r->stream_offset + (r->status == NL_EXPECT_ALTERED && r->length > 0
                                                     ? NL_MAX((size_t)r->length, 1) : r->length);
                if (rs[nr].hi > s->len)
                    rs[nr].hi = s->len;
                nr++;
            }
            if (!expected || !s)
                continue;
            qsort(rs, nr, sizeof *rs, cmp_range);
            size_t at = 0;
            for (size_t k = 0; k <= nr; k++) {
                size_t lo = at, hi = k < nr ? rs[k].lo : s->len;
                if (hi > lo && !only_eol(s->data + lo, hi - lo)) {
                    if (NL_GROW(u, nu, capu, 8) < 0) {
                        free(u);
                        free(rs);
                        return NL_ENOMEM;
                    }
                    struct nl_unexpected_rec *x = &u[nu++];
                    memset(x, 0, sizeof *x);
                    x->pub.conversation = convs[c].id;
                    x->pub.from_client = (uint8_t)from_client;
                    x->pub.packet = nl_stream_packet_at(s, lo);
                    x->pub.last_packet = nl_stream_packet_at(s, hi - 1);
                    x->pub.stream_offset = lo;
                    x->pub.length = (uint32_t)(hi - lo);
                    x->pub.kind = echo && !from_client && lo == 0 && k < nr ? "greeting" : "unexpected";
                    size_t pn = NL_MIN(hi - lo, sizeof x->preview);
                    memcpy(x->preview, s->data + lo, pn);
                    x->pub.data_len = pn;
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
