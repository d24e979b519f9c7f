/*
 * nl_rubric.c - the rubric (see nl_rubric.h): a small line-based file and the
 * command-line options, both through one table of settings with one parser of
 * values each, then the checks it asks for and their points. Reads the rubric
 * file and the input file it names, nothing else; grades nothing.
 */
#include "nl_internal.h"
#include "nl_rubric_int.h"
#include "netlab/nl_analyze.h"
#include "netlab/nl_text.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where the value being set comes from: a file line, or an option (file "", line 0). */
struct origin {
    const char *file;
    unsigned line;
    const char *base;   /* folder relative paths start from ("" for the current one) */
};

static int bad(char *errbuf, int code, const struct origin *o, const char *fmt, ...) NL_PRINTF(4, 5);
static int bad(char *errbuf, int code, const struct origin *o, const char *fmt, ...)
{
    char what[NL_ERRBUF_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (o->line)
        return nl_err(errbuf, code, "%s:%u: %s", o->file, o->line, what);
    return nl_err(errbuf, code, "%s", what);
}

static void note_src(struct nl_rubric_src *s, const struct origin *o)
{
    s->set = 1;
    snprintf(s->file, sizeof s->file, "%s", o->file);
    s->line = o->line;
}

static int replace_str(char **dst, const char *v, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NL_ENOMEM;
    memcpy(p, v, n);
    p[n] = 0;
    free(*dst);
    *dst = p;
    return 0;
}

/* A path as given, or joined to the rubric file's folder. */
static int set_path(char **dst, const char *v, const struct origin *o)
{
    if (v[0] == '/' || !o->base[0])
        return replace_str(dst, v, strlen(v));
    size_t n = strlen(o->base) + strlen(v) + 2;
    char *p = malloc(n);
    if (!p)
        return NL_ENOMEM;
    snprintf(p, n, "%s/%s", o->base, v);
    free(*dst);
    *dst = p;
    return 0;
}

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* Comma-separated items, each trimmed; empty items refused. */
static int split_list(const char *v, const struct origin *o, const char *key, size_t max,
                      int (*each)(struct nl_rubric *, const char *, size_t, const struct origin *, char *),
                      struct nl_rubric *r, char *errbuf)
{
    size_t count = 0;
    for (const char *p = v;;) {
        const char *comma = strchr(p, ',');
        const char *s = p;
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        trim(&s, &n);
        if (n == 0)
            return bad(errbuf, NL_EINVAL, o, "%s: an empty item in \"%s\"", key, v);
        if (++count > max)
            return bad(errbuf, NL_ELIMIT, o, "%s: more than %zu items", key, max);
        int rc = each(r, s, n, o, errbuf);
        if (rc < 0)
            return rc;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* ---- the settings ---- */

static int name_ok(const char *s, size_t n)
{
    if (n == 0 || n >= 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return 0;
    return 1;
}

static int set_title(struct nl_rubric *r, const char *v, const struct origin *o, char *errbuf)
{
    note_src(&r->src_title, o);
    return replace_str(&r->title, v, strlen(v)) < 0 ? nl_err(errbuf, NL_ENOMEM, "out of memory") : 0;
}

static int set_greeting(struct nl_rubric *r, const char *v, const struct origin *o, char *errbuf)
{
    size_t n = strlen(v);
    if (n == 0)
        return bad(errbuf, NL_EINVAL, o, "greeting: empty (leave it out to check no greeting)");
    if (strchr(v, '\n') || strchr(v, '\r'))
        return bad(errbuf, NL_EINVAL, o, "greeting: one line, without CR or LF");
    if (!nl_utf8_valid((const uint8_t *)v, n))
        return bad(errbuf, NL_EINVAL, o, "greeting: not UTF-8");
    note_src(&r->src_greeting, o);
    if (replace_str((char **)&r->greeting, v, n) < 0)
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    r->greeting_len = n;
    return 0;
}

static int set_port(struct nl_rubric *r, const char *v, const struct origin *o, char *errbuf)
{
    if (strcmp(v, "same") == 0) {
        r->port = NL_RUBRIC_PORT_SAME;
    } else {
        char *end;
        long p = strtol(v, &end, 10);
        if (!isdigit((unsigned char)v[0]) || *end || p < 1 || p > 65535)
            return bad(errbuf, NL_EINVAL, o, "port: \"%s\" is neither a port (1-65535) nor \"same\"", v);
        r->port = (int)p;
    }
    note_src(&r->src_port, o);
    return 0;
}

static int set_input(struct nl_rubric *r, const char *v, const struct origin *o, char *errbuf)
{
    if (!v[0])
        return bad(errbuf, NL_EINVAL, o, "input: no file named");
    note_src(&r->src_input, o);
    return set_path(&r->input, v, o) < 0 ? nl_err(errbuf, NL_ENOMEM, "out of memory") : 0;
}

static int set_transform(struct nl_rubric *r, const char *v, const struct origin *o, char *errbuf)
{
    int t = nl_transform_from_name(v);
    if (t < 0) {
        char known[160] = "";
        for (int k = 0; k < NL_TRANSFORM_COUNT; k++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", k ? ", " : "", nl_transform_name(k));
        return bad(errbuf, NL_EINVAL, o, "transform: \"%s\" is none of %s", v, known);
    }
    r->transform = t;
    note_src(&r->src_transform, o);
    return 0;
}

static int add_part(struct nl_rubric *r, const char *s, size_t n, const struct origin *o, char *errbuf)
{
    const char *colon = memchr(s, ':', n);
    size_t nl = colon ? (size_t)(colon - s) : n;
    int where = NL_WHERE_ANY;
    if (colon) {
        const char *w = colon + 1;
        size_t wn = n - nl - 1;
        if (wn == 8 && memcmp(w, "loopback", 8) == 0)
            where = NL_WHERE_LOOPBACK;
        else if (wn == 6 && memcmp(w, "across", 6) == 0)
            where = NL_WHERE_ACROSS;
        else if (!(wn == 3 && memcmp(w, "any", 3) == 0))
            return bad(errbuf, NL_EINVAL, o, "require: \"%.*s\": say loopback, across or any after the colon",
                       (int)n, s);
    } else if (nl == 5 && memcmp(s, "part1", 5) == 0) {
        where = NL_WHERE_LOOPBACK; /* the exercise's part 1: client and server on one host */
    } else if (nl == 5 && memcmp(s, "part2", 5) == 0) {
        where = NL_WHERE_ACROSS;   /* part 2: on two hosts */
    }
    if (!name_ok(s, nl))
        return bad(errbuf, NL_EINVAL, o, "require: \"%.*s\": a capture's name is 1-31 letters, digits, '-' or '_'",
                   (int)nl, s);
    for (size_t i = 0; i < r->nparts; i++)
        if (strlen(r->parts[i].name) == nl && memcmp(r->parts[i].name, s, nl) == 0)
            return bad(errbuf, NL_EINVAL, o, "require: \"%.*s\" named twice", (int)nl, s);
    if (r->nparts == NL_RUBRIC_MAX_PARTS)
        return bad(errbuf, NL_ELIMIT, o, "require: more than %u captures", NL_RUBRIC_MAX_PARTS);
    memcpy(r->parts[r->nparts].name, s, nl);
    r->parts[r->nparts].name[nl] = 0;
    r->parts[r->nparts++].where = where;
    return 0;
}

static int set_require(struct nl_rubric *r, const char *v, const struct origin *o, char *errbuf)
{
    r->nparts = 0;
    note_src(&r->src_require, o);
    return split_list(v, o, "require", NL_RUBRIC_MAX_PARTS, add_part, r, errbuf);
}

/* A file name: no folder, not "." or "..". */
static int plain_name(const char *s, size_t n)
{
    return n > 0 && n < 256 && !memchr(s, '/', n) && !memchr(s, '\\', n) && !memchr(s, 0, n) &&
           !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
}

static int set_output(struct nl_rubric *r, const char *v, const struct origin *o, char *errbuf)
{
    if (!plain_name(v, strlen(v)))
        return bad(errbuf, NL_EINVAL, o, "output: \"%s\" is not a file name (no folder)", v);
    note_src(&r->src_output, o);
    return replace_str(&r->output, v, strlen(v)) < 0 ? nl_err(errbuf, NL_ENOMEM, "out of memory") : 0;
}

static int add_file(struct nl_rubric *r, const char *s, size_t n, const struct origin *o, char *errbuf)
{
    if (!plain_name(s, n))
        return bad(errbuf, NL_EINVAL, o, "files: \"%.*s\" is not a file name or pattern (no folder)", (int)n, s);
    if (r->nfiles == NL_RUBRIC_MAX_FILES)
        return bad(errbuf, NL_ELIMIT, o, "files: more than %u", NL_RUBRIC_MAX_FILES);
    if (replace_str(&r->files[r->nfiles], s, n) < 0)
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    r->nfiles++;
    return 0;
}

static int set_files(struct nl_rubric *r, const char *v, const struct origin *o, char *errbuf)
{
    for (size_t i = 0; i < r->nfiles; i++) {
        free(r->files[i]);
        r->files[i] = NULL;
    }
    r->nfiles = 0;
    note_src(&r->src_files, o);
    return split_list(v, o, "files", NL_RUBRIC_MAX_FILES, add_file, r, errbuf);
}

/* reference = FILE (every capture) or reference.PART = FILE. */
static int set_reference(struct nl_rubric *r, const char *part, const char *v, const struct origin *o, char *errbuf)
{
    if (part[0] && !name_ok(part, strlen(part)))
        return bad(errbuf, NL_EINVAL, o, "reference.%s: not a capture's name", part);
    if (!v[0])
        return bad(errbuf, NL_EINVAL, o, "reference: no capture named");
    size_t i;
    for (i = 0; i < r->nrefs && strcmp(r->refs[i].part, part) != 0; i++)
        ;
    if (i == r->nrefs) {
        if (r->nrefs == NL_RUBRIC_MAX_PARTS + 1)
            return bad(errbuf, NL_ELIMIT, o, "reference: more than %u", NL_RUBRIC_MAX_PARTS + 1);
        snprintf(r->refs[i].part, sizeof r->refs[i].part, "%s", part);
        r->nrefs++;
    }
    return set_path(&r->refs[i].path, v, o) < 0 ? nl_err(errbuf, NL_ENOMEM, "out of memory") : 0;
}

/* Points: a non-negative number with at most three decimals. */
static int parse_points(const char *v, uint32_t *milli)
{
    uint64_t whole = 0, frac = 0;
    int digits = 0, fd = 0;
    const char *p = v;
    for (; isdigit((unsigned char)*p); p++, digits++)
        if ((whole = whole * 10 + (uint64_t)(*p - '0')) > NL_RUBRIC_MAX_POINTS)
            return -1;
    if (*p == '.') {
        for (p++; isdigit((unsigned char)*p); p++, fd++) {
            if (fd < 3)
                frac = frac * 10 + (uint64_t)(*p - '0');
            else if (*p != '0')
                return -1;
        }
    }
    if (*p || digits == 0 || fd > 6)
        return -1;
    for (int k = fd < 3 ? fd : 3; k < 3; k++)
        frac *= 10;
    *milli = (uint32_t)(whole * 1000 + frac);
    return 0;
}

static int set_points(struct nl_rubric *r, const char *check, const char *v, const struct origin *o, char *errbuf)
{
    uint32_t milli;
    if (parse_points(v, &milli) < 0)
        return bad(errbuf, NL_EINVAL, o, "points.%s: \"%s\" is not a number of points (0 to %u, up to 3 decimals)",
                   check, v, NL_RUBRIC_MAX_POINTS);
    if (!check[0] || strlen(check) >= sizeof r->points[0].key)
        return bad(errbuf, NL_EINVAL, o, "points.%s: name a check", check);
    size_t i;
    for (i = 0; i < r->npoints && strcmp(r->points[i].key, check) != 0; i++)
        ;
    if (i == r->npoints) {
        if (r->npoints == NL_RUBRIC_MAX_CHECKS)
            return bad(errbuf, NL_ELIMIT, o, "points: more than %u settings", NL_RUBRIC_MAX_CHECKS);
        snprintf(r->points[i].key, sizeof r->points[i].key, "%s", check);
        r->npoints++;
    }
    r->points[i].milli = milli;
    note_src(&r->points[i].src, o);
    return 0;
}

typedef int (*setter)(struct nl_rubric *, const char *, const struct origin *, char *);
static const struct {
    const char *key;
    setter set;
} settings[] = {
    {"title", set_title},     {"greeting", set_greeting}, {"port", set_port},     {"input", set_input},
    {"transform", set_transform}, {"require", set_require}, {"output", set_output}, {"files", set_files},
};

static int set_one(struct nl_rubric *r, const char *key, const char *value, const struct origin *o, char *errbuf)
{
    if (r->finished)
        return nl_err(errbuf, NL_EINVAL, "the rubric is already in use");
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++)
        if (strcmp(key, settings[i].key) == 0)
            return settings[i].set(r, value, o, errbuf);
    if (strcmp(key, "reference") == 0)
        return set_reference(r, "", value, o, errbuf);
    if (strncmp(key, "reference.", 10) == 0)
        return set_reference(r, key + 10, value, o, errbuf);
    if (strncmp(key, "points.", 7) == 0)
        return set_points(r, key + 7, value, o, errbuf);
    return bad(errbuf, NL_EINVAL, o,
               "unknown setting \"%s\" (known: title, greeting, port, input, transform, require, output, files, "
               "reference, reference.PART, points.CHECK)",
               key);
}

int nl_rubric_set(struct nl_rubric *r, const char *key, const char *value, char *errbuf)
{
    struct origin o = {"", 0, ""};
    return set_one(r, key, value ? value : "", &o, errbuf);
}

/* ---- the file ---- */

/* The value after '=': quoted (escapes) or bare (trimmed, a comment after whitespace + '#'). */
static int read_value(const char *s, size_t n, char *out, size_t cap, const struct origin *o, char *errbuf)
{
    trim(&s, &n);
    size_t k = 0;
    if (n && s[0] == '"') {
        size_t i = 1;
        for (; i < n && s[i] != '"'; i++) {
            char c = s[i];
            if (c == '\\') {
                if (++i == n)
                    break;
                const char *from = "\"\\nrt", *to = "\"\\\n\r\t";
                const char *at = strchr(from, s[i]);
                if (!at || !s[i])
                    return bad(errbuf, NL_EMALFORMED, o, "unknown escape \\%c in a quoted value (known: \\\" \\\\ \\n \\r \\t)",
                               s[i]);
                c = to[at - from];
            }
            if (k + 1 >= cap)
                return bad(errbuf, NL_ELIMIT, o, "a value longer than %zu bytes", cap - 1);
            out[k++] = c;
        }
        if (i >= n)
            return bad(errbuf, NL_EMALFORMED, o, "a quoted value without its closing quote");
        const char *rest = s + i + 1;
        size_t rn = n - i - 1;
        trim(&rest, &rn);
        if (rn && rest[0] != '#')
            return bad(errbuf, NL_EMALFORMED, o, "text after the closing quote (a comment starts with '#')");
    } else {
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '#' && i > 0 && isspace((unsigned char)s[i - 1]))
                break;
            if (s[i] == '"')
                return bad(errbuf, NL_EMALFORMED, o, "a quote inside a bare value (quote the whole value)");
            out[k++] = s[i];
        }
        while (k && isspace((unsigned char)out[k - 1]))
            k--;
    }
    out[k] = 0;
    if (memchr(out, 0, k))
        return bad(errbuf, NL_EMALFORMED, o, "a NUL byte in a value");
    return 0;
}

/* A key seen earlier in this file (keys are at most 63 bytes, checked by the caller). */
static int seen_before(char (*seen)[64], size_t nseen, const char *key)
{
    for (size_t i = 0; i < nseen; i++)
        if (strcmp(seen[i], key) == 0)
            return 1;
    return 0;
}

static int parse_line(struct nl_rubric *r, const char *s, size_t n, const struct origin *o, char (*seen)[64],
                      size_t *nseen, char *errbuf)
{
    trim(&s, &n);
    if (n == 0 || s[0] == '#')
        return 0;
    const char *eq = memchr(s, '=', n);
    if (!eq)
        return bad(errbuf, NL_EMALFORMED, o, "expected KEY = VALUE");
    const char *k = s;
    size_t kn = (size_t)(eq - s);
    trim(&k, &kn);
    if (kn == 0 || kn >= 64)
        return bad(errbuf, NL_EMALFORMED, o, kn ? "a key longer than 63 bytes" : "no key before '='");
    char key[64];
    memcpy(key, k, kn);
    key[kn] = 0;
    for (size_t i = 0; i < kn; i++)
        if (!isalnum((unsigned char)key[i]) && key[i] != '.' && key[i] != '_' && key[i] != '-')
            return bad(errbuf, NL_EMALFORMED, o, "the key \"%s\" holds a character keys do not", key);
    if (seen_before(seen, *nseen, key))
        return bad(errbuf, NL_EINVAL, o, "\"%s\" set twice in this file", key);
    if (*nseen < 256)
        memcpy(seen[(*nseen)++], key, kn + 1);
    char value[NL_RUBRIC_MAX_LINE + 1];
    int rc = read_value(eq + 1, n - (size_t)(eq + 1 - s), value, sizeof value, o, errbuf);
    return rc < 0 ? rc : set_one(r, key, value, o, errbuf);
}

int nl_rubric_parse(struct nl_rubric *r, const void *buf, size_t len, const char *name, char *errbuf)
{
    const char *p = buf;
    char base[1024] = "";
    const char *slash = name ? strrchr(name, '/') : NULL;
    if (slash && (size_t)(slash - name) < sizeof base)
        snprintf(base, sizeof base, "%.*s", slash == name ? 1 : (int)(slash - name), name);
    struct origin o = {name && name[0] ? name : "(rubric)", 0, base};
    if (len > NL_RUBRIC_MAX_BYTES)
        return nl_err(errbuf, NL_ELIMIT, "%s: %zu bytes, more than a rubric's %u", o.file, len, NL_RUBRIC_MAX_BYTES);
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) /* a byte-order mark */
        p += 3, len -= 3;
    if (!nl_utf8_valid((const uint8_t *)p, len))
        return nl_err(errbuf, NL_EMALFORMED, "%s: not UTF-8 text", o.file);
    char (*keys)[64] = calloc(256, sizeof *keys);
    if (!keys)
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    size_t nseen = 0;
    int rc = 0;
    for (size_t at = 0; at < len && rc == 0;) {
        const char *nl = memchr(p + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - p) : len;
        o.line++;
        if (end - at > NL_RUBRIC_MAX_LINE)
            rc = bad(errbuf, NL_ELIMIT, &o, "a line longer than %u bytes", NL_RUBRIC_MAX_LINE);
        else if (memchr(p + at, 0, end - at))
            rc = bad(errbuf, NL_EMALFORMED, &o, "a NUL byte");
        else
            rc = parse_line(r, p + at, end - at, &o, keys, &nseen, errbuf);
        at = end + 1;
    }
    free(keys);
    return rc;
}

int nl_rubric_load(struct nl_rubric *r, const char *path, char *errbuf)
{
    struct nl_file f;
    int rc = nl_file_load(&f, path, "the rubric", "a rubric file", NL_RUBRIC_MAX_BYTES, errbuf);
    if (rc < 0)
        return rc;
    rc = nl_rubric_parse(r, f.data, f.size, path, errbuf);
    nl_file_release(&f);
    return rc;
}

/* ---- life ---- */

int nl_rubric_new(struct nl_rubric **out, char *errbuf)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    (*out)->transform = NL_TRANSFORM_REVERSE_SWAPCASE;
    return 0;
}

