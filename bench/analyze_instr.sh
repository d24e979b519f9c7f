#!/usr/bin/env bash
# analyze's instructions per packet beside an earlier build's, counted by valgrind's callgrind:
# a count, not a time, so the same on a quiet machine and on one other builds share (the
# figure to compare two builds with when bench/analyze.sh's times are too noisy to tell 5%).
#
#   BASE_ANALYZE=/path/to/old/analyze bench/analyze_instr.sh [PACKETS]    default 200000 packets
#
# Counts each thread apart: the reading thread (read and decode, nl_readahead.c) and the
# analysis thread (the consumers, then the report), on a clean and a lossy capture made by
# bench/gen_capture.c, for this checkout's release analyze and for BASE_ANALYZE. The two run on
# the two cores at once, so the slower thread sets the pace: both ratios are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BASE_ANALYZE:?give BASE_ANALYZE=/path/to/an/earlier/analyze (a release build)}"
packets=${1:-200000}
out=bench/out
mkdir -p "$out"
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
swift build -c release --product analyze 2>&1 | tail -1
new=$(swift build -c release --show-bin-path)/analyze
cc -O2 -Wall -o "$out/gen_capture" bench/gen_capture.c
tmp=$(mktemp -d /tmp/analyze-instr.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# valgrind cannot read the DWARF of a Swift release binary: count copies without it.
objcopy --strip-debug "$new" "$tmp/new"
objcopy --strip-debug "$BASE_ANALYZE" "$tmp/base"
for kind in clean lossy; do
  f="$out/instr-$kind-$packets.pcap"
  [ -s "$f" ] || "$out/gen_capture" "$packets" "$f" 1 1 "$([ $kind = lossy ] && echo 20 || echo 0)" >/dev/null
  for b in new base; do
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$tmp/$b.$kind" \
      "$tmp/$b" "$f" > /dev/null 2> "$tmp/$b.$kind.log" || { cat "$tmp/$b.$kind.log" >&2; exit 1; }
  done
done
python3 - "$tmp" "$packets" <<'PY'
import glob, os, sys
tmp, packets = sys.argv[1], int(sys.argv[2])
def threads(prefix):  # {thread number: instructions}
    out = {}
    for f in glob.glob(prefix + "-*"):
        for line in open(f):
            if line.startswith("summary:"):
                out[int(f.rsplit("-", 1)[1])] = int(line.split()[1])
    return out
print(f"\n== instructions per packet ({packets} packets; callgrind, one run each: a count, not a time)")
print(f"  {'capture':8}{'thread':>22}{'this build':>12}{'base':>10}{'ratio':>8}")
for kind in ("clean", "lossy"):
    n, b = threads(f"{tmp}/new.{kind}"), threads(f"{tmp}/base.{kind}")
    names = {1: "analysis (main)", 2: "reading (read-ahead)"}
    for t in sorted(set(n) & set(b)):
        print(f"  {kind:8}{names.get(t, str(t)):>22}{n[t] / packets:12.0f}{b[t] / packets:10.0f}{n[t] / b[t]:8.3f}")
PY
