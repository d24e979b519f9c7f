/*
 * nl_flow.c - the conversation table (see nl_flow.h): 5-tuple hashing with
 * linear probing, grown by conversations (never by packets), and the TCP
 * bookkeeping per direction (retransmissions and the rest of the sequence
 * analysis are nl_tcpanalysis.c's). Decides who is the server; does no I/O and keeps
 * no packet bytes (only a pointer to the previous packet for duplicate checks).
 */
#include "nl_flow.h"
#include "nl_internal.h"
#include "netlab/nl_tcp.h"
#include "netlab/nl_analyze.h"
#include "netlab/nl_pcapr.h"
#include "netlab/nl_time.h"

#include <stdlib.h>
#include <string.h>

void nl_flow_table_init(struct nl_flow_table *t) { memset(t, 0, sizeof *t); }

void nl_flow_table_free(struct nl_flow_table *t)
{
    free(t->slots);
    free(t->flows);
    memset(t, 0, sizeof *t);
}

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Endpoint order: address bytes, then port. */
static inline int ep_cmp(const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb, size_t alen)
{
    /* memcmp's order, from big-endian loads */
    if (alen == 4) {
        uint32_t x = __builtin_bswap32(load32(a)), y = __builtin_bswap32(load32(b));
        if (x != y)
            return x < y ? -1 : 1;
    } else {
        for (int i = 0; i < 16; i += 8) {
            uint64_t x = __builtin_bswap64(load64(a + i)), y = __builtin_bswap64(load64(b + i));
            if (x != y)
                return x < y ? -1 : 1;
        }
    }
    return (int)pa - (int)pb;
}

/* Symmetric hash: the same for both directions of a conversation. */
static inline uint32_t key_hash(const uint8_t *a0, uint16_t p0, const uint8_t *a1, uint16_t p1, uint8_t ipver,
                                uint8_t proto)
{
    uint64_t h;
    if (ipver == 4) {
        h = ((uint64_t)load32(a0) << 32 | load32(a1)) ^ mix64(((uint64_t)p0 << 16 | p1) << 8 | proto);
    } else {
        h = load64(a0) ^ mix64(load64(a0 + 8) ^ mix64(load64(a1) ^ mix64(load64(a1 + 8))));
        h ^= ((uint64_t)p0 << 16 | p1) << 8 | proto | 0x6000000000000000ull;
    }
    return (uint32_t)mix64(h);
}

/* The same endpoints (addresses of alen bytes, ports, protocol, version)? Inline, no memcmp call. */
static inline int same_key(const struct nl_flow *f, const uint8_t *a0, uint16_t p0, const uint8_t *a1, uint16_t p1,
                           const struct nl_decoded *d)
{
    if (f->port[0] != p0 || f->port[1] != p1 || f->proto != d->proto || f->ipver != d->ipver)
        return 0;
    if (d->ipver == 4)
        return load32(f->addr[0]) == load32(a0) && load32(f->addr[1]) == load32(a1);
    return ((load64(f->addr[0]) ^ load64(a0)) | (load64(f->addr[0] + 8) ^ load64(a0 + 8)) |
            (load64(f->addr[1]) ^ load64(a1)) | (load64(f->addr[1] + 8) ^ load64(a1 + 8))) == 0;
}

static int grow_slots(struct nl_flow_table *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 1024;
    struct nl_flow_slot *s = calloc(n, sizeof *s);
    if (!s)
        return NL_ENOMEM;
    for (size_t i = 0; i < t->nslots; i++) {
        struct nl_flow_slot v = t->slots[i];
        if (!v.idx)
            continue;
        size_t j = v.hash & (n - 1);
        while (s[j].idx)
            j = (j + 1) & (n - 1);
        s[j] = v;
    }
    free(t->slots);
    t->slots = s;
    t->nslots = n;
    return 0;
}

