/* The Internet checksum (RFC 1071) for the bench's capture generators (gen_capture.c, gen_tiny.c),
 * written apart from libnetlab's so the captures check analyze rather than agree with it:
 * sum16 adds 16-bit big-endian words (an odd last byte padded with zero) to s; fold ends the sum. */
#ifndef BENCH_RFC1071_H
#define BENCH_RFC1071_H
#include <stddef.h>
#include <stdint.h>

static inline uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static inline uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}
#endif
