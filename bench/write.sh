#!/usr/bin/env bash
# `injector --write` of a generated 100,000-message CSV (release build, whole
# process: CSV parse, libnet construction, both checksums cross-checked, pcap
# written and renamed) side by side with Scapy building the same packets and
# writing them with wrpcap. Per-packet times and the ratio; medians of runs.
#   bench/write.sh [MESSAGES] [RUNS]     defaults 100000, 5 (Scapy: 1 run)
#   DEST=bench/out bench/write.sh        write the captures to disk instead of /dev/shm
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
RUNS=${2:-5}
# Both tools write to the same place; a tmpfs keeps the disk's own noise out of the comparison.
DEST=${DEST:-/dev/shm}
out=bench/out; mkdir -p $out
swift build -c release --product injector >/dev/null 2>&1 || swift build -c release --product injector
INJ=.build/release/injector
/usr/bin/python3 - "$N" > $out/msgs.csv <<'PY'
import random, sys
random.seed(1)
n = int(sys.argv[1])
print("msg_id,app_protocol,src_app,dst_app,message,timestamp")
for i in range(n):
    src, dst = ("client", "server") if i % 3 else ("server", "client")
    text = f"message {i} " + "".join(random.choice("abcdefghij klmnop") for _ in range(random.randint(10, 300)))
    print(f'{i},CHAT,{src},{dst},"{text}",')
PY
echo "== injector --write vs Scapy (IP()/TCP()/Raw() + wrpcap), $N messages of 20-310 bytes, into $DEST"
walls=(); cpus=()
for r in $(seq "$RUNS"); do
  /usr/bin/time -f "%e %U %S" -o $out/time.txt \
    $INJ $out/msgs.csv --write "$DEST/netlab.pcap" --no-inject -q --server server --src-port 40000 > /dev/null
  read -r wall usr sys < $out/time.txt
  walls+=("$wall"); cpus+=("$(echo "$usr + $sys" | bc -l)")
done
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
wall=$(median "${walls[@]}"); cpu=$(median "${cpus[@]}")
pkts=$(capinfos -c -M "$DEST/netlab.pcap" | awk '/Number of packets/ {print $NF}')
# The same ISNs netlab chose, so Scapy builds byte-identical headers.
isns=$($INJ $out/msgs.csv --no-inject --write $out/isn-probe.pcap --format json --server server --src-port 40000 2>/dev/null |
       /usr/bin/python3 -c 'import json,sys; c=json.load(sys.stdin)["conversations"][0]; print(c["client_isn"], c["server_isn"])')
read -r cisn sisn <<< "$isns"
read -r swall scpu spk < <(/usr/bin/python3 bench/scapy_write.py $out/msgs.csv "$DEST/scapy.pcap" 40000 "$cisn" "$sisn")
# Same packets? Compare seq, ack and payload as tshark reads them from both files (first 1000).
a=$(tshark -r "$DEST/netlab.pcap" -c 1000 -T fields -e tcp.seq_raw -e tcp.ack_raw -e tcp.payload 2>/dev/null | md5sum)
b=$(tshark -r "$DEST/scapy.pcap" -c 1000 -T fields -e tcp.seq_raw -e tcp.ack_raw -e tcp.payload 2>/dev/null | md5sum)
[ "$a" = "$b" ] && same="yes" || same="NO"
rm -f "$DEST/netlab.pcap" "$DEST/scapy.pcap"
/usr/bin/python3 - "$wall" "$cpu" "$pkts" "$swall" "$scpu" "$spk" "$same" <<'PY'
import sys
w, c, pk, sw, sc, spk = (float(x) for x in sys.argv[1:7])
same = sys.argv[7]
print(f"{'':24} {'wall us/pkt':>12} {'CPU us/pkt':>11}")
print(f"{'netlab injector --write':24} {w/pk*1e6:12.2f} {c/pk*1e6:11.2f}   (whole process, median of runs)")
print(f"{'Scapy + wrpcap':24} {sw/spk*1e6:12.2f} {sc/spk*1e6:11.2f}   (build + write, after imports)")
print(f"ratio per packet: wall {sw/spk/(w/pk):.0f}x, CPU {sc/spk/(c/pk):.0f}x (goal >= 200x); identical seq/ack/payloads: {same}")
PY
