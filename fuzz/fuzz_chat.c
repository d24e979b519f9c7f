/*
 * fuzz_chat - arbitrary bytes through the chat server's input path and the
 * client's display path: the line framer (fed in one piece and in chunks the
 * input chooses, which must give the same lines), the command parser, UTF-8
 * validation, the echo transform, the terminal neutraliser and the client's
 * rendering and translation. Aborts on any broken invariant.
 *
 * Input: byte 0 picks the line limit (1..256, or 4096), byte 1 seeds the
 * chunk sizes, the rest is the stream.
 */
#include <netlab.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 4096

struct collected {
    size_t n;
    size_t len[MAX_LINES];
    int status[MAX_LINES];
    uint64_t hash[MAX_LINES];
};

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void check_line(const uint8_t *line, size_t len);

static int collect(void *ud, uint8_t *line, size_t len, int status)
{
    struct collected *c = ud;
    if (status == NL_LINE_TOOLONG) {
        if (line != NULL)
            abort();
    } else {
        if (memchr(line, '\n', len))
            abort(); /* a line never holds its terminator */
        check_line(line, len);
    }
    if (c->n < MAX_LINES) {
        c->len[c->n] = status == NL_LINE_OK ? len : 0;
        c->status[c->n] = status;
        c->hash[c->n] = status == NL_LINE_OK ? fnv(line, len) : 0;
        c->n++;
    }
    return 0;
}

static void check_parse(const uint8_t *line, size_t len)
{
    struct nl_chat_cmd cmd;
    int rc = nl_chat_parse(line, len, &cmd);
    if (rc != NL_OK && rc != NL_EMALFORMED)
        abort();
    if (rc == NL_EMALFORMED && !cmd.error)
        abort();
    const uint8_t *end = line + len;
    if (cmd.word && (cmd.word < line || cmd.word + cmd.word_len > end))
        abort();
    if (cmd.arg && (cmd.arg < line || cmd.arg + cmd.arg_len > end))
        abort();
    if (cmd.has_text && (cmd.text < line || cmd.text + cmd.text_len > end))
        abort();
    if (cmd.verb == NL_CHAT_NICK && rc == NL_OK && !cmd.arg_len)
        abort();
}

static void check_line(const uint8_t *line, size_t len)
{
    check_parse(line, len);

    /* The echo transform keeps the length; on UTF-8 it is its own inverse. */
    uint8_t *a = malloc(len + 1), *b = malloc(len + 1);
    if (!a || !b)
        abort();
    if (nl_echo_transform(line, len, a) != len)
        abort();
    if (nl_utf8_valid(line, len)) {
        if (!nl_utf8_valid(a, len))
            abort();
        nl_echo_transform(a, len, b);
        if (memcmp(b, line, len) != 0)
            abort();
    }
    free(a);
    free(b);

    /* Neutralised text holds no byte a terminal would act on. */
    size_t need = nl_text_sanitize(line, len, NULL, 0);
    char *s = malloc(need + 1);
    if (!s)
        abort();
    if (nl_text_sanitize(line, len, s, need + 1) != need || strlen(s) != need)
        abort();
    for (size_t i = 0; i < need; i++) {
        uint8_t c = (uint8_t)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            abort();
        if (c == 0xC2 && i + 1 < need && (uint8_t)s[i + 1] >= 0x80 && (uint8_t)s[i + 1] <= 0x9F)
            abort(); /* a C1 control, encoded */
    }
    if (!nl_utf8_valid((const uint8_t *)s, need))
        abort();
    free(s);

    /* The client's rendering is neutralised too, and bounded by its buffer. */
    char shown[512];
    nl_chat_client_render(line, len, shown, sizeof shown);
    for (const char *p = shown; *p; p++)
        if (((uint8_t)*p < 0x20 && *p != '\t') || *p == 0x7F)
            abort();

    char out[NL_CHAT_MAX_LINE + 64], note[128];
    int n = nl_chat_client_translate(len % 2 ? "bob" : "", line, len, out, sizeof out, note, sizeof note);
    if (n > (int)sizeof out - 1 || n < -1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max = data[0] == 0xFF ? 4096 : (size_t)(data[0] % 256) + 1;
    uint32_t seed = data[1];
    const uint8_t *p = data + 2;
    size_t n = size - 2;

    static struct collected whole, chunked;
    memset(&whole, 0, sizeof whole);
    memset(&chunked, 0, sizeof chunked);

    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        abort();

    struct nl_line f;
    nl_line_init(&f, max);
    memcpy(copy, p, n);
    if (nl_line_feed(&f, copy, n, collect, &whole) != 0)
        abort();
    nl_line_finish(&f, collect, &whole);

    nl_line_init(&f, max);
    memcpy(copy, p, n);
    size_t off = 0;
    while (off < n) {
        seed = seed * 1103515245u + 12345u;
        size_t k = (seed >> 16) % 9 + 1;
        if (k > n - off)
            k = n - off;
        if (nl_line_feed(&f, copy + off, k, collect, &chunked) != 0)
            abort();
        /* Nothing carried is ever longer than the limit allows. */
        if (f.part.len > max + 1)
            abort();
        off += k;
    }
    nl_line_finish(&f, collect, &chunked);
    free(copy);

    /* However the bytes arrive, the same lines come out. */
    if (whole.n != chunked.n)
        abort();
    for (size_t i = 0; i < whole.n && i < MAX_LINES; i++) {
        if (whole.status[i] != chunked.status[i])
            abort();
        if (whole.status[i] == NL_LINE_OK && (whole.len[i] != chunked.len[i] || whole.hash[i] != chunked.hash[i]))
            abort();
    }
    return 0;
}
