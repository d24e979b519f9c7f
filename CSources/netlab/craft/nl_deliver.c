/*
 * nl_deliver.c - a minimal TCP client made of hand-built packets (RFC 9293):
 * three-way handshake, one message per segment sent stop-and-wait with
 * retransmission and exponential backoff, in-order receive with immediate
 * ACKs, orderly close from either side. Sends with nl_inject, reads with
 * nl_capture, builds with nl_build. Owns only the connection state machine.
 */
#include "netlab/nl_deliver.h"
#include "netlab/nl_build.h"
#include "netlab/nl_capture.h"
#include "netlab/nl_checksum.h"
#include "netlab/nl_inject.h"
#include "netlab/nl_ipv4.h"
#include "netlab/nl_link.h"
#include "netlab/nl_signal.h"
#include "netlab/nl_tcp.h"
#include "nl_arena.h"
#include "nl_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct nl_delivery {
    struct nl_deliver_stats st;
    uint8_t *rx;
    size_t rxlen, rxcap;
    const char **events;
    size_t nev, capev;
    struct nl_arena arena;
};

enum { S_SYN_SENT, S_ESTABLISHED, S_FIN_SENT, S_DONE };

struct conn {
    const struct nl_deliver_opts *o;
    struct nl_delivery *d;
    struct nl_builder *b;
    struct nl_injector *inj;
    struct nl_capture *cap;
    int linktype;
    size_t seen;            /* captured frames processed so far */
    int state;
    uint32_t iss, snd_una, snd_nxt;
    uint32_t irs, rcv_nxt;
    uint16_t sport, ip_id, peer_wnd, peer_mss;
    int peer_fin;
    int progress;           /* set when something arrived that a waiter may care about */
    int fatal;              /* a reset or our kernel's interference: stop */
    uint32_t lines;         /* LF bytes received */
    double last_rx;         /* time of the last data from the server */
    double start;
    char *errbuf;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void nl_deliver_opts_init(struct nl_deliver_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mss = 1460;
    o->window = 65535;
    o->rto = 0.2;
    o->max_retries = 6;
    o->reply_idle = 0.5;
    o->append_newline = 1;
    o->timeout = 30;
}

static void event(struct conn *c, const char *fmt, ...) NL_PRINTF(2, 3);
static void event(struct conn *c, const char *fmt, ...)
{
    struct nl_delivery *d = c->d;
    char buf[256];
    int n = snprintf(buf, sizeof buf, "%7.3f  ", now_s() - c->start);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    va_end(ap);
    if (NL_GROW(d->events, d->nev, d->capev, 64) < 0)
        return;
    const char *s = nl_arena_strndup(&d->arena, buf, strlen(buf));
    if (s)
        d->events[d->nev++] = s;
}

/* Build one segment with libnet (cross-checked) and inject it. */
static int send_seg(struct conn *c, uint8_t flags, uint32_t seq, const uint8_t *data, size_t len, int retransmit)
{
    const struct nl_deliver_opts *o = c->o;
    struct nl_seg_spec s;
    memset(&s, 0, sizeof s);
    s.ip.version = 4;
    s.ip.ihl = 5;
    s.ip.id = c->ip_id++;
    s.ip.flags = NL_IPV4_DF;
    s.ip.ttl = 64;
    s.ip.protocol = 6;
    memcpy(s.ip.src, o->src_ip, 4);
    memcpy(s.ip.dst, o->dst_ip, 4);
    s.tcp.sport = c->sport;
    s.tcp.dport = o->dst_port;
    s.tcp.seq = seq;
    s.tcp.ack = (flags & NL_TCP_ACK) ? c->rcv_nxt : 0;
    s.tcp.flags = flags;
    s.tcp.window = o->window;
    if (flags & NL_TCP_SYN) {
        s.tcp.options[0] = 2;
        s.tcp.options[1] = 4;
        nl_put_be16(s.tcp.options + 2, o->mss);
        s.tcp.options_len = 4;
    }
    s.payload = data;
    s.payload_len = len;
    uint8_t buf[65536];
    struct nl_build_result r;
    char why[NL_ERRBUF_SIZE];
    int rc = nl_builder_build(c->b, &s, buf, sizeof buf, &r, why);
    if (rc == 0)
        rc = nl_injector_send(c->inj, buf, r.len, why);
    if (rc < 0)
        return nl_err(c->errbuf, rc, "sending a segment: %s", why);
    c->d->st.packets_sent++;
    if (retransmit)
        c->d->st.retransmissions++;
    else
        c->d->st.bytes_sent += len;
    return 0;
}

static int send_ack(struct conn *c) { return send_seg(c, NL_TCP_ACK, c->snd_nxt, NULL, 0, 0); }

static int seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static int seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

#define RX_MAX (64u << 20) /* the server's bytes kept, at most */

/* Keep n bytes from the server; 0, or -1 (and c->fatal set) when they cannot be kept,
 * in which case they must not be acknowledged either. */
static int rx_append(struct conn *c, const uint8_t *p, size_t n)
{
    struct nl_delivery *d = c->d;
    if (d->rxlen + n > RX_MAX) {
        c->fatal = nl_err(c->errbuf, NL_ELIMIT, "the server sent more than %u MiB; stopped", RX_MAX >> 20);
        return -1;
    }
    if (d->rxlen + n > d->rxcap) {
        size_t ncap = d->rxcap ? d->rxcap : 4096;
        while (ncap < d->rxlen + n)
            ncap *= 2;
        uint8_t *nb = realloc(d->rx, ncap);
        if (!nb) {
            c->fatal = nl_err(c->errbuf, NL_ENOMEM, "out of memory for the server's data");
            return -1;
        }
        d->rx = nb;
        d->rxcap = ncap;
    }
    memcpy(d->rx + d->rxlen, p, n);
    d->rxlen += n;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\n')
            c->lines++;
    return 0;
}

/* One captured frame. */
static void on_frame(struct conn *c, const uint8_t *f, size_t caplen)
{
    const struct nl_deliver_opts *o = c->o;
    struct nl_link l;
    if (nl_link_decode(c->linktype, f, caplen, &l) < 0 || l.ethertype != NL_ETHERTYPE_IPV4)
        return;
    struct nl_cursor cur;
    struct nl_ipv4 ip;
    struct nl_tcp t;
    nl_cur_init(&cur, f + l.l3_off, caplen - l.l3_off);
    if (nl_ipv4_decode(&cur, &ip) < 0 || ip.protocol != 6)
        return;
    const uint8_t *seg = f + l.l3_off + (size_t)ip.ihl * 4;
    size_t seglen = ip.total_len - (size_t)ip.ihl * 4;
    if ((size_t)(seg - f) + seglen > caplen)
        return; /* truncated capture: not usable */
    nl_cur_init(&cur, seg, seglen);
    if (nl_tcp_decode(&cur, &t) < 0)
        return;
    int from_us = memcmp(ip.src, o->src_ip, 4) == 0 && t.sport == c->sport;
    int from_peer = memcmp(ip.src, o->dst_ip, 4) == 0 && t.sport == o->dst_port && t.dport == c->sport &&
                    memcmp(ip.dst, o->src_ip, 4) == 0;
    if (from_us) {
        if (t.flags & NL_TCP_RST) {
            /* We never send resets: this one is the host's own TCP stack. */
            c->fatal = nl_err(c->errbuf, NL_EMALFORMED,
                              "this host's kernel reset the connection (it does not know it): suppress its resets for "
                              "port %u where you run this, e.g. nft add rule ip filter output tcp sport %u tcp flags rst drop "
                              "(netlab lab does so inside its own namespace)", c->sport, c->sport);
            event(c, "this host's kernel sent a RST: it must be suppressed for this port");
        }
        return;
    }
    if (!from_peer)
        return;
    /* Verify the checksum like a receiving stack; accept an offloaded (partial) one. */
    uint16_t want = nl_cksum_l4_ipv4(ip.src, ip.dst, 6, seg, seglen, NL_TCP_CKSUM_OFFSET);
    if (want != t.checksum) {
        uint16_t partial = nl_cksum_fold(nl_cksum_pseudo4(ip.src, ip.dst, 6, (uint16_t)seglen));
        if (t.checksum == partial) {
            c->d->st.checksum_offloaded++;
        } else {
            c->d->st.checksum_bad++;
            event(c, "dropped a segment with a bad TCP checksum (0x%04x, expected 0x%04x)", t.checksum, want);
            return;
        }
    }
    size_t hlen = (size_t)t.doff * 4;
    const uint8_t *data = seg + hlen;
    size_t dlen = seglen - hlen;
    c->d->st.segments_received++;
    if (t.flags & NL_TCP_RST) {
        c->fatal = nl_err(c->errbuf, NL_EMALFORMED, "the server reset the connection (%s)",
                          c->state == S_SYN_SENT ? "nothing listens on that port?" : "after it was established");
        event(c, "RST received from the server");
        return;
    }
    if (c->state == S_SYN_SENT) {
        if ((t.flags & (NL_TCP_SYN | NL_TCP_ACK)) == (NL_TCP_SYN | NL_TCP_ACK) && t.ack == c->iss + 1) {
            struct nl_tcp_opts opts;
            c->irs = t.seq;
            c->rcv_nxt = t.seq + 1;
            c->snd_una = t.ack;
            c->peer_wnd = t.window;
            c->peer_mss = 536; /* RFC 9293 3.7.1 default when the option is absent */
            if (nl_tcp_options_parse(t.options, t.options_len, &opts) == 0 && opts.has_mss && opts.mss > 0)
                c->peer_mss = opts.mss; /* an MSS of 0 is meaningless: keep the default */
            c->d->st.irs = c->irs;
            c->d->st.peer_mss = c->peer_mss;
            c->state = S_ESTABLISHED;
            c->progress = 1;
            event(c, "SYN-ACK received: server ISN %u, MSS %u, window %u", c->irs, c->peer_mss, t.window);
        }
        return;
    }
    if ((t.flags & NL_TCP_SYN) && seq_lt(t.seq, c->rcv_nxt)) {
        send_ack(c); /* our handshake ACK was lost: the SYN-ACK came again */
        return;
    }
    if (t.flags & NL_TCP_ACK) {
        if (seq_lt(c->snd_una, t.ack) && seq_le(t.ack, c->snd_nxt)) {
            c->snd_una = t.ack;
            c->progress = 1;
        }
        c->peer_wnd = t.window;
        c->d->st.peer_window = t.window;
    }
    int fin = (t.flags & NL_TCP_FIN) != 0;
    if (dlen || fin) {
        if (t.seq == c->rcv_nxt) {
            if (dlen) {
                if (rx_append(c, data, dlen) < 0)
                    return;
                c->rcv_nxt += (uint32_t)dlen;
                c->d->st.bytes_received += dlen;
                c->last_rx = now_s();
            }
            if (fin && !c->peer_fin) {
                c->rcv_nxt++;
                c->peer_fin = 1;
                event(c, "FIN received from the server");
            }
            c->progress = 1;
        } else if (seq_lt(t.seq, c->rcv_nxt)) {
            c->d->st.duplicates_received++;
        } else {
            c->d->st.out_of_order++; /* a gap: not kept; the ACK below asks for the missing bytes */
        }
        send_ack(c);
    }
}

/* Take captured frames until the deadline or until something happened. */
static int pump(struct conn *c, double deadline)
{
    int fd = nl_capture_fd(c->cap);
    c->progress = 0;
    for (;;) {
        int rc = nl_capture_dispatch(c->cap, NULL, c->errbuf);
        if (rc < 0)
            return rc;
        size_t n = nl_capture_packet_count(c->cap);
        while (c->seen < n && !c->fatal) {
            const struct nl_captured *k = nl_capture_packet(c->cap, c->seen++);
            on_frame(c, k->data, k->caplen);
        }
        if (c->fatal)
            return c->fatal;
        double t = now_s();
        if (t - c->start > c->o->timeout)
            return nl_err(c->errbuf, NL_ELIMIT, "the connection took longer than %.0f s; gave up", c->o->timeout);
        if (*nl_stop_flag())
            return nl_err(c->errbuf, NL_EINTR, "interrupted");
        if (c->progress || t >= deadline)
            return 0;
        int ms = (int)((deadline - t) * 1000) + 1;
        struct pollfd p = {fd, POLLIN, 0};
        poll(&p, 1, ms > 20 ? 20 : ms);
    }
}

/* Send one segment and wait until it is acknowledged, retransmitting with backoff. */
static int send_reliably(struct conn *c, uint8_t flags, const uint8_t *data, size_t len, const char *what)
{
    uint32_t seq = c->snd_nxt;
    uint32_t end = seq + (uint32_t)len + ((flags & (NL_TCP_SYN | NL_TCP_FIN)) ? 1 : 0);
    double rto = c->o->rto > 0 ? c->o->rto : 0.2;
    c->snd_nxt = end;
    for (int attempt = 0; attempt <= c->o->max_retries; attempt++) {
        int rc = send_seg(c, flags, seq, data, len, attempt > 0);
        if (rc < 0)
            return rc;
        if (attempt)
            event(c, "retransmitted %s (attempt %d, waiting %.2f s)", what, attempt + 1, rto);
        double deadline = now_s() + rto;
        while (now_s() < deadline) {
            rc = pump(c, deadline);
            if (rc < 0)
                return rc;
            if (c->state == S_SYN_SENT)
                continue;
            if (!seq_lt(c->snd_una, end))
                return 0;
        }
        if ((flags & NL_TCP_SYN) && c->state != S_SYN_SENT)
            return 0;
        rto *= 2;
    }
    return nl_err(c->errbuf, NL_ELIMIT, "%s was never acknowledged after %d retransmissions", what, c->o->max_retries);
}

int nl_deliver(const struct nl_messages *ms, const struct nl_deliver_opts *o, struct nl_delivery **out, char *errbuf)
{
    *out = NULL;
    if (o->mss < 1 || o->mss > 65495 || o->window < 1)
        return nl_err(errbuf, NL_EINVAL, "deliver: MSS must be 1-65495 and the window at least 1");
    if (!(o->rto > 0 && o->rto <= 60) || o->max_retries < 0 || o->max_retries > 20 || !(o->timeout > 0))
        return nl_err(errbuf, NL_EINVAL, "deliver: retransmission timeout 0-60 s, at most 20 retries, a positive timeout");
    if (o->dst_port == 0)
        return nl_err(errbuf, NL_EINVAL, "deliver: a destination port is required");
    struct nl_delivery *d = calloc(1, sizeof *d);
    if (!d)
        return nl_err(errbuf, NL_ENOMEM, "deliver: out of memory");
    nl_arena_init(&d->arena);
    struct conn c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.d = d;
    c.errbuf = errbuf;
    c.start = now_s();
    uint64_t seed = o->seed ? o->seed : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)(now_s() * 1e9);
    seed = (seed ^ (seed >> 31)) * 0x9e3779b97f4a7c15ull;
    c.iss = (uint32_t)(seed >> 32);
    c.ip_id = (uint16_t)seed;
    c.sport = o->src_port ? o->src_port : (uint16_t)(32768 + (seed >> 8) % (60999 - 32768));
    d->st.iss = c.iss;
    d->st.src_port = c.sport;
    c.snd_una = c.snd_nxt = c.iss;
    c.peer_wnd = 0;

