/*
 * fuzz_text - arbitrary bytes through the one text path (nl_text.c) in each of its
 * forms: the terminal line (nl_text_escape, with and without a character limit), the
 * followed stream (NL_TEXT_KEEP_LINES), the caret notation (nl_text_sanitize), the JSON
 * string (nl_text_json), and the test of plain text (nl_text_plain). Every output must be
 * UTF-8 holding nothing a terminal acts on (no C0 but LF/TAB where the form keeps them, no
 * DEL, no C1, no bidirectional control); every length returned must be the length written; a short buffer must get
 * a NUL-terminated prefix and nothing past it; and the JSON form must decode (RFC 8259
 * escapes) to exactly the input's characters, a byte that is not UTF-8 read as U+FFFD.
 * Aborts on any broken invariant.
 *
 * Input: byte 0 picks the character limit and the short buffer's size, the rest is the text.
 */
#include <netlab.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)       \
    do {               \
        if (!(c))      \
            abort();   \
    } while (0)

static int masked(uint32_t cp)
{
    return (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

/* s[0..n) is UTF-8 whose only controls are LF and TAB when keep_lines, none otherwise. */
static void check_inert(const char *s, size_t n, int keep_lines)
{
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = nl_utf8_seq(p + i, n - i, &cp);
        CHECK(l > 0);
        CHECK(!(cp < 0x20 && !(keep_lines && (cp == '\n' || cp == '\t'))));
        CHECK(!masked(cp));
        i += l;
    }
}

static size_t put_utf8(uint32_t cp, uint8_t *o)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decode a JSON string's inside (RFC 8259 section 7) into out; returns its length. Aborts on bad JSON. */
static size_t json_decode(const char *s, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = (uint8_t)s[i];
        CHECK(c >= 0x20 && c != '"');
        if (c != '\\') {
            out[o++] = c;
            i++;
            continue;
        }
        CHECK(i + 1 < n);
        char e = s[i + 1];
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *k = strchr(from, e);
        if (e && k) {
            out[o++] = (uint8_t)to[k - from];
            i += 2;
            continue;
        }
        CHECK(e == 'u' && i + 6 <= n);
        uint32_t cp = 0;
        for (int d = 0; d < 4; d++) {
            int h = hexval(s[i + 2 + d]);
            CHECK(h >= 0);
            cp = cp << 4 | (uint32_t)h;
        }
        CHECK(cp < 0xD800 || cp > 0xDFFF); /* the path never needs a surrogate pair */
        o += put_utf8(cp, out + o);
        i += 6;
    }
    return o;
}

/* The input with every byte that is not UTF-8 replaced by U+FFFD. */
static size_t repaired(const uint8_t *p, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t l = nl_utf8_seq(p + i, n - i, NULL);
        if (l == 0) {
            o += put_utf8(0xFFFD, out + o);
            i++;
        } else {
            memcpy(out + o, p + i, l);
            o += l;
            i += l;
        }
    }
    return o;
}

/* One writer: full length, the full text, then a short buffer that must hold a NUL-terminated prefix. */
typedef size_t (*writer)(const uint8_t *p, size_t n, unsigned arg, char *out, size_t cap);

static size_t w_escape(const uint8_t *p, size_t n, unsigned limit, char *out, size_t cap)
{
    return nl_text_escape(p, n, 0, limit, out, cap);
}
static size_t w_stream(const uint8_t *p, size_t n, unsigned limit, char *out, size_t cap)
{
    (void)limit;
    return nl_text_escape(p, n, NL_TEXT_KEEP_LINES, 0, out, cap);
}
static size_t w_sanitize(const uint8_t *p, size_t n, unsigned limit, char *out, size_t cap)
{
    (void)limit;
    return nl_text_sanitize(p, n, out, cap);
}
static size_t w_json(const uint8_t *p, size_t n, unsigned limit, char *out, size_t cap)
{
    (void)limit;
    return nl_text_json(p, n, out, cap);
}

static char *run(writer w, const uint8_t *p, size_t n, unsigned arg, size_t shortcap, size_t *len)
{
    size_t need = w(p, n, arg, NULL, 0);
    char *s = malloc(need + 1);
    CHECK(s);
    CHECK(w(p, n, arg, s, need + 1) == need);
    CHECK(strlen(s) == need);
    char *cut = malloc(shortcap ? shortcap : 1);
    CHECK(cut);
    CHECK(w(p, n, arg, cut, shortcap) == need);
    if (shortcap) {
        size_t k = strlen(cut);
        CHECK(k < shortcap && k <= need && memcmp(cut, s, k) == 0);
    }
    free(cut);
    *len = need;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned limit = data[0] & 0x3F;          /* 0: no limit */
    size_t shortcap = (size_t)(data[0] >> 6) * 7; /* 0, 7, 14, 21 */
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    size_t len;
    char *s;

    s = run(w_escape, p, n, limit, shortcap, &len);
    check_inert(s, len, 0);
    free(s);
    s = run(w_stream, p, n, 0, shortcap, &len);
    check_inert(s, len, 1);
    free(s);
    s = run(w_sanitize, p, n, 0, shortcap, &len);
    check_inert(s, len, 1); /* TAB passes in caret notation; LF never appears */
    CHECK(memchr(s, '\n', len) == NULL);
    /* nl_text_plain: exactly the text caret notation leaves as it is (TAB aside, which it refuses). */
    int same = len == n && memcmp(s, p, n) == 0;
    CHECK(nl_text_plain(p, n) == (same && memchr(p, '\t', n) == NULL));
    free(s);

    s = run(w_json, p, n, 0, shortcap, &len);
    CHECK(len <= n * NL_TEXT_JSON_MAX);
    check_inert(s, len, 0);
    uint8_t *dec = malloc(n * 4 + 1), *rep = malloc(n * 4 + 1);
    CHECK(dec && rep);
    size_t dn = json_decode(s, len, dec), rn = repaired(p, n, rep);
    CHECK(dn == rn && memcmp(dec, rep, dn) == 0);
    free(dec);
    free(rep);
    free(s);
    return 0;
}
