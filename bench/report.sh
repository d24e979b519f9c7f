#!/usr/bin/env bash
# netlab report (--no-pdf: the reading, analysis and drawing of every view) on captures of
# 100, 200, 400 and 2,000 TCP conversations (bench/gen_convs.py), side by side with analyze
# on the same files, and the time per conversation: linear means it stays flat. Also the
# 2,000-conversation report with its PDF (headless Chromium), once per run.
#
#   bench/report.sh [RUNS] [REF_NETLAB]    default 5 runs; REF_NETLAB: another netlab binary
#                                          (e.g. main's) measured beside it on the 100/200/400 files
#
# Prints medians, peak RSS, report/analyze ratios and seconds per 1,000 conversations.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
ref=${2:-}
out=bench/out/report
mkdir -p "$out"
swift build -c release --product netlab 2>&1 | tail -1
swift build -c release --product analyze 2>&1 | tail -1
bin=$(swift build -c release --show-bin-path)
sizes="100 200 400 2000"
for n in $sizes; do
  [ -s "$out/c$n.pcap" ] || /usr/bin/python3 bench/gen_convs.py "$n" "$out/c$n.pcap"
done
cmds=()
for n in $sizes; do
  cmds+=("report$n=$bin/netlab report $out/c$n.pcap --no-pdf --out $out/r$n" "analyze$n=$bin/analyze $out/c$n.pcap")
  if [ -n "$ref" ] && [ "$n" -le 400 ]; then cmds+=("ref$n=$ref report $out/c$n.pcap --no-pdf --out $out/ref$n"); fi
done
cmds+=("pdf2000=$bin/netlab report $out/c2000.pcap --out $out/p2000")
res=$(python3 bench/measure.py "$runs" "${cmds[@]}")
python3 - "$res" "$sizes" "$out" <<'PY'
import json, os, sys
r = json.loads(sys.argv[1]); sizes = sys.argv[2].split(); out = sys.argv[3]
print("\n%-6s %9s %12s %12s %10s %14s %12s" % ("convs", "file", "report s", "analyze s", "ratio", "s/1000 convs", "report RSS"))
for n in sizes:
    rep, an = r["report" + n], r["analyze" + n]
    size = os.path.getsize(os.path.join(out, "c%s.pcap" % n))
    print("%-6s %7.2f MB %12.3f %12.3f %9.1fx %14.3f %9.1f MB" % (n, size / 1e6, rep["median"], an["median"],
          rep["median"] / an["median"], rep["median"] / int(n) * 1000, rep["rss_kb"] / 1024))
    if "ref" + n in r:
        print("%-6s %9s %12.3f  (REF_NETLAB: %.1fx this report's time)" % ("", "ref", r["ref" + n]["median"],
              r["ref" + n]["median"] / rep["median"]))
p = r["pdf2000"]
print("\n2000 conversations with the PDF: %.2f s median, peak RSS %.1f MB (netlab's own process)" % (p["median"], p["rss_kb"] / 1024))
PY
