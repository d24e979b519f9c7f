/*
 * fuzz_decode.c - libFuzzer target: arbitrary bytes as one captured frame.
 * Byte 0 picks the link type, byte 1 how many bytes the wire carried beyond
 * those captured and the direction; the rest is the frame, given to
 * nl_decode_packet (every header, checksum verdicts) and to the IPv6 walker.
 */
#include <netlab.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const int linktypes[] = {NL_LINKTYPE_ETHERNET, NL_LINKTYPE_LINUX_SLL, NL_LINKTYPE_LINUX_SLL2, NL_LINKTYPE_RAW,
                                NL_LINKTYPE_NULL, NL_LINKTYPE_LOOP, NL_LINKTYPE_IPV4, NL_LINKTYPE_IPV6, 12, 14, 4242};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    /* An exact-size heap copy, so that any read past the frame is caught. */
    size_t n = size - 2;
    uint8_t *frame = malloc(n ? n : 1);
    if (!frame)
        return 0;
    memcpy(frame, data + 2, n);
    struct nl_frame f;
    memset(&f, 0, sizeof f);
    f.data = frame;
    f.caplen = (uint32_t)n;
    f.len = (uint32_t)n + (data[1] & 0x3f);
    f.direction = (uint8_t)(data[1] >> 6) % 3;
    f.linktype = linktypes[data[0] % (sizeof linktypes / sizeof linktypes[0])];
    f.number = 1;
    struct nl_decoded d;
    nl_decode_packet(&f, NL_DECODE_CHECKSUMS, &d);
    /* What the decoder points at must lie inside the frame. */
    if (d.payload && d.payload_caplen && (d.payload < frame || d.payload + d.payload_caplen > frame + n))
        abort();
    if (d.l3 && d.l3_caplen && (d.l3 < frame || d.l3 + d.l3_caplen > frame + n))
        abort();
    char out[64];
    if (d.ipver)
        nl_endpoint_format(d.ipver, d.src, d.sport, out);
    struct nl_cursor c;
    struct nl_ipv6 h;
    nl_cur_init(&c, frame, n);
    if (nl_ipv6_decode(&c, &h) == 0)
        (void)nl_ipv6_walk_ext(&c, &h);
    free(frame);
    return 0;
}
