/*
 * nl_pcapng.c - the pcapng format of the capture reader (nl_pcapr.c's table): section
 * headers (SHB, either byte order), interfaces (IDB with if_tsresol and
 * if_tsoffset) and packets (EPB, SPB, obsolete PB; other blocks skipped), read
 * from the reader's mapped bytes with every length validated before use.
 */
#include "nl_pcapr_int.h"
#include "netlab/nl_cursor.h"
#include "nl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
            return nl_pcapr_fail(r, errbuf, NL_ETRUNC, "the file ends %zu bytes into a block header (the capture was cut short)",
                        left);
        const uint8_t *b = r->base + r->pos;
        uint32_t type = rd32(r, b);
        uint32_t blen;
        if (type == PCAPNG_SHB) {
            char what[256];
            int64_t n = read_shb(r, what);
            if (n < 0)
                return nl_pcapr_fail(r, errbuf, (int)n, "%s", what);
            blen = (uint32_t)n;
        } else {
            blen = rd32(r, b + 4);
            if (blen < 12 || blen % 4)
                return nl_pcapr_fail(r, errbuf, NL_EMALFORMED,
                            "block of type 0x%08x has length %u (at least 12, a multiple of 4)", type, blen);
            if (blen > left)
                return nl_pcapr_fail(r, errbuf, NL_ETRUNC,
                            "block of type 0x%08x claims %u bytes but the file ends after %zu (the capture was cut short)",
                            type, blen, left);
        }
        if (rd32(r, b + blen - 4) != blen)
            return nl_pcapr_fail(r, errbuf, NL_EMALFORMED, "block of type 0x%08x: trailing length %u differs from leading %u",
                        type, rd32(r, b + blen - 4), blen);
        const uint8_t *body = b + 8, *end = b + blen - 4;
        size_t blen_body = (size_t)(end - body);

        if (type == PCAPNG_IDB) {
            if (blen_body < 8)
                return nl_pcapr_fail(r, errbuf, NL_EMALFORMED, "interface description block too short (%u bytes)", blen);
            int rc = nl_pcapr_add_iface(r, rd16(r, body), rd32(r, body + 4));
            if (rc < 0)
                return nl_pcapr_fail(r, errbuf, rc, rc == NL_ELIMIT ? "more than %d interfaces" : "out of memory%.0d",
                            NL_PCAPR_MAX_IFACES);
            struct iface_rec *f = &r->ifaces[r->nifaces - 1];
            if (walk_options(r, body + 8, end, idb_option, f) < 0)
                return nl_pcapr_fail(r, errbuf, NL_EMALFORMED, "interface description block: an option runs past the block");
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
                return nl_pcapr_fail(r, errbuf, NL_EMALFORMED, "simple packet block too short (%u bytes)", blen);
            local_if = 0;
            origlen = rd32(r, body);
            data = body + 4;
            caplen = origlen;
            if (caplen > blen_body - 4)
                caplen = (uint32_t)(blen_body - 4);
        } else {
            size_t fixed = type == PCAPNG_EPB ? 20 : 20; /* PB: if16 drops16 tshi tslo cap orig */
            if (blen_body < fixed)
                return nl_pcapr_fail(r, errbuf, NL_EMALFORMED, "packet block too short (%u bytes)", blen);
            local_if = type == PCAPNG_EPB ? rd32(r, body) : rd16(r, body);
            ts = (uint64_t)rd32(r, body + 4) << 32 | rd32(r, body + 8);
            caplen = rd32(r, body + 12);
            origlen = rd32(r, body + 16);
            data = body + 20;
            if (caplen > blen_body - 20)
                return nl_pcapr_fail(r, errbuf, NL_EMALFORMED, "packet block claims %u captured bytes but holds only %zu",
                            caplen, blen_body - 20);
            size_t padded = ((size_t)caplen + 3) & ~(size_t)3;
            if (type == PCAPNG_EPB && padded <= blen_body - 20)
                (void)walk_options(r, data + padded, end, epb_option, &dir);
        }
        if (r->section_base + local_if >= r->nifaces)
            return nl_pcapr_fail(r, errbuf, NL_EMALFORMED,
                        "packet refers to interface %u, but this section describes only %zu", local_if,
                        r->nifaces - r->section_base);
        const struct iface_rec *f = &r->ifaces[r->section_base + local_if];
        if (type == PCAPNG_SPB && f->pub.snaplen && caplen > f->pub.snaplen)
            caplen = f->pub.snaplen;
        if (caplen > NL_PCAPR_MAX_CAPLEN)
            return nl_pcapr_fail(r, errbuf, NL_EMALFORMED, "packet block claims %u captured bytes", caplen);
        if (origlen < caplen) {
            if (r->overlong++ == 0)
                nl_pcapr_warn(r, "packet %llu: captured length %u exceeds its wire length %u; using %u",
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

/* The file is pcapng if it starts with a section header block. */
static int open_pcapng(struct nl_pcapr *r, char *errbuf)
{
    const uint8_t *b = r->base;
    uint32_t be = nl_get_be32(b);
    if (be != PCAPNG_SHB)
        return NL_ENOTFOUND;
    r->format = NL_FMT_PCAPNG;
    char what[256];
    int64_t n = read_shb(r, what);
    if (n < 0)
        return nl_err(errbuf, (int)n, "%s: %s", r->name, what);
    r->pos = (size_t)n;
    return 0;
}

const struct nl_pcapr_format_ops nl_pcapr_pcapng = {open_pcapng, next_pcapng};
