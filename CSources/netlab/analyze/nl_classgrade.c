/*
 * nl_classgrade.c - a class graded (see nl_classgrade.h): each submission's
 * files listed (nl_submission.c), its captures found and told apart by name,
 * each capture analysed once (nl_analyze with the rubric's expectations and its
 * streams kept, nl_answers), the conversation to grade chosen, then every check
 * of the rubric decided (nl_gradecheck.c) and compared with a reference
 * (nl_gradediff.c), points added up. Owns the class's results; words no check.
 */
#include "nl_analysis.h"
#include "nl_classgrade_int.h"
#include "netlab/nl_text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct nl_sub_res {
    char *name;
    int is_zip;
    size_t nfiles;
    struct nl_verdict *v;          /* one per rubric check */
    struct nl_cap_res *caps;
    size_t ncaps;
    uint32_t milli, max;
    int pass;
};

struct ref_cap {
    char part[32];
    struct nl_file file;
    struct nl_gcap g;
    struct nl_cap_res res;
};

struct nl_class {
    const struct nl_rubric *r;
    struct nl_sub_res *subs;
    size_t n;
    char **skipped;
    size_t nskipped, capskipped;
    struct ref_cap *refs;
    size_t nrefs;
};

/* ---- one capture ---- */

static int has_capture_magic(const uint8_t *p, size_t n)
{
    if (n < 4)
        return 0;
    static const uint8_t magics[][4] = {{0xa1, 0xb2, 0xc3, 0xd4}, {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d},
                                        {0x4d, 0x3c, 0xb2, 0xa1}, {0x0a, 0x0d, 0x0d, 0x0a}};
    for (size_t i = 0; i < sizeof magics / sizeof *magics; i++)
        if (memcmp(p, magics[i], 4) == 0)
            return 1;
    return 0;
}

static int capture_name(const char *base)
{
    const char *dot = strrchr(base, '.');
    return dot && (strcasecmp(dot, ".pcap") == 0 || strcasecmp(dot, ".pcapng") == 0 || strcasecmp(dot, ".cap") == 0);
}

/* The conversation to grade: the one the input's lines were matched to, else the TCP one with the most payload. */
static uint32_t pick_conversation(const struct nl_analysis *a)
{
    for (size_t i = 0; i < a->nexp; i++)
        if (a->exp[i].pub.conversation)
            return a->exp[i].pub.conversation;
    uint32_t best = 0;
    uint64_t most = 0;
    for (size_t i = 0; i < nl_analysis_conv_count(a); i++) {
        struct nl_conversation c;
        if (nl_analysis_conv(a, i, &c) < 0 || c.protocol != 6)
            continue;
        uint64_t bytes = c.payload_c2s + c.payload_s2c;
        if (!best || bytes > most) {
            best = c.id;
            most = bytes;
        }
    }
    return best;
}

