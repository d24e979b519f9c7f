/*
 * fuzz_csv.c - libFuzzer target: the message CSV parser (nl_messages_parse) and,
 * for inputs it accepts, the conversation planner with libnet construction and
 * the explanation of every packet. Any crash, leak or UB is a bug.
 */
#include <netlab.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[NL_ERRBUF_SIZE];
    struct nl_messages *ms = NULL;
    if (nl_messages_parse(data, size, "fuzz.csv", &ms, err) < 0)
        return 0;
    if (nl_messages_count(ms) <= 64) {
        struct nl_craft_opts o;
        nl_craft_opts_init(&o);
        o.handshake = size & 1;
        o.mss = (uint16_t)(16 + size % 1400);
        o.start_ns = 1;
        struct nl_plan *p = NULL;
        if (nl_plan_build(ms, &o, &p, err) == 0) {
            for (size_t i = 0; i < nl_plan_packet_count(p); i++) {
                const struct nl_pkt *k = nl_plan_packet(p, i);
                struct nl_explain x;
                if (nl_explain_packet(k->bytes, k->len, NULL, &x, err) != 0 || !x.ip_ok || !x.tcp_ok)
                    abort(); /* netlab's own packets must always explain, with good checksums */
                nl_explain_free(&x);
            }
            nl_plan_free(p);
        }
    }
    nl_messages_free(ms);
    return 0;
}
