/*
 * nl_pcapr_int.h - what the capture reader's formats share (internal; never
 * installed): the reader's state, byte-order reads, the format table's entries;
 * warnings, the sticky error and interfaces (nl_pcapr_state.c). nl_pcapr.c opens and
 * dispatches, nl_pcap_classic.c and nl_pcapng.c read their formats.
 */
#ifndef NL_PCAPR_INT_H
#define NL_PCAPR_INT_H

#include "netlab/nl_pcapr.h"
#include "netlab/nl_error.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_PB 0x00000002u   /* obsolete Packet Block */
#define PCAPNG_SPB 0x00000003u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_BOM 0x1a2b3c4du

/* Pages behind the read position are released in steps of this size, so the
 * resident set stays bounded whatever the file's size (see maybe_release). */
#define RELEASE_STEP (2u << 20)
#define RELEASE_KEEP (1u << 20)
/* Reading ahead of the position: page tables filled in steps of POPULATE_STEP while
 * fewer than POPULATE_AHEAD bytes are ready (one system call per step instead of a
 * page fault per 64 KiB), and every cache line prefetched PREFETCH_AHEAD bytes
 * before it is read (the hardware's own prefetcher stops at page boundaries). */
#define POPULATE_STEP (2u << 20)
#define POPULATE_AHEAD (1u << 20)
#define PREFETCH_AHEAD (8u << 10)
#define MAX_WARNINGS 8

struct iface_rec {
    struct nl_file_iface pub;
    char *name;
    char *desc;
    uint8_t tsresol;      /* if_tsresol, default 6 (microseconds) */
    int64_t tsoffset_s;   /* if_tsoffset */
};

struct nl_pcapr {
    const uint8_t *base;
    size_t size;
    size_t pos;
    void *map;            /* mmap'ed file, or NULL */
    uint8_t *owned;       /* malloc'ed copy when mapping was impossible */
    char *name;
    enum nl_pcapr_format format;
    const struct nl_pcapr_format_ops *ops; /* the format's reader (nl_pcapr.c's table) */
    int le;               /* the current section is little-endian */
    int nano;
    /* classic pcap: one implicit interface */
    int pcap_nano;
    /* interfaces (pcap: exactly one) */
    struct iface_rec *ifaces;
    size_t nifaces, cap_ifaces;
    size_t section_base;  /* index of the current section's interface 0 */
    uint32_t section;
    uint64_t number;      /* frames returned so far */
    int err;              /* sticky error code */
    char errmsg[NL_ERRBUF_SIZE];
    size_t released;      /* bytes before this offset have been given back */
    int manual_release;   /* the caller releases (nl_pcapr_release_before), not nl_pcapr_next */
    size_t populated;     /* the mapping's page tables are filled up to here (MADV_POPULATE_READ) */
    size_t prefetched;    /* bytes before this offset have been prefetched into the cache */
    char *warnings[MAX_WARNINGS];
    size_t nwarnings;
    uint64_t overlong;    /* records whose captured length exceeded the wire length */
};

/* The file's byte order (r->le) to the machine's: one load and, when they differ, one swap. */
static inline uint16_t rd16(const struct nl_pcapr *r, const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return r->le == (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) ? v : __builtin_bswap16(v);
}

static inline uint32_t rd32(const struct nl_pcapr *r, const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return r->le == (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) ? v : __builtin_bswap32(v);
}

/* One format of capture file: open claims the file (NL_ENOTFOUND when the magic is not its
 * own; 0 opened, r->pos at the first record; <0 an error said in errbuf), next reads its
 * next packet (1, 0 at the end, <0 an error, sticky through nl_pcapr_fail). */
struct nl_pcapr_format_ops {
    int (*open)(struct nl_pcapr *r, char *errbuf);
    int (*next)(struct nl_pcapr *r, struct nl_frame *pkt, char *errbuf);
};
extern const struct nl_pcapr_format_ops nl_pcapr_classic; /* nl_pcap_classic.c */
extern const struct nl_pcapr_format_ops nl_pcapr_pcapng;  /* nl_pcapng.c */

/* nl_pcapr_state.c */
void nl_pcapr_warn(struct nl_pcapr *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record a sticky error; every later nl_pcapr_next returns it again. */
int nl_pcapr_fail(struct nl_pcapr *r, char *errbuf, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int nl_pcapr_add_iface(struct nl_pcapr *r, int linktype, uint32_t snaplen);


#endif
