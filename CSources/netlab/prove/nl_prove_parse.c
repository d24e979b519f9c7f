/*
 * nl_prove_parse.c - packetdrill's script grammar to events (nl_prove_int.h): --options, the init
 * shell line, then events, each a time ("+0.1", "0.200", "*", "a~b", "+a~+b", a blocking call's
 * "...end") and an action: a TCP segment ('<' injected, '>' expected), a syscall with its
 * arguments and expected result ("= -1 EINPROGRESS (...)"), a `shell line` or %{ code }%.
 * Every error names file:line:column and what was expected there. Runs nothing.
 */
#include "nl_prove_int.h"
#include "nl_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pv_syscall_known(const char *name);   /* nl_prove_sys.c */
const char *pv_syscall_list(void);

struct pv_parser {
    struct pv_lexer lx;
    struct pv_script *s;
    char *errbuf;
    const char *defines;          /* -D NAME=VALUE lines (the script's copy), or NULL */
};

/* A -D definition's value for the name at t (len bytes), or NULL. */
static const char *defined(const struct pv_parser *ps, const char *t, size_t len, size_t *vlen)
{
    for (const char *d = ps->defines; d && *d;) {
        const char *eq = strchr(d, '='), *nl = strchr(d, '\n');
        if (!nl)
            nl = d + strlen(d);
        if (eq && eq < nl && (size_t)(eq - d) == len && memcmp(d, t, len) == 0) {
            *vlen = (size_t)(nl - eq - 1);
            return eq + 1;
        }
        d = *nl ? nl + 1 : nl;
    }
    return NULL;
}

static const char *tokname(const struct pv_token *t, char *buf, size_t cap)
{
    switch (t->kind) {
    case PV_EOF: return "the end of the script";
    case PV_BAD: snprintf(buf, cap, "'%.*s' (no token starts so, or it is not closed)", (int)(t->len > 20 ? 20 : t->len), t->text); return buf;
    case PV_SHELL: return "a `shell line`";
    case PV_CODE: return "a %{ code }% block";
    case PV_STR: return "a string";
    default: snprintf(buf, cap, "'%.*s'", (int)(t->len > 30 ? 30 : t->len), t->text); return buf;
    }
}

/* "file:line:col: expected WHAT, found TOKEN" */
static int expected(struct pv_parser *ps, const struct pv_token *t, const char *what)
{
    char b[64];
    return nl_err(ps->errbuf, NL_EMALFORMED, "%s:%d:%d: expected %s, found %s", ps->s->path, t->line, t->col, what,
                  tokname(t, b, sizeof b));
}

static int at_error(struct pv_parser *ps, int line, int col, const char *fmt, const char *arg)
{
    char msg[400];
    snprintf(msg, sizeof msg, fmt, arg);
    return nl_err(ps->errbuf, NL_EMALFORMED, "%s:%d:%d: %s", ps->s->path, line, col, msg);
}

static int is_punct(const struct pv_token *t, char c) { return t->kind == PV_PUNCT && t->c == c; }
static int is_word(const struct pv_token *t, const char *w)
{
    return t->kind == PV_WORD && t->len == strlen(w) && memcmp(t->text, w, t->len) == 0;
}

static int want_punct(struct pv_parser *ps, char c, const char *what)
{
    struct pv_token t = pv_lex_next(&ps->lx);
    return is_punct(&t, c) ? 0 : expected(ps, &t, what);
}

static int want_uint(struct pv_parser *ps, uint64_t max, const char *what, uint64_t *v)
{
    struct pv_token t = pv_lex_next(&ps->lx);
    if (t.kind != PV_INT || t.i < 0)
        return expected(ps, &t, what);
    if ((uint64_t)t.i > max) {
        char m[200];
        snprintf(m, sizeof m, "%s: %lld is out of range (at most %llu)", what, (long long)t.i, (unsigned long long)max);
        return nl_err(ps->errbuf, NL_EMALFORMED, "%s:%d:%d: %s", ps->s->path, t.line, t.col, m);
    }
    *v = (uint64_t)t.i;
    return 0;
}

/* A time in seconds (integer or with a fraction) to microseconds. */
static int want_time(struct pv_parser *ps, int64_t *us)
{
    struct pv_token t = pv_lex_next(&ps->lx);
    if (t.kind != PV_INT && t.kind != PV_FLOAT)
        return expected(ps, &t, "a time in seconds (0.100, +0.1, * or a~b)");
    if (t.f < 0 || t.f > 1e6)
        return expected(ps, &t, "a time from 0 to 1000000 seconds");
    *us = (int64_t)(t.f * 1e6 + 0.5);
    return 0;
}

/* ---- TCP segments ---- */

