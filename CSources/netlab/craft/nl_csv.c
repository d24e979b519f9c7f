/*
 * nl_csv.c - the message CSV: UTF-8 validation, libcsv (RFC 4180, strict) fed one
 * physical line at a time so every error names file, line and column, header
 * mapping and per-record checks (timestamps: nl_parse_time in base/nl_time.c). Never prints; all-or-nothing.
 */
#include "netlab/nl_csv.h"
#include "nl_arena.h"
#include "netlab/nl_text.h"
#include "netlab/nl_time.h"
#include "nl_internal.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { C_ID, C_PROTO, C_SRC, C_DST, C_MSG, C_TS, NCOLS };
static const char *const col_names[NCOLS] = {"msg_id", "app_protocol", "src_app", "dst_app", "message", "timestamp"};

#define MAX_HEADER_COLS 256
#define MAX_NAME_FIELD 4096
#define MAX_WARNINGS 64

struct nl_messages {
    struct nl_arena arena;
    const char *name;
    struct nl_message *v;
    size_t n, cap;
    const char *warnings[MAX_WARNINGS];
    size_t nwarn;
    size_t warn_dropped;
};

struct field {
    const char *p;   /* arena copy */
    size_t len;
    unsigned line;   /* physical line where the field starts */
};

struct pstate {
    struct nl_messages *ms;
    char *errbuf;
    int rc;
    unsigned line;           /* physical line being fed, 1-based */
    unsigned rec_line;       /* line where the current record starts */
    size_t field;            /* fields seen so far in the current record */
    int header_done;
    size_t ncols;            /* columns in the header */
    int colmap[MAX_HEADER_COLS];  /* file column -> C_* or -1 */
    int filecol[NCOLS];      /* C_* -> file column */
    const char *hdr[MAX_HEADER_COLS];
    struct field cur[NCOLS];
    int blank_candidate;     /* record so far is one whitespace-only field */
    /* msg_id set: open addressing over indices into ms->v, SIZE_MAX = empty */
    size_t *ids;
    size_t ids_cap;
    int64_t last_time;
    int have_last_time;
    char eol;                /* '\n', or '\r' for a file with CR-only line ends */
};

/* ---------------------------------------------------------------- helpers */

static size_t utf8_chars(const uint8_t *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            c++;
    return c;
}

/* Line breaks in s[0..n): eol is LF, or CR in a file that ends its lines with CR alone. */
static unsigned count_nl(const void *s, size_t n, char eol)
{
    unsigned k = 0;
    const char *p = s, *e = p + n;
    while ((p = memchr(p, eol, (size_t)(e - p))) != NULL) {
        k++;
        p++;
    }
    return k;
}

/* Validate UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF) and reject
 * NUL. On failure returns the offset of the bad byte, else SIZE_MAX. */
static size_t utf8_invalid_at(const uint8_t *s, size_t n, const char **why)
{
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            /* fast path: 8 ASCII bytes, none of them NUL */
            if (!(w & 0x8080808080808080ull) && !((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = s[i];
        if (c == 0) {
            *why = "a NUL byte";
            return i;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
        else {
            *why = "a byte that never starts a UTF-8 character";
            return i;
        }
        if (i + len > n) {
            *why = "a UTF-8 character cut off by the end of the file";
            return i;
        }
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                *why = "an incomplete UTF-8 sequence";
                return i;
            }
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) {
            *why = "an overlong UTF-8 encoding";
            return i;
        }
        if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
            *why = "a UTF-8 encoded surrogate or out-of-range code point";
            return i;
        }
        i += len;
    }
    return SIZE_MAX;
}

static void trim(const char **p, size_t *n)
{
    while (*n && ((*p)[0] == ' ' || (*p)[0] == '\t' || (*p)[0] == '\r' || (*p)[0] == '\n')) {
        (*p)++;
        (*n)--;
    }
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r' || (*p)[*n - 1] == '\n'))
        (*n)--;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    while (*s) {
        h ^= (uint8_t)*s++;
        h *= 1099511628211ull;
    }
    return h;
}

static void warn(struct pstate *st, const char *fmt, ...) NL_PRINTF(2, 3);
static void warn(struct pstate *st, const char *fmt, ...)
{
    struct nl_messages *ms = st->ms;
    if (ms->nwarn >= MAX_WARNINGS) {
        ms->warn_dropped++;
        return;
    }
    char buf[NL_ERRBUF_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    const char *w = nl_arena_strndup(&ms->arena, buf, strlen(buf));
    if (w)
        ms->warnings[ms->nwarn++] = w;
}

static int fail(struct pstate *st, int code, const char *fmt, ...) NL_PRINTF(3, 4);
static int fail(struct pstate *st, int code, const char *fmt, ...)
{
    if (st->rc)
        return st->rc;
    if (st->errbuf) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->errbuf, NL_ERRBUF_SIZE, fmt, ap);
        va_end(ap);
    }
    st->rc = code;
    return code;
}

