/*
 * nl_zip.c - a zip archive in memory (see nl_zip.h): the end record found from
 * the back, the central directory read through the bounds-checked cursor, every
 * entry checked before any is read, entries unpacked into memory with zlib
 * (raw deflate), bounded by their declared size. Owns the checks that make an
 * archive safe to read; knows nothing of what the entries hold and writes no file.
 */
#include "nl_internal.h"
#include "netlab/nl_cursor.h"
#include "netlab/nl_text.h"
#include "netlab/nl_zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define SIG_LOC64 0x07064b50u
#define END_LEN 22u
#define LOC64_LEN 20u
#define LOCAL_LEN 30u
#define CENTRAL_LEN 46u

struct ent {
    char *name;
    uint16_t method, flags;
    uint32_t crc;
    uint64_t size, packed, local;  /* local: offset of its local header */
    uint64_t data;                 /* offset of its data (after the local header) */
    int is_dir;
    int checked;                   /* its CRC-32 was found right */
    uint8_t *owned;                /* unpacked bytes, once read */
};

struct nl_zip {
    const uint8_t *buf;
    size_t len;
    char *name;
    struct ent *e;
    size_t n;
};

static uint64_t le64(struct nl_cursor *c)
{
    uint64_t lo = nl_cur_le32(c);
    return lo | (uint64_t)nl_cur_le32(c) << 32;
}

/* ---- the end of the central directory ---- */

struct dir_loc {
    uint64_t entries, size, offset;
};

/* ZIP64: the locator right before the end record points at the ZIP64 end record. */
static int read_end64(const struct nl_zip *z, size_t end_at, struct dir_loc *d, char *errbuf)
{
    if (end_at < LOC64_LEN)
        return 0;
    struct nl_cursor c;
    nl_cur_init(&c, z->buf + end_at - LOC64_LEN, LOC64_LEN);
    if (nl_cur_le32(&c) != SIG_LOC64)
        return 0;
    uint32_t disk = nl_cur_le32(&c);
    uint64_t at = le64(&c);
    uint32_t disks = nl_cur_le32(&c);
    if (disk != 0 || disks > 1)
        return nl_err(errbuf, NL_EMALFORMED, "%s: a zip split over %u disks: give it as one file", z->name, disks);
    if (at > z->len || z->len - at < 56)
        return nl_err(errbuf, NL_EMALFORMED, "%s: its ZIP64 end record lies outside the file (damaged)", z->name);
    nl_cur_init(&c, z->buf + at, z->len - at);
    if (nl_cur_le32(&c) != SIG_END64)
        return nl_err(errbuf, NL_EMALFORMED, "%s: no ZIP64 end record where the locator points (damaged)", z->name);
    nl_cur_skip(&c, 8 + 2 + 2 + 4 + 4 + 8); /* record size, versions, disk numbers, entries on this disk */
    d->entries = le64(&c);
    d->size = le64(&c);
    d->offset = le64(&c);
    return c.err ? nl_err(errbuf, NL_ETRUNC, "%s: its ZIP64 end record is cut short", z->name) : 1;
}

/* The last end record whose comment reaches exactly to the end of the file. */
static int find_end(const struct nl_zip *z, struct dir_loc *d, char *errbuf)
{
    if (z->len < END_LEN)
        return nl_err(errbuf, NL_EMALFORMED, "%s: %zu bytes: too short to be a zip", z->name, z->len);
    size_t lowest = z->len > END_LEN + 65535 ? z->len - END_LEN - 65535 : 0;
    for (size_t at = z->len - END_LEN + 1; at-- > lowest;) {
        struct nl_cursor c;
        nl_cur_init(&c, z->buf + at, z->len - at);
        if (nl_cur_le32(&c) != SIG_END)
            continue;
        uint16_t disk = nl_cur_le16(&c), cd_disk = nl_cur_le16(&c);
        uint16_t here = nl_cur_le16(&c), total = nl_cur_le16(&c);
        uint32_t size = nl_cur_le32(&c), off = nl_cur_le32(&c);
        uint16_t comment = nl_cur_le16(&c);
        if (c.err || at + END_LEN + comment != z->len)
            continue;
        if (disk != 0 || cd_disk != 0 || here != total)
            return nl_err(errbuf, NL_EMALFORMED, "%s: a zip split over several disks: give it as one file", z->name);
        d->entries = total;
        d->size = size;
        d->offset = off;
        int rc = read_end64(z, at, d, errbuf);
        if (rc < 0)
            return rc;
        if (d->offset > at || d->size > at - d->offset)
            return nl_err(errbuf, NL_EMALFORMED, "%s: its central directory lies outside the file (damaged or cut short)",
                          z->name);
        return 0;
    }
    return nl_err(errbuf, NL_EMALFORMED, "%s: not a zip archive (no end of central directory record)", z->name);
}