static struct nl_flow *new_flow(struct nl_flow_table *t, size_t slot, uint32_t hash, const uint8_t *a0, uint16_t p0,
                                const uint8_t *a1, uint16_t p1, const struct nl_decoded *d)
{
    if (NL_GROW(t->flows, t->nflows, t->cap, 256) < 0)
        return NULL;
    struct nl_flow *f = &t->flows[t->nflows];
    memset(f, 0, sizeof *f);
    size_t alen = d->ipver == 4 ? 4 : 16;
    memcpy(f->addr[0], a0, alen);
    memcpy(f->addr[1], a1, alen);
    f->port[0] = p0;
    f->port[1] = p1;
    f->ipver = d->ipver;
    f->proto = d->proto;
    f->server = -1;
    f->id = (uint32_t)t->nflows + 1;
    t->nflows++;
    t->slots[slot].idx = (uint32_t)t->nflows;
    t->slots[slot].hash = hash;
    return f;
}

/* The direction of d: 1 when it travels from endpoint 1 (endpoint 0 sorts first). */
static inline int direction(const struct nl_decoded *d)
{
    return ep_cmp(d->src, d->sport, d->dst, d->dport, d->ipver == 4 ? 4 : 16) > 0;
}

/* The key of d in the table's order, given its direction: endpoint 0 first. */
static inline void canon(const struct nl_decoded *d, int rev, const uint8_t **a0, uint16_t *p0, const uint8_t **a1,
                         uint16_t *p1)
{
    *a0 = rev ? d->dst : d->src;
    *a1 = rev ? d->src : d->dst;
    *p0 = rev ? d->dport : d->sport;
    *p1 = rev ? d->sport : d->dport;
}

uint32_t nl_flow_hash(const struct nl_decoded *d, uint8_t *dir)
{
    const uint8_t *a0, *a1;
    uint16_t p0, p1;
    int rev = direction(d);
    canon(d, rev, &a0, &p0, &a1, &p1);
    *dir = (uint8_t)rev;
    return key_hash(a0, p0, a1, p1, d->ipver, d->proto);
}

void nl_flow_prefetch_slot(const struct nl_flow_table *t, uint32_t h)
{
    if (t->nslots)
        __builtin_prefetch(&t->slots[h & (t->nslots - 1)]);
}

uint32_t nl_flow_prefetch_flow(const struct nl_flow_table *t, uint32_t h)
{
    if (!t->nslots)
        return 0;
    size_t mask = t->nslots - 1, i = h & mask;
    /* Only the slots: a flow whose hash matches is the likely one (a wrong guess costs a prefetch). */
    for (int probes = 0; probes < 8; probes++, i = (i + 1) & mask) {
        struct nl_flow_slot v = t->slots[i];
        if (!v.idx)
            return 0;
        if (v.hash == h) {
            const char *f = (const char *)&t->flows[v.idx - 1];
            for (size_t o = 0; o < sizeof(struct nl_flow); o += 64)
                __builtin_prefetch(f + o);
            __builtin_prefetch(f + sizeof(struct nl_flow) - 1);
            return v.idx;
        }
    }
    return 0;
}

struct nl_flow *nl_flow_get_hashed(struct nl_flow_table *t, const struct nl_decoded *d, uint32_t h, int rev,
                                   int *created)
{
    const uint8_t *a0, *a1;
    uint16_t p0, p1;
    canon(d, rev, &a0, &p0, &a1, &p1);
    *created = 0;

    /* Consecutive packets of one conversation are common: try the last flow first. */
    if (t->last && same_key(&t->flows[t->last - 1], a0, p0, a1, p1, d))
        goto found_last;
    if ((t->nflows + 1) * 2 > t->nslots && grow_slots(t) < 0)
        return NULL;
    size_t mask = t->nslots - 1, i = h & mask;
    for (;; i = (i + 1) & mask) {
        struct nl_flow_slot v = t->slots[i];
        if (!v.idx)
            break;
        /* the hash beside the index: a different conversation in the slot costs no look at it */
        if (v.hash == h && same_key(&t->flows[v.idx - 1], a0, p0, a1, p1, d)) {
            t->last = v.idx;
            goto found;
        }
    }
    {
        struct nl_flow *f = new_flow(t, i, h, a0, p0, a1, p1, d);
        if (!f)
            return NULL;
        t->last = t->nflows;
        *created = 1;
        return f;
    }

found_last:;
found:;
    struct nl_flow *f = &t->flows[t->last - 1];
    /* A new SYN on the same ports with another initial sequence number: the ports
     * were reused by a new connection. */
    if (d->proto == 6 && (d->tcp_flags & (NL_TCP_SYN | NL_TCP_ACK)) == NL_TCP_SYN && f->d[rev].have_base &&
        d->seq != f->d[rev].base_seq) {
        if ((t->nflows + 1) * 2 > t->nslots && grow_slots(t) < 0)
            return NULL;
        size_t mask = t->nslots - 1, i = h & mask;
        uint32_t old = t->last;
        while (t->slots[i].idx != old)
            i = (i + 1) & mask;
        struct nl_flow *nf = new_flow(t, i, h, a0, p0, a1, p1, d);
        if (!nf)
            return NULL;
        t->last = t->nflows;
        *created = 1;
        return nf;
    }
    return f;
}

