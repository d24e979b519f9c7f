/*
 * nl_gradecheck.c - each check of netlab grade decided and put in words (see
 * nl_classgrade.h for the rules): the capture, the server port, the greeting,
 * every line and its echo in the byte streams, where the conversation travelled,
 * the output file, the named files. Reads what nl_analyze, nl_expect and
 * nl_answers decided about one capture; finds no captures and reads no file
 * but those a submission's listing hands it.
 */
#include "nl_analysis.h"
#include "nl_classgrade_int.h"
#include "netlab/nl_text.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUOTE_MAX 60 /* characters of a text shown in a sentence */

char *nl_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

void nl_quote(char *out, size_t cap, const uint8_t *p, size_t n, size_t max)
{
    if (cap < 3) {
        if (cap)
            out[0] = 0;
        return;
    }
    out[0] = '\'';
    size_t k = nl_text_escape(p, n, 0, max, out + 1, cap - 2);
    k = NL_MIN(k, cap - 3);
    out[1 + k] = '\'';
    out[2 + k] = 0;
}

int nl_verdict_add(struct nl_verdict *v, char *sentence)
{
    if (!sentence)
        return NL_ENOMEM;
    if (!v->reason && !(v->reason = strdup(sentence))) {
        free(sentence);
        return NL_ENOMEM;
    }
    if (v->ndetails >= NL_CLASS_MAX_DETAILS) {
        v->more++;
        free(sentence);
        return 0;
    }
    if (NL_GROW(v->details, v->ndetails, v->capdetails, 4) < 0) {
        free(sentence);
        return NL_ENOMEM;
    }
    v->details[v->ndetails++] = sentence;
    return 0;
}

void nl_verdict_free(struct nl_verdict *v)
{
    free(v->reason);
    for (size_t i = 0; i < v->ndetails; i++)
        free(v->details[i]);
    free(v->details);
    memset(v, 0, sizeof *v);
}

static int pass_with(struct nl_verdict *v, char *sentence)
{
    v->pass = 1;
    return nl_verdict_add(v, sentence);
}

static int fail_with(struct nl_verdict *v, char *sentence)
{
    v->pass = 0;
    return nl_verdict_add(v, sentence);
}

/* A check that needs a conversation, on a capture without one. */
static int not_graded(const struct nl_gcap *g, struct nl_verdict *v)
{
    if (g->state == NL_GCAP_MISSING)
        return fail_with(v, nl_fmt("%s", g->why));
    return fail_with(v, nl_fmt("not graded: %s", g->why));
}

/* ---- the capture ---- */

int nl_check_capture(const struct nl_gcap *g, struct nl_verdict *v)
{
    if (g->state != NL_GCAP_OK)
        return fail_with(v, nl_fmt("%s", g->why));
    if (g->damaged)
        return fail_with(v, nl_fmt("%s is damaged after packet %llu: the %llu packets before it are graded", g->label,
                                   (unsigned long long)g->packets, (unsigned long long)g->packets));
    struct nl_summary s;
    nl_analysis_summary(g->a, &s);
    return pass_with(v, nl_fmt("%s: %llu packets (%s)%s", g->label, (unsigned long long)g->packets, s.format, g->taken));
}

/* ---- the port ---- */

int nl_check_port(const struct nl_rubric *r, const struct nl_gcap *g, const struct nl_gcap *first, struct nl_verdict *v)
{
    if (g->state != NL_GCAP_OK)
        return not_graded(g, v);
    unsigned port = g->c.server_port;
    if (r->port > 0 && (int)port != r->port)
        return fail_with(v, nl_fmt("server port %u is not %d", port, r->port));
    if (r->port == NL_RUBRIC_PORT_SAME && first && first != g && first->c.server_port != port)
        return fail_with(v, nl_fmt("server port %u is not %s's %u", port, first->part ? first->part : first->label,
                                   first->c.server_port));
    return pass_with(v, nl_fmt("server port %u", port));
}

/* ---- the greeting ---- */

