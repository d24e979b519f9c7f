#!/usr/bin/env python3
"""Assorted and malformed captures for analyze's robustness run (fuzz/robust.sh,
Tests/NetlabTests/RobustnessTests.swift), made deterministically from the seed
captures in fuzz/corpus/pcap: truncations at many points, bit flips, byte
stomps, every link type forced onto the same bytes, impossible record lengths,
pcapng oddities (missing or repeated section and interface blocks, bad and
overrunning lengths, unknown blocks, odd timestamp resolutions), and junk.

  mkcorpus.py SEEDDIR OUTDIR [SEED]     prints how many files it wrote
"""
import os, random, struct, sys

seed_dir, out_dir = sys.argv[1], sys.argv[2]
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 20261121)
os.makedirs(out_dir, exist_ok=True)
count = 0


def emit(name, data):
    global count
    with open(os.path.join(out_dir, "%04d-%s" % (count, name)), "wb") as f:
        f.write(bytes(data))
    count += 1


def pcap_records(b):
    """(offset, incl) of each record of a little- or big-endian pcap."""
    if len(b) < 24:
        return None, []
    magic = b[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return None, []
    recs, pos = [], 24
    while pos + 16 <= len(b):
        incl = struct.unpack(e + "I", b[pos + 8:pos + 12])[0]
        recs.append((pos, incl))
        pos += 16 + incl
    return e, recs


def ng_blocks(b):
    """(offset, type, length) of each block of a little-endian pcapng."""
    out, pos = [], 0
    while pos + 12 <= len(b):
        t, l = struct.unpack("<II", b[pos:pos + 8])
        if l < 12 or pos + l > len(b):
            break
        out.append((pos, t, l))
        pos += l
    return out


seeds = sorted(os.listdir(seed_dir))
for s in seeds:
    b = bytearray(open(os.path.join(seed_dir, s), "rb").read())
    base = s.replace(".", "_")
    # Truncations: inside the file header, at and around every early record, at random.
    cuts = {0, 1, 3, 4, 23, 24, 25, 27, 28, 39, 40, len(b) - 1, len(b) - 3}
    cuts |= {rng.randrange(len(b)) for _ in range(14)}
    for c in sorted(x for x in cuts if 0 <= x < len(b)):
        emit("%s-cut%d" % (base, c), b[:c])
    # Bit flips and byte stomps, anywhere and in the first 256 bytes (headers).
    for i in range(18):
        v = bytearray(b)
        for _ in range(rng.randint(1, 8)):
            p = rng.randrange(len(v)) if i % 2 else rng.randrange(min(256, len(v)))
            v[p] ^= 1 << rng.randrange(8)
        emit("%s-flip%d" % (base, i), v)
    for i in range(8):
        v = bytearray(b)
        for _ in range(rng.randint(1, 4)):
            v[rng.randrange(len(v))] = rng.choice([0, 0xff, 0x80, 0x7f, 0x01])
        emit("%s-stomp%d" % (base, i), v)
    e, recs = pcap_records(b)
    if e:
        # The same bytes read as every link type.
        for lt in (0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 105, 0x3ffffff):
            v = bytearray(b)
            v[20:24] = struct.pack(e + "I", lt)
            emit("%s-linktype%d" % (base, lt), v)
        # Impossible record lengths.
        for i, incl in enumerate((0xffffffff, 0x1000001, 0, 65536)):
            if not recs:
                break
            pos, _ = recs[rng.randrange(len(recs))]
            v = bytearray(b)
            v[pos + 8:pos + 12] = struct.pack(e + "I", incl)
            emit("%s-incl%d" % (base, i), v)
            v = bytearray(b)
            v[pos + 12:pos + 16] = struct.pack(e + "I", incl & 0xffff)  # wire length below captured
            emit("%s-orig%d" % (base, i), v)
        v = bytearray(b)
        v[4:6] = struct.pack(e + "H", 3)
        emit("%s-version3" % base, v)
    elif b[:4] == b"\x0a\x0d\x0d\x0a":
        blocks = ng_blocks(b)
        idbs = [x for x in blocks if x[1] == 1]
        shb = blocks[0]
        pkts = [x for x in blocks if x[1] in (2, 3, 6)]
        # No interface description: packets refer to nothing.
        v = bytearray(b)
        for pos, t, l in reversed(idbs):
            del v[pos:pos + l]
        emit("%s-no-idb" % base, v)
        # A second section header in the middle (interfaces start again).
        if pkts:
            mid = pkts[len(pkts) // 2][0]
            emit("%s-shb-mid" % base, b[:mid] + b[shb[0]:shb[0] + shb[2]] + b[mid:])
            emit("%s-shb-idb-mid" % base, b[:mid] + b[shb[0]:shb[0] + shb[2]] +
                 (b[idbs[0][0]:idbs[0][0] + idbs[0][2]] if idbs else b"") + b[mid:])
        # Block lengths: odd, tiny, huge, trailing copy differs.
        for i, (pos, t, l) in enumerate(rng.sample(blocks, min(6, len(blocks)))):
            for j, nl in enumerate((l + 1, 8, 0xfffffff0, l - 4, l + 4)):
                v = bytearray(b)
                v[pos + 4:pos + 8] = struct.pack("<I", nl & 0xffffffff)
                emit("%s-blen%d-%d" % (base, i, j), v)
            v = bytearray(b)
            v[pos + l - 4:pos + l] = struct.pack("<I", l ^ 4)
            emit("%s-trail%d" % (base, i), v)
        # Interface options: timestamp resolutions, an option running past its block.
        for pos, t, l in idbs[:1]:
            for j, res in enumerate((0, 9, 19, 63, 0x80, 0x80 | 63, 0x80 | 127, 255)):
                opt = struct.pack("<HH", 9, 1) + bytes([res, 0, 0, 0]) + struct.pack("<HH", 0, 0)
                body = b[pos + 8:pos + 16] + opt
                nl = 12 + len(body)
                emit("%s-tsresol%d" % (base, j), b[:pos] + struct.pack("<II", 1, nl) + body + struct.pack("<I", nl) + b[pos + l:])
            body = b[pos + 8:pos + 16] + struct.pack("<HH", 2, 4000) + b"lo\0\0"
            nl = 12 + len(body)
            emit("%s-optover" % base, b[:pos] + struct.pack("<II", 1, nl) + body + struct.pack("<I", nl) + b[pos + l:])
        # An unknown block, and a packet block on interface 7 / with caplen past its block.
        if pkts:
            pos, t, l = pkts[0]
            unk = struct.pack("<II", 0x0bad0bad, 16) + b"junk" + struct.pack("<I", 16)
            emit("%s-unknown-block" % base, b[:pos] + unk + b[pos:])
            if t == 6:
                v = bytearray(b)
                v[pos + 8:pos + 12] = struct.pack("<I", 7)
                emit("%s-epb-if7" % base, v)
                v = bytearray(b)
                v[pos + 20:pos + 24] = struct.pack("<I", l)
                emit("%s-epb-caplen" % base, v)
        v = bytearray(b)
        v[8:12] = b"\x11\x22\x33\x44"
        emit("%s-bad-bom" % base, v)

# Junk, and valid headers over junk.
for i in range(24):
    emit("junk%d" % i, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))))
for lt in (0, 1, 101, 108, 113, 228, 229, 276):
    for i in range(3):
        hdr = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, lt)
        recs = b""
        for _ in range(rng.randrange(1, 40)):
            frame = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 120)))
            if rng.random() < 0.5 and len(frame) > 20:  # an IP-looking start
                frame = bytes([0x45 if rng.random() < 0.7 else 0x60]) + frame[1:]
            recs += struct.pack("<IIII", 0, 0, len(frame), len(frame) + rng.randrange(0, 3) * 10) + frame
        emit("random-lt%d-%d" % (lt, i), hdr + recs)
emit("empty", b"")
print(count)
