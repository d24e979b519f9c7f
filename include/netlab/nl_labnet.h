/*
 * nl_labnet.h - two hosts on one machine: a pair of network namespaces joined
 * by a veth pair with private addresses (client 10.99.0.1/24, server 10.99.0.2/24),
 * created with iproute2 and always removed. Names carry the creating process's
 * PID, so a later run can find and remove what a crashed run left behind.
 */
#ifndef NL_LABNET_H
#define NL_LABNET_H

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
int nl_labnet_create(struct nl_labnet *n, int tag, char *errbuf);

/**
 * Add the third namespace to a created pair (root needed). On failure the
 * third namespace is removed again and the pair stays as it was.
 */
int nl_labnet_add_third(struct nl_labnet *n, int tag, char *errbuf);

/** Stop every process left inside the namespaces and delete them (the veths go with them). */
int nl_labnet_destroy(struct nl_labnet *n, char *errbuf);

/**
 * Remove namespaces named NL_LABNET_PREFIX<pid>-... whose creating process is
 * gone (a crashed run), with the processes inside them. *removed counts them.
 */
int nl_labnet_cleanup_stale(int *removed, char *errbuf);

/** 1 if this process may create network namespaces (root / CAP_SYS_ADMIN). */
int nl_can_create_netns(void);

#ifdef __cplusplus
}
#endif
#endif
