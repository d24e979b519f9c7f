#!/usr/bin/env bash
# analyze's speed and memory against its peers, side by side in one run.
#
#   bench/analyze.sh [PACKETS] [RUNS]      default 1000000 packets, 5 runs (tshark: 3)
#   SKIP_4M=1 bench/analyze.sh             skip the 4,000,000-packet memory run
#   BASE_ANALYZE=/path/to/analyze bench/analyze.sh   also time an earlier analyze in the same rounds
#                                                     (ratios of time and peak RSS) and its 4 M-packet RSS
#
# Generates (once, in bench/out/) a TCP capture of PACKETS packets in many
# conversations (bench/gen_capture.c: Ethernet, IPv4 and IPv6, handshakes,
# requests, multi-segment responses, delayed ACKs, FIN; every checksum right),
# then times, round-robin:
#   analyze FILE > /dev/null            the full text report: conversations, checksums, largest payload
#   tcpdump -nn -r FILE > /dev/null     the issue's peer
#   tshark -r FILE -q -z expert         the issue's peer (its TCP expert analysis)
#   pcap_loop FILE                      a bare libpcap pcap_next_ex loop: the limit
# and the same on a lossy capture of PACKETS packets (2% of response segments lost
# before the capture point, repaired by fast retransmissions after three duplicate
# ACKs with SACK blocks), so the TCP analysis path is exercised, not only clean
# streams. Prints medians, ratios against the goals (>= 10x tcpdump, >= 40x tshark,
# <= 1.5x pcap_next_ex), and analyze's peak RSS on PACKETS and on 4,000,000 packets,
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

gen() { # PACKETS FILE [LONGER [LOSS]]
  local tag="$1 ${3:-1} ${4:-0} $(cksum < bench/gen_capture.c)"
  if [ ! -s "$2" ] || [ "$(cat "$2.tag" 2>/dev/null)" != "$tag" ]; then
    "$out/gen_capture" "$1" "$2" 1 "${3:-1}" "${4:-0}"
    echo "$tag" > "$2.tag"
  fi
}
file="$out/analyze-$packets.pcap"
lossy="$out/analyze-lossy-$packets.pcap"
echo "== capture"
gen "$packets" "$file"
gen "$packets" "$lossy" 1 20
capinfos -c -s -a -e -z "$file" | sed 1d
cat "$file" "$lossy" > /dev/null   # every tool reads them from the page cache
lossy_counts=$("$analyze" --json "$lossy" | python3 -c 'import json,sys; c=json.load(sys.stdin)["tcp_analysis_counts"]; print(c["retransmission"], c["fast_retransmission"], c["lost_segment"], c["duplicate_ack"])')
read -r l_re l_fast l_lost l_dup <<< "$lossy_counts"
echo "lossy capture: $l_re retransmissions ($l_fast fast), $l_lost segments not captured, $l_dup duplicate ACKs"
[ "$l_re" -gt 0 ] && [ "$l_fast" = "$l_re" ] && [ "$l_lost" = "$l_re" ] || { echo "analyze misread the lossy capture" >&2; exit 1; }

# analyze must read what the generator wrote: every packet, every checksum right.
summary=$("$analyze" --json "$file" | python3 -c 'import json,sys; d=json.load(sys.stdin); c=d["checksums"]; print(d["packets"], d["tcp_conversations"], c["tcp"]["good"], c["tcp"]["bad"], c["ipv4"]["bad"])')
read -r n convs good bad ipbad <<< "$summary"
echo "analyze: $n packets, $convs TCP conversations, $good TCP checksums good, $bad bad, $ipbad IPv4 bad"
[ "$bad" = 0 ] && [ "$ipbad" = 0 ] && [ "$good" = "$n" ] || { echo "analyze disagrees with the generator" >&2; exit 1; }

echo "== $runs rounds (tshark $truns), medians"
fast=$(python3 bench/measure.py "$runs" \
  "analyze=$analyze $file" \
  "pcap_next_ex=$out/pcap_loop $file" \
  "tcpdump=tcpdump -nn -r $file" \
  ${BASE_ANALYZE:+"base=$BASE_ANALYZE $file"})
slow=$(python3 bench/measure.py "$truns" "tshark=tshark -r $file -q -z expert")
echo "== lossy capture: $runs rounds (tshark $truns), medians"
lfast=$(python3 bench/measure.py "$runs" \
  "analyze_lossy=$analyze $lossy" \
  "pcap_next_ex_lossy=$out/pcap_loop $lossy" \
  "tcpdump_lossy=tcpdump -nn -r $lossy" \
  ${BASE_ANALYZE:+"base_lossy=$BASE_ANALYZE $lossy"})
