#!/usr/bin/env python3
"""Captures whose every string is hostile to a terminal, for the end-to-end run of
the built analyze (fuzz/escapes.sh, issue 20 item 5): pcapng section, interface
and packet options (if_name, if_description, comments, hardware, OS, application)
and payloads (a chat server's HELLO, OK NICK and FROM lines, an echo exchange, a
UDP datagram) carrying terminal controls (ESC ] title, ESC [2J, CR, LF, BS, BEL,
DEL), C1 controls as UTF-8 and as raw bytes (CSI 0x9B, OSC 0x9D), bidirectional
overrides, line separators, bytes that are not UTF-8 and long runs. Also a
capture on "any" (SLL2 interface indexes) with an interfaces.txt of hostile names
beside it, and a file whose own name holds controls. Deterministic for a seed.

  mkescapes.py OUTDIR [SEED] [COUNT]    prints how many captures it wrote
"""
import os, random, struct, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawip import ipv4_tcp, ipv4_udp  # noqa: E402

out_dir = sys.argv[1]
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 20261209)
random_count = int(sys.argv[3]) if len(sys.argv) > 3 else 120
os.makedirs(out_dir, exist_ok=True)
count = 0

# The pieces a hostile string is made of.
PIECES = [
    b"\x1b]0;pwned\x07", b"\x1b]8;;http://x/\x1b\\", b"\x1b[2J", b"\x1b[31m", b"\x1b[1A\x1b[K", b"\x1bc",
    b"\r", b"\n", b"\r\n", b"\x08", b"\x07", b"\x7f", b"\x00", b"\t", b"\x1b", b"\x9b2J", b"\x9d0;t\x9c",
    "\u009b2J".encode(), "\u009d0;t\u009c".encode(), "\u0085".encode(), "\u202e".encode(), "\u2066".encode(),
    "\u2028".encode(), "\u2029".encode(), "\u200f".encode(), "\u061c".encode(), b"\xc0\xaf", b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80", b"\xe2\x80", b"\xff", "é".encode(), "漢".encode(), "😀".encode(), b"plain", b" ",
    b"\\", b'"', b"<script>", b"%s%n",
]


def hostile(rng, n=None):
    n = rng.randint(1, 12) if n is None else n
    return b"".join(rng.choice(PIECES) for _ in range(n))


def emit(name, data):
    global count
    with open(os.path.join(out_dir, "e%03d-%s" % (count, name)), "wb") as f:
        f.write(bytes(data))
    count += 1


def conversation(sport, dport, lines):
    """A TCP conversation: handshake, then (from_client, payload) segments each acknowledged, then FIN."""
    c, s = (10, 0, 0, 1), (10, 0, 0, 2)
    cs, ss = 1000, 5000
    out = [ipv4_tcp(c, s, sport, dport, cs, 0, 0x02), ipv4_tcp(s, c, dport, sport, ss, cs + 1, 0x12),
           ipv4_tcp(c, s, sport, dport, cs + 1, ss + 1, 0x10)]
    cs += 1
    ss += 1
    for from_client, p in lines:
        if from_client:
            out.append(ipv4_tcp(c, s, sport, dport, cs, ss, 0x18, p))
            cs += len(p)
            out.append(ipv4_tcp(s, c, dport, sport, ss, cs, 0x10))
        else:
            out.append(ipv4_tcp(s, c, dport, sport, ss, cs, 0x18, p))
            ss += len(p)
            out.append(ipv4_tcp(c, s, sport, dport, cs, ss, 0x10))
    out.append(ipv4_tcp(c, s, sport, dport, cs, ss, 0x11))
    out.append(ipv4_tcp(s, c, dport, sport, ss, cs + 1, 0x11))
    out.append(ipv4_tcp(c, s, sport, dport, cs + 1, ss + 1, 0x10))
    return out


def opt(code, value):
    value = bytes(value)[:65535]
    return struct.pack("<HH", code, len(value)) + value + b"\0" * ((4 - len(value) % 4) % 4)


