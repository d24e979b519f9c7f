/*
 * nl_prove_net.c - the experiment's network, made inside its own fresh namespaces: loopback up,
 * a tun device named tun0 with packetdrill's settings (virtio header, checksum and TSO offloads so
 * the kernel hands over unsegmented bursts as it does to a NIC; local 192.168.0.2/16, the remote
 * net 192.0.2.0/24 routed via 192.168.0.1), a packet socket seeing what the kernel sends on tun0 with
 * its kernel timestamp, and injection through the tun. Decides nothing about what a packet means.
 */
#include "nl_prove_int.h"
#include "nl_internal.h"
#include "netlab/nl_checksum.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/route.h>
#include <linux/ipv6.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define VNET_HDR 10   /* struct virtio_net_hdr without the buffer count */

static int write_proc(const char *path, const char *v)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, v, strlen(v));
    close(fd);
    return w < 0 ? -1 : 0;
}

static int if_up(int ctl, const char *name, char *errbuf)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(ctl, SIOCGIFFLAGS, &ifr) < 0)
        return nl_err_sys(errbuf, errno, "reading the flags of %s", name);
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(ctl, SIOCSIFFLAGS, &ifr) < 0)
        return nl_err_sys(errbuf, errno, "bringing %s up", name);
    return 0;
}

static void sin4(struct sockaddr *sa, const uint8_t ip[4])
{
    struct sockaddr_in *s = (struct sockaddr_in *)sa;
    memset(s, 0, sizeof *s);
    s->sin_family = AF_INET;
    memcpy(&s->sin_addr, ip, 4);
}

