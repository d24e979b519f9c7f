/*
 * nl_prove_sys.c - a script's syscalls made on the kernel under test: a table from each name to
 * the call that makes it (recvmsg, sendmsg and the file calls in nl_prove_cmsg.c), with
 * packetdrill's defaults for "..." (bind to 192.168.0.2:8080, connect to 192.0.2.1:8080,
 * zero-filled buffers), on the live fds of the script's fd numbers (nl_prove_args.c), and each
 * result, errno and out-argument ([1], {tcpi_...}, poll's revents) compared with what the script
 * expects. Decides nothing about time (nl_prove_run.c does).
 */
#include "nl_prove_int.h"
#include "nl_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define BIND_PORT 8080
#define CONNECT_PORT 8080
#define MAX_IO (16u << 20)

/* An address argument: "..." is the default; {sin_port=htons(P), sin_addr=inet_addr("A")} as given.
 * In ipv4-mapped-ipv6 mode the address is ::ffff:A in a sockaddr_in6. */
static socklen_t sockaddr_of(const struct pv_run *r, const struct pv_expr *e, const uint8_t def_ip[4],
                             uint16_t def_port, struct sockaddr_storage *ss)
{
    uint8_t ip[4];
    uint16_t port = def_port;
    memcpy(ip, def_ip, 4);
    const struct pv_expr *p = pv_expr_field(e, "sin_port"), *a = pv_expr_field(e, "sin_addr");
    if (!p)
        p = pv_expr_field(e, "sin6_port");
    if (p)
        port = (uint16_t)pv_expr_num(p, def_port);
    if (r->s->ipv6) {   /* IPv6 on the wire: the 2001:db8::1 / fd3d:fa7b:d17d::2 pair, or sin6_addr as given */
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        memset(ss, 0, sizeof *ss);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        memcpy(&s6->sin6_addr, def_ip == r->lip ? r->lip6 : r->rip6, 16);
        const struct pv_expr *a6 = pv_expr_field(e, "sin6_addr");
        if (a6 && a6->kind == PV_E_CALL && a6->nkids == 1 && a6->kids[0]->kind == PV_E_STR)
            inet_pton(AF_INET6, a6->kids[0]->name, &s6->sin6_addr);
        return sizeof *s6;
    }
    if (a && a->kind == PV_E_CALL && a->nkids == 1 && a->kids[0]->kind == PV_E_STR)
        inet_pton(AF_INET, a->kids[0]->name, ip);
    memset(ss, 0, sizeof *ss);
    if (r->s->mapped) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&s6->sin6_addr.s6_addr[12], ip, 4);
        return sizeof *s6;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    memcpy(&s4->sin_addr, ip, 4);
    return sizeof *s4;
}

/* Total length of a sendmsg/writev iovec list: [{..., 1000}, {..., 500}] or {iov_base=..., iov_len=N}. */
static int64_t iov_total(const struct pv_expr *list)
{
    if (!list || list->kind != PV_E_LIST)
        return 0;
    int64_t t = 0;
    for (int i = 0; i < list->nkids; i++) {
        const struct pv_expr *it = list->kids[i];
        const struct pv_expr *l = pv_expr_field(it, "iov_len");
        if (l)
            t += pv_expr_num(l, 0);
        else if (it->kind == PV_E_STRUCT && it->nkids > 0)
            t += pv_expr_num(it->kids[it->nkids - 1], 0);
    }
    return t;
}

/* A buffer argument given as NULL (or 0): the call gets a NULL pointer, as the script asks (EFAULT). */
static int null_buf(const struct pv_expr *e)
{
    return e && ((e->kind == PV_E_SYM && e->name && strcmp(e->name, "NULL") == 0) || (e->kind == PV_E_INT && e->num == 0));
}

static uint8_t *zero_buf(int64_t n)
{
    if (n < 0 || n > MAX_IO)
        return NULL;
    return calloc(1, (size_t)(n ? n : 1));
}

