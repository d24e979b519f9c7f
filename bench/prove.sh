#!/usr/bin/env bash
# netlab prove side by side with packetdrill on the same scripts in one run: each script's wall
# time under each tool (the namespace setup included for both: packetdrill in a namespace made
# for it as its run_all.py does, netlab prove making its own), the two alternating in order from
# round to round, medians per script, their sums and the ratio (goal: netlab within 1.2x).
# Needs root and a packetdrill checkout built from source (google/packetdrill; CI has no network,
# so this is not in the test suite).
#
#   bench/prove.sh PACKETDRILL_CHECKOUT [RUNS] [SCRIPT|DIR...]
#        default: 5 runs of experiments/*.pkt; give more scripts or folders, e.g. the gtests/net/tcp
#        scripts packetdrill passes, listed by tools/prove-agreement.sh
#
# A run that fails under either tool is reported and left out of the sums (a failure stops early,
# so its time says nothing). Also prints, for netlab prove, the time the scripts' own timers need
# (its --json "seconds") and the cost per script line beyond that and beyond the fixed cost of a
# run (measured on a one-line script).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n '/^#   bench/,/^$/p' "$0" >&2; exit 64; }
pdsrc=$1; shift
runs=${1:-5}
if [ $# -ge 1 ] && [[ "$1" =~ ^[0-9]+$ ]]; then shift; fi
[ "$(id -u)" = 0 ] || { echo "bench/prove.sh: needs root (network namespaces, tun devices)" >&2; exit 1; }
if [ -d "$pdsrc" ]; then pd="$pdsrc/gtests/net/packetdrill/packetdrill"; else pd=$pdsrc; fi
[ -x "$pd" ] || { echo "bench/prove.sh: no packetdrill at $pd (build gtests/net/packetdrill first: ./configure && make)" >&2; exit 1; }
swift build -c release --product netlab 2>&1 | tail -1
netlab="$(swift build -c release --show-bin-path)/netlab"

scripts=()
if [ $# -eq 0 ]; then set -- experiments; fi
for a in "$@"; do
  if [ -d "$a" ]; then while IFS= read -r f; do scripts+=("$f"); done < <(find "$a" -name '*.pkt' | sort)
  else scripts+=("$a"); fi
done
out="$PWD/bench/out/prove"
mkdir -p "$out"
pdargs=(--send_omit_free --ip_version=ipv4 --local_ip=192.168.0.1 --gateway_ip=192.168.0.1 --netmask_ip=255.255.0.0
        --remote_ip=192.0.2.1)
ns=""
trap '[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null; true' EXIT

now() { date +%s.%N; }
run_pd() {   # the way run_all.py runs packetdrill: a namespace per script, from the script's folder
  ns="bench-prove-$$"
  ip netns add "$ns" && ip -netns "$ns" link set lo up
  local rc=0
  (cd "$(dirname "$1")" && ip netns exec "$ns" "$pd" "${pdargs[@]}" "$(basename "$1")") >"$out/last.pd" 2>&1 || rc=$?
  ip netns del "$ns"; ns=""
  return $rc
}
run_nl() {
  (cd "$(dirname "$1")" && "$netlab" prove --json --out "$out/runs" "$(basename "$1")") >"$out/last.json" 2>"$out/last.nl"
}

: >"$out/times.tsv"
echo "packetdrill: $pd"
echo "netlab:      ${netlab#"$PWD"/} ($("$netlab" --version 2>/dev/null || echo '?'))"
echo "kernel $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); ${#scripts[@]} scripts, $runs runs"
# The fixed cost of one run (namespace, tun0, and for netlab prove its jitter measurement), from
# a one-line script, so that the cost per line can be told from it.
mkdir -p "$out/setup"
printf '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n' >"$out/setup/one-line.pkt"
for ((r = 1; r <= runs; r++)); do
  for s in "$out/setup/one-line.pkt" "${scripts[@]}"; do
    for tool in $([ $((r % 2)) = 1 ] && echo "pd nl" || echo "nl pd"); do
      t0=$(now); rc=0; "run_$tool" "$s" || rc=$?; t1=$(now)
      timer="-"
      if [ $tool = nl ] && [ $rc = 0 ]; then
        timer=$(grep -o '"seconds":[0-9.]*' "$out/last.json" | head -1 | cut -d: -f2)
      fi
      lines=$(grep -c -E '^[[:space:]]*[-+0-9.~*]+[[:space:]]+[^[:space:]/]' "$s" || true)
      printf '%s\t%s\t%d\t%s\t%s\t%s\t%s\n' "$s" "$tool" "$r" "$rc" "$(echo "$t1 - $t0" | bc)" "$timer" "$lines" >>"$out/times.tsv"
    done
  done
done

awk -F'\t' '
  function median(key,   n, i, j, t, a) {
    n = split(vals[key], a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { key = $1 SUBSEP $2
    if (!($1 in order)) { order[$1] = ++ns; name[ns] = $1 }
    if ($4 != 0) { failed[$1] = failed[$1] " " $2 "(run " $3 ")"; next }
    vals[key] = vals[key] " " $5
    if ($2 == "nl") { tvals[$1] = tvals[$1] " " $6; lines[$1] = $7 } }
  END {
    setup = name[1]; sp1 = median(setup SUBSEP "pd"); sn1 = median(setup SUBSEP "nl")
    printf "\nfixed cost of one run (a one-line script): packetdrill %.3f s, netlab prove %.3f s\n", sp1, sn1
    printf "\n%-44s %10s %10s %7s %10s %12s\n", "script", "pd (s)", "netlab (s)", "ratio", "timers (s)", "ms/line over"
    for (i = 2; i <= ns; i++) {
      s = name[i]
      if (s in failed) { printf "%-44s failed:%s\n", s, failed[s]; nfail++; continue }
      p = median(s SUBSEP "pd"); n = median(s SUBSEP "nl")
      vals["t"] = tvals[s]; t = median("t")
      sp += p; sn += n; st += t; sl += lines[s]
      printf "%-44s %10.3f %10.3f %7.2f %10.3f %12.2f\n", s, p, n, n / p, t, (n - t - sn1) * 1000 / lines[s]
      nok++
    }
    printf "%-44s %10.3f %10.3f %7.2f %10.3f %12.2f\n", "total (medians)", sp, sn, sn / sp, st, (sn - st - nok * sn1) * 1000 / sl
    if (nfail) printf "%d scripts failed in some run and are not in the total\n", nfail
  }' "$out/times.tsv"