void nl_rubric_free(struct nl_rubric *r)
{
    if (!r)
        return;
    free(r->title);
    free(r->greeting);
    free(r->input);
    free(r->output);
    for (size_t i = 0; i < r->nfiles; i++)
        free(r->files[i]);
    for (size_t i = 0; i < r->nrefs; i++)
        free(r->refs[i].path);
    nl_messages_free(r->lines);
    free(r);
}

/* ---- the checks ---- */

static const char *const kind_names[NL_CHECK_KINDS] = {
    [NL_CHECK_READABLE] = "readable", [NL_CHECK_CAPTURE] = "capture",     [NL_CHECK_PORT] = "port",
    [NL_CHECK_GREETING] = "greeting", [NL_CHECK_ECHO] = "echo",           [NL_CHECK_INTERFACE] = "interface",
    [NL_CHECK_OUTPUT] = "output",     [NL_CHECK_FILES] = "files",
};

static void add_check(struct nl_rubric *r, int kind, int part)
{
    struct nl_rubric_check *c = &r->checks[r->nchecks++];
    c->kind = kind;
    c->part = part;
    c->milli = kind == NL_CHECK_READABLE ? 0 : 1000;
    const char *part_name = part >= 0 ? r->parts[part].name : "";
    snprintf(c->id, sizeof c->id, "%s%s%s", part_name, part >= 0 ? "." : "", kind_names[kind]);
}