/* Lower-case, trim and turn spaces/hyphens into underscores: "Msg ID" -> "msg_id". */
static void normalise_header(const char *p, size_t n, char *out, size_t cap)
{
    trim(&p, &n);
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (c == ' ' || c == '-')
            c = '_';
        out[k++] = c;
    }
    out[k] = 0;
}

/* --------------------------------------------------------------- records */

static int ids_insert(struct pstate *st, size_t idx, size_t *dup)
{
    struct nl_messages *ms = st->ms;
    if ((ms->n + 1) * 2 > st->ids_cap) {
        size_t ncap = st->ids_cap ? st->ids_cap * 2 : 1024;
        size_t *n = malloc(ncap * sizeof *n);
        if (!n)
            return NL_ENOMEM;
        memset(n, 0xff, ncap * sizeof *n);
        for (size_t i = 0; i < st->ids_cap; i++) {
            if (st->ids[i] == SIZE_MAX)
                continue;
            size_t h = hash_str(ms->v[st->ids[i]].id) & (ncap - 1);
            while (n[h] != SIZE_MAX)
                h = (h + 1) & (ncap - 1);
            n[h] = st->ids[i];
        }
        free(st->ids);
        st->ids = n;
        st->ids_cap = ncap;
    }
    const char *id = ms->v[idx].id;
    size_t h = hash_str(id) & (st->ids_cap - 1);
    while (st->ids[h] != SIZE_MAX) {
        if (strcmp(ms->v[st->ids[h]].id, id) == 0) {
            *dup = st->ids[h];
            return NL_EEXIST;
        }
        h = (h + 1) & (st->ids_cap - 1);
    }
    st->ids[h] = idx;
    return 0;
}

/* A control character (C0, DEL, C1), a bidirectional control or a line separator: names and ids
 * are shown as they are, so they hold none (nl_text_plain). */
static int has_control(const char *s) { return !nl_text_plain((const uint8_t *)s, strlen(s)); }

static void finish_header(struct pstate *st)
{
    char missing[256] = "";
    for (int c = 0; c < NCOLS; c++) {
        if (st->filecol[c] < 0) {
            size_t l = strlen(missing);
            snprintf(missing + l, sizeof missing - l, "%s%s", l ? ", " : "", col_names[c]);
        }
    }
    if (missing[0]) {
        fail(st, NL_ENOTFOUND,
             "%s:%u: header is missing the column(s) %s; the first row must name all of "
             "msg_id, app_protocol, src_app, dst_app, message, timestamp (any order)",
             st->ms->name, st->rec_line, missing);
        return;
    }
    for (size_t i = 0; i < st->ncols; i++)
        if (st->colmap[i] < 0)
            warn(st, "%s:%u: ignoring extra column %zu ('%s')", st->ms->name, st->rec_line, i + 1, st->hdr[i]);
    st->header_done = 1;
}