static int answer_of(const struct nl_gcap *g, struct nl_answer *A)
{
    return g->ans && g->ans_index >= 0 && nl_answers_get(g->ans, (size_t)g->ans_index, A) == 0;
}

/* The line starting at the front of p[0..n) without its end (LF, CRLF). */
static size_t first_line(const uint8_t *p, size_t n)
{
    const uint8_t *lf = memchr(p, '\n', n);
    size_t k = lf ? (size_t)(lf - p) : n;
    return k && p[k - 1] == '\r' ? k - 1 : k;
}

int nl_gcap_greeting(const struct nl_gcap *g, struct nl_line *out)
{
    struct nl_answer A;
    if (!answer_of(g, &A) || A.greeting_packet == 0)
        return 0;
    /* The whole first line of the server's stream: a greeting written in two pieces is one text. */
    const struct nl_stream_store *s = nl_analysis_stream(g->a, g->conv, 0);
    out->packet = A.greeting_packet;
    if (s && s->len && nl_stream_packet_at(s, 0) == A.greeting_packet) {
        /* It ends at its line end, or where the bytes sent after the first line arrived begin. */
        size_t end = s->len;
        const struct nl_expect_rec *first = g->a->nexp ? &g->a->exp[0] : NULL;
        if (first && first->pub.status != NL_EXPECT_MISSING && first->pub.conversation == g->conv)
            end = nl_stream_sent_after(s, 0, first->pub.last_packet);
        out->p = s->data;
        out->n = first_line(s->data, end ? end : s->len);
    } else {
        out->p = A.greeting_text ? A.greeting_text : (const uint8_t *)"";
        out->n = first_line(out->p, A.greeting_text_len);
    }
    return 1;
}

int nl_check_greeting(const struct nl_rubric *r, const struct nl_gcap *g, struct nl_verdict *v)
{
    if (g->state != NL_GCAP_OK)
        return not_graded(g, v);
    struct nl_line gl;
    char got[256], want[256];
    nl_quote(want, sizeof want, r->greeting, r->greeting_len, QUOTE_MAX);
    if (nl_gcap_greeting(g, &gl)) {
        nl_quote(got, sizeof got, gl.p, gl.n, QUOTE_MAX);
        if (gl.n == r->greeting_len && memcmp(gl.p, r->greeting, gl.n) == 0)
            return pass_with(v, nl_fmt("greeting %s (packet %llu)", got, (unsigned long long)gl.packet));
        return fail_with(v, nl_fmt("greeting %s is not %s", got, want));
    }
    if (g->c.payload_s2c == 0)
        return fail_with(v, nl_fmt("no greeting: the server sent nothing"));
    struct nl_exchange x;
    struct nl_answer A;
    if (g->c.payload_c2s && answer_of(g, &A) && nl_answers_exchange(g->ans, (size_t)g->ans_index, 0, &x) == 0)
        return fail_with(v, nl_fmt("no greeting: the client spoke first (packet %llu) and the server only replied",
                                   (unsigned long long)x.request_packet));
    return fail_with(v, nl_fmt("no greeting"));
}

/* ---- the lines and their echoes ---- */

/* A message's text without its LF. */
static void want_text(const struct nl_rubric *r, size_t mi, char *out, size_t cap)
{
    const struct nl_message *m = nl_messages_at(r->lines, mi);
    nl_quote(out, cap, m->data, m->len ? m->len - 1 : 0, QUOTE_MAX);
}

/* What the stream holds where record e was found or altered, without its line end. */
static void found_text(const struct nl_gcap *g, const struct nl_expect_rec *e, char *out, size_t cap)
{
    const struct nl_stream_store *s = nl_analysis_stream(g->a, g->conv, e->pub.from_client);
    size_t off = (size_t)e->pub.stream_offset, n = e->span;
    if (!s || off > s->len)
        n = 0;
    else if (n > s->len - off)
        n = s->len - off;
    const uint8_t *p = s && n ? s->data + off : (const uint8_t *)"";
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    nl_quote(out, cap, p, n, QUOTE_MAX);
}