    int rc = nl_injector_open(&c.inj, errbuf);
    char iface[64];
    if (rc == 0) {
        if (o->interface)
            snprintf(iface, sizeof iface, "%s", o->interface);
        else
            rc = nl_route_interface(o->dst_ip, iface, sizeof iface, errbuf);
    }
    char filter[160], a[16], b[16];
    if (rc == 0) {
        snprintf(filter, sizeof filter, "tcp and host %s and host %s and port %u and port %u",
                 nl_ipv4_format(o->src_ip, a), nl_ipv4_format(o->dst_ip, b), c.sport, o->dst_port);
        struct nl_capture_opts co;
        nl_capture_opts_init(&co);
        co.interface = iface;
        co.filter = filter;
        co.keep_packets = 1;
        co.immediate = 1; /* every segment at once: we answer it */
        co.buffer_mb = 8;
        rc = nl_capture_open(&c.cap, &co, errbuf);
    }
    if (rc == 0)
        rc = nl_builder_open(&c.b, errbuf);
    if (rc < 0)
        goto done;
    c.linktype = nl_capture_linktype(c.cap);
    *out = d;

    /* 1. Handshake (RFC 9293 3.5). */
    event(&c, "SYN sent from %s:%u to %s:%u (ISN %u, MSS %u)", a, c.sport, b, o->dst_port, c.iss, o->mss);
    c.state = S_SYN_SENT;
    rc = send_reliably(&c, NL_TCP_SYN, NULL, 0, "the SYN");
    if (rc < 0)
        goto done;
    if (c.state == S_SYN_SENT) {
        rc = nl_err(errbuf, NL_ELIMIT, "no SYN-ACK from %s:%u", b, o->dst_port);
        goto done;
    }
    c.snd_nxt = c.snd_una;
    if ((rc = send_ack(&c)) < 0)
        goto done;
    d->st.established = 1;
    event(&c, "ACK sent: connection established");

