/*
 * nl_checksum.c - the Internet checksum engine: RFC 1071 sum (SSE2 on x86-64,
 * portable 32-bit-word accumulation elsewhere), RFC 1624 updates, pseudo-headers,
 * and the traced computation used by explanations. Pure computation: no I/O.
 */
#include "netlab/nl_checksum.h"
#include "nl_internal.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define NL_NATIVE_BE 1
#else
#define NL_NATIVE_BE 0
#endif

/* End-around-carry fold of 64 bits to 16: add the halves, then the carry out. */
static inline uint16_t fold64(uint64_t s)
{
    uint32_t lo = (uint32_t)s, hi = (uint32_t)(s >> 32);
    lo += hi;
    lo += lo < hi;
    uint16_t l = (uint16_t)lo, h = (uint16_t)(lo >> 16);
    l = (uint16_t)(l + h);
    l = (uint16_t)(l + (l < h));
    return l;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NL_HAVE_AVX2_PATH 1
/*
 * The same kernel as the SSE2 one below with 256-bit registers: 128 bytes per
 * step, then 32-byte steps for the rest. Chosen at run time on CPUs that have
 * AVX2, whatever the build flags. The four accumulators' 32-bit lanes take at most
 * 2 * 4099 * 0xffff each per round, so their sum still fits a lane and is widened
 * to 64 bits once per round, in registers. Returns the sum of the first *done bytes
 * (a multiple of 32).
 */
__attribute__((target("avx2"))) static uint64_t sum_avx2(const uint8_t *p, size_t n, size_t *done)
{
    uint64_t total = 0;
    const __m256i mask = _mm256_set1_epi32(0xffff);
    const uint8_t *start = p;
    while (n >= 32) {
        size_t steps = n / 128;
        if (steps > 4096)
            steps = 4096;
        __m256i hi0 = _mm256_setzero_si256(), hi1 = _mm256_setzero_si256();
        __m256i lo0 = _mm256_setzero_si256(), lo1 = _mm256_setzero_si256();
        for (size_t k = 0; k < steps; k++) {
            __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
            __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
            __m256i v2 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 64));
            __m256i v3 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 96));
            hi0 = _mm256_add_epi32(hi0, _mm256_srli_epi32(v0, 16));
            lo0 = _mm256_add_epi32(lo0, _mm256_and_si256(v0, mask));
            hi1 = _mm256_add_epi32(hi1, _mm256_srli_epi32(v1, 16));
            lo1 = _mm256_add_epi32(lo1, _mm256_and_si256(v1, mask));
            hi0 = _mm256_add_epi32(hi0, _mm256_srli_epi32(v2, 16));
            lo0 = _mm256_add_epi32(lo0, _mm256_and_si256(v2, mask));
            hi1 = _mm256_add_epi32(hi1, _mm256_srli_epi32(v3, 16));
            lo1 = _mm256_add_epi32(lo1, _mm256_and_si256(v3, mask));
            p += 128;
            n -= 128;
        }
        while (n >= 32 && n < 128) { /* the last round: up to three 32-byte steps */
            __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
            hi0 = _mm256_add_epi32(hi0, _mm256_srli_epi32(v0, 16));
            lo0 = _mm256_add_epi32(lo0, _mm256_and_si256(v0, mask));
            p += 32;
            n -= 32;
        }
        __m256i v = _mm256_add_epi32(_mm256_add_epi32(hi0, hi1), _mm256_add_epi32(lo0, lo1));
        __m256i w = _mm256_add_epi64(_mm256_cvtepu32_epi64(_mm256_castsi256_si128(v)),
                                     _mm256_cvtepu32_epi64(_mm256_extracti128_si256(v, 1)));
        __m128i u = _mm_add_epi64(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
        total += (uint64_t)_mm_cvtsi128_si64(u) + (uint64_t)_mm_extract_epi64(u, 1);
    }
    *done = (size_t)(p - start);
    return total;
}

static int have_avx2(void)
{
    return __builtin_cpu_supports("avx2"); /* a read of libgcc's CPU model, set up before main */
}
#endif

/*
 * Sum of the buffer as native-order 16-bit words, unfolded. Because 2^16 = 1
 * (mod 2^16 - 1), adding 32-bit words and folding later gives the same
 * one's complement sum (RFC 1071 2(C), "parallel summation").
 */
