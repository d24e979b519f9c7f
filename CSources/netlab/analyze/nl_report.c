/*
 * nl_report.c - one capture as `netlab report` shows it (see nl_report.h): loads the
 * file once and makes one analysis of that copy, with its answer sheet (the same pass) and
 * its flow graph; decides which conversations are drawn and which are listed. Owns the loaded
 * file and the views made from it; decides no TCP fact (nl_tcpanalysis does) and
 * renders nothing.
 */
#include "netlab/nl_report.h"
#include "netlab/nl_analyze.h"
#include "netlab/nl_answers.h"
#include "netlab/nl_flowgraph.h"
#include "netlab/nl_text.h"
#include "nl_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct nl_report_capture {
    struct nl_file file;          /* the one read of the capture */
    struct nl_analysis *a;
    struct nl_flowgraph *g;
    const struct nl_answers *ans; /* the analysis' own (nl_analysis_answers) */
    unsigned *drawn;              /* by flow-graph conversation */
};

/* Marks the k conversations with the highest key (key 0 never counts; ties: the earlier). */
static void pick(struct nl_report_capture *c, const uint64_t *key, size_t n, size_t k, unsigned bit)
{
    unsigned *taken = calloc(n ? n : 1, sizeof *taken);
    if (!taken)
        return;
    for (size_t round = 0; round < k; round++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (!taken[i] && key[i] && (best == n || key[i] > key[best]))
                best = i;
        if (best == n)
            break;
        taken[best] = 1;
        c->drawn[best] |= bit;
    }
    free(taken);
}

static int choose(struct nl_report_capture *c)
{
    size_t n = nl_flowgraph_count(c->g);
    c->drawn = calloc(n ? n : 1, sizeof *c->drawn);
    if (!c->drawn)
        return NL_ENOMEM;
    if (n <= NL_REPORT_DRAW_ALL) {
        for (size_t i = 0; i < n; i++)
            c->drawn[i] = NL_REPORT_DRAWN_ALL;
        return 0;
    }
    uint64_t *bytes = calloc(n, sizeof *bytes), *loss = calloc(n, sizeof *loss);
    if (!bytes || !loss) {
        free(bytes);
        free(loss);
        return NL_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        struct nl_conversation cv;
        const struct nl_flow_conv *f = nl_flowgraph_conv(c->g, i);
        if (nl_analysis_conv(c->a, f->conversation - 1, &cv) < 0)
            continue;
        bytes[i] = cv.bytes_c2s + cv.bytes_s2c;
        loss[i] = cv.retransmissions;
    }
    pick(c, bytes, n, NL_REPORT_DRAW_BYTES, NL_REPORT_DRAWN_BYTES);
    pick(c, loss, n, NL_REPORT_DRAW_LOSS, NL_REPORT_DRAWN_LOSS);
    free(bytes);
    free(loss);
    return 0;
}

int nl_report_capture_open(const char *path, size_t max_rows, struct nl_report_capture **out, char *errbuf)
{
    *out = NULL;
    struct nl_report_capture *c = calloc(1, sizeof *c);
    if (!c)
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory", path);
    int rc = nl_file_load(&c->file, path, "the capture", "a capture file", 0, errbuf);
    if (rc < 0) {
        free(c);
        return rc;
    }
    struct nl_analyze_opts o = {0};
    o.packets = 1;
    o.answers = 1;
    if ((rc = nl_analyze_mem(c->file.data, c->file.size, path, &o, &c->a, errbuf)) < 0 ||
        (rc = nl_flowgraph_from_analysis(c->a, max_rows, &c->g, errbuf)) < 0) {
        nl_report_capture_free(c);
        return rc;
    }
    c->ans = nl_analysis_answers(c->a);
    if (choose(c) < 0) {
        nl_report_capture_free(c);
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory", path);
    }
    *out = c;
    return 0;
}

