#!/usr/bin/python3
"""Packets with wrong checksums, crafted with Scapy (Debian's python3-scapy) and
sent on loopback for analyze's agreement tests. Nothing listens on the port.

  craft.py --host 127.0.0.1 --port PORT
"""
import argparse
import logging

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, TCP, UDP, Ether, conf, send, sendp  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--host", default="127.0.0.1")
p.add_argument("--port", type=int, required=True)
a = p.parse_args()
conf.verb = 0
# A TCP segment and a UDP datagram whose transport checksums are wrong.
send(IP(dst=a.host) / TCP(sport=40001, dport=a.port, flags="PA", seq=1000, ack=1, chksum=0xdead) / b"crafted bad tcp")
send(IP(dst=a.host) / UDP(sport=40002, dport=a.port, chksum=0xbeef) / b"crafted bad udp")
# A wrong IPv4 header checksum needs the link layer (the kernel fixes it on raw IP sockets).
sendp(Ether(src="00:00:00:00:00:00", dst="00:00:00:00:00:00") /
      IP(src=a.host, dst=a.host, chksum=0x1234) / UDP(sport=40003, dport=a.port) / b"crafted bad ip",
      iface="lo")
# And one whose checksums are all right, for contrast.
send(IP(dst=a.host) / UDP(sport=40004, dport=a.port) / b"crafted good udp")