static uint64_t sum_native(const uint8_t *p, size_t n)
{
    uint64_t total = 0;
#if defined(NL_HAVE_AVX2_PATH)
    if (n >= 32 && have_avx2()) {
        size_t done;
        total = sum_avx2(p, n, &done);
        p += done;
        n -= done;
    }
#endif
#if defined(__SSE2__)
    /*
     * 64 bytes per step: each 32-bit lane collects its high and low 16-bit
     * halves in separate accumulators, so lanes cannot overflow for up to
     * 32767 steps; we drain every 4096 steps.
     */
    const __m128i mask = _mm_set1_epi32(0xffff);
    while (n >= 64) {
        size_t steps = n / 64;
        if (steps > 4096)
            steps = 4096;
        __m128i hi0 = _mm_setzero_si128(), hi1 = _mm_setzero_si128();
        __m128i lo0 = _mm_setzero_si128(), lo1 = _mm_setzero_si128();
        for (size_t k = 0; k < steps; k++) {
            __m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
            __m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
            __m128i v3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
            hi0 = _mm_add_epi32(hi0, _mm_srli_epi32(v0, 16));
            lo0 = _mm_add_epi32(lo0, _mm_and_si128(v0, mask));
            hi1 = _mm_add_epi32(hi1, _mm_srli_epi32(v1, 16));
            lo1 = _mm_add_epi32(lo1, _mm_and_si128(v1, mask));
            hi0 = _mm_add_epi32(hi0, _mm_srli_epi32(v2, 16));
            lo0 = _mm_add_epi32(lo0, _mm_and_si128(v2, mask));
            hi1 = _mm_add_epi32(hi1, _mm_srli_epi32(v3, 16));
            lo1 = _mm_add_epi32(lo1, _mm_and_si128(v3, mask));
            p += 64;
            n -= 64;
        }
        uint32_t a[4], b[4], c[4], d[4];
        _mm_storeu_si128((__m128i *)(void *)a, hi0);
        _mm_storeu_si128((__m128i *)(void *)b, hi1);
        _mm_storeu_si128((__m128i *)(void *)c, lo0);
        _mm_storeu_si128((__m128i *)(void *)d, lo1);
        for (int i = 0; i < 4; i++)
            total += (uint64_t)a[i] + b[i] + c[i] + d[i];
    }
#endif
    /* Portable path: 64-bit loads split into 32-bit halves, two accumulators. */
    uint64_t s0 = 0, s1 = 0;
    while (n >= 16) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        s0 += (a & 0xffffffffu) + (a >> 32);
        s1 += (b & 0xffffffffu) + (b >> 32);
        p += 16;
        n -= 16;
    }
    total += s0 + s1;
    if (n >= 8) {
        uint64_t a;
        memcpy(&a, p, 8);
        total += (a & 0xffffffffu) + (a >> 32);
        p += 8;
        n -= 8;
    }
    if (n >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        total += w;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        total += w;
        p += 2;
        n -= 2;
    }
    if (n) /* odd final byte, zero-padded on the right (network order) */
        total += NL_NATIVE_BE ? (uint64_t)p[0] << 8 : (uint64_t)p[0];
    return total;
}

static inline uint16_t native_to_be_word(uint16_t v)
{
#if NL_NATIVE_BE
    return v;
#else
    return (uint16_t)((v >> 8) | (v << 8));
#endif
}

uint64_t nl_cksum_add(uint64_t sum, const void *data, size_t len)
{
    if (len == 0)
        return sum;
    return sum + native_to_be_word(fold64(sum_native((const uint8_t *)data, len)));
}

uint16_t nl_cksum_fold(uint64_t sum) { return fold64(sum); }

uint16_t nl_cksum_finish(uint64_t sum) { return (uint16_t)~fold64(sum); }

uint16_t nl_cksum(const void *data, size_t len) { return nl_cksum_finish(nl_cksum_add(0, data, len)); }

uint16_t nl_cksum_update16(uint16_t cksum, uint16_t old_field, uint16_t new_field)
{
    /* RFC 1624 eqn. 3; unlike eqn. 2 it never yields 0x0000 from 0xffff sums. */
    uint32_t s = (uint16_t)~cksum;
    s += (uint16_t)~old_field;
    s += new_field;
    return (uint16_t)~fold64(s);
}

uint16_t nl_cksum_update32(uint16_t cksum, uint32_t old_field, uint32_t new_field)
{
    uint32_t s = (uint16_t)~cksum;
    s += (uint16_t)~(old_field >> 16);
    s += (uint16_t)~(old_field & 0xffff);
    s += new_field >> 16;
    s += new_field & 0xffff;
    return (uint16_t)~fold64(s);
}