static void finish_record(struct pstate *st)
{
    struct nl_messages *ms = st->ms;
    const char *name = ms->name;
    if (st->field != st->ncols) {
        fail(st, NL_EMALFORMED,
             "%s:%u: this record has %zu field%s but the header has %zu; check for a missing comma, "
             "or quote a field that contains a comma",
             name, st->rec_line, st->field, st->field == 1 ? "" : "s", st->ncols);
        return;
    }
    struct field *f = st->cur;
    for (int c = 0; c < NCOLS; c++) {
        if (c == C_MSG)
            continue;
        if (f[c].len > MAX_NAME_FIELD) {
            fail(st, NL_ELIMIT, "%s:%u: column %d (%s) is %zu bytes; at most %d are allowed", name, f[c].line,
                 st->filecol[c] + 1, col_names[c], f[c].len, MAX_NAME_FIELD);
            return;
        }
        if (c != C_TS && has_control(f[c].p)) {
            fail(st, NL_EMALFORMED, "%s:%u: column %d (%s) contains a line break, a control character or a "
                 "bidirectional control; only the message may hold those", name, f[c].line, st->filecol[c] + 1, col_names[c]);
            return;
        }
    }
    if (!f[C_ID].len) {
        fail(st, NL_EMALFORMED, "%s:%u: column %d (msg_id) is empty; every message needs an id", name,
             f[C_ID].line, st->filecol[C_ID] + 1);
        return;
    }
    if (!f[C_MSG].len) {
        fail(st, NL_EMALFORMED, "%s:%u: column %d (message) is empty; a segment needs at least one byte of data",
             name, f[C_MSG].line, st->filecol[C_MSG] + 1);
        return;
    }
    if (f[C_MSG].len > NL_CSV_MAX_MESSAGE) {
        fail(st, NL_ELIMIT, "%s:%u: column %d (message) is %zu bytes; at most %u are allowed", name,
             f[C_MSG].line, st->filecol[C_MSG] + 1, f[C_MSG].len, NL_CSV_MAX_MESSAGE);
        return;
    }
    struct nl_message m;
    memset(&m, 0, sizeof m);
    m.id = f[C_ID].p;
    m.app_protocol = f[C_PROTO].p;
    m.src_app = f[C_SRC].p;
    m.dst_app = f[C_DST].p;
    m.data = (const uint8_t *)f[C_MSG].p;
    m.len = f[C_MSG].len;
    m.timestamp = f[C_TS].p;
    m.line = st->rec_line;
    if (f[C_TS].len) {
        if (nl_parse_time(f[C_TS].p, &m.time_ns) < 0) {
            fail(st, NL_EMALFORMED,
                 "%s:%u: column %d (timestamp) '%s' is not a timestamp; use ISO 8601 "
                 "(2024-05-01T12:00:00.5Z) or Unix seconds (1714564800.5) between 1970 and 2106, or leave it empty",
                 name, f[C_TS].line, st->filecol[C_TS] + 1, f[C_TS].p);
            return;
        }
        m.has_time = 1;
        if (st->have_last_time && m.time_ns < st->last_time) {
            char prev[48];
            if (nl_time_iso8601(st->last_time, 1, prev, sizeof prev) < 0)
                prev[0] = 0;
            warn(st, "%s:%u: timestamp %s goes back in time (the previous message's is %s): its packets are "
                 "re-timed to 1 us after the previous packet, so the capture keeps the file's order",
                 name, f[C_TS].line, f[C_TS].p, prev);
        }
        st->last_time = m.time_ns;
        st->have_last_time = 1;
    }
    if (ms->n == ms->cap) { /* sized from the line count up front; cannot happen */
        fail(st, NL_ELIMIT, "%s:%u: more records than lines", name, st->rec_line);
        return;
    }
    ms->v[ms->n] = m;
    size_t dup;
    int rc = ids_insert(st, ms->n, &dup);
    if (rc == NL_EEXIST) {
        fail(st, NL_EEXIST, "%s:%u: column %d (msg_id) '%s' is already used on line %u; each message needs its own id",
             name, f[C_ID].line, st->filecol[C_ID] + 1, m.id, ms->v[dup].line);
        return;
    }
    if (rc) {
        fail(st, rc, "%s: out of memory indexing msg_id", name);
        return;
    }
    ms->n++;
}

