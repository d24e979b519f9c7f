/*
 * nl_pcapr.c - capture file reading: opens the file (a read-only memory map from
 * nl_file.c, the one file loader), finds its format in a table of formats (classic pcap
 * in nl_pcap_classic.c, pcapng in nl_pcapng.c) and reads its packets through that format,
 * streaming the mapping ahead of the position and releasing it behind. Owns the mapping
 * and the accessors. Knows nothing of link or network layers, nor of any format's records.
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
    return r->ops->next(r, pkt, errbuf);
}

/* ---- opening ---- */

/* The formats a capture file may be in, probed in turn by their magic numbers (as
 * libpcap's savefile.c probes check_headers[]): each says whether the file is its own and
 * opens it; the reader then calls only that format's next. No format calls back. */
static const struct nl_pcapr_format_ops *const formats[] = {&nl_pcapr_classic, &nl_pcapr_pcapng};

static int start(struct nl_pcapr *r, char *errbuf)
{
    if (r->size < 4)
        return nl_err(errbuf, r->size ? NL_ETRUNC : NL_EMALFORMED,
                      "%s: %s, not a pcap or pcapng capture", r->name, r->size ? "too short" : "empty file");
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        int rc = formats[i]->open(r, errbuf);
        if (rc == NL_ENOTFOUND)
            continue;
        if (rc == 0)
            r->ops = formats[i];
        return rc;
    }
    const uint8_t *b = r->base;
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
