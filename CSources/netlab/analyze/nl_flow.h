/*
 * nl_flow.h - the conversation table of an analysis (internal): TCP and UDP
 * conversations keyed by their 5-tuple in an open-addressing hash table sized by
 * the number of conversations, and the per-direction TCP bookkeeping (handshake,
 * end, largest payload, who is the server).
 */
#ifndef NL_FLOW_H
#define NL_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include "netlab/nl_decode.h"

#define NL_APPID_HEAD 24  /* payload bytes read (once) per direction to tell the application */

struct nl_flow_ext; /* reassembly state, allocated only when asked for (nl_analyze.c) */
struct nl_ta_conv; /* TCP sequence analysis state (nl_tcpanalysis.c), TCP only */

/* Why a side was taken to be the server. */
enum nl_server_basis {
    NL_SERVER_SYN = 1,        /* it received the SYN */
    NL_SERVER_SYNACK = 2,     /* it sent the SYN-ACK (the SYN was not captured) */
    NL_SERVER_WELL_KNOWN = 3, /* guessed: its port is below 1024 and the other's is not */
    NL_SERVER_LOWER_PORT = 4, /* guessed: the lower port */
    NL_SERVER_FIRST_DEST = 5  /* guessed: same ports; the first packet's destination */
};

/** The basis in words ("syn", "syn-ack", ...; "" when none). */
const char *nl_server_basis_name(int b);

/* nl_flow_dir.traits: what the first payload bytes a side sent look like (nl_appid.c). */
#define NL_TRAIT_SPOKE 1u          /* it sent payload */
#define NL_TRAIT_CHAT_HELLO 2u     /* "HELLO netlab-chat ": a chat server's greeting */
#define NL_TRAIT_RESP_COMMAND 4u   /* a RESP array of bulk strings: a Redis client */
#define NL_TRAIT_RESP_REPLY 8u     /* a RESP reply */

struct nl_flow_dir { /* ordered so that no byte is padding: 104 bytes */
    uint64_t packets, payload, bytes;  /* bytes: frame (wire) lengths */
    uint64_t largest_pkt;
    const uint8_t *last_l3;   /* previous packet's network layer (in the file mapping) */
    int64_t last_ns;
    uint64_t last_pkt;
    uint32_t largest_bytes;
    uint32_t isn;             /* of the SYN or SYN-ACK */
    uint32_t base_seq;        /* sequence number of this side's first segment */
    uint32_t last_ack;        /* ack field of this side's latest ACK segment */
    uint32_t dups;
    uint32_t ck_bad, ck_offload;
    uint32_t kernel_rsts;     /* resets this side's kernel sent (no socket owned the segment) */
    uint32_t last_if;         /* SLL2 interface index, else the file's interface */
    uint32_t last_l3_cap;
    uint8_t have_ack, syn, synack, fin, rst;
    uint8_t have_base;
    uint8_t last_pkttype;     /* for duplicate-copy detection */
    uint8_t traits;           /* NL_TRAIT_* of its first payload; 0 before any */
};

struct nl_flow {
    uint8_t addr[2][16];      /* endpoint 0 sorts before endpoint 1 */
    uint16_t port[2];
    uint8_t ipver, proto;
    int8_t server;            /* endpoint index of the server, -1 until decided */
    uint8_t basis;            /* enum nl_server_basis */
    uint8_t hs;               /* handshake bits: 1 SYN, 2 SYN-ACK, 4 ACK of the SYN-ACK */
    uint8_t first_flags;      /* TCP flags of the first packet seen */
    uint8_t first_dir;        /* direction (0: from endpoint 0) of the first packet */
    uint8_t refused, kernel_rst;
    uint8_t app, app_basis, app_role; /* enum nl_app, nl_app_basis, nl_app_role (nl_appid.c) */
    uint32_t id;              /* 1-based, in order of first packet (its key's hash is in the table's slot) */
    uint32_t rsts;            /* every reset, either side */
    uint64_t first_pkt, last_pkt, rst_pkt;
    uint64_t krst_first, krst_last;  /* first and last kernel reset packet */
    int64_t first_ns, last_ns;
    struct nl_flow_dir d[2];
    struct nl_flow_ext *ext;
    struct nl_ta_conv *ta;
};

