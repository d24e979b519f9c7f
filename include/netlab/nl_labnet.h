/*
 * nl_labnet.h - two hosts on one machine: a pair of network namespaces joined
 * by a veth pair with private addresses (client 10.99.0.1/24, server 10.99.0.2/24),
 * created with iproute2 and always removed. Names carry the creating process's
 * PID, so a later run can find and remove what a crashed run left behind.
 */
#ifndef NL_LABNET_H
#define NL_LABNET_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NL_LABNET_PREFIX "nllab-"

struct nl_labnet {
    char ns_client[40], ns_server[40];  /* "nllab-<pid>-<n>-c" */
    char if_client[16], if_server[16];  /* veth ends, one in each namespace */
    uint8_t ip_client[4], ip_server[4];
    int created;                        /* which parts exist (for destroy) */
    /* A third host (nl_labnet_add_third): "nllab-<pid>-<n>-t", joined to the
     * client namespace by its own veth pair, 10.99.2.1/24 (client side) and
     * 10.99.2.2/24 (third). The client namespace is the hub: it reaches both. */
    char ns_third[40];
    char if_client2[16], if_third[16];
    uint8_t ip_client2[4], ip_third[4];
};

/**
 * Create the pair (root needed: NL_EPERM otherwise, saying so). tag tells
 * pairs of the same process apart (0, 1, ...). Everything created is removed
 * again if a later step fails.
 */
NL_API int nl_labnet_create(struct nl_labnet *n, int tag, char *errbuf);

/**
 * Add the third namespace to a created pair (root needed). On failure the
 * third namespace is removed again and the pair stays as it was.
 */
NL_API int nl_labnet_add_third(struct nl_labnet *n, int tag, char *errbuf);

/** Stop every process left inside the namespaces and delete them (the veths go with them). */
NL_API int nl_labnet_destroy(struct nl_labnet *n, char *errbuf);

/**
 * Remove namespaces named NL_LABNET_PREFIX<pid>-... whose creating process is
 * gone (a crashed run), with the processes inside them. *removed counts them.
 */
NL_API int nl_labnet_cleanup_stale(int *removed, char *errbuf);

/** 1 if this process may create network namespaces (root / CAP_SYS_ADMIN). */
NL_API int nl_can_create_netns(void);


/* ---- an impaired link: loss, a rate limit, delay (netlab lab --impair) ---- */

#define NL_IMPAIR_LOSS  1u
#define NL_IMPAIR_RATE  2u
#define NL_IMPAIR_DELAY 4u

/** What was asked for: "loss=2%,rate=8mbit,delay=20ms", any subset, any order. */
struct nl_impair {
    unsigned set;            /* NL_IMPAIR_* present in the spec */
    double loss_pct;         /* 0.000001 <= loss <= 50 (percent of packets, each direction) */
    uint64_t rate_bps;       /* 8 kbit/s .. 10 Gbit/s, each direction */
    uint32_t delay_us;       /* 1 us .. 10 s, one way, each direction */
};

enum nl_impair_mech { NL_IMPAIR_NONE = 0, NL_IMPAIR_NETEM = 1, NL_IMPAIR_TBF_NFT = 2 };

/** What was done to the veth pair. */
struct nl_impair_applied {
    int mechanism;             /* enum nl_impair_mech */
    const char *mechanism_name;/* "netem", "tbf + nftables" */
    unsigned applied;          /* NL_IMPAIR_* in force (delay is missing without netem) */
    double loss_pct;           /* the loss in force: netem's as asked, nftables' 100/modulus */
    uint32_t loss_modulus;     /* nftables: `numgen random mod N == 0 drop` (0 with netem) */
    uint64_t rate_bps;
    uint32_t tbf_burst, tbf_limit; /* bytes: the bucket and the queue (tail drops beyond it) */
    uint32_t delay_us;         /* one way, in force */
    char detail[768];          /* for people: every rule applied, and what could not be and why */
};

/**
 * Parse an impairment spec: comma-separated loss=P% (the % sign optional),
 * rate=N<unit> (bit, kbit, mbit, gbit; bps, kbps, mbps, gbps are bytes per second
 * as tc reads them) and delay=N<unit> (us, ms, s); numbers are plain decimals
 * ("2", "0.5", "1e-3": no sign, hex, inf or nan). Every key at most once. P is
 * what both loss mechanisms can apply: from 0.000001 (1 in 10^8) to 50, and above
 * 10 within 5% of 100/N for a whole N (nftables drops 1 packet in N): 50, 33.3, 25,
 * 20, 16.7, 14.3, 12.5, 11.1. NL_EINVAL with errbuf saying what is wrong and what
 * is accepted.
 */
NL_API int nl_impair_parse(const char *spec, struct nl_impair *out, char *errbuf);

/**
 * Impair both directions of the pair, on each namespace's veth end. With netem
 * in the kernel (found by trying to add it) netem does all; otherwise a tbf
 * qdisc (the rate, with a queue of about 25 ms whose overflow tail-drops) on each
 * egress and an nftables rule in each namespace dropping arriving IP packets
 * with `numgen random mod N == 0` (N = round(100/loss)); delay then cannot be
 * applied (said in out->detail). NL_ENOTFOUND when nothing asked for can be
 * applied here; anything half-applied is removed again on failure.
 */
NL_API int nl_labnet_impair(struct nl_labnet *n, const struct nl_impair *im, struct nl_impair_applied *out, char *errbuf);

/** What the impairment did so far, per namespace ([0] client, [1] server); -1 where not known. */
struct nl_impair_stats {
    int64_t loss_dropped[2];   /* packets the nftables loss rule dropped arriving there */
    int64_t queue_dropped[2];  /* packets the qdisc on its egress dropped (tbf's full queue, netem's loss) */
    int64_t sent_packets[2];   /* packets the qdisc sent */
};
NL_API int nl_labnet_impair_stats(struct nl_labnet *n, struct nl_impair_stats *st, char *errbuf);

/** Remove every impairment (qdiscs and the nftables table); what is absent is skipped. */
NL_API int nl_labnet_unimpair(struct nl_labnet *n, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