static int64_t do_socket(struct pv_io_ctx *c)
{
    int64_t dom = pv_expr_num(pv_arg(c->sc, 0), c->r->s->mapped || c->r->s->ipv6 ? AF_INET6 : AF_INET),
            type = pv_expr_num(pv_arg(c->sc, 1), SOCK_STREAM), proto = pv_expr_num(pv_arg(c->sc, 2), 0);
    int fd = socket((int)dom, (int)type | SOCK_CLOEXEC, (int)proto);
    /* The same congestion control on every host: a fresh namespace inherits the host's default
     * (bbr on some, with pacing that changes segment sizes), and a namespace may not choose one the
     * host has not allowed; a socket may. Scripts choose another with setsockopt(TCP_CONGESTION). */
    if (fd >= 0 && (type & 0xf) == SOCK_STREAM)
        setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "cubic", 5);
    if (fd >= 0 && !c->sc->result_any && c->sc->result >= 0)
        pv_fd_map(c->r, c->sc->result, fd);
    return fd;
}

static int64_t do_bind(struct pv_io_ctx *c)
{
    struct sockaddr_storage sa;
    socklen_t len = sockaddr_of(c->r, pv_arg(c->sc, 1), c->r->lip, BIND_PORT, &sa);
    int rc = bind(pv_fd_live(c->r, pv_expr_num(pv_arg(c->sc, 0), -1)), (struct sockaddr *)&sa, len);
    if (rc == 0)   /* where injected SYNs go from now on (sin_port and sin6_port sit at the same offset) */
        c->r->bound_port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
    return rc;
}

static int64_t do_listen(struct pv_io_ctx *c) { return listen(pv_fd_live(c->r, pv_expr_num(pv_arg(c->sc, 0), -1)), (int)pv_expr_num(pv_arg(c->sc, 1), 1)); }

static int64_t do_accept(struct pv_io_ctx *c)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    int flags = strcmp(c->sc->name, "accept4") == 0 ? (int)pv_expr_num(pv_arg(c->sc, 3), 0) : 0;
    int fd = accept4(pv_fd_live(c->r, pv_expr_num(pv_arg(c->sc, 0), -1)), (struct sockaddr *)&sa, &len, flags | SOCK_CLOEXEC);
    if (fd >= 0) {
        if (!c->sc->result_any && c->sc->result >= 0)
            pv_fd_map(c->r, c->sc->result, fd);
        c->r->cur_live_fd = fd;
    }
    return fd;
}

static int64_t do_connect(struct pv_io_ctx *c)
{
    struct sockaddr_storage sa;
    socklen_t len = sockaddr_of(c->r, pv_arg(c->sc, 1), c->r->rip, CONNECT_PORT, &sa);
    int fd = pv_fd_live(c->r, pv_expr_num(pv_arg(c->sc, 0), -1));
    c->r->cur_live_fd = fd;
    return connect(fd, (struct sockaddr *)&sa, len);
}

static int64_t do_read(struct pv_io_ctx *c)
{
    const struct pv_syscall *sc = c->sc;
    int fd = pv_fd_live(c->r, pv_expr_num(pv_arg(sc, 0), -1));
    int64_t n = strcmp(sc->name, "recvmsg") == 0 ? iov_total(pv_expr_field(pv_arg(sc, 1), "msg_iov")) : pv_expr_num(pv_arg(sc, 2), 0);
    uint8_t *b = zero_buf(n);
    if (!b) {
        errno = ENOMEM;
        return -1;
    }
    ssize_t got;
    uint8_t *buf = null_buf(pv_arg(sc, 1)) ? NULL : b;
    if (strcmp(sc->name, "read") == 0)
        got = read(fd, buf, (size_t)n);
    else if (strcmp(sc->name, "recvmsg") == 0)
        got = recv(fd, buf, (size_t)n, (int)pv_expr_num(pv_arg(sc, 2), 0));
    else
        got = recv(fd, buf, (size_t)n, (int)pv_expr_num(pv_arg(sc, 3), 0));
    int e = errno;
    free(b);
    errno = e;
    return got;
}