struct nl_flow_slot {
    uint32_t hash;            /* the flow's key hash, so probes compare it without touching the flow */
    uint32_t idx;             /* flow index + 1; 0 = empty */
};

struct nl_flow_table {
    struct nl_flow_slot *slots; /* load factor at most 1/2 */
    size_t nslots;            /* a power of two */
    struct nl_flow *flows;
    size_t nflows, cap;
    size_t last;              /* index + 1 of the last flow found: consecutive packets often share it */
};

void nl_flow_table_init(struct nl_flow_table *t);
void nl_flow_table_free(struct nl_flow_table *t);

/**
 * The flow of a decoded TCP/UDP packet, created when new. *dir is 0 when the
 * packet travels from endpoint 0. *created tells a new flow. NULL when out of
 * memory. A TCP SYN whose sequence number differs from the one this side began
 * with reopens the ports: it starts a new flow, as Wireshark starts a new stream.
 */
struct nl_flow *nl_flow_get(struct nl_flow_table *t, const struct nl_decoded *d, int *dir, int *created);
/** The same, with d's nl_flow_hash and direction already computed. */
struct nl_flow *nl_flow_get_hashed(struct nl_flow_table *t, const struct nl_decoded *d, uint32_t hash, int dir,
                                   int *created);

/* The hash of d's conversation key (the same both ways) and d's direction in it (1: from
 * endpoint 1): pure, any thread. */
uint32_t nl_flow_hash(const struct nl_decoded *d, uint8_t *dir);
/* Look ahead (the packet loop accounts a packet while later ones are decoded, see
 * nl_analyze.c's run): prefetch the table slot of a key hash; then, once it has
 * arrived, the index + 1 of the flow it names (0: none yet), its record prefetched.
 * Hints only: they change nothing. */
void nl_flow_prefetch_slot(const struct nl_flow_table *t, uint32_t hash);
uint32_t nl_flow_prefetch_flow(const struct nl_flow_table *t, uint32_t hash);

/** Record the first packet of a flow (direction, flags, time) and the latest time. */
void nl_flow_touch(struct nl_flow *f, int dir, const struct nl_decoded *d, uint64_t pkt, int64_t ns);

struct nl_frame;
/* Whether this packet is a second copy of the one seen just before in the same
 * direction (identical bytes from the IP header on, within NL_ANALYZE_DUP_WINDOW_NS):
 * the rule is explained at its one caller in nl_analyze.c. Reads D only. */
int nl_flow_is_copy(const struct nl_flow_dir *D, const struct nl_decoded *d, const struct nl_frame *pkt);
/* Remember this packet as the last one of its direction (for nl_flow_is_copy). */
void nl_flow_remember(struct nl_flow_dir *D, const struct nl_decoded *d, const struct nl_frame *pkt);

/** Account one TCP segment (not a duplicate) to its flow. */
void nl_flow_tcp(struct nl_flow *f, int dir, const struct nl_decoded *d, uint64_t pkt, uint32_t wirelen);

/** Account one UDP datagram. */
void nl_flow_udp(struct nl_flow *f, int dir, const struct nl_decoded *d, uint64_t pkt, uint32_t wirelen);

/** Read the first payload bytes of a direction (the application's first words) into its traits. */
void nl_appid_note(struct nl_flow *f, int dir, const uint8_t *payload, uint32_t caplen);

/** Name the application and the role of every TCP flow (after nl_flow_finish). */
void nl_appid_finish(struct nl_flow_table *t);

/** Decide the server of every flow still undecided (ports), at the end of the capture. */
void nl_flow_finish(struct nl_flow_table *t);

#endif
