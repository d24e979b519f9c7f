/*
 * nl_prove_tcpinfo.c - the kernel's TCP_INFO for one socket, read into a flat table of named
 * numbers (tcpi_state, tcpi_rto, tcpi_snd_cwnd, ...) so the runner can sample it at every line,
 * compare a getsockopt(TCP_INFO) expectation field by field and hand %{ }% code its values.
 * Owns the field names and where each sits in struct tcp_info; decides nothing about them.
 */
#include "nl_prove_tcpinfo.h"

#include <linux/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#ifndef SOL_TCP
#define SOL_TCP 6
#endif

/* Bit-fields (the window scales) have no offsetof: they are read by hand below. */
#define F(name) {#name, offsetof(struct tcp_info, name), sizeof(((struct tcp_info *)0)->name)}
static const struct { const char *name; size_t off, size; } fields[] = {
    F(tcpi_state), F(tcpi_ca_state), F(tcpi_retransmits), F(tcpi_probes), F(tcpi_backoff), F(tcpi_options),
    {"tcpi_snd_wscale", 6, 0}, {"tcpi_rcv_wscale", 6, 0},
    F(tcpi_rto), F(tcpi_ato), F(tcpi_snd_mss), F(tcpi_rcv_mss), F(tcpi_unacked), F(tcpi_sacked), F(tcpi_lost),
    F(tcpi_retrans), F(tcpi_fackets), F(tcpi_last_data_sent), F(tcpi_last_ack_sent), F(tcpi_last_data_recv),
    F(tcpi_last_ack_recv), F(tcpi_pmtu), F(tcpi_rcv_ssthresh), F(tcpi_rtt), F(tcpi_rttvar), F(tcpi_snd_ssthresh),
    F(tcpi_snd_cwnd), F(tcpi_advmss), F(tcpi_reordering), F(tcpi_rcv_rtt), F(tcpi_rcv_space), F(tcpi_total_retrans),
    F(tcpi_pacing_rate), F(tcpi_max_pacing_rate), F(tcpi_bytes_acked), F(tcpi_bytes_received), F(tcpi_segs_out),
    F(tcpi_segs_in), F(tcpi_notsent_bytes), F(tcpi_min_rtt), F(tcpi_data_segs_in), F(tcpi_data_segs_out),
    F(tcpi_delivery_rate), F(tcpi_busy_time), F(tcpi_rwnd_limited), F(tcpi_sndbuf_limited), F(tcpi_delivered),
    F(tcpi_delivered_ce), F(tcpi_bytes_sent), F(tcpi_bytes_retrans), F(tcpi_dsack_dups), F(tcpi_reord_seen),
    F(tcpi_rcv_ooopack), F(tcpi_snd_wnd),
};
#define NFIELDS (sizeof fields / sizeof fields[0])

int pv_tcpinfo_count(void) { return (int)NFIELDS; }
const char *pv_tcpinfo_name(int i) { return i >= 0 && i < (int)NFIELDS ? fields[i].name : ""; }

int pv_tcpinfo_index(const char *name)
{
    for (size_t i = 0; i < NFIELDS; i++)
        if (strcmp(fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

int pv_tcpinfo_sample(int fd, struct pv_tcpinfo *out)
{
    memset(out, 0, sizeof *out);
    unsigned char raw[sizeof(struct tcp_info)];
    memset(raw, 0, sizeof raw);
    socklen_t len = sizeof raw;
    if (fd < 0 || getsockopt(fd, SOL_TCP, TCP_INFO, raw, &len) != 0)
        return -1;
    for (size_t i = 0; i < NFIELDS && i < PV_TCPINFO_MAX; i++) {
        uint64_t v = 0;
        if (fields[i].size == 0) {
            v = strcmp(fields[i].name, "tcpi_snd_wscale") == 0 ? (raw[6] & 15) : (raw[6] >> 4);
        } else if (fields[i].off + fields[i].size <= len) {
            if (fields[i].size == 1) {
                v = raw[fields[i].off];
            } else if (fields[i].size == 4) {
                uint32_t x;
                memcpy(&x, raw + fields[i].off, 4);
                v = x;
            } else {
                memcpy(&v, raw + fields[i].off, 8);
            }
        }
        out->v[i] = v;
    }
    out->valid = 1;
    return 0;
}

uint64_t pv_tcpinfo_get(const struct pv_tcpinfo *t, const char *name)
{
    int i = pv_tcpinfo_index(name);
    return i < 0 ? 0 : t->v[i];
}

static const char *const states[] = {"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
                                     "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"};
const char *pv_tcp_state_name(unsigned s) { return s < sizeof states / sizeof states[0] ? states[s] : "?"; }

static const char *const ca_states[] = {"Open", "Disorder", "CWR", "Recovery", "Loss"};
const char *pv_ca_state_name(unsigned s) { return s < 5 ? ca_states[s] : "?"; }

int pv_tcpinfo_brief(const struct pv_tcpinfo *t, char *buf, size_t cap)
{
    if (!t->valid)
        return snprintf(buf, cap, "no connected socket yet");
    return snprintf(buf, cap,
                    "state %s, ca_state %s, cwnd %llu, ssthresh %llu, rto %llu us, rtt %llu us (var %llu), unacked %llu, "
                    "retransmits %llu (total %llu), backoff %llu",
                    pv_tcp_state_name((unsigned)pv_tcpinfo_get(t, "tcpi_state")),
                    pv_ca_state_name((unsigned)pv_tcpinfo_get(t, "tcpi_ca_state")),
                    (unsigned long long)pv_tcpinfo_get(t, "tcpi_snd_cwnd"),
                    (unsigned long long)pv_tcpinfo_get(t, "tcpi_snd_ssthresh"),
                    (unsigned long long)pv_tcpinfo_get(t, "tcpi_rto"), (unsigned long long)pv_tcpinfo_get(t, "tcpi_rtt"),
                    (unsigned long long)pv_tcpinfo_get(t, "tcpi_rttvar"),
                    (unsigned long long)pv_tcpinfo_get(t, "tcpi_unacked"),
                    (unsigned long long)pv_tcpinfo_get(t, "tcpi_retransmits"),
                    (unsigned long long)pv_tcpinfo_get(t, "tcpi_total_retrans"),
                    (unsigned long long)pv_tcpinfo_get(t, "tcpi_backoff"));
}
