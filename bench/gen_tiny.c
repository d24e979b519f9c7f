/*
 * gen_tiny.c - writes a capture of N tiny TCP conversations: each one segment from a
 * client (a distinct address and port) to a server on port 7007 carrying "hi\n", over
 * Ethernet, checksums right (RFC 1071, computed here). The worst case for memory per
 * conversation: the answer sheet answers each (a request with no reply), so it must keep
 * only --max-listed of them in detail (issue 20 item 11). Deterministic.
 *
 *   cc -O2 -o gen_tiny bench/gen_tiny.c && ./gen_tiny 2000000 tiny.pcap
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc1071.h"

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }
static void le32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s CONVERSATIONS OUT.pcap\n", argv[0]);
        return 64;
    }
    long n = atol(argv[1]);
    FILE *f = fopen(argv[2], "wb");
    if (!f || n <= 0) {
        perror(argv[2]);
        return 1;
    }
    uint8_t gh[24];
    le32(gh, 0xa1b2c3d4);
    gh[4] = 2, gh[5] = 0, gh[6] = 4, gh[7] = 0;
    memset(gh + 8, 0, 8);
    le32(gh + 16, 65535);
    le32(gh + 20, 1);
    fwrite(gh, 1, sizeof gh, f);
    static const uint8_t payload[] = "hi\n";
    const size_t plen = 3, len = 14 + 20 + 20 + plen;
    uint8_t rec[16 + 64];
    for (long i = 0; i < n; i++) {
        uint8_t *p = rec + 16;
        memset(p, 0, len);
        memcpy(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
        uint8_t *ip = p + 14, *tcp = ip + 20;
        uint32_t src = 0x0a000000u | (uint32_t)(1 + i / 30000), dst = 0x0a800001u;
        uint16_t sport = (uint16_t)(32768 + i % 30000); /* ephemeral: port 7007 is the server (lower port) */
        ip[0] = 0x45;
        put16(ip + 2, 20 + 20 + plen);
        put16(ip + 4, (uint32_t)(i & 0xffff) | 1);
        ip[8] = 64, ip[9] = 6;
        put32(ip + 12, src);
        put32(ip + 16, dst);
        put16(ip + 10, fold(sum16(ip, 20, 0)));
        put16(tcp, sport);
        put16(tcp + 2, 7007);
        put32(tcp + 4, 1000);
        put32(tcp + 8, 1);
        tcp[12] = 5 << 4, tcp[13] = 0x18;
        put16(tcp + 14, 65535);
        memcpy(tcp + 20, payload, plen);
        uint8_t ph[12];
        put32(ph, src);
        put32(ph + 4, dst);
        ph[8] = 0, ph[9] = 6;
        put16(ph + 10, 20 + plen);
        put16(tcp + 16, fold(sum16(tcp, 20 + plen, sum16(ph, 12, 0))));
        le32(rec, (uint32_t)(1700000000 + i / 1000000));
        le32(rec + 4, (uint32_t)(i % 1000000));
        le32(rec + 8, (uint32_t)len);
        le32(rec + 12, (uint32_t)len);
        if (fwrite(rec, 1, 16 + len, f) != 16 + len) {
            perror(argv[2]);
            return 1;
        }
    }
    return fclose(f) ? 1 : 0;
}
