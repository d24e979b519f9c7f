/*
 * nl_pcapr.c - capture file reading: classic pcap (both byte orders, micro/nano)
 * and pcapng (SHB/IDB/EPB/SPB/PB; other blocks skipped) from a read-only memory
 * map. Owns the file mapping and interface list; validates every length before
 * use and never reads past the file. Knows nothing of link or network layers.
 */
#include "netlab/nl_pcapr.h"
#include "netlab/nl_error.h"
#include "nl_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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
#define RELEASE_STEP (8u << 20)
#define RELEASE_KEEP (2u << 20)
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
    char *warnings[MAX_WARNINGS];
    size_t nwarnings;
    uint64_t overlong;    /* records whose captured length exceeded the wire length */
};

static inline uint16_t rd16(const struct nl_pcapr *r, const uint8_t *p)
{
    return r->le ? (uint16_t)(p[0] | p[1] << 8) : (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const struct nl_pcapr *r, const uint8_t *p)
{
    return r->le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
                 : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int host_le(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

static void add_warning(struct nl_pcapr *r, const char *fmt, ...) NL_PRINTF(2, 3);
static void add_warning(struct nl_pcapr *r, const char *fmt, ...)
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

/* Record a sticky error; every later nl_pcapr_next returns it again. */
static int fail(struct nl_pcapr *r, char *errbuf, int code, const char *fmt, ...) NL_PRINTF(4, 5);
static int fail(struct nl_pcapr *r, char *errbuf, int code, const char *fmt, ...)
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

static int add_iface(struct nl_pcapr *r, int linktype, uint32_t snaplen)
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
    int rc = add_iface(r, linktype, snaplen);
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
        return fail(r, errbuf, NL_ETRUNC, "the file ends %zu bytes into a 16-byte record header (the capture was cut short)",
                    left);
    const uint8_t *h = r->base + r->pos;
    uint32_t sec = rd32(r, h), frac = rd32(r, h + 4), incl = rd32(r, h + 8), orig = rd32(r, h + 12);
    if (incl > NL_PCAPR_MAX_CAPLEN)
        return fail(r, errbuf, NL_EMALFORMED, "record claims %u captured bytes, more than any capture holds (%u)", incl,
                    NL_PCAPR_MAX_CAPLEN);
    if (left - 16 < incl)
        return fail(r, errbuf, NL_ETRUNC,
                    "record claims %u captured bytes but the file ends after %zu (the capture was cut short)", incl,
                    left - 16);
    if (orig < incl) {
        if (r->overlong++ == 0)
            add_warning(r, "packet %llu: captured length %u exceeds its wire length %u; using %u",
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

/* ---- pcapng ---- */

/* Walk a block's options; cb gets each (code, value, length). Returns 0 or NL_EMALFORMED. */
typedef void (*opt_cb)(struct nl_pcapr *r, void *ctx, uint16_t code, const uint8_t *v, uint16_t len);

static int walk_options(struct nl_pcapr *r, const uint8_t *p, const uint8_t *end, opt_cb cb, void *ctx)
{
    while (end - p >= 4) {
        uint16_t code = rd16(r, p), len = rd16(r, p + 2);
        p += 4;
        if (code == 0) /* opt_endofopt */
            return 0;
        size_t padded = ((size_t)len + 3) & ~(size_t)3;
        if ((size_t)(end - p) < padded)
            return NL_EMALFORMED;
        cb(r, ctx, code, p, len);
        p += padded;
    }
    return 0; /* options may end without opt_endofopt */
}

static char *dup_opt(const uint8_t *v, uint16_t len)
{
    size_t n = 0;
    while (n < len && v[n]) /* strings may or may not carry a NUL */
        n++;
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, v, n);
        s[n] = 0;
    }
    return s;
}

static void idb_option(struct nl_pcapr *r, void *ctx, uint16_t code, const uint8_t *v, uint16_t len)
{
    struct iface_rec *f = ctx;
    switch (code) {
    case 2: /* if_name */
        if (!f->name)
            f->name = dup_opt(v, len);
        break;
    case 3: /* if_description */
        if (!f->desc)
            f->desc = dup_opt(v, len);
        break;
    case 9: /* if_tsresol */
        if (len >= 1)
            f->tsresol = v[0];
        break;
    case 14: /* if_tsoffset */
        if (len >= 8) {
            uint64_t hi = rd32(r, v), lo = rd32(r, v + 4);
            uint64_t u = r->le ? (lo << 32 | hi) : (hi << 32 | lo);
            f->tsoffset_s = (int64_t)u;
        }
        break;
    default:
        break;
    }
}

static void epb_option(struct nl_pcapr *r, void *ctx, uint16_t code, const uint8_t *v, uint16_t len)
{
    uint8_t *dir = ctx;
    if (code == 2 && len >= 4) { /* epb_flags: bits 0-1 inbound/outbound */
        uint32_t fl = rd32(r, v);
        *dir = (fl & 3) == 1 ? NL_DIR_IN : (fl & 3) == 2 ? NL_DIR_OUT : NL_DIR_UNKNOWN;
    }
}

/* Timestamp units (if_tsresol) to nanoseconds, saturating. */
static int64_t ng_time(const struct iface_rec *f, uint64_t ts)
{
    unsigned __int128 ns;
    uint8_t v = f->tsresol;
    if (v & 0x80) {
        unsigned shift = v & 0x7f;
        ns = shift >= 128 ? 0 : ((unsigned __int128)ts * 1000000000u) >> shift;
    } else if (v <= 9) {
        uint64_t mul = 1;
        for (unsigned i = v; i < 9; i++)
            mul *= 10;
        ns = (unsigned __int128)ts * mul;
    } else {
        unsigned __int128 div = 1;
        for (unsigned i = 9; i < v && div < ((unsigned __int128)1 << 100); i++)
            div *= 10;
        ns = ts / div;
    }
    __int128 t = (__int128)(ns > (unsigned __int128)INT64_MAX ? INT64_MAX : ns);
    t += (__int128)f->tsoffset_s * 1000000000;
    if (t > INT64_MAX)
        t = INT64_MAX;
    if (t < INT64_MIN)
        t = INT64_MIN;
    return (int64_t)t;
}

/* Check the SHB at r->pos and take the section's byte order. Returns the block
 * length, or a negative code with what[] saying why. */
static int64_t read_shb(struct nl_pcapr *r, char what[256])
{
    size_t left = r->size - r->pos;
    const uint8_t *b = r->base + r->pos;
    if (left < 12) {
        snprintf(what, 256, "the file ends inside a section header block");
        return NL_ETRUNC;
    }
    uint32_t bom = (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 | (uint32_t)b[10] << 8 | b[11];
    if (bom != PCAPNG_BOM && bom != 0x4d3c2b1au) {
        snprintf(what, 256, "section header block has byte-order magic 0x%08x, not 0x1a2b3c4d", bom);
        return NL_EMALFORMED;
    }
    int le = bom != PCAPNG_BOM;
    int saved = r->le;
    r->le = le;
    uint32_t blen = rd32(r, b + 4);
    uint16_t major = left >= 16 ? rd16(r, b + 12) : 0, minor = left >= 16 ? rd16(r, b + 14) : 0;
    r->le = saved;
    if (blen < 28 || blen % 4) {
        snprintf(what, 256, "section header block length %u is invalid (at least 28, a multiple of 4)", blen);
        return NL_EMALFORMED;
    }
    if (blen > left) {
        snprintf(what, 256, "section header block claims %u bytes but the file ends after %zu", blen, left);
        return NL_ETRUNC;
    }
    if (major != 1) {
        snprintf(what, 256, "pcapng version %u.%u is not supported (only 1.x)", major, minor);
        return NL_EMALFORMED;
    }
    r->le = le;
    r->section_base = r->nifaces;
    if (r->pos)
        r->section++;
    return blen;
}

static int next_pcapng(struct nl_pcapr *r, struct nl_frame *pkt, char *errbuf)
{
    for (;;) {
        size_t left = r->size - r->pos;
        if (left == 0)
            return 0;
        if (left < 12)
            return fail(r, errbuf, NL_ETRUNC, "the file ends %zu bytes into a block header (the capture was cut short)",
                        left);
        const uint8_t *b = r->base + r->pos;
        uint32_t type = rd32(r, b);
        uint32_t blen;
        if (type == PCAPNG_SHB) {
            char what[256];
            int64_t n = read_shb(r, what);
            if (n < 0)
                return fail(r, errbuf, (int)n, "%s", what);
            blen = (uint32_t)n;
        } else {
            blen = rd32(r, b + 4);
            if (blen < 12 || blen % 4)
                return fail(r, errbuf, NL_EMALFORMED,
                            "block of type 0x%08x has length %u (at least 12, a multiple of 4)", type, blen);
            if (blen > left)
                return fail(r, errbuf, NL_ETRUNC,
                            "block of type 0x%08x claims %u bytes but the file ends after %zu (the capture was cut short)",
                            type, blen, left);
        }
        if (rd32(r, b + blen - 4) != blen)
            return fail(r, errbuf, NL_EMALFORMED, "block of type 0x%08x: trailing length %u differs from leading %u",
                        type, rd32(r, b + blen - 4), blen);
        const uint8_t *body = b + 8, *end = b + blen - 4;
        size_t blen_body = (size_t)(end - body);

        if (type == PCAPNG_IDB) {
            if (blen_body < 8)
                return fail(r, errbuf, NL_EMALFORMED, "interface description block too short (%u bytes)", blen);
            int rc = add_iface(r, rd16(r, body), rd32(r, body + 4));
            if (rc < 0)
                return fail(r, errbuf, rc, rc == NL_ELIMIT ? "more than %d interfaces" : "out of memory%.0d",
                            NL_PCAPR_MAX_IFACES);
            struct iface_rec *f = &r->ifaces[r->nifaces - 1];
            if (walk_options(r, body + 8, end, idb_option, f) < 0)
                return fail(r, errbuf, NL_EMALFORMED, "interface description block: an option runs past the block");
            f->pub.name = f->name;
            f->pub.description = f->desc;
            if ((f->tsresol & 0x80) ? (f->tsresol & 0x7f) > 20 : f->tsresol > 6)
                r->nano = 1;
            r->pos += blen;
            continue;
        }
        if (type != PCAPNG_EPB && type != PCAPNG_SPB && type != PCAPNG_PB) {
            r->pos += blen; /* NRB, ISB, DSB, custom, unknown: nothing to count */
            continue;
        }

        uint32_t local_if, caplen, origlen;
        uint64_t ts = 0;
        const uint8_t *data;
        uint8_t dir = NL_DIR_UNKNOWN;
        if (type == PCAPNG_SPB) {
            if (blen_body < 4)
                return fail(r, errbuf, NL_EMALFORMED, "simple packet block too short (%u bytes)", blen);
            local_if = 0;
            origlen = rd32(r, body);
            data = body + 4;
            caplen = origlen;
            if (caplen > blen_body - 4)
                caplen = (uint32_t)(blen_body - 4);
        } else {
            size_t fixed = type == PCAPNG_EPB ? 20 : 20; /* PB: if16 drops16 tshi tslo cap orig */
            if (blen_body < fixed)
                return fail(r, errbuf, NL_EMALFORMED, "packet block too short (%u bytes)", blen);
            local_if = type == PCAPNG_EPB ? rd32(r, body) : rd16(r, body);
            ts = (uint64_t)rd32(r, body + 4) << 32 | rd32(r, body + 8);
            caplen = rd32(r, body + 12);
            origlen = rd32(r, body + 16);
            data = body + 20;
            if (caplen > blen_body - 20)
                return fail(r, errbuf, NL_EMALFORMED, "packet block claims %u captured bytes but holds only %zu",
                            caplen, blen_body - 20);
            size_t padded = ((size_t)caplen + 3) & ~(size_t)3;
            if (type == PCAPNG_EPB && padded <= blen_body - 20)
                (void)walk_options(r, data + padded, end, epb_option, &dir);
        }
        if (r->section_base + local_if >= r->nifaces)
            return fail(r, errbuf, NL_EMALFORMED,
                        "packet refers to interface %u, but this section describes only %zu", local_if,
                        r->nifaces - r->section_base);
        const struct iface_rec *f = &r->ifaces[r->section_base + local_if];
        if (type == PCAPNG_SPB && f->pub.snaplen && caplen > f->pub.snaplen)
            caplen = f->pub.snaplen;
        if (caplen > NL_PCAPR_MAX_CAPLEN)
            return fail(r, errbuf, NL_EMALFORMED, "packet block claims %u captured bytes", caplen);
        if (origlen < caplen) {
            if (r->overlong++ == 0)
                add_warning(r, "packet %llu: captured length %u exceeds its wire length %u; using %u",
                            (unsigned long long)r->number + 1, caplen, origlen, caplen);
            origlen = caplen;
        }
        pkt->data = data;
        pkt->caplen = caplen;
        pkt->len = origlen;
        pkt->ts_ns = type == PCAPNG_SPB ? 0 : ng_time(f, ts);
        pkt->offset = r->pos;
        pkt->iface = (uint32_t)(r->section_base + local_if);
        pkt->linktype = f->pub.linktype;
        pkt->direction = dir;
        r->pos += blen;
        pkt->number = ++r->number;
        return 1;
    }
}

/* Give back mapped pages well behind the read position (MADV_DONTNEED on a
 * read-only mapping only drops our page-table entries; the bytes are refetched
 * from the page cache if touched again), so RSS does not grow with file size. */
static inline void maybe_release(struct nl_pcapr *r)
{
    if (!r->map || r->pos - r->released < RELEASE_STEP + RELEASE_KEEP)
        return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t upto = (r->pos - RELEASE_KEEP) & ~(page - 1);
    if (upto > r->released) {
        (void)madvise((uint8_t *)r->map + r->released, upto - r->released, MADV_DONTNEED);
        r->released = upto;
    }
}

int nl_pcapr_next(struct nl_pcapr *r, struct nl_frame *pkt, char *errbuf)
{
    if (r->err)
        return nl_err(errbuf, r->err, "%s", r->errmsg);
    maybe_release(r);
    return r->format == NL_FMT_PCAP ? next_pcap(r, pkt, errbuf) : next_pcapng(r, pkt, errbuf);
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
        int64_t n = read_shb(r, what);
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
