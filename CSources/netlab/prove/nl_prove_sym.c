/*
 * nl_prove_sym.c - the names a script may use for numbers: socket, TCP, fcntl, poll, MSG_,
 * timestamping and error-queue constants, TCP states, and errno names with their values on this
 * system. Tables only: nothing here runs or parses.
 */
#include "nl_prove_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#ifndef TCP_CM_INQ
#define TCP_CM_INQ TCP_INQ
#endif

struct sym { const char *name; int64_t value; };

#define S(x) {#x, (int64_t)(x)}
static const struct sym syms[] = {
    S(AF_INET), S(AF_INET6), S(AF_UNSPEC), S(PF_INET), S(PF_INET6),
    S(SOCK_STREAM), S(SOCK_DGRAM), S(SOCK_RAW), S(SOCK_NONBLOCK), S(SOCK_CLOEXEC),
    S(IPPROTO_TCP), S(IPPROTO_UDP), S(IPPROTO_IP), S(IPPROTO_IPV6), S(IPPROTO_ICMP),
    S(SOL_SOCKET), S(SOL_TCP), S(SOL_IP), S(SOL_IPV6),
    S(SO_REUSEADDR), S(SO_REUSEPORT), S(SO_KEEPALIVE), S(SO_LINGER), S(SO_SNDBUF), S(SO_RCVBUF),
    S(SO_ERROR), S(SO_RCVLOWAT), S(SO_SNDLOWAT), S(SO_DEBUG), S(SO_OOBINLINE), S(SO_TYPE), S(SO_DOMAIN),
    S(SO_PROTOCOL), S(SO_ACCEPTCONN), S(SO_RCVTIMEO), S(SO_SNDTIMEO), S(SO_PRIORITY), S(SO_MARK),
    S(SO_MAX_PACING_RATE), S(SO_ZEROCOPY), S(SO_TIMESTAMP), S(SO_TIMESTAMPNS),
    S(TCP_NODELAY), S(TCP_MAXSEG), S(TCP_CORK), S(TCP_KEEPIDLE), S(TCP_KEEPINTVL), S(TCP_KEEPCNT),
    S(TCP_SYNCNT), S(TCP_LINGER2), S(TCP_DEFER_ACCEPT), S(TCP_WINDOW_CLAMP), S(TCP_INFO), S(TCP_QUICKACK),
    S(TCP_CONGESTION), S(TCP_USER_TIMEOUT), S(TCP_NOTSENT_LOWAT), S(TCP_FASTOPEN), S(TCP_FASTOPEN_CONNECT), S(TCP_FASTOPEN_KEY), S(TCP_FASTOPEN_NO_COOKIE),
    S(TCP_THIN_LINEAR_TIMEOUTS), S(TCP_SAVE_SYN), S(TCP_SAVED_SYN), S(TCP_REPAIR), S(TCP_TIMESTAMP),
    S(TCP_INQ), S(TCP_TX_DELAY),
    S(IP_TOS), S(IP_TTL), S(IP_MTU_DISCOVER), S(IP_PMTUDISC_DO), S(IP_PMTUDISC_DONT), S(IP_RECVERR),
    S(IPV6_TCLASS), S(IPV6_V6ONLY), S(IP_FREEBIND), S(SO_TIMESTAMPING), S(SO_BINDTODEVICE), S(SO_SNDBUFFORCE), S(SO_RCVBUFFORCE),
    S(O_RDONLY), S(O_WRONLY), S(O_RDWR), S(O_NONBLOCK), S(O_APPEND), S(O_CLOEXEC),
    S(F_GETFL), S(F_SETFL), S(F_GETFD), S(F_SETFD), S(FD_CLOEXEC),
    S(SHUT_RD), S(SHUT_WR), S(SHUT_RDWR),
    S(MSG_DONTWAIT), S(MSG_PEEK), S(MSG_OOB), S(MSG_WAITALL), S(MSG_MORE), S(MSG_NOSIGNAL), S(MSG_TRUNC),
    S(MSG_ERRQUEUE), S(MSG_ZEROCOPY), S(MSG_FASTOPEN), S(MSG_EOR), S(MSG_DONTROUTE),
    S(POLLIN), S(POLLOUT), S(POLLERR), S(POLLHUP), S(POLLRDHUP), S(POLLPRI), S(POLLRDNORM), S(POLLWRNORM),
    S(POLLRDBAND), S(POLLWRBAND), S(POLLNVAL),
    S(SIOCINQ), S(SIOCOUTQ), S(FIONREAD), S(FIONBIO),
    S(INADDR_ANY),
    S(EPOLLIN), S(EPOLLOUT), S(EPOLLERR), S(EPOLLHUP), S(EPOLLRDHUP), S(EPOLLPRI), S(EPOLLET), S(EPOLLONESHOT),
    S(EPOLLEXCLUSIVE), S(EPOLLRDNORM), S(EPOLLWRNORM), S(EPOLL_CTL_ADD), S(EPOLL_CTL_MOD), S(EPOLL_CTL_DEL),
    {"TCP_ESTABLISHED", 1}, {"TCP_SYN_SENT", 2}, {"TCP_SYN_RECV", 3}, {"TCP_FIN_WAIT1", 4},
    {"TCP_FIN_WAIT2", 5}, {"TCP_TIME_WAIT", 6}, {"TCP_CLOSE", 7}, {"TCP_CLOSE_WAIT", 8}, {"TCP_LAST_ACK", 9},
    {"TCP_LISTEN", 10}, {"TCP_CLOSING", 11}, {"TCP_NEW_SYN_RECV", 12},
    {"TCP_CA_Open", 0}, {"TCP_CA_Disorder", 1}, {"TCP_CA_CWR", 2}, {"TCP_CA_Recovery", 3}, {"TCP_CA_Loss", 4},
    {"NULL", 0},
    /* recvmsg/sendmsg: timestamping, the error queue, control messages (nl_prove_cmsg.c) */
    S(SOF_TIMESTAMPING_TX_HARDWARE), S(SOF_TIMESTAMPING_TX_SOFTWARE), S(SOF_TIMESTAMPING_RX_HARDWARE),
    S(SOF_TIMESTAMPING_RX_SOFTWARE), S(SOF_TIMESTAMPING_SOFTWARE), S(SOF_TIMESTAMPING_SYS_HARDWARE),
    S(SOF_TIMESTAMPING_RAW_HARDWARE), S(SOF_TIMESTAMPING_OPT_ID), S(SOF_TIMESTAMPING_TX_SCHED),
    S(SOF_TIMESTAMPING_TX_ACK), S(SOF_TIMESTAMPING_OPT_CMSG), S(SOF_TIMESTAMPING_OPT_TSONLY),
    S(SOF_TIMESTAMPING_OPT_STATS), S(SOF_TIMESTAMPING_OPT_PKTINFO), S(SOF_TIMESTAMPING_OPT_TX_SWHW),
    S(SCM_TSTAMP_SND), S(SCM_TSTAMP_SCHED), S(SCM_TSTAMP_ACK), S(SCM_TIMESTAMPING),
    S(SO_EE_ORIGIN_NONE), S(SO_EE_ORIGIN_LOCAL), S(SO_EE_ORIGIN_ICMP), S(SO_EE_ORIGIN_ICMP6),
    S(SO_EE_ORIGIN_TXSTATUS), S(SO_EE_ORIGIN_ZEROCOPY), S(SO_EE_ORIGIN_TIMESTAMPING),
    S(SO_EE_CODE_ZEROCOPY_COPIED), S(IPV6_RECVERR), S(TCP_CM_INQ), S(ENOMSG),
};

