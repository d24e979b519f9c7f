/*
 * nl_plan.c - the conversation planner (API: nl_craft.h): options, which app pairs form which TCP
 * connection, sequence/acknowledgement bookkeeping in both directions, MSS
 * segmentation, handshake/ACK/FIN packets and timing. Hands each packet to
 * nl_build.c; owns no header encoding of its own.
 */
#include "netlab/nl_craft.h"
#include "netlab/nl_build.h"
#include "nl_arena.h"
#include "nl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define EPHEMERAL_LO 32768
#define EPHEMERAL_HI 60999
#define US 1000 /* one microsecond in nanoseconds */

struct nl_plan {
    struct nl_arena arena;
    const struct nl_messages *ms;
    struct nl_pkt *pkts;
    size_t npkts, cap;
    struct nl_conv *convs;
    size_t nconvs;
    uint64_t bytes;
};

static const struct { const char *name; uint16_t port; } well_known[] = {
    {"FTP-DATA", 20}, {"FTP", 21}, {"SSH", 22}, {"TELNET", 23}, {"SMTP", 25}, {"DNS", 53}, {"HTTP", 80},
    {"POP3", 110}, {"NNTP", 119}, {"IMAP", 143}, {"BGP", 179}, {"LDAP", 389}, {"HTTPS", 443},
    {"SMTPS", 465}, {"SUBMISSION", 587}, {"LDAPS", 636}, {"IMAPS", 993}, {"POP3S", 995},
    {"MQTT", 1883}, {"MYSQL", 3306}, {"POSTGRESQL", 5432}, {"XMPP", 5222}, {"REDIS", 6379},
    {"IRC", 6667}, {"HTTP-ALT", 8080},
};

void nl_craft_opts_init(struct nl_craft_opts *o)
{
    memset(o, 0, sizeof *o);
    static const uint8_t lo[4] = {127, 0, 0, 1};
    memcpy(o->src_ip, lo, 4);
    memcpy(o->dst_ip, lo, 4);
    o->dst_port = 12345;
    o->mss = 1460;
    o->window = 65535;
    o->ttl = 64;
    o->dont_fragment = 1;
    o->seed = 1;
}

static int add_port(struct nl_craft_opts *o, const char *proto, size_t plen, uint16_t port, char *errbuf)
{
    if (plen == 0 || plen >= sizeof o->port_map[0].protocol)
        return nl_err(errbuf, NL_EINVAL, "port map: protocol name must be 1-%zu characters",
                      sizeof o->port_map[0].protocol - 1);
    for (size_t i = 0; i < o->nport_map; i++) {
        if (strlen(o->port_map[i].protocol) == plen && strncasecmp(o->port_map[i].protocol, proto, plen) == 0) {
            o->port_map[i].port = port; /* a later entry wins */
            return 0;
        }
    }
    if (o->nport_map >= NL_CRAFT_MAX_MAP)
        return nl_err(errbuf, NL_ELIMIT, "port map: at most %d entries", NL_CRAFT_MAX_MAP);
    memcpy(o->port_map[o->nport_map].protocol, proto, plen);
    o->port_map[o->nport_map].protocol[plen] = 0;
    o->port_map[o->nport_map].port = port;
    o->nport_map++;
    return 0;
}

