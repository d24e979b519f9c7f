/*
 * nl_chatcmd.c - parsing one chat protocol line into a verb and its
 * arguments (docs/PROTOCOL.md). Pure: pointers into the caller's bytes, no
 * allocation, never reads past the length it is given.
 */
#include "netlab/nl_chat.h"
#include "nl_internal.h"

#include <string.h>

static const struct {
    const char *name;
    int verb;
} verbs[] = {
    {"NICK", NL_CHAT_NICK},     {"LIST", NL_CHAT_LIST},   {"WHO", NL_CHAT_WHO},   {"CHAT", NL_CHAT_CHAT},
    {"ACCEPT", NL_CHAT_ACCEPT}, {"DECLINE", NL_CHAT_DECLINE}, {"MSG", NL_CHAT_MSG}, {"LEAVE", NL_CHAT_LEAVE},
    {"SESSIONS", NL_CHAT_SESSIONS}, {"JOIN", NL_CHAT_JOIN}, {"PART", NL_CHAT_PART}, {"SAY", NL_CHAT_SAY},
    {"PING", NL_CHAT_PING},     {"QUIT", NL_CHAT_QUIT},   {"HELP", NL_CHAT_HELP},
};

const char *nl_chat_verb_name(int verb)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (verbs[i].verb == verb)
            return verbs[i].name;
    return "";
}

/* All eight bytes of x printable ASCII (0x20-0x7E): no high bit; each byte plus 0x60 reaches 0x80
 * (it is 0x20 or more) and plus 1 does not (it is not DEL). No sum carries into the next byte. */
static inline int printable8(uint64_t x)
{
    return !(x & NL_HIGH_BITS) && ((x + NL_BYTES(0x60)) & NL_HIGH_BITS) == NL_HIGH_BITS &&
           !((x + NL_BYTES(0x01)) & NL_HIGH_BITS);
}

int nl_chat_text_safe(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        while (i + 8 <= n && printable8(nl_load64(p + i)))
            i += 8; /* the usual line: eight printable ASCII bytes at a time */
        if (i == n)
            break;
        uint8_t c = p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return 0; /* C0 control (TAB excepted) or DEL */
        if (c == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F)
            return 0; /* U+0080..U+009F, a C1 control in UTF-8 */
    }
    return 1;
}

int nl_chat_name_valid(const uint8_t *p, size_t n)
{
    if (n < 1 || n > NL_CHAT_MAX_NAME)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int blank(uint8_t c) { return c == ' ' || c == '\t'; }

static int only_blanks(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!blank(p[i]))
            return 0;
    return 1;
}

static int lookup(const uint8_t *w, size_t n)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        const char *name = verbs[i].name;
        size_t k = strlen(name);
        if (k != n)
            continue;
        size_t j = 0;
        while (j < n && (w[j] & 0xDF) == (uint8_t)name[j] && w[j] >= 'A')
            j++;
        if (j == n)
            return verbs[i].verb;
    }
    return NL_CHAT_UNKNOWN;
}

int nl_chat_parse(const uint8_t *line, size_t len, struct nl_chat_cmd *cmd)
{
    memset(cmd, 0, sizeof *cmd);
    size_t i = 0;
    while (i < len && blank(line[i]))
        i++;
    if (i == len) {
        cmd->verb = NL_CHAT_EMPTY;
        return NL_OK;
    }
    size_t w0 = i;
    while (i < len && !blank(line[i]))
        i++;
    cmd->word = line + w0;
    cmd->word_len = i - w0;
    cmd->verb = lookup(cmd->word, cmd->word_len);
    const uint8_t *rest = line + i;
    size_t rest_len = len - i;

    switch (cmd->verb) {
    case NL_CHAT_UNKNOWN:
        return NL_OK;
    case NL_CHAT_LIST:
    case NL_CHAT_SESSIONS:
    case NL_CHAT_JOIN:
    case NL_CHAT_PART:
    case NL_CHAT_HELP:
        if (!only_blanks(rest, rest_len)) {
            cmd->error = "takes no arguments";
            return NL_EMALFORMED;
        }
        return NL_OK;
    case NL_CHAT_PING:
    case NL_CHAT_QUIT:
    case NL_CHAT_SAY:
        /* Everything after the one separating space, verbatim. */
        if (rest_len > 0) {
            cmd->has_text = 1;
            cmd->text = rest + 1;
            cmd->text_len = rest_len - 1;
        }
        if (cmd->verb == NL_CHAT_SAY && !cmd->has_text) {
            cmd->error = "needs text: SAY <text>";
            return NL_EMALFORMED;
        }
        return NL_OK;
    default:
        break;
    }

    /* NICK WHO CHAT ACCEPT DECLINE LEAVE MSG: a name, then (MSG) the text. */
    size_t a = 0;
    while (a < rest_len && blank(rest[a]))
        a++;
    size_t a0 = a;
    while (a < rest_len && !blank(rest[a]))
        a++;
    cmd->arg = rest + a0;
    cmd->arg_len = a - a0;
    if (cmd->verb == NL_CHAT_MSG) {
        if (cmd->arg_len == 0 || a == rest_len) {
            cmd->error = "needs a user and text: MSG <user> <text>";
            return NL_EMALFORMED;
        }
        cmd->has_text = 1;
        cmd->text = rest + a + 1;
        cmd->text_len = rest_len - a - 1;
        return NL_OK;
    }
    if (cmd->arg_len == 0) {
        cmd->error = cmd->verb == NL_CHAT_NICK ? "needs a name: NICK <name>" : "needs a user name";
        return NL_EMALFORMED;
    }
    if (!only_blanks(rest + a, rest_len - a)) {
        cmd->error = "takes one name";
        return NL_EMALFORMED;
    }
    return NL_OK;
}
