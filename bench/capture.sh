#!/usr/bin/env bash
# Capture under load: `capture` on lo while netlab injects PACKETS packets to
# 127.0.0.1 as fast as it can, in a private namespace. Reports packets captured,
# kernel drops and the rate; tcpdump runs the same test alongside for comparison.
#   bench/capture.sh [PACKETS]     default 200000
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
[ "$(id -u)" -eq 0 ] || { echo "bench/capture.sh needs root" >&2; exit 1; }
mkdir -p bench/out
make -s lib
cc -O2 -Iinclude bench/inject_bench.c build/libnetlab.a $(make -s --no-print-directory dep-libs) -o bench/out/inject_bench
swift build -c release --product capture >/dev/null 2>&1 || swift build -c release --product capture
exec unshare -n bash -s "$N" <<'INNER'
set -euo pipefail
N=$1
ip link set lo up
nft add table ip nlbench
nft add chain ip nlbench pre '{ type filter hook prerouting priority -300; }'
nft add rule ip nlbench pre tcp dport 12345 drop
run() {  # $1: name, rest: the capture command writing $out
  local name=$1; shift
  "$@" > /dev/shm/nlcap.$name.log 2>&1 &
  local pid=$!
  sleep 1
  local rate; rate=$(bench/out/inject_bench netlab "$N")
  sleep 1
  kill -INT $pid 2>/dev/null || true
  wait $pid || true
  echo "$rate"
}
rate=$(run netlab .build/release/capture -i lo -w /dev/shm/nlcap.netlab.pcap --json tcp dst port 12345)
got=$(capinfos -c -M /dev/shm/nlcap.netlab.pcap | awk '/Number of packets/ {print $NF}')
drops=$(grep -o '[0-9]* dropped (buffer full)' /dev/shm/nlcap.netlab.log | awk '{print $1}')
trate=$(run tcpdump tcpdump -i lo -n -w /dev/shm/nlcap.tcpdump.pcap tcp dst port 12345)
tgot=$(capinfos -c -M /dev/shm/nlcap.tcpdump.pcap | awk '/Number of packets/ {print $NF}')
tdrops=$(grep -o '[0-9]* packets dropped by kernel' /dev/shm/nlcap.tcpdump.log | awk '{print $1}')
printf "== capture on lo while injecting %s packets (private namespace)\n" "$N"
printf "  netlab capture: %s of %s captured, kernel drops %s (injection ran at %.0f packets/s)\n" "$got" "$N" "$drops" "$rate"
printf "  tcpdump:        %s of %s captured, kernel drops %s (injection ran at %.0f packets/s)\n" "$tgot" "$N" "$tdrops" "$trate"
[ "$got" = "$N" ] && [ "$drops" = 0 ] && echo "goal (no packet lost, kernel drops 0): met" || echo "goal (no packet lost, kernel drops 0): NOT met"
rm -f /dev/shm/nlcap.*
INNER