int nl_craft_opts_add_port_map(struct nl_craft_opts *o, const char *spec, char *errbuf)
{
    const char *p = spec;
    if (!spec || !*spec)
        return nl_err(errbuf, NL_EINVAL, "port map: empty; write PROTOCOL=PORT, e.g. HTTP=80");
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char item[96];
        if (n >= sizeof item)
            return nl_err(errbuf, NL_EINVAL, "port map: entry too long in '%s'", spec);
        memcpy(item, p, n);
        item[n] = 0;
        if (strcasecmp(item, "well-known") == 0) {
            for (size_t i = 0; i < sizeof well_known / sizeof well_known[0]; i++) {
                int rc = add_port(o, well_known[i].name, strlen(well_known[i].name), well_known[i].port, errbuf);
                if (rc < 0)
                    return rc;
            }
        } else {
            char *eq = strchr(item, '=');
            if (!eq || eq == item)
                return nl_err(errbuf, NL_EINVAL, "port map: '%s' is not PROTOCOL=PORT (e.g. HTTP=80) or well-known", item);
            uint16_t port;
            int rc = nl_parse_port(eq + 1, 0, "port map", &port, errbuf);
            if (rc < 0)
                return rc;
            rc = add_port(o, item, (size_t)(eq - item), port, errbuf);
            if (rc < 0)
                return rc;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

int nl_craft_opts_add_app_addr(struct nl_craft_opts *o, const char *spec, char *errbuf)
{
    const char *eq = spec ? strchr(spec, '=') : NULL;
    if (!eq || eq == spec)
        return nl_err(errbuf, NL_EINVAL, "app address: '%s' is not APP=IPv4 (e.g. server=10.0.0.2)", spec ? spec : "");
    size_t n = (size_t)(eq - spec);
    if (n >= sizeof o->app_addr[0].app)
        return nl_err(errbuf, NL_EINVAL, "app address: app name longer than %zu characters", sizeof o->app_addr[0].app - 1);
    uint8_t ip[4];
    int rc = nl_ipv4_parse_addr(eq + 1, ip, errbuf);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < o->napp_addr; i++) {
        if (strlen(o->app_addr[i].app) == n && memcmp(o->app_addr[i].app, spec, n) == 0) {
            memcpy(o->app_addr[i].ip, ip, 4);
            return 0;
        }
    }
    if (o->napp_addr >= NL_CRAFT_MAX_MAP)
        return nl_err(errbuf, NL_ELIMIT, "app address: at most %d entries", NL_CRAFT_MAX_MAP);
    memcpy(o->app_addr[o->napp_addr].app, spec, n);
    o->app_addr[o->napp_addr].app[n] = 0;
    memcpy(o->app_addr[o->napp_addr].ip, ip, 4);
    o->napp_addr++;
    return 0;
}

int nl_craft_opts_add_server(struct nl_craft_opts *o, const char *app, char *errbuf)
{
    size_t n = app ? strlen(app) : 0;
    if (n == 0 || n >= sizeof o->servers[0])
        return nl_err(errbuf, NL_EINVAL, "server app: name must be 1-%zu characters", sizeof o->servers[0] - 1);
    if (o->nservers >= NL_CRAFT_MAX_MAP)
        return nl_err(errbuf, NL_ELIMIT, "server app: at most %d names", NL_CRAFT_MAX_MAP);
    memcpy(o->servers[o->nservers++], app, n + 1);
    return 0;
}

int nl_craft_opts_validate(const struct nl_craft_opts *o, char *errbuf)
{
    if (o->mss < 1 || o->mss > 65495)
        return nl_err(errbuf, NL_EINVAL, "MSS %u is out of range: 1-65495 (65535 minus the 40 header bytes)", o->mss);
    if (o->window < 1)
        return nl_err(errbuf, NL_EINVAL, "window 0 would announce a closed window; give 1-65535");
    if (o->ttl < 1)
        return nl_err(errbuf, NL_EINVAL, "TTL 0 packets are discarded by the first router; give 1-255");
    if (o->dscp > 63)
        return nl_err(errbuf, NL_EINVAL, "DSCP %u is out of range 0-63", o->dscp);
    if (o->ecn > 3)
        return nl_err(errbuf, NL_EINVAL, "ECN %u is out of range 0-3", o->ecn);
    return 0;
}

const char *nl_pkt_kind_name(int kind)
{
    switch (kind) {
    case NL_PKT_DATA: return "data";
    case NL_PKT_SYN: return "SYN";
    case NL_PKT_SYNACK: return "SYN-ACK";
    case NL_PKT_ACK: return "ACK";
    case NL_PKT_DATA_ACK: return "ACK (data)";
    case NL_PKT_FIN: return "FIN";
    case NL_PKT_LAST_ACK: return "ACK (close)";
    default: return "?";
    }
}

/* splitmix64: small, well-mixed, reproducible from the seed. */
static uint64_t mix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Per-conversation state while planning. */
struct cstate {
    uint32_t next_seq[2];   /* [0] client, [1] server: next sequence number to send */
    uint32_t acked[2];      /* highest ack this side has sent for the other's data */
    uint16_t ip_id[2];
    int32_t last_msg;       /* index of the last message on this conversation */
    int opened;
};

struct planner {
    struct nl_plan *plan;
    const struct nl_craft_opts *o;
    struct nl_builder *b;
    struct cstate *cs;
    int64_t last_t;         /* packets get strictly increasing times */
    char *errbuf;
};

static uint16_t server_port_for(const struct nl_craft_opts *o, const char *proto)
{
    for (size_t i = 0; i < o->nport_map; i++)
        if (strcasecmp(o->port_map[i].protocol, proto) == 0)
            return o->port_map[i].port;
    return o->dst_port;
}

static const uint8_t *addr_for(const struct nl_craft_opts *o, const char *app, const uint8_t *dflt)
{
    for (size_t i = 0; i < o->napp_addr; i++)
        if (strcmp(o->app_addr[i].app, app) == 0)
            return o->app_addr[i].ip;
    return dflt;
}

static int is_listed_server(const struct nl_craft_opts *o, const char *app)
{
    for (size_t i = 0; i < o->nservers; i++)
        if (strcmp(o->servers[i], app) == 0)
            return 1;
    return 0;
}

static int names_server(const char *app)
{
    for (const char *p = app; *p; p++)
        if (strncasecmp(p, "server", 6) == 0)
            return 1;
    return 0;
}

/* 1 if the message's src_app should be the server of a new connection. */
static int sender_is_server(const struct nl_craft_opts *o, const struct nl_message *m)
{
    int ls = is_listed_server(o, m->src_app), ld = is_listed_server(o, m->dst_app);
    if (ls != ld)
        return ls;
    if (ls)
        return 0;
    return names_server(m->src_app) && !names_server(m->dst_app);
}

/* Which conversation does message m belong to, creating it on first sight. */
static int conv_of(struct nl_plan *p, const struct nl_craft_opts *o, const struct nl_message *m, size_t *cap,
                   char *errbuf)
{
    for (size_t i = 0; i < p->nconvs; i++) {
        struct nl_conv *c = &p->convs[i];
        if (strcasecmp(c->app_protocol, m->app_protocol) != 0)
            continue;
        if ((strcmp(c->client_app, m->src_app) == 0 && strcmp(c->server_app, m->dst_app) == 0) ||
            (strcmp(c->client_app, m->dst_app) == 0 && strcmp(c->server_app, m->src_app) == 0))
            return (int)i;
    }
    if (p->nconvs == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct nl_conv *n = realloc(p->convs, ncap * sizeof *n);
        if (!n)
            return nl_err(errbuf, NL_ENOMEM, "out of memory for conversations");
        p->convs = n;
        *cap = ncap;
    }
    struct nl_conv *c = &p->convs[p->nconvs];
    memset(c, 0, sizeof *c);
    c->index = (uint32_t)p->nconvs;
    int swap = sender_is_server(o, m);
    c->client_app = swap ? m->dst_app : m->src_app;
    c->server_app = swap ? m->src_app : m->dst_app;
    c->app_protocol = m->app_protocol;
    memcpy(c->client_ip, addr_for(o, c->client_app, o->src_ip), 4);
    memcpy(c->server_ip, addr_for(o, c->server_app, o->dst_ip), 4);
    c->server_port = server_port_for(o, m->app_protocol);
    return (int)p->nconvs++;
}

static struct nl_pkt *new_pkt(struct planner *pl)
{
    struct nl_plan *p = pl->plan;
    if (p->npkts == p->cap) /* counted exactly before building */
        return NULL;
    struct nl_pkt *k = &p->pkts[p->npkts++];
    memset(k, 0, sizeof *k);
    return k;
}

/* Emit one segment of conversation ci from side dir (0 client, 1 server). */
static int emit(struct planner *pl, uint32_t ci, int dir, uint8_t kind, uint8_t flags, const uint8_t *payload,
                size_t plen, int32_t msg, uint16_t segment, uint16_t segments, int64_t t)
{
    struct nl_plan *p = pl->plan;
    struct nl_conv *c = &p->convs[ci];
    struct cstate *s = &pl->cs[ci];
    const struct nl_craft_opts *o = pl->o;
    struct nl_seg_spec spec;
    memset(&spec, 0, sizeof spec);
    if (p->npkts && t <= pl->last_t)
        t = pl->last_t + US;
    pl->last_t = t;
    spec.ip.version = 4;
    spec.ip.ihl = 5;
    spec.ip.dscp = o->dscp;
    spec.ip.ecn = o->ecn;
    spec.ip.id = s->ip_id[dir]++;
    spec.ip.flags = o->dont_fragment ? NL_IPV4_DF : 0;
    spec.ip.ttl = o->ttl;
    spec.ip.protocol = 6;
    memcpy(spec.ip.src, dir ? c->server_ip : c->client_ip, 4);
    memcpy(spec.ip.dst, dir ? c->client_ip : c->server_ip, 4);
    spec.tcp.sport = dir ? c->server_port : c->client_port;
    spec.tcp.dport = dir ? c->client_port : c->server_port;
    spec.tcp.seq = s->next_seq[dir];
    spec.tcp.ack = (flags & NL_TCP_ACK) ? s->next_seq[!dir] : 0;
    spec.tcp.flags = flags;
    spec.tcp.window = o->window;
    if (flags & NL_TCP_SYN) { /* MSS option (RFC 9293 3.7.1): kind 2, length 4 */
        spec.tcp.options[0] = 2;
        spec.tcp.options[1] = 4;
        nl_put_be16(spec.tcp.options + 2, o->mss);
        spec.tcp.options_len = 4;
    }
    spec.payload = payload;
    spec.payload_len = plen;

    size_t size = nl_seg_spec_size(&spec);
    uint8_t *buf = nl_arena_alloc(&p->arena, size);
    struct nl_pkt *k = new_pkt(pl);
    if (!buf || !k)
        return nl_err(pl->errbuf, NL_ENOMEM, "out of memory after %zu packets", p->npkts);
    struct nl_build_result r;
    char why[NL_ERRBUF_SIZE];
    int rc = nl_builder_build(pl->b, &spec, buf, size, &r, why);
    if (rc < 0) {
        const struct nl_message *m = msg >= 0 ? nl_messages_at(p->ms, (size_t)msg) : NULL;
        if (m)
            return nl_err(pl->errbuf, rc, "packet %zu (message %s, line %u, segment %u/%u): %s", p->npkts,
                          m->id, m->line, segment, segments, why);
        return nl_err(pl->errbuf, rc, "packet %zu (%s): %s", p->npkts, nl_pkt_kind_name(kind), why);
    }
    k->bytes = buf;
    k->len = (uint32_t)r.len;
    k->time_ns = t;
    k->msg = msg;
    k->segment = segment;
    k->segments = segments;
    k->conv = ci;
    k->from_client = (uint8_t)!dir;
    k->kind = kind;
    k->tcp_flags = flags;
    k->payload_offset = (uint16_t)(size - plen);
    k->payload_len = (uint32_t)plen;
    k->rel_seq = spec.tcp.seq - (dir ? c->server_isn : c->client_isn);
    k->rel_ack = (flags & NL_TCP_ACK) ? spec.tcp.ack - (dir ? c->client_isn : c->server_isn) : 0;
    k->ip_cksum_libnet = r.ip_cksum_libnet;
    k->ip_cksum_netlab = r.ip_cksum_netlab;
    k->tcp_cksum_libnet = r.tcp_cksum_libnet;
    k->tcp_cksum_netlab = r.tcp_cksum_netlab;
    p->bytes += r.len;
    c->packets++;
    s->next_seq[dir] += (uint32_t)plen + ((flags & (NL_TCP_SYN | NL_TCP_FIN)) ? 1 : 0);
    if (flags & NL_TCP_ACK)
        s->acked[dir] = spec.tcp.ack;
    return 0;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int nl_plan_build(const struct nl_messages *ms, const struct nl_craft_opts *o, struct nl_plan **out, char *errbuf)
{
    *out = NULL;
    int rc = nl_craft_opts_validate(o, errbuf);
    if (rc < 0)
        return rc;
    size_t nmsg = nl_messages_count(ms);
    if (nmsg == 0)
        return nl_err(errbuf, NL_EINVAL, "no messages to encapsulate");
    struct nl_plan *p = calloc(1, sizeof *p);
    if (!p)
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    nl_arena_init(&p->arena);
    p->ms = ms;
    struct planner pl = {.plan = p, .o = o, .errbuf = errbuf};
    int32_t *conv_of_msg = malloc(nmsg * sizeof *conv_of_msg);
    uint8_t *dir_of_msg = malloc(nmsg);
    if (!conv_of_msg || !dir_of_msg) {
        free(conv_of_msg);
        free(dir_of_msg);
        nl_plan_free(p);
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    }

    /* 1. Conversations, in order of first appearance. */
    size_t ccap = 0;
    const struct nl_message *prev = NULL;
    for (size_t i = 0; i < nmsg; i++) {
        const struct nl_message *m = nl_messages_at(ms, i);
        /* Consecutive messages usually share a connection and a direction. */
        if (prev && strcmp(m->src_app, prev->src_app) == 0 && strcmp(m->dst_app, prev->dst_app) == 0 &&
            strcmp(m->app_protocol, prev->app_protocol) == 0) {
            conv_of_msg[i] = conv_of_msg[i - 1];
            dir_of_msg[i] = dir_of_msg[i - 1];
            continue;
        }
        int ci = conv_of(p, o, m, &ccap, errbuf);
        if (ci < 0) {
            rc = ci;
            goto out;
        }
        const struct nl_conv *c = &p->convs[ci];
        conv_of_msg[i] = ci;
        dir_of_msg[i] = strcmp(m->src_app, c->client_app) == 0 && strcmp(m->dst_app, c->server_app) == 0 ? 0 : 1;
        prev = m;
    }
    pl.cs = calloc(p->nconvs, sizeof *pl.cs);
    if (!pl.cs) {
        rc = nl_err(errbuf, NL_ENOMEM, "out of memory");
        goto out;
    }
    uint64_t rng = o->seed;
    uint16_t first_port = o->src_port;
    if (first_port == 0) {
        uint32_t span = EPHEMERAL_HI - EPHEMERAL_LO + 1;
        first_port = (uint16_t)(EPHEMERAL_LO + mix(&rng) % (span > p->nconvs ? span - p->nconvs : 1));
    }
    if ((size_t)first_port + p->nconvs - 1 > 65535) {
        rc = nl_err(errbuf, NL_EINVAL, "source port %u leaves no room for %zu connections below 65536", first_port,
                    p->nconvs);
        goto out;
    }
    for (size_t i = 0; i < p->nconvs; i++) {
        struct nl_conv *c = &p->convs[i];
        c->client_port = (uint16_t)(first_port + i);
        if (c->client_port == c->server_port && !memcmp(c->client_ip, c->server_ip, 4)) {
            rc = nl_err(errbuf, NL_EINVAL, "connection %zu would use port %u on both ends of %u.%u.%u.%u; pick another "
                        "--src-port", i + 1, c->server_port, c->client_ip[0], c->client_ip[1], c->client_ip[2],
                        c->client_ip[3]);
            goto out;
        }
        c->client_isn = (uint32_t)mix(&rng);
        c->server_isn = (uint32_t)mix(&rng);
        struct cstate *s = &pl.cs[i];
        s->next_seq[0] = c->client_isn;
        s->next_seq[1] = c->server_isn;
        s->ip_id[0] = (uint16_t)mix(&rng);
        s->ip_id[1] = (uint16_t)mix(&rng);
        s->last_msg = -1;
    }
    for (size_t i = 0; i < nmsg; i++)
        pl.cs[conv_of_msg[i]].last_msg = (int32_t)i;
    if (!o->handshake) {
        /* Without a handshake the stream starts as if one had happened. */
        for (size_t i = 0; i < p->nconvs; i++) {
            pl.cs[i].next_seq[0]++;
            pl.cs[i].next_seq[1]++;
        }
    }

    rc = nl_builder_open(&pl.b, errbuf);
    if (rc < 0)
        goto out;

    /* Segments carry at most the MSS, and never more than the receiver's window. */
    size_t seg = NL_MIN((size_t)o->mss, (size_t)o->window);

    /* Bound the packets first, so their array is allocated once. */
    {
        size_t total = 0;
        for (size_t i = 0; i < nmsg; i++) {
            size_t len = nl_messages_at(ms, i)->len, nseg = (len + seg - 1) / seg;
            total += o->handshake ? 2 * nseg : nseg; /* at most one ACK per data segment */
        }
        if (o->handshake)
            total += 6 * p->nconvs; /* SYN, SYN-ACK, ACK and FIN, FIN, ACK per connection */
        p->cap = total;
        p->pkts = nl_big_alloc(total * sizeof *p->pkts);
        if (!p->pkts) {
            rc = nl_err(errbuf, NL_ENOMEM, "out of memory for %zu packets", total);
            goto out;
        }
    }

    /* 2. Packets, in message order. */
    int64_t t = o->start_ns ? o->start_ns : now_ns();
    int have_time = 0;
    for (size_t i = 0; i < nmsg; i++) {
        const struct nl_message *m = nl_messages_at(ms, i);
        uint32_t ci = (uint32_t)conv_of_msg[i];
        struct nl_conv *c = &p->convs[ci];
        struct cstate *s = &pl.cs[ci];
        if (m->has_time)
            t = m->time_ns;
        else if (have_time || i)
            t += 1000 * US;
        have_time = 1;
        int dir = dir_of_msg[i];
        if (o->handshake && !s->opened) {
            s->opened = 1;
            if ((rc = emit(&pl, ci, 0, NL_PKT_SYN, NL_TCP_SYN, NULL, 0, -1, 0, 0, t - 300 * US)) < 0 ||
                (rc = emit(&pl, ci, 1, NL_PKT_SYNACK, NL_TCP_SYN | NL_TCP_ACK, NULL, 0, -1, 0, 0, t - 200 * US)) < 0 ||
                (rc = emit(&pl, ci, 0, NL_PKT_ACK, NL_TCP_ACK, NULL, 0, -1, 0, 0, t - 100 * US)) < 0)
                goto out;
        }
        size_t nseg = (m->len + seg - 1) / seg;
        if (nseg > 65535) {
            rc = nl_err(errbuf, NL_ELIMIT, "%s:%u: message %s needs %zu segments at MSS %u; raise --mss",
                        nl_messages_name(ms), m->line, m->id, nseg, o->mss);
            goto out;
        }
        size_t acked_from = 0; /* bytes of this message the receiver has acknowledged */
        for (size_t k = 0; k < nseg; k++) {
            size_t off = k * seg, n = NL_MIN(seg, m->len - off);
            uint8_t flags = NL_TCP_ACK | (k + 1 == nseg ? NL_TCP_PSH : 0);
            rc = emit(&pl, ci, dir, NL_PKT_DATA, flags, m->data + off, n, (int32_t)i, (uint16_t)(k + 1),
                      (uint16_t)nseg, t + (int64_t)k * 10 * US);
            if (rc < 0)
                goto out;
            /* With a handshake, the receiver acknowledges like a real stack: after
             * the last segment, and before half the window is outstanding. */
            size_t outstanding = off + n - acked_from;
            if (o->handshake && (k + 1 == nseg || outstanding + seg > o->window / 2u)) {
                rc = emit(&pl, ci, !dir, NL_PKT_DATA_ACK, NL_TCP_ACK, NULL, 0, -1, 0, 0, t + (int64_t)k * 10 * US + 5 * US);
                if (rc < 0)
                    goto out;
                acked_from = off + n;
            }
        }
        if (dir == 0) {
            c->messages_c2s++;
            c->bytes_c2s += m->len;
        } else {
            c->messages_s2c++;
            c->bytes_s2c += m->len;
        }
        if (o->handshake && s->last_msg == (int32_t)i) {
            /* Orderly close (RFC 9293 3.6): client FIN/ACK, server FIN/ACK, client ACK. */
            int64_t tc = t + (int64_t)nseg * 10 * US + 100 * US;
            if ((rc = emit(&pl, ci, 0, NL_PKT_FIN, NL_TCP_FIN | NL_TCP_ACK, NULL, 0, -1, 0, 0, tc)) < 0 ||
                (rc = emit(&pl, ci, 1, NL_PKT_FIN, NL_TCP_FIN | NL_TCP_ACK, NULL, 0, -1, 0, 0, tc + 100 * US)) < 0 ||
                (rc = emit(&pl, ci, 0, NL_PKT_LAST_ACK, NL_TCP_ACK, NULL, 0, -1, 0, 0, tc + 200 * US)) < 0)
                goto out;
        }
    }
    rc = 0;
out:
    free(conv_of_msg);
    free(dir_of_msg);
    free(pl.cs);
    nl_builder_close(pl.b);
    if (rc < 0) {
        nl_plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

size_t nl_plan_packet_count(const struct nl_plan *p) { return p ? p->npkts : 0; }

const struct nl_pkt *nl_plan_packet(const struct nl_plan *p, size_t i)
{
    return p && i < p->npkts ? &p->pkts[i] : NULL;
}

int nl_plan_explain_ctx(const struct nl_plan *p, size_t i, struct nl_explain_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    if (!p || i >= p->npkts)
        return NL_EINVAL;
    const struct nl_pkt *k = &p->pkts[i];
    const struct nl_conv *c = &p->convs[k->conv];
    ctx->has_isn = 1;
    ctx->sender_isn = k->from_client ? c->client_isn : c->server_isn;
    ctx->receiver_isn = k->from_client ? c->server_isn : c->client_isn;
    ctx->scale = NL_XSCALE_UNKNOWN; /* no SYN before it in the capture */
    for (size_t j = 0; j < i; j++) {
        const struct nl_pkt *s = &p->pkts[j];
        if (s->conv != k->conv || !(s->tcp_flags & NL_TCP_SYN))
            continue;
        /* emit() gives a SYN the MSS option alone: no window of the connection is scaled. */
        if (ctx->scale == NL_XSCALE_UNKNOWN)
            ctx->refused_packet = j + 1;
        ctx->scale = NL_XSCALE_NONE;
        if (s->from_client == k->from_client)
            ctx->syn_packet = j + 1;
        else
            ctx->peer_syn_packet = j + 1;
    }
    return 0;
}

size_t nl_plan_conv_count(const struct nl_plan *p) { return p ? p->nconvs : 0; }

const struct nl_conv *nl_plan_conv(const struct nl_plan *p, size_t i)
{
    return p && i < p->nconvs ? &p->convs[i] : NULL;
}

const struct nl_messages *nl_plan_messages(const struct nl_plan *p) { return p ? p->ms : NULL; }

uint64_t nl_plan_bytes(const struct nl_plan *p) { return p ? p->bytes : 0; }

void nl_plan_free(struct nl_plan *p)
{
    if (!p)
        return;
    nl_big_free(p->pkts);
    free(p->convs);
    nl_arena_free(&p->arena);
    free(p);
}
