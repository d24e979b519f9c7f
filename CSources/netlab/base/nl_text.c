/*
 * nl_text.c - UTF-8 decoding (RFC 3629 section 4 syntax, nothing more lenient)
 * and the one text path for untrusted text (capture contents, names, payloads)
 * on its way to a terminal: one line, a followed stream, or a JSON string. Also
 * the echo exercise's transform (reverse by character, swap ASCII case). Pure
 * functions over byte ranges: no allocation, no I/O.
 */
#include "netlab/nl_text.h"
#include "nl_internal.h"

#include <stdio.h>
#include <string.h>

size_t nl_utf8_seq(const uint8_t *p, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    uint8_t b0 = p[0];
    if (b0 < 0x80) {
        if (cp)
            *cp = b0;
        return 1;
    }
    size_t len;
    uint32_t v;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte (RFC 3629 section 4) */
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
        v = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        v = b0 & 0x0F;
        if (b0 == 0xE0)
            lo = 0xA0; /* no overlongs */
        if (b0 == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        v = b0 & 0x07;
        if (b0 == 0xF0)
            lo = 0x90; /* no overlongs */
        if (b0 == 0xF4)
            hi = 0x8F; /* nothing past U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 (overlong lead), F5..FF */
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    v = (v << 6) | (p[1] & 0x3F);
    for (size_t i = 2; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (cp)
        *cp = v;
    return len;
}

int nl_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i + 8 <= n && !(nl_load64(p + i) & NL_HIGH_BITS))
            i += 8; /* eight ASCII bytes */
        if (i == n)
            break;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = nl_utf8_seq(p + i, n - i, NULL);
        if (l == 0)
            return 0;
        i += l;
    }
    return 1;
}

/* Code points a terminal or a bidi-aware renderer would act on rather than show. */
static int is_invisible_control(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9F)        /* C1 controls: 0x9B is CSI, 0x9D is OSC */
        || cp == 0x061C                      /* ARABIC LETTER MARK */
        || cp == 0x200E || cp == 0x200F      /* LRM, RLM */
        || (cp >= 0x202A && cp <= 0x202E)    /* LRE, RLE, PDF, LRO, RLO */
        || (cp >= 0x2066 && cp <= 0x2069)    /* LRI, RLI, FSI, PDI */
        || cp == 0x2028 || cp == 0x2029;     /* LINE / PARAGRAPH SEPARATOR */
}

/* What the non-ASCII character at p[0..n) is, for every writer below: a byte that is not UTF-8
 * (length 1, *cp the byte), a masked control (C1, bidirectional, separator), or one to show. */
enum nonascii { NA_BAD, NA_MASKED, NA_SHOWN };

static size_t next_nonascii(const uint8_t *p, size_t n, uint32_t *cp, enum nonascii *what)
{
    size_t l = nl_utf8_seq(p, n, cp);
    if (l == 0) {
        *cp = p[0];
        *what = NA_BAD;
        return 1;
    }
    *what = is_invisible_control(*cp) ? NA_MASKED : NA_SHOWN;
    return l;
}

/* An output written snprintf-style: what fits in out[0..cap) (a NUL kept room for), o counts all. */
struct tout {
    char *out;
    size_t cap, o;
};

static inline void put(struct tout *t, uint8_t c)
{
    if (t->o + 1 < t->cap)
        t->out[t->o] = (char)c;
    t->o++;
}

static void put_str(struct tout *t, const char *s)
{
    while (*s)
        put(t, (uint8_t)*s++);
}

static void put_bytes(struct tout *t, const uint8_t *p, size_t n)
{
    for (size_t k = 0; k < n; k++)
        put(t, p[k]);
}

static void put_fmt_cp(struct tout *t, const char *fmt, uint32_t cp)
{
    char tmp[16];
    snprintf(tmp, sizeof tmp, fmt, (unsigned)cp);
    put_str(t, tmp);
}

static size_t finish(struct tout *t)
{
    if (t->cap > 0)
        t->out[t->o < t->cap ? t->o : t->cap - 1] = 0;
    return t->o;
}

int nl_text_plain(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            if (p[i] < 0x20 || p[i] == 0x7F)
                return 0;
            i++;
            continue;
        }
        uint32_t cp;
        enum nonascii what;
        i += next_nonascii(p + i, n - i, &cp, &what);
        if (what != NA_SHOWN)
            return 0;
    }
    return 1;
}