/* The checks of one capture (part, or -1 for every capture found). */
static void capture_checks(struct nl_rubric *r, int part)
{
    add_check(r, NL_CHECK_CAPTURE, part);
    if (r->port != NL_RUBRIC_PORT_NONE)
        add_check(r, NL_CHECK_PORT, part);
    if (r->greeting)
        add_check(r, NL_CHECK_GREETING, part);
    if (r->input)
        add_check(r, NL_CHECK_ECHO, part);
    if (part >= 0 && r->parts[part].where != NL_WHERE_ANY)
        add_check(r, NL_CHECK_INTERFACE, part);
}

static void list_checks(char *out, size_t cap, const struct nl_rubric *r)
{
    out[0] = 0;
    for (size_t i = 0; i < r->nchecks; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? ", " : "", r->checks[i].id);
}

static int is_kind(const char *key)
{
    for (int k = 0; k < NL_CHECK_KINDS; k++)
        if (strcmp(key, kind_names[k]) == 0)
            return k;
    return -1;
}

/* points.KIND first (every check of the kind), then points.ID (one check). */
static int apply_points(struct nl_rubric *r, char *errbuf)
{
    for (int exact = 0; exact < 2; exact++) {
        for (size_t p = 0; p < r->npoints; p++) {
            const struct nl_rubric_points *pt = &r->points[p];
            int kind = is_kind(pt->key), hit = 0;
            if ((kind >= 0) == exact)
                continue;
            for (size_t i = 0; i < r->nchecks; i++) {
                struct nl_rubric_check *c = &r->checks[i];
                if (exact ? strcmp(c->id, pt->key) == 0 : c->kind == kind) {
                    c->milli = pt->milli;
                    hit = 1;
                }
            }
            if (!hit) {
                char known[NL_ERRBUF_SIZE / 2];
                list_checks(known, sizeof known, r);
                struct origin o = {pt->src.file, pt->src.line, ""};
                return bad(errbuf, NL_EINVAL, &o, "points.%s: no such check in this rubric (its checks: %s)", pt->key,
                           known);
            }
        }
    }
    return 0;
}