/* The line number of the found message nearest after e in its stream (the one it jumped ahead of). */
static unsigned jumped(const struct nl_analysis *a, const struct nl_expect_rec *e)
{
    const struct nl_expect_rec *best = NULL;
    for (size_t i = 0; i < a->nexp; i++) {
        const struct nl_expect_rec *o = &a->exp[i];
        if (o->pub.status == NL_EXPECT_FOUND && o->pub.conversation == e->pub.conversation &&
            o->pub.from_client == e->pub.from_client && o->pub.stream_offset > e->pub.stream_offset &&
            (!best || o->pub.stream_offset < best->pub.stream_offset))
            best = o;
    }
    return best ? best->pub.line : 0;
}

/* Why message mi (line k at 2k - 2, its echo at 2k - 1) failed, in words. */
static char *message_sentence(const struct nl_gcap *g, const struct nl_rubric *r, size_t mi)
{
    const struct nl_expect_rec *e = &g->a->exp[mi];
    int echo = (int)(mi & 1);
    const char *what = echo ? "the echo of line" : "line";
    unsigned k = e->pub.line;
    unsigned long long p = (unsigned long long)e->pub.packet;
    char want[256], got[256];
    want_text(r, mi, want, sizeof want);
    switch (e->pub.status) {
    case NL_EXPECT_MISSING:
        return echo ? nl_fmt("no echo of line %u (expected %s)", k, want)
                    : nl_fmt("line %u %s never reached the server", k, want);
    case NL_EXPECT_ALTERED:
        found_text(g, e, got, sizeof got);
        return nl_fmt("packet %llu: %s %u is %s, expected %s", p, what, k, got, want);
    default:
        if (e->cause)
            return nl_fmt("packet %llu: the echo of line %u left before line %u arrived (packet %llu)", p, k, k,
                          (unsigned long long)g->a->exp[mi - 1].pub.last_packet);
        return nl_fmt("packet %llu: %s %u comes before %s %u%s", p, what, k, what, jumped(g->a, e),
                      echo ? "" : " in the client's stream");
    }
}

static char *unexpected_sentence(const struct nl_unexpected_rec *u)
{
    char text[256];
    size_t n = u->pub.data_len;
    if (n == u->pub.length) /* shown whole: its last line end says nothing */
        while (n && (u->preview[n - 1] == '\n' || u->preview[n - 1] == '\r'))
            n--;
    nl_quote(text, sizeof text, u->preview, n, QUOTE_MAX);
    if (u->pub.length > u->pub.data_len && strlen(text) + 4 < sizeof text) /* shown cut: say so */
        memcpy(text + strlen(text) - 1, "\xE2\x80\xA6'", 5);
    if (u->pub.from_client)
        return nl_fmt("packet %llu: the client sent %s, which is no line of the input", (unsigned long long)u->pub.packet,
                      text);
    return nl_fmt("packet %llu: the server sent %s, which answers no line", (unsigned long long)u->pub.packet, text);
}

int nl_check_echo(const struct nl_rubric *r, const struct nl_gcap *g, struct nl_verdict *v)
{
    if (g->state != NL_GCAP_OK)
        return not_graded(g, v);
    const struct nl_analysis *a = g->a;
    int rc = 0;
    for (size_t mi = 0; mi + 1 < a->nexp && rc == 0; mi += 2) {
        const struct nl_expect_rec *line = &a->exp[mi], *echo = &a->exp[mi + 1];
        if (line->pub.status != NL_EXPECT_FOUND)
            rc = nl_verdict_add(v, message_sentence(g, r, mi));
        /* A line that never arrived was not answered: one sentence says it. */
        if (rc == 0 && echo->pub.status != NL_EXPECT_FOUND &&
            !(line->pub.status == NL_EXPECT_MISSING && echo->pub.status == NL_EXPECT_MISSING))
            rc = nl_verdict_add(v, message_sentence(g, r, mi + 1));
    }
    /* What the server sent before its first answer is its greeting only if the answer sheet says it greeted. */
    struct nl_line gl;
    int greeted = nl_gcap_greeting(g, &gl);
    for (size_t i = 0; i < a->nunexp && rc == 0; i++) {
        const struct nl_unexpected_rec *u = &a->unexp[i];
        if (u->pub.conversation == g->conv && (strcmp(u->pub.kind, "unexpected") == 0 || !greeted))
            rc = nl_verdict_add(v, unexpected_sentence(u));
    }
    if (rc < 0)
        return rc;
    if (v->ndetails) {
        size_t more = v->ndetails + v->more - 1;
        if (more) {
            char *with = nl_fmt("%s (and %zu more)", v->reason, more);
            if (!with)
                return NL_ENOMEM;
            free(v->reason);
            v->reason = with;
        }
        v->pass = 0;
        return 0;
    }
    return pass_with(v, nl_fmt("all %zu lines echoed (%s), in order", a->nexp / 2, nl_transform_name(r->transform)));
}

