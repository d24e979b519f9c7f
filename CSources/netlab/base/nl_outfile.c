/*
 * nl_outfile.c - output paths: a regular file appears whole or not at all
 * (O_TMPFILE + linkat, else temporary name + rename); devices, FIFOs and "-"
 * are written in place and never replaced. Knows no file format: callers
 * write bytes to the descriptor.
 */
#include "netlab/nl_outfile.h"
#include "netlab/nl_error.h"
#include "nl_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct nl_outfile {
    int fd;
    int kind;
    char *path;
    char *dir;  /* directory of path, for O_TMPFILE ("." when none) */
    char *tmp;  /* NL_OUTFILE_RENAME: the temporary name */
};

static void outfile_free(struct nl_outfile *o)
{
    if (o->fd >= 0)
        close(o->fd);
    free(o->path);
    free(o->dir);
    free(o->tmp);
    free(o);
}

/* ".NAME.tmp-XXXXXX" beside path. */
static char *temp_template(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t tl = strlen(path) + 32;
    char *t = malloc(tl);
    if (t)
        snprintf(t, tl, "%.*s.%s.tmp-XXXXXX", (int)dirlen, path, path + dirlen);
    return t;
}

static int open_rename(struct nl_outfile *o, char *errbuf)
{
    o->tmp = temp_template(o->path);
    if (!o->tmp)
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory", o->path);
    int fd = mkostemp(o->tmp, O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        free(o->tmp);
        o->tmp = NULL;
        return nl_err_sys(errbuf, e, "%s: cannot create the file%s", o->path,
                          e == ENOENT ? " (does the directory exist?)" : "");
    }
    mode_t um = umask(0);
    umask(um);
    (void)fchmod(fd, 0666 & ~um);
    o->fd = fd;
    o->kind = NL_OUTFILE_RENAME;
    return 0;
}

int nl_outfile_open(struct nl_outfile **out, const char *path, int flags, char *errbuf)
{
    *out = NULL;
    if (!path || !*path)
        return nl_err(errbuf, NL_EINVAL, "output file: no path given");
    struct nl_outfile *o = calloc(1, sizeof *o);
    if (!o)
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory", path);
    o->fd = -1;
    o->path = strdup(path);
    if (!o->path) {
        outfile_free(o);
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory", path);
    }
    int rc = 0;
    struct stat sb;
    if (strcmp(path, "-") == 0) {
        o->kind = NL_OUTFILE_STDOUT;
        o->fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        if (o->fd < 0)
            rc = nl_err_sys(errbuf, errno, "standard output");
    } else if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        rc = nl_err(errbuf, NL_EINVAL, "%s: is a directory; give a file name such as %s/out.pcap", path, path);
    } else if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        /* Device, FIFO: write in place. No O_CREAT, no O_TRUNC: never replace it. */
        o->kind = NL_OUTFILE_STREAM;
        o->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (o->fd < 0)
            rc = nl_err_sys(errbuf, errno, "%s: cannot open for writing", path);
    } else {
        const char *slash = strrchr(path, '/');
        o->dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
        if (!o->dir) {
            outfile_free(o);
            return nl_err(errbuf, NL_ENOMEM, "%s: out of memory", path);
        }
        int fd = -1;
#ifdef O_TMPFILE
        if (!(flags & NL_OUTFILE_NO_TMPFILE)) {
            fd = open(o->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
            if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
                int e = errno;
                rc = nl_err_sys(errbuf, e, "%s: cannot create the file%s", path,
                                e == ENOENT ? " (does the directory exist?)" : "");
            }
        }
#endif
        if (fd >= 0) {
            o->fd = fd;
            o->kind = NL_OUTFILE_TMPFILE;
        } else if (rc == 0) {
            rc = open_rename(o, errbuf);
        }
    }
    if (rc < 0) {
        outfile_free(o);
        return rc;
    }
    *out = o;
    return 0;
}

