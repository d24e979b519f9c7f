/*
 * nl_sock.c - listening and connecting TCP sockets (IPv4 and IPv6, via
 * getaddrinfo), address text, RLIMIT_NOFILE and the host banner. Every socket
 * it creates is non-blocking and close-on-exec; it never reads or writes data.
 */
#include "netlab/nl_sock.h"
#include "nl_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

void nl_addr_from_sockaddr(struct nl_addr *a, const struct sockaddr *sa)
{
    memset(a, 0, sizeof *a);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        a->family = AF_INET;
        a->port = ntohs(s4->sin_port);
        memcpy(a->ip, &s4->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        a->family = AF_INET6;
        a->port = ntohs(s6->sin6_port);
        memcpy(a->ip, &s6->sin6_addr, 16);
    }
}

const char *nl_addr_ip(const struct nl_addr *a, char *out, size_t n)
{
    if (n == 0)
        return out;
    out[0] = 0;
    if (a->family == AF_INET || a->family == AF_INET6) {
        if (!inet_ntop(a->family, a->ip, out, (socklen_t)n))
            snprintf(out, n, "?");
    } else {
        snprintf(out, n, "?");
    }
    return out;
}

const char *nl_addr_format(const struct nl_addr *a, char *out, size_t n)
{
    char ip[INET6_ADDRSTRLEN];
    nl_addr_ip(a, ip, sizeof ip);
    if (a->family == AF_INET6)
        snprintf(out, n, "[%s]:%u", ip, a->port);
    else
        snprintf(out, n, "%s:%u", ip, a->port);
    return out;
}

int nl_sock_nonblock(int fd, char *errbuf)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return nl_err_sys(errbuf, errno, "fcntl(O_NONBLOCK) on descriptor %d", fd);
    return NL_OK;
}

void nl_sock_close_listeners(struct nl_listeners *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->fd[i] >= 0)
            close(l->fd[i]);
    l->n = 0;
}