    /* 2. Each message as its own segment(s): cut to the MSS and to the window the
     * server offers, each acknowledged before the next (stop-and-wait). */
    size_t seg_max = NL_MIN((size_t)o->mss, (size_t)c.peer_mss);
    uint8_t *line = NULL;
    size_t linecap = 0;
    for (size_t i = 0; i < nl_messages_count(ms) && rc == 0; i++) {
        const struct nl_message *m = nl_messages_at(ms, i);
        size_t len = m->len + (o->append_newline ? 1 : 0);
        if (len > linecap) {
            uint8_t *nl = realloc(line, len);
            if (!nl) {
                rc = nl_err(errbuf, NL_ENOMEM, "deliver: out of memory");
                break;
            }
            line = nl;
            linecap = len;
        }
        memcpy(line, m->data, m->len);
        if (o->append_newline)
            line[m->len] = '\n';
        for (size_t off = 0; off < len && rc == 0;) {
            /* A closed window: the server announces when it opens again. */
            while (c.peer_wnd == 0 && rc == 0)
                rc = pump(&c, now_s() + 0.05);
            if (rc < 0)
                break;
            size_t n = NL_MIN(NL_MIN(seg_max, len - off), (size_t)c.peer_wnd);
            char what[96];
            snprintf(what, sizeof what, "message %s%s", m->id, n < len ? " (a segment of it)" : "");
            event(&c, "message %s sent: %zu bytes at relative seq %u%s", m->id, n, c.snd_nxt - c.iss,
                  n < len ? " (cut at the MSS or the window)" : "");
            rc = send_reliably(&c, (uint8_t)(NL_TCP_ACK | (off + n == len ? NL_TCP_PSH : 0)), line + off, n, what);
            off += n;
        }
        if (rc == 0)
            d->st.messages_acked++;
    }
    free(line);
    if (rc < 0)
        goto done;