static int coherent(const struct nl_rubric *r, char *errbuf)
{
    if (r->output && !r->input) {
        struct origin o = {r->src_output.file, r->src_output.line, ""};
        return bad(errbuf, NL_EINVAL, &o, "output = %s needs input = FILE: the lines whose transform it must hold",
                   r->output);
    }
    for (size_t i = 0; i < r->nrefs; i++) {
        if (!r->refs[i].part[0])
            continue;
        size_t k;
        for (k = 0; k < r->nparts && strcmp(r->parts[k].name, r->refs[i].part) != 0; k++)
            ;
        if (k == r->nparts)
            return nl_err(errbuf, NL_EINVAL, "reference.%s: no capture of that name is required (require = ...)",
                          r->refs[i].part);
    }
    return 0;
}

int nl_rubric_finish(struct nl_rubric *r, char *errbuf)
{
    if (r->finished)
        return 0;
    int rc = coherent(r, errbuf);
    if (rc < 0)
        return rc;
    r->nchecks = 0;
    add_check(r, NL_CHECK_READABLE, -1);
    if (r->nparts)
        for (size_t i = 0; i < r->nparts; i++)
            capture_checks(r, (int)i);
    else
        capture_checks(r, -1);
    if (r->output)
        add_check(r, NL_CHECK_OUTPUT, -1);
    if (r->nfiles)
        add_check(r, NL_CHECK_FILES, -1);
    if ((rc = apply_points(r, errbuf)) < 0)
        return rc;
    if (r->input) {
        struct nl_file f;
        rc = nl_file_load(&f, r->input, "the input file", "an input file", NL_CSV_MAX_MESSAGE, errbuf);
        if (rc == 0)
            rc = nl_expect_lines_parse(f.data, f.size, r->input, r->transform, &r->lines, errbuf);
        nl_file_release(&f);
        if (rc < 0)
            return rc;
    }
    r->finished = 1;
    return 0;
}