static int parse_options(struct pv_parser *ps, struct pv_seg *g)
{
    g->opts_given = 1;
    struct pv_token t = pv_lex_peek(&ps->lx);
    if (t.kind == PV_ELLIPSIS) {
        pv_lex_next(&ps->lx);
        g->opts_any = 1;
        return want_punct(ps, '>', "'>' closing the options");
    }
    for (;;) {
        t = pv_lex_next(&ps->lx);
        if (is_punct(&t, '>') && g->nopts == 0)
            return 0;
        if (g->nopts >= PV_MAX_OPTS)
            return at_error(ps, t.line, t.col, "more than %s TCP options", "12");
        struct pv_opt *o = &g->opts[g->nopts];
        memset(o, 0, sizeof *o);
        uint64_t v = 0, v2 = 0;
        int rc = 0;
        if (is_word(&t, "nop")) {
            o->kind = 1, o->len = 1;
        } else if (is_word(&t, "eol")) {
            o->kind = 0, o->len = 1;
        } else if (is_word(&t, "mss")) {
            o->kind = 2, o->len = 4;
            rc = want_uint(ps, 65535, "the MSS value (mss 1460)", &v);
            o->a = (uint32_t)v;
        } else if (is_word(&t, "wscale")) {
            o->kind = 3, o->len = 3;
            rc = want_uint(ps, 255, "the window scale shift (wscale 7)", &v);
            o->a = (uint32_t)v;
        } else if (is_word(&t, "sackOK")) {
            o->kind = 4, o->len = 2;
        } else if (is_word(&t, "sack")) {
            o->kind = 5;
            for (;;) {
                struct pv_token n = pv_lex_peek(&ps->lx);
                if (n.kind != PV_INT)
                    break;
                if (o->nsack >= 4)
                    return at_error(ps, n.line, n.col, "more than %s SACK blocks", "4");
                if ((rc = want_uint(ps, UINT32_MAX, "a SACK block's left edge (sack 1001:2001)", &v)) < 0 ||
                    (rc = want_punct(ps, ':', "':' between a SACK block's edges (sack 1001:2001)")) < 0 ||
                    (rc = want_uint(ps, UINT32_MAX, "a SACK block's right edge (sack 1001:2001)", &v2)) < 0)
                    return rc;
                o->sack[o->nsack][0] = (uint32_t)v;
                o->sack[o->nsack][1] = (uint32_t)v2;
                o->nsack++;
            }
            if (o->nsack == 0) {
                struct pv_token n = pv_lex_peek(&ps->lx);
                return expected(ps, &n, "at least one SACK block (sack 1001:2001)");
            }
            o->len = (uint8_t)(2 + 8 * o->nsack);
        } else if (is_word(&t, "TS")) {
            o->kind = 8, o->len = 10;
            struct pv_token w = pv_lex_next(&ps->lx);
            if (!is_word(&w, "val"))
                return expected(ps, &w, "'val' (TS val 100 ecr 0)");
            if ((rc = want_uint(ps, UINT32_MAX, "the timestamp value (TS val 100 ecr 0)", &v)) < 0)
                return rc;
            w = pv_lex_next(&ps->lx);
            if (!is_word(&w, "ecr"))
                return expected(ps, &w, "'ecr' (TS val 100 ecr 0)");
            rc = want_uint(ps, UINT32_MAX, "the timestamp echo reply (TS val 100 ecr 0)", &v2);
            o->a = (uint32_t)v;
            o->b = (uint32_t)v2;
        } else if (is_word(&t, "FO") || is_word(&t, "FOEXP")) {
            /* RFC 7413 4.1.1: "FO" alone asks for a cookie; "FO abcd1234" carries one */
            struct pv_token c = pv_lex_blob(&ps->lx);
            char why[160];
            size_t dlen = 0;
            const char *dv = c.len ? defined(ps, c.text, c.len, &dlen) : NULL; /* FO TFO_COOKIE, -D TFO_COOKIE=... */
            if (dv)
                c.text = dv, c.len = dlen;
            else
                for (size_t i = 0; i < c.len; i++)
                    if (!isxdigit((unsigned char)c.text[i])) {
                        char nm[64];
                        snprintf(nm, sizeof nm, "%.*s", (int)(c.len < 40 ? c.len : 40), c.text);
                        return at_error(ps, c.line, c.col, "the Fast Open cookie %s is neither hex digits nor a name "
                                        "-D defines (netlab prove -D TFO_COOKIE=3021b9d889017eeb ...)", nm);
                    }
            if (pv_tfo_option(t.len == 5, c.text, c.len, o, why, sizeof why) < 0)
                return at_error(ps, c.line, c.col, "%s", why);
        } else {
            return expected(ps, &t, "a TCP option this runner knows: mss N, wscale N, sackOK, sack A:B, TS val N ecr N, "
                            "FO [cookie], FOEXP [cookie], nop, eol");
        }
        if (rc < 0)
            return rc;
        g->nopts++;
        t = pv_lex_next(&ps->lx);
        if (is_punct(&t, '>'))
            return 0;
        if (!is_punct(&t, ','))
            return expected(ps, &t, "',' or '>' after a TCP option");
    }
}