void nl_report_capture_free(struct nl_report_capture *c)
{
    if (!c)
        return;
    nl_flowgraph_free(c->g);
    nl_analysis_free(c->a);
    free(c->drawn);
    nl_file_release(&c->file);
    free(c);
}

const struct nl_analysis *nl_report_capture_analysis(const struct nl_report_capture *c) { return c->a; }
const struct nl_flowgraph *nl_report_capture_flowgraph(const struct nl_report_capture *c) { return c->g; }
const struct nl_answers *nl_report_capture_answers(const struct nl_report_capture *c) { return c->ans; }

unsigned nl_report_capture_drawn(const struct nl_report_capture *c, size_t i)
{
    return i < nl_flowgraph_count(c->g) ? c->drawn[i] : 0;
}

/* ---- the assignment's questions ---- */

struct nl_report_questions {
    struct nl_report_question q[NL_REPORT_QUESTION_MAX];
    char *strings[NL_REPORT_QUESTION_MAX * 4 + 1]; /* number, keys, text of each; headings */
    size_t n, nstrings;
};

static const char *const question_keys[] = {NL_REPORT_QUESTION_KEYS};

static char *keep(struct nl_report_questions *q, const char *s, size_t n)
{
    char *p = q->nstrings < sizeof q->strings / sizeof *q->strings ? malloc(n + 1) : NULL;
    if (!p)
        return NULL; /* out of memory, or more headings than questions allow */
    memcpy(p, s, n);
    p[n] = 0;
    q->strings[q->nstrings++] = p;
    return p;
}

static int question_line(struct nl_report_questions *q, const char *path, unsigned line, char *s, const char **section,
                         char *errbuf)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s || *s == '#')
        return 0;
    if (!nl_utf8_valid((const uint8_t *)s, strlen(s)))
        return nl_err(errbuf, NL_EMALFORMED, "%s:%u: not UTF-8 text", path, line);
    if (*s == '[') {
        char *end = strrchr(s, ']');
        if (!end || end[1])
            return nl_err(errbuf, NL_EMALFORMED, "%s:%u: a section heading is [TEXT], with nothing after the ]", path, line);
        *section = keep(q, s + 1, (size_t)(end - s - 1));
        return *section ? 0 : NL_ENOMEM;
    }
    if (q->n >= NL_REPORT_QUESTION_MAX)
        return nl_err(errbuf, NL_ELIMIT, "%s:%u: more than %u questions", path, line, NL_REPORT_QUESTION_MAX);
    char *num = s, *p = s;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    size_t numlen = (size_t)(p - num);
    while (*p == ' ' || *p == '\t')
        p++;
    char *key = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    size_t keylen = (size_t)(p - key);
    while (*p == ' ' || *p == '\t')
        p++;
    if (!keylen)
        return nl_err(errbuf, NL_EMALFORMED, "%s:%u: \"NUMBER KEY QUESTION\" expected: no KEY after %.*s", path, line,
                      (int)numlen, num);
    /* KEY, or KEY,KEY,...: each one known. */
    for (const char *k0 = key; k0 < key + keylen;) {
        const char *k1 = memchr(k0, ',', (size_t)(key + keylen - k0));
        size_t kl = (size_t)((k1 ? k1 : key + keylen) - k0);
        int known = 0;
        for (size_t k = 0; k < sizeof question_keys / sizeof *question_keys; k++)
            known |= kl == strlen(question_keys[k]) && !memcmp(k0, question_keys[k], kl);
        if (!known) {
            char all[400] = "";
            for (size_t k = 0; k < sizeof question_keys / sizeof *question_keys; k++)
                snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", k ? ", " : "", question_keys[k]);
            return nl_err(errbuf, NL_EMALFORMED, "%s:%u: unknown answer \"%.*s\"; a question names one of: %s (several: "
                          "KEY,KEY)", path, line, (int)(kl > 40 ? 40 : kl), k0, all);
        }
        k0 += kl + 1;
    }
    struct nl_report_question *r = &q->q[q->n];
    r->section = *section ? *section : "";
    if (!(r->number = keep(q, num, numlen)) || !(r->key = keep(q, key, keylen)) || !(r->text = keep(q, p, strlen(p))))
        return NL_ENOMEM;
    q->n++;
    return 0;
}

