/*
 * nl_link.c - link-layer dispatch (see nl_link.h). Reads only through nl_cursor;
 * says where the network layer begins and what the frame tells about the
 * interface (SLL packet type and ARPHRD type, SLL2 index, loopback evidence).
 * Knows nothing above the link layer.
 */
#include "netlab/nl_link.h"
#include "netlab/nl_cursor.h"
#include "netlab/nl_error.h"

#include <string.h>

/* BSD address families as written by NULL/LOOP capture headers. */
static uint16_t family_ethertype(uint32_t af)
{
    switch (af) {
    case 2: return NL_ETHERTYPE_IPV4;                   /* AF_INET everywhere */
    case 10: case 24: case 28: case 30: return NL_ETHERTYPE_IPV6; /* Linux, Net/OpenBSD, FreeBSD, Darwin */
    default: return 0;
    }
}

static uint16_t version_ethertype(struct nl_cursor *c)
{
    if (nl_cur_left(c) < 1)
        return 0;
    uint8_t v = c->p[0] >> 4;
    return v == 4 ? NL_ETHERTYPE_IPV4 : v == 6 ? NL_ETHERTYPE_IPV6 : 0;
}

/* ARCnet system codes (RFC 1051, RFC 1201, and the assigned numbers tcpdump's print-arcnet.c
 * lists): the old encapsulations carry no split flag and sequence number. */
static int arcnet_old_type(uint8_t t) { return t == 240 || t == 241 || t == 0x80; }

static uint16_t arcnet_ethertype(uint8_t t)
{
    switch (t) {
    case 240: case 212: return NL_ETHERTYPE_IPV4; /* IP (RFC 1051), IP (RFC 1201) */
    case 0xc4: return NL_ETHERTYPE_IPV6;
    default: return 0;
    }
}

/* ARCnet framing: src, dst, [Linux: offset[2]], system code, then for the RFC 1201 codes a
 * split flag and a sequence number (BSD: a flag of 0xff is an exception frame with two more
 * bytes). Linux hands over reassembled packets; a BSD middle fragment is not decoded. */
static int arcnet_decode(struct nl_cursor *c, int linux_framing, struct nl_link *l)
{
    nl_cur_skip(c, linux_framing ? 4 : 2);
    uint8_t type = nl_cur_u8(c);
    if (c->err)
        return NL_ETRUNC;
    if (!arcnet_old_type(type)) {
        uint8_t flag = nl_cur_u8(c);
        if (!linux_framing && flag == 0xff) {
            nl_cur_skip(c, 2);
            flag = nl_cur_u8(c);
        }
        nl_cur_skip(c, 2);
        if (c->err)
            return NL_ETRUNC;
        if (!linux_framing && flag && (flag & 1) == 0)
            return 0; /* a middle fragment: no network header here */
    }
    l->ethertype = arcnet_ethertype(type);
    return 0;
}

/* After an Ethernet-style type field: walk VLAN tags and 802.2 LLC/SNAP. */
static int ether_payload(struct nl_cursor *c, uint16_t type, struct nl_link *l)
{
    while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
        uint16_t tci = nl_cur_be16(c);
        type = nl_cur_be16(c);
        if (c->err)
            return NL_ETRUNC;
        if (l->nvlan < 4)
            l->vlan[l->nvlan++] = tci & 0x0fff;
        else
            return 0; /* more tags than anyone uses: not decoded further */
    }
    if (type <= 1500) { /* an 802.3 length: look for LLC SNAP (AA AA 03 OUI type) */
        const uint8_t *llc = nl_cur_bytes(c, 3);
        if (!llc)
            return NL_ETRUNC;
        if (llc[0] == 0xaa && llc[1] == 0xaa && llc[2] == 0x03) {
            nl_cur_skip(c, 3);
            type = nl_cur_be16(c);
            if (c->err)
                return NL_ETRUNC;
        } else {
            type = 0;
        }
    }
    l->ethertype = type;
    return 0;
}

