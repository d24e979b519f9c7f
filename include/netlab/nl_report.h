/*
 * nl_report.h - one capture as `netlab report` shows it, from one read of the
 * file: the file is loaded once (mapped), and everything the report shows comes
 * from that one copy: one analysis with its per-segment rows (nl_analyze.h), the
 * flow graph laid out from it (nl_flowgraph.h), the answer sheet (nl_answers.h)
 * and the packet the report takes apart. It also decides which conversations
 * are drawn (the ones that matter: the most bytes, the most loss) and which are
 * only listed in a table, so a capture of thousands of conversations makes a
 * report of a few pages in time linear in its size.
 */
#ifndef NL_REPORT_H
#define NL_REPORT_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Up to this many TCP conversations, every one is drawn. */
#define NL_REPORT_DRAW_ALL 4u
/** Past it: the conversations with the most bytes (frames, both ways) drawn... */
#define NL_REPORT_DRAW_BYTES 3u
/** ...and the ones with the most loss (retransmitted segments), when they lost any. */
#define NL_REPORT_DRAW_LOSS 3u
/** Conversations listed in the report's table (the count is whole). */
#define NL_REPORT_TABLE_CAP 300u

/* Why a conversation is drawn (bits; 0: listed in the table only). */
#define NL_REPORT_DRAWN_ALL 1u    /* the capture has at most NL_REPORT_DRAW_ALL TCP conversations */
#define NL_REPORT_DRAWN_BYTES 2u  /* among the NL_REPORT_DRAW_BYTES with the most bytes */
#define NL_REPORT_DRAWN_LOSS 4u   /* among the NL_REPORT_DRAW_LOSS with the most retransmissions */

struct nl_report_capture; /* opaque */
struct nl_analysis;
struct nl_flowgraph;
struct nl_answers;

/**
 * Load the capture at path once and make everything the report shows of it;
 * max_rows caps the flow-graph rows kept per conversation (0: 1000). Returns 0
 * and *out, or a negative NL_E* code when the file cannot be read at all (errbuf
 * names it). A file damaged part-way is reported up to the damage.
 */
NL_API int nl_report_capture_open(const char *path, size_t max_rows, struct nl_report_capture **out, char *errbuf);
NL_API void nl_report_capture_free(struct nl_report_capture *c);

/** Its views, owned by c (valid until nl_report_capture_free). */
NL_API const struct nl_analysis *nl_report_capture_analysis(const struct nl_report_capture *c);
NL_API const struct nl_flowgraph *nl_report_capture_flowgraph(const struct nl_report_capture *c);
NL_API const struct nl_answers *nl_report_capture_answers(const struct nl_report_capture *c);

/** Why flow-graph conversation i is drawn (NL_REPORT_DRAWN_* bits), 0 when it is only listed. */
NL_API unsigned nl_report_capture_drawn(const struct nl_report_capture *c, size_t i);

/* ---- the assignment's questions (netlab report --questions FILE) ----
 *
 * A text file, one question a line, so that page 1 of the report answers the assignment's
 * questions by its own numbers (docs/report.md; samples/cs352-questions.txt):
 *
 *   # a comment; blank lines are skipped
 *   [Part A: the echo on one host and across two]     a section heading
 *   1  transport  What transport protocol do the client and server use?
 *
 * NUMBER is the assignment's own label (any word: 1, 7, 9b); KEY names the answer-sheet
 * answer that answers it (NL_REPORT_QUESTION_KEYS), or several as KEY,KEY; the rest is the question as the
 * assignment words it (may be empty). Lines up to 1,000 bytes, 200 questions; UTF-8. */

/** The answer-sheet answers a question may name. */
#define NL_REPORT_QUESTION_KEYS "transport", "interface", "server", "server-port", "client-port", "greeting", \
    "message", "field", "reply", "bytes-c2s", "bytes-s2c", "largest", "users"
#define NL_REPORT_QUESTION_MAX 200u

struct nl_report_question {
    const char *section;  /* the heading it comes under, or "" */
    const char *number;   /* the assignment's label */
    const char *key;      /* one of NL_REPORT_QUESTION_KEYS, or several joined by ',' */
    const char *text;     /* the question, or "" */
};

struct nl_report_questions; /* opaque */

/** Read a questions file. Errors name FILE:LINE and what is wrong (NL_EMALFORMED, NL_ELIMIT, NL_ESYS). */
NL_API int nl_report_questions_load(const char *path, struct nl_report_questions **out, char *errbuf);
/** As nl_report_questions_load over len bytes in memory, named name in errors. */
NL_API int nl_report_questions_parse(const void *buf, size_t len, const char *name, struct nl_report_questions **out,
                                     char *errbuf);
NL_API size_t nl_report_questions_count(const struct nl_report_questions *q);
/** The i-th question (valid until freed); 0 or NL_EINVAL. */
NL_API int nl_report_questions_get(const struct nl_report_questions *q, size_t i, struct nl_report_question *out);
NL_API void nl_report_questions_free(struct nl_report_questions *q);

/* ---- where the report goes ---- */

struct nl_report_output {
    char dir[4096];   /* the folder the files go in (it exists and can be written when the check passes) */
    char stem[256];   /* their name: "report" (report.html, report.md, report.pdf, report-files/) or NAME of NAME.pdf */
};

/**
 * Check `out` (netlab report --out) before anything is read, and say where the files go:
 * a name ending in ".pdf" that is not a folder is the PDF itself (NAME.html, NAME.md and
 * NAME-files/ beside it; its folder must exist); anything else is a folder, made when
 * missing. Refused, with a message naming the path and what to give instead (NL_EINVAL,
 * NL_EPERM, NL_ENOTFOUND, NL_ESYS): an existing file or device given as the folder (/dev/null
 * included), a folder that cannot be written (tested by making a file in it), and an output
 * file (html, md, and pdf when pdf is set) that exists and is not a regular file (a FIFO
 * named report.pdf is never replaced nor written through).
 */
NL_API int nl_report_output_check(const char *out, int pdf, struct nl_report_output *o, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
