/*
 * nl_prove_lex.c - the lexer of packetdrill's script language: numbers (decimal, hex, seconds with a
 * fraction), words, "strings", `shell lines`, %{ code }%, "...", --options, punctuation; // and
 * C comments and white space (newlines too) are skipped. Every token carries its line and column.
 * Knows nothing of the grammar (nl_prove_parse.c) and never reads past the source's end.
 */
#include "nl_prove_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void pv_lex_init(struct pv_lexer *lx, const char *src, size_t len)
{
    memset(lx, 0, sizeof *lx);
    lx->src = lx->p = src;
    lx->end = src + len;
    lx->line = 1;
    lx->col = 1;
}

static void adv(struct pv_lexer *lx)
{
    if (lx->p >= lx->end)
        return;
    if (*lx->p == '\n') {
        lx->line++;
        lx->col = 1;
    } else {
        lx->col++;
    }
    lx->p++;
}

static int at(const struct pv_lexer *lx, size_t off) { return lx->p + off < lx->end ? (unsigned char)lx->p[off] : -1; }

static void skip_space(struct pv_lexer *lx)
{
    for (;;) {
        int c = at(lx, 0);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            adv(lx);
        } else if (c == '/' && at(lx, 1) == '/') {
            while (lx->p < lx->end && *lx->p != '\n')
                adv(lx);
        } else if (c == '/' && at(lx, 1) == '*') {
            adv(lx);
            adv(lx);
            while (lx->p < lx->end && !(at(lx, 0) == '*' && at(lx, 1) == '/'))
                adv(lx);
            adv(lx);
            adv(lx);
        } else {
            return;
        }
    }
}

static int is_word(int c) { return c >= 0 && (isalnum(c) || c == '_'); }

static struct pv_token lex(struct pv_lexer *lx)
{
    skip_space(lx);
    struct pv_token t;
    memset(&t, 0, sizeof t);
    t.line = lx->line;
    t.col = lx->col;
    t.text = lx->p;
    if (lx->p >= lx->end) {
        t.kind = PV_EOF;
        return t;
    }
    int c = at(lx, 0);
    if (c == '.' && at(lx, 1) == '.' && at(lx, 2) == '.') {
        adv(lx), adv(lx), adv(lx);
        t.kind = PV_ELLIPSIS;
    } else if (c == '-' && at(lx, 1) == '-' && is_word(at(lx, 2))) {
        adv(lx), adv(lx);
        while (is_word(at(lx, 0)))
            adv(lx);
        t.kind = PV_OPTION;  /* the value, if any, follows as '=' and a token */
    } else if (c == '0' && (at(lx, 1) == 'x' || at(lx, 1) == 'X') && isxdigit(at(lx, 2))) {
        adv(lx), adv(lx);
        uint64_t v = 0;
        while (isxdigit(at(lx, 0))) {
            int d = at(lx, 0);
            v = v * 16 + (uint64_t)(isdigit(d) ? d - '0' : (tolower(d) - 'a' + 10));
            adv(lx);
        }
        t.kind = PV_INT;
        t.i = (int64_t)v;
        t.f = (double)v;
    } else if (isdigit(c) || (c == '.' && isdigit(at(lx, 1)))) {
        size_t n = 0;
        while (isdigit(at(lx, n)))
            n++;
        int is_float = at(lx, n) == '.' && isdigit(at(lx, n + 1));
        if (is_float) {
            n++;
            while (isdigit(at(lx, n)))
                n++;
        }
        if (!is_float && is_word(at(lx, n))) {   /* a word starting with digits ("3way") */
            while (is_word(at(lx, n)))
                n++;
            for (size_t k = 0; k < n; k++)
                adv(lx);
            t.kind = PV_WORD;
        } else {
            char num[64];
            size_t m = n < sizeof num - 1 ? n : sizeof num - 1;
            memcpy(num, lx->p, m);
            num[m] = 0;
            for (size_t k = 0; k < n; k++)
                adv(lx);
            t.kind = is_float ? PV_FLOAT : PV_INT;
            t.f = strtod(num, NULL);
            if (n > 18)   /* more digits than an int64 holds exactly: not a number this language uses */
                t.kind = PV_BAD;
            else
                t.i = is_float ? (int64_t)t.f : strtoll(num, NULL, 10);
        }
    } else if (is_word(c)) {
        while (is_word(at(lx, 0)))
            adv(lx);
        t.kind = PV_WORD;
    } else if (c == '"' || c == '`') {
        int q = c;
        adv(lx);
        while (lx->p < lx->end && at(lx, 0) != q) {
            if (at(lx, 0) == '\\' && lx->p + 1 < lx->end)
                adv(lx);
            adv(lx);
        }
        if (lx->p >= lx->end) {
            t.kind = PV_BAD;
            t.len = (size_t)(lx->p - t.text);
            return t;
        }
        adv(lx);
        t.kind = q == '"' ? PV_STR : PV_SHELL;
    } else if (c == '%' && at(lx, 1) == '{') {
        adv(lx), adv(lx);
        while (lx->p < lx->end && !(at(lx, 0) == '}' && at(lx, 1) == '%'))
            adv(lx);
        if (lx->p >= lx->end) {
            t.kind = PV_BAD;
            t.len = (size_t)(lx->p - t.text);
            return t;
        }
        adv(lx), adv(lx);
        t.kind = PV_CODE;
    } else if (strchr("+~*<>:(),[]{}=|-.;!&/", c)) {
        adv(lx);
        t.kind = PV_PUNCT;
        t.c = (char)c;
    } else {
        adv(lx);
        t.kind = PV_BAD;
    }
    t.len = (size_t)(lx->p - t.text);
    return t;
}