static int skip_balanced(struct pv_parser *ps, char open, char close)
{
    int depth = 1;
    while (depth > 0) {
        struct pv_token t = pv_lex_next(&ps->lx);
        if (t.kind == PV_EOF || t.kind == PV_BAD) {
            char w[4] = {'\'', close, '\'', 0};
            return expected(ps, &t, w);
        }
        if (is_punct(&t, open))
            depth++;
        else if (is_punct(&t, close))
            depth--;
    }
    return 0;
}

static int parse_segment(struct pv_parser *ps, struct pv_event *e, char dir)
{
    struct pv_seg *g = &e->seg;
    memset(g, 0, sizeof *g);
    g->dir = dir;
    g->win = -1;
    g->urg = -1;
    struct pv_token t = pv_lex_next(&ps->lx);
    g->ecn = -1;
    g->tos = -1;
    if (is_punct(&t, '(') || is_punct(&t, '[')) {   /* IP information: [ce] [ect0] [ect1] [noecn] [ect01] (tos N) */
        char close = t.c == '(' ? ')' : ']';
        struct pv_token w = pv_lex_peek(&ps->lx);
        static const struct { const char *w; int ecn; } marks[] = {
            {"noecn", 0}, {"ect1", 1}, {"ect0", 2}, {"ce", 3}, {"ect01", 4}};
        for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
            if (is_word(&w, marks[i].w))
                g->ecn = marks[i].ecn;
        if (is_word(&w, "tos")) {
            pv_lex_next(&ps->lx);
            uint64_t v;
            int rc = want_uint(ps, 255, "the TOS byte (tos 0x10)", &v);
            if (rc < 0)
                return rc;
            g->tos = (int)v;
        }
        int rc = skip_balanced(ps, t.c, close);   /* ttl, flowlabel: accepted, not checked */
        if (rc < 0)
            return rc;
        if (g->ecn == 4 && dir == '<')
            return at_error(ps, t.line, t.col, "%s", "[ect01] is for expected ('>') segments only");
        t = pv_lex_next(&ps->lx);
    }
    if (is_word(&t, "udp") || is_word(&t, "icmp") || is_word(&t, "gre") || is_word(&t, "mpls"))
        return at_error(ps, t.line, t.col, "%s packets are not supported: netlab prove runs TCP experiments", "UDP/ICMP/GRE/MPLS");
    /* The flags: a word of flag letters, then '.' for ACK; or '.' alone; or '-' for none. */
    if (t.kind == PV_WORD) {
        for (size_t i = 0; i < t.len; i++) {
            switch (t.text[i]) {
            case 'F': g->flags |= PV_FIN; break;
            case 'S': g->flags |= PV_SYN; break;
            case 'R': g->flags |= PV_RST; break;
            case 'P': g->flags |= PV_PSH; break;
            case 'U': g->flags |= PV_URG; break;
            case 'E': g->flags |= PV_ECE; break;
            case 'W': g->flags |= PV_CWR; break;
            default: {
                char m[8] = {t.text[i], 0};
                return at_error(ps, t.line, t.col + (int)i, "unknown TCP flag '%s' (flags are S . P F R U E W; '.' is ACK)", m);
            }
            }
        }
        struct pv_token n = pv_lex_peek(&ps->lx);
        if (is_punct(&n, '.') && n.line == t.line && n.col == t.col + (int)t.len) {
            pv_lex_next(&ps->lx);
            g->flags |= PV_ACK;
        }
    } else if (is_punct(&t, '.')) {
        g->flags |= PV_ACK;
    } else if (!is_punct(&t, '-')) {
        return expected(ps, &t, "TCP flags (S, S., ., P., F., R, R. or -)");
    }
    uint64_t a, b, len;
    int rc;
    struct pv_token seqtok = pv_lex_peek(&ps->lx);
    if ((rc = want_uint(ps, UINT32_MAX, "the sequence numbers start:end(length), as 0:0(0)", &a)) < 0 ||
        (rc = want_punct(ps, ':', "':' in start:end(length)")) < 0 ||
        (rc = want_uint(ps, UINT32_MAX, "the end sequence number in start:end(length)", &b)) < 0 ||
        (rc = want_punct(ps, '(', "'(' and the payload length in start:end(length)")) < 0 ||
        (rc = want_uint(ps, 65535, "the payload length in start:end(length)", &len)) < 0 ||
        (rc = want_punct(ps, ')', "')' after the payload length")) < 0)
        return rc;
    if ((uint32_t)(a + len) != (uint32_t)b)
        return at_error(ps, seqtok.line, seqtok.col, "%s", "inconsistent sequence numbers: end must be start + length");
    g->seq = (uint32_t)a, g->end = (uint32_t)b, g->len = (uint32_t)len;
    for (;;) {
        struct pv_token n = pv_lex_peek(&ps->lx);
        uint64_t v;
        if (is_word(&n, "ack")) {
            pv_lex_next(&ps->lx);
            if ((rc = want_uint(ps, UINT32_MAX, "the acknowledgment number (ack 1)", &v)) < 0)
                return rc;
            g->has_ack = 1, g->ack = (uint32_t)v;
        } else if (is_word(&n, "win")) {
            pv_lex_next(&ps->lx);
            if ((rc = want_uint(ps, 65535, "the window (win 65535)", &v)) < 0)
                return rc;
            g->win = (int)v;
        } else if (is_word(&n, "urg")) {
            pv_lex_next(&ps->lx);
            if ((rc = want_uint(ps, 65535, "the urgent pointer (urg 0)", &v)) < 0)
                return rc;
            g->urg = (int)v;
        } else if (is_punct(&n, '<')) {
            pv_lex_next(&ps->lx);
            return parse_options(ps, g);
        } else {
            break;
        }
    }
    if (dir == '<' && g->win < 0)
        g->win = 65535;  /* not said: what an injected segment carries */
    return 0;
}