/* Reads the questions from f (named path in errors); the caller closes f. */
static int questions_read(FILE *f, const char *path, struct nl_report_questions **out, char *errbuf)
{
    struct nl_report_questions *q = calloc(1, sizeof *q);
    if (!q)
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    char buf[1002];
    unsigned line = 0;
    const char *section = NULL;
    int rc = 0, c = 0;
    while (rc == 0 && c != EOF) {
        size_t n = 0;
        while ((c = getc(f)) != EOF && c != '\n' && c != 0 && n <= 1000)
            buf[n++] = (char)c;
        if (c == EOF && n == 0)
            break;
        line++;
        if (c == 0) {
            rc = nl_err(errbuf, NL_EMALFORMED, "%s:%u: a NUL byte: not a text file", path, line);
            break;
        }
        if (n > 1000) {
            rc = nl_err(errbuf, NL_ELIMIT, "%s:%u: a line longer than 1,000 bytes", path, line);
            break;
        }
        buf[n] = 0;
        rc = question_line(q, path, line, buf, &section, errbuf);
        if (rc == NL_ENOMEM)
            rc = nl_err(errbuf, NL_ENOMEM, "out of memory");
    }
    if (rc == 0 && ferror(f))
        rc = nl_err_sys(errbuf, errno, "--questions %s", path);
    if (rc == 0 && q->n == 0)
        rc = nl_err(errbuf, NL_EMALFORMED, "%s: no question in it (a line is NUMBER KEY QUESTION; docs/report.md)", path);
    if (rc < 0) {
        nl_report_questions_free(q);
        return rc;
    }
    *out = q;
    return 0;
}

int nl_report_questions_load(const char *path, struct nl_report_questions **out, char *errbuf)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return nl_err_sys(errbuf, errno, "--questions %s", path);
    int rc = questions_read(f, path, out, errbuf);
    fclose(f);
    return rc;
}

int nl_report_questions_parse(const void *buf, size_t len, const char *name, struct nl_report_questions **out,
                              char *errbuf)
{
    *out = NULL;
    if (!len)
        return nl_err(errbuf, NL_EMALFORMED, "%s: no question in it (a line is NUMBER KEY QUESTION; docs/report.md)", name);
    FILE *f = fmemopen((void *)buf, len, "r");
    if (!f)
        return nl_err_sys(errbuf, errno, "%s", name);
    int rc = questions_read(f, name, out, errbuf);
    fclose(f);
    return rc;
}

size_t nl_report_questions_count(const struct nl_report_questions *q) { return q ? q->n : 0; }

int nl_report_questions_get(const struct nl_report_questions *q, size_t i, struct nl_report_question *out)
{
    if (!q || i >= q->n)
        return NL_EINVAL;
    *out = q->q[i];
    return 0;
}

void nl_report_questions_free(struct nl_report_questions *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->nstrings; i++)
        free(q->strings[i]);
    free(q);
}

/* ---- where the report goes ---- */

static const char *kind_of(mode_t m)
{
    return S_ISDIR(m) ? "a folder" : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
         : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket" : S_ISREG(m) ? "a file" : "a special file";
}

static int ends_pdf(const char *s)
{
    size_t n = strlen(s);
    return n > 4 && strcasecmp(s + n - 4, ".pdf") == 0;
}

