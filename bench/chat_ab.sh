#!/usr/bin/env bash
# The chatserver at hand beside another build of it, in one run (issue 23: "chat relay and
# cluster bench within 5% of before"): BASELINE names the other chatserver binary (say, a
# release build of main, copied aside before a change). Same harness and workloads as
# bench/chat.sh (relay: 1000 clients in 500 pairs on one server, 1 and 16 messages in flight)
# and bench/cluster.sh (relay: 3000 clients in 1500 pairs over three servers joined through one
# Redis, half of the pairs across servers, 1 and 16 in flight). Each run starts fresh servers;
# the two builds alternate; ROUNDS runs each; medians and ratios (this build / BASELINE) of
# messages per second, p99 and CPU per message (the server's; in the cluster the three servers'
# and Redis's, user + system from /proc/PID/stat over the messages delivered), plus
# lost/duplicated/reordered, which must stay 0. NEW names this build (default: the release
# build of this checkout), so any two builds can be set side by side.
#
#   BASELINE=/tmp/chatserver.main bench/chat_ab.sh        ROUNDS=5 RELAY1_MSGS=300 RELAY16_MSGS=2000
# Every process it starts is stopped by PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
: "${BASELINE:?give BASELINE=/path/to/another/chatserver}"
ROUNDS=${ROUNDS:-5}
RELAY1_MSGS=${RELAY1_MSGS:-300}
RELAY16_MSGS=${RELAY16_MSGS:-2000}
CLUSTER1_MSGS=${CLUSTER1_MSGS:-100}
CLUSTER16_MSGS=${CLUSTER16_MSGS:-300}
CLUSTER_CLIENTS=${CLUSTER_CLIENTS:-3000}
out=bench/out
mkdir -p "$out"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

command -v redis-server >/dev/null || { echo "redis-server is missing: scripts/install-deps.sh" >&2; exit 1; }
echo "== building (release)"
swift build -c release --product chatserver 2>&1 | tail -1
cc -O2 -o "$out/chatload" tools/chatload/chatload.c
ulimit -n "$(ulimit -Hn)"
declare -A bin=([new]=${NEW:-.build/release/chatserver} [base]=$BASELINE)

stop() { for p in "$@"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }

single() { # build window msgs -> result line
  local port; port=$(free_port)
  "${bin[$1]}" --host 127.0.0.1 --port "$port" --quiet > "$out/ab-single.log" 2>&1 &
  local pid=$!; pids+=("$pid")
  wait_port "$pid" "$port"
  "$out/chatload" pairs --port "$port" --clients 1000 --window "$2" --messages "$3" --inflight 8 \
    --server-pid "$pid" --timeout 300 2>&1 | grep '^result' || true
  stop "$pid"
}

cluster() { # build window msgs -> result line
  local rport; rport=$(free_port)
  redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$out" > "$out/ab-redis.log" 2>&1 &
  local rpid=$!; pids+=("$rpid")
  wait_port "$rpid" "$rport"
  local spids=() ports=()
  for n in a b c; do
    local p; p=$(free_port)
    "${bin[$1]}" --host 127.0.0.1 --port "$p" --quiet --login-timeout 0 \
      --cluster "redis://127.0.0.1:$rport" --node "$n" > "$out/ab-cluster-$n.log" 2>&1 &
    spids+=($!); pids+=($!); ports+=("$p")
    wait_port "$!" "$p"
  done
  for n in a b c; do
    for _ in $(seq 200); do grep -q "ready as $n" "$out/ab-cluster-$n.log" && break; sleep 0.05; done
  done
  local c0 r0 r; c0=$(cpu_us "${spids[@]}" "$rpid"); r0=$(cpu_us "$rpid")
  r=$("$out/chatload" pairs --ports "$(IFS=,; echo "${ports[*]}")" --cross 50 --clients "$CLUSTER_CLIENTS" \
    --window "$2" --messages "$3" --inflight 64 --timeout 600 2>&1 | grep '^result' || true)
  local c1 r1 d; c1=$(cpu_us "${spids[@]}" "$rpid"); r1=$(cpu_us "$rpid")
  d=$(echo "$r" | tr ' ' '\n' | sed -n 's/^delivered=//p')
  [ -z "$r" ] || echo "$r server_cpu_us_per_msg=$(python3 -c "print(f'{($c1 - $c0) / max(1, ${d:-0}):.2f}')")" \
    "redis_cpu_us_per_msg=$(python3 -c "print(f'{($r1 - $r0) / max(1, ${d:-0}):.2f}')")"
  stop "${spids[@]}" "$rpid"
}

