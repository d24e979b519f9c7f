#!/usr/bin/env python3
"""Writes a capture of N short TCP conversations for bench/report.sh: each a handshake,
one request line and its echo (reversed, case swapped), and a FIN close, over Ethernet
(pcap, microseconds), every checksum right. Every 200th conversation (the 100th, 300th, ...) is a bulk transfer
of 30 full segments with one segment lost and resent (fast retransmission after three
duplicate ACKs), so a report has conversations with more bytes and with loss to pick.
Deterministic. Standard library only.

  bench/gen_convs.py N OUT.pcap
"""
import struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, len(tcp) + len(payload))
    ck = csum(pseudo + tcp + payload)
    tcp = tcp[:16] + struct.pack("!H", ck) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp + payload

SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01

def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    t = [1_700_000_000 * 1_000_000]
    recs = []
    def put(b):
        t[0] += 50
        recs.append(struct.pack("<IIII", t[0] // 1_000_000, t[0] % 1_000_000, len(b), len(b)) + b)
    srv = bytes([10, 0, 0, 1])
    for i in range(n):
        cli = bytes([10, 1, (i >> 8) & 0xFF, i & 0xFF])
        cp, sp = 20000 + i % 40000, 7
        cs, ss = 1000 + i * 7919, 5000 + i * 104729
        c2s = lambda seq, ack, fl, p=b"": put(frame(cli, srv, cp, sp, seq, ack, fl, p))
        s2c = lambda seq, ack, fl, p=b"": put(frame(srv, cli, sp, cp, seq, ack, fl, p))
        c2s(cs, 0, SYN); s2c(ss, cs + 1, SYN | ACK); c2s(cs + 1, ss + 1, ACK)
        cs += 1; ss += 1
        if i % 200 == 99:
            seg = bytes((k * 31 + i) & 0xFF for k in range(1448))
            lost = 10
            for k in range(30):
                if k != lost:
                    c2s(cs + k * 1448, ss, ACK | PSH, seg)
                    s2c(ss, cs + (k * 1448 + 1448 if k < lost else lost * 1448), ACK)
                if k == lost + 3:
                    c2s(cs + lost * 1448, ss, ACK | PSH, seg)   # the fast retransmission
            s2c(ss, cs + 30 * 1448, ACK)
            cs += 30 * 1448
        else:
            line = b"Line %d of the Quick Brown Fox\n" % i
            echo = bytes(line[:-1][::-1]).swapcase() + b"\n"
            c2s(cs, ss, ACK | PSH, line); s2c(ss, cs + len(line), ACK | PSH, echo)
            cs += len(line); ss += len(echo)
            c2s(cs, ss, ACK)
        c2s(cs, ss, FIN | ACK); s2c(ss, cs + 1, FIN | ACK); c2s(cs + 1, ss + 1, ACK)
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        f.write(b"".join(recs))
    print("gen_convs: %d conversations, %d packets, %s" % (n, len(recs), out), file=sys.stderr)

if __name__ == "__main__":
    main()
