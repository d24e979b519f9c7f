#!/usr/bin/env bash
# What idle clients cost a chatserver (issue 20 item 13): its CPU time (/proc/PID/stat, user+system)
# over HOLD_S seconds while N registered clients sit idle, held by tools/chatload in a process apart.
# A load on the machine does not move this figure the way it moves a latency's tail: it is the work
# the server does for clients that do nothing. BASELINE=/path/to/another/chatserver runs that build in
# turn with this one. Defaults: N="10000 19900" (19,900: as many as one server and one client process
# hold under the 20,000 open-file limit), HOLD_S=20, ROUNDS=2.
#
#   BASELINE=/tmp/chatserver.main bench/idlecpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-"10000 19900"}
HOLD_S=${HOLD_S:-20}
ROUNDS=${ROUNDS:-2}
out=bench/out
mkdir -p "$out"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
echo "== building (release)"
swift build -c release --product chatserver 2>&1 | tail -1
cc -O2 -o "$out/chatload" tools/chatload/chatload.c
ulimit -n "$(ulimit -Hn)"
cpu_ms() { awk -v t="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / t)}' "/proc/$1/stat"; }
builds=(new); [ -n "${BASELINE:-}" ] && builds+=(base)
for round in $(seq "$ROUNDS"); do
  for n in $N; do
    for b in "${builds[@]}"; do
      bin=.build/release/chatserver; [ "$b" = base ] && bin=$BASELINE
      port=$(free_port)
      "$bin" --host 127.0.0.1 --port "$port" --quiet > "$out/idlecpu-server.log" 2>&1 &
      pid=$!; pids+=("$pid")
      sleep 0.5
      "$out/chatload" hold --port "$port" --clients "$n" --hold $(( HOLD_S + 60 )) --inflight 256 --timeout 600 \
        > "$out/idlecpu-load.log" 2>&1 &
      lp=$!; pids+=("$lp")
      for _ in $(seq 3000); do [ "$(ls "/proc/$pid/fd" | wc -l)" -ge "$n" ] && break; sleep 0.1; done
      sleep 3 # registered and settled
      t0=$(cpu_ms "$pid"); sleep "$HOLD_S"; t1=$(cpu_ms "$pid")
      printf '  round %d  %-4s %5d idle: server CPU %4d ms in %d s\n' "$round" "$b" "$n" $(( t1 - t0 )) "$HOLD_S"
      kill "$lp" "$pid" 2>/dev/null || true; wait "$lp" "$pid" 2>/dev/null || true
    done
  done
done
