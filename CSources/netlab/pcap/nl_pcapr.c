/*
 * nl_pcapr.c - capture file reading: classic pcap (both byte orders, micro/nano)
 * here, pcapng (SHB/IDB/EPB/SPB/PB; other blocks skipped) in nl_pcapng.c, both
 * from a read-only memory map (nl_file.c, the one file loader). Owns the file mapping and interface list; validates every length before
 * use and never reads past the file. Knows nothing of link or network layers.
 */
#include "nl_pcapr_int.h"
#include "nl_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int host_le(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

void nl_pcapr_warn(struct nl_pcapr *r, const char *fmt, ...)
{
    if (r->nwarnings >= MAX_WARNINGS)
        return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *s = strdup(buf);
    if (s)
        r->warnings[r->nwarnings++] = s;
}

int nl_pcapr_fail(struct nl_pcapr *r, char *errbuf, int code, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(r->errmsg, sizeof r->errmsg, "%s: packet %llu at byte offset %zu: %s", r->name,
             (unsigned long long)r->number + 1, r->pos, what);
    r->err = code;
    return nl_err(errbuf, code, "%s", r->errmsg);
}

int nl_pcapr_add_iface(struct nl_pcapr *r, int linktype, uint32_t snaplen)
{
    if (r->nifaces >= NL_PCAPR_MAX_IFACES)
        return NL_ELIMIT;
    if (NL_GROW(r->ifaces, r->nifaces, r->cap_ifaces, 4) < 0)
        return NL_ENOMEM;
    struct iface_rec *f = &r->ifaces[r->nifaces++];
    memset(f, 0, sizeof *f);
    f->pub.linktype = linktype;
    f->pub.snaplen = snaplen;
    f->pub.section = r->section;
    f->tsresol = 6;
    return 0;
}

/* ---- classic pcap ---- */

static int open_pcap(struct nl_pcapr *r, char *errbuf)
{
    if (r->size < 24)
        return nl_err(errbuf, NL_ETRUNC, "%s: file ends after %zu bytes, inside the 24-byte pcap file header", r->name,
                      r->size);
    const uint8_t *h = r->base;
    uint16_t major = rd16(r, h + 4), minor = rd16(r, h + 6);
    uint32_t snaplen = rd32(r, h + 16);
    uint32_t network = rd32(r, h + 20);
    if (major != 2)
        return nl_err(errbuf, NL_EMALFORMED, "%s: pcap version %u.%u is not supported (only 2.x)", r->name, major,
                      minor);
    /* Bits 26-31 of the link type field carry FCS information (pcap spec 4). */
    int linktype = (int)(network & 0x03ffffff);
    int rc = nl_pcapr_add_iface(r, linktype, snaplen);
    if (rc < 0)
        return nl_err(errbuf, rc, "%s: out of memory", r->name);
    r->pos = 24;
    return 0;
}

static int next_pcap(struct nl_pcapr *r, struct nl_frame *pkt, char *errbuf)
{
    size_t left = r->size - r->pos;
    if (left == 0)
        return 0;
    if (left < 16)
        return nl_pcapr_fail(r, errbuf, NL_ETRUNC, "the file ends %zu bytes into a 16-byte record header (the capture was cut short)",
                    left);
    const uint8_t *h = r->base + r->pos;
    uint32_t sec = rd32(r, h), frac = rd32(r, h + 4), incl = rd32(r, h + 8), orig = rd32(r, h + 12);
    if (incl > NL_PCAPR_MAX_CAPLEN)
        return nl_pcapr_fail(r, errbuf, NL_EMALFORMED, "record claims %u captured bytes, more than any capture holds (%u)", incl,
                    NL_PCAPR_MAX_CAPLEN);
    if (left - 16 < incl)
        return nl_pcapr_fail(r, errbuf, NL_ETRUNC,
                    "record claims %u captured bytes but the file ends after %zu (the capture was cut short)", incl,
                    left - 16);
    if (orig < incl) {
        if (r->overlong++ == 0)
            nl_pcapr_warn(r, "packet %llu: captured length %u exceeds its wire length %u; using %u",
                        (unsigned long long)r->number + 1, incl, orig, incl);
        orig = incl;
    }
    pkt->data = h + 16;
    pkt->caplen = incl;
    pkt->len = orig;
    pkt->ts_ns = (int64_t)sec * 1000000000 + (r->pcap_nano ? (int64_t)frac : (int64_t)frac * 1000);
    pkt->offset = r->pos;
    pkt->iface = 0;
    pkt->linktype = r->ifaces[0].pub.linktype;
    pkt->direction = NL_DIR_UNKNOWN;
    r->pos += 16 + (size_t)incl;
    pkt->number = ++r->number;
    return 1;
}