int nl_link_decode(int linktype, const uint8_t *p, size_t caplen, struct nl_link *l)
{
    struct nl_cursor c;
    nl_cur_init(&c, p, caplen);
    memset(l, 0, sizeof *l);
    l->pkttype = NL_PKTTYPE_NONE;
    int rc = 0;
    switch (linktype) {
    case NL_LINKTYPE_ETHERNET: {
        const uint8_t *mac = nl_cur_bytes(&c, 12);
        uint16_t type = nl_cur_be16(&c);
        if (c.err)
            return NL_ETRUNC;
        static const uint8_t zero[12];
        l->loopback = memcmp(mac, zero, 12) == 0; /* Linux lo has all-zero addresses */
        rc = ether_payload(&c, type, l);
        break;
    }
    case NL_LINKTYPE_LINUX_SLL: { /* pkttype, hatype, halen, addr[8], protocol (RFC-less: tcpdump.org/linktypes) */
        l->pkttype = (uint8_t)nl_cur_be16(&c);
        l->hatype = nl_cur_be16(&c);
        nl_cur_skip(&c, 10);
        uint16_t proto = nl_cur_be16(&c);
        if (c.err)
            return NL_ETRUNC;
        l->loopback = l->hatype == NL_ARPHRD_LOOPBACK;
        if (proto > 1500)
            rc = ether_payload(&c, proto, l);
        break;
    }
    case NL_LINKTYPE_LINUX_SLL2: { /* protocol, reserved, ifindex, hatype, pkttype, halen, addr[8] */
        uint16_t proto = nl_cur_be16(&c);
        nl_cur_skip(&c, 2);
        l->ifindex = nl_cur_be32(&c);
        l->hatype = nl_cur_be16(&c);
        l->pkttype = nl_cur_u8(&c);
        nl_cur_skip(&c, 9);
        if (c.err)
            return NL_ETRUNC;
        l->has_ifindex = 1;
        l->loopback = l->hatype == NL_ARPHRD_LOOPBACK;
        if (proto > 1500)
            rc = ether_payload(&c, proto, l);
        break;
    }
    case NL_LINKTYPE_NULL: { /* 4-byte family in the capturing host's byte order */
        const uint8_t *b = nl_cur_bytes(&c, 4);
        if (!b)
            return NL_ETRUNC;
        uint32_t le = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        uint32_t be = nl_get_be32(b);
        l->ethertype = family_ethertype(le < 256 ? le : be);
        l->loopback = 1;
        break;
    }
    case NL_LINKTYPE_LOOP: {
        uint32_t af = nl_cur_be32(&c);
        if (c.err)
            return NL_ETRUNC;
        l->ethertype = family_ethertype(af);
        l->loopback = 1;
        break;
    }
    case NL_LINKTYPE_RAW:
    case NL_LINKTYPE_RAW_OLD12:
    case NL_LINKTYPE_RAW_OLD14:
        if (nl_cur_left(&c) < 1)
            return NL_ETRUNC;
        l->ethertype = version_ethertype(&c);
        break;
    case NL_LINKTYPE_IPV4:
        l->ethertype = NL_ETHERTYPE_IPV4;
        break;
    case NL_LINKTYPE_IPV6:
        l->ethertype = NL_ETHERTYPE_IPV6;
        break;
    case NL_LINKTYPE_ARCNET_BSD:
    case NL_LINKTYPE_ARCNET_LINUX:
        rc = arcnet_decode(&c, linktype == NL_LINKTYPE_ARCNET_LINUX, l);
        break;
    default:
        return 0;
    }
    if (rc < 0)
        return rc;
    l->l3_off = (uint32_t)(c.p - p);
    return 0;
}

struct lt_name {
    int value;
    const char *name;
    const char *description;
};

static const struct lt_name lt_names[] = {
    {NL_LINKTYPE_NULL, "NULL", "BSD loopback"},
    {NL_LINKTYPE_ETHERNET, "EN10MB", "Ethernet"},
    {NL_LINKTYPE_RAW_OLD12, "RAW", "Raw IP"},
    {NL_LINKTYPE_RAW_OLD14, "RAW", "Raw IP"},
    {NL_LINKTYPE_RAW, "RAW", "Raw IP"},
    {NL_LINKTYPE_LOOP, "LOOP", "OpenBSD loopback"},
    {NL_LINKTYPE_LINUX_SLL, "LINUX_SLL", "Linux cooked v1"},
    {NL_LINKTYPE_LINUX_SLL2, "LINUX_SLL2", "Linux cooked v2"},
    {NL_LINKTYPE_IPV4, "IPV4", "Raw IPv4"},
    {NL_LINKTYPE_IPV6, "IPV6", "Raw IPv6"},
    {NL_LINKTYPE_ARCNET_BSD, "ARCNET", "ARCnet"},
    {NL_LINKTYPE_ARCNET_LINUX, "ARCNET_LINUX", "ARCnet (Linux)"},
    {105, "IEEE802_11", "802.11 Wi-Fi"},
    {127, "IEEE802_11_RADIO", "802.11 plus radiotap"},
    {9, "PPP", "PPP"},
    {50, "PPP_HDLC", "PPP in HDLC framing"},
    {51, "PPP_ETHER", "PPPoE"},
    {220, "USB_LINUX_MMAPPED", "USB (Linux)"},
    {253, "NETLINK", "Linux netlink"},
};

const char *nl_linktype_name(int linktype)
{
    for (size_t i = 0; i < sizeof lt_names / sizeof lt_names[0]; i++)
        if (lt_names[i].value == linktype)
            return lt_names[i].name;
    return NULL;
}

const char *nl_linktype_description(int linktype)
{
    for (size_t i = 0; i < sizeof lt_names / sizeof lt_names[0]; i++)
        if (lt_names[i].value == linktype)
            return lt_names[i].description;
    return "unknown link type";
}

int nl_linktype_supported(int linktype)
{
    switch (linktype) {
    case NL_LINKTYPE_NULL: case NL_LINKTYPE_ETHERNET: case NL_LINKTYPE_RAW: case NL_LINKTYPE_RAW_OLD12:
    case NL_LINKTYPE_RAW_OLD14: case NL_LINKTYPE_LOOP: case NL_LINKTYPE_LINUX_SLL: case NL_LINKTYPE_LINUX_SLL2:
    case NL_LINKTYPE_IPV4: case NL_LINKTYPE_IPV6: case NL_LINKTYPE_ARCNET_BSD: case NL_LINKTYPE_ARCNET_LINUX:
        return 1;
    default:
        return 0;
    }
}