struct nl_flow *nl_flow_get(struct nl_flow_table *t, const struct nl_decoded *d, int *dir, int *created)
{
    uint8_t rev;
    uint32_t h = nl_flow_hash(d, &rev);
    *dir = rev;
    return nl_flow_get_hashed(t, d, h, rev, created);
}

static void first_packet(struct nl_flow *f, int dir, const struct nl_decoded *d, uint64_t pkt, int64_t ns)
{
    if (f->first_pkt)
        return;
    f->first_pkt = pkt;
    f->first_ns = ns;
    f->first_dir = (uint8_t)dir;
    f->first_flags = d->tcp_flags;
}

/* One packet counted on its side (TCP and UDP alike). */
static void count_packet(struct nl_flow *f, struct nl_flow_dir *D, const struct nl_decoded *d, uint64_t pkt,
                         uint32_t wirelen)
{
    D->packets++;
    D->bytes += wirelen;
    D->payload += d->payload_len;
    if (d->payload_len > D->largest_bytes) {
        D->largest_bytes = d->payload_len;
        D->largest_pkt = pkt;
    }
    f->last_pkt = pkt;
}

void nl_flow_tcp(struct nl_flow *f, int dir, const struct nl_decoded *d, uint64_t pkt, uint32_t wirelen)
{
    struct nl_flow_dir *D = &f->d[dir], *O = &f->d[!dir];
    uint8_t fl = d->tcp_flags;
    count_packet(f, D, d, pkt, wirelen);
    if (!D->have_base) {
        D->have_base = 1;
        D->base_seq = d->seq;
    }

    if ((fl & (NL_TCP_SYN | NL_TCP_ACK)) == NL_TCP_SYN) {
        D->syn = 1;
        D->isn = d->seq;
        f->hs |= 1;
        if (f->basis != NL_SERVER_SYN) {
            f->server = (int8_t)!dir; /* the side that received the SYN */
            f->basis = NL_SERVER_SYN;
        }
    } else if ((fl & (NL_TCP_SYN | NL_TCP_ACK)) == (NL_TCP_SYN | NL_TCP_ACK)) {
        D->synack = 1;
        D->isn = d->seq;
        if (f->hs & 1)
            f->hs |= 2;
        if (!f->basis) {
            f->server = (int8_t)dir;
            f->basis = NL_SERVER_SYNACK;
        }
    } else if ((fl & NL_TCP_ACK) && (f->hs & 3) == 3 && !(f->hs & 4) && O->synack && !(fl & NL_TCP_RST) &&
               d->ack == O->isn + 1) {
        f->hs |= 4;
    }
    if (fl & NL_TCP_FIN)
        D->fin = 1;

    if (fl & NL_TCP_RST) {
        if (!D->rst && !f->rst_pkt)
            f->rst_pkt = pkt;
        D->rst = 1;
        f->rsts++;
        int kernel = 0;
        /* Resets a kernel sends when no socket owns the segment (RFC 9293 3.10.7.1):
         * to a SYN, <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>; to anything with ACK,
         * <SEQ=SEG.ACK><CTL=RST>. Linux gives both a zero window and no payload. */
        if (d->payload_len == 0 && d->window == 0) {
            if ((fl & NL_TCP_ACK) && d->seq == 0 && O->syn && !D->synack && d->ack == O->isn + 1) {
                f->refused = 1;
                kernel = 1;
            } else if (!(fl & NL_TCP_ACK) && O->have_ack && d->seq == O->last_ack) {
                kernel = 1;
            }
        }
        if (kernel) {
            f->kernel_rst = 1;
            D->kernel_rsts++;
            if (!f->krst_first)
                f->krst_first = pkt;
            f->krst_last = pkt;
        }
    }
    if (fl & NL_TCP_ACK) {
        D->have_ack = 1;
        D->last_ack = d->ack;
    }
}