/* ---- where it travelled ---- */

static int loopback_addr(const char *a)
{
    return strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0;
}

/* The interfaces the conversation used, in words: the answer sheet's (nl_answers_iface): what the
 * file proves of each, its name when the file holds it, its index when a cooked header records it. */
static void iface_words(const struct nl_gcap *g, char *out, size_t cap, int *loopback)
{
    struct nl_answer A;
    out[0] = 0;
    *loopback = 0;
    if (!answer_of(g, &A))
        return;
    for (size_t k = 0, shown = 0; k < A.interfaces; k++) {
        struct nl_answer_iface f;
        if (nl_answers_iface(g->ans, (size_t)g->ans_index, k, &f) < 0)
            continue;
        *loopback |= f.loopback;
        char one[160], idx[24] = "";
        if (f.kind == NL_ANSWER_IFACE_INDEX)
            snprintf(idx, sizeof idx, ", ifindex %u", f.index);
        int vowel = f.what[0] && strchr("aeiouAEIOU8", f.what[0]) != NULL;
        if (f.name)
            snprintf(one, sizeof one, "%s, the %s interface%s", f.name, f.what, idx);
        else if (!strncmp(f.what, "a ", 2) || !strncmp(f.what, "an ", 3))
            snprintf(one, sizeof one, "%s%s", f.what, idx);
        else
            snprintf(one, sizeof one, "%s %s interface%s", vowel ? "an" : "a", f.what, idx);
        if (strstr(out, one) || shown >= 3)
            continue;
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", shown++ ? "; " : "", one);
    }
}

int nl_gcap_loopback(const struct nl_gcap *g, char *where, size_t cap)
{
    char ifs[320];
    int lo;
    iface_words(g, ifs, sizeof ifs, &lo);
    snprintf(where, cap, "%s to %s%s%s", g->c.client_addr, g->c.server_addr, ifs[0] ? " on " : "", ifs);
    return lo || loopback_addr(g->c.client_addr) || loopback_addr(g->c.server_addr) ||
           strcmp(g->c.client_addr, g->c.server_addr) == 0;
}

int nl_check_interface(int where, const struct nl_gcap *g, struct nl_verdict *v)
{
    if (g->state != NL_GCAP_OK)
        return not_graded(g, v);
    char w[512];
    int lo = nl_gcap_loopback(g, w, sizeof w);
    if (where == NL_WHERE_LOOPBACK)
        return lo ? pass_with(v, nl_fmt("on loopback: %s", w)) : fail_with(v, nl_fmt("not on loopback: %s", w));
    return lo ? fail_with(v, nl_fmt("not across hosts: %s", w)) : pass_with(v, nl_fmt("across hosts: %s", w));
}

/* ---- the output file and the named files ---- */

/* The files named name (any case) anywhere in the submission: how many, and the first. */
static size_t find_named(const struct nl_subfiles *s, const char *name, size_t *first)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (fnmatch(name, s->f[i].base, FNM_CASEFOLD) == 0 && n++ == 0)
            *first = i;
    return n;
}