/* ---- one central directory entry ---- */

/* A name safe to unpack: UTF-8, relative, no "..", no backslash, no drive letter, no NUL. */
static int check_name(const struct nl_zip *z, size_t i, const uint8_t *p, size_t n, char *errbuf)
{
    char shown[200];
    nl_text_sanitize(p, NL_MIN(n, (size_t)80), shown, sizeof shown);
    if (n == 0)
        return nl_err(errbuf, NL_EPERM, "%s: entry %zu has an empty name", z->name, i + 1);
    if (n > NL_ZIP_MAX_NAME)
        return nl_err(errbuf, NL_EPERM, "%s: entry %zu has a name of %zu bytes (at most %u)", z->name, i + 1, n,
                      NL_ZIP_MAX_NAME);
    if (!nl_utf8_valid(p, n) || memchr(p, 0, n))
        return nl_err(errbuf, NL_EPERM, "%s: entry %zu's name \"%s\" is not UTF-8: refused (re-zip with UTF-8 names)",
                      z->name, i + 1, shown);
    if (p[0] == '/' || (n >= 2 && p[1] == ':'))
        return nl_err(errbuf, NL_EPERM, "%s: entry \"%s\" has an absolute path: it would unpack outside its folder",
                      z->name, shown);
    if (memchr(p, '\\', n))
        return nl_err(errbuf, NL_EPERM, "%s: entry \"%s\" holds a backslash (a Windows folder separator): refused",
                      z->name, shown);
    for (size_t s = 0; s < n;) {
        const uint8_t *slash = memchr(p + s, '/', n - s);
        size_t e = slash ? (size_t)(slash - p) : n;
        if (e - s == 2 && p[s] == '.' && p[s + 1] == '.')
            return nl_err(errbuf, NL_EPERM, "%s: entry \"%s\" climbs out of its folder (\"..\")", z->name, shown);
        s = e + 1;
    }
    return 0;
}

/* The ZIP64 extended information (0x0001) of an entry: the 64-bit values its 32-bit fields defer to. */
static int zip64_extra(struct nl_cursor ex, struct ent *e, uint32_t size32, uint32_t packed32, uint32_t local32)
{
    while (nl_cur_left(&ex) >= 4) {
        uint16_t id = nl_cur_le16(&ex), n = nl_cur_le16(&ex);
        struct nl_cursor f = nl_cur_sub(&ex, n);
        if (id != 0x0001)
            continue;
        if (size32 == UINT32_MAX)
            e->size = le64(&f);
        if (packed32 == UINT32_MAX)
            e->packed = le64(&f);
        if (local32 == UINT32_MAX)
            e->local = le64(&f);
        return f.err ? -1 : 0;
    }
    return size32 == UINT32_MAX || packed32 == UINT32_MAX || local32 == UINT32_MAX ? -1 : 0;
}

/* Special files: the Unix mode in the upper half of the external attributes (made on Unix). */
static const char *special_kind(uint16_t made_by, uint32_t ext)
{
    if (made_by >> 8 != 3)
        return NULL;
    switch ((ext >> 16) & 0170000) {
    case 0120000: return "a symbolic link";
    case 0020000: return "a character device";
    case 0060000: return "a block device";
    case 0010000: return "a FIFO";
    case 0140000: return "a socket";
    default: return NULL;
    }
}