static int64_t do_write(struct pv_io_ctx *c)
{
    const struct pv_syscall *sc = c->sc;
    int fd = pv_fd_live(c->r, pv_expr_num(pv_arg(sc, 0), -1));
    int64_t n;
    int flags = 0;
    if (strcmp(sc->name, "sendmsg") == 0) {
        const struct pv_expr *m = pv_arg(sc, 1);
        n = iov_total(pv_expr_field(m, "msg_iov"));
        flags = (int)pv_expr_num(pv_arg(sc, 2), 0);
    } else if (strcmp(sc->name, "writev") == 0) {
        n = iov_total(pv_arg(sc, 1));
    } else {
        n = pv_expr_num(pv_arg(sc, 2), 0);
        if (strcmp(sc->name, "write") != 0)
            flags = (int)pv_expr_num(pv_arg(sc, 3), 0);
    }
    uint8_t *b = zero_buf(n);
    if (!b) {
        errno = ENOMEM;
        return -1;
    }
    uint8_t *buf = strcmp(sc->name, "sendmsg") && strcmp(sc->name, "writev") && null_buf(pv_arg(sc, 1)) ? NULL : b;
    ssize_t w;
    struct sockaddr_storage sa;
    const struct pv_expr *to = strcmp(sc->name, "sendto") == 0 ? pv_arg(sc, 4)
                             : strcmp(sc->name, "sendmsg") == 0 ? pv_expr_field(pv_arg(sc, 1), "msg_name") : NULL;
    if (to && (flags & MSG_FASTOPEN)) {
        /* RFC 7413 3: the data goes in the SYN, so the call names the peer: "..." is the remote end */
        socklen_t salen = sockaddr_of(c->r, to, c->r->rip, CONNECT_PORT, &sa);
        if (to->kind == PV_E_SYM && to->num == AF_UNSPEC)
            sa.ss_family = AF_UNSPEC;   /* sendto(..., AF_UNSPEC, ...): the kernel's answer to no address family */
        c->r->cur_live_fd = fd;
        if (strcmp(sc->name, "sendto") == 0) {
            w = sendto(fd, buf, (size_t)n, flags, (struct sockaddr *)&sa, salen);
        } else {
            struct iovec iov = {buf, (size_t)n};
            struct msghdr mh = {.msg_name = &sa, .msg_namelen = salen, .msg_iov = &iov, .msg_iovlen = 1};
            w = sendmsg(fd, &mh, flags);
        }
    } else {
        w = strcmp(sc->name, "write") == 0 || strcmp(sc->name, "writev") == 0 ? write(fd, buf, (size_t)n)
                                                                               : send(fd, buf, (size_t)n, flags);
    }
    int e = errno;
    free(b);
    errno = e;
    return w;
}

static int64_t do_close(struct pv_io_ctx *c)
{
    int64_t sfd = pv_expr_num(pv_arg(c->sc, 0), -1);
    int fd = pv_fd_live(c->r, sfd);
    int rc = close(fd);
    if (rc == 0)
        pv_fd_unmap(c->r, sfd);
    return rc;
}

static int64_t do_shutdown(struct pv_io_ctx *c)
{
    return shutdown(pv_fd_live(c->r, pv_expr_num(pv_arg(c->sc, 0), -1)), (int)pv_expr_num(pv_arg(c->sc, 1), SHUT_RDWR));
}

static int64_t do_fcntl(struct pv_io_ctx *c)
{
    int fd = pv_fd_live(c->r, pv_expr_num(pv_arg(c->sc, 0), -1));
    int cmd = (int)pv_expr_num(pv_arg(c->sc, 1), F_GETFL);
    if (c->sc->nargs >= 3)
        return fcntl(fd, cmd, (long)pv_expr_num(pv_arg(c->sc, 2), 0));
    return fcntl(fd, cmd);
}

static int64_t do_setsockopt(struct pv_io_ctx *c)
{
    const struct pv_syscall *sc = c->sc;
    int fd = pv_fd_live(c->r, pv_expr_num(pv_arg(sc, 0), -1));
    int level = (int)pv_expr_num(pv_arg(sc, 1), SOL_SOCKET), name = (int)pv_expr_num(pv_arg(sc, 2), 0);
    const struct pv_expr *v = pv_arg(sc, 3);
    if (v && v->kind == PV_E_STRUCT && pv_expr_field(v, "onoff")) {
        struct linger l = {(int)pv_expr_num(pv_expr_field(v, "onoff"), 0), (int)pv_expr_num(pv_expr_field(v, "linger"), 0)};
        return setsockopt(fd, level, name, &l, sizeof l);
    }
    if (v && v->kind == PV_E_STR)
        return setsockopt(fd, level, name, v->name, (socklen_t)strlen(v->name));
    int iv = (int)pv_expr_num(v, 0);
    return setsockopt(fd, level, name, &iv, sizeof iv);
}

