#!/usr/bin/env python3
"""Valid captures with extreme times and lengths, for the whole-path run of the
built analyze (fuzz/robust.sh, fuzz/extreme.sh, AnalyzeCommandTests): pcapng
if_tsoffset at and past the int64-nanosecond range (issue 8: -9,223,372,037 s
crashed analyze), two interfaces offset -9e9 s and +9e9 s in one conversation,
every kind of if_tsresol with the smallest and largest timestamps, pcap
seconds 0 and 0xffffffff, nanosecond fractions out of range, captured length
over and under the original length, packets in backwards time order.
Each file is one TCP conversation (SYN, SYN-ACK, data) so conversation
durations, retransmission and duplicate checks all see the extreme times.

  mkextreme.py OUTDIR        prints how many files it wrote
"""
import os, struct, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawip import ipv4_tcp  # noqa: E402

out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
count = 0


def emit(name, data):
    global count
    with open(os.path.join(out_dir, "x%03d-%s" % (count, name)), "wb") as f:
        f.write(bytes(data))
    count += 1


C, S = [10, 0, 0, 1], [10, 0, 0, 2]
CONV = [
    ipv4_tcp(C, S, 40000, 80, 1000, 0, 0x02),
    ipv4_tcp(S, C, 80, 40000, 5000, 1001, 0x12),
    ipv4_tcp(C, S, 40000, 80, 1001, 5001, 0x18, b"HELLO extreme\n"),
    ipv4_tcp(C, S, 40000, 80, 1001, 5001, 0x18, b"HELLO extreme\n"),  # a retransmission / duplicate
]

RAW = 101


def opt(code, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("<HH", code, len(value)) + value + b"\0" * pad


def block(btype, body):
    total = 12 + len(body)
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def shb():
    return block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + opt(0, b""))


def idb(tsresol=None, tsoffset=None, snaplen=0, linktype=RAW):
    o = b""
    if tsresol is not None:
        o += opt(9, bytes([tsresol]))
    if tsoffset is not None:
        o += opt(14, struct.pack("<q", tsoffset))
    o += opt(0, b"")
    return block(1, struct.pack("<HHI", linktype, 0, snaplen) + o)


def epb(ifid, ts, data, orig=None, caplen=None):
    ts &= 0xFFFFFFFFFFFFFFFF
    cl = len(data) if caplen is None else caplen
    pad = (4 - len(data) % 4) % 4
    return block(6, struct.pack("<IIIII", ifid, ts >> 32, ts & 0xFFFFFFFF, cl,
                                len(data) if orig is None else orig) + data + b"\0" * pad)


def spb(data, orig=None):
    pad = (4 - len(data) % 4) % 4
    return block(3, struct.pack("<I", len(data) if orig is None else orig) + data + b"\0" * pad)


def ng(ifaces, packets):
    """ifaces: idb blocks; packets: (ifid, ts) per packet of CONV, in order."""
    b = shb() + b"".join(ifaces)
    for i, (ifid, ts) in enumerate(packets):
        b += epb(ifid, ts, CONV[i % len(CONV)])
    return b


I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1
U64_MAX = (1 << 64) - 1

# 1. if_tsoffset around and past the int64 nanosecond range (the file first).
for name, off in [("tsoffset-minus-9223372037", -9223372037), ("tsoffset-minus-9223372036", -9223372036),
                  ("tsoffset-int64-min", I64_MIN), ("tsoffset-int64-max", I64_MAX),
                  ("tsoffset-plus-9223372037", 9223372037), ("tsoffset-minus-1", -1)]:
    emit(name + ".pcapng", ng([idb(tsoffset=off)], [(0, t) for t in (0, 1, 2, 3)]))
    emit(name + "-bigts.pcapng", ng([idb(tsoffset=off)], [(0, t) for t in (0, U64_MAX // 2, U64_MAX, 5)]))

# 2. Two interfaces offset -9e9 s and +9e9 s, one conversation across them.
emit("two-ifaces-pm9e9.pcapng",
     ng([idb(tsoffset=-9_000_000_000), idb(tsoffset=9_000_000_000)], [(0, 0), (1, 0), (0, 1), (1, 1)]))
emit("two-ifaces-pm9e9-reversed.pcapng",
     ng([idb(tsoffset=9_000_000_000), idb(tsoffset=-9_000_000_000)], [(0, 0), (1, 0), (1, 1), (0, 1)]))
emit("two-ifaces-min-max.pcapng",
     ng([idb(tsoffset=I64_MIN), idb(tsoffset=I64_MAX)], [(0, 0), (1, U64_MAX), (0, U64_MAX), (1, 0)]))

# 3. Every kind of if_tsresol with the smallest and largest timestamps.
for res in [0, 1, 6, 9, 10, 12, 19, 20, 21, 127, 0x80, 0x80 | 10, 0x80 | 30, 0x80 | 63, 0x80 | 64, 0x80 | 127, 0xFF]:
    emit("tsresol-%d.pcapng" % res, ng([idb(tsresol=res)], [(0, 0), (0, U64_MAX), (0, 1), (0, U64_MAX - 1)]))
    emit("tsresol-%d-offset.pcapng" % res,
         ng([idb(tsresol=res, tsoffset=-9_000_000_000), idb(tsresol=res, tsoffset=9_000_000_000)],
            [(0, U64_MAX), (1, U64_MAX), (0, 0), (1, 0)]))

# 4. Lengths: captured longer than original, original 0 and 0xffffffff, empty packets, snaplen 0,
#    simple packet blocks (no timestamp) mixed with timed ones.
b = shb() + idb(snaplen=0)
b += epb(0, 1, CONV[0], orig=0) + epb(0, 2, CONV[1], orig=0xFFFFFFFF) + epb(0, 3, CONV[2], orig=10)
b += epb(0, U64_MAX, b"", orig=0) + epb(0, 0, CONV[3], orig=len(CONV[3]) + 1_000_000)
emit("lengths.pcapng", b)
emit("spb-mixed.pcapng", shb() + idb(tsoffset=-9_000_000_000) + spb(CONV[0]) + epb(0, U64_MAX, CONV[1])
     + spb(CONV[2], orig=0xFFFFFFFF) + epb(0, 0, CONV[3]))


# 5. pcap: seconds 0 and 0xffffffff, fractions past one second, both byte orders and precisions.
def pcap(magic, endian, recs, snaplen=65535, linktype=RAW):
    b = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)
    for i, (sec, frac, orig) in enumerate(recs):
        d = CONV[i % len(CONV)]
        b += struct.pack(endian + "IIII", sec, frac, len(d), len(d) if orig is None else orig) + d
    return b


for endian, tag in [("<", "le"), (">", "be")]:
    for magic, prec in [(0xA1B2C3D4, "us"), (0xA1B23C4D, "ns")]:
        emit("pcap-%s-%s-extremes.pcap" % (tag, prec),
             pcap(magic, endian, [(0xFFFFFFFF, 999_999_999, None), (0, 0, None), (0xFFFFFFFF, 0xFFFFFFFF, 0),
                                  (0x80000000, 0xFFFFFFFF, 0xFFFFFFFF)]))
        emit("pcap-%s-%s-backwards.pcap" % (tag, prec),
             pcap(magic, endian, [(0xFFFFFFFF, 0, None), (0x7FFFFFFF, 0, None), (1, 0, None), (0, 0, None)],
                  snaplen=0))

print(count)
