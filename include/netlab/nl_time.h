/*
 * nl_time.h - arithmetic and formatting of int64 nanosecond timestamps that
 * never overflow: a capture may hold any time from INT64_MIN to INT64_MAX ns
 * (pcapng if_tsoffset reaches past both), so differences saturate or are
 * taken in 128 bits, and formatting handles every value.
 */
#ifndef NL_TIME_H
#define NL_TIME_H

#include "nl_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** a - b in nanoseconds, saturated to [INT64_MIN, INT64_MAX]. */
NL_API int64_t nl_time_sub(int64_t a, int64_t b);

/** (last - first) in seconds, exact to a double's precision for every pair. */
NL_API double nl_time_span_s(int64_t first, int64_t last);

/**
 * ns since the Unix epoch as ISO 8601 UTC, "2025-03-01T10:00:00.000300Z"
 * (nine fraction digits when nano, else six). Every int64 value formats
 * (years about 1677-2262). Returns the length written (buf holds at least 40
 * bytes to be safe), or NL_EINVAL when buf is too small.
 */
NL_API int nl_time_iso8601(int64_t ns, int nano, char *buf, size_t size);

/**
 * Parse a timestamp: Unix seconds with optional fraction ("1700000000.25"), or
 * ISO 8601 "YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|+HH:MM|-HH:MM]" (no zone means UTC),
 * or "HH:MM:SS[.frac]" (taken on 1970-01-01 UTC). Times must lie within what a
 * pcap records (1970-01-01 to 2106-02-07 UTC). Returns 0 or NL_EINVAL.
 */
NL_API int nl_parse_time(const char *text, int64_t *ns_out);

#ifdef __cplusplus
}
#endif
#endif