/* libcsv callbacks: cb1 at the end of each field, cb2 at the end of each record. */
static void on_field(void *s, size_t len, void *data)
{
    struct pstate *st = data;
    if (st->rc)
        return;
    const char *p = s ? s : "";
    unsigned nl = count_nl(p, len, st->eol);
    unsigned fline = st->line - nl;
    if (st->field == 0) {
        st->rec_line = fline;
        size_t tl = len;
        const char *tp = p;
        trim(&tp, &tl);
        st->blank_candidate = (tl == 0);
    } else {
        st->blank_candidate = 0;
    }
    size_t idx = st->field++;
    if (!st->header_done) {
        if (idx >= MAX_HEADER_COLS) {
            fail(st, NL_ELIMIT, "%s:%u: the header has more than %d columns", st->ms->name, fline, MAX_HEADER_COLS);
            return;
        }
        char norm[64];
        normalise_header(p, len, norm, sizeof norm);
        st->hdr[idx] = nl_arena_strndup(&st->ms->arena, norm, strlen(norm));
        st->colmap[idx] = -1;
        st->ncols = idx + 1;
        for (int c = 0; c < NCOLS; c++) {
            if (strcmp(norm, col_names[c]) == 0) {
                if (st->filecol[c] >= 0) {
                    fail(st, NL_EMALFORMED, "%s:%u: column '%s' appears twice in the header (columns %d and %zu)",
                         st->ms->name, fline, col_names[c], st->filecol[c] + 1, idx + 1);
                    return;
                }
                st->filecol[c] = (int)idx;
                st->colmap[idx] = c;
            }
        }
        return;
    }
    if (idx >= st->ncols || st->colmap[idx] < 0)
        return;
    int c = st->colmap[idx];
    const char *fp = p;
    size_t fl = len;
    if (c != C_MSG)
        trim(&fp, &fl);
    /* "1, HTTP, a, b": spaces around a name are dropped, spaces starting a message are
     * kept; neither silently (issue 8), so the user learns which. */
    if (c != C_MSG && fl != len)
        warn(st, "%s:%u: column %zu (%s) '%.*s' has spaces around it; they are ignored (the value is '%.*s')",
             st->ms->name, fline, idx + 1, col_names[c], (int)NL_MIN(len, 40), p, (int)NL_MIN(fl, 40), fp);
    else if (c == C_MSG && len && (p[0] == ' ' || p[0] == '\t'))
        warn(st, "%s:%u: column %zu (message) begins with a space, which is sent as part of the message; "
             "remove the space after the comma if it is not meant", st->ms->name, fline, idx + 1);
    char *copy = nl_arena_strndup(&st->ms->arena, fp, fl);
    if (!copy) {
        fail(st, NL_ENOMEM, "%s:%u: out of memory", st->ms->name, fline);
        return;
    }
    st->cur[c].p = copy;
    st->cur[c].len = fl;
    st->cur[c].line = fline;
}

static void on_record(int term, void *data)
{
    struct pstate *st = data;
    (void)term;
    if (st->rc)
        return;
    if (st->field == 1 && st->blank_candidate) {
        /* a line holding only spaces: treat as blank, like libcsv treats empty lines */
    } else if (!st->header_done) {
        finish_header(st);
    } else {
        finish_record(st);
    }
    st->field = 0;
    memset(st->cur, 0, sizeof st->cur);
}

static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

/* 1 if a space or tab in line[0..n) sits where libcsv's default would trim it:
 * at the start, at the end (before CR/LF), or next to a comma. */
static int trimmable_space(const uint8_t *line, size_t n)
{
    size_t end = n;
    while (end && (line[end - 1] == '\n' || line[end - 1] == '\r'))
        end--;
    if (!end)
        return 0;
    if (line[0] == ' ' || line[0] == '\t' || line[end - 1] == ' ' || line[end - 1] == '\t')
        return 1;
    for (const uint8_t *c = memchr(line, ',', end); c; c = memchr(c + 1, ',', (size_t)(line + end - c - 1))) {
        size_t i = (size_t)(c - line);
        if ((i > 0 && (line[i - 1] == ' ' || line[i - 1] == '\t')) ||
            (i + 1 < end && (line[i + 1] == ' ' || line[i + 1] == '\t')))
            return 1;
        if (i + 1 >= end)
            break;
    }
    return 0;
}

