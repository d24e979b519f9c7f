/*
 * gen_capture.c - writes the benchmark's capture: PACKETS packets of TCP over
 * Ethernet (9 in 10 conversations IPv4, 1 in 10 IPv6), clients at random
 * addresses talking to four servers on ports 80 and 443, many conversations open
 * at once and interleaved. Each conversation: handshake, a request of 60-600
 * bytes, a response of 1-20 segments (the last partial), delayed ACKs, FIN close;
 * TCP timestamps on every segment; every checksum right (computed here, by its
 * own RFC 1071 code, independently of libnetlab). Deterministic for a seed.
 *
 *   cc -O2 -o gen_capture bench/gen_capture.c && ./gen_capture 1000000 out.pcap [SEED [LONGER [LOSS]]]
 * LONGER multiplies the response lengths: as many packets in fewer conversations.
 * LOSS (per mille of response segments) makes a lossy capture for the TCP analysis: the
 * segment is lost before the capture point (the next one is "previous segment not
 * captured"), the client sends four ACKs for the missing byte with a SACK block for what
 * came after (three duplicates), and the server resends it at once (a fast retransmission).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc1071.h"

#define ACTIVE 4096      /* conversations open at any moment */
#define MSS 1448

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }
static void le32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

struct conv {
    int v6;
    uint8_t caddr[16], saddr[16];
    uint16_t cport, sport;
    uint32_t cseq, sseq;      /* next sequence number each side sends */
    uint32_t tsval;
    int state;                /* 0 SYN,1 SYN-ACK,2 ACK,3 request,4 response...,5 FIN c,6 FIN s,7 last ACK */
    int segs_left, last_len, since_ack;
    uint32_t req_len;
};

static uint8_t payload[65536];
/* Overrides for the lossy mode: the ack a client repeats, a resent sequence number, a SACK block. */
static uint32_t ack_over, seq_over, sack_lo, sack_hi;
static int use_ack_over, use_seq_over, use_sack;
static FILE *out;
static uint64_t written, usec = 1700000000ull * 1000000;