int pv_symbol(const char *name, size_t len, int64_t *value)
{
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
        if (strlen(syms[i].name) == len && memcmp(syms[i].name, name, len) == 0) {
            *value = syms[i].value;
            return 0;
        }
    return -1;
}

#define E(x) {#x, x}
static const struct { const char *name; int value; } errs[] = {
    E(EINPROGRESS), E(EAGAIN), E(EWOULDBLOCK), E(ECONNREFUSED), E(ECONNRESET), E(ECONNABORTED), E(EPIPE),
    E(ENOTCONN), E(ETIMEDOUT), E(EINVAL), E(EBADF), E(EISCONN), E(EALREADY), E(EADDRINUSE), E(EADDRNOTAVAIL),
    E(ENOPROTOOPT), E(EHOSTUNREACH), E(ENETUNREACH), E(EOPNOTSUPP), E(EFAULT), E(EMSGSIZE), E(ENOBUFS),
    E(EINTR), E(EPERM), E(EACCES), E(ENOTSOCK), E(EAFNOSUPPORT), E(EPROTONOSUPPORT), E(ENOMEM), E(ENOENT),
    E(EDESTADDRREQ), E(ESHUTDOWN), E(EHOSTDOWN), E(ENETDOWN), E(EPROTO), E(ENOSPC), E(EBUSY), E(EEXIST),
    E(ENOMSG),
};

int pv_errno_value(const char *name, int *value)
{
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
        if (strcmp(errs[i].name, name) == 0) {
            *value = errs[i].value;
            return 0;
        }
    return -1;
}

const char *pv_errno_name(int value)
{
    if (value == EAGAIN)
        return "EAGAIN";
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
        if (errs[i].value == value)
            return errs[i].name;
    return "E?";
}
