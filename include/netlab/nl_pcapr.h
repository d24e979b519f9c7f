/*
 * nl_pcapr.h - reading capture files: pcap (either byte order, micro- or
 * nanosecond timestamps) and pcapng (several sections and interfaces, names and
 * timestamp resolutions from the interface description blocks). Packets are
 * returned in file order, numbered from 1 as Wireshark numbers frames.
 */
#ifndef NL_PCAPR_H
#define NL_PCAPR_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest captured length a record may claim (NL_EMALFORMED beyond it). */
#define NL_PCAPR_MAX_CAPLEN (16u * 1024 * 1024)
/** Most interfaces a pcapng file may describe (NL_ELIMIT beyond it). */
#define NL_PCAPR_MAX_IFACES 65536

enum nl_pcapr_format { NL_FMT_PCAP = 0, NL_FMT_PCAPNG = 1 };

/* Direction of a packet as the file records it (pcapng epb_flags bits 0-1). */
enum nl_dir { NL_DIR_UNKNOWN = 0, NL_DIR_IN = 1, NL_DIR_OUT = 2 };

/** One packet, valid until the reader is closed (the bytes stay mapped). */
struct nl_frame {
    const uint8_t *data;  /* caplen captured bytes */
    uint32_t caplen;      /* bytes captured */
    uint32_t len;         /* bytes on the wire (>= caplen) */
    int64_t ts_ns;        /* nanoseconds since the Unix epoch */
    uint64_t number;      /* 1-based frame number */
    uint64_t offset;      /* byte offset of the record (or block) in the file */
    uint32_t iface;       /* index into the reader's interface list */
    int linktype;         /* LINKTYPE_* of that interface */
    uint8_t direction;    /* enum nl_dir */
};

/** An interface: pcap files have exactly one, unnamed. */
struct nl_file_iface {
    int linktype;
    uint32_t snaplen;
    const char *name;         /* if_name option, or NULL */
    const char *description;  /* if_description option, or NULL */
    uint32_t section;         /* pcapng section (0-based) that defined it */
};

struct nl_pcapr;  /* opaque */

/**
 * Open a capture file. The file is memory-mapped when possible (read otherwise).
 * Errors: NL_ENOTFOUND/NL_EPERM/NL_ESYS (file), NL_EMALFORMED (not a capture,
 * bad header), NL_ETRUNC (shorter than its file header). errbuf names the file.
 */
NL_API int nl_pcapr_open(struct nl_pcapr **out, const char *path, char *errbuf);

/** As nl_pcapr_open over bytes in memory (not copied: buf must outlive the reader). */
NL_API int nl_pcapr_open_mem(struct nl_pcapr **out, const void *buf, size_t len, const char *name, char *errbuf);

/**
 * The next packet. Returns 1 and fills pkt, 0 at the end of the file, or a
 * negative code: NL_ETRUNC when the file ends inside a record (cut short),
 * NL_EMALFORMED for an impossible record or block, NL_ELIMIT. errbuf reads
 * "FILE: packet N at byte offset O: what". After an error every further call
 * returns the same error; packets already returned stay valid.
 */
NL_API int nl_pcapr_next(struct nl_pcapr *r, struct nl_frame *pkt, char *errbuf);

NL_API enum nl_pcapr_format nl_pcapr_format(const struct nl_pcapr *r);
/** "pcap" or "pcapng". */
NL_API const char *nl_pcapr_format_name(const struct nl_pcapr *r);
/** 1 when the file was written in the other byte order than this machine's. */
NL_API int nl_pcapr_swapped(const struct nl_pcapr *r);
/** 1 for a nanosecond pcap (pcapng: 1 when any interface has finer than microsecond resolution). */
NL_API int nl_pcapr_nanosecond(const struct nl_pcapr *r);
/** The file name given at open. */
NL_API const char *nl_pcapr_name(const struct nl_pcapr *r);
/** Size of the file in bytes. */
NL_API uint64_t nl_pcapr_size(const struct nl_pcapr *r);
/**
 * For a caller that keeps packets after the next one (a read-ahead): from the first
 * call on, nl_pcapr_next no longer gives back the mapped pages behind its position
 * by itself; this gives back those before byte `offset` (a record's nl_frame.offset,
 * less a margin of 1 MiB), in steps of 2 MiB. Frames before it stay readable (refetched).
 * Call it first before another thread starts calling nl_pcapr_next, and from one thread only.
 */
NL_API void nl_pcapr_release_before(struct nl_pcapr *r, uint64_t offset);

/** Interfaces described so far (pcapng adds them as blocks are read). */
NL_API size_t nl_pcapr_iface_count(const struct nl_pcapr *r);
NL_API const struct nl_file_iface *nl_pcapr_iface(const struct nl_pcapr *r, size_t i);

/** Non-fatal findings (records whose captured length exceeds the wire length, ...). */
NL_API size_t nl_pcapr_warning_count(const struct nl_pcapr *r);
NL_API const char *nl_pcapr_warning(const struct nl_pcapr *r, size_t i);

NL_API void nl_pcapr_close(struct nl_pcapr *r);

#ifdef __cplusplus
}
#endif
#endif
