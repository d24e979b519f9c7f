/*
 * nl_roundtrip.h - injector --capture: capture on the interface the packets
 * will cross, inject a plan, and match every captured packet against what was
 * crafted (every byte of every header and the payload, checksums valid).
 */
#ifndef NL_ROUNDTRIP_H
#define NL_ROUNDTRIP_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nl_plan;
struct nl_injector;

/** What happened to one crafted packet. */
struct nl_rt_item {
    uint32_t frame;      /* 1-based frame number of its first copy in the capture; 0: never captured */
    uint32_t copies;     /* identical copies captured (2 on some loopback captures) */
    int identical;       /* the captured IP packet equals the crafted one byte for byte */
    int ip_ok, tcp_ok;   /* checksums valid in the captured bytes */
    char diff[160];      /* first differing field, when captured but altered */
};

struct nl_roundtrip_opts {
    const char *path;       /* capture file to write (pcap; pcapng if it ends in .pcapng) */
    const char *interface;  /* NULL: the interface routing to the first destination */
    int64_t gap_ns;         /* pause between injected packets */
    double settle_seconds;  /* how long to wait for stragglers after the last one; default 1 */
};

struct nl_roundtrip;  /* opaque */

/**
 * Open the capture (before injecting), inject every packet of the plan, wait
 * for them, close the capture and match. Returns 0 when the run itself worked
 * (the verdicts are in the result), or NL_EPERM/NL_ENOTFOUND/... when it could
 * not run; nothing is left on disk then.
 */
NL_API int nl_roundtrip_run(const struct nl_plan *plan, struct nl_injector *inj, const struct nl_roundtrip_opts *o,
                     struct nl_roundtrip **out, char *errbuf);

NL_API const struct nl_rt_item *nl_roundtrip_item(const struct nl_roundtrip *r, size_t plan_index);
/** Packets captured in all; resets the kernel sent back; other packets matching the filter. */
NL_API uint64_t nl_roundtrip_captured(const struct nl_roundtrip *r);
NL_API uint64_t nl_roundtrip_kernel_resets(const struct nl_roundtrip *r);
NL_API uint64_t nl_roundtrip_other(const struct nl_roundtrip *r);
NL_API uint64_t nl_roundtrip_kernel_dropped(const struct nl_roundtrip *r);
NL_API const char *nl_roundtrip_interface(const struct nl_roundtrip *r);
NL_API const char *nl_roundtrip_linktype(const struct nl_roundtrip *r);
NL_API const char *nl_roundtrip_filter(const struct nl_roundtrip *r);
/** 1 when every crafted packet arrived identical with valid checksums. */
NL_API int nl_roundtrip_ok(const struct nl_roundtrip *r);
NL_API void nl_roundtrip_free(struct nl_roundtrip *r);

#ifdef __cplusplus
}
#endif
#endif
