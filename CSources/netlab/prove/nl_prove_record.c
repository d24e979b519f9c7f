/*
 * nl_prove_record.c - what a run leaves to look at afterwards: every packet injected or sent on
 * tun0 kept in memory (bounded) and written as pcapng with a comment naming the script line that
 * sent or expected it, and the TCP_INFO timeline (one CSV row per line: cwnd, ssthresh, rto, rtt,
 * unacked, retransmits, ...). Owns file names under the output folder; judges nothing.
 */
#include "nl_prove_int.h"
#include "nl_internal.h"
#include "netlab/nl_pcapw.h"
#include "netlab/nl_link.h"
#include "netlab/nl_checksum.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_PACKETS 100000
#define MAX_BYTES (64u << 20)   /* beyond it packets keep their first 128 bytes */

int pv_record_packet(struct pv_run *r, char dir, int ev, int64_t t_ns, const uint8_t *p, size_t n)
{
    if (r->npk >= MAX_PACKETS)
        return NL_ELIMIT;
    if (NL_GROW(r->pk, r->npk, r->cappk, 256) < 0)
        return NL_ENOMEM;
    size_t keep = n;
    if (r->pk_bytes + n > MAX_BYTES)
        keep = n < 128 ? n : 128;
    struct pv_pkt *k = &r->pk[r->npk];
    k->data = malloc(keep ? keep : 1);
    if (!k->data)
        return NL_ENOMEM;
    memcpy(k->data, p, keep);
    /* The kernel leaves a sent segment's TCP checksum to tun0's offload, as to a network card;
     * complete it here as the card would, so the capture holds what the wire would carry. */
    if (dir == '>' && keep == n && n >= 60 && (p[0] >> 4) == 6 && p[6] == 6) {
        size_t plen = (size_t)p[4] << 8 | p[5];
        if (40 + plen <= n && plen >= 20) {
            k->data[56] = k->data[57] = 0;
            uint16_t c = nl_cksum_l4_ipv6(k->data + 8, k->data + 24, 6, k->data + 40, plen, 16);
            k->data[56] = (uint8_t)(c >> 8);
            k->data[57] = (uint8_t)c;
        }
    } else if (dir == '>' && keep == n && n >= 40 && (p[0] >> 4) == 4 && p[9] == 6) {
        size_t ihl = (size_t)(p[0] & 15) * 4, total = (size_t)p[2] << 8 | p[3];
        if (ihl >= 20 && total <= n && total >= ihl + 20) {
            k->data[ihl + 16] = k->data[ihl + 17] = 0;
            uint16_t c = nl_cksum_l4_ipv4(k->data + 12, k->data + 16, 6, k->data + ihl, total - ihl, 16);
            k->data[ihl + 16] = (uint8_t)(c >> 8);
            k->data[ihl + 17] = (uint8_t)c;
        }
    }
    k->caplen = (uint32_t)keep;
    k->len = (uint32_t)n;
    k->t_ns = t_ns;
    k->ev = ev;
    k->dir = dir;
    r->pk_bytes += keep;
    r->npk++;
    return 0;
}

static void base_name(const char *path, char *out, size_t cap)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strnlen(b, cap - 1);
    memcpy(out, b, n);
    out[n] = 0;
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = 0;
}

static int mkdirs(const char *dir, char *errbuf)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                return nl_err_sys(errbuf, errno, "creating %s", tmp);
            *p = '/';
        }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
        return nl_err_sys(errbuf, errno, "creating the output folder %s", tmp);
    return 0;
}

