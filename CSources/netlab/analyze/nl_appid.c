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

/* What the first payload bytes of one side look like (NL_TRAIT_*), read once from at
 * most NL_APPID_HEAD bytes: a conversation keeps these bits, not the bytes. */
static int starts(const uint8_t *p, uint32_t n, const char *text)
{
    size_t k = strlen(text);
    return n >= k && memcmp(p, text, k) == 0;
}

/* A RESP command: "*" digits "\r\n$" (an array of bulk strings, what clients send). */
static int resp_command(const uint8_t *p, uint32_t n)
{
    uint32_t i = 1;
    if (n < 5 || p[0] != '*')
        return 0;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++;
    return i > 1 && i + 2 < n && p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '$';
}

/* A RESP reply: a RESP2/RESP3 type byte and a CRLF within the bytes read. */
static int resp_reply(const uint8_t *p, uint32_t n)
{
    if (n < 3 || p[0] == 0 || !strchr("+-:$*%_,#>~|(=!", p[0]))
        return 0;
    return memmem(p, n, "\r\n", 2) != NULL;
}

void nl_appid_note(struct nl_flow *f, int dir, const uint8_t *payload, uint32_t caplen)
{
    uint32_t n = caplen < NL_APPID_HEAD ? caplen : NL_APPID_HEAD;
    f->d[dir].traits = (uint8_t)(NL_TRAIT_SPOKE | (starts(payload, n, "HELLO netlab-chat ") ? NL_TRAIT_CHAT_HELLO : 0) |
                                 (resp_command(payload, n) ? NL_TRAIT_RESP_COMMAND : 0) |
                                 (resp_reply(payload, n) ? NL_TRAIT_RESP_REPLY : 0));
}

static void classify(struct nl_flow *f)
{
    int srv = f->server < 0 ? 1 : f->server, cli = !srv;
    const struct nl_flow_dir *C = &f->d[cli], *S = &f->d[srv];
    f->app = NL_APP_NONE;
    f->app_basis = NL_APP_BASIS_NONE;
    if (S->traits & NL_TRAIT_CHAT_HELLO) {
        f->app = NL_APP_CHAT;
        f->app_basis = NL_APP_BASIS_PAYLOAD;
    } else if ((C->traits & NL_TRAIT_RESP_COMMAND) && (!S->traits || (S->traits & NL_TRAIT_RESP_REPLY))) {
        f->app = NL_APP_REDIS;
        f->app_basis = NL_APP_BASIS_PAYLOAD;
    } else if (f->port[srv] == REDIS_PORT && !C->traits && !S->traits) {
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