static int64_t do_getsockopt(struct pv_io_ctx *c)
{
    const struct pv_syscall *sc = c->sc;
    int fd = pv_fd_live(c->r, pv_expr_num(pv_arg(sc, 0), -1));
    int level = (int)pv_expr_num(pv_arg(sc, 1), SOL_SOCKET), name = (int)pv_expr_num(pv_arg(sc, 2), 0);
    const struct pv_expr *v = pv_arg(sc, 3);
    if (level == IPPROTO_TCP && name == 11 /* TCP_INFO */) {
        struct pv_tcpinfo ti;
        if (pv_tcpinfo_sample(fd, &ti) < 0)
            return -1;
        if (v && v->kind == PV_E_STRUCT)
            for (int i = 0; i < v->nkids; i++) {
                const struct pv_expr *f = v->kids[i];
                if (f->kind != PV_E_FIELD || f->nkids < 1 || pv_expr_any(f->kids[0]))
                    continue;
                int k = pv_tcpinfo_index(f->name);
                if (k < 0)
                    return pv_io_mismatch(c, f->name, "getsockopt(TCP_INFO): this kernel's struct tcp_info has no field %s",
                                        f->name);
                if ((int64_t)ti.v[k] != pv_expr_num(f->kids[0], 0))
                    return pv_io_mismatch(c, f->name, "getsockopt(TCP_INFO): %s is %llu, the script expects %lld", f->name,
                                        (unsigned long long)ti.v[k], (long long)pv_expr_num(f->kids[0], 0));
            }
        return 0;
    }
    if (v && v->kind == PV_E_STR) {
        char buf[64] = {0};
        socklen_t len = sizeof buf - 1;
        int rc = getsockopt(fd, level, name, buf, &len);
        if (rc == 0 && strcmp(buf, v->name) != 0)
            pv_io_mismatch(c, "value", "getsockopt returned \"%s\", the script expects \"%s\"", buf, v->name);
        return rc;
    }
    if (v && v->kind == PV_E_STRUCT && pv_expr_field(v, "onoff")) {
        struct linger l;
        socklen_t len = sizeof l;
        int rc = getsockopt(fd, level, name, &l, &len);
        if (rc == 0 && (l.l_onoff != pv_expr_num(pv_expr_field(v, "onoff"), l.l_onoff) || l.l_linger != pv_expr_num(pv_expr_field(v, "linger"), l.l_linger)))
            pv_io_mismatch(c, "value", "getsockopt returned {onoff=%d, linger=%d}", l.l_onoff, l.l_linger);
        return rc;
    }
    int iv = 0;
    socklen_t len = sizeof iv;
    int rc = getsockopt(fd, level, name, &iv, &len);
    if (rc == 0 && !pv_expr_any(v) && iv != pv_expr_num(v, iv)) {
        if (level == SOL_SOCKET && name == SO_ERROR)
            pv_io_mismatch(c, "value", "getsockopt(SO_ERROR) returned [%d] (%s), the script expects [%lld]", iv,
                         iv ? pv_errno_name(iv) : "no error", (long long)pv_expr_num(v, 0));
        else
            pv_io_mismatch(c, "value", "getsockopt returned [%d], the script expects [%lld]", iv, (long long)pv_expr_num(v, 0));
    }
    return rc;
}

static int64_t do_poll(struct pv_io_ctx *c)
{
    const struct pv_expr *l = pv_arg(c->sc, 0);
    struct pollfd p[16];
    int n = 0;
    if (l && l->kind == PV_E_LIST)
        for (int i = 0; i < l->nkids && n < 16; i++) {
            p[n].fd = pv_fd_live(c->r, pv_expr_num(pv_expr_field(l->kids[i], "fd"), -1));
            p[n].events = (short)pv_expr_num(pv_expr_field(l->kids[i], "events"), 0);
            p[n].revents = 0;
            n++;
        }
    int rc = poll(p, (nfds_t)n, (int)pv_expr_num(pv_arg(c->sc, 2), 0));
    if (rc >= 0)
        for (int i = 0; i < n; i++) {
            const struct pv_expr *want = pv_expr_field(l->kids[i], "revents");
            if (want && !pv_expr_any(want) && p[i].revents != pv_expr_num(want, 0)) {
                pv_io_mismatch(c, "revents", "poll: fd %lld's revents is 0x%x, the script expects 0x%llx",
                             (long long)pv_expr_num(pv_expr_field(l->kids[i], "fd"), -1), (unsigned)p[i].revents,
                             (unsigned long long)pv_expr_num(want, 0));
                break;
            }
        }
    return rc;
}

