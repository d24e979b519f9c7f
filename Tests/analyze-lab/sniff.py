#!/usr/bin/python3
"""A packet-socket capture the way a learner's own sniffer makes one (Scapy's
AsyncSniffer on a raw AF_PACKET socket): unlike libpcap it keeps both the
outgoing and the incoming copy of every loopback packet. For analyze's
duplicate-copy tests.

  sniff.py --iface lo --filter "udp port 12345" --out dup.pcap
Prints "ready" once listening; SIGTERM or SIGINT stops it and writes the file.
"""
import argparse
import logging
import signal
import threading

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import AsyncSniffer, wrpcap  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--iface", default="lo")
p.add_argument("--filter", default="")
p.add_argument("--out", required=True)
a = p.parse_args()
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: done.set())
signal.signal(signal.SIGINT, lambda *_: done.set())
s = AsyncSniffer(iface=a.iface, filter=a.filter or None, store=True)
s.start()
while not getattr(s, "running", False):
    done.wait(0.01)
done.wait(0.3)  # the socket is bound and filtered by now
print("ready", flush=True)
done.wait(120)
pkts = s.stop()
wrpcap(a.out, pkts)