/* ---- expressions (syscall arguments) ---- */

static struct pv_expr *new_expr(int kind, const struct pv_token *t)
{
    struct pv_expr *e = calloc(1, sizeof *e);
    if (e) {
        e->kind = kind;
        e->line = t->line;
        e->col = t->col;
    }
    return e;
}

static void free_expr(struct pv_expr *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->nkids; i++)
        free_expr(e->kids[i]);
    free(e->kids);
    free(e->name);
    free(e);
}

static int add_kid(struct pv_parser *ps, struct pv_expr *e, struct pv_expr *k)
{
    struct pv_expr **n = realloc(e->kids, sizeof *n * (size_t)(e->nkids + 1));
    if (!n) {
        free_expr(k);
        return nl_err(ps->errbuf, NL_ENOMEM, "%s: out of memory", ps->s->path);
    }
    e->kids = n;
    e->kids[e->nkids++] = k;
    return 0;
}

static int parse_expr(struct pv_parser *ps, int in_struct, struct pv_expr **out, int depth);

/* items until close, separated by ',' */
static int parse_items(struct pv_parser *ps, struct pv_expr *e, char close, int in_struct, int depth)
{
    struct pv_token t = pv_lex_peek(&ps->lx);
    if (is_punct(&t, close)) {
        pv_lex_next(&ps->lx);
        return 0;
    }
    for (;;) {
        struct pv_expr *k = NULL;
        int rc = parse_expr(ps, in_struct, &k, depth + 1);
        if (rc < 0) {
            free_expr(k);   /* "A|" leaves A built */
            return rc;
        }
        if ((rc = add_kid(ps, e, k)) < 0)
            return rc;
        t = pv_lex_next(&ps->lx);
        if (is_punct(&t, close))
            return 0;
        if (!is_punct(&t, ',')) {
            char w[40];
            snprintf(w, sizeof w, "',' or '%c'", close);
            return expected(ps, &t, w);
        }
    }
}

