/*
 * nl_chatcap.h - the chat server with a libpcap capture of its own port on the
 * same loop (chatserver --capture). A composition of two halves that know
 * nothing of each other: the chat server (nl_chat.h) and live capture
 * (nl_capture.h), joined through the server's attach/detach hooks.
 */
#ifndef NL_CHATCAP_H
#define NL_CHATCAP_H

#include "nl_api.h"

#include "nl_chat.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * nl_chat_server_run with the server's TCP port recorded to path (needs CAP_NET_RAW) on
 * interface (NULL: "any"), written when the server stops and never when it stops on a fatal
 * error. path NULL: no capture, just nl_chat_server_run. cfg->attach must be NULL.
 */
NL_API int nl_chatcap_run(const struct nl_chat_config *cfg, const char *path, const char *interface, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
