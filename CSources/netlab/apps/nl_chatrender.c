/*
 * nl_chatrender.c - the chat client's renderer: a server line in words for the
 * user ("alice: hi", "* bob accepted your chat"), then neutralised whole by the
 * terminal-safe text path (nl_text_sanitize). Pure: no state, no I/O.
 */
#include "netlab/nl_chatclient.h"
#include "netlab/nl_text.h"
#include "nl_chatwords.h"
#include "nl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t nl_chat_client_render(const uint8_t *line, size_t len, char *out, size_t cap)
{
    /* Build the text (server bytes and all), then neutralise the whole of it. */
    size_t tcap = len + 128;
    char *t = malloc(tcap);
    if (!t) {
        return nl_text_sanitize(line, len, out, cap);
    }
    const uint8_t *a, *r;
    size_t al, rl;
    int n;
#define A (int)al, (const char *)a
#define R (int)rl, (const char *)r
    if (word_is(line, len, "FROM")) {
        split(line, len, 4, &a, &al, &r, &rl);
        n = snprintf(t, tcap, "<%.*s> %.*s", A, R);
    } else if (word_is(line, len, "ROOM")) {
        split(line, len, 4, &a, &al, &r, &rl);
        n = snprintf(t, tcap, "#room <%.*s> %.*s", A, R);
    } else if (word_is(line, len, "REQUEST")) {
        split(line, len, 7, &a, &al, &r, &rl);
        n = snprintf(t, tcap, "* %.*s asks to chat: /accept %.*s or /decline %.*s", A, A, A);
    } else if (word_is(line, len, "ACCEPTED")) {
        split(line, len, 8, &a, &al, &r, &rl);
        n = snprintf(t, tcap, "* %.*s accepted: you are talking to %.*s", A, A);
    } else if (word_is(line, len, "DECLINED")) {
        split(line, len, 8, &a, &al, &r, &rl);
        n = snprintf(t, tcap, "* %.*s declined", A);
    } else if (word_is(line, len, "LEFT")) {
        split(line, len, 4, &a, &al, &r, &rl);
        n = snprintf(t, tcap, "* %.*s left the session", A);
    } else if (word_is(line, len, "GONE")) {
        split(line, len, 4, &a, &al, &r, &rl);
        n = snprintf(t, tcap, "* %.*s went offline", A);
    } else if (word_is(line, len, "JOINED")) {
        split(line, len, 6, &a, &al, &r, &rl);
        n = snprintf(t, tcap, "* %.*s joined the room", A);
    } else if (word_is(line, len, "PARTED")) {
        split(line, len, 6, &a, &al, &r, &rl);
        n = snprintf(t, tcap, "* %.*s left the room", A);
    } else if (word_is(line, len, "USERS")) {
        split(line, len, 5, &a, &al, &r, &rl);
        n = snprintf(t, tcap, "* %.*s online: %.*s", A, R);
    } else if (word_is(line, len, "SESSIONS")) {
        split(line, len, 8, &a, &al, &r, &rl);
        n = snprintf(t, tcap, "* %.*s session(s)%s%.*s", A, rl ? ": " : "", R);
    } else if (word_is(line, len, "USER")) {
        split(line, len, 4, &a, &al, &r, &rl);
        n = snprintf(t, tcap, "* %.*s is online (seconds online, sessions: %.*s)", A, R);
    } else if (word_is(line, len, "PONG")) {
        n = snprintf(t, tcap, "* pong%s%.*s", len > 4 ? " " : "", (int)(len > 5 ? len - 5 : 0), (const char *)line + 5);
    } else if (word_is(line, len, "PROBE")) {
        n = snprintf(t, tcap, "* someone asked for your name: the server checked that you are still connected (you keep it)");
    } else if (word_is(line, len, "HELLO")) {
        n = snprintf(t, tcap, "* connected (%.*s)", (int)(len > 6 ? len - 6 : 0), (const char *)line + 6);
    } else if (word_is(line, len, "ERR")) {
        split(line, len, 3, &a, &al, &r, &rl);
        n = snprintf(t, tcap, "! %.*s (error %.*s)", R, A);
    } else if (word_is(line, len, "OK")) {
        split(line, len, 2, &a, &al, &r, &rl);
        if (word_is(a, al, "NICK"))
            n = snprintf(t, tcap, "* you are %.*s", R);
        else if (word_is(a, al, "CHAT"))
            n = snprintf(t, tcap, "* asked %.*s for a session; waiting for an answer", R);
        else if (word_is(a, al, "ACCEPT"))
            n = snprintf(t, tcap, "* session with %.*s started: you are talking to %.*s", R, R);
        else if (word_is(a, al, "DECLINE"))
            n = snprintf(t, tcap, "* declined %.*s", R);
        else if (word_is(a, al, "LEAVE"))
            n = snprintf(t, tcap, "* left the session with %.*s", R);
        else if (word_is(a, al, "JOIN"))
            n = snprintf(t, tcap, "* joined the room (%.*s here)", R);
        else if (word_is(a, al, "PART"))
            n = snprintf(t, tcap, "* left the room");
        else if (word_is(a, al, "QUIT"))
            n = snprintf(t, tcap, "* bye");
        else if (word_is(a, al, "HELP"))
            n = snprintf(t, tcap, "* server commands: %.*s", R);
        else
            n = snprintf(t, tcap, "* ok %.*s", (int)(len > 3 ? len - 3 : 0), (const char *)line + 3);
    } else {
        n = snprintf(t, tcap, "* %.*s", (int)len, (const char *)line);
    }
#undef A
#undef R
    size_t k = nl_text_sanitize((const uint8_t *)t, n < 0 ? 0 : NL_MIN((size_t)n, tcap - 1), out, cap);
    free(t);
    return k;
}
