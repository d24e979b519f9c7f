#!/usr/bin/env bash
# One large message (issue 8 item 9: the injector was quadratic in a message's size,
# 2/4/8/16 MB -> 0.19/0.59/5.6/31.7 s). injector --write plus its text report and its
# JSON report, release build, for one message of 2, 4, 8 and 16 MiB (16 MiB is the CSV
# limit), side by side with Scapy cutting the same message into 1460-byte segments and
# writing them with wrpcap. Prints seconds and seconds per MiB; linear means the per-MiB
# figure stays flat. Fails when 16 MiB costs more than 3x per MiB what 2 MiB does, or
# takes over 20 s (a generous bound: linear is well under 2 s).
#   bench/message_size.sh [RUNS]     default 3 (median)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
DEST=${DEST:-/dev/shm}
out=bench/out; mkdir -p $out
swift build -c release --product injector >/dev/null 2>&1 || swift build -c release --product injector
INJ=.build/release/injector
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
for mb in 2 4 8 16; do
  # 16 MiB exactly is the limit; stay one byte under it.
  /usr/bin/python3 -c "
import sys
n = int(sys.argv[1]) * 1024 * 1024 - (1 if sys.argv[1] == '16' else 0)
print('msg_id,app_protocol,src_app,dst_app,message,timestamp')
print('1,CHAT,client,server,' + ('abcdefghijklmnopqrstuvwxyz0123456789' * (n // 36 + 1))[:n] + ',2025-03-01T10:00:00.000Z')
" $mb > $out/msg$mb.csv
done
printf '%-6s %12s %12s %12s %12s %12s\n' MiB "text s" "s/MiB" "json s" "s/MiB" "Scapy s"
declare -A per
for mb in 2 4 8 16; do
  t=(); j=()
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f %e -o $out/t.txt $INJ --no-inject --write "$DEST/msg.pcap" $out/msg$mb.csv > $out/report.txt
    t+=("$(cat $out/t.txt)")
    /usr/bin/time -f %e -o $out/t.txt $INJ --no-inject --format json --write "$DEST/msg.pcap" $out/msg$mb.csv > $out/report.json
    j+=("$(cat $out/t.txt)")
  done
  pkts=$(capinfos -c -M "$DEST/msg.pcap" | awk '/Number of packets/ {print $NF}')
  tm=$(median "${t[@]}"); jm=$(median "${j[@]}")
  sc=$(/usr/bin/python3 - $out/msg$mb.csv "$DEST/scapy.pcap" <<'PY'
import csv, sys, time
csv.field_size_limit(1 << 30)
from scapy.all import IP, TCP, Raw, wrpcap
t0 = time.perf_counter()
row = next(csv.DictReader(open(sys.argv[1], newline="")))
data = row["message"].encode()
pkts = [IP(src="127.0.0.1", dst="127.0.0.1", flags="DF") / TCP(sport=40000, dport=12345, seq=1 + o, flags="PA")
        / Raw(data[o:o + 1460]) for o in range(0, len(data), 1460)]
wrpcap(sys.argv[2], pkts)
print(f"{time.perf_counter() - t0:.2f}")
PY
)
  per[$mb]=$(echo "$tm / $mb" | bc -l)
  printf '%-6s %12s %12.4f %12s %12.4f %12s   (%s packets)\n' "$mb" "$tm" "${per[$mb]}" "$jm" "$(echo "$jm / $mb" | bc -l)" "$sc" "$pkts"
done
growth=$(echo "${per[16]} / ${per[2]}" | bc -l)
printf 'per-MiB cost, 16 MiB over 2 MiB: %.2fx (1.0 = linear; the quadratic code gave ~21x)\n' "$growth"
rm -f "$DEST/msg.pcap" "$DEST/scapy.pcap"
if (( $(echo "$growth > 3 || ${per[16]} * 16 > 20" | bc -l) )); then
  echo "FAIL: injector is not linear in a message's size" >&2; exit 1
fi
echo "linear: ok"
