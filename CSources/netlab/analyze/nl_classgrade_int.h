/*
 * nl_classgrade_int.h - what the files of class grading share (internal):
 * nl_classgrade.c (the class, its submissions, their captures), nl_gradecheck.c
 * (each check decided and worded) and nl_gradediff.c (a capture's meaning and
 * its differences from a reference).
 */
#ifndef NL_CLASSGRADE_INT_H
#define NL_CLASSGRADE_INT_H

#include "netlab/nl_analyze.h"
#include "netlab/nl_answers.h"
#include "netlab/nl_classgrade.h"
#include "nl_internal.h"
#include "nl_rubric_int.h"
#include "nl_submission.h"

#include <stddef.h>
#include <stdint.h>

/* One check's outcome: a verdict, its sentence, and every sentence behind it. */
struct nl_verdict {
    int pass;
    char *reason;
    char **details;
    size_t ndetails, capdetails, more; /* more: sentences beyond NL_CLASS_MAX_DETAILS */
};

struct nl_diff_rec {
    const char *item;
    char *text;
};

struct nl_cap_res {
    char part[32];
    char *file;
    const char *format;
    uint64_t packets;
    char *error;
    uint32_t conv;
    struct nl_answers *answers;
    int has_ref;
    struct nl_diff_rec *diffs;
    size_t ndiffs, capdiffs;
};

/* Where a capture stands before its checks. */
enum nl_gcap_state {
    NL_GCAP_MISSING = 0, /* no file for the part (or none at all) */
    NL_GCAP_AMBIGUOUS,   /* several files for the part */
    NL_GCAP_UNREADABLE,  /* not a capture, or unreadable */
    NL_GCAP_EMPTY,       /* no packets */
    NL_GCAP_NO_TCP,      /* no TCP conversation */
    NL_GCAP_OK           /* a conversation to grade (the file may be damaged part-way: see damaged) */
};

/* One capture being graded. */
struct nl_gcap {
    int state;
    const char *part;            /* the required part's name, or NULL */
    char label[128];             /* how sentences name it: its file name, or "part1" when missing */
    char why[NL_ERRBUF_SIZE];    /* NL_GCAP_MISSING..NO_TCP: the capture check's sentence */
    char taken[128];             /* why a capture named for no part was taken for this one, or "" */
    int damaged;                 /* read up to damage after `packets` packets */
    uint64_t packets;
    struct nl_analysis *a;
    const struct nl_answers *ans;
    uint32_t conv;               /* graded conversation (state OK) */
    struct nl_conversation c;
    int ans_index;               /* its index in ans, -1 when not answered */
    struct nl_cap_res *res;
};

/* The greeting and lines of a graded conversation, as the grader and the reference see them. */
struct nl_line {
    const uint8_t *p;
    size_t n;                    /* without its line end */
    uint64_t packet;
};

/* nl_gradecheck.c */
char *nl_fmt(const char *fmt, ...) NL_PRINTF(1, 2);
/* 'text' escaped for one line and cut at max characters (with the quotes). */
void nl_quote(char *out, size_t cap, const uint8_t *p, size_t n, size_t max);
int nl_verdict_add(struct nl_verdict *v, char *sentence); /* takes sentence; NL_ENOMEM */
void nl_verdict_free(struct nl_verdict *v);
int nl_check_capture(const struct nl_gcap *g, struct nl_verdict *v);
int nl_check_port(const struct nl_rubric *r, const struct nl_gcap *g, const struct nl_gcap *first, struct nl_verdict *v);
int nl_check_greeting(const struct nl_rubric *r, const struct nl_gcap *g, struct nl_verdict *v);
int nl_check_echo(const struct nl_rubric *r, const struct nl_gcap *g, struct nl_verdict *v);
int nl_check_interface(int where, const struct nl_gcap *g, struct nl_verdict *v);
int nl_check_output(const struct nl_rubric *r, struct nl_subfiles *s, struct nl_verdict *v);
int nl_check_files(const struct nl_rubric *r, const struct nl_subfiles *s, struct nl_verdict *v);
/* The greeting of g's conversation: 1 and its line, 0 when the server did not greet. */
int nl_gcap_greeting(const struct nl_gcap *g, struct nl_line *out);
/* How the conversation travelled: 1 loopback, 0 not; where: "A to B on ifindex 2". */
int nl_gcap_loopback(const struct nl_gcap *g, char *where, size_t cap);

/* nl_gradediff.c: the differences of g from the reference ref (both graded). */
int nl_grade_diff(const struct nl_gcap *g, const struct nl_gcap *ref, struct nl_cap_res *out);

#endif
