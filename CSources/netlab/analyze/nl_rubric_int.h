/*
 * nl_rubric_int.h - the rubric as the grader reads it (internal; nl_rubric.c
 * fills it, nl_classgrade.c reads it after nl_rubric_finish).
 */
#ifndef NL_RUBRIC_INT_H
#define NL_RUBRIC_INT_H

#include "netlab/nl_csv.h"
#include "netlab/nl_rubric.h"

#include <stddef.h>
#include <stdint.h>

/* What a check looks at. */
enum nl_check_kind {
    NL_CHECK_READABLE = 0, /* the folder or zip could be read */
    NL_CHECK_CAPTURE,      /* the capture is there and reads whole */
    NL_CHECK_PORT,
    NL_CHECK_GREETING,
    NL_CHECK_ECHO,         /* every line and its transform, in stream order, nothing else */
    NL_CHECK_INTERFACE,    /* loopback or across hosts */
    NL_CHECK_OUTPUT,       /* the output file holds the transform of every line */
    NL_CHECK_FILES,        /* named files present */
    NL_CHECK_KINDS
};

struct nl_rubric_check {
    char id[48];           /* "readable", "part1.echo", "echo" (every capture), "output" */
    int kind;              /* enum nl_check_kind */
    int part;              /* index into parts, or -1 (no part, or every capture) */
    uint32_t milli;        /* points in thousandths */
};

struct nl_rubric_part {
    char name[32];
    int where;             /* enum nl_where */
};

struct nl_rubric_ref {
    char part[32];         /* "" for every capture */
    char *path;
};

/* A setting's value and where it was given (a file line, or an option: line 0). */
struct nl_rubric_src {
    int set;
    char file[256];
    unsigned line;
};

struct nl_rubric_points {
    char key[64];          /* what follows "points." */
    uint32_t milli;
    struct nl_rubric_src src;
};

struct nl_rubric {
    char *title;
    uint8_t *greeting;
    size_t greeting_len;
    int port;
    char *input;           /* path as resolved */
    int transform;
    char *output;
    struct nl_rubric_part parts[NL_RUBRIC_MAX_PARTS];
    size_t nparts;
    char *files[NL_RUBRIC_MAX_FILES];
    size_t nfiles;
    struct nl_rubric_ref refs[NL_RUBRIC_MAX_PARTS + 1];
    size_t nrefs;
    struct nl_rubric_points points[NL_RUBRIC_MAX_CHECKS];
    size_t npoints;
    struct nl_rubric_src src_greeting, src_port, src_input, src_transform, src_require, src_output, src_files,
        src_title;
    /* after nl_rubric_finish */
    int finished;
    struct nl_rubric_check checks[NL_RUBRIC_MAX_CHECKS];
    size_t nchecks;
    struct nl_messages *lines;   /* echo grading's expectations: line k + LF at 2k, its transform + LF at 2k + 1
                                    (NULL without input) */
};

#endif
