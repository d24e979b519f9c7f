#!/usr/bin/env bash
# analyze's speed and memory against its peers, side by side in one run.
#
#   bench/analyze.sh [PACKETS] [RUNS]      default 1000000 packets, 5 runs (tshark: 3)
#   SKIP_4M=1 bench/analyze.sh             skip the 4,000,000-packet memory run
#
# Generates (once, in bench/out/) a TCP capture of PACKETS packets in many
# conversations (bench/gen_capture.c: Ethernet, IPv4 and IPv6, handshakes,
# requests, multi-segment responses, delayed ACKs, FIN; every checksum right),
# then times, round-robin:
#   analyze FILE > /dev/null            the full text report: conversations, checksums, largest payload
#   tcpdump -nn -r FILE > /dev/null     the issue's peer
#   tshark -r FILE -q -z conv,tcp       the issue's peer
#   pcap_loop FILE                      a bare libpcap pcap_next_ex loop: the limit
# and prints medians, ratios against the goals (>= 10x tcpdump, >= 15x tshark,
# <= 3x pcap_next_ex), and analyze's peak RSS on PACKETS and on 4,000,000 packets,
# both in ~4x the conversations and in as many conversations as PACKETS has (longer
# responses): memory follows conversations, not file size.
# The clients' addresses are spread over the address space: tcpdump keeps a
# table of the addresses it prints, hashed on their low-order bytes, and would
# crawl (40 s, not 3.5 s, per million packets) if they all shared them.
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${1:-1000000}
runs=${2:-5}
truns=$(( runs < 3 ? runs : 3 ))
out=bench/out
mkdir -p "$out"

echo "== build (release)"
swift build -c release --product analyze 2>&1 | tail -1
analyze=$(swift build -c release --show-bin-path)/analyze
cc -O2 -Wall -o "$out/gen_capture" bench/gen_capture.c
cc -O2 -Wall -o "$out/pcap_loop" bench/pcap_loop.c -lpcap

gen() { # PACKETS FILE [LONGER]
  local tag="$1 ${3:-1} $(cksum < bench/gen_capture.c)"
  if [ ! -s "$2" ] || [ "$(cat "$2.tag" 2>/dev/null)" != "$tag" ]; then
    "$out/gen_capture" "$1" "$2" 1 "${3:-1}"
    echo "$tag" > "$2.tag"
  fi
}
file="$out/analyze-$packets.pcap"
echo "== capture"
gen "$packets" "$file"
capinfos -c -s -a -e -z "$file" | sed 1d
cat "$file" > /dev/null   # every tool reads it from the page cache

# analyze must read what the generator wrote: every packet, every checksum right.
summary=$("$analyze" --json "$file" | python3 -c 'import json,sys; d=json.load(sys.stdin); c=d["checksums"]; print(d["packets"], d["tcp_conversations"], c["tcp"]["good"], c["tcp"]["bad"], c["ipv4"]["bad"])')
read -r n convs good bad ipbad <<< "$summary"
echo "analyze: $n packets, $convs TCP conversations, $good TCP checksums good, $bad bad, $ipbad IPv4 bad"
[ "$bad" = 0 ] && [ "$ipbad" = 0 ] && [ "$good" = "$n" ] || { echo "analyze disagrees with the generator" >&2; exit 1; }

echo "== $runs rounds (tshark $truns), medians"
fast=$(python3 bench/measure.py "$runs" \
  "analyze=$analyze $file" \
  "pcap_next_ex=$out/pcap_loop $file" \
  "tcpdump=tcpdump -nn -r $file")
slow=$(python3 bench/measure.py "$truns" "tshark=tshark -r $file -q -z conv,tcp")
rss4=""
if [ "${SKIP_4M:-0}" != 1 ]; then
  big="$out/analyze-4000000.pcap" long="$out/analyze-4000000-long.pcap"
  gen 4000000 "$big"
  gen 4000000 "$long" 4
  cat "$big" "$long" > /dev/null
  rss4=$(python3 bench/measure.py 1 "analyze_4M=$analyze $big" "analyze_4M_long=$analyze $long")
  conv4=$("$analyze" --json "$big" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tcp_conversations"])')
  conv4l=$("$analyze" --json "$long" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tcp_conversations"])')
fi

python3 - "$fast" "$slow" "$rss4" "$packets" "$(du -m "$file" | cut -f1)" "$convs" "${conv4:-0}" "${conv4l:-0}" <<'PY'
import json, sys
fast, slow = json.loads(sys.argv[1]), json.loads(sys.argv[2])
big = json.loads(sys.argv[3]) if sys.argv[3] else {}
n, mb = int(sys.argv[4]), int(sys.argv[5])
convs, conv4, conv4l = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
r = {**fast, **slow}
a = r["analyze"]["median"]
print("\n%-14s %10s %10s %12s %10s" % ("tool", "median s", "min s", "packets/s", "peak RSS"))
for k in ["analyze", "pcap_next_ex", "tcpdump", "tshark"]:
    v = r[k]
    print("%-14s %10.3f %10.3f %12s %8.1f MB" % (k, v["median"], v["min"], "{:,.0f}".format(n / v["median"]), v["rss_kb"] / 1024))
print("\nanalyze on %d packets (%d MB): %.3f s median, %s packets/s" % (n, mb, a, "{:,.0f}".format(n / a)))
goals = [("tcpdump -nn -r", r["tcpdump"]["median"] / a, ">= 10x faster", lambda x: x >= 10),
         ("tshark -q -z conv,tcp", r["tshark"]["median"] / a, ">= 15x faster", lambda x: x >= 15),
         ("pcap_next_ex loop", a / r["pcap_next_ex"]["median"], "<= 3x slower", lambda x: x <= 3)]
for name, x, goal, ok in goals:
    print("  vs %-22s %7.1fx   goal %-14s %s" % (name, x, goal, "MET" if ok(x) else "NOT MET"))
print("\npeak RSS of analyze:")
print("  %9d packets, %7d conversations: %6.1f MB" % (n, convs, r["analyze"]["rss_kb"] / 1024))
if big:
    print("  %9d packets, %7d conversations: %6.1f MB" % (4000000, conv4, big["analyze_4M"]["rss_kb"] / 1024))
    print("  %9d packets, %7d conversations: %6.1f MB" % (4000000, conv4l, big["analyze_4M_long"]["rss_kb"] / 1024))
PY