int pv_net_setup(struct pv_run *r, char *errbuf)
{
    static const uint8_t lip[4] = {192, 168, 0, 2}, gw[4] = {192, 168, 0, 1}, rip[4] = {192, 0, 2, 1};
    memcpy(r->lip, r->s->has_local_ip ? r->s->local_ip : lip, 4);   /* --local_ip=A.B.C.D in the script */
    memcpy(r->gw, gw, 4);
    memcpy(r->rip, rip, 4);
    r->tun = r->psock = -1;
    static const uint8_t lip6[16] = {0xfd, 0x3d, 0xfa, 0x7b, 0xd1, 0x7d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    static const uint8_t rip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    memcpy(r->lip6, lip6, 16);
    memcpy(r->rip6, rip6, 16);
    if (!r->s->ipv6) {
        /* No IPv6 chatter (router solicitations) on tun0: the experiment sees only its own segments. */
        write_proc("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
        write_proc("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
    } else {
        /* IPv6 on tun0 without duplicate address detection (the address is usable at once) and
         * without router solicitations. */
        write_proc("/proc/sys/net/ipv6/conf/default/accept_dad", "0");
        write_proc("/proc/sys/net/ipv6/conf/default/router_solicitations", "0");
        write_proc("/proc/sys/net/ipv6/conf/default/dad_transmits", "0");
    }
    int ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (ctl < 0)
        return nl_err_sys(errbuf, errno, "a control socket in the experiment's namespace");
    int rc = if_up(ctl, "lo", errbuf);
    if (rc < 0)
        goto out;
    r->tun = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (r->tun < 0) {
        rc = nl_err_sys(errbuf, errno, "opening /dev/net/tun (the tun driver; CAP_NET_ADMIN needed)");
        goto out;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "tun0");
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
    if (ioctl(r->tun, TUNSETIFF, &ifr) < 0) {
        rc = nl_err_sys(errbuf, errno, "creating tun0");
        goto out;
    }
    unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
    if (ioctl(r->tun, TUNSETOFFLOAD, off) < 0) {
        rc = nl_err_sys(errbuf, errno, "setting tun0's offloads");
        goto out;
    }
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "tun0");
    sin4(&ifr.ifr_addr, r->lip);
    if (ioctl(ctl, SIOCSIFADDR, &ifr) < 0) {
        rc = nl_err_sys(errbuf, errno, "addressing tun0 (192.168.0.2, or the script's --local_ip)");
        goto out;
    }
    if (r->o && r->o->mtu > 0) {   /* packetdrill's --mtu: the MSS the kernel announces follows it */
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "tun0");
        ifr.ifr_mtu = r->o->mtu;
        if (ioctl(ctl, SIOCSIFMTU, &ifr) < 0) {
            rc = nl_err_sys(errbuf, errno, "setting tun0's MTU to %d (--mtu)", r->o->mtu);
            goto out;
        }
    }
    static const uint8_t mask16[4] = {255, 255, 0, 0};
    sin4(&ifr.ifr_netmask, mask16);
    if (ioctl(ctl, SIOCSIFNETMASK, &ifr) < 0) {
        rc = nl_err_sys(errbuf, errno, "setting tun0's netmask (/16)");
        goto out;
    }
    if ((rc = if_up(ctl, "tun0", errbuf)) < 0)
        goto out;
    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    static const uint8_t net[4] = {192, 0, 2, 0}, mask24[4] = {255, 255, 255, 0};
    sin4(&rt.rt_dst, net);
    sin4(&rt.rt_genmask, mask24);
    sin4(&rt.rt_gateway, r->gw);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    if (memcmp(r->lip, r->gw, 4) == 0)   /* --local_ip=192.168.0.1, the gateway itself: tun0 is point to point */
        rt.rt_flags = RTF_UP;
    rt.rt_dev = (char *)"tun0";
    if (ioctl(ctl, SIOCADDRT, &rt) < 0) {
        rc = nl_err_sys(errbuf, errno, "routing 192.0.2.0/24 via 192.168.0.1 on tun0");
        goto out;
    }
    if (r->s->ipv6) {   /* fd3d:fa7b:d17d::2/48 on tun0, 2001:db8::/32 routed through it */
        int c6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct in6_ifreq a6;
        memset(&a6, 0, sizeof a6);
        memcpy(&a6.ifr6_addr, r->lip6, 16);
        a6.ifr6_prefixlen = 48;
        a6.ifr6_ifindex = (int)if_nametoindex("tun0");
        struct in6_rtmsg rt6;
        memset(&rt6, 0, sizeof rt6);
        static const uint8_t net6[16] = {0x20, 0x01, 0x0d, 0xb8};
        memcpy(&rt6.rtmsg_dst, net6, 16);
        rt6.rtmsg_dst_len = 32;
        rt6.rtmsg_flags = RTF_UP;
        rt6.rtmsg_metric = 1;
        rt6.rtmsg_ifindex = a6.ifr6_ifindex;
        if (c6 < 0 || ioctl(c6, SIOCSIFADDR, &a6) < 0 || ioctl(c6, SIOCADDRT, &rt6) < 0) {
            rc = nl_err_sys(errbuf, errno, "addressing tun0 for IPv6 (fd3d:fa7b:d17d::2/48, 2001:db8::/32)");
            if (c6 >= 0)
                close(c6);
            goto out;
        }
        close(c6);
    }
    r->psock = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (r->psock < 0) {
        rc = nl_err_sys(errbuf, errno, "a packet socket on tun0 (CAP_NET_RAW needed)");
        goto out;
    }
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int)if_nametoindex("tun0");
    int on = 1;
    if (bind(r->psock, (struct sockaddr *)&sll, sizeof sll) < 0 ||
        setsockopt(r->psock, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0) {
        rc = nl_err_sys(errbuf, errno, "binding the packet socket to tun0");
        goto out;
    }
    rc = 0;
out:
    close(ctl);
    if (rc < 0)
        pv_net_close(r);
    return rc;
}

void pv_net_close(struct pv_run *r)
{
    if (r->psock >= 0)
        close(r->psock);
    if (r->tun >= 0)
        close(r->tun);
    r->psock = r->tun = -1;
}

int pv_net_inject(struct pv_run *r, const uint8_t *pkt, size_t len, char *errbuf)
{
    uint8_t buf[VNET_HDR + 65536];
    if (len > 65536)
        return nl_err(errbuf, NL_ELIMIT, "an injected segment of %zu bytes (at most 65536)", len);
    memset(buf, 0, VNET_HDR);   /* no checksum offload: the checksums are complete */
    if (r->s->mss > 0 && r->s->ipv6 && len > 40 && pkt[6] == 6) {
        uint16_t size = (uint16_t)r->s->mss;
        buf[1] = 4;   /* VIRTIO_NET_HDR_GSO_TCPV6, checksums complete as packetdrill sends them */
        memcpy(buf + 4, &size, 2);
    } else if (r->s->mss > 0 && !r->s->ipv6 && len > 20 && pkt[9] == 6) {
        /* --mss: a GSO packet of mss-sized segments, as packetdrill injects it (the kernel's GRO
         * path sees one large segment; TCP counts its pieces) */
        size_t ihl = (size_t)(pkt[0] & 15) * 4, thl = len > ihl + 12 ? (size_t)(pkt[ihl + 12] >> 4) * 4 : 20;
        uint16_t size = (uint16_t)r->s->mss, hdr = (uint16_t)(ihl + thl), cstart = (uint16_t)ihl, coff = 16;
        buf[0] = 1;   /* VIRTIO_NET_HDR_F_NEEDS_CSUM: the segments' checksums are the device's to finish */
        buf[1] = 1;   /* VIRTIO_NET_HDR_GSO_TCPV4 */
        memcpy(buf + 2, &hdr, 2);
        memcpy(buf + 4, &size, 2);
        memcpy(buf + 6, &cstart, 2);
        memcpy(buf + 8, &coff, 2);
        memcpy(buf + VNET_HDR, pkt, len);
        /* the TCP checksum field then holds the pseudo-header's sum, not complemented */
        uint16_t ph = nl_cksum_fold(nl_cksum_pseudo4(pkt + 12, pkt + 16, 6, (uint16_t)(len - ihl)));
        buf[VNET_HDR + ihl + 16] = (uint8_t)(ph >> 8);
        buf[VNET_HDR + ihl + 17] = (uint8_t)ph;
        ssize_t w = write(r->tun, buf, VNET_HDR + len);
        return w < 0 ? nl_err_sys(errbuf, errno, "injecting a segment into tun0 (GSO, --mss=%d)", r->s->mss) : 0;
    }
    memcpy(buf + VNET_HDR, pkt, len);
    ssize_t w = write(r->tun, buf, VNET_HDR + len);
    if (w < 0)
        return nl_err_sys(errbuf, errno, "injecting a segment into tun0");
    return 0;
}

static void drain_tun(struct pv_run *r)
{
    static uint8_t sink[VNET_HDR + 65536];
    while (read(r->tun, sink, sizeof sink) > 0)
        ;
}

int pv_net_next_out(struct pv_run *r, int64_t deadline_us, struct pv_pkt *pkt, char *errbuf)
{
    static uint8_t buf[65536];
    for (;;) {
        struct sockaddr_ll from;
        char ctrl[256];
        struct iovec iov = {buf, sizeof buf};
        struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                           .msg_control = ctrl, .msg_controllen = sizeof ctrl};
        ssize_t n = recvmsg(r->psock, &m, MSG_TRUNC);
        if (n >= 0) {
            if (from.sll_pkttype != PACKET_OUTGOING ||
                from.sll_protocol != htons(r->s->ipv6 ? ETH_P_IPV6 : ETH_P_IP))
                continue;
            int64_t ts = 0;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                    struct timespec t;
                    memcpy(&t, CMSG_DATA(c), sizeof t);
                    ts = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
                }
            if (ts == 0) {
                struct timespec t;
                clock_gettime(CLOCK_REALTIME, &t);
                ts = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
            }
            size_t cap = (size_t)n < sizeof buf ? (size_t)n : sizeof buf;
            pkt->data = malloc(cap);
            if (!pkt->data)
                return nl_err(errbuf, NL_ENOMEM, "out of memory");
            memcpy(pkt->data, buf, cap);
            pkt->caplen = (uint32_t)cap;
            pkt->len = (uint32_t)n;
            pkt->t_ns = ts;
            pkt->dir = '>';
            pkt->ev = -1;
            drain_tun(r);
            return 1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return nl_err_sys(errbuf, errno, "reading tun0's packet socket");
        drain_tun(r);
        int64_t left = deadline_us - pv_now_us(r);
        if (left <= 0)
            return 0;
        /* the tun too: what the kernel sent is taken off tun0 at once, as a card would transmit it,
         * so TCP Small Queues never holds the next segment back behind one the runner left queued */
        struct pollfd p[2] = {{r->psock, POLLIN, 0}, {r->tun, POLLIN, 0}};
        struct timespec t = {(time_t)(left / 1000000), (long)(left % 1000000) * 1000};
        if (left > 100000)
            t.tv_sec = 0, t.tv_nsec = 100000000;
        ppoll(p, 2, &t, NULL);
    }
}

void pv_net_idle(struct pv_run *r, int64_t until_us)
{
    for (;;) {
        drain_tun(r);
        int64_t left = until_us - pv_now_us(r);
        if (left <= 200)   /* the last moment is the caller's precise sleep */
            return;
        struct pollfd p = {r->tun, POLLIN, 0};
        left -= 200;
        struct timespec t = {(time_t)(left / 1000000), (long)(left % 1000000) * 1000};
        ppoll(&p, 1, &t, NULL);
    }
}
