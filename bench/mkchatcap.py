#!/usr/bin/env python3
"""Chat captures for the dissector benchmark (bench/dissector.sh, issue 20 item 8): one TCP
conversation to port 7000 carrying chat traffic in full-sized segments (MSS 1448, every
segment acknowledged), written as a classic pcap with right checksums.

  mkchatcap.py OUT.pcap longline BYTES [end]   one line of BYTES without a line end (with one: end)
  mkchatcap.py OUT.pcap lines BYTES             ordinary chat lines (commands one way, events the other)
                                                 until BYTES of payload, cut at segment boundaries
"""
import os, struct, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz"))
from rawip import ipv4_tcp  # noqa: E402

MSS = 1448
out_path, kind, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
ended = len(sys.argv) > 4 and sys.argv[4] == "end"


C, S = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
seg = ipv4_tcp


f = open(out_path, "wb")
f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 101))  # LINKTYPE_RAW
n = 0


def put(frame):
    global n
    f.write(struct.pack("<IIII", 1_700_000_000 + n // 1_000_000, n % 1_000_000, len(frame), len(frame)) + frame)
    n += 1


cp, sp = 40000, 7000
cs, ss = 1000, 900000
put(seg(C, S, cp, sp, cs, 0, 0x02))
put(seg(S, C, sp, cp, ss, cs + 1, 0x12))
cs += 1
ss += 1
put(seg(C, S, cp, sp, cs, ss, 0x10))


def send(from_client, data):
    """data in MSS-sized segments, each acknowledged by the other side."""
    global cs, ss
    for i in range(0, len(data), MSS):
        p = data[i:i + MSS]
        if from_client:
            put(seg(C, S, cp, sp, cs, ss, 0x18, p))
            cs += len(p)
            put(seg(S, C, sp, cp, ss, cs, 0x10))
        else:
            put(seg(S, C, sp, cp, ss, cs, 0x18, p))
            ss += len(p)
            put(seg(C, S, cp, sp, cs, ss, 0x10))


send(False, b"HELLO netlab-chat 1\n")
if kind == "longline":
    body = (b"SAY " + b"x" * size)[:size]
    send(True, body + (b"\n" if ended else b""))
elif kind == "lines":
    cmds, evs, total, k = [], [], 0, 0
    while total < size:
        c = b"MSG bob message number %d with some ordinary words in it\n" % k
        e = b"FROM alice message number %d with some ordinary words in it\n" % k
        cmds.append(c)
        evs.append(e)
        total += len(c) + len(e)
        k += 1
    send(True, b"NICK alice\n")
    send(False, b"OK NICK alice\n")
    # Both directions, each a stream of lines cut at segment boundaries (lines span segments).
    a, b = b"".join(cmds), b"".join(evs)
    for i in range(0, max(len(a), len(b)), 16 * MSS):
        send(True, a[i:i + 16 * MSS])
        send(False, b[i:i + 16 * MSS])
else:
    sys.exit("kind: longline or lines")
put(seg(C, S, cp, sp, cs, ss, 0x11))
put(seg(S, C, sp, cp, ss, cs + 1, 0x11))
put(seg(C, S, cp, sp, cs + 1, ss + 1, 0x10))
f.close()
print(n)