/* Strip "NAME: " from a reader's message about NAME. */
static const char *after_name(const char *msg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(msg, name, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ' ? msg + n + 2 : msg;
}

static void choose(struct nl_gcap *g)
{
    g->conv = pick_conversation(g->a);
    if (!g->conv || nl_analysis_conv(g->a, g->conv - 1, &g->c) < 0 || g->c.protocol != 6) {
        g->state = NL_GCAP_NO_TCP;
        snprintf(g->why, sizeof g->why, "%s holds no TCP conversation", g->label);
        return;
    }
    g->ans_index = -1;
    for (size_t i = 0; g->ans && i < nl_answers_count(g->ans); i++) {
        struct nl_answer A;
        if (nl_answers_get(g->ans, i, &A) == 0 && A.conversation == g->conv)
            g->ans_index = (int)i;
    }
    g->state = NL_GCAP_OK;
}

/* Analyse one capture held in memory and decide where it stands. 0, or NL_ENOMEM. */
static int open_gcap(const struct nl_rubric *r, struct nl_gcap *g, const uint8_t *p, size_t n)
{
    char eb[NL_ERRBUF_SIZE];
    if (n >= 4 && !has_capture_magic(p, n)) {
        g->state = NL_GCAP_UNREADABLE;
        snprintf(g->why, sizeof g->why, "%s is not a pcap or pcapng capture (it starts with %02x %02x %02x %02x)",
                 g->label, p[0], p[1], p[2], p[3]);
        return 0;
    }
    struct nl_analyze_opts o;
    memset(&o, 0, sizeof o);
    o.expect_lines = r->lines;
    o.keep_streams = 1;
    o.answers = g->res != NULL; /* the answer sheet from the same read */
    int rc = nl_analyze_mem(p, n, g->label, &o, &g->a, eb);
    if (rc == NL_ENOMEM)
        return rc;
    if (rc < 0) {
        g->state = NL_GCAP_UNREADABLE;
        snprintf(g->why, sizeof g->why, "%s cannot be read: %s", g->label, after_name(eb, g->label));
        return 0;
    }
    struct nl_summary s;
    nl_analysis_summary(g->a, &s);
    g->packets = s.packets;
    g->damaged = s.read_error != 0;
    if (s.packets == 0) {
        g->state = g->damaged ? NL_GCAP_UNREADABLE : NL_GCAP_EMPTY;
        if (g->damaged)
            snprintf(g->why, sizeof g->why, "%s cannot be read: %s", g->label, after_name(s.read_error_text, g->label));
        else
            snprintf(g->why, sizeof g->why, "%s holds no packets", g->label);
        return 0;
    }
    if (g->res) {
        g->res->format = s.format;
        g->res->packets = s.packets;
        if (!(g->res->answers = nl_analysis_take_answers(g->a)))
            return NL_ENOMEM;
        g->ans = g->res->answers;
    }
    choose(g);
    return 0;
}

/* ---- a submission's captures ---- */

/* A file name's words: letters lowercased, a letter run and the digits after it joined ("Part 1" -> "part1"). */
static void words_of(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c)) {
            out[k++] = (char)tolower(c);
            continue;
        }
        int joins = k && isalpha((unsigned char)out[k - 1]);
        size_t j = i;
        while (j < n && !isalnum((unsigned char)s[j]))
            j++;
        if (!(joins && j < n && isdigit((unsigned char)s[j]) && j - i <= 2) && k && out[k - 1] != ' ')
            out[k++] = ' ';
        i = j - 1;
    }
    out[k] = 0;
}

/* Whether the file's base name stands for part: one of its words is the part's name, or
 * begins with it followed by a letter ("part1", "Part-1", "part1_lo", "part1loopback"; not "part10"). */
static int names_part(const char *base, const char *part)
{
    const char *dot = strchr(base, '.');
    char w[512], pw[64];
    words_of(base, dot ? (size_t)(dot - base) : strlen(base), w, sizeof w);
    words_of(part, strlen(part), pw, sizeof pw);
    size_t pn = strlen(pw);
    for (char *t = strtok(w, " "); t && pn; t = strtok(NULL, " "))
        if (strncmp(t, pw, pn) == 0 && (t[pn] == 0 || isalpha((unsigned char)t[pn])))
            return 1;
    return 0;
}

/* Files of the submission that are captures, by name or by content. */
static size_t find_captures(struct nl_subfiles *s, size_t *idx)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (capture_name(s->f[i].base) ||
            (s->f[i].size >= 24 && nl_subfiles_read(s, i) == 0 && has_capture_magic(s->f[i].data, s->f[i].len)))
            idx[n++] = i;
    }
    return n;
}

/* Captures whose names match no required part, listed in out. Returns how many. */
static size_t unnamed(const struct nl_rubric *r, const struct nl_subfiles *s, const size_t *idx, size_t nc, char *out,
                      size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    for (size_t j = 0; j < nc; j++) {
        size_t k;
        for (k = 0; k < r->nparts && !names_part(s->f[idx[j]].base, r->parts[k].name); k++)
            ;
        if (k < r->nparts)
            continue;
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", n++ ? ", " : "", s->f[idx[j]].path);
    }
    return n;
}

