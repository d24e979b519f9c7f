/*
 * nl_chatout.c - the chat server's lines out: one formatted protocol line
 * (at most NL_CHAT_MAX_LINE + 255 bytes), or a relayed message written
 * without a format pass (the relay's hot path). Through nl_conn only.
 */
#include "nl_chat_int.h"
#include "nl_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void chat_say(struct nl_conn *c, const char *fmt, ...)
{
    char line[NL_CHAT_MAX_LINE + 256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = (int)sizeof line - 1;
    nl_conn_write(c, line, (size_t)n);
}

void chat_relay(struct nl_conn *to, const char *word, size_t wlen, const char *from, size_t fn, const uint8_t *text,
                size_t tlen)
{
    size_t n = wlen + 1 + fn + 1 + tlen + 1;
    uint8_t *p = nl_conn_reserve(to, n);
    if (!p)
        return;
    memcpy(p, word, wlen);
    p += wlen;
    *p++ = ' ';
    memcpy(p, from, fn);
    p += fn;
    *p++ = ' ';
    memcpy(p, text, tlen);
    p += tlen;
    *p = '\n';
    nl_conn_commit(to, n);
}