static int parse_primary(struct pv_parser *ps, int in_struct, struct pv_expr **out, int depth)
{
    if (depth > 16) {
        struct pv_token t = pv_lex_peek(&ps->lx);
        return at_error(ps, t.line, t.col, "%s", "expressions nested deeper than 16 levels");
    }
    struct pv_token t = pv_lex_next(&ps->lx);
    struct pv_expr *e = NULL;
    int rc = 0;
    if (t.kind == PV_INT || (is_punct(&t, '-') && pv_lex_peek(&ps->lx).kind == PV_INT)) {
        int neg = is_punct(&t, '-');
        if (neg)
            t = pv_lex_next(&ps->lx);
        e = new_expr(PV_E_INT, &t);
        if (e)
            e->num = neg ? -t.i : t.i;
    } else if (t.kind == PV_ELLIPSIS) {
        e = new_expr(PV_E_ELLIPSIS, &t);
    } else if (t.kind == PV_STR) {
        e = new_expr(PV_E_STR, &t);
        if (e) {
            e->name = strndup(t.text + 1, t.len - 2);
            if (!e->name) {
                free(e);
                e = NULL;
            }
        }
    } else if (is_punct(&t, '[') || is_punct(&t, '{')) {
        e = new_expr(t.c == '[' ? PV_E_LIST : PV_E_STRUCT, &t);
        if (e && (rc = parse_items(ps, e, t.c == '[' ? ']' : '}', t.c == '{', depth)) < 0) {
            free_expr(e);
            return rc;
        }
    } else if (t.kind == PV_WORD) {
        struct pv_token n = pv_lex_peek(&ps->lx);
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(t.len < 63 ? t.len : 63), t.text);
        if (is_punct(&n, '(')) {
            pv_lex_next(&ps->lx);
            e = new_expr(PV_E_CALL, &t);
            if (e && (e->name = strdup(name)) && (rc = parse_items(ps, e, ')', in_struct, depth)) < 0) {
                free_expr(e);
                return rc;
            }
            n = pv_lex_peek(&ps->lx);
        }
        if (in_struct && is_punct(&n, '=')) {
            pv_lex_next(&ps->lx);
            struct pv_expr *f = new_expr(PV_E_FIELD, &t);
            struct pv_expr *v = NULL;
            if (!f) {
                free_expr(e);
                return nl_err(ps->errbuf, NL_ENOMEM, "out of memory");
            }
            f->name = strdup(name);
            if ((rc = parse_expr(ps, in_struct, &v, depth + 1)) < 0) {
                free_expr(v);
                free_expr(f);
                free_expr(e);
                return rc;
            }
            if ((rc = add_kid(ps, f, v)) < 0) {
                free_expr(f);
                free_expr(e);
                return rc;
            }
            if (e) {   /* msg_iov(1)=...: the call's arguments follow the value */
                for (int i = 0; i < e->nkids; i++)
                    if ((rc = add_kid(ps, f, e->kids[i])) < 0)
                        return rc;
                e->nkids = 0;
                free_expr(e);
            }
            *out = f;
            return f->name ? 0 : nl_err(ps->errbuf, NL_ENOMEM, "out of memory");
        }
        if (!e) {
            int64_t v;
            if (pv_symbol(t.text, t.len, &v) != 0)
                return at_error(ps, t.line, t.col, "unknown constant '%s' (a socket, TCP, fcntl, poll or MSG_ name)", name);
            e = new_expr(PV_E_SYM, &t);
            if (e) {
                e->num = v;
                e->name = strdup(name);
            }
        }
    } else {
        return expected(ps, &t, "an argument: a number, a constant, ..., \"string\", [list] or {struct}");
    }
    if (!e)
        return nl_err(ps->errbuf, NL_ENOMEM, "%s: out of memory", ps->s->path);
    *out = e;
    return 0;
}

static int parse_expr(struct pv_parser *ps, int in_struct, struct pv_expr **out, int depth)
{
    int rc = parse_primary(ps, in_struct, out, depth);
    if (rc < 0)
        return rc;
    for (;;) {   /* A|B|C for flags: folded into one number */
        struct pv_token n = pv_lex_peek(&ps->lx);
        if (!is_punct(&n, '|'))
            return 0;
        pv_lex_next(&ps->lx);
        struct pv_expr *r = NULL;
        if ((rc = parse_primary(ps, in_struct, &r, depth + 1)) < 0)
            return rc;
        if (((*out)->kind != PV_E_INT && (*out)->kind != PV_E_SYM) || (r->kind != PV_E_INT && r->kind != PV_E_SYM)) {
            int line = r->line, col = r->col;
            free_expr(r);
            return at_error(ps, line, col, "%s", "'|' joins numbers and constants only");
        }
        (*out)->num |= r->num;
        (*out)->kind = PV_E_INT;
        free_expr(r);
    }
}

