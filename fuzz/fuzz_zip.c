/*
 * fuzz_zip.c - libFuzzer target: arbitrary bytes as a submitted zip. The
 * directory read and checked (nl_zip_open_mem), every entry read back (stored,
 * or inflated within its declared size) with tight limits, so that bombs and
 * overlaps are reached quickly. Nothing may crash, leak, read out of bounds or
 * unpack more than the limits allow.
 */
#include <netlab.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[NL_ERRBUF_SIZE];
    struct nl_zip_limits lim = {64, 1u << 20, 4u << 20, 50};
    struct nl_zip *z = NULL;
    if (nl_zip_open_mem(data, size, "fuzz.zip", &lim, &z, err) < 0)
        return 0;
    uint64_t total = 0;
    for (size_t i = 0; i < nl_zip_count(z); i++) {
        struct nl_zip_entry e;
        if (nl_zip_entry(z, i, &e) != 0 || !e.name || e.name[0] == '/' || e.size > lim.max_entry)
            abort(); /* a checked directory never hands these out */
        const uint8_t *p;
        size_t n;
        if (nl_zip_read(z, i, &p, &n, err) == 0) {
            if (n != e.size)
                abort();
            total += n;
        }
    }
    if (total > lim.max_total)
        abort();
    nl_zip_free(z);
    return 0;
}