size_t nl_text_sanitize(const uint8_t *p, size_t n, char *out, size_t cap)
{
    struct tout t = {out, cap, 0};
    for (size_t i = 0; i < n;) {
        uint8_t b = p[i];
        if ((b >= 0x20 && b < 0x7F) || b == '\t') {
            put(&t, b);
            i++;
        } else if (b < 0x80) {
            put(&t, '^');
            put(&t, b == 0x7F ? '?' : b + 0x40);
            i++;
        } else {
            uint32_t cp;
            enum nonascii what;
            size_t l = next_nonascii(p + i, n - i, &cp, &what);
            if (what == NA_BAD)
                put_fmt_cp(&t, "\\x%02X", cp);
            else if (what == NA_MASKED)
                put_fmt_cp(&t, "<U+%04X>", cp);
            else
                put_bytes(&t, p + i, l);
            i += l;
        }
    }
    return finish(&t);
}

size_t nl_text_escape(const uint8_t *p, size_t n, unsigned flags, size_t max_chars, char *out, size_t cap)
{
    struct tout t = {out, cap, 0};
    int keep = (flags & NL_TEXT_KEEP_LINES) != 0;
    size_t chars = 0;
    for (size_t i = 0; i < n; chars++) {
        if (max_chars && chars >= max_chars) {
            put_str(&t, "\xE2\x80\xA6"); /* U+2026 HORIZONTAL ELLIPSIS */
            break;
        }
        uint8_t b = p[i];
        if (b < 0x80) {
            i++;
            if (keep && (b == '\n' || b == '\t')) {
                put(&t, b);
            } else if (!keep && (b == '\n' || b == '\r' || b == '\t' || b == '\\')) {
                put(&t, '\\');
                put(&t, b == '\n' ? 'n' : b == '\r' ? 'r' : b == '\t' ? 't' : '\\');
            } else if (b < 0x20 || b == 0x7F) {
                put_fmt_cp(&t, "\\x%02x", b);
            } else {
                put(&t, b);
            }
            continue;
        }
        uint32_t cp;
        enum nonascii what;
        size_t l = next_nonascii(p + i, n - i, &cp, &what);
        if (what == NA_BAD)
            put_str(&t, "\xEF\xBF\xBD"); /* U+FFFD: the byte is not UTF-8 */
        else if (what == NA_MASKED)
            put_fmt_cp(&t, cp <= 0x9F ? "\\x%02x" : "<U+%04X>", cp);
        else
            put_bytes(&t, p + i, l);
        i += l;
    }
    return finish(&t);
}

/* The non-ASCII character at p (n bytes left) as UTF-8 text: a byte that is not UTF-8 as U+FFFD, a
 * masked control (C1, bidi, line separators) in the notation masked_fmt gives its code point, the
 * rest as it is. Returns the bytes it took. Shared by the JSON and Markdown writers. */
static size_t put_utf8(struct tout *t, const uint8_t *p, size_t n, const char *masked_fmt)
{
    uint32_t cp;
    enum nonascii what;
    size_t l = next_nonascii(p, n, &cp, &what);
    if (what == NA_BAD)
        put_str(t, "\xEF\xBF\xBD");
    else if (what == NA_MASKED)
        put_fmt_cp(t, masked_fmt, cp);
    else
        put_bytes(t, p, l);
    return l;
}

size_t nl_text_json(const uint8_t *p, size_t n, char *out, size_t cap)
{
    struct tout t = {out, cap, 0};
    for (size_t i = 0; i < n;) {
        uint8_t b = p[i];
        if (b >= 0x20 && b < 0x7F) {
            if (b == '"' || b == '\\')
                put(&t, '\\');
            put(&t, b);
            i++;
        } else if (b < 0x80) {
            /* RFC 8259 section 7: the two-character escapes where one exists, else \u00xx. */
            const char *two = b == '\b' ? "\\b" : b == '\f' ? "\\f" : b == '\n' ? "\\n" : b == '\r' ? "\\r"
                            : b == '\t' ? "\\t" : NULL;
            if (two)
                put_str(&t, two);
            else
                put_fmt_cp(&t, "\\u%04x", b);
            i++;
        } else {
            i += put_utf8(&t, p + i, n - i, "\\u%04x"); /* U+FFFD for a bad byte: JSON text is UTF-8 (8.1) */
        }
    }
    return finish(&t);
}

