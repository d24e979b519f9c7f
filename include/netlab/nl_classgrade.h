/*
 * nl_classgrade.h - grading a class (netlab grade): a folder holding one folder
 * or one .zip per submission, each graded against a rubric (nl_rubric.h), with
 * a verdict and a reason in words for every check.
 *
 * The rules (docs/grade.md):
 * - a submission's captures are its files in pcap or pcapng (by content, or named
 *   .pcap/.pcapng/.cap); with required captures (require = part1, ...) each is the
 *   one capture whose file name (letters and digits, any case) begins with the
 *   part's name, not followed by a digit: "Part-1.pcapng" is part1, "part10" is not.
 *   Without, every capture found is graded and at least one must be there.
 * - each capture is analysed once (nl_analyze, nl_answers); the conversation graded
 *   is the one carrying the input's lines (else the TCP conversation with the most
 *   payload). Lines and echoes are graded in each direction's byte stream: how the
 *   bytes were cut into segments, copied, retransmitted or timed plays no part.
 * - greeting: the server's greeting as the answer sheet decides it (sent before the
 *   client's bytes reached the server, or late but not a reply), its text the first
 *   line of the server's stream, compared without its line end.
 * - interface: loopback when an interface the conversation used is a loopback one, or
 *   its addresses are loopback or the same address; across hosts otherwise.
 * - the output file: its lines (LF or CRLF) equal the transform of each input line.
 * - a reference capture is compared by meaning: port, greeting, lines each way,
 *   interface and how the connection began and ended, never bytes, sequence
 *   numbers, client ports, IP identifications, timing, checksums or duplicates.
 */
#ifndef NL_CLASSGRADE_H
#define NL_CLASSGRADE_H

#include "nl_api.h"
#include "nl_rubric.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Sentences listed per check (the count beyond is said in the last one). */
#define NL_CLASS_MAX_DETAILS 50u
/** Differences from the reference listed per capture. */
#define NL_CLASS_MAX_DIFFERENCES 50u

struct nl_class;   /* opaque */
struct nl_answers; /* nl_answers.h */

/**
 * Grade every submission in dir against r (finished). Returns 0 whatever the
 * grades, or a negative code when grading could not run: the class folder cannot
 * be read (NL_ESYS/NL_ENOTFOUND), a reference capture cannot be read, NL_ENOMEM.
 */
NL_API int nl_class_grade(const char *dir, const struct nl_rubric *r, struct nl_class **out, char *errbuf);
NL_API void nl_class_free(struct nl_class *c);

/** Submissions graded, in order of name. */
NL_API size_t nl_class_count(const struct nl_class *c);

struct nl_submission_result {
    const char *name;             /* the folder or zip name, as in the class folder */
    const char *kind;             /* "folder" or "zip" */
    int pass;                     /* every check passed */
    uint32_t milli, max_milli;    /* points earned and possible, in thousandths */
    size_t files;                 /* files read from it */
    size_t captures;
};
NL_API int nl_class_submission(const struct nl_class *c, size_t i, struct nl_submission_result *out);

struct nl_check_result {
    const char *id;               /* as nl_rubric_check names it */
    int pass;
    uint32_t milli, max_milli;
    const char *reason;           /* one sentence */
    size_t details;               /* every sentence (failures first-to-last), up to NL_CLASS_MAX_DETAILS */
};
/** Submission i's check k (the rubric's order). Returns 0 or NL_EINVAL. */
NL_API int nl_class_check(const struct nl_class *c, size_t i, size_t k, struct nl_check_result *out);
NL_API const char *nl_class_check_detail(const struct nl_class *c, size_t i, size_t k, size_t j);

struct nl_graded_capture {
    const char *part;             /* the required capture it is, or "" (every capture graded) */
    const char *file;             /* its path inside the submission */
    const char *format;           /* "pcap", "pcapng", or NULL when it could not be read */
    uint64_t packets;
    const char *error;            /* why it could not be read whole, or NULL */
    uint32_t conversation;        /* the conversation graded, 0 when none */
    const struct nl_answers *answers; /* its answer sheet (owned by the class), or NULL */
    int has_reference;
    size_t differences;           /* from the reference, up to NL_CLASS_MAX_DIFFERENCES */
};
NL_API size_t nl_class_capture_count(const struct nl_class *c, size_t i);
NL_API int nl_class_capture(const struct nl_class *c, size_t i, size_t j, struct nl_graded_capture *out);

struct nl_difference {
    const char *item;             /* "port", "greeting", "echo", "interface", "connection" */
    const char *text;             /* "greeting: yours 'Hello', the reference's 'Welcome to CS 352!'" */
};
NL_API int nl_class_difference(const struct nl_class *c, size_t i, size_t j, size_t k, struct nl_difference *out);

/** Entries of the class folder that are not submissions, each "NAME: why". */
NL_API size_t nl_class_skipped_count(const struct nl_class *c);
NL_API const char *nl_class_skipped(const struct nl_class *c, size_t k);

#ifdef __cplusplus
}
#endif
#endif