static int add_cap(struct nl_sub_res *out, const char *part, const char *file, struct nl_gcap *g)
{
    struct nl_cap_res *c = &out->caps[out->ncaps++];
    memset(c, 0, sizeof *c);
    snprintf(c->part, sizeof c->part, "%s", part ? part : "");
    if (file && !(c->file = strdup(file)))
        return NL_ENOMEM;
    g->res = c;
    g->part = part;
    return 0;
}

/* Read and analyse the capture of file i for g. */
static int load_gcap(const struct nl_rubric *r, struct nl_subfiles *s, size_t i, struct nl_gcap *g)
{
    snprintf(g->label, sizeof g->label, "%s", s->f[i].path);
    if (nl_subfiles_read(s, i) < 0) {
        g->state = NL_GCAP_UNREADABLE;
        snprintf(g->why, sizeof g->why, "%s cannot be read: %.360s", g->label, s->f[i].error);
        return 0;
    }
    return open_gcap(r, g, s->f[i].data, s->f[i].len);
}

/* Parts no file name stands for, each needing a capture on loopback (or across hosts): when exactly one
 * such part and exactly one capture named for no part travelled that way, the capture is that part's. */
static int assign_by_where(const struct nl_rubric *r, struct nl_subfiles *s, struct nl_sub_res *out, struct nl_gcap *g,
                           const size_t *idx, size_t nc)
{
    struct nl_gcap *tmp = calloc(nc ? nc : 1, sizeof *tmp);
    struct nl_cap_res *res = calloc(nc ? nc : 1, sizeof *res);
    int rc = tmp && res ? 0 : NL_ENOMEM;
    int lo[2] = {0, 0}; /* unnamed captures across (0) and on loopback (1); the index of the last + 1 */
    size_t count[2] = {0, 0}, missing[2] = {0, 0}, part[2] = {0, 0};
    for (size_t k = 0; k < r->nparts; k++) {
        int w = r->parts[k].where;
        if (g[k].state == NL_GCAP_MISSING && w != NL_WHERE_ANY) {
            missing[w == NL_WHERE_LOOPBACK]++;
            part[w == NL_WHERE_LOOPBACK] = k;
        }
    }
    for (size_t j = 0; rc == 0 && (missing[0] || missing[1]) && j < nc; j++) {
        size_t k;
        for (k = 0; k < r->nparts && !names_part(s->f[idx[j]].base, r->parts[k].name); k++)
            ;
        if (k < r->nparts)
            continue;
        tmp[j].res = &res[j];
        if ((rc = load_gcap(r, s, idx[j], &tmp[j])) < 0 || tmp[j].state != NL_GCAP_OK)
            continue;
        char where[512];
        int on_lo = nl_gcap_loopback(&tmp[j], where, sizeof where);
        count[on_lo]++;
        lo[on_lo] = (int)j + 1;
    }
    for (int w = 0; w < 2 && rc == 0; w++) {
        if (missing[w] != 1 || count[w] != 1)
            continue;
        size_t j = (size_t)lo[w] - 1, k = part[w];
        struct nl_cap_res *dst = g[k].res;
        free(dst->file);
        *dst = res[j];
        snprintf(dst->part, sizeof dst->part, "%s", r->parts[k].name);
        if (!(dst->file = strdup(s->f[idx[j]].path)))
            rc = NL_ENOMEM;
        memset(&res[j], 0, sizeof res[j]);
        const char *part_name = g[k].part;
        g[k] = tmp[j];
        memset(&tmp[j], 0, sizeof tmp[j]);
        g[k].res = dst;
        g[k].part = part_name;
        snprintf(g[k].taken, sizeof g[k].taken, ", taken for %s: named for no part, it is the one capture %s",
                 part_name, w ? "on loopback" : "across hosts");
    }
    for (size_t j = 0; j < nc && tmp && res; j++) {
        nl_analysis_free(tmp[j].a);
        nl_answers_free(res[j].answers);
    }
    free(tmp);
    free(res);
    return rc;
}

