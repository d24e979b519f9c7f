/*
 * nl_wscale.h - the window scale of one TCP connection as the packets captured
 * so far show it (internal): for explaining a single packet's Window field
 * without a whole analysis. Implemented in nl_tcpanalysis.c, with the same SYN
 * rule the analysis applies (RFC 7323 2.2: both SYNs carry the option or no
 * window is scaled), so the two never disagree.
 */
#ifndef NL_WSCALE_H
#define NL_WSCALE_H

#include <stdint.h>
#include "netlab/nl_decode.h"
#include "netlab/nl_explain.h"

struct nl_wscale {
    int8_t shift[2];          /* per direction: -1 unknown, -2 not used, else the shift */
    uint64_t syn_pkt[2];      /* the frame of each side's SYN / SYN-ACK, 0 before */
    uint64_t refused_pkt;     /* the SYN that carried no option, 0 if none */
};

void nl_wscale_init(struct nl_wscale *w);
/** Note a TCP segment of the connection sent by side dir (frame pkt): only SYNs change it.
 *  A SYN without ACK from a side that already sent one starts the connection over. */
void nl_wscale_note(struct nl_wscale *w, int dir, const struct nl_decoded *d, uint64_t pkt);
/** Fill ctx's scale fields for a packet sent by side dir. */
void nl_wscale_explain(const struct nl_wscale *w, int dir, struct nl_explain_ctx *ctx);

#endif
