"""Scapy peer for bench/write.sh: read the CSV with the csv module, build the same
TCP/IPv4 packets netlab builds (addresses, ports, seq/ack, DF, TTL, window, payload)
and write them with wrpcap. Prints seconds spent (after imports)."""
import csv
import sys
import time

from scapy.all import IP, TCP, Raw, wrpcap  # noqa: E402

def main(src, dst, sport, cisn, sisn):
    t0, c0 = time.perf_counter(), time.process_time()
    pkts = []
    seq = {"c": cisn + 1, "s": sisn + 1}
    with open(src, newline="", encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            data = row["message"].encode()
            c2s = row["src_app"] == "client"
            me, peer = ("c", "s") if c2s else ("s", "c")
            ip = IP(src="127.0.0.1", dst="127.0.0.1", id=i & 0xFFFF, flags="DF", ttl=64)
            tcp = TCP(sport=sport if c2s else 12345, dport=12345 if c2s else sport, seq=seq[me], ack=seq[peer],
                      flags="PA", window=65535)
            pkts.append(ip / tcp / Raw(data))
            seq[me] = (seq[me] + len(data)) & 0xFFFFFFFF
    wrpcap(dst, pkts)
    print(f"{time.perf_counter() - t0:.4f} {time.process_time() - c0:.4f} {len(pkts)}")

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