/* One capture per required part (missing, ambiguous or found), or every capture found (at least one). */
static int gather(const struct nl_rubric *r, struct nl_subfiles *s, struct nl_sub_res *out, struct nl_gcap **gout,
                  size_t *ng)
{
    size_t *idx = malloc((s->n + 1) * sizeof *idx);
    size_t nc = idx ? find_captures(s, idx) : 0;
    size_t want = r->nparts ? r->nparts : NL_MAX(nc, (size_t)1);
    struct nl_gcap *g = calloc(want, sizeof *g);
    out->caps = calloc(want, sizeof *out->caps);
    int rc = idx && g && out->caps ? 0 : NL_ENOMEM;
    for (size_t k = 0; k < want && rc == 0; k++) {
        const char *part = r->nparts ? r->parts[k].name : NULL;
        size_t hits = 0, first = 0;
        char names[300] = "";
        for (size_t j = 0; j < nc; j++) {
            if (part && !names_part(s->f[idx[j]].base, part))
                continue;
            if (!part && j != k)
                continue;
            if (hits++ == 0)
                first = idx[j];
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", hits > 1 ? ", " : "",
                     s->f[idx[j]].path);
        }
        rc = add_cap(out, part, hits == 1 ? s->f[first].path : NULL, &g[k]);
        if (rc < 0)
            break;
        if (hits == 0) {
            g[k].state = NL_GCAP_MISSING;
            snprintf(g[k].label, sizeof g[k].label, "%s", part ? part : "the capture");
            char stray[300];
            if (part && unnamed(r, s, idx, nc, stray, sizeof stray))
                snprintf(g[k].why, sizeof g[k].why, "no capture file for %s (found, but named for no part: %s)", part,
                         stray);
            else if (part)
                snprintf(g[k].why, sizeof g[k].why, "no capture file for %s", part);
            else
                snprintf(g[k].why, sizeof g[k].why, "no capture file");
        } else if (hits > 1) {
            g[k].state = NL_GCAP_AMBIGUOUS;
            snprintf(g[k].label, sizeof g[k].label, "%s", part);
            snprintf(g[k].why, sizeof g[k].why, "%zu captures for %s: %s (keep one)", hits, part, names);
        } else {
            rc = load_gcap(r, s, first, &g[k]);
        }
    }
    if (rc == 0 && r->nparts)
        rc = assign_by_where(r, s, out, g, idx, nc);
    free(idx);
    *gout = g;
    *ng = g ? want : 0;
    return rc;
}

/* ---- the checks of a submission ---- */

static int prefix_all(struct nl_verdict *v, const char *label, int prefix, struct nl_verdict *into)
{
    for (size_t i = 0; i < v->ndetails; i++)
        if (nl_verdict_add(into, prefix ? nl_fmt("%s: %s", label, v->details[i]) : nl_fmt("%s", v->details[i])) < 0)
            return NL_ENOMEM;
    into->more += v->more;
    return 0;
}

/* One check over one capture. */
static int check_one(const struct nl_rubric *r, const struct nl_rubric_check *ck, struct nl_gcap *g,
                     struct nl_gcap *first, struct nl_verdict *v)
{
    switch (ck->kind) {
    case NL_CHECK_CAPTURE: return nl_check_capture(g, v);
    case NL_CHECK_PORT: return nl_check_port(r, g, first, v);
    case NL_CHECK_GREETING: return nl_check_greeting(r, g, v);
    case NL_CHECK_ECHO: return nl_check_echo(r, g, v);
    default: return nl_check_interface(ck->part >= 0 ? r->parts[ck->part].where : NL_WHERE_ANY, g, v);
    }
}

