/*
 * nl_outfile.h - opening an output path the way the user means it. A regular
 * file (or a name that does not exist yet) is written all-or-nothing: to an
 * unnamed O_TMPFILE linked in by nl_outfile_commit (a temporary name renamed
 * into place where the filesystem lacks O_TMPFILE). A character device, FIFO,
 * socket-less special file, or "-" (standard output, as tcpdump -w -) is
 * written in place, streaming: it is never replaced, truncated or unlinked.
 */
#ifndef NL_OUTFILE_H
#define NL_OUTFILE_H

#include "nl_api.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nl_outfile; /* opaque */

/* How an nl_outfile writes (nl_outfile_kind). */
enum nl_outfile_kind {
    NL_OUTFILE_TMPFILE = 1, /* regular file: unnamed O_TMPFILE, linked on commit */
    NL_OUTFILE_RENAME = 2,  /* regular file: hidden ".NAME.tmp-XXXXXX", renamed on commit */
    NL_OUTFILE_STREAM = 3,  /* device or FIFO: opened in place, never replaced */
    NL_OUTFILE_STDOUT = 4   /* "-": a duplicate of standard output */
};

/* nl_outfile_open flags. */
#define NL_OUTFILE_NO_TMPFILE 1 /* use the temporary-name fallback even where O_TMPFILE works */

/**
 * Open path for writing (see the header comment). Opening a FIFO blocks
 * until a reader opens it, as with tcpdump -w. A directory is refused with
 * NL_EINVAL; a missing directory gives NL_ENOTFOUND, no permission NL_EPERM.
 */
NL_API int nl_outfile_open(struct nl_outfile **out, const char *path, int flags, char *errbuf);

/** The descriptor to write to (owned by o: dup() it to wrap it in a FILE). */
NL_API int nl_outfile_fd(const struct nl_outfile *o);

/** enum nl_outfile_kind of o. */
NL_API int nl_outfile_kind(const struct nl_outfile *o);

/** 1 when o streams in place (device, FIFO, standard output). */
NL_API int nl_outfile_is_stream(const struct nl_outfile *o);

/** Path as given, or "standard output" for "-". */
NL_API const char *nl_outfile_name(const struct nl_outfile *o);

/** Write all of data (retrying short writes and EINTR). */
NL_API int nl_outfile_write(struct nl_outfile *o, const void *data, size_t len, char *errbuf);

/**
 * Make the file visible under its name (link or rename; nothing for a
 * stream) and close it. Frees o whatever the outcome.
 */
NL_API int nl_outfile_commit(struct nl_outfile *o, char *errbuf);

/** Drop what was written to a regular file (nothing appears) and free o. NULL allowed. */
NL_API void nl_outfile_abort(struct nl_outfile *o);

/** Open, write len bytes and commit: a whole small file in one call. */
NL_API int nl_outfile_write_all(const char *path, const void *data, size_t len, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