static int parse_syscall(struct pv_parser *ps, struct pv_event *e, struct pv_token name)
{
    struct pv_syscall *sc = &e->sc;
    snprintf(sc->name, sizeof sc->name, "%.*s", (int)(name.len < 23 ? name.len : 23), name.text);
    if (!pv_syscall_known(sc->name))
        return nl_err(ps->errbuf, NL_EMALFORMED, "%s:%d:%d: unknown syscall '%s' (known: %s)", ps->s->path, name.line,
                        name.col, sc->name, pv_syscall_list());
    int rc = want_punct(ps, '(', "'(' and the syscall's arguments");
    if (rc < 0)
        return rc;
    struct pv_expr holder;
    memset(&holder, 0, sizeof holder);
    if ((rc = parse_items(ps, &holder, ')', 0, 0)) < 0) {
        for (int i = 0; i < holder.nkids; i++)
            free_expr(holder.kids[i]);
        free(holder.kids);
        return rc;
    }
    sc->args = holder.kids;
    sc->nargs = holder.nkids;
    if ((rc = want_punct(ps, '=', "'=' and the expected result (= 0, = -1 EAGAIN (...))")) < 0)
        return rc;
    struct pv_token t = pv_lex_next(&ps->lx);
    if (t.kind == PV_ELLIPSIS) {
        sc->result_any = 1;
    } else if (t.kind == PV_INT) {
        sc->result = t.i;
    } else if (is_punct(&t, '-') && pv_lex_peek(&ps->lx).kind == PV_INT) {
        t = pv_lex_next(&ps->lx);
        sc->result = -t.i;
    } else {
        return expected(ps, &t, "the expected result: a number (= 0, = -1) or ...");
    }
    struct pv_token n = pv_lex_peek(&ps->lx);
    if (n.kind == PV_WORD && n.len > 1 && n.text[0] == 'E' && n.line == t.line) {
        pv_lex_next(&ps->lx);
        snprintf(sc->errname, sizeof sc->errname, "%.*s", (int)(n.len < 23 ? n.len : 23), n.text);
        if (pv_errno_value(sc->errname, &sc->err) != 0)
            return at_error(ps, n.line, n.col, "unknown errno name '%s'", sc->errname);
        n = pv_lex_peek(&ps->lx);
    }
    if (is_punct(&n, '(') && n.line == t.line) {   /* a note for people: "(Operation now in progress)" */
        pv_lex_next(&ps->lx);
        if ((rc = skip_balanced(ps, '(', ')')) < 0)
            return rc;
    }
    return 0;
}

/* The source line of an event, trimmed, for verdicts and capture comments. */
static char *line_text(const struct pv_script *s, int line)
{
    const char *p = s->source, *end = s->source + s->source_len;
    for (int l = 1; l < line && p < end; p++)
        if (*p == '\n')
            l++;
    const char *q = p;
    while (q < end && *q != '\n')
        q++;
    while (p < q && (*p == ' ' || *p == '\t'))
        p++;
    while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
        q--;
    size_t n = (size_t)(q - p);
    if (n > 300)
        n = 300;
    return strndup(p, n);
}

static char *unquote(const struct pv_token *t)
{
    size_t n = t->len - 2;
    if (t->kind == PV_CODE) {   /* as packetdrill: spaces and tabs after %{ and before }% dropped */
        const char *a = t->text + 2, *b = t->text + t->len - 2;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        return strndup(a, (size_t)(b - a));
    }
    char *o = malloc(n + 1);
    if (!o)
        return NULL;
    memcpy(o, t->text + 1, n);
    o[n] = 0;
    return o;
}

