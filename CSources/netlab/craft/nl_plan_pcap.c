/*
 * nl_plan_pcap.c - a plan written out as a capture file: every packet through
 * the pcap writer (nl_pcapw.c), LINKTYPE_RAW, all or nothing. The writer knows
 * nothing of plans; this file is the only place where the two meet.
 */
#include "netlab/nl_craft.h"
#include "netlab/nl_pcapw.h"
#include "netlab/nl_signal.h"
#include "nl_internal.h"

int nl_pcap_write_plan(const struct nl_plan *p, const char *path, char *errbuf)
{
    struct nl_pcapw *w;
    int rc = nl_pcapw_open(&w, path, NL_LINKTYPE_RAW, 65535, 0, errbuf);
    if (rc < 0)
        return rc;
    size_t n = nl_plan_packet_count(p);
    for (size_t i = 0; i < n; i++) {
        if (*nl_stop_flag()) {
            nl_pcapw_abort(w);
            return nl_err(errbuf, NL_EINTR, "%s: interrupted; no file written", path);
        }
        const struct nl_pkt *k = nl_plan_packet(p, i);
        rc = nl_pcapw_write(w, k->time_ns, k->bytes, k->len, k->len, errbuf);
        if (rc < 0) {
            nl_pcapw_abort(w);
            return rc;
        }
    }
    return nl_pcapw_commit(w, errbuf);
}
