/*
 * nl_readahead.h - the analysis' packet source (internal): packets read and
 * decoded ahead of the loop that accounts them, on a thread of their own when a
 * second CPU is there (nl_readahead.c).
 */
#ifndef NL_READAHEAD_H
#define NL_READAHEAD_H

#include <stdint.h>
#include "netlab/nl_decode.h"
#include "netlab/nl_pcapr.h"

/* One packet, read and decoded. */
struct nl_ahead {
    struct nl_frame pkt;
    struct nl_decoded d;      /* valid when decoded */
    uint32_t hash;            /* the conversation key's hash (nl_flow_hash), when keyed */
    uint32_t flow;            /* the accounting loop's guess of its flow (index + 1; 0 none) */
    uint8_t decoded;          /* the link type is one netlab decodes */
    uint8_t keyed;            /* TCP or UDP over IP: hash and dir are valid */
    uint8_t dir;              /* its direction in the conversation's key (nl_flow_hash) */
};

struct nl_readahead;

/* Start reading rd (which stays the caller's). Out of memory is the only error. */
int nl_readahead_open(struct nl_readahead **out, struct nl_pcapr *rd, char *errbuf);
/* The next block of packets, in file order: *n >= 1 of them, valid until the next call
 * (the caller may set their flow field). NULL at the end, with *rc 0, or the reader's
 * error (< 0, its text in errbuf) when the capture is damaged after the packets returned. */
struct nl_ahead *nl_readahead_block(struct nl_readahead *ra, uint32_t *n, int *rc, char *errbuf);
/* Stop the thread (if any) and free everything. */
void nl_readahead_close(struct nl_readahead *ra);

#endif
