/*
 * nl_internal.h - helpers shared by libnetlab's C files; not installed.
 * Owns the errbuf formatting helpers. Nothing here prints or exits.
 */
#ifndef NL_INTERNAL_H
#define NL_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "netlab/nl_error.h"

#if defined(__GNUC__)
#define NL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NL_PRINTF(a, b)
#endif

/* Fill errbuf (may be NULL) and return code. */
int nl_err(char *errbuf, int code, const char *fmt, ...) NL_PRINTF(3, 4);
/* As nl_err, appending ": strerror(errnum)". */
int nl_err_sys(char *errbuf, int errnum, const char *fmt, ...) NL_PRINTF(3, 4);

/* nl_build.c: name the first differing field of two IPv4/TCP packets of the
 * same layout (headers only, len bytes, IPv4 header ihl bytes). 0 if equal. */
int nl_pkt_diff(const uint8_t *a, const uint8_t *b, size_t len, size_t ihl, const char *name_a, const char *name_b,
                char *errbuf);

/* nl_grow.c: make room in *arr (n items used, *cap allocated, elem bytes each) for one more,
 * doubling from first (nl_grow: from 16). 0, or NL_ENOMEM with *arr and *cap unchanged.
 * NL_GROW(ptr, n, cap, first) for a typed pointer and a size_t capacity. */
int nl_grow_n(void **arr, size_t n, size_t *cap, size_t elem, size_t first);
int nl_grow(void **arr, size_t n, size_t *cap, size_t elem);
#define NL_GROW(ptr, n, cap, first) nl_grow_n((void **)&(ptr), (n), &(cap), sizeof *(ptr), (first))

/* nl_write.c: write all of buf[0..n) to fd (short writes continued, EINTR retried).
 * 0, or the errno of the failure (EIO when write wrote nothing); errno itself is not kept. */
int nl_write_all(int fd, const void *buf, size_t n);

/* nl_file.c: a whole file in memory (mapped, or read when it cannot be mapped). what names it in
 * errors ("the capture"), a_file in the directory error ("a capture file"); max > 0 refuses larger
 * files with NL_ELIMIT. An empty file gives size 0 and data "" (never NULL). Release with
 * nl_file_release, which may be called on a released or failed nl_file. */
struct nl_file {
    const uint8_t *data;
    size_t size;
    void *map;       /* the mapping (size bytes), or NULL */
    uint8_t *owned;  /* the copy read from a pipe or an unmappable file, or NULL */
};
int nl_file_load(struct nl_file *f, const char *path, const char *what, const char *a_file, uint64_t max,
                 char *errbuf);
void nl_file_release(struct nl_file *f);

/* Word-at-a-time scans (nl_text.c, nl_chatcmd.c): eight bytes of p, unaligned; a byte value in each of
 * a word's eight bytes; the high bit of each. */
static inline uint64_t nl_load64(const uint8_t *p)
{
    uint64_t x;
    __builtin_memcpy(&x, p, sizeof x);
    return x;
}
#define NL_BYTES(b) (0x0101010101010101ull * (uint8_t)(b))
#define NL_HIGH_BITS NL_BYTES(0x80)

#define NL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define NL_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