/* A check over every capture found: each capture's sentences, named by its file when there are several. */
static int check_all(const struct nl_rubric *r, const struct nl_rubric_check *ck, struct nl_gcap *g, size_t ng,
                     struct nl_verdict *v)
{
    struct nl_gcap *first = NULL;
    for (size_t k = 0; k < ng && !first; k++)
        if (g[k].state == NL_GCAP_OK)
            first = &g[k];
    if (ng == 1)
        return check_one(r, ck, &g[0], first, v);
    int rc = 0, all = 1;
    struct nl_verdict fails = {0}, passes = {0};
    for (size_t k = 0; k < ng && rc == 0; k++) {
        struct nl_verdict one = {0};
        rc = check_one(r, ck, &g[k], first, &one);
        all &= one.pass;
        if (rc == 0)
            rc = prefix_all(&one, g[k].label, ck->kind != NL_CHECK_CAPTURE, one.pass ? &passes : &fails);
        nl_verdict_free(&one);
    }
    struct nl_verdict *use = all ? &passes : &fails;
    if (rc == 0) {
        *v = *use;
        memset(use, 0, sizeof *use);
        v->pass = all;
        if (!all && v->ndetails + v->more > 1) {
            char *with = nl_fmt("%s (and %zu more)", v->details[0], v->ndetails + v->more - 1);
            free(v->reason);
            v->reason = with;
            rc = with ? 0 : NL_ENOMEM;
        } else if (all && v->ndetails > 1) {
            size_t len = 1;
            for (size_t i = 0; i < v->ndetails; i++)
                len += strlen(v->details[i]) + 2;
            char *joined = malloc(len);
            if (joined) {
                joined[0] = 0;
                for (size_t i = 0; i < v->ndetails; i++)
                    strcat(strcat(joined, i ? "; " : ""), v->details[i]);
            }
            free(v->reason);
            v->reason = joined;
            rc = joined ? 0 : NL_ENOMEM;
        }
    }
    nl_verdict_free(&fails);
    nl_verdict_free(&passes);
    return rc;
}

static const struct ref_cap *reference_for(const struct nl_class *cl, const char *part)
{
    const struct ref_cap *any = NULL;
    for (size_t i = 0; i < cl->nrefs; i++) {
        if (part && strcmp(cl->refs[i].part, part) == 0)
            return &cl->refs[i];
        if (!cl->refs[i].part[0])
            any = &cl->refs[i];
    }
    return any;
}

static int grade_files(struct nl_class *cl, struct nl_subfiles *s, struct nl_sub_res *out)
{
    const struct nl_rubric *r = cl->r;
    struct nl_gcap *g = NULL;
    size_t ng = 0;
    int rc = gather(r, s, out, &g, &ng);
    struct nl_gcap *first = NULL; /* "port = same": the port of the first capture graded */
    for (size_t k = 0; rc == 0 && k < ng && !first; k++)
        if (g[k].state == NL_GCAP_OK)
            first = &g[k];
    for (size_t k = 0; k < r->nchecks && rc == 0; k++) {
        const struct nl_rubric_check *ck = &r->checks[k];
        struct nl_verdict *v = &out->v[k];
        if (ck->kind == NL_CHECK_READABLE) {
            v->pass = 1;
            rc = nl_verdict_add(v, nl_fmt("a %s of %zu file%s", s->is_zip ? "zip" : "folder", s->n, s->n == 1 ? "" : "s"));
        } else if (ck->kind == NL_CHECK_OUTPUT)
            rc = nl_check_output(r, s, v);
        else if (ck->kind == NL_CHECK_FILES)
            rc = nl_check_files(r, s, v);
        else if (ck->part >= 0)
            rc = check_one(r, ck, &g[ck->part], first, v);
        else
            rc = check_all(r, ck, g, ng, v);
    }
    for (size_t k = 0; k < ng && rc == 0; k++) {
        const struct ref_cap *ref = reference_for(cl, g[k].part);
        if (ref && g[k].state == NL_GCAP_OK)
            rc = nl_grade_diff(&g[k], &ref->g, g[k].res);
    }
    for (size_t k = 0; k < ng; k++) {
        if (g[k].res && g[k].state != NL_GCAP_OK && g[k].state != NL_GCAP_MISSING && !g[k].res->error)
            g[k].res->error = strdup(g[k].why);
        if (g[k].res) {
            g[k].res->conv = g[k].state == NL_GCAP_OK ? g[k].conv : 0;
            nl_answers_release_capture(g[k].res->answers);
        }
        nl_analysis_free(g[k].a);
    }
    free(g);
    return rc;
}

