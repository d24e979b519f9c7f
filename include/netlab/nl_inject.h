/*
 * nl_inject.h - putting built IPv4 packets on the wire through libnet's raw IPv4
 * injection (LIBNET_RAW4: a raw socket with IP_HDRINCL). Needs CAP_NET_RAW;
 * without it nl_injector_open fails with NL_EPERM and says what to do.
 */
#ifndef NL_INJECT_H
#define NL_INJECT_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nl_injector;  /* opaque */
struct nl_plan;

/** 1 if this process may open raw sockets (CAP_NET_RAW), else 0. Opens and closes one. */
NL_API int nl_can_inject(void);

/** Open libnet's raw IPv4 injector. NL_EPERM (no CAP_NET_RAW) or NL_ELIB. */
NL_API int nl_injector_open(struct nl_injector **out, char *errbuf);

/** Send one IPv4 packet (headers included) to the destination in its header. */
NL_API int nl_injector_send(struct nl_injector *inj, const uint8_t *pkt, size_t len, char *errbuf);

/**
 * Send every packet of a plan in order; *sent counts those the kernel accepted.
 * gap_ns > 0 waits that long between packets. Stops at the first failure.
 */
NL_API int nl_injector_send_plan(struct nl_injector *inj, const struct nl_plan *p, int64_t gap_ns, size_t *sent,
                          char *errbuf);

NL_API void nl_injector_close(struct nl_injector *inj);

#ifdef __cplusplus
}
#endif
#endif
