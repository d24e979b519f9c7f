/*
 * nl_link.h - link-layer dispatch for captured frames: Ethernet (802.1Q/802.1ad
 * tags, 802.2 SNAP), Linux cooked SLL and SLL2, raw IPv4/IPv6, BSD NULL/LOOP.
 * Finds where the network layer starts and what it is; names link types as
 * libpcap does ("EN10MB", "LINUX_SLL2").
 */
#ifndef NL_LINK_H
#define NL_LINK_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Link types (LINKTYPE_* values of the pcap file format; libpcap's DLT_* names in comments). */
#define NL_LINKTYPE_NULL 0
#define NL_LINKTYPE_ETHERNET 1
#define NL_LINKTYPE_RAW 101        /* raw IPv4/IPv6, what the injector writes */
#define NL_LINKTYPE_LINUX_SLL 113
#define NL_LINKTYPE_LINUX_SLL2 276
#define NL_LINKTYPE_RAW_OLD12 12   /* DLT_RAW on some BSDs */
#define NL_LINKTYPE_RAW_OLD14 14   /* DLT_RAW on OpenBSD */
#define NL_LINKTYPE_LOOP 108       /* OpenBSD loopback: family in network byte order */
#define NL_LINKTYPE_IPV4 228
#define NL_LINKTYPE_IPV6 229
#define NL_LINKTYPE_ARCNET_BSD 7   /* ARCnet, BSD framing: src, dst, type [, split flag, sequence] */
#define NL_LINKTYPE_ARCNET_LINUX 129 /* ARCnet as Linux writes it: src, dst, offset[2], type [, flag, seq] */

#define NL_ETHERTYPE_IPV4 0x0800
#define NL_ETHERTYPE_ARP 0x0806
#define NL_ETHERTYPE_IPV6 0x86dd

/* Linux packet types (SLL/SLL2 sll_pkttype). */
#define NL_PKTTYPE_HOST 0
#define NL_PKTTYPE_BROADCAST 1
#define NL_PKTTYPE_MULTICAST 2
#define NL_PKTTYPE_OTHERHOST 3
#define NL_PKTTYPE_OUTGOING 4
#define NL_PKTTYPE_NONE 0xff       /* the link type records none */

#define NL_ARPHRD_LOOPBACK 772

struct nl_link {
    uint16_t ethertype;   /* of the network layer: NL_ETHERTYPE_*, or another value; 0 when unknown */
    uint32_t l3_off;      /* where the network layer starts */
    uint8_t nvlan;        /* 802.1Q/802.1ad tags walked (at most 4) */
    uint16_t vlan[4];     /* their VLAN ids, outermost first */
    uint8_t pkttype;      /* NL_PKTTYPE_* */
    uint16_t hatype;      /* SLL/SLL2 ARPHRD_* type, 0 when not recorded */
    uint32_t ifindex;     /* SLL2 interface index, when has_ifindex */
    uint8_t has_ifindex;
    uint8_t loopback;     /* the frame shows it was captured on a loopback interface */
};

/**
 * Decode the link-layer header of a captured frame. Returns 0 (ethertype 0 when
 * the frame carries something that is not a network-layer packet, or for a link
 * type not handled), NL_ETRUNC when the captured bytes end inside the link header.
 */
NL_API int nl_link_decode(int linktype, const uint8_t *p, size_t caplen, struct nl_link *out);

/** libpcap's name for a LINKTYPE_* value ("EN10MB", "LINUX_SLL"), or NULL if unknown. */
NL_API const char *nl_linktype_name(int linktype);
/** A description ("Ethernet", "Linux cooked v2"), never NULL. */
NL_API const char *nl_linktype_description(int linktype);
/** 1 when nl_link_decode understands this link type. */
NL_API int nl_linktype_supported(int linktype);

#ifdef __cplusplus
}
#endif
#endif
