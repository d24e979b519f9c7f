/*
 * nl_chatlocal.c - the in-process mechanism behind nl_chatnet.h: one server
 * and no other node. Every name is the chat server's to give (a claim is won
 * at once, a lookup has nobody to ask), nobody is elsewhere, and nothing is
 * ever sent: the chat server serves node 0 itself. Owns nothing but itself.
 */
#include "nl_chatnet.h"
#include "nl_internal.h"

#include <stdlib.h>

static int local_state(struct nl_chatnet *n) { return NL_CHATNET_READY; }

static const char *local_node_name(const struct nl_chatnet *n, int node) { return NULL; }

static int local_claim(struct nl_chatnet *n, uint32_t id, const char *name, size_t len);

static void local_release(struct nl_chatnet *n, const char *name, size_t len) {}

static int local_locate(const struct nl_chatnet *n, const char *name, size_t len, char *display, int *node)
{
    return 0;
}

static int local_lookup(struct nl_chatnet *n, uint32_t id, const char *name, size_t len) { return NL_ENOTFOUND; }

static int local_present(const struct nl_chatnet *n, int node, const char *name, size_t len) { return 0; }

static size_t local_count(const struct nl_chatnet *n, int in_room) { return 0; }

static int local_next(const struct nl_chatnet *n, struct nl_chatnet_iter *it, const char **name, size_t *len)
{
    return 0;
}

static int local_who(struct nl_chatnet *n, uint32_t id, int node, const char *name, size_t len) { return NL_ENOTFOUND; }

static int local_probe(struct nl_chatnet *n, uint32_t id, int node, const char *name, size_t len)
{
    return NL_ENOTFOUND;
}

static void local_probed(struct nl_chatnet *n, int node, uint32_t id, int alive) {}

static int local_send(struct nl_chatnet *n, int node, int ev, const char *from, size_t fn, const char *to, size_t tn,
                      const uint8_t *text, size_t tlen)
{
    return NL_ENOTFOUND; /* there is no other node */
}

static void local_room(struct nl_chatnet *n, int what, const char *name, size_t len, const uint8_t *text, size_t tlen)
{
}

static void local_flush(struct nl_chatnet *n) {}

static void local_close(struct nl_chatnet *n) { free(n); }

static const struct nl_chatnet_ops local_ops = {
    .kind = "in-process",
    .state = local_state,
    .node_name = local_node_name,
    .claim = local_claim,
    .release = local_release,
    .locate = local_locate,
    .lookup = local_lookup,
    .present = local_present,
    .count = local_count,
    .next = local_next,
    .who = local_who,
    .probe = local_probe,
    .probed = local_probed,
    .send = local_send,
    .room = local_room,
    .flush = local_flush,
    .close = local_close,
};

struct local {
    struct nl_chatnet net;
    const struct nl_chatnet_sink *sink;
    void *ud;
};

/* The chat server has checked its own users: the name is free, and won at once. */
static int local_claim(struct nl_chatnet *n, uint32_t id, const char *name, size_t len)
{
    struct local *l = (struct local *)n;
    struct nl_chatnet_answer a = {.kind = NL_CHATNET_WON, .name = name, .len = len};
    l->sink->answer(l->ud, id, &a);
    return NL_OK;
}

int nl_chatlocal_open(struct nl_chatnet **out, struct nl_loop *loop, const struct nl_chatnet_config *cfg,
                      const struct nl_chatnet_sink *sink, void *ud, char *errbuf)
{
    struct local *l = calloc(1, sizeof *l);
    if (!l)
        return nl_err(errbuf, NL_ENOMEM, "chat server: out of memory");
    l->net.ops = &local_ops;
    l->sink = sink;
    l->ud = ud;
    *out = &l->net;
    return NL_OK;
}
