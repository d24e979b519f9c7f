#!/usr/bin/env python3
"""Captures for the report's tests (ReportOneReadTests, ReportHandInTests), written with
bench/gen_convs.py's frame builder (every checksum right). Standard library only.

  mkcaps.py evil OUT.pcapng     one echo conversation whose greeting, request, reply and
                                interface name (pcapng if_name) are markup: <script>,
                                <iframe src=javascript:>, [x](javascript:...), ![](http://remote/img);
                                and a chat whose user name is markup
  mkcaps.py intl PART1 PART2    two echo captures (ports 5000 and 5001) whose greeting and
                                lines are Japanese with emoji
  mkcaps.py chat7 OUT.pcap      netlab chat: seven clients register and talk to each other
"""
import os, struct, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from gen_convs import frame, SYN, ACK, PSH, FIN  # noqa: E402

T0 = 1_700_000_000 * 1_000_000


class Conv:
    """One TCP conversation; appends (time_us, frame) records to out."""

    def __init__(self, out, cli, srv, cport, sport, clock):
        self.out, self.cli, self.srv, self.cp, self.sp, self.clock = out, cli, srv, cport, sport, clock
        self.cs, self.ss = 1000 + cport * 7, 9000 + cport * 13

    def put(self, b):
        self.clock[0] += 1000
        self.out.append((self.clock[0], b))

    def open(self):
        self.put(frame(self.cli, self.srv, self.cp, self.sp, self.cs, 0, SYN))
        self.put(frame(self.srv, self.cli, self.sp, self.cp, self.ss, self.cs + 1, SYN | ACK))
        self.cs += 1
        self.ss += 1
        self.put(frame(self.cli, self.srv, self.cp, self.sp, self.cs, self.ss, ACK))

    def client(self, data):
        self.put(frame(self.cli, self.srv, self.cp, self.sp, self.cs, self.ss, ACK | PSH, data))
        self.cs += len(data)
        self.put(frame(self.srv, self.cli, self.sp, self.cp, self.ss, self.cs, ACK))

    def server(self, data):
        self.put(frame(self.srv, self.cli, self.sp, self.cp, self.ss, self.cs, ACK | PSH, data))
        self.ss += len(data)
        self.put(frame(self.cli, self.srv, self.cp, self.sp, self.cs, self.ss, ACK))

    def close(self):
        self.put(frame(self.cli, self.srv, self.cp, self.sp, self.cs, self.ss, FIN | ACK))
        self.put(frame(self.srv, self.cli, self.sp, self.cp, self.ss, self.cs + 1, FIN | ACK))
        self.put(frame(self.cli, self.srv, self.cp, self.sp, self.cs + 1, self.ss + 1, ACK))


def echo(line):
    return bytes(line.rstrip(b"\n")[::-1]).swapcase() + b"\n"


def utf8_echo(line):
    s = line.rstrip(b"\n").decode()[::-1]
    return "".join(c.swapcase() if c.isascii() else c for c in s).encode() + b"\n"


def write_pcap(path, recs):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, b in recs:
            f.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(b), len(b)) + b)


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def write_pcapng(path, recs, if_name):
    def block(kind, body):
        n = 12 + len(body)
        return struct.pack("<II", kind, n) + body + struct.pack("<I", n)
    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + struct.pack("<HH", 0, 0))
    opt = struct.pack("<HH", 2, len(if_name)) + pad4(if_name) + struct.pack("<HH", 0, 0)
    idb = block(1, struct.pack("<HHI", 1, 0, 65535) + opt)
    out = [shb, idb]
    for t, b in recs:
        out.append(block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(b), len(b)) + pad4(b)))
    with open(path, "wb") as f:
        f.write(b"".join(out))


CLI, SRV = bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1])


def evil(path):
    recs, clock = [], [T0]
    c = Conv(recs, CLI, SRV, 40000, 5000, clock)
    c.open()
    c.server(b"<script>alert(1)</script> Welcome\n")
    line = b"[x](javascript:alert(1)) ![](http://remote/img) <iframe src=javascript:alert(2)></iframe> # not a heading\n"
    c.client(line)
    c.server(echo(line))
    c.close()
    # A chat whose server confirms a name made of markup.
    chat = Conv(recs, CLI, SRV, 40001, 7000, clock)
    chat.open()
    chat.server(b"HELLO netlab-chat 1\n")
    chat.client(b"NICK x\n")
    chat.server(b"OK NICK <img src=http://remote/nick.png>[n](javascript:alert(8))\n")
    chat.close()
    write_pcapng(path, recs, b"<iframe src=javascript:alert(3)></iframe>")


def intl(p1, p2):
    for path, port in ((p1, 5000), (p2, 5001)):
        recs, clock = [], [T0]
        c = Conv(recs, CLI, SRV, 41000 + port, port, clock)
        c.open()
        c.server("ようこそ CS 352 へ 🌏\n".encode())
        for line in ("こんにちは 世界 🎉\n", "Hello World\n"):
            c.client(line.encode())
            c.server(utf8_echo(line.encode()))
        c.close()
        write_pcap(path, recs)


def chat7(path):
    recs, clock = [], [T0]
    names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]
    convs = []
    for i, n in enumerate(names):
        c = Conv(recs, bytes([10, 0, 1, 10 + i]), SRV, 50000 + i, 7000, clock)
        c.open()
        c.server(b"HELLO netlab-chat 1\n")
        c.client(b"NICK %s\n" % n.encode())
        c.server(b"OK NICK %s\n" % n.encode())
        convs.append(c)
    for r in range(6):
        for i, c in enumerate(convs):
            peer = names[(i + 1) % len(names)]
            c.client(b"MSG %s round %d: hello from %s\n" % (peer.encode(), r, names[i].encode()))
            convs[(i + 1) % len(names)].server(b"FROM %s round %d: hello from %s\n" % (names[i].encode(), r, names[i].encode()))
    for c in convs:
        c.client(b"QUIT\n")
        c.server(b"OK BYE\n")
        c.close()
    write_pcap(path, recs)


if __name__ == "__main__":
    {"evil": evil, "intl": intl, "chat7": chat7}[sys.argv[1]](*sys.argv[2:])
