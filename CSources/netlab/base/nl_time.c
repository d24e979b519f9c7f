/*
 * nl_time.c - overflow-free arithmetic and ISO 8601 formatting of int64
 * nanosecond timestamps (see nl_time.h). Pure functions: no state, no I/O.
 */
#include "netlab/nl_time.h"
#include "netlab/nl_error.h"

#include <stdio.h>
#include <time.h>

int64_t nl_time_sub(int64_t a, int64_t b)
{
    int64_t r;
    if (!__builtin_sub_overflow(a, b, &r))
        return r;
    return b < 0 ? INT64_MAX : INT64_MIN;
}

double nl_time_span_s(int64_t first, int64_t last)
{
    __int128 d = (__int128)last - (__int128)first;
    /* Whole seconds and the remainder apart, so the double keeps the nanoseconds of short spans. */
    return (double)(int64_t)(d / 1000000000) + (double)(int64_t)(d % 1000000000) / 1e9;
}

int nl_time_iso8601(int64_t ns, int nano, char *buf, size_t size)
{
    /* Floor division: -1 ns is 1969-12-31T23:59:59.999999999Z. Neither step can overflow. */
    int64_t secs = ns / 1000000000;
    int64_t frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        secs -= 1;
    }
    /* Civil date from days since the epoch (Howard Hinnant's days_from_civil inverse), so
     * no gmtime limit or time_t width matters. */
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y += 1;
    int n = nano ? snprintf(buf, size, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09lldZ", (long long)y, (long long)m,
                            (long long)d, (long long)(rem / 3600), (long long)(rem / 60 % 60), (long long)(rem % 60),
                            (long long)frac)
                 : snprintf(buf, size, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ", (long long)y,
                            (long long)m, (long long)d, (long long)(rem / 3600), (long long)(rem / 60 % 60),
                            (long long)(rem % 60), (long long)(frac / 1000));
    if (n < 0 || (size_t)n >= size)
        return NL_EINVAL;
    return n;
}
