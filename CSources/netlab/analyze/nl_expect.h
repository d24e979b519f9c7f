/*
 * nl_expect.h - --expect (internal): the messages of a CSV looked for, intact
 * and in order, in the reassembled payload streams of the conversations.
 */
#ifndef NL_EXPECT_H
#define NL_EXPECT_H

#include <stddef.h>
#include <stdint.h>
#include "netlab/nl_analyze.h"
#include "netlab/nl_csv.h"
#include "nl_reasm.h"

struct nl_expect_conv {
    uint32_t id;
    const struct nl_stream_store *c2s, *s2c;
};

struct nl_expect_rec {
    struct nl_expect_result pub;  /* pub.detail points nowhere: use detail */
    char detail[320];
    size_t span;                  /* stream bytes it takes: a CR before the LF, a whole altered line */
    int cause;                    /* out of order because it left before the line it answers arrived */
};

/* Payload bytes of a matched stream that no expected message accounts for. */
struct nl_unexpected_rec {
    struct nl_unexpected pub;     /* pub.data points into preview */
    uint8_t preview[64];
};

/**
 * Messages are grouped as the injector groups them into connections (one per
 * app_protocol and pair of apps); each group is matched against the
 * conversation and orientation where most of its messages are found. Order is
 * each direction's stream order. lines: the messages are echo grading's (line k
 * and its echo at 2k and 2k + 1, each text + LF): a line matches at a line start
 * and ends in LF, CRLF or the stream's end; where a line belongs, another line is
 * "altered" unless it is a later message; an echo that left before its line had
 * arrived is out of order. Returns 0 or NL_ENOMEM; *out (one record per message,
 * CSV order) is freed by the caller.
 */
int nl_expect_run(const struct nl_messages *ms, const struct nl_expect_conv *convs, size_t nconvs, int lines,
                  struct nl_expect_rec **out, size_t *nout);

/**
 * After nl_expect_run: the bytes of each stream a group was matched to (only the
 * directions it expects messages in) that no found, out-of-order or altered
 * message covers, line terminators alone excepted. With echo, what the server
 * sent before the first expected reply is its greeting (kind "greeting", no
 * failure). Returns 0 or NL_ENOMEM; *out is freed by the caller.
 */
int nl_expect_unexpected(const struct nl_expect_rec *recs, size_t nrecs, const struct nl_expect_conv *convs,
                         size_t nconvs, int echo, struct nl_unexpected_rec **out, size_t *nout);

#endif
