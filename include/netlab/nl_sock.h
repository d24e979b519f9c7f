/*
 * nl_sock.h - TCP socket helpers for servers and clients: listeners on IPv4
 * and IPv6 with SO_REUSEADDR, connecting with a timeout, compact peer
 * addresses and their text, the open-file limit, and the host's addresses.
 */
#ifndef NL_SOCK_H
#define NL_SOCK_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sockaddr;

/** An IPv4 or IPv6 address and port in 20 bytes (kept per connection). */
struct nl_addr {
    uint16_t family;  /* AF_INET or AF_INET6; 0: none */
    uint16_t port;    /* host byte order */
    uint8_t ip[16];   /* network byte order; IPv4 in the first 4 bytes */
};

/** Room for "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535" and its NUL. */
#define NL_ADDR_STRLEN 64

NL_API void nl_addr_from_sockaddr(struct nl_addr *a, const struct sockaddr *sa);

/** "127.0.0.1:5555" or "[::1]:5555"; returns out. */
NL_API const char *nl_addr_format(const struct nl_addr *a, char *out, size_t n);

/** The address alone: "127.0.0.1" or "::1"; returns out. */
NL_API const char *nl_addr_ip(const struct nl_addr *a, char *out, size_t n);

#define NL_LISTEN_MAX 8

struct nl_listeners {
    int fd[NL_LISTEN_MAX];
    struct nl_addr addr[NL_LISTEN_MAX];
    size_t n;
    uint16_t port;  /* the bound port (the kernel's choice when 0 was asked) */
};

/**
 * Listen on host:port with SO_REUSEADDR, non-blocking, close-on-exec. host
 * NULL, "" or "*" means every address: [::] (IPV6_V6ONLY) and 0.0.0.0. A name
 * that resolves to several addresses ("localhost") gets a listener on each;
 * with port 0 they all share the port the first one got. backlog <= 0 means
 * the system maximum. Errors name the address: NL_EINVAL (cannot resolve),
 * NL_EPERM (privileged port), NL_ESYS (in use, not available, ...).
 */
NL_API int nl_sock_listen(struct nl_listeners *out, const char *host, uint16_t port, int backlog, char *errbuf);

NL_API void nl_sock_close_listeners(struct nl_listeners *l);

/**
 * Connect to host:port, trying each resolved address in turn, each for at
 * most timeout_ms (0: 10 s). Returns a non-blocking, close-on-exec descriptor
 * with TCP_NODELAY set, or a negative NL_E* code naming host:port and why.
 */
NL_API int nl_sock_connect(const char *host, uint16_t port, uint32_t timeout_ms, struct nl_addr *peer, char *errbuf);

/** O_NONBLOCK on fd. */
NL_API int nl_sock_nonblock(int fd, char *errbuf);

/** Raise the soft RLIMIT_NOFILE to the hard limit; report both (either may be NULL). */
NL_API int nl_sock_raise_nofile(uint64_t *soft, uint64_t *hard, char *errbuf);

/** "hostname" and its interface addresses ("127.0.0.1 10.0.0.5 ::1"), for a server's banner. */
NL_API int nl_sock_host_info(char *name, size_t name_len, char *addrs, size_t addrs_len, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
