/*
 * nl_file.c - the one file loader: a whole input file in memory, read-only,
 * mapped when it is a regular file (mmap, read sequentially) and read to the
 * end otherwise (a pipe, a device, or a file mmap refuses). Owns the mapping
 * or the copy until nl_file_release; knows nothing of what the bytes are.
 */
#include "nl_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_all(struct nl_file *f, int fd, const char *path, const char *what, uint64_t max, char *errbuf)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory reading %s", path, what);
    for (;;) {
        if (n == cap) {
            if (max && n >= max) {
                free(buf);
                return nl_err(errbuf, NL_ELIMIT, "%s: more than the %llu MiB netlab reads", path,
                              (unsigned long long)(max >> 20));
            }
            uint8_t *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return nl_err(errbuf, NL_ENOMEM, "%s: out of memory reading %s", path, what);
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            free(buf);
            return nl_err_sys(errbuf, e, "%s: cannot read %s", path, what);
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    f->owned = buf;
    f->data = buf;
    f->size = n;
    return 0;
}

int nl_file_load(struct nl_file *f, const char *path, const char *what, const char *a_file, uint64_t max,
                 char *errbuf)
{
    *f = (struct nl_file){.data = (const uint8_t *)""};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return nl_err_sys(errbuf, errno, "%s: cannot open %s", path, what);
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        int e = errno;
        close(fd);
        return nl_err_sys(errbuf, e, "%s: cannot stat %s", path, what);
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        return nl_err(errbuf, NL_EINVAL, "%s: is a directory, not %s", path, a_file);
    }
    int rc = 0;
    if (S_ISREG(sb.st_mode) && max && (uint64_t)sb.st_size > max) {
        rc = nl_err(errbuf, NL_ELIMIT, "%s: %lld bytes is more than the %llu MiB netlab reads", path,
                    (long long)sb.st_size, (unsigned long long)(max >> 20));
    } else if (S_ISREG(sb.st_mode) && sb.st_size > 0) {
        void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            (void)madvise(m, (size_t)sb.st_size, MADV_SEQUENTIAL);
            f->map = m;
            f->data = m;
            f->size = (size_t)sb.st_size;
        } else {
            rc = read_all(f, fd, path, what, max, errbuf);
        }
    } else if (!S_ISREG(sb.st_mode)) {
        rc = read_all(f, fd, path, what, max, errbuf);
    }
    close(fd);
    return rc;
}

void nl_file_release(struct nl_file *f)
{
    if (f->map)
        munmap(f->map, f->size);
    free(f->owned);
    *f = (struct nl_file){.data = (const uint8_t *)""};
}