uint64_t nl_cksum_pseudo4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, uint16_t length)
{
    uint64_t s = 0;
    s += (uint32_t)(src[0] << 8 | src[1]) + (uint32_t)(src[2] << 8 | src[3]);
    s += (uint32_t)(dst[0] << 8 | dst[1]) + (uint32_t)(dst[2] << 8 | dst[3]);
    s += proto; /* zero byte, then the protocol */
    s += length;
    return s;
}

uint64_t nl_cksum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header, uint32_t length)
{
    uint64_t s = 0;
    for (int i = 0; i < 16; i += 2) {
        s += (uint32_t)(src[i] << 8 | src[i + 1]);
        s += (uint32_t)(dst[i] << 8 | dst[i + 1]);
    }
    s += length >> 16;
    s += length & 0xffff;
    s += next_header;
    return s;
}

static uint16_t l4_sum(uint64_t s, const uint8_t *seg, size_t seg_len, size_t off)
{
    /* The field itself counts as zero: sum the bytes on either side. Both parts
     * start at even offsets because off is even. */
    s = nl_cksum_add(s, seg, off);
    if (seg_len > off + 2)
        s = nl_cksum_add(s, seg + off + 2, seg_len - off - 2);
    return nl_cksum_finish(s);
}

uint16_t nl_cksum_l4_ipv4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
                          const uint8_t *seg, size_t seg_len, size_t cksum_offset)
{
    return l4_sum(nl_cksum_pseudo4(src, dst, proto, (uint16_t)seg_len), seg, seg_len, cksum_offset);
}

uint16_t nl_cksum_l4_ipv6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
                          const uint8_t *seg, size_t seg_len, size_t cksum_offset)
{
    return l4_sum(nl_cksum_pseudo6(src, dst, next_header, (uint32_t)seg_len), seg, seg_len, cksum_offset);
}

/* ---- traced computation: a deliberately plain word loop ---- */

static void trace_part(struct nl_cksum_trace *t, uint8_t part, const uint8_t *p, size_t n, long field)
{
    for (size_t i = 0; i < n; i += 2) {
        struct nl_cksum_word *w = &t->words[t->nwords++];
        uint16_t v = (uint16_t)(p[i] << 8);
        w->padded = 0;
        if (i + 1 < n)
            v |= p[i + 1];
        else
            w->padded = 1;
        if (field >= 0 && (long)i == field) {
            t->in_packet = v;
            v = 0;
        }
        w->value = v;
        w->part = part;
        w->offset = (uint32_t)i;
        t->sum += v;
    }
}

int nl_cksum_trace(struct nl_cksum_trace *t, const uint8_t *pseudo, size_t pseudo_len,
                   const uint8_t *hdr, size_t hdr_len, size_t cksum_offset,
                   const uint8_t *data, size_t data_len, char *errbuf)
{
    memset(t, 0, sizeof *t);
    if (cksum_offset + 2 > hdr_len || (cksum_offset & 1) || (pseudo_len & 1) || (hdr_len & 1))
        return nl_err(errbuf, NL_EINVAL, "checksum trace: field at %zu outside %zu-byte header", cksum_offset, hdr_len);
    if (pseudo_len + hdr_len + data_len > 0x20000)
        return nl_err(errbuf, NL_ELIMIT, "checksum trace: %zu bytes is more than one packet", pseudo_len + hdr_len + data_len);
    size_t nw = (pseudo_len + 1) / 2 + (hdr_len + 1) / 2 + (data_len + 1) / 2;
    t->words = calloc(nw ? nw : 1, sizeof *t->words);
    if (!t->words)
        return nl_err(errbuf, NL_ENOMEM, "checksum trace: out of memory for %zu words", nw);
    t->field_offset = (int32_t)cksum_offset;
    if (pseudo)
        trace_part(t, NL_CK_PSEUDO, pseudo, pseudo_len, -1);
    trace_part(t, NL_CK_HEADER, hdr, hdr_len, (long)cksum_offset);
    if (data)
        trace_part(t, NL_CK_DATA, data, data_len, -1);
    uint32_t s = t->sum;
    while (s >> 16 && t->nfolds < 4) {
        s = (s & 0xffff) + (s >> 16);
        t->folds[t->nfolds++] = s;
    }
    t->folded = (uint16_t)s;
    t->checksum = (uint16_t)~s;
    return 0;
}

void nl_cksum_trace_free(struct nl_cksum_trace *t)
{
    if (t) {
        free(t->words);
        t->words = NULL;
        t->nwords = 0;
    }
}