static int parse_buffer(struct nl_messages *ms, const uint8_t *buf, size_t len, char *errbuf)
{
    const char *name = ms->name;
    if (len >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf) {
        buf += 3;
        len -= 3;
    }
    if (len == 0)
        return nl_err(errbuf, NL_EMALFORMED, "%s: the file is empty; it needs a header row "
                      "(msg_id,app_protocol,src_app,dst_app,message,timestamp) and at least one message", name);
    /* Old Mac files end lines with CR alone: count and split their lines at CR. */
    char eol = !memchr(buf, '\n', len) && memchr(buf, '\r', len) ? '\r' : '\n';
    const char *why = NULL;
    size_t bad = utf8_invalid_at(buf, len, &why);
    if (bad != SIZE_MAX) {
        unsigned line = 1 + count_nl(buf, bad, eol);
        const uint8_t *ls = buf + bad;
        while (ls > buf && ls[-1] != eol)
            ls--;
        return nl_err(errbuf, NL_EMALFORMED, "%s:%u:%zu: %s (byte 0x%02x) is not valid UTF-8 text; save the file as UTF-8",
                      name, line, 1 + utf8_chars(ls, (size_t)(buf + bad - ls)), why, buf[bad]);
    }

    /* Every record ends a line or the file, so lines + 1 bound the messages. */
    ms->cap = count_nl(buf, len, eol) + 1;
    ms->v = nl_big_alloc(ms->cap * sizeof *ms->v);
    struct pstate *st = calloc(1, sizeof *st);
    if (!st || !ms->v) {
        free(st);
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory for %zu records", name, ms->cap);
    }
    st->ms = ms;
    st->errbuf = errbuf;
    st->eol = eol;
    for (int c = 0; c < NCOLS; c++)
        st->filecol[c] = -1;
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        free(st);
        return nl_err(errbuf, NL_ENOMEM, "%s: libcsv could not start", name);
    }

    const uint8_t *line = buf, *end = buf + len;
    st->line = 0;
    while (line < end && !st->rc) {
        const uint8_t *nl = memchr(line, eol, (size_t)(end - line));
        size_t n = nl ? (size_t)(nl - line) + 1 : (size_t)(end - line);
        st->line++;
        /* RFC 4180 keeps spaces; libcsv trims those next to a comma, a line end
         * or the line start in unquoted fields unless given a space function,
         * which it then calls for every byte. Only lines with such a space need it. */
        csv_set_space_func(&p, trimmable_space(line, n) ? no_space : NULL);
        size_t done = csv_parse(&p, line, n, on_field, on_record, st);
        if (st->rc)
            break;
        if (done < n) {
            size_t col = 1 + utf8_chars(line, done);
            if (line[done] == '"')
                fail(st, NL_EMALFORMED, "%s:%u:%zu: a double quote inside an unquoted field; wrap the whole field in "
                     "double quotes, double each quote inside it (\"\"), and put no space before the opening quote",
                     name, st->line, col);
            else
                fail(st, NL_EMALFORMED, "%s:%u:%zu: text after a closing quote; a quoted field must end right after "
                     "its closing quote (write a quote inside it as \"\")", name, st->line, col);
            break;
        }
        line += n;
    }
    if (!st->rc && csv_fini(&p, on_field, on_record, st) != 0 && !st->rc)
        fail(st, NL_ETRUNC, "%s:%u: a quoted field in the record starting here is never closed; add the closing "
             "double quote", name, st->field ? st->rec_line : st->line);
    if (!st->rc && !st->header_done)
        fail(st, NL_EMALFORMED, "%s: the file holds no header row; the first row must name msg_id, app_protocol, "
             "src_app, dst_app, message, timestamp", name);
    if (!st->rc && ms->n == 0)
        fail(st, NL_EMALFORMED, "%s: no messages after the header row; add one message per row", name);
    if (!st->rc && ms->warn_dropped)
        warn(st, "%s: %zu more warnings not shown", name, ms->warn_dropped);
    csv_free(&p);
    int rc = st->rc;
    free(st->ids);
    free(st);
    return rc;
}

static struct nl_messages *messages_new(const char *name)
{
    struct nl_messages *ms = calloc(1, sizeof *ms);
    if (!ms)
        return NULL;
    nl_arena_init(&ms->arena);
    ms->name = nl_arena_strndup(&ms->arena, name, strlen(name));
    if (!ms->name) {
        free(ms);
        return NULL;
    }
    return ms;
}

int nl_messages_parse(const void *buf, size_t len, const char *name, struct nl_messages **out, char *errbuf)
{
    *out = NULL;
    if (!name)
        name = "<memory>";
    struct nl_messages *ms = messages_new(name);
    if (!ms)
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory", name);
    int rc = parse_buffer(ms, buf, len, errbuf);
    if (rc < 0) {
        nl_messages_free(ms);
        return rc;
    }
    *out = ms;
    return 0;
}

int nl_messages_load(const char *path, struct nl_messages **out, char *errbuf)
{
    *out = NULL;
    struct nl_file f;
    int rc = nl_file_load(&f, path, "the CSV", "a CSV file", (uint64_t)1 << 32, errbuf);
    if (rc < 0)
        return rc;
    rc = nl_messages_parse(f.data, f.size, path, out, errbuf);
    nl_file_release(&f);
    return rc;
}

size_t nl_messages_count(const struct nl_messages *ms) { return ms ? ms->n : 0; }

const struct nl_message *nl_messages_at(const struct nl_messages *ms, size_t i)
{
    return ms && i < ms->n ? &ms->v[i] : NULL;
}

const char *nl_messages_name(const struct nl_messages *ms) { return ms ? ms->name : ""; }

size_t nl_messages_warning_count(const struct nl_messages *ms) { return ms ? ms->nwarn : 0; }

const char *nl_messages_warning(const struct nl_messages *ms, size_t i)
{
    return ms && i < ms->nwarn ? ms->warnings[i] : NULL;
}

void nl_messages_free(struct nl_messages *ms)
{
    if (!ms)
        return;
    nl_big_free(ms->v);
    nl_arena_free(&ms->arena);
    free(ms);
}
