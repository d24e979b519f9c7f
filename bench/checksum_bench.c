/*
 * checksum_bench.c - nl_cksum (libnetlab, linked from build/libnetlab.a) side by
 * side with two peers compiled here with the same flags:
 *   plain16  the textbook RFC 1071 loop over big-endian 16-bit words
 *   read64   a plain 64-bit sum over the same buffer: the memory-read limit
 * GB/s for 40, 1500 and 65536 bytes; median of ROUNDS rounds, peers interleaved.
 */
#include <netlab.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 9

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

__attribute__((noinline)) static uint64_t plain16(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    while (n > 1) {
        s += (uint32_t)(p[0] << 8 | p[1]);
        p += 2;
        n -= 2;
    }
    if (n)
        s += (uint32_t)p[0] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

__attribute__((noinline)) static uint64_t read64(const uint8_t *p, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        s += w;
    }
    return s;
}

__attribute__((noinline)) static uint64_t netlab(const uint8_t *p, size_t n) { return nl_cksum(p, n); }

typedef uint64_t (*fn)(const uint8_t *, size_t);

static double gbps(fn f, const uint8_t *buf, size_t n, size_t iters)
{
    volatile uint64_t sink = 0;
    double t0 = now();
    for (size_t i = 0; i < iters; i++) {
        sink += f(buf, n);
        __asm__ volatile("" ::: "memory");
    }
    double dt = now() - t0;
    (void)sink;
    return (double)iters * (double)n / dt / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void)
{
    static const size_t sizes[] = {40, 1500, 65536};
    uint8_t *buf = aligned_alloc(64, 65536 + 64);
    srand(1);
    for (int i = 0; i < 65536 + 64; i++)
        buf[i] = (uint8_t)rand();
    struct { const char *name; fn f; } peers[] = {{"netlab", netlab}, {"plain16", plain16}, {"read64", read64}};
    printf("%-8s %10s %10s %10s   %s\n", "bytes", "netlab", "plain16", "read64", "netlab/plain16  netlab/read64  (GB/s, median of 9)");
    for (size_t s = 0; s < 3; s++) {
        size_t n = sizes[s];
        /* correctness first: the same checksum as the textbook loop */
        if (nl_cksum(buf, n) != plain16(buf, n)) {
            fprintf(stderr, "checksum mismatch at %zu bytes\n", n);
            return 1;
        }
        size_t iters = (size_t)(2e9 / (double)(n + 32));
        double r[3][ROUNDS];
        for (int k = 0; k < ROUNDS; k++)
            for (int p = 0; p < 3; p++)
                r[p][k] = gbps(peers[p].f, buf, n, iters / 8);
        double med[3];
        for (int p = 0; p < 3; p++) {
            qsort(r[p], ROUNDS, sizeof(double), cmp);
            med[p] = r[p][ROUNDS / 2];
        }
        printf("%-8zu %10.2f %10.2f %10.2f   %8.2fx %13.0f%%\n", n, med[0], med[1], med[2], med[0] / med[1],
               100.0 * med[0] / med[2]);
    }
    free(buf);
    return 0;
}
