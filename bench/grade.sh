#!/usr/bin/env bash
# netlab grade over a class of 200 submissions of two real captures each (the
# class test's builder, Tests/grade-class/mkclass.py --bench: copies of its
# submissions that pass), in one process, side by side with what a TA does
# without it: a shell loop running analyze --expect-echo and analyze --answers
# on each capture (the issue's wrapper), and tshark following each capture's
# stream (the least a tshark-based grader does). Needs root (the class is made
# of captures in network namespaces).
#
#   bench/grade.sh [SUBMISSIONS] [RUNS]      default 200 submissions, 5 runs
#
# Prints medians, submissions/s, peak RSS and the ratios; the goal is 200
# submissions of two captures in well under 10 s on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
subs=${1:-200}
runs=${2:-5}
[ "$(id -u)" = 0 ] || { echo "bench/grade.sh: needs root (the class is captured in network namespaces)" >&2; exit 1; }
out=bench/out
mkdir -p "$out"
swift build -c release --product netlab 2>&1 | tail -1
swift build -c release --product analyze 2>&1 | tail -1
swift build -c release --product echoserver 2>&1 | tail -1
swift build -c release --product echoclient 2>&1 | tail -1
bin=$(swift build -c release --show-bin-path)
class="$out/grade-class-$subs"
tag="$subs $(cat Tests/grade-class/mkclass.py Tests/grade-class/peer.py | cksum)"
if [ ! -s "$class/truth.jsonl" ] || [ "$(cat "$class.tag" 2>/dev/null)" != "$tag" ]; then
  rm -rf "$class"
  /usr/bin/python3 Tests/grade-class/mkclass.py "$class" --bin "$bin" --bench "$subs"
  echo "$tag" > "$class.tag"
fi
captures=$(find "$class/class" -name '*.pcap*' | wc -l)
zips=$(find "$class/class" -maxdepth 1 -name '*.zip' | wc -l)
echo "class: $subs submissions ($zips zips), $captures captures in folders, plus those inside the zips"

# The grades must be right before they are timed: every copy of a passing submission passes.
"$bin/netlab" grade "$class/class" --rubric "$class/rubric.txt" --csv "$out/grade-$subs.csv" > /dev/null
pass=$(grep -c ',PASS,' "$out/grade-$subs.csv" || true)
[ "$pass" = "$subs" ] || { echo "bench/grade.sh: $pass of $subs passed" >&2; exit 1; }

# The peers read the same captures, unzipped once beforehand (their unzipping is not timed).
flat="$out/grade-flat-$subs"
if [ ! -d "$flat" ] || [ "$(cat "$flat.tag" 2>/dev/null)" != "$tag" ]; then
  rm -rf "$flat"
  mkdir -p "$flat"
  for s in "$class"/class/*; do
    name=$(basename "$s" .zip)
    if [ -d "$s" ]; then cp -r "$s" "$flat/$name"; else /usr/bin/python3 -m zipfile -e "$s" "$flat/$name"; fi
  done
  echo "$tag" > "$flat.tag"
fi
cat > "$out/grade-loop.sh" <<SH
#!/bin/sh
# A TA's wrapper: each capture graded by analyze, one process per question.
for f in \$(find "$flat" -name '*.pcap*'); do
  "$bin/analyze" "\$f" --expect-echo "$class/in-proj.txt" --json > /dev/null || true
  "$bin/analyze" "\$f" --answers --json > /dev/null || true
done
SH
cat > "$out/grade-tshark.sh" <<SH
#!/bin/sh
# tshark following each capture's first TCP stream: the least a tshark-based grader does.
for f in \$(find "$flat" -name '*.pcap*'); do
  tshark -r "\$f" -q -z follow,tcp,ascii,0 > /dev/null 2>&1 || true
done
SH
chmod +x "$out/grade-loop.sh" "$out/grade-tshark.sh"
res=$(python3 bench/measure.py "$runs" \
  "grade=$bin/netlab grade $class/class --rubric $class/rubric.txt --csv $out/grade-$subs.csv" \
  "analyze-loop=$out/grade-loop.sh")
tres=$(python3 bench/measure.py 1 "tshark-loop=$out/grade-tshark.sh")  # one round: minutes, and thousands of times slower
python3 - "$res" "$tres" "$subs" <<'PY'
import json, sys
r = {**json.loads(sys.argv[1]), **json.loads(sys.argv[2])}
n = int(sys.argv[3])
print("\n%-14s %10s %10s %14s %10s" % ("grader", "median s", "min s", "submissions/s", "peak RSS"))
for k in ["grade", "analyze-loop", "tshark-loop"]:
    v = r[k]
    print("%-14s %10.3f %10.3f %14.0f %8.1f MB" % (k, v["median"], v["min"], n / v["median"], v["rss_kb"] / 1024))
g = r["grade"]["median"]
print("\nnetlab grade: %d submissions of two captures in %.2f s (median; goal: well under 10 s)" % (n, g))
print("ratios (median): analyze loop / grade = %.1fx, tshark loop / grade = %.1fx"
      % (r["analyze-loop"]["median"] / g, r["tshark-loop"]["median"] / g))
PY
