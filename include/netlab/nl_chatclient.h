/*
 * nl_chatclient.h - the interactive chat client: poll() on the user's input
 * and the server socket at once, so messages arrive while the user types;
 * slash commands (/chat bob, /accept bob, /leave, /quit, /help); plain text
 * goes to the current session. Everything the server sends is shown with
 * control characters and terminal escape sequences neutralised.
 */
#ifndef NL_CHATCLIENT_H
#define NL_CHATCLIENT_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nl_chat_client_config {
    const char *host;        /* default "localhost" */
    uint16_t port;           /* default 7000 */
    const char *nick;        /* register at once; NULL: the user types /nick NAME */
    int in_fd, out_fd;       /* default 0 and 1 */
    int raw;                 /* show the server's lines as sent (still neutralised), not rendered */
    int interactive;         /* -1 (default): when both descriptors are terminals; 0 or 1 to force */
    uint32_t quit_wait_ms;   /* after input ends: wait this long for the server to close; default 3000 */
    int handle_signals;      /* SIGINT/SIGTERM end the client; SIGPIPE ignored */
    const char *servers;     /* "host:port,host:port,...": the servers of a cluster, tried in turn; when the
                                one in use goes, the next is connected, the name registered again and the
                                user told. NULL: host and port only, and the client ends with its server. */
};

NL_API void nl_chat_client_config_init(struct nl_chat_client_config *cfg);

/**
 * Run until /quit, the end of input (then QUIT is sent), or a signal. Returns
 * NL_OK, or NL_ESYS naming the server when it closes the connection first or
 * cannot be reached. The terminal's settings are restored on every path.
 */
NL_API int nl_chat_client_run(const struct nl_chat_client_config *cfg, char *errbuf);

/**
 * How the client shows one line from the server (without a newline), already
 * neutralised: "FROM bob hi" -> "<bob> hi", "REQUEST bob" -> "* bob asks to
 * chat: /accept bob or /decline bob". Returns the length, like snprintf.
 */
NL_API size_t nl_chat_client_render(const uint8_t *line, size_t len, char *out, size_t cap);

/**
 * Turn one line the user typed into a protocol line (without newline) in out:
 * "/chat bob" -> "CHAT bob", "hello" -> "MSG <current> hello". Returns its
 * length, 0 when nothing is to be sent, or -1 when note (NUL-terminated, may
 * be NULL) holds a message for the user instead (unknown command, no session).
 */
NL_API int nl_chat_client_translate(const char *current, const uint8_t *line, size_t len, char *out, size_t cap,
                             char *note, size_t note_cap);

#ifdef __cplusplus
}
#endif
#endif
