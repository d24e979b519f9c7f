/*
 * nl_prove_explain.c - each script line in plain words: what it does and why the kernel answered
 * as it did, naming the RFC clause (RFC 9293 for the state machine, RFC 6298 for the RTO, RFC 5681
 * and RFC 6675 for loss recovery, RFC 7323/2018 for options, RFC 1122 for delayed ACKs and
 * keep-alives, RFC 7413 for TCP Fast Open). Words what nl_prove_run.c decided (retransmission kind, RTT samples); decides nothing.
 */
#include "nl_prove_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct wbuf { char *p; size_t cap, n; };

static void w(struct wbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void w(struct wbuf *b, const char *fmt, ...)
{
    if (b->n + 1 >= b->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        b->n = b->n + (size_t)k < b->cap ? b->n + (size_t)k : b->cap - 1;
}

static void options_offered(struct wbuf *b, const struct pv_opt *o, int n, const char *who, uint8_t flags)
{
    char tfo[512];
    for (int i = 0; i < n; i++) {
        switch (o[i].kind) {
        case PV_OPT_FO: case PV_OPT_FOEXP: pv_tfo_explain_opt(tfo, sizeof tfo, &o[i], flags, who); w(b, "%s", tfo); break;
        case 2: w(b, "\n%s MSS %u: the largest segment it will take (RFC 9293 3.7.1).", who, o[i].a); break;
        case 3: w(b, "\n%s window scaling, shift %u: windows count in units of %u bytes (RFC 7323 2).", who, o[i].a,
                  1u << (o[i].a > 14 ? 14 : o[i].a)); break;
        case 4: w(b, "\n%s selective acknowledgments (SACK permitted, RFC 2018).", who); break;
        case 8: w(b, "\n%s timestamps, TS val %u (RFC 7323 3: RTT measurement and PAWS).", who, o[i].a); break;
        }
    }
}

static const struct pv_event *prev_inbound(const struct pv_run *r, int ev, int data_only)
{
    for (int i = ev - 1; i >= 0; i--) {
        const struct pv_event *e = &r->s->ev[i];
        if (e->kind == PV_EV_PACKET && e->seg.dir == '<' && (!data_only || e->seg.len > 0))
            return e;
    }
    return NULL;
}

static int prev_index(const struct pv_run *r, const struct pv_event *e) { return (int)(e - r->s->ev); }

static void rto_words(struct wbuf *b, const struct pv_rec *rec)
{
    if (rec->nsamples == 0) {
        w(b, "\nNo RTT sample yet: RFC 6298 2.1 starts with RTO = 1 s (Linux: 1 s for the SYN, TCP_TIMEOUT_INIT).");
        return;
    }
    double floor_rfc = rec->rto_ms < 1000 ? 1000 : rec->rto_ms;
    double floor_linux = rec->rto_ms < 200 ? 200 : rec->rto_ms;
    w(b, "\nFrom %d RTT sample%s (RFC 6298 2.2-2.3): SRTT %.3f ms, RTTVAR %.3f ms, RTO = SRTT + max(G, 4*RTTVAR) = %.3f ms; "
         "2.4 rounds it up to %.0f ms, Linux's floor is 200 ms (TCP_RTO_MIN) giving %.3f ms.",
      rec->nsamples, rec->nsamples == 1 ? "" : "s", rec->srtt_ms, rec->rttvar_ms, rec->rto_ms, floor_rfc, floor_linux);
}

static void explain_in(const struct pv_run *r, int ev, struct wbuf *b)
{
    const struct pv_seg *g = &r->s->ev[ev].seg;
    const struct pv_rec *rec = &r->rec[ev];
    if (g->flags & PV_RST) {
        w(b, "Injects a RST: the remote end aborts the connection (RFC 9293 3.10.7); the kernel drops it at once and a "
             "waiting call fails with ECONNRESET.");
        return;
    }
    if ((g->flags & PV_SYN) && !(g->flags & PV_ACK)) {
        w(b, "Injects a SYN: the remote end opens a connection from its initial sequence number %u "
             "(RFC 9293 3.5, the three-way handshake).", g->seq);
        if (g->len > 0)
            w(b, " It carries %u bytes of data: a Fast Open server that finds the SYN's cookie valid (or needs none) "
                 "hands them to the application at once and acknowledges them in its SYN-ACK (ack %u); otherwise it "
                 "acknowledges the SYN only (ack %u) and the client sends the data again (RFC 7413 3, 4.2).",
              g->len, g->seq + 1 + g->len, g->seq + 1);
        options_offered(b, g->opts, g->nopts, "It offers", g->flags);
        return;
    }
    if ((g->flags & PV_SYN) && (g->flags & PV_ACK)) {
        w(b, "Injects a SYN-ACK: the remote end accepts the kernel's SYN, sends its own ISN %u and acknowledges the "
             "kernel's ISN + 1 (RFC 9293 3.5). The kernel answers with an ACK: the connection is ESTABLISHED.", g->seq);
        if (g->has_ack && g->ack > 1)
            w(b, " Its ack %u covers %u bytes of data the SYN carried as well: a Fast Open server took them with the "
                 "SYN (RFC 7413 4.2).", g->ack, g->ack - 1);
        options_offered(b, g->opts, g->nopts, "It agrees to", g->flags);
        return;
    }
    if (g->flags & PV_FIN) {
        w(b, "Injects a FIN: the remote end has no more to send (RFC 9293 3.6). The kernel acknowledges it, the socket "
             "goes to CLOSE_WAIT, and a read returns 0 (end of file) once the data before it is read.");
        return;
    }
    if (g->len > 0) {
        w(b, "Injects %u bytes of data (sequence %u:%u)%s. The kernel puts them in the receive buffer and acknowledges "
             "them, at once or after the delayed-ACK timer (RFC 1122 4.2.3.2, RFC 9293 3.8.6.3).",
          g->len, g->seq, g->seq + g->len, (g->flags & PV_ACK) ? ", acknowledging the kernel's data up to " : "");
        if (g->flags & PV_ACK)
            w(b, "%u.", g->ack);
        return;
    }
    int sack = 0;
    for (int i = 0; i < g->nopts; i++)
        sack |= g->opts[i].kind == 5;
    if (g->win == 0) {
        w(b, "Injects an ACK with a zero window: the receiver's buffer is full. The kernel must stop sending and "
             "probe the window with its persist timer (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17).");
        return;
    }
    const struct pv_event *pe = NULL;
    for (int i = ev - 1; i >= 0 && !pe; i--)
        if (r->s->ev[i].kind == PV_EV_PACKET && r->s->ev[i].seg.dir == '<' && (r->s->ev[i].seg.flags & PV_ACK))
            pe = &r->s->ev[i];
    const struct pv_event *po = NULL;   /* the kernel's segment before this line */
    for (int i = ev - 1; i >= 0 && !po; i--)
        if (r->s->ev[i].kind == PV_EV_PACKET && r->s->ev[i].seg.dir == '>')
            po = &r->s->ev[i];
    if (rec->dupacks > 0 && pe && pe->seg.ack == g->ack && g->len == 0) {
        w(b, "Injects duplicate ACK number %d (the same acknowledgment, %u, again): the receiver is missing the data "
             "from %u while later segments arrive. After three duplicates the sender retransmits at once: fast "
             "retransmit (RFC 5681 3.2).", rec->dupacks, g->ack, g->ack);
    } else if (po && (po->seg.flags & PV_SYN) && (po->seg.flags & PV_ACK) && g->len == 0) {
        w(b, "Injects the ACK of the kernel's SYN-ACK: the three-way handshake is complete, the connection is "
             "ESTABLISHED and waits in the listener's accept queue (RFC 9293 3.5).");
        if (rec->rtt_ms >= 0) {
            w(b, "\nThe SYN-ACK's round trip gives the first RTT sample, %.3f ms.", rec->rtt_ms);
            rto_words(b, rec);
        }
    } else {
        w(b, "Injects an ACK of the kernel's data up to %u (cumulative acknowledgment, RFC 9293 3.4).", g->ack);
        if (rec->rtt_ms >= 0) {
            w(b, "\nIt gives an RTT sample of %.3f ms (sent once, so Karn's rule allows it).", rec->rtt_ms);
            rto_words(b, rec);
        }
    }
    if (sack)
        w(b, "\nIts SACK blocks say which later data arrived (RFC 2018); the sender resends only the holes (RFC 6675).");
}

static void explain_out(const struct pv_run *r, int ev, struct wbuf *b)
{
    const struct pv_seg *g = &r->s->ev[ev].seg;
    const struct pv_rec *rec = &r->rec[ev];
    const struct pv_wire *a = rec->has_actual ? &rec->actual : NULL;
    uint8_t flags = a ? a->flags : g->flags;
    uint32_t len = a ? a->len : g->len;
    const struct pv_event *pin = prev_inbound(r, ev, 0);
    if (flags & PV_RST) {
        if (pin && (pin->seg.flags & PV_SYN) && !(pin->seg.flags & PV_ACK) && !(flags & PV_SYN))
            w(b, "The kernel answers with RST/ACK: nothing listens on that port, so a SYN is refused with a reset that "
                 "acknowledges it (seq 0, ack = its sequence + 1; RFC 9293 3.10.7.1).");
        else {
            int prev = -1;   /* the kernel's segment before this one */
            for (int i = ev - 1; i >= 0 && prev < 0; i--)
                if (r->s->ev[i].kind == PV_EV_PACKET && r->s->ev[i].seg.dir == '>')
                    prev = i;
            if (prev >= 0 && r->rec[prev].retx == PV_RETX_PROBE && !(pin && pin->seg.win == 0))
                w(b, "The kernel gives up: its keep-alive probes went unanswered TCP_KEEPCNT times (RFC 1122 4.2.3.6), so "
                     "the connection is declared dead and reset; a waiting call fails with ETIMEDOUT.");
            else if (prev >= 0 && (r->rec[prev].retx == PV_RETX_TIMEOUT || r->rec[prev].retx == PV_RETX_SYN))
                w(b, "The kernel gives up after its retransmissions went unacknowledged (RFC 9293 3.8.3's R2 threshold: "
                     "net.ipv4.tcp_retries2, or TCP_USER_TIMEOUT) and resets the connection.");
            else
                w(b, "The kernel resets the connection (RFC 9293 3.10.7): after close() with unread data (RFC 2525 2.17), "
                     "SO_LINGER 0, or a segment that fits no connection.");
        }
        return;
    }
    if (rec->retx == PV_RETX_SYN) {
        w(b, "The kernel sends its SYN again: no answer came for %.0f ms. RFC 6298 2.1 and 5.5: the first timeout is "
             "1 s and each retry doubles it (backoff %d), so the SYNs go out at 0, 1, 3, 7, 15 s ...", rec->gap_ms,
          rec->backoff);
        if (rec->backoff > 1 && rec->gap_ms < 1500)
            w(b, "\nHere the retry came after about 1 s again, not doubled: Linux 6.x retransmits the first SYNs at "
                 "linear 1 s intervals (net.ipv4.tcp_syn_linear_timeouts, default 4) and doubles only after them; "
                 "set it to 0 for RFC 6298's doubling from the start.");
        return;
    }
    if ((flags & PV_SYN) && !(flags & PV_ACK)) {
        w(b, "The kernel opens the connection (active open, RFC 9293 3.5): a SYN from its random initial sequence "
             "number (RFC 6528); the script counts from %u.", g->seq);
        if (g->len > 0)
            w(b, " It carries %u bytes of data already: TCP Fast Open (RFC 7413 3), sent with the cached cookie "
                 "or where the server needs none.", g->len);
        options_offered(b, a ? a->opts : g->opts, a ? a->nopts : g->nopts, "It offers", flags);
        return;
    }
    if ((flags & PV_SYN) && (flags & PV_ACK)) {
        w(b, "The listening socket answers the SYN with a SYN-ACK (RFC 9293 3.5): its own ISN and ack = their ISN + 1.");
        options_offered(b, a ? a->opts : g->opts, a ? a->nopts : g->nopts, "It offers", flags);
        if (rec->retx)
            w(b, "\nThis is a retransmitted SYN-ACK after %.0f ms without the final ACK (RFC 6298 5.5).", rec->gap_ms);
        return;
    }
    switch (rec->retx) {
    case PV_RETX_TIMEOUT:
        w(b, "A retransmission on timeout: nothing acknowledged this data for %.3f ms, so the retransmission timer "
             "fired. RFC 6298 5.4-5.5: resend the earliest unacknowledged segment and double the RTO (backoff %d); "
             "the congestion window falls to one segment (RFC 5681 3.1).", rec->gap_ms, rec->backoff);
        rto_words(b, rec);
        if (rec->nsamples && rec->backoff >= 1) {
            double base = rec->rto_ms < 200 ? 200 : rec->rto_ms, expect = base;
            for (int k = 1; k < rec->backoff && k < 16; k++)
                expect *= 2;
            w(b, "\nThis was timeout number %d: RTO x 2^%d = %.0f ms expected, %.0f ms measured.", rec->backoff,
              rec->backoff - 1, expect, rec->gap_ms);
        }
        if (rec->ti.valid)
            w(b, "\nThe kernel's tcpi_rto after it: %.3f ms (doubled for the next timeout).",
              pv_tcpinfo_get(&rec->ti, "tcpi_rto") / 1e3);
        return;
    case PV_RETX_TLP:
        w(b, "A tail loss probe: nothing was acknowledged for %.3f ms, about two smoothed RTTs, so the kernel resends "
             "the last segment to draw an ACK (or SACK) before the RTO would fire (RFC 8985 7.2-7.3, Linux's "
             "net.ipv4.tcp_early_retrans). It is not a timeout: the RTO does not back off and cwnd stays (%llu).",
          rec->gap_ms, (unsigned long long)pv_tcpinfo_get(&rec->ti, "tcpi_snd_cwnd"));
        if (rec->nsamples)
            w(b, "\nSRTT is %.3f ms, so the probe timeout is 2*SRTT = %.3f ms (plus time for a delayed ACK when one "
                 "segment is in flight).", rec->srtt_ms, 2 * rec->srtt_ms);
        return;
    case PV_RETX_DUPACK:
        w(b, "Fast retransmit: %d duplicate ACKs for the same point told the sender this segment was lost; it resends "
             "it at once, without waiting %.0f ms for the timer (RFC 5681 3.2), and enters fast recovery.",
          rec->dupacks, rec->rto_ms > 200 ? rec->rto_ms : 200.0);
        return;
    case PV_RETX_SACK:
        w(b, "Loss recovery with SACK: the SACK blocks showed data beyond a hole, so the kernel resends the hole "
             "(RFC 6675 5; Linux's RACK, RFC 8985, marks it lost by time).");
        return;
    case PV_RETX_PROBE:
        if (pin && pin->seg.win == 0)
            w(b, "A zero-window probe: the receiver advertised a zero window, so the persist timer sends a probe to learn "
                 "when it opens (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17); its interval backs off like the RTO.");
        else
            w(b, "A keep-alive probe: the connection was idle, so the kernel sends a segment with an old sequence number "
                 "to make the peer answer (RFC 1122 4.2.3.6, RFC 9293 3.8.4; TCP_KEEPIDLE, TCP_KEEPINTVL).");
        return;
    }
    if (flags & PV_FIN) {
        w(b, "The kernel sends FIN: the application closed its side (close() or shutdown(SHUT_WR)), after the data "
             "before it (RFC 9293 3.6).");
        return;
    }
    if (len > 0) {
        w(b, "The kernel sends %u bytes (sequence %u:%u)%s.", len, a ? a->seq : g->seq, (a ? a->seq : g->seq) + len,
          (flags & PV_PSH) ? "; PSH marks the end of what the application handed over" : "");
        if (rec->ti.valid && len > pv_tcpinfo_get(&rec->ti, "tcpi_snd_mss") && pv_tcpinfo_get(&rec->ti, "tcpi_snd_mss"))
            w(b, "\nIt is larger than the MSS (%llu): one TSO burst that a network card would cut into MSS-sized segments.",
              (unsigned long long)pv_tcpinfo_get(&rec->ti, "tcpi_snd_mss"));
        if (rec->ti.valid)
            w(b, "\nThe congestion window allows %llu segments in flight (RFC 5681 3.1).",
              (unsigned long long)pv_tcpinfo_get(&rec->ti, "tcpi_snd_cwnd"));
        return;
    }
    const struct pv_event *pd = prev_inbound(r, ev, 1);
    if (pin && (pin->seg.flags & PV_SYN) && (pin->seg.flags & PV_ACK)) {
        w(b, "The kernel completes the three-way handshake with an ACK (RFC 9293 3.5): ESTABLISHED.");
    } else if (pd) {
        double gap = (rec->live_us - r->rec[prev_index(r, pd)].live_us) / 1e3;
        if (gap > 20)
            w(b, "A delayed ACK: the kernel waited %.0f ms for more data or a reply to carry the acknowledgment "
                 "(RFC 1122 4.2.3.2, RFC 9293 3.8.6.3: at most 500 ms, and at least every second full segment).",
              gap);
        else
            w(b, "The kernel acknowledges the data at once (%.1f ms after it): a second full segment, out-of-order "
                 "data, or quick-ACK mode (RFC 5681 4.2, RFC 9293 3.8.6.3).", gap);
    } else {
        w(b, "The kernel sends an ACK (RFC 9293 3.4).");
    }
}

static void explain_sys(const struct pv_run *r, int ev, struct wbuf *b)
{
    const struct pv_syscall *sc = &r->s->ev[ev].sc;
    const struct pv_rec *rec = &r->rec[ev];
    const char *n = sc->name;
    char tfo[640];
    if (pv_tfo_explain_call(sc, tfo, sizeof tfo))
        w(b, "%s", tfo);
    else if (!strcmp(n, "socket"))
        w(b, "Creates a TCP socket.");
    else if (!strcmp(n, "setsockopt") || !strcmp(n, "getsockopt")) {
        const char *opt = sc->nargs > 2 && sc->args[2]->name ? sc->args[2]->name : "an option";
        w(b, "%s %s on the socket.", n[0] == 's' ? "Sets" : "Reads", opt);
        if (strstr(opt, "NODELAY"))
            w(b, " TCP_NODELAY turns Nagle's algorithm off: small writes go out at once instead of waiting for the "
                 "ACK of earlier data (RFC 896, RFC 1122 4.2.3.4).");
        else if (strstr(opt, "TCP_INFO"))
            w(b, " TCP_INFO is the kernel's own view of the connection: state, cwnd, ssthresh, RTO, RTT.");
        else if (strstr(opt, "KEEP"))
            w(b, " Keep-alive probes an idle connection (RFC 1122 4.2.3.6).");
        else if (strstr(opt, "LINGER"))
            w(b, " SO_LINGER with a zero timeout makes close() abort with RST instead of FIN.");
        else if (strstr(opt, "MAXSEG"))
            w(b, " TCP_MAXSEG caps the MSS this end announces and uses (RFC 9293 3.7.1).");
    } else if (!strcmp(n, "bind"))
        w(b, "Binds the socket to port 8080 of 192.168.0.2 (packetdrill's local address).");
    else if (!strcmp(n, "listen"))
        w(b, "Passive open: the socket now answers SYNs (LISTEN state, RFC 9293 3.5).");
    else if (!strncmp(n, "accept", 6))
        w(b, "Takes a connection the handshake completed off the listen queue: a new socket in ESTABLISHED.");
    else if (!strcmp(n, "connect"))
        w(b, "Active open: the kernel sends a SYN to 192.0.2.1:8080 (RFC 9293 3.5)%s.",
          sc->err ? "; on a nonblocking socket connect returns EINPROGRESS and the handshake goes on" : "");
    else if (!strcmp(n, "write") || !strncmp(n, "send", 4) || !strcmp(n, "writev"))
        w(b, "Hands %lld bytes to the kernel's send buffer; TCP decides when they go out (the congestion and receive "
             "windows, and Nagle's algorithm unless TCP_NODELAY).", (long long)(rec->sys_ret > 0 ? rec->sys_ret : 0));
    else if (!strcmp(n, "read") || !strncmp(n, "recv", 4))
        w(b, "Reads from the receive buffer%s.", rec->reached && rec->sys_ret == 0 ? ": 0 bytes, the peer's FIN (end of file)" : "");
    else if (!strcmp(n, "close"))
        w(b, "Closes the socket: the kernel sends FIN after any data still queued (RFC 9293 3.6), or RST if received data "
             "was never read (RFC 2525 2.17).");
    else if (!strcmp(n, "shutdown"))
        w(b, "Half-close: with SHUT_WR the kernel sends FIN but keeps receiving (RFC 9293 3.6).");
    else if (!strcmp(n, "fcntl"))
        w(b, "Reads or sets the file status flags (O_NONBLOCK: calls return EAGAIN / EINPROGRESS instead of waiting).");
    else if (!strcmp(n, "poll"))
        w(b, "Asks which sockets are ready (readable, writable, error).");
    else
        w(b, "Calls %s().", n);
    if (rec->reached) {
        if (rec->sys_ret < 0)
            w(b, " It returned -1 %s.", pv_errno_name(rec->sys_errno));
        else if ((!strcmp(n, "socket") || !strncmp(n, "accept", 6)) && !sc->result_any)
            w(b, " It returned a new descriptor, %lld in the script's numbering.", (long long)sc->result);
        else
            w(b, " It returned %lld.", (long long)rec->sys_ret);
    }
}

void pv_explain_line(const struct pv_run *r, int ev, char *buf, size_t cap)
{
    struct wbuf b = {buf, cap, 0};
    buf[0] = 0;
    const struct pv_event *e = &r->s->ev[ev];
    switch (e->kind) {
    case PV_EV_PACKET:
        if (e->seg.dir == '<')
            explain_in(r, ev, &b);
        else
            explain_out(r, ev, &b);
        break;
    case PV_EV_SYSCALL: explain_sys(r, ev, &b); break;
    case PV_EV_SHELL:
        w(&b, "Runs a shell line inside the experiment's own network namespace (its sysctls and qdiscs change nothing "
              "on the host).");
        break;
    case PV_EV_CODE:
        w(&b, "Checks the kernel's TCP_INFO at this moment with Python (packetdrill's %%{ }%% blocks).");
        break;
    }
    const struct pv_rec *rec = &r->rec[ev];
    if (rec->ti.valid && e->kind != PV_EV_CODE) {
        w(&b, "\nTCP_INFO after it: %s, cwnd %llu, ssthresh %llu, rto %.0f ms, rtt %.3f ms, unacked %llu, retransmits %llu.",
          pv_tcp_state_name((unsigned)pv_tcpinfo_get(&rec->ti, "tcpi_state")),
          (unsigned long long)pv_tcpinfo_get(&rec->ti, "tcpi_snd_cwnd"),
          (unsigned long long)pv_tcpinfo_get(&rec->ti, "tcpi_snd_ssthresh"),
          pv_tcpinfo_get(&rec->ti, "tcpi_rto") / 1e3, pv_tcpinfo_get(&rec->ti, "tcpi_rtt") / 1e3,
          (unsigned long long)pv_tcpinfo_get(&rec->ti, "tcpi_unacked"),
          (unsigned long long)pv_tcpinfo_get(&rec->ti, "tcpi_total_retrans"));
    }
}