def block(btype, body):
    return struct.pack("<II", btype, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


def shb(options):
    body = struct.pack("<IHHq", 0x1a2b3c4d, 1, 0, -1)
    if options:
        body += b"".join(opt(c, v) for c, v in options) + opt(0, b"")
    return block(0x0a0d0d0a, body)


def idb(linktype, options):
    body = struct.pack("<HHI", linktype, 0, 0)
    if options:
        body += b"".join(opt(c, v) for c, v in options) + opt(0, b"")
    return block(1, body)


def epb(iface, ts_us, data, options=()):
    body = struct.pack("<IIIII", iface, ts_us >> 32, ts_us & 0xffffffff, len(data), len(data))
    body += data + b"\0" * ((4 - len(data) % 4) % 4)
    if options:
        body += b"".join(opt(c, v) for c, v in options) + opt(0, b"")
    return block(6, body)


def chat_lines(rng, nick, text):
    return [(False, b"HELLO netlab-chat " + hostile(rng) + b"\n"), (True, b"NICK " + nick + b"\n"),
            (False, b"OK NICK " + nick + b"\n"), (True, b"MSG bob " + text + b"\n"),
            (False, b"FROM bob " + hostile(rng) + b"\n"), (True, b"QUIT\n"), (False, b"OK BYE\n")]


def echo_lines(rng):
    a, b = hostile(rng), hostile(rng)
    return [(False, b"Welcome " + hostile(rng) + b"\n"), (True, a + b"\n"), (False, a[::-1] + b"\n"),
            (True, b + b"\n"), (False, b[::-1] + b"\n")]


def ng_capture(rng, long_strings=False):
    """A pcapng: every option hostile, two interfaces, chat + echo + UDP, comments on packets."""
    def s():
        return hostile(rng, rng.randint(300, 1200)) if long_strings else hostile(rng)
    out = shb([(1, s()), (2, s()), (3, s()), (4, s()), (1, s())])
    for _ in range(2):
        out += idb(101, [(2, s()), (3, s()), (1, s()), (12, s()), (15, s()), (9, b"\x06")])
    frames = conversation(40000 + rng.randint(0, 999), 7000, chat_lines(rng, hostile(rng, 3)[:60], s()))
    frames += conversation(41000 + rng.randint(0, 999), 7007, echo_lines(rng))
    frames.append(ipv4_udp((10, 0, 0, 1), (10, 0, 0, 2), 5353, 9999, s()))
    t = 1_700_000_000_000_000
    for i, f in enumerate(frames):
        out += epb(i % 2, t + i * 1000, f, [(1, s())] if rng.random() < 0.7 else ())
    return out


def sll2(l3, ifindex):
    return struct.pack("!HHIHBBB8s", 0x0800, 0, ifindex, 772, 0, 0, 6, b"\0" * 8) + l3


def pcap(linktype, frames):
    out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, linktype)
    for i, f in enumerate(frames):
        out += struct.pack("<IIII", 1_700_000_000, i, len(f), len(f)) + f
    return out


# Fixed captures first: each hostile place alone, so a failure names it.
fixed = random.Random(1)
emit("ifname.pcapng", shb([]) + idb(101, [(2, b"eth0\x1b]0;pwned\x07\x1b[2J\r\n\x9b31m" + "\u009b2J\u202e".encode())])
     + b"".join(epb(0, i, f) for i, f in enumerate(conversation(40001, 80, [(True, b"GET /\n"), (False, b"OK\n")]))))
emit("ifdesc.pcapng", shb([]) + idb(101, [(2, b"lo"), (3, b"desc\x1b[2J\x1b]0;t\x07\r\nX\x08\x7f" + "\u2028".encode())])
     + b"".join(epb(0, i, f) for i, f in enumerate(conversation(40002, 80, [(True, b"GET /\n"), (False, b"OK\n")]))))
emit("comments.pcapng", shb([(1, b"shb\x1b[2J"), (4, b"app\x1b]0;t\x07")])
     + idb(101, [(1, b"idb\x1b[2J\r\n"), (2, b"x")])
     + b"".join(epb(0, i, f, [(1, b"epb\x1b]0;t\x07\x9b")]) for i, f in
                enumerate(conversation(40003, 80, [(True, b"GET /\n"), (False, b"OK\n")]))))
emit("nick.pcap", pcap(101, conversation(40004, 7000, chat_lines(fixed, b"ev\x1b[2Jil\x1b]0;t\x07\r" + "\u009b\u202e".encode(),
                                                              b"text\x1b[2J"))))
emit("payload.pcap", pcap(101, conversation(40005, 7007, echo_lines(fixed))))
emit("long.pcapng", ng_capture(fixed, long_strings=True))
# A capture on "any": interface indexes named by the interfaces.txt beside it (hostile too).
emit("any.pcap", pcap(276, [sll2(f, 3 + i % 2) for i, f in
                            enumerate(conversation(40006, 7000, chat_lines(fixed, b"n\x1b[2J", b"m\x1b[2J")))]))
with open(os.path.join(out_dir, "interfaces.txt"), "wb") as f:
    f.write(b"3 veth\x1b]0;pwned\x07\x1b[2J\n4 x\x9b2J\xe2\x80\xae\r\n1 lo\n")
# A file whose own name carries controls.
emit("name-\x1b[2J\x1b]0;t\x07\r.pcap", pcap(101, conversation(40007, 80, [(True, b"a\n"), (False, b"b\n")])))
for i in range(random_count):
    emit("random.pcapng", ng_capture(rng, long_strings=(i % 10 == 9)))
print(count)
