#!/usr/bin/env bash
# Live injection to 127.0.0.1, packets/s, side by side in one run inside a private
# network namespace (unshare -n) so nothing touches the host's stack:
#   netlab   pre-built packets through libnet's raw IPv4 injection (nl_injector_send_plan)
#   sendmmsg a plain raw socket, 64 packets per system call: the limit
#   hping3   hping3 --flood (-A -d 64: ACK segments with 64 data bytes), counted on lo
#   Scapy    send() of a pre-built list (L3 raw socket)
# An nftables rule in the namespace drops the packets at prerouting, before the TCP
# stack, so the kernel does not spend the run answering each with a reset; every
# peer gets the same treatment. Needs root.
#   bench/inject.sh [PACKETS] [ROUNDS]     defaults 300000, 5
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-300000}
ROUNDS=${2:-5}
[ "$(id -u)" -eq 0 ] || { echo "bench/inject.sh needs root (raw sockets, namespaces)" >&2; exit 1; }
mkdir -p bench/out
make -s lib
cc -O2 -Iinclude bench/inject_bench.c build/libnetlab.a $(make -s --no-print-directory dep-libs) -o bench/out/inject_bench
exec unshare -n bash -s "$N" "$ROUNDS" <<'INNER'
set -euo pipefail
N=$1; ROUNDS=$2
ip link set lo up
nft add table ip nlbench
nft add chain ip nlbench pre '{ type filter hook prerouting priority -300; }'
nft add rule ip nlbench pre tcp dport 12345 drop
# /proc/net/dev is this namespace's view (/sys/class/net would still show the host's lo).
lo_tx() { awk '$1 == "lo:" { print $11 }' /proc/net/dev; }
hping_pps() {  # flood for 3 s, count what lo transmitted
  local a b t0 t1
  a=$(lo_tx); t0=$(date +%s.%N)
  timeout -s INT 3 hping3 127.0.0.1 -p 12345 -A -d 64 --flood -q >/dev/null 2>&1 || true
  t1=$(date +%s.%N); b=$(lo_tx)
  echo "($b - $a) / ($t1 - $t0)" | bc -l
}
scapy_pps() {
  /usr/bin/python3 - <<'PY'
import time
from scapy.all import IP, TCP, Raw, send, conf
conf.verb = 0
pkts = [IP(dst="127.0.0.1", flags="DF") / TCP(sport=40000, dport=12345, flags="PA", seq=i * 64) / Raw(b"x" * 64)
        for i in range(5000)]
t0 = time.perf_counter()
send(pkts)
print(len(pkts) / (time.perf_counter() - t0))
PY
}
declare -a ours mm hp sc
for r in $(seq "$ROUNDS"); do
  ours+=("$(bench/out/inject_bench netlab "$N")")
  mm+=("$(bench/out/inject_bench sendmmsg "$N")")
  hp+=("$(hping_pps)")
done
sc=("$(scapy_pps)")
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
/usr/bin/python3 - "$(median "${ours[@]}")" "$(median "${mm[@]}")" "$(median "${hp[@]}")" "$(median "${sc[@]}")" "$N" "$ROUNDS" <<'PY'
import sys
o, m, h, s = (float(x) for x in sys.argv[1:5])
print(f"== live injection to 127.0.0.1 in a private namespace, {sys.argv[5]} packets x {sys.argv[6]} rounds (medians)")
for name, v in (("netlab (libnet raw IPv4)", o), ("sendmmsg raw loop (limit)", m), ("hping3 --flood", h), ("Scapy send()", s)):
    print(f"  {name:28} {v:12,.0f} packets/s")
print(f"netlab / hping3 = {o/h:.2f}x (goal >= 1), netlab / sendmmsg = {o/m:.0%} (goal >= 70%), netlab / Scapy = {o/s:.0f}x (goal >= 50x)")
PY
INNER
