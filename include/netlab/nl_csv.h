/*
 * nl_csv.h - loading the application messages netlab encapsulates: a CSV with
 * columns msg_id, app_protocol, src_app, dst_app, message, timestamp (any order,
 * header row, RFC 4180 quoting, UTF-8, CRLF or LF, optional BOM), parsed by libcsv.
 */
#ifndef NL_CSV_H
#define NL_CSV_H

#include "nl_api.h"
#include "nl_time.h" /* nl_parse_time: the timestamps of the CSV */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest message accepted, in bytes (NL_ELIMIT beyond it). */
#define NL_CSV_MAX_MESSAGE (16u * 1024 * 1024)

struct nl_message {
    const char *id;            /* msg_id, trimmed, unique */
    const char *app_protocol;  /* trimmed; may be "" */
    const char *src_app;       /* trimmed; may be "" */
    const char *dst_app;       /* trimmed; may be "" */
    const uint8_t *data;       /* the message bytes exactly as in the file (NUL-terminated for convenience) */
    size_t len;                /* bytes in data, >= 1 */
    const char *timestamp;     /* as written, trimmed; "" if none */
    int64_t time_ns;           /* nanoseconds since the Unix epoch, when has_time */
    int has_time;
    unsigned line;             /* physical line where the record starts, 1-based */
};

struct nl_messages;  /* opaque: the messages of one file */

/**
 * Load messages from a CSV file. On failure returns NL_ENOTFOUND/NL_ESYS (file),
 * NL_EMALFORMED (CSV or UTF-8), NL_ETRUNC (unterminated quote), NL_EEXIST
 * (duplicate msg_id), NL_ELIMIT, and errbuf reads "FILE:LINE:COL: what; what to do".
 */
NL_API int nl_messages_load(const char *path, struct nl_messages **out, char *errbuf);

/** As nl_messages_load over bytes in memory; name is used in messages. */
NL_API int nl_messages_parse(const void *buf, size_t len, const char *name, struct nl_messages **out, char *errbuf);

NL_API size_t nl_messages_count(const struct nl_messages *ms);
NL_API const struct nl_message *nl_messages_at(const struct nl_messages *ms, size_t i);
/** The file name given at load. */
NL_API const char *nl_messages_name(const struct nl_messages *ms);

/** Non-fatal findings (ignored extra columns, timestamps going backwards). */
NL_API size_t nl_messages_warning_count(const struct nl_messages *ms);
NL_API const char *nl_messages_warning(const struct nl_messages *ms, size_t i);

NL_API void nl_messages_free(struct nl_messages *ms);

#ifdef __cplusplus
}
#endif
#endif