/* packetdrill's -D NAME=VALUE: a word that is a defined name becomes its value's token: a number
 * (strtol's bases), a "string", a `shell line`, or else a word. defs is "NAME=VALUE\n..." and
 * outlives the lexer, so the token's text may point into it. */
static struct pv_token defined(const struct pv_lexer *lx, struct pv_token t)
{
    if (t.kind != PV_WORD || !lx->defs)
        return t;
    for (const char *d = lx->defs; *d;) {
        const char *eq = strchr(d, '='), *nl = strchr(d, '\n');
        if (!nl)
            nl = d + strlen(d);
        if (eq && eq < nl && (size_t)(eq - d) == t.len && memcmp(d, t.text, t.len) == 0) {
            const char *v = eq + 1;
            size_t n = (size_t)(nl - v);
            char num[64];
            if (n > 0 && n < sizeof num) {
                memcpy(num, v, n);
                num[n] = 0;
                char *end;
                errno = 0;
                long long i = strtoll(num, &end, 0);
                if (*end == 0 && errno == 0) {
                    t.kind = PV_INT;
                    t.i = i;
                    t.f = (double)i;
                    t.text = v;
                    t.len = n;
                    return t;
                }
            }
            t.text = v;
            t.len = n;
            if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
                t.kind = PV_STR;
            else if (n >= 2 && v[0] == '`' && v[n - 1] == '`')
                t.kind = PV_SHELL;
            return t;
        }
        d = *nl ? nl + 1 : nl;
    }
    return t;
}

struct pv_token pv_lex_next(struct pv_lexer *lx)
{
    if (lx->has_peek) {
        lx->has_peek = 0;
        return lx->peeked;
    }
    return defined(lx, lex(lx));
}

struct pv_token pv_lex_peek(struct pv_lexer *lx)
{
    if (!lx->has_peek) {
        lx->peeked = defined(lx, lex(lx));
        lx->has_peek = 1;
    }
    return lx->peeked;
}

struct pv_token pv_lex_blob(struct pv_lexer *lx)
{
    if (lx->has_peek) {   /* already lexed: a word or a number is the blob itself */
        struct pv_token t = lx->peeked;
        if (t.kind == PV_WORD || t.kind == PV_INT) {
            /* the number's token may stop before the letters of "3021b9...": re-read from its start */
            lx->has_peek = 0;
            lx->p = t.text;
            lx->line = t.line;
            lx->col = t.col;
        } else {
            t.kind = PV_EOF;
            t.len = 0;
            return t;
        }
    }
    skip_space(lx);
    struct pv_token t = {.kind = PV_WORD, .line = lx->line, .col = lx->col, .text = lx->p};
    while (is_word(at(lx, 0)))
        adv(lx);
    t.len = (size_t)(lx->p - t.text);
    if (t.len == 0)
        t.kind = PV_EOF;
    return t;
}