static int read_central(struct nl_zip *z, struct nl_cursor *c, size_t i, struct ent *e, char *errbuf)
{
    if (nl_cur_left(c) < CENTRAL_LEN || nl_cur_le32(c) != SIG_CENTRAL)
        return nl_err(errbuf, NL_EMALFORMED, "%s: central directory entry %zu is damaged", z->name, i + 1);
    uint16_t made_by = nl_cur_le16(c);
    nl_cur_skip(c, 2); /* version needed */
    e->flags = nl_cur_le16(c);
    e->method = nl_cur_le16(c);
    nl_cur_skip(c, 4); /* time, date */
    e->crc = nl_cur_le32(c);
    uint32_t packed32 = nl_cur_le32(c), size32 = nl_cur_le32(c);
    uint16_t nlen = nl_cur_le16(c), xlen = nl_cur_le16(c), clen = nl_cur_le16(c);
    nl_cur_skip(c, 4); /* disk start, internal attributes */
    uint32_t ext = nl_cur_le32(c), local32 = nl_cur_le32(c);
    const uint8_t *name = nl_cur_bytes(c, nlen);
    struct nl_cursor ex = nl_cur_sub(c, xlen);
    nl_cur_skip(c, clen);
    if (c->err || ex.err)
        return nl_err(errbuf, NL_ETRUNC, "%s: central directory entry %zu is cut short", z->name, i + 1);
    int rc = check_name(z, i, name, nlen, errbuf);
    if (rc < 0)
        return rc;
    if (!(e->name = strndup((const char *)name, nlen)))
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    e->size = size32;
    e->packed = packed32;
    e->local = local32;
    e->is_dir = name[nlen - 1] == '/';
    if (zip64_extra(ex, e, size32, packed32, local32) < 0)
        return nl_err(errbuf, NL_EMALFORMED, "%s: entry \"%s\" lacks its ZIP64 sizes (damaged)", z->name, e->name);
    const char *kind = special_kind(made_by, ext);
    if (kind)
        return nl_err(errbuf, NL_EPERM, "%s: entry \"%s\" is %s: refused (zip the file itself)", z->name, e->name, kind);
    if (e->flags & 1)
        return nl_err(errbuf, NL_EPERM, "%s: entry \"%s\" is encrypted: give the archive without a password", z->name,
                      e->name);
    if (e->method != 0 && e->method != 8)
        return nl_err(errbuf, NL_EPERM,
                      "%s: entry \"%s\" uses compression method %u: only stored (0) and deflate (8) are read", z->name,
                      e->name, e->method);
    return 0;
}

/* ---- the checks across entries ---- */

static int check_sizes(const struct nl_zip *z, const struct ent *e, const struct nl_zip_limits *lim, uint64_t *total,
                       char *errbuf)
{
    if (e->method == 0 && e->size != e->packed)
        return nl_err(errbuf, NL_EMALFORMED, "%s: stored entry \"%s\" claims %llu bytes in %llu (damaged)", z->name,
                      e->name, (unsigned long long)e->size, (unsigned long long)e->packed);
    if (e->packed > UINT32_MAX || e->size > lim->max_entry)
        return nl_err(errbuf, NL_ELIMIT, "%s: entry \"%s\" unpacks to %llu bytes, more than the %llu MiB netlab reads",
                      z->name, e->name, (unsigned long long)e->size, (unsigned long long)(lim->max_entry >> 20));
    if (e->size > NL_ZIP_RATIO_FLOOR && e->size / (e->packed ? e->packed : 1) > lim->max_ratio)
        return nl_err(errbuf, NL_ELIMIT,
                      "%s: entry \"%s\" unpacks %llu bytes from %llu, more than %u times its size: a zip bomb", z->name,
                      e->name, (unsigned long long)e->size, (unsigned long long)e->packed, lim->max_ratio);
    *total += e->size;
    if (*total > lim->max_total)
        return nl_err(errbuf, NL_ELIMIT, "%s: its entries unpack to more than the %llu MiB netlab reads", z->name,
                      (unsigned long long)(lim->max_total >> 20));
    return 0;
}