/* Give back mapped pages well behind the read position (MADV_DONTNEED on a
 * read-only mapping only drops our page-table entries; the bytes are refetched
 * from the page cache if touched again), so RSS does not grow with file size. */
static void release_before(struct nl_pcapr *r, size_t pos)
{
    if (!r->map || pos < r->released || pos - r->released < RELEASE_STEP + RELEASE_KEEP)
        return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t upto = (pos - RELEASE_KEEP) & ~(page - 1);
    if (upto > r->released) {
        (void)madvise((uint8_t *)r->map + r->released, upto - r->released, MADV_DONTNEED);
        r->released = upto;
    }
}

static inline void maybe_release(struct nl_pcapr *r)
{
    if (!r->manual_release)
        release_before(r, r->pos);
}

void nl_pcapr_release_before(struct nl_pcapr *r, uint64_t offset)
{
    if (!r->manual_release) /* set once, before any other thread reads the file */
        r->manual_release = 1;
    if (offset <= r->size)
        release_before(r, (size_t)offset);
}

/* The bytes after the position are on their way before a packet reads them: the mapping's
 * page tables a megabyte or two ahead, the cache lines PREFETCH_AHEAD ahead. Hints only. */
static inline void stream_ahead(struct nl_pcapr *r)
{
    size_t want = r->pos + PREFETCH_AHEAD < r->size ? r->pos + PREFETCH_AHEAD : r->size;
    if (r->prefetched < r->pos)
        r->prefetched = r->pos & ~(size_t)255;
    for (; r->prefetched < want; r->prefetched += 256) { /* four lines a step (the last may pass the end:
                                                           * an address only, never a pointer read) */
        uintptr_t p = (uintptr_t)r->base + r->prefetched;
        __builtin_prefetch((const void *)p);
        __builtin_prefetch((const void *)(p + 64));
        __builtin_prefetch((const void *)(p + 128));
        __builtin_prefetch((const void *)(p + 192));
    }
#ifdef MADV_POPULATE_READ
    if (r->map && r->populated < r->size && r->populated < r->pos + POPULATE_AHEAD) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t from = r->populated > r->pos ? r->populated : r->pos & ~(page - 1);
        size_t len = r->size - from < POPULATE_STEP ? r->size - from : POPULATE_STEP;
        /* An older kernel refuses the advice (EINVAL): then pages fault in as read. */
        if (madvise((uint8_t *)r->map + from, (len + page - 1) & ~(page - 1), MADV_POPULATE_READ) != 0)
            r->populated = r->size;
        else
            r->populated = from + len;
    }
#endif
}

int nl_pcapr_next(struct nl_pcapr *r, struct nl_frame *pkt, char *errbuf)
{
    if (r->err)
        return nl_err(errbuf, r->err, "%s", r->errmsg);
    maybe_release(r);
    stream_ahead(r);
    return r->format == NL_FMT_PCAP ? next_pcap(r, pkt, errbuf) : nl_pcapng_next(r, pkt, errbuf);
}

/* ---- opening ---- */

