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
};

/**
 * Messages are grouped as the injector groups them into connections (one per
 * app_protocol and pair of apps); each group is matched against the
 * conversation and orientation where most of its messages are found. Returns 0
 * or NL_ENOMEM; *out (one record per message, CSV order) is freed by the caller.
 */
int nl_expect_run(const struct nl_messages *ms, const struct nl_expect_conv *convs, size_t nconvs,
                  struct nl_expect_rec **out, size_t *nout);

#endif