/* Where each entry's data begins, from its local header, within the file and before the directory. */
static int locate_data(const struct nl_zip *z, struct ent *e, uint64_t dir_at, char *errbuf)
{
    if (e->local > dir_at || dir_at - e->local < LOCAL_LEN)
        return nl_err(errbuf, NL_EMALFORMED, "%s: entry \"%s\" points outside the archive (damaged)", z->name, e->name);
    struct nl_cursor c;
    nl_cur_init(&c, z->buf + e->local, (size_t)(dir_at - e->local));
    if (nl_cur_le32(&c) != SIG_LOCAL)
        return nl_err(errbuf, NL_EMALFORMED, "%s: entry \"%s\" has no local header where the directory says (damaged)",
                      z->name, e->name);
    nl_cur_skip(&c, 22);
    uint16_t nlen = nl_cur_le16(&c), xlen = nl_cur_le16(&c);
    e->data = e->local + LOCAL_LEN + nlen + xlen;
    if (c.err || e->data > dir_at || e->packed > dir_at - e->data)
        return nl_err(errbuf, NL_EMALFORMED, "%s: entry \"%s\" runs past the end of its data (damaged or cut short)",
                      z->name, e->name);
    return 0;
}

static int by_local(const void *a, const void *b)
{
    const struct ent *x = *(const struct ent *const *)a, *y = *(const struct ent *const *)b;
    return x->local < y->local ? -1 : x->local > y->local;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const struct ent *const *)a)->name, (*(const struct ent *const *)b)->name);
}

/* Entries sharing bytes (the overlapping zip bomb) or a name are refused. */
static int check_layout(const struct nl_zip *z, char *errbuf)
{
    if (z->n < 2)
        return 0;
    const struct ent **v = malloc(z->n * sizeof *v);
    if (!v)
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    for (size_t i = 0; i < z->n; i++)
        v[i] = &z->e[i];
    int rc = 0;
    qsort(v, z->n, sizeof *v, by_local);
    for (size_t i = 1; i < z->n && rc == 0; i++)
        if (v[i]->local < v[i - 1]->data + v[i - 1]->packed)
            rc = nl_err(errbuf, NL_ELIMIT, "%s: entries \"%s\" and \"%s\" share bytes: an overlapping zip bomb", z->name,
                        v[i - 1]->name, v[i]->name);
    qsort(v, z->n, sizeof *v, by_name);
    for (size_t i = 1; i < z->n && rc == 0; i++)
        if (strcmp(v[i]->name, v[i - 1]->name) == 0)
            rc = nl_err(errbuf, NL_EPERM, "%s: two entries are named \"%s\"", z->name, v[i]->name);
    free(v);
    return rc;
}

static int read_directory(struct nl_zip *z, const struct dir_loc *d, const struct nl_zip_limits *lim, char *errbuf)
{
    if (d->entries > lim->max_entries)
        return nl_err(errbuf, NL_ELIMIT, "%s: %llu entries, more than the %u netlab reads", z->name,
                      (unsigned long long)d->entries, lim->max_entries);
    if (d->entries > d->size / CENTRAL_LEN)
        return nl_err(errbuf, NL_EMALFORMED, "%s: %llu entries cannot fit a %llu-byte central directory (damaged)",
                      z->name, (unsigned long long)d->entries, (unsigned long long)d->size);
    z->e = calloc(d->entries ? d->entries : 1, sizeof *z->e);
    if (!z->e)
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    struct nl_cursor c;
    nl_cur_init(&c, z->buf + d->offset, (size_t)d->size);
    uint64_t total = 0;
    int rc = 0;
    for (size_t i = 0; i < d->entries && rc == 0; i++) {
        z->n = i + 1;
        rc = read_central(z, &c, i, &z->e[i], errbuf);
        if (rc == 0)
            rc = check_sizes(z, &z->e[i], lim, &total, errbuf);
        if (rc == 0)
            rc = locate_data(z, &z->e[i], d->offset, errbuf);
    }
    return rc < 0 ? rc : check_layout(z, errbuf);
}

int nl_zip_open_mem(const void *buf, size_t len, const char *name, const struct nl_zip_limits *lim,
                    struct nl_zip **out, char *errbuf)
{
    *out = NULL;
    struct nl_zip_limits L = {NL_ZIP_MAX_ENTRIES, NL_ZIP_MAX_ENTRY, NL_ZIP_MAX_TOTAL, NL_ZIP_MAX_RATIO};
    if (lim) {
        L.max_entries = lim->max_entries ? lim->max_entries : L.max_entries;
        L.max_entry = lim->max_entry ? lim->max_entry : L.max_entry;
        L.max_total = lim->max_total ? lim->max_total : L.max_total;
        L.max_ratio = lim->max_ratio ? lim->max_ratio : L.max_ratio;
    }
    if (L.max_entry > UINT32_MAX) /* one inflate call per entry */
        L.max_entry = UINT32_MAX;
    struct nl_zip *z = calloc(1, sizeof *z);
    if (!z || !(z->name = strdup(name ? name : "(zip)"))) {
        free(z);
        return nl_err(errbuf, NL_ENOMEM, "out of memory");
    }
    z->buf = buf;
    z->len = len;
    struct dir_loc d = {0, 0, 0};
    int rc = find_end(z, &d, errbuf);
    if (rc == 0)
        rc = read_directory(z, &d, &L, errbuf);
    if (rc < 0) {
        nl_zip_free(z);
        return rc;
    }
    *out = z;
    return 0;
}