static int64_t do_ioctl(struct pv_io_ctx *c)
{
    int fd = pv_fd_live(c->r, pv_expr_num(pv_arg(c->sc, 0), -1));
    unsigned long req = (unsigned long)pv_expr_num(pv_arg(c->sc, 1), 0);
    int v = 0;
    int rc = ioctl(fd, req, &v);
    const struct pv_expr *want = pv_arg(c->sc, 2);
    if (rc == 0 && !pv_expr_any(want) && v != pv_expr_num(want, v))
        pv_io_mismatch(c, "value", "ioctl gave [%d], the script expects [%lld]", v, (long long)pv_expr_num(want, 0));
    return rc;
}

/* epoll: the data word carries the script's fd number (fd=N) or ptr=N, so epoll_wait's answer is
 * compared in the script's numbering. */
static int64_t do_epoll_create(struct pv_io_ctx *c)
{
    int fd = epoll_create1(EPOLL_CLOEXEC);
    if (fd >= 0 && !c->sc->result_any && c->sc->result >= 0)
        pv_fd_map(c->r, c->sc->result, fd);
    return fd;
}

static uint64_t epoll_data_of(const struct pv_expr *ev)
{
    const struct pv_expr *f = pv_expr_field(ev, "fd");
    if (f)
        return (uint64_t)pv_expr_num(f, 0);
    return (uint64_t)pv_expr_num(pv_expr_field(ev, "ptr"), pv_expr_num(pv_expr_field(ev, "u64"), 0));
}

static int64_t do_epoll_ctl(struct pv_io_ctx *c)
{
    const struct pv_syscall *sc = c->sc;
    const struct pv_expr *ev = pv_arg(sc, 3);
    struct epoll_event e;
    memset(&e, 0, sizeof e);
    e.events = (uint32_t)pv_expr_num(pv_expr_field(ev, "events"), 0);
    e.data.u64 = epoll_data_of(ev);
    return epoll_ctl(pv_fd_live(c->r, pv_expr_num(pv_arg(sc, 0), -1)), (int)pv_expr_num(pv_arg(sc, 1), EPOLL_CTL_ADD),
                     pv_fd_live(c->r, pv_expr_num(pv_arg(sc, 2), -1)), pv_expr_any(ev) ? NULL : &e);
}

static int64_t do_epoll_wait(struct pv_io_ctx *c)
{
    const struct pv_syscall *sc = c->sc;
    struct epoll_event e[16];
    int max = (int)pv_expr_num(pv_arg(sc, 2), 1);
    if (max < 1 || max > 16)
        max = max < 1 ? 1 : 16;
    int n = epoll_wait(pv_fd_live(c->r, pv_expr_num(pv_arg(sc, 0), -1)), e, max, (int)pv_expr_num(pv_arg(sc, 3), 0));
    const struct pv_expr *want = pv_arg(sc, 1);
    if (n >= 1 && want && want->kind == PV_E_STRUCT) {
        const struct pv_expr *we = pv_expr_field(want, "events");
        if (we && !pv_expr_any(we) && e[0].events != (uint32_t)pv_expr_num(we, 0))
            pv_io_mismatch(c, "events", "epoll_wait: events 0x%x, the script expects 0x%llx", e[0].events,
                         (unsigned long long)pv_expr_num(we, 0));
        else if ((pv_expr_field(want, "fd") || pv_expr_field(want, "ptr")) && e[0].data.u64 != epoll_data_of(want))
            pv_io_mismatch(c, "fd", "epoll_wait: the event is for %llu, the script expects %llu",
                         (unsigned long long)e[0].data.u64, (unsigned long long)epoll_data_of(want));
    }
    return n;
}

/* sendmsg: with MSG_FASTOPEN and a msg_name the data goes in the SYN to that peer (RFC 7413 3, the
 * write path's); otherwise the whole msghdr with its control messages (nl_prove_cmsg.c). */
static int64_t do_sendmsg(struct pv_io_ctx *c)
{
    int flags = (int)pv_expr_num(pv_arg(c->sc, 2), 0);
    if ((flags & MSG_FASTOPEN) && pv_expr_field(pv_arg(c->sc, 1), "msg_name"))
        return do_write(c);
    return pv_io_sendmsg(c);
}