static void emit(struct conv *c, int from_client, uint8_t flags, uint32_t plen)
{
    uint8_t pkt[2048];
    size_t l2 = 14, l3 = c->v6 ? 40 : 20, l4 = use_sack ? 44 : 32;
    uint8_t *e = pkt, *ip = pkt + l2, *t = ip + l3;
    const uint8_t *src = from_client ? c->caddr : c->saddr, *dst = from_client ? c->saddr : c->caddr;
    memset(pkt, 0, l2 + l3 + l4);
    memcpy(e, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
    put16(e + 12, c->v6 ? 0x86dd : 0x0800);
    if (c->v6) {
        ip[0] = 0x60;
        put16(ip + 4, (uint32_t)(l4 + plen));
        ip[6] = 6;
        ip[7] = 64;
        memcpy(ip + 8, src, 16);
        memcpy(ip + 24, dst, 16);
    } else {
        ip[0] = 0x45;
        put16(ip + 2, (uint32_t)(l3 + l4 + plen));
        put16(ip + 4, (uint32_t)written & 0xffff);
        ip[6] = 0x40;
        ip[8] = 64;
        ip[9] = 6;
        memcpy(ip + 12, src, 4);
        memcpy(ip + 16, dst, 4);
        put16(ip + 10, fold(sum16(ip, 20, 0)));
    }
    put16(t, from_client ? c->cport : c->sport);
    put16(t + 2, from_client ? c->sport : c->cport);
    put32(t + 4, use_seq_over ? seq_over : from_client ? c->cseq : c->sseq);
    put32(t + 8, (flags & 0x10) ? (use_ack_over ? ack_over : from_client ? c->sseq : c->cseq) : 0);
    t[12] = (uint8_t)((l4 / 4) << 4);
    t[13] = flags;
    put16(t + 14, 65535);
    t[20] = 1; t[21] = 1; t[22] = 8; t[23] = 10;
    put32(t + 24, c->tsval++);
    put32(t + 28, c->tsval - 7);
    if (use_sack) { /* NOP NOP SACK(lo, hi) after the timestamps */
        t[32] = 1; t[33] = 1; t[34] = 5; t[35] = 10;
        put32(t + 36, sack_lo);
        put32(t + 40, sack_hi);
    }
    memcpy(t + l4, payload + (rnd() & 0x3fff), plen);
    uint32_t s = 0;
    size_t alen = c->v6 ? 16 : 4;
    s = sum16(src, alen, s);
    s = sum16(dst, alen, s);
    s += 6 + (uint32_t)(l4 + plen);
    put16(t + 16, fold(sum16(t, l4 + plen, s)));
    size_t len = l2 + l3 + l4 + plen;
    uint8_t rec[16];
    usec += 1 + (rnd() & 15);
    le32(rec, (uint32_t)(usec / 1000000));
    le32(rec + 4, (uint32_t)(usec % 1000000));
    le32(rec + 8, (uint32_t)len);
    le32(rec + 12, (uint32_t)len);
    fwrite(rec, 1, 16, out);
    fwrite(pkt, 1, len, out);
    uint32_t adv = plen + ((flags & 0x03) ? 1 : 0);
    if (use_seq_over)
        adv = 0; /* a resend does not advance */
    if (from_client)
        c->cseq += adv;
    else
        c->sseq += adv;
    written++;
}

static uint32_t next_port = 1024;
static uint32_t longer = 1, loss_pm = 0;
static void open_conv(struct conv *c, uint32_t n)
{
    memset(c, 0, sizeof *c);
    c->v6 = rnd() % 10 == 0;
    /* Clients spread over the address space (as on a real server; tcpdump's
     * address tables hash on the low-order bytes); a few servers. */
    (void)n;
    if (c->v6) {
        c->caddr[0] = 0x20; c->caddr[1] = 0x01; c->caddr[2] = 0x0d; c->caddr[3] = 0xb8;
        for (int i = 8; i < 16; i++)
            c->caddr[i] = (uint8_t)rnd();
        c->saddr[0] = 0x20; c->saddr[1] = 0x01; c->saddr[2] = 0x0d; c->saddr[3] = 0xb8; c->saddr[15] = (uint8_t)(1 + (rnd() & 3));
    } else {
        uint32_t a = rnd();
        c->caddr[0] = (uint8_t)(1 + a % 223); c->caddr[1] = (uint8_t)rnd(); c->caddr[2] = (uint8_t)rnd(); c->caddr[3] = (uint8_t)rnd();
        if (c->caddr[0] == 127)
            c->caddr[0] = 128;
        c->saddr[0] = 192; c->saddr[1] = 0; c->saddr[2] = 2; c->saddr[3] = (uint8_t)(1 + (rnd() & 3));
    }
    c->cport = (uint16_t)(32768 + (next_port++ % 28000));
    c->sport = (rnd() & 1) ? 443 : 80;
    c->cseq = rnd();
    c->sseq = rnd();
    c->tsval = rnd();
    c->req_len = 60 + rnd() % 540;
    c->segs_left = 1 + (int)(rnd() % (20 * longer));
    c->last_len = 1 + (int)(rnd() % MSS);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s PACKETS OUT.pcap [SEED [LONGER]]\n", argv[0]);
        return 64;
    }
    uint64_t want = strtoull(argv[1], NULL, 10);
    if (argc > 3)
        rng ^= strtoull(argv[3], NULL, 10) * 0x9e3779b97f4a7c15ull;
    if (argc > 4 && atoi(argv[4]) > 0)
        longer = (uint32_t)atoi(argv[4]);
    if (argc > 5 && atoi(argv[5]) > 0)
        loss_pm = (uint32_t)atoi(argv[5]);
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(' ' + (i * 7 + i / 13) % 90);
    out = fopen(argv[2], "wb");
    if (!out) {
        perror(argv[2]);
        return 1;
    }
    static char buf[1 << 20];
    setvbuf(out, buf, _IOFBF, sizeof buf);
    uint8_t gh[24];
    le32(gh, 0xa1b2c3d4);
    gh[4] = 2; gh[5] = 0; gh[6] = 4; gh[7] = 0;
    memset(gh + 8, 0, 8);
    le32(gh + 16, 262144);
    le32(gh + 20, 1);
    fwrite(gh, 1, 24, out);
    static struct conv act[ACTIVE];
    uint32_t convs = 0;
    for (int i = 0; i < ACTIVE; i++)
        open_conv(&act[i], convs++);
    while (written < want) {
        struct conv *c = &act[rnd() % ACTIVE];
        switch (c->state) {
        case 0: emit(c, 1, 0x02, 0); c->state = 1; break;
        case 1: emit(c, 0, 0x12, 0); c->state = 2; break;
        case 2: emit(c, 1, 0x10, 0); c->state = 3; break;
        case 3: emit(c, 1, 0x18, c->req_len); c->state = 4; break;
        case 4:
            if (c->segs_left > 2 && loss_pm && rnd() % 1000 < loss_pm) {
                /* Lost before the capture point, repaired by a fast retransmission. */
                uint32_t lost = c->sseq;
                c->sseq += MSS;                  /* never written */
                emit(c, 0, 0x10, MSS);           /* previous segment not captured */
                ack_over = lost;
                use_ack_over = 1;
                emit(c, 1, 0x10, 0);             /* the ACK of what arrived in order */
                use_sack = 1;
                sack_lo = lost + MSS;
                sack_hi = c->sseq;
                for (int k = 0; k < 3; k++)
                    emit(c, 1, 0x10, 0);         /* three duplicate ACKs with a SACK block */
                use_sack = use_ack_over = 0;
                seq_over = lost;
                use_seq_over = 1;
                emit(c, 0, 0x10, MSS);           /* the fast retransmission */
                use_seq_over = 0;
                c->segs_left -= 2;
                c->since_ack = 0;
            } else if (c->segs_left > 1) {
                emit(c, 0, 0x10, MSS);
                c->segs_left--;
                if (++c->since_ack == 2) { /* delayed ACK every two segments */
                    emit(c, 1, 0x10, 0);
                    c->since_ack = 0;
                }
            } else {
                emit(c, 0, 0x18, (uint32_t)c->last_len);
                c->state = 5;
            }
            break;
        case 5: emit(c, 1, 0x11, 0); c->state = 6; break;
        case 6: emit(c, 0, 0x11, 0); c->state = 7; break;
        default:
            emit(c, 1, 0x10, 0);
            open_conv(c, convs++);
            break;
        }
    }
    if (fclose(out) != 0) {
        perror(argv[2]);
        return 1;
    }
    fprintf(stderr, "gen_capture: %llu packets, %u conversations started, %s\n", (unsigned long long)written, convs, argv[2]);
    return 0;
}
