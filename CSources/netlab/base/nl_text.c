/*
 * nl_text.c - UTF-8 decoding (RFC 3629 section 4 syntax, nothing more lenient)
 * and the one text path for untrusted text (capture contents, names, payloads)
 * on its way to a terminal: one line, a followed stream, or a JSON string. Also
 * the echo exercise's transform (reverse by character, swap ASCII case). Pure
 * functions over byte ranges: no allocation, no I/O.
 */
#include "netlab/nl_text.h"

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
        size_t l = nl_utf8_seq(p + i, n - i, &cp);
        if (l == 0 || is_invisible_control(cp))
            return 0;
        i += l;
    }
    return 1;
}

size_t nl_text_sanitize(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t o = 0;
#define PUT(c)                     \
    do {                           \
        if (o + 1 < cap)           \
            out[o] = (char)(c);    \
        o++;                       \
    } while (0)
    for (size_t i = 0; i < n;) {
        uint8_t b = p[i];
        if ((b >= 0x20 && b < 0x7F) || b == '\t') {
            PUT(b);
            i++;
        } else if (b < 0x20 || b == 0x7F) {
            PUT('^');
            PUT(b == 0x7F ? '?' : b + 0x40);
            i++;
        } else {
            uint32_t cp;
            size_t l = nl_utf8_seq(p + i, n - i, &cp);
            char tmp[16];
            if (l == 0) {
                snprintf(tmp, sizeof tmp, "\\x%02X", b);
                for (const char *t = tmp; *t; t++)
                    PUT(*t);
                i++;
            } else if (is_invisible_control(cp)) {
                snprintf(tmp, sizeof tmp, "<U+%04X>", (unsigned)cp);
                for (const char *t = tmp; *t; t++)
                    PUT(*t);
                i += l;
            } else {
                for (size_t k = 0; k < l; k++)
                    PUT(p[i + k]);
                i += l;
            }
        }
    }
#undef PUT
    if (cap > 0)
        out[o < cap ? o : cap - 1] = 0;
    return o;
}

size_t nl_text_escape(const uint8_t *p, size_t n, unsigned flags, size_t max_chars, char *out, size_t cap)
{
    size_t o = 0, chars = 0;
#define PUTS(str)                                  \
    do {                                           \
        for (const char *t_ = (str); *t_; t_++) {  \
            if (o + 1 < cap)                       \
                out[o] = *t_;                      \
            o++;                                   \
        }                                          \
    } while (0)
    int keep = (flags & NL_TEXT_KEEP_LINES) != 0;
    char tmp[16];
    for (size_t i = 0; i < n; chars++) {
        if (max_chars && chars >= max_chars) {
            PUTS("\xE2\x80\xA6"); /* U+2026 HORIZONTAL ELLIPSIS */
            break;
        }
        uint8_t b = p[i];
        if (b < 0x80) {
            i++;
            if (keep && (b == '\n' || b == '\t')) {
                tmp[0] = (char)b, tmp[1] = 0;
            } else if (!keep && (b == '\n' || b == '\r' || b == '\t' || b == '\\')) {
                tmp[0] = '\\', tmp[1] = b == '\n' ? 'n' : b == '\r' ? 'r' : b == '\t' ? 't' : '\\', tmp[2] = 0;
            } else if (b < 0x20 || b == 0x7F) {
                snprintf(tmp, sizeof tmp, "\\x%02x", b);
            } else {
                tmp[0] = (char)b, tmp[1] = 0;
            }
            PUTS(tmp);
            continue;
        }
        uint32_t cp;
        size_t l = nl_utf8_seq(p + i, n - i, &cp);
        if (l == 0) {
            PUTS("\xEF\xBF\xBD"); /* U+FFFD: the byte is not UTF-8 */
            i++;
            continue;
        }
        if (cp <= 0x9F) {
            snprintf(tmp, sizeof tmp, "\\x%02x", (unsigned)cp);
            PUTS(tmp);
        } else if (is_invisible_control(cp)) {
            snprintf(tmp, sizeof tmp, "<U+%04X>", (unsigned)cp);
            PUTS(tmp);
        } else {
            memcpy(tmp, p + i, l);
            tmp[l] = 0;
            PUTS(tmp);
        }
        i += l;
    }
#undef PUTS
    if (cap > 0)
        out[o < cap ? o : cap - 1] = 0;
    return o;
}

size_t nl_text_json(const uint8_t *p, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
#define PUT(c)                  \
    do {                        \
        if (o + 1 < cap)        \
            out[o] = (char)(c); \
        o++;                    \
    } while (0)
#define PUTU(v)                         \
    do {                                \
        PUT('\\');                      \
        PUT('u');                       \
        PUT(hex[((v) >> 12) & 15]);     \
        PUT(hex[((v) >> 8) & 15]);      \
        PUT(hex[((v) >> 4) & 15]);      \
        PUT(hex[(v) & 15]);             \
    } while (0)
    for (size_t i = 0; i < n;) {
        uint8_t b = p[i];
        if (b >= 0x20 && b < 0x7F) {
            if (b == '"' || b == '\\')
                PUT('\\');
            PUT(b);
            i++;
            continue;
        }
        if (b < 0x80) {
            /* RFC 8259 section 7: the two-character escapes where one exists, else \u00xx. */
            const char *two = b == '\b' ? "b" : b == '\f' ? "f" : b == '\n' ? "n" : b == '\r' ? "r" : b == '\t' ? "t" : NULL;
            if (two) {
                PUT('\\');
                PUT(*two);
            } else {
                PUTU(b);
            }
            i++;
            continue;
        }
        uint32_t cp;
        size_t l = nl_utf8_seq(p + i, n - i, &cp);
        if (l == 0) {
            PUT(0xEF); /* U+FFFD: the byte is not UTF-8 */
            PUT(0xBF);
            PUT(0xBD);
            i++;
        } else if (is_invisible_control(cp)) {
            PUTU(cp);
            i += l;
        } else {
            for (size_t k = 0; k < l; k++)
                PUT(p[i + k]);
            i += l;
        }
    }
#undef PUTU
#undef PUT
    if (cap > 0)
        out[o < cap ? o : cap - 1] = 0;
    return o;
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
