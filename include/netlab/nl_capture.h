/*
 * nl_capture.h - live capture with libpcap: an interface (default "any"), a BPF
 * filter in tcpdump syntax, limits (packets, seconds, file size), written to
 * pcap or pcapng through nl_pcapw (temporary file, renamed on close). Usable
 * blocking (nl_capture_run) or from a poll() loop (nl_capture_fd + dispatch).
 */
#ifndef NL_CAPTURE_H
#define NL_CAPTURE_H

#include "nl_api.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nl_capture_opts {
    const char *interface;  /* NULL or "any": every interface (Linux cooked capture) */
    const char *filter;     /* BPF in tcpdump syntax ("tcp port 12345"); NULL: everything */
    uint32_t snaplen;       /* bytes kept per packet; default 262144 */
    int promisc;            /* promiscuous mode; default 0 (not available on "any") */
    uint64_t max_packets;   /* stop after this many; 0: no limit */
    double max_seconds;     /* stop after this long; 0: no limit */
    uint64_t max_bytes;     /* stop before the file would exceed this; 0: no limit */
    const char *path;       /* output file; NULL: count only */
    int pcapng;             /* write pcapng instead of pcap */
    int buffer_mb;          /* kernel ring buffer, MiB; default 64 */
    int keep_packets;       /* also keep every packet in memory (nl_capture_packet) */
    int immediate;          /* deliver each packet at once; default 0: the kernel hands over
                               blocks of packets (TPACKET_V3) within 100 ms, which keeps up with
                               far higher rates (immediate mode uses one fixed slot per packet) */
};

struct nl_capture_stats {
    uint64_t packets;          /* packets captured (written) */
    uint64_t bytes;            /* bytes of those packets on the wire */
    uint64_t file_bytes;       /* bytes in the output file so far */
    uint64_t kernel_received;  /* pcap_stats ps_recv */
    uint64_t kernel_dropped;   /* ps_drop: no room in the buffer */
    uint64_t if_dropped;       /* ps_ifdrop: dropped by the interface/driver */
    double seconds;            /* since the capture opened */
};

/** One packet kept in memory (keep_packets). */
struct nl_captured {
    const uint8_t *data;
    uint32_t caplen, len;
    int64_t time_ns;
};

struct nl_capture;  /* opaque */

NL_API void nl_capture_opts_init(struct nl_capture_opts *o);

/**
 * Open the interface, install the filter and create the output. Errors:
 * NL_EPERM (no CAP_NET_RAW/CAP_NET_ADMIN, with the setcap line), NL_ENOTFOUND
 * (unknown interface, listing the available ones), NL_EINVAL (invalid filter,
 * with libpcap's message and the filter), NL_ESYS/NL_ELIB. Nothing is left on
 * disk when it fails.
 */
NL_API int nl_capture_open(struct nl_capture **out, const struct nl_capture_opts *o, char *errbuf);

/** A descriptor that polls readable when packets wait; -1 if there is none. */
NL_API int nl_capture_fd(const struct nl_capture *c);

/**
 * Take every packet that is ready without blocking. Sets *done to 1 once a
 * limit is reached. Returns packets taken or a negative NL_E* code.
 */
NL_API int nl_capture_dispatch(struct nl_capture *c, int *done, char *errbuf);

typedef void (*nl_capture_status_fn)(const struct nl_capture_stats *st, void *ctx);

/**
 * Capture until a limit is reached or *stop becomes nonzero (NULL: only the
 * limits). status (may be NULL) is called about four times a second.
 */
NL_API int nl_capture_run(struct nl_capture *c, volatile sig_atomic_t *stop, nl_capture_status_fn status, void *ctx,
                   char *errbuf);

/** Current counters, kernel drops included. */
NL_API int nl_capture_get_stats(struct nl_capture *c, struct nl_capture_stats *st);

/** The link type of the packets (LINKTYPE_* value, e.g. 113 for "any"). */
NL_API int nl_capture_linktype(const struct nl_capture *c);

/** Name of the link type ("EN10MB", "LINUX_SLL", ...). */
NL_API const char *nl_capture_linktype_name(const struct nl_capture *c);

NL_API size_t nl_capture_packet_count(const struct nl_capture *c);
NL_API const struct nl_captured *nl_capture_packet(const struct nl_capture *c, size_t i);

/**
 * Take what the kernel still holds for up to seconds (a partly filled block is
 * handed over when its 100 ms timer expires). Afterwards the capture takes no
 * more packets: the file and the kept packets end here.
 */
NL_API int nl_capture_drain(struct nl_capture *c, double seconds, char *errbuf);

/**
 * Drain what the kernel still holds (unless nl_capture_drain already did), flush
 * and rename the file into place,
 * and fill final (may be NULL). Frees c whatever the outcome.
 */
NL_API int nl_capture_close(struct nl_capture *c, struct nl_capture_stats *final, char *errbuf);

/** Stop and remove the partial file. NULL allowed. */
NL_API void nl_capture_abort(struct nl_capture *c);

struct nl_iface {
    char name[64];
    char description[128];
    char addresses[192];  /* "127.0.0.1 ::1" */
    int up, running, loopback;
};

/** Interfaces libpcap can capture on. Free *list with free(). */
NL_API int nl_capture_interfaces(struct nl_iface **list, size_t *n, char *errbuf);

/** The interface that holds or routes to an IPv4 destination ("lo" for 127.x). */
NL_API int nl_route_interface(const uint8_t dst[4], char *name, size_t name_len, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