void nl_flow_udp(struct nl_flow *f, int dir, const struct nl_decoded *d, uint64_t pkt, uint32_t wirelen)
{
    count_packet(f, &f->d[dir], d, pkt, wirelen);
}

void nl_flow_finish(struct nl_flow_table *t)
{
    for (size_t i = 0; i < t->nflows; i++) {
        struct nl_flow *f = &t->flows[i];
        if (f->server >= 0)
            continue;
        int wk0 = f->port[0] < 1024, wk1 = f->port[1] < 1024;
        if (wk0 != wk1) {
            f->server = (int8_t)(wk0 ? 0 : 1);
            f->basis = NL_SERVER_WELL_KNOWN;
        } else if (f->port[0] != f->port[1]) {
            f->server = (int8_t)(f->port[0] < f->port[1] ? 0 : 1);
            f->basis = NL_SERVER_LOWER_PORT;
        } else {
            f->server = (int8_t)!f->first_dir;
            f->basis = NL_SERVER_FIRST_DEST;
        }
    }
}

/* The conversation's span is its earliest to its latest time, as tshark's conversation table
 * takes it: a capture whose clock stepped back (time going backwards) gives no negative
 * duration. */
void nl_flow_touch(struct nl_flow *f, int dir, const struct nl_decoded *d, uint64_t pkt, int64_t ns)
{
    first_packet(f, dir, d, pkt, ns);
    if (ns < f->first_ns)
        f->first_ns = ns;
    if (ns > f->last_ns || f->first_pkt == pkt)
        f->last_ns = ns;
}

int nl_flow_is_copy(const struct nl_flow_dir *D, const struct nl_decoded *d, const struct nl_frame *pkt)
{
    return D->last_l3 && d->ipver == 4 && d->ip_id != 0 && pkt->caplen == pkt->len &&
           D->last_l3_cap == d->l3_caplen && pkt->ts_ns >= D->last_ns &&
           nl_time_sub(pkt->ts_ns, D->last_ns) <= NL_ANALYZE_DUP_WINDOW_NS &&
           !(d->link.pkttype != NL_PKTTYPE_NONE && d->link.pkttype == D->last_pkttype) &&
           memcmp(D->last_l3, d->l3, d->l3_caplen) == 0;
}

void nl_flow_remember(struct nl_flow_dir *D, const struct nl_decoded *d, const struct nl_frame *pkt)
{
    D->last_l3 = d->l3;
    D->last_l3_cap = d->l3_caplen;
    D->last_ns = pkt->ts_ns;
    D->last_pkt = pkt->number;
    D->last_pkttype = d->link.pkttype;
    D->last_if = d->link.has_ifindex ? d->link.ifindex : pkt->iface;
}

const char *nl_server_basis_name(int b)
{
    switch (b) {
    case NL_SERVER_SYN: return "syn";
    case NL_SERVER_SYNACK: return "syn-ack";
    case NL_SERVER_WELL_KNOWN: return "well-known port";
    case NL_SERVER_LOWER_PORT: return "lower port";
    case NL_SERVER_FIRST_DEST: return "first destination";
    default: return "";
    }
}