    /* 3. Let the server answer: until expect_lines, or until it has been quiet a while. */
    double idle = o->reply_idle > 0 ? o->reply_idle : 0.5;
    c.last_rx = c.last_rx > 0 ? c.last_rx : now_s();
    double last_ack = now_s();
    while (!c.peer_fin) {
        if (o->expect_lines && c.lines >= o->expect_lines)
            break;
        double quiet_since = c.last_rx > last_ack ? c.last_rx : last_ack;
        if (now_s() - quiet_since >= idle)
            break;
        if ((rc = pump(&c, quiet_since + idle)) < 0)
            goto done;
    }
    event(&c, "%zu bytes received from the server in %u lines", d->rxlen, c.lines);

    /* 4. Orderly close (RFC 9293 3.6): our FIN, its ACK, the server's FIN, our ACK. */
    c.state = S_FIN_SENT;
    event(&c, "FIN sent");
    if ((rc = send_reliably(&c, NL_TCP_FIN | NL_TCP_ACK, NULL, 0, "the FIN")) < 0)
        goto done;
    double fin_deadline = now_s() + 2.0;
    while (!c.peer_fin && now_s() < fin_deadline)
        if ((rc = pump(&c, fin_deadline)) < 0)
            goto done;
    if (c.peer_fin) {
        d->st.closed = 1;
        event(&c, "connection closed in both directions");
    } else {
        event(&c, "the server did not send its FIN within 2 s");
    }
    c.state = S_DONE;
    rc = 0;
done:
    if (rc < 0 && d->st.established && !d->st.closed && c.b && c.inj) {
        /* Do not leave the server holding a connection nobody will close. */
        char scratch[NL_ERRBUF_SIZE];
        c.errbuf = scratch; /* keep the reason already in errbuf */
        send_seg(&c, NL_TCP_RST | NL_TCP_ACK, c.snd_nxt, NULL, 0, 0);
        c.errbuf = errbuf;
        event(&c, "RST sent: the connection was abandoned");
    }
    d->st.seconds = now_s() - c.start;
    nl_builder_close(c.b);
    nl_capture_abort(c.cap);
    nl_injector_close(c.inj);
    if (!*out)
        nl_delivery_free(d);
    return rc;
}

const struct nl_deliver_stats *nl_delivery_stats(const struct nl_delivery *d) { return d ? &d->st : NULL; }

const uint8_t *nl_delivery_received(const struct nl_delivery *d, size_t *len)
{
    *len = d ? d->rxlen : 0;
    return d ? d->rx : NULL;
}

size_t nl_delivery_event_count(const struct nl_delivery *d) { return d ? d->nev : 0; }

const char *nl_delivery_event(const struct nl_delivery *d, size_t i) { return d && i < d->nev ? d->events[i] : NULL; }

void nl_delivery_free(struct nl_delivery *d)
{
    if (!d)
        return;
    free(d->rx);
    free(d->events);
    nl_arena_free(&d->arena);
    free(d);
}
