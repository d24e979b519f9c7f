/*
 * nl_time.c - overflow-free arithmetic, ISO 8601 formatting and parsing of
 * int64 nanosecond timestamps (nl_parse_time: Unix seconds, ISO 8601 or a time of
 * day, as the message CSV writes them; see nl_time.h). Pure functions: no state, no I/O.
 */
#include "netlab/nl_time.h"
#include "netlab/nl_error.h"

#include <stdio.h>
#include <string.h>
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
    /* Within int64 nanoseconds: one division (exact nanoseconds up to 2^53 ns, 104 days,
     * correctly rounded: 6500410000 ns is 6.50041 s, not 6.5004100000000005). */
    if (d >= INT64_MIN && d <= INT64_MAX)
        return (double)(int64_t)d / 1e9;
    /* Beyond: whole seconds and the remainder apart, so the double keeps the nanoseconds of short spans. */
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

/* ------------------------------------------------------------- parsing */

static int parse_uint(const char **p, int digits, int *out)
{
    int v = 0;
    for (int i = 0; i < digits; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += digits;
    *out = v;
    return 0;
}

/* pcap records seconds in 32 unsigned bits: times must fall in 1970-2106. */
#define PCAP_MAX_SECONDS 4294967295LL

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int parse_frac(const char **p, int64_t *ns)
{
    *ns = 0;
    if (**p != '.' && **p != ',')
        return 0;
    (*p)++;
    int64_t scale = 100000000;
    int digits = 0;
    while (**p >= '0' && **p <= '9') {
        if (scale) {
            *ns += (**p - '0') * scale;
            scale /= 10;
        }
        (*p)++;
        digits++;
    }
    return digits ? 0 : -1;
}

int nl_parse_time(const char *text, int64_t *ns_out)
{
    const char *p = text;
    int y, mo, d, h, mi, s;
    int64_t frac;
    size_t n = strlen(text);
    /* Unix seconds with optional fraction */
    if (n && strspn(text, "0123456789.") == n) {
        int64_t sec = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (++digits > 12)
                return NL_EINVAL;
            sec = sec * 10 + (*p++ - '0');
        }
        if (!digits || parse_frac(&p, &frac) < 0 || *p || sec > PCAP_MAX_SECONDS)
            return NL_EINVAL;
        *ns_out = sec * 1000000000 + frac;
        return 0;
    }
    int64_t days = 0;
    if (n >= 10 && text[4] == '-') {
        if (parse_uint(&p, 4, &y) || *p++ != '-' || parse_uint(&p, 2, &mo) || *p++ != '-' || parse_uint(&p, 2, &d))
            return NL_EINVAL;
        static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        if (y < 1969 || y > 2106 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
            return NL_EINVAL;
        if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
            return NL_EINVAL;
        days = days_from_civil(y, (unsigned)mo, (unsigned)d);
        if (*p == 0) {
            if (days < 0 || days * 86400 > PCAP_MAX_SECONDS)
                return NL_EINVAL;
            *ns_out = days * 86400 * 1000000000;
            return 0;
        }
        if (*p != 'T' && *p != 't' && *p != ' ')
            return NL_EINVAL;
        p++;
    }
    if (parse_uint(&p, 2, &h) || *p++ != ':' || parse_uint(&p, 2, &mi) || *p++ != ':' || parse_uint(&p, 2, &s))
        return NL_EINVAL;
    if (h > 23 || mi > 59 || s > 60)
        return NL_EINVAL;
    if (parse_frac(&p, &frac) < 0)
        return NL_EINVAL;
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (parse_uint(&p, 2, &oh))
            return NL_EINVAL;
        if (*p == ':')
            p++;
        if (*p && parse_uint(&p, 2, &om))
            return NL_EINVAL;
        if (oh > 23 || om > 59)
            return NL_EINVAL;
        offset = sign * (oh * 3600 + om * 60);
    }
    if (*p)
        return NL_EINVAL;
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - offset;
    if (secs < 0 || secs > PCAP_MAX_SECONDS)
        return NL_EINVAL;
    *ns_out = secs * 1000000000 + frac;
    return 0;
}
