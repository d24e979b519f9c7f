/*
 * nl_prove_net.c - the experiment's network, made inside its own fresh namespaces: loopback up,
 * a tun device named tun0 with packetdrill's settings (virtio header, checksum and TSO offloads so
 * the kernel hands over unsegmented bursts as it does to a NIC; local 192.168.0.2/16, the remote
 * net 192.0.2.0/24 routed via 192.168.0.1), a packet socket seeing what the kernel sends on tun0 with
 * its kernel timestamp, and injection through the tun. Decides nothing about what a packet means.
 */
#include "nl_prove_int.h"
#include "nl_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/route.h>
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
    memcpy(r->lip, lip, 4);
    memcpy(r->gw, gw, 4);
    memcpy(r->rip, rip, 4);
    r->tun = r->psock = -1;
    /* No IPv6 chatter (router solicitations) on tun0: the experiment sees only its own segments. */
    write_proc("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
    write_proc("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
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
        rc = nl_err_sys(errbuf, errno, "addressing tun0 (192.168.0.2)");
        goto out;
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
    rt.rt_dev = (char *)"tun0";
    if (ioctl(ctl, SIOCADDRT, &rt) < 0) {
        rc = nl_err_sys(errbuf, errno, "routing 192.0.2.0/24 via 192.168.0.1 on tun0");
        goto out;
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
    memset(buf, 0, VNET_HDR);   /* no offload asked: the checksums are complete */
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
            if (from.sll_pkttype != PACKET_OUTGOING || from.sll_protocol != htons(ETH_P_IP))
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
        struct pollfd p = {r->psock, POLLIN, 0};
        int ms = (int)((left + 999) / 1000);
        if (ms > 100)
            ms = 100;
        poll(&p, 1, ms);
    }
}