static int parse_event(struct pv_parser *ps, struct pv_token first)
{
    struct pv_script *s = ps->s;
    if (NL_GROW(s->ev, (size_t)s->nev, s->cap, 64) < 0)
        return nl_err(ps->errbuf, NL_ENOMEM, "%s: out of memory", s->path);
    struct pv_event *e = &s->ev[s->nev];
    memset(e, 0, sizeof *e);
    s->nev++;   /* owned by the script from here: pv_script_free frees a half-parsed event too */
    e->line = first.line;
    e->col = first.col;
    int rc;
    struct pv_token t = first;
    if (is_punct(&t, '*')) {
        e->tkind = PV_T_ANY;
    } else if (is_punct(&t, '+')) {
        e->tkind = PV_T_REL;
        if ((rc = want_time(ps, &e->t_us)) < 0)
            return rc;
        struct pv_token n = pv_lex_peek(&ps->lx);
        if (is_punct(&n, '~')) {
            pv_lex_next(&ps->lx);
            if ((rc = want_punct(ps, '+', "'+' and the end of the relative range (+0.1~+0.2)")) < 0 ||
                (rc = want_time(ps, &e->t_end_us)) < 0)
                return rc;
            e->tkind = PV_T_REL_RANGE;
        }
    } else if (t.kind == PV_INT || t.kind == PV_FLOAT) {
        ps->lx.has_peek = 1, ps->lx.peeked = t;
        if ((rc = want_time(ps, &e->t_us)) < 0)
            return rc;
        e->tkind = PV_T_ABS;
        struct pv_token n = pv_lex_peek(&ps->lx);
        if (is_punct(&n, '~')) {
            pv_lex_next(&ps->lx);
            if ((rc = want_time(ps, &e->t_end_us)) < 0)
                return rc;
            e->tkind = PV_T_ABS_RANGE;
        }
    } else {
        return expected(ps, &t, "an event's time (0.100, +0.1, * or a~b)");
    }
    if ((e->tkind == PV_T_ABS_RANGE || e->tkind == PV_T_REL_RANGE) && e->t_end_us < e->t_us)
        return at_error(ps, t.line, t.col, "%s", "the time range is backwards (its end is before its start)");
    t = pv_lex_next(&ps->lx);
    int blocking = 0;
    int64_t end_us = 0;
    if (t.kind == PV_ELLIPSIS) {
        blocking = 1;
        if ((rc = want_time(ps, &end_us)) < 0)
            return rc;
        t = pv_lex_next(&ps->lx);
    }
    if (is_punct(&t, '<') || is_punct(&t, '>')) {
        e->kind = PV_EV_PACKET;
        if ((rc = parse_segment(ps, e, t.c)) < 0)
            return rc;
    } else if (t.kind == PV_WORD && pv_lex_peek(&ps->lx).kind == PV_PUNCT &&
               pv_lex_peek(&ps->lx).c == '(') {
        e->kind = PV_EV_SYSCALL;
        if ((rc = parse_syscall(ps, e, t)) < 0)
            return rc;
        e->sc.blocking = blocking;
        e->sc.end_us = end_us;
    } else if (t.kind == PV_SHELL || t.kind == PV_CODE) {
        e->kind = t.kind == PV_SHELL ? PV_EV_SHELL : PV_EV_CODE;
        if (!(e->text = unquote(&t)))
            return nl_err(ps->errbuf, NL_ENOMEM, "out of memory");
    } else {
        return expected(ps, &t, "a segment ('<' or '>'), a syscall (name(...) = result), a `shell line` or %{ code }%");
    }
    if (blocking && e->kind != PV_EV_SYSCALL)
        return at_error(ps, first.line, first.col, "%s", "a start...end time is for blocking syscalls only");
    if ((e->tkind == PV_T_ANY || e->tkind == PV_T_ABS_RANGE || e->tkind == PV_T_REL_RANGE) &&
        !(e->kind == PV_EV_PACKET && e->seg.dir == '>'))
        return at_error(ps, first.line, first.col, "%s", "'*' and time ranges are for expected ('>') segments only");
    e->src = line_text(s, e->line);
    return 0;
}

void pv_script_free(struct pv_script *s)
{
    for (int i = 0; i < s->nev; i++) {
        struct pv_event *e = &s->ev[i];
        for (int k = 0; k < e->sc.nargs; k++)
            free_expr(e->sc.args[k]);
        free(e->sc.args);
        free(e->text);
        free(e->src);
    }
    free(s->ev);
    free(s->source);
    free(s->init_command);
    free(s->cleanup_command);
    free(s->defines);
    memset(s, 0, sizeof *s);
}

static int parse_option(struct pv_parser *ps, struct pv_token t)
{
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(t.len < 63 ? t.len : 63), t.text);
    struct pv_token n = pv_lex_peek(&ps->lx);
    struct pv_token v = {0};
    if (is_punct(&n, '=')) {
        pv_lex_next(&ps->lx);
        v = pv_lex_next(&ps->lx);
        if (v.kind == PV_EOF || v.kind == PV_BAD)
            return expected(ps, &v, "the option's value");
        /* dotted values (addresses) come as several tokens: take the rest of the line */
        while (pv_lex_peek(&ps->lx).line == v.line && pv_lex_peek(&ps->lx).kind != PV_EOF &&
               pv_lex_peek(&ps->lx).kind != PV_OPTION)
            pv_lex_next(&ps->lx);
    }
    int needs = !strcmp(name, "--mss") || !strcmp(name, "--tolerance_usecs") || !strcmp(name, "--ip_version");
    if (needs && !v.text)
        return at_error(ps, t.line, t.col, "%s needs a value after '=' (--mss=1000, --tolerance_usecs=10000, "
                        "--ip_version=ipv4)", name);
    if (strcmp(name, "--mss") == 0) {
        if (v.kind != PV_INT || v.i < 64 || v.i > 65535)
            return expected(ps, &v, "an MSS from 64 to 65535 (--mss=1000)");
        ps->s->mss = (int)v.i;
    } else if (strcmp(name, "--tcp_ts_tick_usecs") == 0) {
        if (v.kind != PV_INT || v.i < 0 || v.i > 1000000)
            return expected(ps, &v, "microseconds per TS val tick (--tcp_ts_tick_usecs=1000)");
        ps->s->ts_tick_us = v.i;
    } else if (strcmp(name, "--tolerance_usecs") == 0) {
        if (v.kind != PV_INT || v.i < 0 || v.i > 10000000)
            return expected(ps, &v, "microseconds (--tolerance_usecs=10000)");
        ps->s->tolerance_us = v.i;
    } else if (strcmp(name, "--ip_version") == 0) {
        /* the value as written, to the end of its line ("ipv4-mapped-ipv6" lexes as several tokens) */
        const char *a = v.text, *b = v.text;
        while (b < ps->lx.end && *b != '\n' && *b != ' ' && *b != '\t' && *b != '\r')
            b++;
        size_t n = (size_t)(b - a);
        if (v.kind != PV_EOF && n == 4 && memcmp(a, "ipv4", 4) == 0)
            ps->s->mapped = 0;
        else if (n == 16 && memcmp(a, "ipv4-mapped-ipv6", 16) == 0)
            ps->s->mapped = 1;
        else if (n == 4 && memcmp(a, "ipv6", 4) == 0)
            ps->s->ipv6 = 1;
        else
            return at_error(ps, v.line, v.col, "%s", "--ip_version: give ipv4, ipv4-mapped-ipv6 or ipv6");
    } else if (strcmp(name, "--local_ip") == 0 && v.text) {
        /* tun0's address; the Fast Open cookie a server computes depends on it (RFC 7413 4.1.2) */
        char a[64];
        const char *b = v.text;
        while (b < ps->lx.end && *b != '\n' && *b != ' ' && *b != '\t' && *b != '\r' && *b != '/')
            b++;
        snprintf(a, sizeof a, "%.*s", (int)(b - v.text < 63 ? b - v.text : 63), v.text);
        if (inet_pton(AF_INET, a, ps->s->local_ip) == 1 && ps->s->local_ip[0] == 192 && ps->s->local_ip[1] == 168)
            ps->s->has_local_ip = 1;
        /* other addresses (IPv6, outside 192.168.0.0/16): accepted, not applied */
    }
    /* other packetdrill options (--mtu, --tolerance_percent, ...) are accepted and not applied */
    return 0;
}