/* mkdir -p: every missing folder of path. */
static int make_dirs(const char *path, char *errbuf)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
        return nl_err(errbuf, NL_EINVAL, "--out %s: the path is too long", path);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s)
            continue;
        char c = *s;
        *s = 0;
        struct stat sb;
        if (stat(p, &sb) < 0) {
            if (errno != ENOENT || mkdir(p, 0755) < 0)
                return nl_err_sys(errbuf, errno, "--out %s: cannot make the folder %s", path, p);
        } else if (!S_ISDIR(sb.st_mode)) {
            return nl_err(errbuf, NL_EINVAL, "--out %s: %s is %s, not a folder", path, p, kind_of(sb.st_mode));
        }
        if (!c)
            return 0;
        *s = c;
    }
}

/* The folder can take new files: make one and remove it (root passes permission bits, not a
 * read-only mount). */
static int writable(const char *dir, const char *out, char *errbuf)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/.netlab-report-XXXXXX", dir);
    int fd = mkstemp(p);
    if (fd < 0) {
        int e = errno;
        if (e == EACCES || e == EPERM || e == EROFS)
            return nl_err(errbuf, NL_EPERM, "--out %s: cannot write in the folder %s: %s; give a folder you can write to",
                          out, dir, strerror(e));
        return nl_err_sys(errbuf, e, "--out %s: cannot write in the folder %s", out, dir);
    }
    close(fd);
    unlink(p);
    return 0;
}

int nl_report_output_check(const char *out, int pdf, struct nl_report_output *o, char *errbuf)
{
    memset(o, 0, sizeof *o);
    if (!out || !*out)
        return nl_err(errbuf, NL_EINVAL, "--out: give a folder or a file name ending in .pdf");
    struct stat sb;
    int exists = stat(out, &sb) == 0;
    int rc;
    if (ends_pdf(out) && !(exists && S_ISDIR(sb.st_mode))) {
        /* The PDF itself: NAME.pdf in an existing folder. */
        const char *slash = strrchr(out, '/');
        const char *base = slash ? slash + 1 : out;
        if (slash == out)
            snprintf(o->dir, sizeof o->dir, "/");
        else if (slash)
            snprintf(o->dir, sizeof o->dir, "%.*s", (int)(slash - out), out);
        else
            snprintf(o->dir, sizeof o->dir, ".");
        if (strlen(base) - 4 >= sizeof o->stem)
            return nl_err(errbuf, NL_EINVAL, "--out %s: the file name is too long", out);
        snprintf(o->stem, sizeof o->stem, "%.*s", (int)(strlen(base) - 4), base);
        struct stat db;
        if (stat(o->dir, &db) < 0)
            return nl_err(errbuf, NL_ENOTFOUND, "--out %s: the folder %s does not exist; make it first", out, o->dir);
        if (!S_ISDIR(db.st_mode))
            return nl_err(errbuf, NL_EINVAL, "--out %s: %s is %s, not a folder", out, o->dir, kind_of(db.st_mode));
    } else {
        if (exists && !S_ISDIR(sb.st_mode))
            return nl_err(errbuf, NL_EINVAL,
                          "--out %s: is %s, not a folder; give a folder for report.html, report.md and report.pdf, "
                          "or a new file name ending in .pdf", out, kind_of(sb.st_mode));
        if (snprintf(o->dir, sizeof o->dir, "%s", out) >= (int)sizeof o->dir)
            return nl_err(errbuf, NL_EINVAL, "--out %s: the path is too long", out);
        snprintf(o->stem, sizeof o->stem, "report");
        if (!exists && (rc = make_dirs(out, errbuf)) < 0)
            return rc;
    }
    if ((rc = writable(o->dir, out, errbuf)) < 0)
        return rc;
    const char *exts[] = {"html", "md", "pdf"};
    for (size_t i = 0; i < (pdf ? 3u : 2u); i++) {
        char p[4600];
        snprintf(p, sizeof p, "%s/%s.%s", o->dir, o->stem, exts[i]);
        if (stat(p, &sb) == 0 && !S_ISREG(sb.st_mode))
            return nl_err(errbuf, NL_EINVAL, "--out %s: %s is %s, not a file netlab may replace; move it away or give "
                          "another --out", out, p, kind_of(sb.st_mode));
    }
    return 0;
}
