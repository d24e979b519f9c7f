#!/usr/bin/env bash
# analyze --answers on a capture of many tiny conversations (bench/gen_tiny.c: one segment
# each, "hi\n" from a client to port 7007): peak RSS and time of the answer sheet beside plain
# analyze, both in one run (issue 20 item 11: --answers must honour --max-listed, its memory
# bounded as analyze's is). Conversations past --max-listed are counted, not answered.
#
#   bench/answers-listed.sh [CONVERSATIONS] [RUNS]     default 2000000 conversations, 3 runs
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000000}
runs=${2:-3}
out=bench/out
mkdir -p "$out"
swift build -c release --product analyze 2>&1 | tail -1
analyze=$(swift build -c release --show-bin-path)/analyze
cc -O2 -Wall -o "$out/gen_tiny" bench/gen_tiny.c
file="$out/tiny-$n.pcap"
tag="$n $(cksum < bench/gen_tiny.c)"
if [ ! -s "$file" ] || [ "$(cat "$file.tag" 2>/dev/null)" != "$tag" ]; then
  "$out/gen_tiny" "$n" "$file"
  echo "$tag" > "$file.tag"
fi
cat "$file" > /dev/null
# What each prints: the sheet lists max-listed conversations and counts them all.
"$analyze" --answers --json "$file" > "$out/tiny-answers.json"
python3 - "$out/tiny-answers.json" "$n" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
print("answers: %d conversations, %d answered in detail, %.1f MB of JSON" % (
    d["conversations_total"], len(d["conversations"]), os.path.getsize(sys.argv[1]) / 1e6))
assert d["conversations_total"] == int(sys.argv[2])
PY
r=$(python3 bench/measure.py "$runs" "analyze=$analyze --json $file" "answers=$analyze --answers --json $file" \
    "answers-100=$analyze --answers --json --max-listed 100 $file")
python3 - "$r" "$n" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print("\n%-12s %10s %10s %10s" % ("run", "median s", "min s", "peak RSS"))
for k in ["analyze", "answers", "answers-100"]:
    v = r[k]
    print("%-12s %10.3f %10.3f %8.1f MB" % (k, v["median"], v["min"], v["rss_kb"] / 1024))
a, b = r["answers"], r["analyze"]
print("\nanswers vs analyze on %s tiny conversations: %.2fx the peak RSS, %.2fx the time" % (
    "{:,}".format(int(sys.argv[2])), a["rss_kb"] / b["rss_kb"], a["median"] / b["median"]))
PY
