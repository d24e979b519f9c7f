/*
 * nl_chatmech.c - which mechanism joins a chat server to the others
 * (nl_chatnet.h): a table of mechanisms by URL scheme, as libpcap's
 * savefile.c probes formats from check_headers[], and the one a
 * configuration names. Knows of each mechanism its open function alone.
 */
#include "nl_chatnet.h"
#include "nl_internal.h"

#include <string.h>

static const struct {
    const char *scheme; /* the URL's start; NULL: no URL */
    nl_chatnet_open_fn open;
} mechanisms[] = {
    {NULL, nl_chatlocal_open},
    {"redis://", nl_cluster_open},
    {"", nl_cluster_open}, /* a bare HOST:PORT has always meant Redis */
};

int nl_chatnet_open(struct nl_chatnet **out, struct nl_loop *loop, const struct nl_chatnet_config *cfg,
                    const struct nl_chatnet_sink *sink, void *ud, char *errbuf)
{
    *out = NULL;
    for (size_t i = 0; i < sizeof mechanisms / sizeof mechanisms[0]; i++) {
        const char *sc = mechanisms[i].scheme;
        if (sc ? cfg->url && !strncmp(cfg->url, sc, strlen(sc)) : !cfg->url)
            return mechanisms[i].open(out, loop, cfg, sink, ud, errbuf);
    }
    return nl_err(errbuf, NL_EINVAL, "chat server: no mechanism for %s", cfg->url);
}
