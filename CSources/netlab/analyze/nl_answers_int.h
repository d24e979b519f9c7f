/*
 * nl_answers_int.h - the interfaces of the answer sheet (internal): what a conversation's
 * packets say about the interface they were captured on (nl_answers_if.c), shared with
 * nl_answers.c, which keeps them per conversation.
 */
#ifndef NL_ANSWERS_INT_H
#define NL_ANSWERS_INT_H

#include <stddef.h>
#include <stdint.h>
#include "netlab/nl_answers.h"
#include "netlab/nl_decode.h"
#include "netlab/nl_pcapr.h"

/* One interface a conversation's packets were captured on, keyed by what the file records. */
struct nl_ans_if {
    int linktype;
    uint32_t file_iface;          /* the capture file's interface */
    uint32_t ifindex;             /* SLL2's, when has_ifindex */
    uint16_t hatype;              /* SLL/SLL2's ARPHRD type */
    uint8_t has_ifindex, loopback;
    uint64_t packets;
};

/* Count the packet on its interface in ifs (n used, at most NL_ANSWERS_IFACE_CAP). 0. */
int nl_ans_if_note(struct nl_ans_if *ifs, size_t *n, const struct nl_decoded *d, const struct nl_frame *pkt);
/* The public answer for x: its kind and how the file shows it; fname/fdesc the file interface's
 * pcapng if_name/if_description (NULL when none). */
void nl_ans_if_describe(const struct nl_ans_if *x, const char *fname, const char *fdesc, struct nl_answer_iface *o);

#endif