static int parse_text(struct pv_script *s, const char *path, const char *text, size_t len, const char *defines,
                      char *errbuf);

int pv_parse(struct pv_script *s, const char *path, char *errbuf) { return pv_parse_defs(s, path, NULL, errbuf); }

int pv_parse_defs(struct pv_script *s, const char *path, const char *defines, char *errbuf)
{
    struct nl_file f;
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    int rc = nl_file_load(&f, path, "the script", "a script file", 4u << 20, errbuf);
    if (rc < 0)
        return rc;
    rc = parse_text(s, path, (const char *)f.data, f.size, defines, errbuf);
    nl_file_release(&f);
    return rc;
}

int pv_parse_text(struct pv_script *s, const char *path, const char *text, size_t len, char *errbuf)
{
    return parse_text(s, path, text, len, NULL, errbuf);
}

static int parse_text(struct pv_script *s, const char *path, const char *text, size_t len, const char *defines,
                      char *errbuf)
{
    memset(s, 0, sizeof *s);
    if (defines && !(s->defines = strdup(defines)))
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory", path);
    snprintf(s->path, sizeof s->path, "%s", path);
    snprintf(s->dir, sizeof s->dir, "%s", path);
    char *slash = strrchr(s->dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(s->dir, sizeof s->dir, ".");
    int rc;
    s->source = malloc(len + 1);
    if (!s->source)
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory", path);
    memcpy(s->source, text, len);
    s->source[len] = 0;
    s->source_len = len;
    if (memchr(s->source, 0, s->source_len))
        return nl_err(errbuf, NL_EMALFORMED, "%s: a NUL byte: this is not a script (text) file", path);
    struct pv_parser ps = {.s = s, .errbuf = errbuf, .defines = s->defines};
    pv_lex_init(&ps.lx, s->source, s->source_len);
    ps.lx.defs = s->defines;
    int seen_event = 0;
    for (;;) {
        struct pv_token t = pv_lex_next(&ps.lx);
        if (t.kind == PV_EOF)
            break;
        if (t.kind == PV_OPTION && !seen_event) {
            if ((rc = parse_option(&ps, t)) < 0)
                return rc;
            continue;
        }
        if (t.kind == PV_SHELL && !seen_event && !s->init_command) {
            if (!(s->init_command = unquote(&t)))
                return nl_err(errbuf, NL_ENOMEM, "out of memory");
            continue;
        }
        if (t.kind == PV_SHELL && seen_event && pv_lex_peek(&ps.lx).kind == PV_EOF) {
            if (!(s->cleanup_command = unquote(&t)))
                return nl_err(errbuf, NL_ENOMEM, "out of memory");
            continue;
        }
        if ((rc = parse_event(&ps, t)) < 0)
            return rc;
        seen_event = 1;
    }
    if (s->nev == 0)
        return nl_err(errbuf, NL_EMALFORMED, "%s:1:1: expected at least one event (a time and an action), found none",
                      path);
    s->ipv4_only = 1;
    return 0;
}