static const struct {
    const char *name;
    int64_t (*fn)(struct pv_io_ctx *);
    int may_block;
} table[] = {
    {"socket", do_socket, 0},     {"bind", do_bind, 0},         {"listen", do_listen, 0},
    {"accept", do_accept, 1},     {"accept4", do_accept, 1},    {"connect", do_connect, 1},
    {"read", do_read, 1},         {"recv", do_read, 1},         {"recvfrom", do_read, 1},   {"recvmsg", pv_io_recvmsg, 1},
    {"write", do_write, 1},       {"writev", do_write, 1},      {"send", do_write, 1},
    {"sendto", do_write, 1},      {"sendmsg", do_sendmsg, 1},     {"close", do_close, 1},
    {"shutdown", do_shutdown, 0}, {"fcntl", do_fcntl, 0},       {"setsockopt", do_setsockopt, 0},
    {"getsockopt", do_getsockopt, 0}, {"poll", do_poll, 1},     {"ioctl", do_ioctl, 0},
    {"epoll_create", do_epoll_create, 0}, {"epoll_ctl", do_epoll_ctl, 0}, {"epoll_wait", do_epoll_wait, 1},
    {"pipe", pv_io_pipe, 0},      {"open", pv_io_open, 0},      {"splice", pv_io_splice, 1},
    {"sendfile", pv_io_sendfile, 1},
};
#define NTABLE (sizeof table / sizeof table[0])

int pv_syscall_known(const char *name)
{
    for (size_t i = 0; i < NTABLE; i++)
        if (strcmp(table[i].name, name) == 0)
            return 1;
    return 0;
}

int pv_sys_is_blocking_name(const char *name)
{
    for (size_t i = 0; i < NTABLE; i++)
        if (strcmp(table[i].name, name) == 0)
            return table[i].may_block;
    return 0;
}

const char *pv_syscall_list(void)
{
    static char list[600];
    if (!list[0]) {
        size_t n = 0;
        for (size_t i = 0; i < NTABLE && n < sizeof list; i++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", table[i].name);
    }
    return list;
}

int pv_sys_run(struct pv_run *r, int ev, char *fieldbuf, size_t fcap, char *msg, size_t mcap)
{
    const struct pv_syscall *sc = &r->s->ev[ev].sc;
    struct pv_rec *rec = &r->rec[ev];
    struct pv_io_ctx c = {r, sc, rec, fieldbuf, fcap, msg, mcap, 0};
    size_t i;
    for (i = 0; i < NTABLE; i++)
        if (strcmp(table[i].name, sc->name) == 0)
            break;
    if (i == NTABLE) {
        snprintf(msg, mcap, "unknown syscall %s", sc->name);
        return -1;
    }
    errno = 0;
    int64_t ret = table[i].fn(&c);
    rec->sys_ret = ret;
    rec->sys_errno = ret < 0 ? errno : 0;
    if (sc->result_any)
        return c.mismatch ? -1 : 0;
    int is_fd_result = (strcmp(sc->name, "socket") == 0 || strncmp(sc->name, "accept", 6) == 0 ||
                        strcmp(sc->name, "epoll_create") == 0 || strcmp(sc->name, "open") == 0);
    int ok_ret = is_fd_result ? (ret >= 0) == (sc->result >= 0) : ret == sc->result;
    if (!ok_ret) {
        snprintf(fieldbuf, fcap, "result");
        if (ret < 0)
            snprintf(msg, mcap, "%s() returned -1 %s (%s), the script expects %lld", sc->name,
                     pv_errno_name(rec->sys_errno), strerror(rec->sys_errno), (long long)sc->result);
        else
            snprintf(msg, mcap, "%s() returned %lld, the script expects %lld%s%s", sc->name, (long long)ret,
                     (long long)sc->result, sc->errname[0] ? " " : "", sc->errname);
        return -1;
    }
    if (ret < 0 && sc->err && rec->sys_errno != sc->err &&
        !(sc->err == EAGAIN && rec->sys_errno == EWOULDBLOCK)) {
        snprintf(fieldbuf, fcap, "errno");
        snprintf(msg, mcap, "%s() failed with %s (%s), the script expects %s (%s)", sc->name,
                 pv_errno_name(rec->sys_errno), strerror(rec->sys_errno), sc->errname, strerror(sc->err));
        return -1;
    }
    return c.mismatch ? -1 : 0;
}
