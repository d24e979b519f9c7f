/*
 * nl_zip.h - reading a zip archive held in memory (PKWARE APPNOTE 6.3.x: the
 * end of central directory record, ZIP64 where counts or offsets need it, the
 * central directory, local headers; stored and deflate entries) without ever
 * writing a byte to disk: each entry is read into memory, bounded. An archive
 * is refused whole, with a reason naming the entry, when any entry is hostile
 * or unsafe to unpack: a name that climbs out of its folder ("..") or is
 * absolute, a name that is not UTF-8, a symbolic link or other special file,
 * encryption, a method other than stored or deflate, more entries or bytes
 * than the limits, an entry whose size is out of proportion to its compressed
 * size (a zip bomb), entries that overlap or repeat a name, or damage.
 */
#ifndef NL_ZIP_H
#define NL_ZIP_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default limits (nl_zip_limits fields of 0 take these). */
#define NL_ZIP_MAX_ENTRIES 10000u
#define NL_ZIP_MAX_ENTRY (256ull << 20)   /* bytes one entry unpacks to */
#define NL_ZIP_MAX_TOTAL (1024ull << 20)  /* bytes all entries unpack to */
#define NL_ZIP_MAX_RATIO 200u             /* unpacked : packed, for entries past NL_ZIP_RATIO_FLOOR */
#define NL_ZIP_RATIO_FLOOR (1ull << 20)
#define NL_ZIP_MAX_NAME 1024u             /* bytes of an entry's name */

struct nl_zip_limits {
    uint32_t max_entries;
    uint64_t max_entry, max_total;
    uint32_t max_ratio;
};

struct nl_zip; /* opaque */

struct nl_zip_entry {
    const char *name;   /* UTF-8, '/' between folders, relative, never ".." (a folder ends in '/') */
    int is_dir;
    uint64_t size;      /* bytes it unpacks to */
    uint64_t packed;    /* bytes it takes in the archive */
    int method;         /* 0 stored, 8 deflate */
};

/**
 * Read the directory of the archive in buf[0..len) (which must outlive the
 * handle) and check every entry. name is used in errors. lim may be NULL.
 * Returns 0, NL_EMALFORMED or NL_ETRUNC (not a zip, or damaged), NL_ELIMIT
 * (too many entries or bytes, a zip bomb), NL_EPERM (a hostile or unsafe
 * entry: its reason in errbuf), NL_ENOMEM.
 */
NL_API int nl_zip_open_mem(const void *buf, size_t len, const char *name, const struct nl_zip_limits *lim,
                           struct nl_zip **out, char *errbuf);

NL_API size_t nl_zip_count(const struct nl_zip *z);
/** Entry i (0-based, in the central directory's order). Returns 0 or NL_EINVAL. */
NL_API int nl_zip_entry(const struct nl_zip *z, size_t i, struct nl_zip_entry *out);

/**
 * The bytes of entry i: a stored entry points into buf, a deflated one is
 * unpacked once into memory the handle owns. Never more than the entry's
 * declared size is unpacked; a CRC-32 that differs, or data that ends early or
 * runs past its size, is NL_EMALFORMED. Returns 0 or a negative code.
 */
NL_API int nl_zip_read(struct nl_zip *z, size_t i, const uint8_t **data, size_t *len, char *errbuf);

NL_API void nl_zip_free(struct nl_zip *z);

#ifdef __cplusplus
}
#endif
#endif