size_t nl_zip_count(const struct nl_zip *z) { return z ? z->n : 0; }

int nl_zip_entry(const struct nl_zip *z, size_t i, struct nl_zip_entry *out)
{
    if (!z || i >= z->n)
        return NL_EINVAL;
    const struct ent *e = &z->e[i];
    out->name = e->name;
    out->is_dir = e->is_dir;
    out->size = e->size;
    out->packed = e->packed;
    out->method = e->method;
    return 0;
}

/* ---- reading an entry ---- */

static int inflate_entry(const struct nl_zip *z, struct ent *e, char *errbuf)
{
    uint8_t *dst = malloc(e->size ? (size_t)e->size : 1);
    if (!dst)
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory unpacking \"%s\"", z->name, e->name);
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, -MAX_WBITS) != Z_OK) {
        free(dst);
        return nl_err(errbuf, NL_ENOMEM, "%s: zlib could not start", z->name);
    }
    /* Sizes are bounded well below 4 GiB (check_sizes): one call, never more output than declared. */
    s.next_in = (Bytef *)(uintptr_t)(z->buf + e->data);
    s.avail_in = (uInt)e->packed;
    s.next_out = dst;
    s.avail_out = (uInt)e->size;
    int zr = inflate(&s, Z_FINISH);
    uInt short_by = s.avail_out;
    const char *why = s.msg ? s.msg : "ends early";
    inflateEnd(&s);
    if (zr == Z_STREAM_END && short_by == 0) {
        e->owned = dst;
        return 0;
    }
    free(dst);
    if (zr == Z_STREAM_END)
        return nl_err(errbuf, NL_EMALFORMED, "%s: entry \"%s\" unpacks to %llu bytes, not the %llu it declares (damaged)",
                      z->name, e->name, (unsigned long long)(e->size - short_by), (unsigned long long)e->size);
    if (short_by == 0)
        return nl_err(errbuf, NL_ELIMIT, "%s: entry \"%s\" unpacks past the %llu bytes it declares: a zip bomb", z->name,
                      e->name, (unsigned long long)e->size);
    return nl_err(errbuf, NL_EMALFORMED, "%s: entry \"%s\" is damaged (its deflate data %s)", z->name, e->name,
                  why);
}

int nl_zip_read(struct nl_zip *z, size_t i, const uint8_t **data, size_t *len, char *errbuf)
{
    *data = NULL;
    *len = 0;
    if (!z || i >= z->n)
        return nl_err(errbuf, NL_EINVAL, "no zip entry %zu", i + 1);
    struct ent *e = &z->e[i];
    const uint8_t *p = z->buf + e->data;
    if (e->method == 8 && !e->owned && e->size) {
        int rc = inflate_entry(z, e, errbuf);
        if (rc < 0)
            return rc;
    }
    if (e->method == 8)
        p = e->owned ? e->owned : (const uint8_t *)"";
    uLong crc = e->checked ? e->crc : crc32(crc32(0L, Z_NULL, 0), p, (uInt)e->size);
    if ((uint32_t)crc != e->crc)
        return nl_err(errbuf, NL_EMALFORMED, "%s: entry \"%s\" is damaged (its CRC-32 is %08x, the directory says %08x)",
                      z->name, e->name, (unsigned)crc, (unsigned)e->crc);
    e->checked = 1;
    *data = p;
    *len = (size_t)e->size;
    return 0;
}

void nl_zip_free(struct nl_zip *z)
{
    if (!z)
        return;
    for (size_t i = 0; i < z->n; i++) {
        free(z->e[i].name);
        free(z->e[i].owned);
    }
    free(z->e);
    free(z->name);
    free(z);
}
