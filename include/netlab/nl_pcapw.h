/*
 * nl_pcapw.h - writing capture files through libpcap. A regular file is
 * all-or-nothing (nl_outfile.h): it appears under its name only on
 * nl_pcapw_commit, and a failure, nl_pcapw_abort or SIGKILL leaves nothing.
 * A character device, FIFO or "-" (standard output) is streamed in place.
 */
#ifndef NL_PCAPW_H
#define NL_PCAPW_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>
#include "nl_link.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nl_pcapw;  /* opaque */

/**
 * Start a capture file at path (not created until commit). linktype is a
 * LINKTYPE_* value (or the DLT_* value pcap_datalink() returns: libpcap maps
 * them); nano selects nanosecond timestamps. Fails early, with
 * NL_EPERM/NL_ENOTFOUND/NL_ESYS, when the directory is not writable.
 */
NL_API int nl_pcapw_open(struct nl_pcapw **out, const char *path, int linktype, uint32_t snaplen, int nano, char *errbuf);

/**
 * As nl_pcapw_open, writing pcapng (one section, one interface) instead of
 * pcap: an Interface Description Block named ifname (may be NULL) with
 * nanosecond resolution, then an Enhanced Packet Block per packet.
 * linktype must be a LINKTYPE_* value here.
 */
NL_API int nl_pcapw_open_ng(struct nl_pcapw **out, const char *path, int linktype, uint32_t snaplen, const char *ifname,
                     char *errbuf);

/** Append one packet: caplen bytes of data captured from a len-byte packet at t_ns. */
NL_API int nl_pcapw_write(struct nl_pcapw *w, int64_t t_ns, const uint8_t *data, uint32_t caplen, uint32_t len,
                   char *errbuf);

/** As nl_pcapw_write, with a pcapng packet comment (opt_comment; at most 4000 bytes). A pcap file has no
 *  comments: the packet is written without it. */
NL_API int nl_pcapw_write_comment(struct nl_pcapw *w, int64_t t_ns, const uint8_t *data, uint32_t caplen, uint32_t len,
                                  const char *comment, char *errbuf);

/** Bytes written so far (file header included). */
NL_API uint64_t nl_pcapw_bytes(const struct nl_pcapw *w);

/** Streams only (device, FIFO, "-"): push buffered packets to the reader now. No-op for a regular file. */
NL_API int nl_pcapw_flush(struct nl_pcapw *w, char *errbuf);

/** 1 when w streams in place (device, FIFO, standard output). */
NL_API int nl_pcapw_is_stream(const struct nl_pcapw *w);

/** Flush and make the file visible under its name (nothing to do for a stream); frees w whatever the outcome. */
NL_API int nl_pcapw_commit(struct nl_pcapw *w, char *errbuf);

/** Drop a regular file's bytes (nothing appears) and free w. NULL is allowed. */
NL_API void nl_pcapw_abort(struct nl_pcapw *w);

#ifdef __cplusplus
}
#endif
#endif
