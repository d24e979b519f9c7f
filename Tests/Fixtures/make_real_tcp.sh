#!/usr/bin/env bash
# Regenerates real_tcp.pcap: a real TCP exchange between two Linux network
# namespaces over a veth pair with checksum offload off, so the kernel computes
# every checksum in software and the capture holds them as sent. Needs root,
# iproute2, ethtool, ncat, tcpdump. The checksum tests read the result; tshark
# confirms its checksums in the tests themselves.
set -euo pipefail
cd "$(dirname "$0")"
a=nlfixA$$ b=nlfixB$$
cleanup() { ip netns del $a 2>/dev/null || true; ip netns del $b 2>/dev/null || true; }
trap cleanup EXIT
ip netns add $a; ip netns add $b
ip link add veth0 netns $a type veth peer name veth1 netns $b
ip -n $a addr add 10.77.0.1/24 dev veth0; ip -n $b addr add 10.77.0.2/24 dev veth1
ip -n $a link set veth0 up; ip -n $b link set veth1 up; ip -n $a link set lo up; ip -n $b link set lo up
ip netns exec $a ethtool -K veth0 tx off rx off >/dev/null; ip netns exec $b ethtool -K veth1 tx off rx off >/dev/null
ip netns exec $b ncat -l 10.77.0.2 5555 --recv-only > /dev/null &
srv=$!
sleep 0.5
ip netns exec $a tcpdump -i veth0 -w real_tcp.pcap -s 0 -U tcp port 5555 2>/dev/null &
dump=$!
sleep 1
# Three writes with pauses: an even, an odd (3-byte) and a longer payload, one segment each.
ip netns exec $a python3 -c '
import socket, time
s = socket.create_connection(("10.77.0.2", 5555))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for chunk in (b"Hello, checksum!\n", b"odd", b"A longer line of text so that the segment is a few dozen bytes long.\n"):
    s.sendall(chunk); time.sleep(0.2)
s.close()
'
sleep 1
kill $dump; wait $dump 2>/dev/null || true
kill $srv 2>/dev/null || true