int pv_record_write(struct pv_run *r, char *pcap_path, size_t pcap_cap, char *csv_path, size_t csv_cap, char *errbuf)
{
    pcap_path[0] = csv_path[0] = 0;
    if (!r->o || !r->o->out_dir)
        return 0;
    int rc = mkdirs(r->o->out_dir, errbuf);
    if (rc < 0)
        return rc;
    char name[256];
    base_name(r->s->path, name, sizeof name);
    snprintf(pcap_path, pcap_cap, "%s/%s.pcapng", r->o->out_dir, name);
    snprintf(csv_path, csv_cap, "%s/%s.timeline.csv", r->o->out_dir, name);
    struct nl_pcapw *w;
    if ((rc = nl_pcapw_open_ng(&w, pcap_path, 101 /* LINKTYPE_RAW: IPv4 */, 65535, "tun0", errbuf)) < 0) {
        pcap_path[0] = 0;
        return rc;
    }
    /* in time order: the kernel's timestamps and the injection times interleave */
    for (size_t i = 1; i < r->npk; i++)
        for (size_t j = i; j > 0 && r->pk[j].t_ns < r->pk[j - 1].t_ns; j--) {
            struct pv_pkt x = r->pk[j];
            r->pk[j] = r->pk[j - 1];
            r->pk[j - 1] = x;
        }
    for (size_t i = 0; i < r->npk && rc >= 0; i++) {
        const struct pv_pkt *k = &r->pk[i];
        char comment[400];
        if (k->ev >= 0)
            snprintf(comment, sizeof comment, "%.150s:%d: %s %.200s", r->s->path, r->s->ev[k->ev].line,
                     k->dir == '<' ? "injected by" : "expected by", r->s->ev[k->ev].src ? r->s->ev[k->ev].src : "");
        else
            snprintf(comment, sizeof comment, "sent by the kernel, matched by no script line");
        rc = nl_pcapw_write_comment(w, k->t_ns, k->data, k->caplen, k->len, comment, errbuf);
    }
    if (rc < 0) {
        nl_pcapw_abort(w);
        pcap_path[0] = 0;
        return rc;
    }
    if ((rc = nl_pcapw_commit(w, errbuf)) < 0) {
        pcap_path[0] = 0;
        return rc;
    }
    FILE *f = fopen(csv_path, "w");
    if (!f) {
        int e = errno;
        csv_path[0] = 0;
        return nl_err_sys(errbuf, e, "creating the TCP_INFO timeline");
    }
    fprintf(f, "line,time_s,event,state,ca_state,cwnd,ssthresh,rto_us,rtt_us,rttvar_us,unacked,retransmits,"
               "total_retrans,backoff,snd_mss,rcv_mss\n");
    for (int i = 0; i < r->s->nev; i++) {
        const struct pv_rec *rec = &r->rec[i];
        if (!rec->reached)
            break;
        const struct pv_tcpinfo *t = &rec->ti;
        char src[320];
        size_t n = 0;
        for (const char *p = r->s->ev[i].src ? r->s->ev[i].src : ""; *p && n + 2 < sizeof src; p++) {
            if (*p == '"')
                src[n++] = '"';
            src[n++] = *p;
        }
        src[n] = 0;
        if (!t->valid) {
            fprintf(f, "%d,%.6f,\"%s\",,,,,,,,,,,,,\n", r->s->ev[i].line, rec->live_us / 1e6, src);
            continue;
        }
        fprintf(f, "%d,%.6f,\"%s\",%s,%s,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n", r->s->ev[i].line,
                rec->live_us / 1e6, src, pv_tcp_state_name((unsigned)pv_tcpinfo_get(t, "tcpi_state")),
                pv_ca_state_name((unsigned)pv_tcpinfo_get(t, "tcpi_ca_state")),
                (unsigned long long)pv_tcpinfo_get(t, "tcpi_snd_cwnd"),
                (unsigned long long)pv_tcpinfo_get(t, "tcpi_snd_ssthresh"),
                (unsigned long long)pv_tcpinfo_get(t, "tcpi_rto"), (unsigned long long)pv_tcpinfo_get(t, "tcpi_rtt"),
                (unsigned long long)pv_tcpinfo_get(t, "tcpi_rttvar"),
                (unsigned long long)pv_tcpinfo_get(t, "tcpi_unacked"),
                (unsigned long long)pv_tcpinfo_get(t, "tcpi_retransmits"),
                (unsigned long long)pv_tcpinfo_get(t, "tcpi_total_retrans"),
                (unsigned long long)pv_tcpinfo_get(t, "tcpi_backoff"),
                (unsigned long long)pv_tcpinfo_get(t, "tcpi_snd_mss"),
                (unsigned long long)pv_tcpinfo_get(t, "tcpi_rcv_mss"));
    }
    if (fclose(f) != 0) {
        csv_path[0] = 0;
        return nl_err_sys(errbuf, errno, "writing the TCP_INFO timeline");
    }
    return 0;
}
