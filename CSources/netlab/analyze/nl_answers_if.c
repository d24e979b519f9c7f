/*
 * nl_answers_if.c - the interface answer of the answer sheet (see nl_answers_int.h): which
 * interface a conversation's packets were captured on, named only as far as the file proves it,
 * with how it is known: a Linux cooked header's ARPHRD type (SLL, SLL2) and interface index
 * (SLL2), a pcapng interface block's if_name/if_description, an Ethernet header's all-zero
 * addresses (Linux lo), a BSD loopback header, a raw-IP link. Knows nothing of conversations.
 */
#include "nl_answers_int.h"
#include "netlab/nl_link.h"

#include <stdio.h>
#include <string.h>

int nl_ans_if_note(struct nl_ans_if *ifs, size_t *n, const struct nl_decoded *d, const struct nl_frame *pkt)
{
    const struct nl_link *l = &d->link;
    size_t i;
    for (i = 0; i < *n; i++) {
        const struct nl_ans_if *x = &ifs[i];
        if (x->linktype == pkt->linktype && x->file_iface == pkt->iface && x->has_ifindex == l->has_ifindex &&
            x->ifindex == l->ifindex && x->hatype == l->hatype)
            break;
    }
    if (i == *n) {
        if (*n == NL_ANSWERS_IFACE_CAP)
            return 0;
        ifs[i] = (struct nl_ans_if){pkt->linktype, pkt->iface, l->ifindex, l->hatype, l->has_ifindex, 0, 0};
        (*n)++;
    }
    ifs[i].packets++;
    ifs[i].loopback |= l->loopback;
    return 0;
}

struct arphrd {
    uint16_t type;
    const char *sym, *what;
};

/* Linux's ARPHRD_* types (include/uapi/linux/if_arp.h) an interface of a capture may have. */
static const struct arphrd arphrds[] = {
    {1, "ARPHRD_ETHER", "Ethernet"},
    {24, "ARPHRD_IEEE1394", "FireWire"},
    {32, "ARPHRD_INFINIBAND", "InfiniBand"},
    {280, "ARPHRD_CAN", "CAN bus"},
    {512, "ARPHRD_PPP", "PPP"},
    {519, "ARPHRD_RAWIP", "raw IP (no link header)"},
    {768, "ARPHRD_TUNNEL", "IPIP tunnel"},
    {769, "ARPHRD_TUNNEL6", "IPv6 tunnel"},
    {772, "ARPHRD_LOOPBACK", "loopback"},
    {776, "ARPHRD_SIT", "IPv6-in-IPv4 (sit) tunnel"},
    {778, "ARPHRD_IPGRE", "GRE tunnel"},
    {801, "ARPHRD_IEEE80211", "802.11 wireless"},
    {803, "ARPHRD_IEEE80211_RADIOTAP", "802.11 wireless (radiotap)"},
    {823, "ARPHRD_IP6GRE", "IPv6 GRE tunnel"},
    {65534, "ARPHRD_NONE", "tunnel without a link header (tun, WireGuard)"},
};

static const struct arphrd *arphrd_of(uint16_t t)
{
    for (size_t i = 0; i < sizeof arphrds / sizeof *arphrds; i++)
        if (arphrds[i].type == t)
            return &arphrds[i];
    return NULL;
}

/* A Linux cooked header (SLL, SLL2): the ARPHRD type, and SLL2's interface index. */
static void cooked(const struct nl_ans_if *x, struct nl_answer_iface *o)
{
    const struct arphrd *h = arphrd_of(x->hatype);
    if (h)
        snprintf(o->what, sizeof o->what, "%s", h->what);
    else
        snprintf(o->what, sizeof o->what, "an interface of ARPHRD type %u", x->hatype);
    int len = snprintf(o->how, sizeof o->how, "Linux cooked%s header: %s (%u)",
                       x->linktype == NL_LINKTYPE_LINUX_SLL2 ? " v2" : "", h ? h->sym : "ARPHRD type", x->hatype);
    if (x->has_ifindex && len > 0 && (size_t)len < sizeof o->how)
        snprintf(o->how + len, sizeof o->how - (size_t)len, ", ifindex %u", x->ifindex);
}

/* Every other link type netlab reads: what its header shows. */
static void other_link(const struct nl_ans_if *x, struct nl_answer_iface *o)
{
    const char *what = "", *how = "";
    switch (x->linktype) {
    case NL_LINKTYPE_ETHERNET:
        what = x->loopback ? "loopback" : "Ethernet";
        how = x->loopback ? "Ethernet header (EN10MB) with all-zero addresses, as Linux's lo writes them"
                          : "Ethernet header (EN10MB)";
        break;
    case NL_LINKTYPE_NULL:
    case NL_LINKTYPE_LOOP:
        what = "loopback";
        how = x->linktype == NL_LINKTYPE_NULL ? "BSD loopback header (NULL): a loopback capture"
                                              : "OpenBSD loopback header (LOOP): a loopback capture";
        break;
    case NL_LINKTYPE_RAW:
    case NL_LINKTYPE_RAW_OLD12:
    case NL_LINKTYPE_RAW_OLD14:
    case NL_LINKTYPE_IPV4:
    case NL_LINKTYPE_IPV6:
        what = "raw IP (no link header)";
        how = "link type RAW: bare IP packets, as a tunnel (tun) or a hand-built capture writes them; the "
              "interface is not recorded";
        break;
    case NL_LINKTYPE_ARCNET_BSD:
    case NL_LINKTYPE_ARCNET_LINUX:
        what = "ARCnet";
        how = "ARCnet header";
        break;
    default:
        what = "an interface of an unknown kind";
        how = nl_linktype_description(x->linktype);
        break;
    }
    snprintf(o->what, sizeof o->what, "%s", what);
    snprintf(o->how, sizeof o->how, "%s", how);
}

void nl_ans_if_describe(const struct nl_ans_if *x, const char *fname, const char *fdesc, struct nl_answer_iface *o)
{
    memset(o, 0, sizeof *o);
    int sll = x->linktype == NL_LINKTYPE_LINUX_SLL || x->linktype == NL_LINKTYPE_LINUX_SLL2;
    o->kind = x->has_ifindex ? NL_ANSWER_IFACE_INDEX : NL_ANSWER_IFACE_FILE;
    o->index = x->has_ifindex ? x->ifindex : x->file_iface;
    o->packets = x->packets;
    o->loopback = x->loopback;
    o->linktype = x->linktype;
    o->hatype = sll ? x->hatype : 0;
    o->file_iface = x->file_iface;
    o->capture_name = fname;
    o->description = fdesc;
    if (sll)
        cooked(x, o);
    else
        other_link(x, o);
    /* The name: the file's interface when the capture was on that interface (not "any", which
     * holds packets of every interface); Linux's one loopback device is lo. */
    int any = fname && strcmp(fname, "any") == 0;
    size_t len = strlen(o->how);
    if (fname && !any) {
        o->name = fname;
        snprintf(o->how + len, sizeof o->how - len, "; pcapng interface block: if_name \"%.40s\"", fname);
    } else if (sll && x->hatype == NL_ARPHRD_LOOPBACK) {
        o->name = "lo";
        snprintf(o->how + len, sizeof o->how - len, "; Linux has one loopback device, lo");
    } else if (any) {
        snprintf(o->how + len, sizeof o->how - len, "; captured on \"any\", which does not record the name");
    }
}
