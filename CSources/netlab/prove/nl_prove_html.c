/*
 * nl_prove_html.c - an experiment drawn on one page (NAME.html beside the capture): the script with
 * each line's outcome and time beside the time-sequence graph of the kernel's segments (its data as
 * bars, retransmissions in red, the acknowledgments it received as a step line, every mark labelled
 * with its script line), and the TCP_INFO timeline (cwnd, ssthresh, RTO) under it. Inline SVG, no
 * script, no network. Draws what the run recorded; decides nothing.
 */
#include "nl_prove_int.h"
#include "nl_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void html_text(struct pv_out *o, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': pv_out_printf(o, "&lt;"); break;
        case '>': pv_out_printf(o, "&gt;"); break;
        case '&': pv_out_printf(o, "&amp;"); break;
        case '"': pv_out_printf(o, "&quot;"); break;
        default: pv_out_printf(o, "%c", *s);
        }
    }
}

#define W 760.0
#define H 420.0
#define PAD 56.0

static void pv_html_page(const struct pv_run *r, const char *pcap, const char *csv, struct pv_out *o)
{
    const struct pv_script *s = r->s;
    int64_t tmax = 1;
    uint32_t smax = 1;
    for (int i = 0; i < s->nev; i++) {
        const struct pv_rec *rec = &r->rec[i];
        if (!rec->reached)
            break;
        if (rec->live_us > tmax)
            tmax = rec->live_us;
        const struct pv_event *e = &s->ev[i];
        if (e->kind != PV_EV_PACKET)
            continue;
        if (e->seg.dir == '>' && rec->has_actual && rec->actual.seq + rec->actual.len > smax &&
            rec->actual.seq + rec->actual.len < 0x7fffffff)
            smax = rec->actual.seq + rec->actual.len;
        if (e->seg.dir == '<' && (e->seg.flags & PV_ACK) && e->seg.ack > smax && e->seg.ack < 0x7fffffff)
            smax = e->seg.ack;
    }
    tmax = tmax + tmax / 20 + 1000;
    smax = smax + smax / 20 + 1;
#define X(us) (PAD + (W - PAD - 12) * (double)(us) / (double)tmax)
#define Y(seq) (H - PAD - (H - PAD - 14) * (double)(seq) / (double)smax)
    pv_out_printf(o, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>netlab prove: ");
    html_text(o, s->path);
    pv_out_printf(o, "</title><style>body{font-family:sans-serif;margin:20px}"
                     ".row{display:flex;gap:20px;align-items:flex-start}pre{font-size:12px;line-height:1.45;margin:0}"
                     ".ok{color:#1a7f37}.failed{color:#cf222e;font-weight:bold}.nr{color:#888}"
                     "svg{background:#fafafa;border:1px solid #ddd;flex-shrink:0}text{font-size:10px}</style></head><body>\n");
    pv_out_printf(o, "<h1>");
    html_text(o, s->path);
    pv_out_printf(o, ": %s</h1>\n<p>%s in %.3f s; timing tolerance %.1f ms. Capture: ", r->failed ? "FAILED" : "held",
                  r->failed ? "a line did not hold" : "every line held", r->end_us / 1e6, r->tol_us / 1e3);
    html_text(o, pcap && pcap[0] ? pcap : "(none)");
    pv_out_printf(o, "; TCP_INFO timeline: ");
    html_text(o, csv && csv[0] ? csv : "(none)");
    pv_out_printf(o, ".</p>\n");
    if (r->failed) {
        pv_out_printf(o, "<p class=\"failed\">line %d: ", r->fail.ev >= 0 ? s->ev[r->fail.ev].line : 0);
        html_text(o, r->fail.field);
        pv_out_printf(o, ": ");
        html_text(o, r->fail.msg);
        pv_out_printf(o, "</p>\n");
    }
    pv_out_printf(o, "<div class=\"row\"><pre>");
    for (int i = 0; i < s->nev; i++) {
        const struct pv_rec *rec = &r->rec[i];
        const char *cls = !rec->reached ? "nr" : (rec->ok ? "ok" : "failed");
        pv_out_printf(o, "<span class=\"%s\">%4d %10.6f  ", cls, s->ev[i].line, rec->reached ? rec->live_us / 1e6 : 0.0);
        html_text(o, s->ev[i].src);
        pv_out_printf(o, "</span>\n");
    }
    pv_out_printf(o, "</pre>\n");
    /* the time-sequence graph */
    pv_out_printf(o, "<svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">", W, H, W, H);
    pv_out_printf(o, "<text x=\"%.0f\" y=\"12\">sequence (the kernel's, relative)</text>", PAD);
    pv_out_printf(o, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">time (s)</text>", W - 12, H - 8);
    pv_out_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>", PAD, H - PAD, W - 12, H - PAD);
    pv_out_printf(o, "<line x1=\"%.1f\" y1=\"14\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>", PAD, PAD, H - PAD);
    for (int k = 0; k <= 4; k++) {
        int64_t t = tmax * k / 4;
        uint32_t q = (uint32_t)((uint64_t)smax * (uint64_t)k / 4);
        pv_out_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.3f</text>", X(t), H - PAD + 14, t / 1e6);
        pv_out_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%u</text>", PAD - 4, Y(q) + 3, q);
    }
    /* acknowledgments received: a step line */
    int have = 0;
    double px = 0, py = 0;
    for (int i = 0; i < s->nev; i++) {
        const struct pv_event *e = &s->ev[i];
        const struct pv_rec *rec = &r->rec[i];
        if (!rec->reached || e->kind != PV_EV_PACKET || e->seg.dir != '<' || !(e->seg.flags & PV_ACK) ||
            e->seg.ack >= 0x7fffffff)
            continue;
        double x = X(rec->live_us), y = Y(e->seg.ack);
        if (have)
            pv_out_printf(o, "<polyline points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"none\" stroke=\"#1a7f37\"/>", px,
                          py, x, py, x, y);
        pv_out_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"#1a7f37\"><title>line %d: ack %u</title></circle>",
                      x, y, e->line, e->seg.ack);
        pv_out_printf(o, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#1a7f37\">%d</text>", x + 3, y + 11, e->line);
        px = x, py = y, have = 1;
    }
    /* the kernel's segments: a bar from seq to seq+len (a dot for an empty one) */
    for (int i = 0; i < s->nev; i++) {
        const struct pv_event *e = &s->ev[i];
        const struct pv_rec *rec = &r->rec[i];
        if (!rec->reached || e->kind != PV_EV_PACKET || e->seg.dir != '>' || !rec->has_actual)
            continue;
        const struct pv_wire *a = &rec->actual;
        if (a->seq >= 0x7fffffff)
            continue;
        const char *col = rec->retx && rec->retx != PV_RETX_PROBE ? "#cf222e" : (rec->ok ? "#0550ae" : "#bf8700");
        double x = X(rec->live_us);
        char f[16];
        pv_flags_format(f, sizeof f, a->flags);
        if (a->len > 0)
            pv_out_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\">",
                          x, Y(a->seq), x, Y(a->seq + a->len), col);
        else
            pv_out_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\">", x, Y(a->seq), col);
        pv_out_printf(o, "<title>line %d: %s %u:%u(%u)%s</title></%s>", e->line, f, a->seq, a->seq + a->len, a->len,
                      rec->retx == PV_RETX_TIMEOUT ? " retransmitted on timeout"
                      : rec->retx == PV_RETX_DUPACK ? " fast retransmit"
                      : rec->retx == PV_RETX_TLP ? " tail loss probe"
                      : rec->retx == PV_RETX_SACK ? " SACK recovery" : "",
                      a->len > 0 ? "line" : "circle");
        pv_out_printf(o, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">%d %s</text>", x + 4, Y(a->seq + a->len) - 2, col,
                      e->line, f);
    }
    pv_out_printf(o, "</svg></div>\n");
    /* the TCP_INFO timeline */
    uint64_t cmax = 1, rmax = 1;
    for (int i = 0; i < s->nev; i++) {
        const struct pv_tcpinfo *t = &r->rec[i].ti;
        if (!r->rec[i].reached || !t->valid)
            continue;
        uint64_t c = pv_tcpinfo_get(t, "tcpi_snd_cwnd"), ss = pv_tcpinfo_get(t, "tcpi_snd_ssthresh");
        uint64_t rto = pv_tcpinfo_get(t, "tcpi_rto");
        if (c > cmax)
            cmax = c;
        if (ss < 100000 && ss > cmax)
            cmax = ss;
        if (rto > rmax)
            rmax = rto;
    }
    double h2 = 200;
    pv_out_printf(o, "<h2>TCP_INFO at every line</h2><svg width=\"%.0f\" height=\"%.0f\">", W, h2 + 30);
    pv_out_printf(o, "<text x=\"%.0f\" y=\"12\">cwnd <tspan fill=\"#0550ae\">(blue)</tspan>, ssthresh "
                     "<tspan fill=\"#8250df\">(purple)</tspan>: segments, 0 to %llu; RTO <tspan fill=\"#cf222e\">(red)"
                     "</tspan>: 0 to %.0f ms</text>", PAD, (unsigned long long)cmax, rmax / 1e3);
    pv_out_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>", PAD, h2, W - 12, h2);
    static const struct { const char *field, *colour; int rto; } series[] = {
        {"tcpi_snd_cwnd", "#0550ae", 0}, {"tcpi_snd_ssthresh", "#8250df", 0}, {"tcpi_rto", "#cf222e", 1}};
    for (size_t k = 0; k < sizeof series / sizeof series[0]; k++) {
        pv_out_printf(o, "<polyline fill=\"none\" stroke=\"%s\" points=\"", series[k].colour);
        int started = 0;
        double last = 0;
        for (int i = 0; i < s->nev; i++) {
            const struct pv_tcpinfo *t = &r->rec[i].ti;
            if (!r->rec[i].reached || !t->valid)
                continue;
            uint64_t v = pv_tcpinfo_get(t, series[k].field);
            if (!series[k].rto && v >= 100000)
                continue;   /* an infinite ssthresh */
            double y = h2 - (h2 - 20) * (double)v / (double)(series[k].rto ? rmax : cmax);
            if (started)   /* a step: the value holds until the next line's sample */
                pv_out_printf(o, "%.1f,%.1f ", X(r->rec[i].live_us), last);
            pv_out_printf(o, "%.1f,%.1f ", X(r->rec[i].live_us), y);
            last = y;
            started = 1;
        }
        pv_out_printf(o, "\"/>");
    }
    pv_out_printf(o, "</svg>\n<p>Made by netlab prove from the run itself: the segments as the kernel sent them "
                     "(sequence numbers relative to its ISN), the acknowledgments as injected.</p></body></html>\n");
#undef X
#undef Y
}

int pv_html_write(const struct pv_run *r, const char *path, const char *pcap, const char *csv, char *errbuf)
{
    struct pv_out o = {0};
    pv_html_page(r, pcap, csv, &o);
    if (o.oom || !o.p)
        return nl_err(errbuf, NL_ENOMEM, "out of memory drawing the experiment");
    FILE *f = fopen(path, "w");
    if (!f) {
        int e = errno;
        free(o.p);
        return nl_err_sys(errbuf, e, "%s", path);
    }
    size_t w = fwrite(o.p, 1, o.len, f);
    int bad = fclose(f) != 0 || w != o.len;
    free(o.p);
    return bad ? nl_err_sys(errbuf, errno ? errno : EIO, "%s: write failed", path) : 0;
}
