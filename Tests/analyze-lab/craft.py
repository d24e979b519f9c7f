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
p.add_argument("--vlan", type=int, default=0, help="instead: 802.1Q-tagged frames on --iface")
p.add_argument("--iface", default="")
p.add_argument("--src", default="")
p.add_argument("--dst-mac", default="ff:ff:ff:ff:ff:ff")
a = p.parse_args()
conf.verb = 0
if a.vlan:
    # Tagged frames from --src to --host: a UDP exchange and a TCP segment, right checksums.
    from scapy.all import Dot1Q
    eth = Ether(dst=a.dst_mac) / Dot1Q(vlan=a.vlan)
    for i in range(3):
        sendp(eth / IP(src=a.src, dst=a.host) / UDP(sport=40100, dport=a.port) / ("vlan udp %d" % i).encode(), iface=a.iface)
    sendp(eth / IP(src=a.src, dst=a.host) / TCP(sport=40101, dport=a.port, flags="S", seq=100), iface=a.iface)
    sendp(eth / IP(src=a.src, dst=a.host) / TCP(sport=40101, dport=a.port, flags="PA", seq=101, ack=1) / b"Welcome over a VLAN",
          iface=a.iface)
    raise SystemExit(0)
# A TCP segment and a UDP datagram whose transport checksums are wrong.
send(IP(dst=a.host) / TCP(sport=40001, dport=a.port, flags="PA", seq=1000, ack=1, chksum=0xdead) / b"crafted bad tcp")
send(IP(dst=a.host) / UDP(sport=40002, dport=a.port, chksum=0xbeef) / b"crafted bad udp")
# A wrong IPv4 header checksum needs the link layer (the kernel fixes it on raw IP sockets).
sendp(Ether(src="00:00:00:00:00:00", dst="00:00:00:00:00:00") /
      IP(src=a.host, dst=a.host, chksum=0x1234) / UDP(sport=40003, dport=a.port) / b"crafted bad ip",
      iface="lo")
# And one whose checksums are all right, for contrast.
send(IP(dst=a.host) / UDP(sport=40004, dport=a.port) / b"crafted good udp")
