/*
 * nl_prove_tcpinfo.h - the kernel's TCP_INFO as named numbers (nl_prove_tcpinfo.c). Kept apart
 * from nl_prove_int.h because <linux/tcp.h> and <netinet/tcp.h> cannot meet in one file.
 */
#ifndef NL_PROVE_TCPINFO_H
#define NL_PROVE_TCPINFO_H

#include <stddef.h>
#include <stdint.h>

#define PV_TCPINFO_MAX 64
struct pv_tcpinfo {
    int valid;                    /* 0: no socket to ask, or the kernel refused */
    uint64_t v[PV_TCPINFO_MAX];   /* in the order of pv_tcpinfo_name */
};
int pv_tcpinfo_sample(int fd, struct pv_tcpinfo *out);
int pv_tcpinfo_count(void);
const char *pv_tcpinfo_name(int i);
int pv_tcpinfo_index(const char *name);   /* -1 if no such field */
uint64_t pv_tcpinfo_get(const struct pv_tcpinfo *t, const char *name);
const char *pv_tcp_state_name(unsigned s);
const char *pv_ca_state_name(unsigned s);
/* One line for people: state, cwnd, ssthresh, rto, rtt, unacked, retransmits. */
int pv_tcpinfo_brief(const struct pv_tcpinfo *t, char *buf, size_t cap);

#endif