static int grade_submission(struct nl_class *cl, const char *dir, const struct nl_class_entry *e, struct nl_sub_res *out)
{
    const struct nl_rubric *r = cl->r;
    out->is_zip = e->kind == NL_ENTRY_ZIP;
    out->v = calloc(r->nchecks ? r->nchecks : 1, sizeof *out->v);
    if (!(out->name = strdup(e->name)) || !out->v)
        return NL_ENOMEM;
    struct nl_subfiles s;
    int rc = nl_subfiles_open(&s, dir, e);
    out->nfiles = s.n;
    if (rc == 0 && s.refused[0]) {
        for (size_t k = 0; k < r->nchecks && rc == 0; k++)
            rc = nl_verdict_add(&out->v[k], r->checks[k].kind == NL_CHECK_READABLE
                                                ? nl_fmt("%s", s.refused)
                                                : nl_fmt("not graded: the submission could not be read"));
    } else if (rc == 0) {
        rc = grade_files(cl, &s, out);
    }
    nl_subfiles_close(&s);
    out->pass = 1;
    for (size_t k = 0; k < r->nchecks; k++) {
        out->max += r->checks[k].milli;
        if (out->v[k].pass)
            out->milli += r->checks[k].milli;
        out->pass &= out->v[k].pass;
    }
    return rc;
}

/* ---- the class ---- */

static int load_references(struct nl_class *cl, char *errbuf)
{
    const struct nl_rubric *r = cl->r;
    cl->refs = calloc(r->nrefs ? r->nrefs : 1, sizeof *cl->refs);
    if (!cl->refs)
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->nrefs; i++, cl->nrefs++) {
        struct ref_cap *rc_ = &cl->refs[i];
        snprintf(rc_->part, sizeof rc_->part, "%s", r->refs[i].part);
        int rc = nl_file_load(&rc_->file, r->refs[i].path, "the reference capture", "a capture file", 0, errbuf);
        if (rc < 0)
            return rc;
        struct nl_gcap *g = &rc_->g;
        snprintf(g->label, sizeof g->label, "%s", r->refs[i].path);
        g->res = &rc_->res;
        if ((rc = open_gcap(r, g, rc_->file.data, rc_->file.size)) < 0)
            return nl_err(errbuf, rc, "out of memory");
        if (g->state != NL_GCAP_OK)
            return nl_err(errbuf, NL_EMALFORMED, "reference %s", g->why);
    }
    return 0;
}

static int skip(struct nl_class *cl, const struct nl_class_entry *e)
{
    if (NL_GROW(cl->skipped, cl->nskipped, cl->capskipped, 8) < 0)
        return NL_ENOMEM;
    char shown[256];
    nl_text_sanitize((const uint8_t *)e->name, strlen(e->name), shown, sizeof shown);
    if (!(cl->skipped[cl->nskipped] = nl_fmt("%s: %s", shown, e->why)))
        return NL_ENOMEM;
    cl->nskipped++;
    return 0;
}

int nl_class_grade(const char *dir, const struct nl_rubric *r, struct nl_class **out, char *errbuf)
{
    *out = NULL;
    if (!r->finished)
        return nl_err(errbuf, NL_EINVAL, "the rubric is not finished (nl_rubric_finish)");
    struct nl_class *cl = calloc(1, sizeof *cl);
    if (!cl)
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    cl->r = r;
    struct nl_class_entry *es = NULL;
    size_t ne = 0;
    int rc = load_references(cl, errbuf);
    if (rc == 0)
        rc = nl_class_list(dir, &es, &ne, errbuf);
    if (rc == 0 && !(cl->subs = calloc(ne ? ne : 1, sizeof *cl->subs)))
        rc = nl_err(errbuf, NL_ENOMEM, "out of memory");
    for (size_t i = 0; i < ne && rc == 0; i++) {
        if (es[i].kind == NL_ENTRY_OTHER)
            rc = skip(cl, &es[i]);
        else if ((rc = grade_submission(cl, dir, &es[i], &cl->subs[cl->n++])) < 0)
            rc = nl_err(errbuf, rc, "%s: out of memory", es[i].name);
    }
    nl_class_list_free(es, ne);
    if (rc < 0) {
        nl_class_free(cl);
        return rc;
    }
    *out = cl;
    return 0;
}