tsv="$out/chat_ab.tsv"
: > "$tsv"
echo "== $ROUNDS rounds; this build vs $BASELINE; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
builds=(new base)
for round in $(seq "$ROUNDS"); do
  for k in 0 1; do
    b=${builds[$(( (k + round) % 2 ))]}
    for w in 1 16; do
      m=$RELAY1_MSGS; [ "$w" = 16 ] && m=$RELAY16_MSGS
      r=$(single "$b" "$w" "$m"); [ -n "$r" ] || { echo "single relay failed ($b, $w in flight)" >&2; exit 1; }
      printf 'single w=%s\t%s\t%s\t%s\n' "$w" "$b" "$round" "$r" >> "$tsv"
      printf '  round %d  %-4s single  %2s in flight  %s\n' "$round" "$b" "$w" "$(echo "$r" | grep -o 'msgs_per_s=[0-9]*\|p99_us=[0-9]*\|lost=[0-9]*' | tr '\n' ' ')"
      m=$CLUSTER1_MSGS; [ "$w" = 16 ] && m=$CLUSTER16_MSGS
      r=$(cluster "$b" "$w" "$m"); [ -n "$r" ] || { echo "cluster relay failed ($b, $w in flight)" >&2; exit 1; }
      printf 'cluster w=%s\t%s\t%s\t%s\n' "$w" "$b" "$round" "$r" >> "$tsv"
      printf '  round %d  %-4s cluster %2s in flight  %s\n' "$round" "$b" "$w" "$(echo "$r" | grep -o 'msgs_per_s=[0-9]*\|p99_us=[0-9]*\|lost=[0-9]*' | tr '\n' ' ')"
    done
  done
done

python3 - "$tsv" <<'PY'
import statistics, sys
rows = {}
bad = 0
for line in open(sys.argv[1]):
    work, build, _, r = line.rstrip("\n").split("\t", 3)
    kv = dict(x.split("=", 1) for x in r.split()[1:] if "=" in x)
    rows.setdefault((work, build), []).append(kv)
    bad += sum(int(kv.get(k, 0)) for k in ("lost", "dup", "reordered", "errors"))
def med(work, build, k):
    return statistics.median(float(x[k]) for x in rows[(work, build)])
print("\n== medians and ratios (this build / baseline)")
print(f"  {'workload':16}{'msgs/s new':>12}{'msgs/s base':>12}{'ratio':>8}{'p99 new':>10}{'p99 base':>10}{'ratio':>8}"
      f"{'CPU us/msg new':>16}{'base':>7}{'ratio':>8}")
ok = bad == 0
for work in sorted({w for w, _ in rows}):
    tn, tb = med(work, "new", "msgs_per_s"), med(work, "base", "msgs_per_s")
    pn, pb = med(work, "new", "p99_us"), med(work, "base", "p99_us")
    cn, cb = med(work, "new", "server_cpu_us_per_msg"), med(work, "base", "server_cpu_us_per_msg")
    print(f"  {work:16}{tn:12.0f}{tb:12.0f}{tn / tb:8.3f}{pn:10.0f}{pb:10.0f}{pn / max(pb, 1):8.3f}"
          f"{cn:16.2f}{cb:7.2f}{cn / max(cb, 0.01):8.3f}")
    ok &= tn / tb >= 0.95
redis = sorted({w for w, _ in rows if w.startswith("cluster")})
if redis:
    print("\n  of which Redis (CPU us/msg):  " + ", ".join(
        f"{w}: {med(w, 'new', 'redis_cpu_us_per_msg'):.2f} new, {med(w, 'base', 'redis_cpu_us_per_msg'):.2f} base"
        for w in redis))
print(f"\n  {'met    ' if bad == 0 else 'NOT met'}  zero lost, duplicated or reordered in every run ({bad})")
print(f"  {'met    ' if ok else 'NOT met'}  throughput within 5% of the baseline's (ratio >= 0.95) in every workload")
sys.exit(0 if ok else 1)
PY
