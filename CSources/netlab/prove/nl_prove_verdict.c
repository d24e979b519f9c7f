/*
 * nl_prove_verdict.c - words a finished run: for people, each line with its outcome, then the
 * first line that did not hold with the expected and the actual segment field by field (the
 * differing field marked), or the time against the window allowed, and the kernel's TCP_INFO at
 * that moment; for machines, the whole run as one JSON object (escaped here, in C). Decides nothing.
 */
#include "nl_prove_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pv_out_printf(struct pv_out *o, const char *fmt, ...)
{
    if (o->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = o->cap - o->len;
        int n = vsnprintf(o->p ? o->p + o->len : NULL, o->p ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (o->p && (size_t)n < room) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap ? o->cap * 2 : 4096;
        while (cap < o->len + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(o->p, cap);
        if (!p) {
            o->oom = 1;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
}

void pv_out_json_str(struct pv_out *o, const char *s)
{
    pv_out_printf(o, "\"");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            pv_out_printf(o, "\\%c", *p);
        else if (*p == '\n')
            pv_out_printf(o, "\\n");
        else if (*p == '\t')
            pv_out_printf(o, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            pv_out_printf(o, "\\u%04x", *p);
        else
            pv_out_printf(o, "%c", *p);
    }
    pv_out_printf(o, "\"");
}

static const char *kind_word(int k)
{
    switch (k) {
    case PV_F_FIELD: return "segment";
    case PV_F_TIME: return "time";
    case PV_F_TIMEOUT: return "missing segment";
    case PV_F_SYSCALL: return "syscall result";
    case PV_F_BLOCKED: return "blocked syscall";
    case PV_F_SHELL: return "shell line";
    case PV_F_CODE: return "code assertion";
    case PV_F_SETUP: return "setup";
    case PV_F_STOPPED: return "stopped";
    default: return "";
    }
}

static void opt_word(char *b, size_t cap, const struct pv_opt *o)
{
    pv_opts_format(b, cap, o, 1);
}

/* The field table of a '>' line: expected | actual | mark. */
static void field_table(const struct pv_run *r, int ev, struct pv_out *o)
{
    const struct pv_seg *g = &r->s->ev[ev].seg;
    const struct pv_rec *rec = &r->rec[ev];
    const struct pv_wire *a = &rec->actual;
    char e[96], x[96];
    pv_out_printf(o, "    %-14s %-26s %-26s\n", "field", "expected", "actual");
#define ROW(name, bit, ...)                                                                                             \
    do {                                                                                                                 \
        pv_out_printf(o, "    %-14s %-26s %-26s%s\n", name, e, x, (rec->diff & (bit)) ? "  <-- differs" : "");      \
    } while (0)
    pv_flags_format(e, sizeof e, g->flags);
    pv_flags_format(x, sizeof x, a->flags);
    ROW("flags", PV_D_FLAGS);
    snprintf(e, sizeof e, "%u", g->seq);
    snprintf(x, sizeof x, "%u", a->seq);
    ROW("seq", PV_D_SEQ);
    if (g->flags & PV_ACK)
        snprintf(e, sizeof e, "%u", g->ack);
    else
        snprintf(e, sizeof e, "(no ACK flag)");
    snprintf(x, sizeof x, "%u", a->ack);
    ROW("ack", PV_D_ACK);
    snprintf(e, sizeof e, "%u", g->len);
    snprintf(x, sizeof x, "%u", a->len);
    ROW("length", PV_D_LEN);
    if (g->win >= 0)
        snprintf(e, sizeof e, "%d", g->win);
    else
        snprintf(e, sizeof e, "(not checked)");
    snprintf(x, sizeof x, "%u", a->win);
    ROW("win", PV_D_WIN);
    if (g->ecn >= 0 || g->tos >= 0) {
        static const char *const ecn[] = {"noecn", "ect1", "ect0", "ce", "ect0 or ect1"};
        if (g->tos >= 0)
            snprintf(e, sizeof e, "tos 0x%02x", (unsigned)g->tos);
        else
            snprintf(e, sizeof e, "%s", ecn[g->ecn]);
        snprintf(x, sizeof x, "tos 0x%02x (%s)", a->tos, ecn[a->tos & 3]);
        ROW("tos/ecn", PV_D_TOS);
    }
    if (g->opts_any) {
        snprintf(e, sizeof e, "<...> (not checked)");
        pv_opts_format(x, sizeof x, a->opts, a->nopts);
        ROW("options", 0);
    } else {
        int n = g->nopts > a->nopts ? g->nopts : a->nopts;
        if (n == 0) {
            snprintf(e, sizeof e, "(none)");
            snprintf(x, sizeof x, "(none)");
            ROW("options", 0);
        }
        for (int i = 0; i < n; i++) {
            char name[24];
            snprintf(name, sizeof name, "option %d", i + 1);
            if (i < g->nopts)
                opt_word(e, sizeof e, &g->opts[i]);
            else
                snprintf(e, sizeof e, "(none)");
            if (i < a->nopts)
                opt_word(x, sizeof x, &a->opts[i]);
            else
                snprintf(x, sizeof x, "(none)");
            pv_out_printf(o, "    %-14s %-26s %-26s%s\n", name, e, x,
                          (rec->diff & PV_D_OPTS) && rec->diff_opt == i ? "  <-- differs" : "");
        }
    }
#undef ROW
}

static const char *outcome(const struct pv_run *r, int i)
{
    const struct pv_rec *rec = &r->rec[i];
    if (!rec->reached)
        return "-";
    if (r->failed && r->fail.ev == i)
        return "FAILED";
    return rec->ok ? "ok" : "FAILED";
}

void pv_verdict_text(const struct pv_run *r, const char *pcap, const char *csv, struct pv_out *o)
{
    const struct pv_script *s = r->s;
    pv_out_printf(o, "netlab prove %s\n", s->path);
    pv_out_printf(o, "  %5s  %10s  %-7s %s\n", "line", "time (s)", "outcome", "script");
    for (int i = 0; i < s->nev; i++) {
        const struct pv_rec *rec = &r->rec[i];
        if (!rec->reached)
            break;
        pv_out_printf(o, "  %5d  %10.6f  %-7s %s\n", s->ev[i].line, rec->live_us / 1e6, outcome(r, i),
                      s->ev[i].src ? s->ev[i].src : "");
        if (r->o && r->o->explain) {
            char ex[2048];
            pv_explain_line(r, i, ex, sizeof ex);
            /* indent every line of the explanation */
            const char *p = ex;
            while (*p) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                pv_out_printf(o, "                              | %.*s\n", (int)n, p);
                p += n + (nl ? 1 : 0);
            }
        }
    }
    if (r->failed) {
        const struct pv_fail *f = &r->fail;
        if (f->ev >= 0) {
            const struct pv_event *e = &s->ev[f->ev];
            const struct pv_rec *rec = &r->rec[f->ev];
            pv_out_printf(o, "\nFAILED %s:%d: %s\n", s->path, e->line, e->src ? e->src : "");
            pv_out_printf(o, "  %s%s%s: %s\n", kind_word(f->kind), f->field[0] ? ", field " : "", f->field, f->msg);
            if (f->kind == PV_F_FIELD) {
                field_table(r, f->ev, o);
                char ex[400], ac[400];
                pv_seg_format(ex, sizeof ex, e->seg.flags, e->seg.seq, e->seg.len, (e->seg.flags & PV_ACK) != 0,
                              e->seg.ack, e->seg.win, e->seg.opts, e->seg.nopts, e->seg.opts_any);
                pv_seg_format(ac, sizeof ac, rec->actual.flags, rec->actual.seq, rec->actual.len,
                              (rec->actual.flags & PV_ACK) != 0, rec->actual.ack, rec->actual.win, rec->actual.opts,
                              rec->actual.nopts, 0);
                pv_out_printf(o, "    expected: > %s\n    actual:   > %s  (at %.6f s)\n", ex, ac, rec->live_us / 1e6);
            } else if (f->kind == PV_F_TIME && e->kind == PV_EV_PACKET) {
                char win[96];
                if (rec->want_end_us != rec->want_us)
                    snprintf(win, sizeof win, "from %.6f s to %.6f s", rec->want_us / 1e6, rec->want_end_us / 1e6);
                else
                    snprintf(win, sizeof win, "at %.6f s", rec->want_us / 1e6);
                int64_t edge = rec->live_us < rec->want_us ? rec->want_us : rec->want_end_us;
                pv_out_printf(o, "    expected %s, tolerance %.3f ms; it came at %.6f s (%+.3f ms %s)\n", win,
                              rec->tol_us / 1e3, rec->live_us / 1e6, (rec->live_us - edge) / 1e3,
                              rec->live_us < edge ? "early" : "late");
            }
            char ti[600];
            pv_tcpinfo_brief(&rec->ti, ti, sizeof ti);
            pv_out_printf(o, "  TCP_INFO then: %s\n", ti);
        } else {
            pv_out_printf(o, "\nFAILED %s (before the first line): %s\n", s->path, f->msg);
        }
    }
    if (pcap && pcap[0])
        pv_out_printf(o, "capture: %s (%zu packets, each commented with its script line)\n", pcap, r->npk);
    if (csv && csv[0])
        pv_out_printf(o, "TCP_INFO timeline: %s\n", csv);
    int n = 0;
    for (int i = 0; i < s->nev; i++)
        n += r->rec[i].reached && r->rec[i].ok;
    pv_out_printf(o, "%s: %d of %d lines held in %.3f s (timing tolerance %.1f ms; scheduling jitter p99 %.3f ms)\n",
                  r->failed ? "FAILED" : "held", n, s->nev, r->end_us / 1e6, r->tol_us / 1e3, r->jitter_us / 1e3);
}

static void json_tcpinfo(const struct pv_tcpinfo *t, struct pv_out *o)
{
    if (!t->valid) {
        pv_out_printf(o, "null");
        return;
    }
    pv_out_printf(o, "{");
    for (int i = 0; i < pv_tcpinfo_count(); i++)
        pv_out_printf(o, "%s\"%s\":%llu", i ? "," : "", pv_tcpinfo_name(i), (unsigned long long)t->v[i]);
    pv_out_printf(o, "}");
}

static void json_seg(struct pv_out *o, uint8_t flags, uint32_t seq, uint32_t len, uint32_t ack, int has_ack, int win,
                     const struct pv_opt *opts, int nopts, int opts_any)
{
    char f[16], text[400], op[400];
    pv_flags_format(f, sizeof f, flags);
    pv_seg_format(text, sizeof text, flags, seq, len, has_ack, ack, win, opts, nopts, opts_any);
    pv_opts_format(op, sizeof op, opts, nopts);
    pv_out_printf(o, "{\"text\":");
    pv_out_json_str(o, text);
    pv_out_printf(o, ",\"flags\":");
    pv_out_json_str(o, f);
    pv_out_printf(o, ",\"seq\":%u,\"length\":%u", seq, len);
    if (has_ack)
        pv_out_printf(o, ",\"ack\":%u", ack);
    if (win >= 0)
        pv_out_printf(o, ",\"win\":%d", win);
    pv_out_printf(o, ",\"options\":");
    pv_out_json_str(o, opts_any ? "..." : op);
    pv_out_printf(o, "}");
}

void pv_verdict_json(const struct pv_run *r, const char *pcap, const char *csv, struct pv_out *o)
{
    const struct pv_script *s = r->s;
    pv_out_printf(o, "{\"script\":");
    pv_out_json_str(o, s->path);
    pv_out_printf(o, ",\"passed\":%s,\"seconds\":%.6f,\"tolerance_ms\":%.3f,\"jitter_p99_ms\":%.3f,\"capture\":",
                  r->failed ? "false" : "true", r->end_us / 1e6, r->tol_us / 1e3, r->jitter_us / 1e3);
    if (pcap && pcap[0])
        pv_out_json_str(o, pcap);
    else
        pv_out_printf(o, "null");
    pv_out_printf(o, ",\"timeline\":");
    if (csv && csv[0])
        pv_out_json_str(o, csv);
    else
        pv_out_printf(o, "null");
    pv_out_printf(o, ",\"packets\":%zu,\"events\":[", r->npk);
    for (int i = 0; i < s->nev; i++) {
        const struct pv_event *e = &s->ev[i];
        const struct pv_rec *rec = &r->rec[i];
        static const char *const kinds[] = {"packet", "syscall", "shell", "code"};
        pv_out_printf(o, "%s{\"line\":%d,\"source\":", i ? "," : "", e->line);
        pv_out_json_str(o, e->src);
        pv_out_printf(o, ",\"kind\":\"%s\",\"outcome\":\"%s\"", kinds[e->kind], rec->reached ? (rec->ok ? "ok" : "failed") : "not reached");
        if (rec->reached) {
            pv_out_printf(o, ",\"time_s\":%.6f,\"window_s\":[%.6f,%.6f],\"tolerance_ms\":%.3f", rec->live_us / 1e6,
                          rec->want_us / 1e6, rec->want_end_us / 1e6, rec->tol_us / 1e3);
            if (e->kind == PV_EV_PACKET) {
                pv_out_printf(o, ",\"direction\":\"%s\",\"expected\":", e->seg.dir == '<' ? "in" : "out");
                json_seg(o, e->seg.flags, e->seg.seq, e->seg.len, e->seg.ack, (e->seg.flags & PV_ACK) != 0, e->seg.win,
                         e->seg.opts, e->seg.nopts, e->seg.opts_any);
                if (rec->has_actual) {
                    pv_out_printf(o, ",\"actual\":");
                    json_seg(o, rec->actual.flags, rec->actual.seq, rec->actual.len, rec->actual.ack,
                             (rec->actual.flags & PV_ACK) != 0, rec->actual.win, rec->actual.opts, rec->actual.nopts, 0);
                }
            }
            if (e->kind == PV_EV_SYSCALL)
                pv_out_printf(o, ",\"result\":%lld,\"errno\":\"%s\"", (long long)rec->sys_ret,
                              rec->sys_errno ? pv_errno_name(rec->sys_errno) : "");
            pv_out_printf(o, ",\"tcp_info\":");
            json_tcpinfo(&rec->ti, o);
            if (r->o && r->o->explain) {
                char ex[2048];
                pv_explain_line(r, i, ex, sizeof ex);
                pv_out_printf(o, ",\"explain\":");
                pv_out_json_str(o, ex);
            }
        }
        pv_out_printf(o, "}");
    }
    pv_out_printf(o, "],\"failure\":");
    if (!r->failed) {
        pv_out_printf(o, "null}");
        return;
    }
    const struct pv_fail *f = &r->fail;
    pv_out_printf(o, "{\"line\":%d,\"kind\":", f->ev >= 0 ? s->ev[f->ev].line : 0);
    pv_out_json_str(o, kind_word(f->kind));
    pv_out_printf(o, ",\"field\":");
    pv_out_json_str(o, f->field);
    pv_out_printf(o, ",\"message\":");
    pv_out_json_str(o, f->msg);
    if (f->ev >= 0) {
        static const char *const names[] = {"flags", "seq", "ack", "length", "win", "urg", "options", "tos/ecn"};
        pv_out_printf(o, ",\"differing_fields\":[");
        int k = 0;
        for (int b = 0; b < 8; b++)
            if (r->rec[f->ev].diff & (1u << b))
                pv_out_printf(o, "%s\"%s\"", k++ ? "," : "", names[b]);
        pv_out_printf(o, "],\"tcp_info\":");
        json_tcpinfo(&r->rec[f->ev].ti, o);
    }
    pv_out_printf(o, "}}");
}