int nl_outfile_fd(const struct nl_outfile *o) { return o ? o->fd : -1; }
int nl_outfile_kind(const struct nl_outfile *o) { return o ? o->kind : 0; }
int nl_outfile_is_stream(const struct nl_outfile *o)
{
    return o && (o->kind == NL_OUTFILE_STREAM || o->kind == NL_OUTFILE_STDOUT);
}
const char *nl_outfile_name(const struct nl_outfile *o)
{
    return !o ? "" : o->kind == NL_OUTFILE_STDOUT ? "standard output" : o->path;
}

int nl_outfile_write(struct nl_outfile *o, const void *data, size_t len, char *errbuf)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(o->fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return nl_err_sys(errbuf, errno, "%s: write failed", nl_outfile_name(o));
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Give the unnamed file a name: straight to path when it is free, else to a
 * fresh temporary name renamed over path (rename replaces atomically). */
static int link_tmpfile(struct nl_outfile *o, char *errbuf)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", o->fd);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, o->path, AT_SYMLINK_FOLLOW) == 0)
        return 0;
    if (errno == ENOENT && access("/proc/self/fd", X_OK) != 0 &&
        linkat(o->fd, "", AT_FDCWD, o->path, AT_EMPTY_PATH) == 0)
        return 0;
    if (errno != EEXIST)
        return nl_err_sys(errbuf, errno, "%s: cannot link the finished file into place", o->path);
    char *t = temp_template(o->path);
    if (!t)
        return nl_err(errbuf, NL_ENOMEM, "%s: out of memory", o->path);
    size_t tl = strlen(t);
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned long r = (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16);
    for (int attempt = 0; attempt < 100; attempt++) {
        for (size_t i = tl - 6; i < tl; i++) {
            r = r * 6364136223846793005UL + 1442695040888963407UL;
            t[i] = digits[(r >> 33) % 36];
        }
        if (linkat(AT_FDCWD, proc, AT_FDCWD, t, AT_SYMLINK_FOLLOW) == 0) {
            if (rename(t, o->path) == 0) {
                free(t);
                return 0;
            }
            int e = errno;
            unlink(t);
            free(t);
            return nl_err_sys(errbuf, e, "%s: cannot rename the finished file into place", o->path);
        }
        if (errno != EEXIST)
            break;
    }
    int e = errno;
    free(t);
    return nl_err_sys(errbuf, e, "%s: cannot link the finished file into place", o->path);
}

int nl_outfile_commit(struct nl_outfile *o, char *errbuf)
{
    int rc = 0;
    /* No fsync: link and rename make the file appear whole or not at all to
     * every reader, whatever happens to this process afterwards. */
    switch (o->kind) {
    case NL_OUTFILE_TMPFILE:
        rc = link_tmpfile(o, errbuf);
        break;
    case NL_OUTFILE_RENAME: {
        int fd = o->fd;
        o->fd = -1;
        if (close(fd) != 0) {
            rc = nl_err_sys(errbuf, errno, "%s: close failed", o->path);
            unlink(o->tmp);
        } else if (rename(o->tmp, o->path) != 0) {
            rc = nl_err_sys(errbuf, errno, "%s: cannot rename the finished file into place", o->path);
            unlink(o->tmp);
        }
        break;
    }
    default:
        break;
    }
    if (o->fd >= 0) {
        int fd = o->fd;
        o->fd = -1;
        if (close(fd) != 0 && rc == 0 && errno != EINTR)
            rc = nl_err_sys(errbuf, errno, "%s: close failed", nl_outfile_name(o));
    }
    outfile_free(o);
    return rc;
}

void nl_outfile_abort(struct nl_outfile *o)
{
    if (!o)
        return;
    if (o->kind == NL_OUTFILE_RENAME && o->tmp)
        unlink(o->tmp);
    outfile_free(o); /* an O_TMPFILE vanishes with its descriptor */
}

int nl_outfile_write_all(const char *path, const void *data, size_t len, char *errbuf)
{
    struct nl_outfile *o;
    int rc = nl_outfile_open(&o, path, 0, errbuf);
    if (rc < 0)
        return rc;
    rc = nl_outfile_write(o, data, len, errbuf);
    if (rc < 0) {
        nl_outfile_abort(o);
        return rc;
    }
    return nl_outfile_commit(o, errbuf);
}