/* Line k of p[0..n) (LF or CRLF ends a line; a last line may lack it). */
static size_t nth_lines(const uint8_t *p, size_t n, const uint8_t **starts, size_t *lens, size_t max)
{
    size_t count = 0;
    for (size_t at = 0; at < n;) {
        const uint8_t *lf = memchr(p + at, '\n', n - at);
        size_t e = lf ? (size_t)(lf - p) : n;
        if (count < max) {
            starts[count] = p + at;
            lens[count] = e - at - (e > at && p[e - 1] == '\r' ? 1 : 0);
        }
        count++;
        at = e + 1;
    }
    return count;
}

static int compare_output(const struct nl_rubric *r, const char *file, const uint8_t *p, size_t n,
                          struct nl_verdict *v)
{
    size_t want = nl_messages_count(r->lines) / 2;
    const uint8_t **starts = malloc((want + 1) * sizeof *starts);
    size_t *lens = malloc((want + 1) * sizeof *lens);
    if (!starts || !lens) {
        free(starts);
        free(lens);
        return NL_ENOMEM;
    }
    size_t got = nth_lines(p, n, starts, lens, want + 1);
    int rc = 0;
    char a[256], b[256];
    for (size_t k = 0; k < want && k < got && rc == 0; k++) {
        const struct nl_message *m = nl_messages_at(r->lines, 2 * k + 1);
        if (lens[k] == m->len - 1 && memcmp(starts[k], m->data, lens[k]) == 0)
            continue;
        nl_quote(a, sizeof a, starts[k], lens[k], QUOTE_MAX);
        nl_quote(b, sizeof b, m->data, m->len - 1, QUOTE_MAX);
        rc = fail_with(v, nl_fmt("%s line %zu is %s, expected %s", file, k + 1, a, b));
    }
    if (rc == 0 && got < want) {
        const struct nl_message *m = nl_messages_at(r->lines, 2 * got + 1);
        nl_quote(b, sizeof b, m->data, m->len - 1, QUOTE_MAX);
        rc = fail_with(v, nl_fmt("%s has %zu lines, expected %zu (the first missing: %s)", file, got, want, b));
    } else if (rc == 0 && got > want) {
        nl_quote(a, sizeof a, starts[want], lens[want], QUOTE_MAX);
        rc = fail_with(v, nl_fmt("%s has %zu lines, expected %zu (line %zu: %s)", file, got, want, want + 1, a));
    }
    free(starts);
    free(lens);
    if (rc == 0 && !v->reason)
        rc = pass_with(v, nl_fmt("%s: %zu lines, each the %s of its input line", file, want,
                                 nl_transform_name(r->transform)));
    if (rc == 0 && v->ndetails > 1) {
        char *with = nl_fmt("%s (and %zu more)", v->reason, v->ndetails + v->more - 1);
        if (!with)
            return NL_ENOMEM;
        free(v->reason);
        v->reason = with;
    }
    return rc;
}

int nl_check_output(const struct nl_rubric *r, struct nl_subfiles *s, struct nl_verdict *v)
{
    size_t i = 0, n = find_named(s, r->output, &i);
    if (n == 0)
        return fail_with(v, nl_fmt("no %s", r->output));
    if (n > 1)
        return fail_with(v, nl_fmt("%zu files named %s (keep one)", n, r->output));
    if (nl_subfiles_read(s, i) < 0)
        return fail_with(v, nl_fmt("%s cannot be read: %s", s->f[i].path, s->f[i].error));
    return compare_output(r, s->f[i].path, s->f[i].data, s->f[i].len, v);
}

int nl_check_files(const struct nl_rubric *r, const struct nl_subfiles *s, struct nl_verdict *v)
{
    char missing[1024] = "", present[1024] = "";
    for (size_t k = 0; k < r->nfiles; k++) {
        size_t first;
        char *list = find_named(s, r->files[k], &first) ? present : missing;
        snprintf(list + strlen(list), sizeof present - strlen(list), "%s%s", list[0] ? ", " : "", r->files[k]);
    }
    if (missing[0])
        return fail_with(v, nl_fmt("missing %s", missing));
    return pass_with(v, nl_fmt("present: %s", present));
}