lslow=$(python3 bench/measure.py "$truns" "tshark_lossy=tshark -r $lossy -q -z expert")
rss4=""
if [ "${SKIP_4M:-0}" != 1 ]; then
  big="$out/analyze-4000000.pcap" long="$out/analyze-4000000-long.pcap"
  gen 4000000 "$big"
  gen 4000000 "$long" 4
  cat "$big" "$long" > /dev/null
  rss4=$(python3 bench/measure.py 1 "analyze_4M=$analyze $big" "analyze_4M_long=$analyze $long" \
         ${BASE_ANALYZE:+"base_4M=$BASE_ANALYZE $big" "base_4M_long=$BASE_ANALYZE $long"})
  conv4=$("$analyze" --json "$big" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tcp_conversations"])')
  conv4l=$("$analyze" --json "$long" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tcp_conversations"])')
fi

python3 - "$fast" "$slow" "$rss4" "$packets" "$(du -m "$file" | cut -f1)" "$convs" "${conv4:-0}" "${conv4l:-0}" "$lfast" "$lslow" <<'PY'
import json, sys
fast, slow = json.loads(sys.argv[1]), json.loads(sys.argv[2])
lossy = {**json.loads(sys.argv[9]), **json.loads(sys.argv[10])}
big = json.loads(sys.argv[3]) if sys.argv[3] else {}
n, mb = int(sys.argv[4]), int(sys.argv[5])
convs, conv4, conv4l = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
r = {**fast, **slow}
a = r["analyze"]["median"]
print("\n%-14s %10s %10s %12s %10s" % ("tool", "median s", "min s", "packets/s", "peak RSS"))
r.update(lossy)
for k in ["analyze", "pcap_next_ex", "tcpdump", "tshark", "analyze_lossy", "pcap_next_ex_lossy", "tcpdump_lossy", "tshark_lossy"]:
    v = r[k]
    print("%-14s %10.3f %10.3f %12s %8.1f MB" % (k, v["median"], v["min"], "{:,.0f}".format(n / v["median"]), v["rss_kb"] / 1024))
print("\nanalyze on %d packets (%d MB): %.3f s median, %s packets/s" % (n, mb, a, "{:,.0f}".format(n / a)))
for tag, sfx in [("clean", ""), ("lossy", "_lossy")]:
    a = r["analyze" + sfx]["median"]
    goals = [("tcpdump -nn -r", r["tcpdump" + sfx]["median"] / a, ">= 10x faster", lambda x: x >= 10),
             ("tshark -q -z expert", r["tshark" + sfx]["median"] / a, ">= 40x faster", lambda x: x >= 40),
             ("pcap_next_ex loop", a / r["pcap_next_ex" + sfx]["median"], "<= 1.5x slower", lambda x: x <= 1.5)]
    print("%s capture:" % tag)
    for name, x, goal, ok in goals:
        print("  vs %-22s %7.1fx   goal %-14s %s" % (name, x, goal, "MET" if ok(x) else "NOT MET"))
if "base" in r:
    print("this analyze against BASE_ANALYZE, same rounds (issue 23: within 5%):")
    for tag, sfx in [("clean", ""), ("lossy", "_lossy")]:
        t = r["analyze" + sfx]["median"] / r["base" + sfx]["median"]
        m = r["analyze" + sfx]["rss_kb"] / r["base" + sfx]["rss_kb"]
        print("  %s: time %.3fx, peak RSS %.3fx   %s" % (tag, t, m, "MET" if t <= 1.05 and m <= 1.05 else "NOT MET"))
print("\npeak RSS of analyze:")
print("  %9d packets, %7d conversations: %6.1f MB" % (n, convs, r["analyze"]["rss_kb"] / 1024))
if big:
    print("  %9d packets, %7d conversations: %6.1f MB" % (4000000, conv4, big["analyze_4M"]["rss_kb"] / 1024))
    print("  %9d packets, %7d conversations: %6.1f MB" % (4000000, conv4l, big["analyze_4M_long"]["rss_kb"] / 1024))
    if "base_4M" in big:
        for k in ["4M", "4M_long"]:
            x = big["analyze_" + k]["rss_kb"] / big["base_" + k]["rss_kb"]
            print("  %-8s vs BASE_ANALYZE %6.1f MB: %.2fx   goal <= 1.3x %s" % (k, big["base_" + k]["rss_kb"] / 1024, x,
                  "MET" if x <= 1.3 else "NOT MET"))
PY
