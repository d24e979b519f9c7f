/*
 * fuzz_explain.c - libFuzzer target: IPv4/TCP decoding and explanation of
 * arbitrary bytes (nl_ipv4_decode, nl_tcp_decode, options, checksum traces).
 */
#include <netlab.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[NL_ERRBUF_SIZE];
    struct nl_explain x;
    struct nl_explain_ctx ctx = {1, 1000, 2000};
    if (nl_explain_packet(data, size, (size & 1) ? &ctx : NULL, &x, err) == 0)
        nl_explain_free(&x);
    struct nl_tcp_opts o;
    (void)nl_tcp_options_parse(data, size < 40 ? size : 40, &o);
    (void)nl_cksum(data, size);
    return 0;
}
