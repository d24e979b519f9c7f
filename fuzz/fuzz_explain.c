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
    struct nl_explain_ctx ctx = {.has_isn = 1, .sender_isn = 1000, .receiver_isn = 2000};
    /* Every window-scale and offload case, the shift up to 14 (RFC 7323 2.3), picked by the length. */
    ctx.scale = (int)(size % 3);
    ctx.shift = (uint8_t)(size % 15);
    ctx.syn_packet = size % 5;
    ctx.refused_packet = size % 7;
    ctx.tcp_offload = (int)(size % 3);
    if (nl_explain_packet(data, size, (size & 1) ? &ctx : NULL, &x, err) == 0)
        nl_explain_free(&x);
    struct nl_tcp_opts o;
    (void)nl_tcp_options_parse(data, size < 40 ? size : 40, &o);
    (void)nl_cksum(data, size);
    return 0;
}
