#!/usr/bin/env bash
# analyze --answers (the answer sheet: a consumer of the one pass, greeting, request/reply pairs,
# frame bytes, tied largest payloads) against analyze's one-pass report and its
# peer tshark -z conv,tcp (which gives only the frame bytes), side by side.
#
#   bench/answers.sh [PACKETS] [RUNS]      default 1000000 packets, 5 runs (tshark: 3)
#
# The capture is bench/gen_capture.c's (as bench/analyze.sh): many request/response
# conversations. Prints medians, packets/s, peak RSS and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${1:-1000000}
runs=${2:-5}
truns=$(( runs < 3 ? runs : 3 ))
out=bench/out
mkdir -p "$out"
swift build -c release --product analyze 2>&1 | tail -1
analyze=$(swift build -c release --show-bin-path)/analyze
cc -O2 -Wall -o "$out/gen_capture" bench/gen_capture.c
file="$out/analyze-$packets.pcap"
tag="$packets 1 $(cksum < bench/gen_capture.c)"
if [ ! -s "$file" ] || [ "$(cat "$file.tag" 2>/dev/null)" != "$tag" ]; then
  "$out/gen_capture" "$packets" "$file" 1 1
  echo "$tag" > "$file.tag"
fi
cat "$file" > /dev/null
# The answers must agree with tshark on the frame bytes of the first conversation.
read -r c2s s2c convs < <("$analyze" --answers --json "$file" | python3 -c '
import json,sys; d=json.load(sys.stdin); a=d["conversations"][0]["answers"]
print(a["bytes_c2s"]["frames"], a["bytes_s2c"]["frames"], len(d["conversations"]))')
echo "answers: $convs TCP conversations; conversation 1: $c2s frame bytes c->s, $s2c s->c"
fast=$(python3 bench/measure.py "$runs" "answers=$analyze --answers --json $file" "analyze=$analyze $file")
slow=$(python3 bench/measure.py "$truns" "tshark=tshark -r $file -q -z conv,tcp")
python3 - "$fast" "$slow" "$packets" <<'PY'
import json, sys
r = {**json.loads(sys.argv[1]), **json.loads(sys.argv[2])}
n = int(sys.argv[3])
print("\n%-10s %10s %10s %12s %10s" % ("tool", "median s", "min s", "packets/s", "peak RSS"))
for k in ["answers", "analyze", "tshark"]:
    v = r[k]
    print("%-10s %10.3f %10.3f %12s %8.1f MB" % (k, v["median"], v["min"], "{:,.0f}".format(n / v["median"]), v["rss_kb"] / 1024))
a = r["answers"]["median"]
print("\nanswers vs analyze: %.2fx the time; vs tshark -z conv,tcp: %.1fx faster" % (a / r["analyze"]["median"], r["tshark"]["median"] / a))
PY
