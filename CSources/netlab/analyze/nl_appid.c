/*
 * nl_appid.c - which application a TCP conversation carries and what part it
 * plays in netlab's lab: the chat protocol (docs/PROTOCOL.md: the server's first
 * line is "HELLO netlab-chat") or Redis's RESP (a client's first bytes are an
 * array of bulk strings, "*<n>\r\n$", RESP2/3 replies; port 6379 only backs up
 * payload). A Redis conversation whose client is also the server of chat
 * conversations in the capture is a chat server talking to Redis. Reads only
 * the first payload bytes each side sent; never decodes further.
 */
#include "nl_analysis.h"

#include <string.h>

#define REDIS_PORT 6379
#define MAX_CHAT_SERVERS 256

void nl_appid_note(struct nl_flow *f, int dir, const uint8_t *payload, uint32_t caplen)
{
    struct nl_flow_dir *D = &f->d[dir];
    uint32_t n = caplen < NL_APPID_HEAD ? caplen : NL_APPID_HEAD;
    memcpy(D->head, payload, n);
    D->headlen = (uint8_t)n;
}

static int starts(const struct nl_flow_dir *D, const char *text)
{
    size_t n = strlen(text);
    return D->headlen >= n && memcmp(D->head, text, n) == 0;
}

/* A RESP command: "*" digits "\r\n$" (an array of bulk strings, what clients send). */
static int resp_command(const struct nl_flow_dir *D)
{
    size_t i = 1;
    if (D->headlen < 5 || D->head[0] != '*')
        return 0;
    while (i < D->headlen && D->head[i] >= '0' && D->head[i] <= '9')
        i++;
    return i > 1 && i + 2 < D->headlen && D->head[i] == '\r' && D->head[i + 1] == '\n' && D->head[i + 2] == '$';
}

/* A RESP reply: a RESP2/RESP3 type byte and a CRLF within the bytes kept. */
static int resp_reply(const struct nl_flow_dir *D)
{
    if (D->headlen < 3 || !strchr("+-:$*%_,#>~|(=!", D->head[0]) || D->head[0] == 0)
        return 0;
    return memmem(D->head, D->headlen, "\r\n", 2) != NULL;
}

static void classify(struct nl_flow *f)
{
    int srv = f->server < 0 ? 1 : f->server, cli = !srv;
    const struct nl_flow_dir *C = &f->d[cli], *S = &f->d[srv];
    f->app = NL_APP_NONE;
    f->app_basis = NL_APP_BASIS_NONE;
    if (starts(S, "HELLO netlab-chat ")) {
        f->app = NL_APP_CHAT;
        f->app_basis = NL_APP_BASIS_PAYLOAD;
    } else if (resp_command(C) && (!S->headlen || resp_reply(S))) {
        f->app = NL_APP_REDIS;
        f->app_basis = NL_APP_BASIS_PAYLOAD;
    } else if (f->port[srv] == REDIS_PORT && !C->headlen && !S->headlen) {
        f->app = NL_APP_REDIS;
        f->app_basis = NL_APP_BASIS_PORT;
    }
}

void nl_appid_finish(struct nl_flow_table *t)
{
    /* The chat servers' addresses (distinct, bounded): their Redis conversations are server <-> Redis. */
    uint8_t servers[MAX_CHAT_SERVERS][17];
    size_t nservers = 0;
    for (size_t i = 0; i < t->nflows; i++) {
        struct nl_flow *f = &t->flows[i];
        f->app_role = NL_APP_ROLE_NONE;
        if (f->proto != 6)
            continue;
        classify(f);
        if (f->app != NL_APP_CHAT)
            continue;
        f->app_role = NL_APP_ROLE_USER_SERVER;
        const uint8_t *a = f->addr[f->server < 0 ? 1 : f->server];
        size_t k = 0;
        while (k < nservers && !(servers[k][0] == f->ipver && memcmp(servers[k] + 1, a, 16) == 0))
            k++;
        if (k == nservers && nservers < MAX_CHAT_SERVERS) {
            servers[nservers][0] = f->ipver;
            memcpy(servers[nservers++] + 1, a, 16);
        }
    }
    for (size_t i = 0; i < t->nflows; i++) {
        struct nl_flow *f = &t->flows[i];
        if (f->app != NL_APP_REDIS)
            continue;
        const uint8_t *a = f->addr[f->server < 0 ? 0 : !f->server];
        f->app_role = NL_APP_ROLE_CLIENT_REDIS;
        for (size_t k = 0; k < nservers; k++)
            if (servers[k][0] == f->ipver && memcmp(servers[k] + 1, a, 16) == 0) {
                f->app_role = NL_APP_ROLE_SERVER_REDIS;
                break;
            }
    }
}

const char *nl_app_name(int app)
{
    switch (app) {
    case NL_APP_CHAT: return "chat";
    case NL_APP_REDIS: return "redis";
    default: return "";
    }
}

const char *nl_app_basis_name(int basis)
{
    switch (basis) {
    case NL_APP_BASIS_PAYLOAD: return "payload";
    case NL_APP_BASIS_PORT: return "port 6379";
    default: return "";
    }
}

const char *nl_app_role_name(int role)
{
    switch (role) {
    case NL_APP_ROLE_USER_SERVER: return "client <-> chat server";
    case NL_APP_ROLE_SERVER_REDIS: return "chat server <-> Redis";
    case NL_APP_ROLE_CLIENT_REDIS: return "client <-> Redis";
    default: return "";
    }
}