/* CommonMark 0.31 section 2.4: ASCII punctuation may be backslash-escaped. Escaped: what can
 * open code, emphasis, links and images ([ ] start both; '(' and '!' mean nothing without them),
 * headings, table cells and strikethrough; '<', '>' and '&' become entities
 * (section 2.5), which every Markdown dialect decodes. The rest stays readable (10.0.0.1:7). */
size_t nl_text_markdown(const uint8_t *p, size_t n, char *out, size_t cap)
{
    struct tout t = {out, cap, 0};
    for (size_t i = 0; i < n;) {
        uint8_t b = p[i];
        if (b >= 0x20 && b < 0x7F) {
            if (b == '<')
                put_str(&t, "&lt;");
            else if (b == '>')
                put_str(&t, "&gt;");
            else if (b == '&')
                put_str(&t, "&amp;");
            else {
                /* Also what starts GitHub's extended autolinks: the ':' of "://", the '.' of "www.". */
                int autolink = (b == ':' && i + 2 < n && p[i + 1] == '/' && p[i + 2] == '/') ||
                               (b == '.' && i >= 3 && (p[i - 1] | 0x20) == 'w' && (p[i - 2] | 0x20) == 'w' &&
                                (p[i - 3] | 0x20) == 'w');
                if (strchr("\\`*_[]#|~", b) || autolink)
                    put(&t, '\\');
                put(&t, b);
            }
            i++;
        } else if (b < 0x80) {
            /* A line break or control: nl_text_escape's notation, its backslash escaped. */
            const char *two = b == '\n' ? "\\\\n" : b == '\r' ? "\\\\r" : b == '\t' ? "\\\\t" : NULL;
            if (two)
                put_str(&t, two);
            else
                put_fmt_cp(&t, "\\\\x%02x", b);
            i++;
        } else {
            i += put_utf8(&t, p + i, n - i, "&lt;U+%04X&gt;");
        }
    }
    return finish(&t);
}

/* ---- the echo transform ---- */

static inline uint8_t swap_case(uint8_t c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
        return c ^ 0x20;
    return c;
}

size_t nl_echo_transform(const uint8_t *in, size_t n, uint8_t *out)
{
    /* Each character at [i, i+l) lands at [n-i-l, n-i): reversed, bytes of a character kept in order. */
    size_t i = 0;
    while (i < n) {
        uint8_t b = in[i];
        if (b < 0x80) {
            out[n - i - 1] = swap_case(b);
            i++;
            continue;
        }
        size_t l = nl_utf8_seq(in + i, n - i, NULL);
        if (l == 0)
            l = 1; /* not UTF-8: the byte stands alone */
        memcpy(out + n - i - l, in + i, l);
        i += l;
    }
    return n;
}

/* ---- the transforms an echo exercise may ask for ---- */

static const char *const transform_names[NL_TRANSFORM_COUNT] = {
    [NL_TRANSFORM_REVERSE_SWAPCASE] = "reverse-swapcase",
    [NL_TRANSFORM_IDENTITY] = "identity",
    [NL_TRANSFORM_UPPER] = "upper",
    [NL_TRANSFORM_LOWER] = "lower",
    [NL_TRANSFORM_SWAPCASE] = "swapcase",
    [NL_TRANSFORM_REVERSE] = "reverse",
};

int nl_transform_from_name(const char *name)
{
    for (int t = 0; name && t < NL_TRANSFORM_COUNT; t++)
        if (strcmp(name, transform_names[t]) == 0)
            return t;
    return -1;
}

const char *nl_transform_name(int t) { return t >= 0 && t < NL_TRANSFORM_COUNT ? transform_names[t] : "?"; }

static void reverse_chars(const uint8_t *in, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n;) {
        size_t l = in[i] < 0x80 ? 1 : nl_utf8_seq(in + i, n - i, NULL);
        if (l == 0)
            l = 1;
        memcpy(out + n - i - l, in + i, l);
        i += l;
    }
}

size_t nl_text_transform(int t, const uint8_t *in, size_t n, uint8_t *out)
{
    switch (t) {
    case NL_TRANSFORM_REVERSE_SWAPCASE:
        return nl_echo_transform(in, n, out);
    case NL_TRANSFORM_REVERSE:
        reverse_chars(in, n, out);
        return n;
    default:
        break;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        int letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        if (letter && t == NL_TRANSFORM_UPPER)
            c &= (uint8_t)~0x20;
        else if (letter && t == NL_TRANSFORM_LOWER)
            c |= 0x20;
        else if (letter && t == NL_TRANSFORM_SWAPCASE)
            c ^= 0x20;
        out[i] = c;
    }
    return n;
}