static int start(struct nl_pcapr *r, char *errbuf)
{
    if (r->size < 4)
        return nl_err(errbuf, r->size ? NL_ETRUNC : NL_EMALFORMED,
                      "%s: %s, not a pcap or pcapng capture", r->name, r->size ? "too short" : "empty file");
    const uint8_t *b = r->base;
    uint32_t be = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    uint32_t le = (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
    if (be == PCAP_MAGIC_US || be == PCAP_MAGIC_NS || le == PCAP_MAGIC_US || le == PCAP_MAGIC_NS) {
        r->format = NL_FMT_PCAP;
        r->le = (le == PCAP_MAGIC_US || le == PCAP_MAGIC_NS);
        r->pcap_nano = (be == PCAP_MAGIC_NS || le == PCAP_MAGIC_NS);
        r->nano = r->pcap_nano;
        return open_pcap(r, errbuf);
    }
    if (be == PCAPNG_SHB) {
        r->format = NL_FMT_PCAPNG;
        char what[256];
        int64_t n = nl_pcapng_read_shb(r, what);
        if (n < 0)
            return nl_err(errbuf, (int)n, "%s: %s", r->name, what);
        r->pos = (size_t)n;
        return 0;
    }
    return nl_err(errbuf, NL_EMALFORMED,
                  "%s: not a pcap or pcapng capture (starts with %02x %02x %02x %02x; pcap starts a1 b2 c3 d4 or d4 c3 "
                  "b2 a1, pcapng 0a 0d 0d 0a)",
                  r->name, b[0], b[1], b[2], b[3]);
}

static struct nl_pcapr *alloc_reader(const char *name)
{
    struct nl_pcapr *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->name = strdup(name ? name : "(memory)");
    if (!r->name) {
        free(r);
        return NULL;
    }
    return r;
}

int nl_pcapr_open_mem(struct nl_pcapr **out, const void *buf, size_t len, const char *name, char *errbuf)
{
    *out = NULL;
    struct nl_pcapr *r = alloc_reader(name);
    if (!r)
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory", name ? name : "(memory)");
    r->base = buf;
    r->size = buf ? len : 0;
    int rc = start(r, errbuf);
    if (rc < 0) {
        nl_pcapr_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

int nl_pcapr_open(struct nl_pcapr **out, const char *path, char *errbuf)
{
    *out = NULL;
    struct nl_file f;
    int rc = nl_file_load(&f, path, "the capture", "a capture file", 0, errbuf);
    if (rc < 0)
        return rc;
    struct nl_pcapr *r = alloc_reader(path);
    if (!r) {
        nl_file_release(&f);
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory", path);
    }
    /* The reader owns the mapping or the copy from here (nl_pcapr_close releases them). */
    r->map = f.map;
    r->owned = f.owned;
    r->base = f.data;
    r->size = f.size;
    rc = start(r, errbuf);
    if (rc < 0) {
        nl_pcapr_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

enum nl_pcapr_format nl_pcapr_format(const struct nl_pcapr *r) { return r->format; }
const char *nl_pcapr_format_name(const struct nl_pcapr *r) { return r->format == NL_FMT_PCAP ? "pcap" : "pcapng"; }
int nl_pcapr_swapped(const struct nl_pcapr *r) { return r->le != host_le(); }
int nl_pcapr_nanosecond(const struct nl_pcapr *r) { return r->nano; }
const char *nl_pcapr_name(const struct nl_pcapr *r) { return r->name; }
uint64_t nl_pcapr_size(const struct nl_pcapr *r) { return r->size; }
size_t nl_pcapr_iface_count(const struct nl_pcapr *r) { return r->nifaces; }

const struct nl_file_iface *nl_pcapr_iface(const struct nl_pcapr *r, size_t i)
{
    return i < r->nifaces ? &r->ifaces[i].pub : NULL;
}

size_t nl_pcapr_warning_count(const struct nl_pcapr *r) { return r->nwarnings; }
const char *nl_pcapr_warning(const struct nl_pcapr *r, size_t i) { return i < r->nwarnings ? r->warnings[i] : NULL; }

void nl_pcapr_close(struct nl_pcapr *r)
{
    if (!r)
        return;
    if (r->map)
        munmap(r->map, r->size);
    free(r->owned);
    for (size_t i = 0; i < r->nifaces; i++) {
        free(r->ifaces[i].name);
        free(r->ifaces[i].desc);
    }
    free(r->ifaces);
    for (size_t i = 0; i < r->nwarnings; i++)
        free(r->warnings[i]);
    free(r->name);
    free(r);
}