/* ---- reading it back ---- */

void nl_rubric_info(const struct nl_rubric *r, struct nl_rubric_info *o)
{
    memset(o, 0, sizeof *o);
    o->title = r->title ? r->title : "";
    o->greeting = r->greeting;
    o->greeting_len = r->greeting_len;
    o->port = r->port;
    o->input = r->input;
    o->transform = r->transform;
    o->output = r->output;
    o->parts = r->nparts;
    o->files = r->nfiles;
    o->references = r->nrefs;
    o->input_lines = r->lines ? nl_messages_count(r->lines) / 2 : 0;
}

const char *nl_rubric_part(const struct nl_rubric *r, size_t i, int *where)
{
    if (i >= r->nparts)
        return NULL;
    if (where)
        *where = r->parts[i].where;
    return r->parts[i].name;
}

const char *nl_rubric_file(const struct nl_rubric *r, size_t i) { return i < r->nfiles ? r->files[i] : NULL; }

const char *nl_rubric_reference(const struct nl_rubric *r, size_t i, const char **part)
{
    if (i >= r->nrefs)
        return NULL;
    if (part)
        *part = r->refs[i].part;
    return r->refs[i].path;
}

size_t nl_rubric_check_count(const struct nl_rubric *r) { return r->nchecks; }

const char *nl_rubric_check(const struct nl_rubric *r, size_t i, uint32_t *milli)
{
    if (i >= r->nchecks)
        return NULL;
    if (milli)
        *milli = r->checks[i].milli;
    return r->checks[i].id;
}