static void sa_set_port(struct sockaddr *sa, uint16_t port)
{
    if (sa->sa_family == AF_INET)
        ((struct sockaddr_in *)sa)->sin_port = htons(port);
    else if (sa->sa_family == AF_INET6)
        ((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
}

/* One listener on sa. Returns the fd or a negative code with errbuf filled. */
static int listen_one(const struct sockaddr *sa, socklen_t salen, int backlog, struct nl_addr *bound, int *err_out,
                      char *errbuf)
{
    struct nl_addr want;
    char text[NL_ADDR_STRLEN];
    nl_addr_from_sockaddr(&want, sa);
    nl_addr_format(&want, text, sizeof text);
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err_out = errno;
        return nl_err_sys(errbuf, errno, "listen on %s: socket", text);
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one); /* the IPv4 listener is separate */
    if (bind(fd, sa, salen) != 0 || listen(fd, backlog) != 0) {
        int e = errno;
        close(fd);
        *err_out = e;
        if (e == EACCES)
            return nl_err(errbuf, NL_EPERM, "listen on %s: %s (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
                          text, strerror(e));
        return nl_err_sys(errbuf, e, "listen on %s", text);
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    nl_addr_from_sockaddr(bound, (struct sockaddr *)&ss);
    return fd;
}

static int listen_all(struct nl_listeners *out, struct addrinfo *ai, uint16_t port, int backlog, char *errbuf)
{
    char firsterr[NL_ERRBUF_SIZE] = "";
    int firstrc = 0;
    out->n = 0;
    out->port = port;
    for (struct addrinfo *p = ai; p && out->n < NL_LISTEN_MAX; p = p->ai_next) {
        if (p->ai_family != AF_INET && p->ai_family != AF_INET6)
            continue;
        struct sockaddr_storage ss;
        memcpy(&ss, p->ai_addr, p->ai_addrlen);
        sa_set_port((struct sockaddr *)&ss, out->port);
        /* getaddrinfo may list one address twice (once per protocol): skip repeats. */
        struct nl_addr a;
        nl_addr_from_sockaddr(&a, (struct sockaddr *)&ss);
        int dup = 0;
        for (size_t i = 0; i < out->n; i++)
            if (out->addr[i].family == a.family && memcmp(out->addr[i].ip, a.ip, 16) == 0)
                dup = 1;
        if (dup)
            continue;
        int e = 0;
        char eb[NL_ERRBUF_SIZE];
        int fd = listen_one((struct sockaddr *)&ss, p->ai_addrlen, backlog, &out->addr[out->n], &e, eb);
        if (fd < 0) {
            /* An address family this host lacks (IPv6 disabled) is skipped when another works. */
            if (e == EAFNOSUPPORT || e == EADDRNOTAVAIL || e == EPROTONOSUPPORT) {
                if (!firstrc) {
                    firstrc = fd;
                    snprintf(firsterr, sizeof firsterr, "%s", eb);
                }
                continue;
            }
            nl_sock_close_listeners(out);
            nl_err(errbuf, fd, "%s", eb);
            return e == EADDRINUSE ? NL_EEXIST : fd; /* NL_EEXIST: the caller may retry with another port */
        }
        out->fd[out->n] = fd;
        if (out->port == 0)
            out->port = out->addr[out->n].port;
        out->n++;
    }
    if (out->n == 0) {
        if (firstrc)
            return nl_err(errbuf, firstrc, "%s", firsterr);
        return nl_err(errbuf, NL_EINVAL, "listen: no IPv4 or IPv6 address to listen on");
    }
    return (int)out->n;
}

int nl_sock_listen(struct nl_listeners *out, const char *host, uint16_t port, int backlog, char *errbuf)
{
    memset(out, 0, sizeof *out);
    if (backlog <= 0)
        backlog = SOMAXCONN > 4096 ? SOMAXCONN : 4096; /* the kernel caps it at net.core.somaxconn */
    int any = !host || !*host || strcmp(host, "*") == 0;
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    hints.ai_family = AF_UNSPEC;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port);
    /* With port 0, a second address may find the first one's port taken: try again. */
    for (int attempt = 0; attempt < 8; attempt++) {
        int rc;
        if (any) {
            struct addrinfo *v6 = NULL, *v4 = NULL;
            hints.ai_family = AF_INET6;
            if (getaddrinfo("::", portstr, &hints, &v6) != 0)
                v6 = NULL;
            hints.ai_family = AF_INET;
            if (getaddrinfo("0.0.0.0", portstr, &hints, &v4) != 0)
                v4 = NULL;
            if (v6) {
                struct addrinfo *t = v6;
                while (t->ai_next)
                    t = t->ai_next;
                t->ai_next = v4;
                ai = v6;
            } else {
                ai = v4;
            }
            if (!ai)
                return nl_err(errbuf, NL_ESYS, "listen: cannot form the wildcard addresses");
            rc = listen_all(out, ai, port, backlog, errbuf);
            if (v6) {
                struct addrinfo *t = v6;
                while (t->ai_next != v4)
                    t = t->ai_next;
                t->ai_next = NULL;
                freeaddrinfo(v6);
            }
            if (v4)
                freeaddrinfo(v4);
        } else {
            int g = getaddrinfo(host, portstr, &hints, &ai);
            if (g != 0)
                return nl_err(errbuf, NL_EINVAL, "listen: cannot resolve '%s': %s", host, gai_strerror(g));
            rc = listen_all(out, ai, port, backlog, errbuf);
            freeaddrinfo(ai);
        }
        if (rc == NL_EEXIST && port == 0)
            continue;
        if (rc == NL_EEXIST)
            return NL_ESYS;
        return rc;
    }
    return nl_err(errbuf, NL_ESYS, "listen on %s: no port free on every address after 8 tries", host ? host : "*");
}

static int connect_one(const struct addrinfo *p, uint32_t timeout_ms, char *errbuf, const char *text)
{
    int fd = socket(p->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return nl_err_sys(errbuf, errno, "connect to %s: socket", text);
    if (connect(fd, p->ai_addr, p->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            int e = errno;
            close(fd);
            return nl_err_sys(errbuf, e, "connect to %s", text);
        }
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int r;
        do
            r = poll(&pfd, 1, (int)timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r == 0) {
            close(fd);
            return nl_err(errbuf, NL_ESYS, "connect to %s: no answer within %u ms", text, timeout_ms);
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            int e = r < 0 ? errno : (soerr ? soerr : errno);
            close(fd);
            return nl_err_sys(errbuf, e, "connect to %s", text);
        }
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int nl_sock_connect(const char *host, uint16_t port, uint32_t timeout_ms, struct nl_addr *peer, char *errbuf)
{
    if (!host || !*host)
        host = "localhost";
    if (timeout_ms == 0)
        timeout_ms = 10000;
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port);
    int g = getaddrinfo(host, portstr, &hints, &ai);
    if (g != 0)
        return nl_err(errbuf, NL_EINVAL, "connect to %s port %u: cannot resolve '%s': %s", host, port, host,
                      gai_strerror(g));
    int rc = nl_err(errbuf, NL_EINVAL, "connect to %s port %u: no IPv4 or IPv6 address", host, port);
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        if (p->ai_family != AF_INET && p->ai_family != AF_INET6)
            continue;
        struct nl_addr a;
        char text[NL_ADDR_STRLEN];
        nl_addr_from_sockaddr(&a, p->ai_addr);
        nl_addr_format(&a, text, sizeof text);
        rc = connect_one(p, timeout_ms, errbuf, text);
        if (rc >= 0) {
            if (peer)
                *peer = a;
            break;
        }
    }
    freeaddrinfo(ai);
    return rc;
}

int nl_sock_raise_nofile(uint64_t *soft, uint64_t *hard, char *errbuf)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return nl_err_sys(errbuf, errno, "getrlimit(RLIMIT_NOFILE)");
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = rl;
        want.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl = want;
    }
    if (soft)
        *soft = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    if (hard)
        *hard = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_max;
    return NL_OK;
}

