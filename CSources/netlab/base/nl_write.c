/*
 * nl_write.c - the one write-all loop: a whole buffer to a descriptor, short
 * writes continued and EINTR retried. For descriptors where waiting is fine
 * (files, a terminal); a server's sockets go through nl_conn's output buffers.
 */
#include "nl_internal.h"

#include <errno.h>
#include <unistd.h>

int nl_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