static void cap_res_free(struct nl_cap_res *c)
{
    free(c->file);
    free(c->error);
    nl_answers_free(c->answers);
    for (size_t d = 0; d < c->ndiffs; d++)
        free(c->diffs[d].text);
    free(c->diffs);
}

void nl_class_free(struct nl_class *cl)
{
    if (!cl)
        return;
    for (size_t i = 0; i < cl->n; i++) {
        struct nl_sub_res *s = &cl->subs[i];
        for (size_t k = 0; s->v && k < cl->r->nchecks; k++)
            nl_verdict_free(&s->v[k]);
        free(s->v);
        for (size_t j = 0; j < s->ncaps; j++)
            cap_res_free(&s->caps[j]);
        free(s->caps);
        free(s->name);
    }
    free(cl->subs);
    for (size_t i = 0; i < cl->nskipped; i++)
        free(cl->skipped[i]);
    free(cl->skipped);
    for (size_t i = 0; i < cl->nrefs; i++) {
        nl_analysis_free(cl->refs[i].g.a);
        cap_res_free(&cl->refs[i].res);
        nl_file_release(&cl->refs[i].file);
    }
    free(cl->refs);
    free(cl);
}

/* ---- reading the results ---- */

size_t nl_class_count(const struct nl_class *c) { return c->n; }

int nl_class_submission(const struct nl_class *c, size_t i, struct nl_submission_result *o)
{
    if (i >= c->n)
        return NL_EINVAL;
    const struct nl_sub_res *s = &c->subs[i];
    memset(o, 0, sizeof *o);
    o->name = s->name;
    o->kind = s->is_zip ? "zip" : "folder";
    o->pass = s->pass;
    o->milli = s->milli;
    o->max_milli = s->max;
    o->files = s->nfiles;
    o->captures = s->ncaps;
    return 0;
}

int nl_class_check(const struct nl_class *c, size_t i, size_t k, struct nl_check_result *o)
{
    if (i >= c->n || k >= c->r->nchecks)
        return NL_EINVAL;
    const struct nl_verdict *v = &c->subs[i].v[k];
    memset(o, 0, sizeof *o);
    o->id = c->r->checks[k].id;
    o->pass = v->pass;
    o->max_milli = c->r->checks[k].milli;
    o->milli = v->pass ? o->max_milli : 0;
    o->reason = v->reason ? v->reason : "";
    o->details = v->ndetails;
    return 0;
}

const char *nl_class_check_detail(const struct nl_class *c, size_t i, size_t k, size_t j)
{
    if (i >= c->n || k >= c->r->nchecks || j >= c->subs[i].v[k].ndetails)
        return NULL;
    return c->subs[i].v[k].details[j];
}

size_t nl_class_capture_count(const struct nl_class *c, size_t i) { return i < c->n ? c->subs[i].ncaps : 0; }

int nl_class_capture(const struct nl_class *c, size_t i, size_t j, struct nl_graded_capture *o)
{
    if (i >= c->n || j >= c->subs[i].ncaps)
        return NL_EINVAL;
    const struct nl_cap_res *x = &c->subs[i].caps[j];
    memset(o, 0, sizeof *o);
    o->part = x->part;
    o->file = x->file;
    o->format = x->format;
    o->packets = x->packets;
    o->error = x->error;
    o->conversation = x->conv;
    o->answers = x->answers;
    o->has_reference = x->has_ref;
    o->differences = x->ndiffs;
    return 0;
}

int nl_class_difference(const struct nl_class *c, size_t i, size_t j, size_t k, struct nl_difference *o)
{
    if (i >= c->n || j >= c->subs[i].ncaps || k >= c->subs[i].caps[j].ndiffs)
        return NL_EINVAL;
    o->item = c->subs[i].caps[j].diffs[k].item;
    o->text = c->subs[i].caps[j].diffs[k].text;
    return 0;
}

size_t nl_class_skipped_count(const struct nl_class *c) { return c->nskipped; }

const char *nl_class_skipped(const struct nl_class *c, size_t k) { return k < c->nskipped ? c->skipped[k] : NULL; }