int nl_sock_host_info(char *name, size_t name_len, char *addrs, size_t addrs_len, char *errbuf)
{
    if (name_len) {
        if (gethostname(name, name_len) != 0)
            return nl_err_sys(errbuf, errno, "gethostname");
        name[name_len - 1] = 0;
    }
    if (!addrs_len)
        return NL_OK;
    addrs[0] = 0;
    struct ifaddrs *all = NULL;
    if (getifaddrs(&all) != 0)
        return nl_err_sys(errbuf, errno, "getifaddrs");
    size_t o = 0;
    /* IPv4 first, then IPv6; link-local IPv6 addresses are left out (unusable without a scope). */
    for (int pass = 0; pass < 2; pass++) {
        for (struct ifaddrs *i = all; i; i = i->ifa_next) {
            if (!i->ifa_addr || !(i->ifa_flags & IFF_UP))
                continue;
            int fam = i->ifa_addr->sa_family;
            if ((pass == 0 && fam != AF_INET) || (pass == 1 && fam != AF_INET6))
                continue;
            struct nl_addr a;
            nl_addr_from_sockaddr(&a, i->ifa_addr);
            if (fam == AF_INET6 && a.ip[0] == 0xfe && (a.ip[1] & 0xc0) == 0x80)
                continue;
            char ip[INET6_ADDRSTRLEN];
            nl_addr_ip(&a, ip, sizeof ip);
            int w = snprintf(addrs + o, addrs_len - o, "%s%s", o ? " " : "", ip);
            if (w < 0 || (size_t)w >= addrs_len - o)
                break;
            o += (size_t)w;
        }
    }
    freeifaddrs(all);
    return NL_OK;
}
