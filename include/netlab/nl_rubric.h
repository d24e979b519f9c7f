/*
 * nl_rubric.h - what `netlab grade` checks and what each check is worth: the
 * greeting text, the server port (a number, or the same in every capture), the
 * input lines and the transform the server applies, which captures must be
 * there and where each travelled (loopback, across hosts), the output file,
 * named files, points per check, reference captures.
 *
 * A rubric file holds one setting a line, KEY = VALUE (docs/grade.md):
 *
 *     # CS 352, project 1
 *     title     = CS 352 echo project
 *     greeting  = Welcome to CS 352!
 *     port      = 5000                 # or: same (every capture on one port)
 *     input     = in-proj.txt          # relative to the rubric file's folder
 *     transform = reverse-swapcase     # identity, upper, lower, swapcase, reverse
 *     require   = part1:loopback, part2:across
 *     output    = out-proj.txt         # must hold the transform of every input line
 *     files     = server.py, client.py # names or patterns (*, ?) that must be present
 *     reference = ref.pcap             # or reference.part1 = ..., per part
 *     points.echo = 4                  # per check id, or per kind for every part
 *
 * A line starting with '#' and an empty line say nothing; after an unquoted
 * value, whitespace then '#' starts a comment. A value in double quotes keeps
 * everything (escapes \" \\ \n \r \t). A key given twice in one file, an unknown
 * key or a bad value is an error naming the file and line. Options
 * (nl_rubric_set) replace what the file said.
 */
#ifndef NL_RUBRIC_H
#define NL_RUBRIC_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NL_RUBRIC_MAX_BYTES (1u << 20)   /* a rubric file */
#define NL_RUBRIC_MAX_LINE 4096u         /* one line of it */
#define NL_RUBRIC_MAX_PARTS 16u
#define NL_RUBRIC_MAX_FILES 64u
#define NL_RUBRIC_MAX_CHECKS 128u
#define NL_RUBRIC_MAX_POINTS 1000000u    /* points of one check */

/* Where a required capture must have travelled. */
enum nl_where { NL_WHERE_ANY = 0, NL_WHERE_LOOPBACK = 1, NL_WHERE_ACROSS = 2 };

/* port: none, a number, or the same in every capture of a submission. */
#define NL_RUBRIC_PORT_NONE 0
#define NL_RUBRIC_PORT_SAME (-1)

struct nl_rubric; /* opaque */

NL_API int nl_rubric_new(struct nl_rubric **out, char *errbuf);
NL_API void nl_rubric_free(struct nl_rubric *r);

/**
 * Read settings from a rubric's text (name: for errors and the folder relative
 * paths start from, "" for the current one). Returns 0, or NL_EMALFORMED /
 * NL_EINVAL / NL_ELIMIT with "NAME:LINE: what" in errbuf.
 */
NL_API int nl_rubric_parse(struct nl_rubric *r, const void *buf, size_t len, const char *name, char *errbuf);
/** nl_rubric_parse over the file at path (at most NL_RUBRIC_MAX_BYTES). */
NL_API int nl_rubric_load(struct nl_rubric *r, const char *path, char *errbuf);

/** One setting from a command-line option (key as in the file; paths from the current folder). */
NL_API int nl_rubric_set(struct nl_rubric *r, const char *key, const char *value, char *errbuf);

/**
 * Check the settings together, decide the checks and their points, and read
 * the input file. Returns 0, NL_EINVAL (settings that do not fit: errbuf says
 * which, with its line), or the input file's error. After it, the rubric is
 * read-only and may be shared.
 */
NL_API int nl_rubric_finish(struct nl_rubric *r, char *errbuf);

struct nl_rubric_info {
    const char *title;            /* "" when not set */
    const uint8_t *greeting;      /* NULL: not checked */
    size_t greeting_len;
    int port;                     /* NL_RUBRIC_PORT_NONE, _SAME, or 1..65535 */
    const char *input;            /* path, or NULL */
    int transform;                /* enum nl_transform */
    const char *output;           /* file name, or NULL */
    size_t parts;                 /* required captures (0: every capture found is graded) */
    size_t files;                 /* required file names or patterns */
    size_t references;
    size_t input_lines;           /* after nl_rubric_finish */
};
NL_API void nl_rubric_info(const struct nl_rubric *r, struct nl_rubric_info *out);
/** Required capture i: its name, and where it must have travelled (enum nl_where). NULL past the end. */
NL_API const char *nl_rubric_part(const struct nl_rubric *r, size_t i, int *where);
/** Required file i (a name or a pattern). NULL past the end. */
NL_API const char *nl_rubric_file(const struct nl_rubric *r, size_t i);
/** Reference i: its capture path, and the part it is for ("" for every capture). NULL past the end. */
NL_API const char *nl_rubric_reference(const struct nl_rubric *r, size_t i, const char **part);

/** The checks (after nl_rubric_finish), in the order of a gradebook's columns. */
NL_API size_t nl_rubric_check_count(const struct nl_rubric *r);
/** Check i: its id ("readable", "part1.echo", "output", ...) and its points in thousandths. NULL past the end. */
NL_API const char *nl_rubric_check(const struct nl_rubric *r, size_t i, uint32_t *milli_points);

#ifdef __cplusplus
}
#endif
#endif
