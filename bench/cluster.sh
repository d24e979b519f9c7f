#!/usr/bin/env bash
# Cluster benchmark (issue 12): three chatservers joined through one Redis
# beside one chatserver alone, in one run, on loopback, driven by the same
# harness (tools/chatload, built -O2, clients in processes apart from the servers).
#   hold     30,000 clients registered across 3 servers (3 chatload processes, one per
#            server, 16 handshakes in flight in all) and all held at once; a probe's
#            LIST must count every one of them. Beside it: 10,000 on one server, 16 in flight.
#   relay    3,000 clients in 1,500 pairs, half of the pairs across servers (--cross 50),
#            1 and 16 messages in flight per client; every message checked (lost,
#            duplicated, reordered). Beside it: the same load on one server.
#            CPU per message: user+system time of the servers and Redis (/proc/PID/stat)
#            over the messages delivered.
# Prints the ratios and the issue's goals: zero lost/duplicated/reordered, cluster
# throughput >= 50% of one server, p99 <= 3x.
#
#   bench/cluster.sh          RELAY1_MSGS=100 RELAY16_MSGS=300 HOLD=10000
# Every process it starts is stopped by PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RELAY1_MSGS=${RELAY1_MSGS:-100}
RELAY16_MSGS=${RELAY16_MSGS:-300}
HOLD=${HOLD:-10000}
PAIRS_CLIENTS=${PAIRS_CLIENTS:-3000}
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
echo "   open-file limit $(ulimit -n) per process; $(redis-server --version | cut -d' ' -f1-3); $(nproc) cores"

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

redis_pid=; srv_pids=(); ports=()
start_cluster() {
  rport=$(free_port)
  redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$out" > "$out/redis.log" 2>&1 &
  redis_pid=$!; pids+=("$redis_pid")
  wait_port "$redis_pid" "$rport"
  srv_pids=(); ports=()
  for n in a b c; do
    p=$(free_port)
    .build/release/chatserver --host 127.0.0.1 --port "$p" --quiet --login-timeout 0 \
      --cluster "redis://127.0.0.1:$rport" --node "$n" > "$out/cluster-$n.log" 2>&1 &
    srv_pids+=($!); pids+=($!); ports+=("$p")
    wait_port "$!" "$p"
  done
  for n in a b c; do
    for _ in $(seq 200); do grep -q "ready as $n" "$out/cluster-$n.log" && break; sleep 0.05; done
  done
}
start_single() {
  sport=$(free_port)
  .build/release/chatserver --host 127.0.0.1 --port "$sport" --quiet --login-timeout 0 > "$out/single.log" 2>&1 &
  single_pid=$!; pids+=("$single_pid")
  wait_port "$single_pid" "$sport"
}
stop_all() {
  for p in "${srv_pids[@]}" ${single_pid:-} ${redis_pid:-}; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  srv_pids=(); single_pid=; redis_pid=
}
# LIST's total as a probe client on one server sees it.
list_total() { # port
  python3 - "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
f.readline()
s.sendall(b"NICK probe_list\nLIST\n")
for line in f:
    if line.startswith(b"USERS"):
        print(int(line.split()[1]) - 1); break
PY
}

echo
echo "== hold: 3 x $HOLD clients across 3 servers (6+5+5 handshakes in flight) vs $HOLD on one server (16)"
start_cluster
t0=$(date +%s.%N)
hold_secs=$(( HOLD / 1000 + 20 ))
for i in 0 1 2; do
  inflight=5; [ "$i" = 0 ] && inflight=6
  "$out/chatload" hold --port "${ports[$i]}" --clients "$HOLD" --prefix "h${i}_" --hold "$hold_secs" \
    --inflight "$inflight" --server-pid "${srv_pids[$i]}" --timeout 600 > "$out/hold-$i.out" 2>&1 &
  pids+=($!); hold_pids[$i]=$!
done
# All registered: the cluster's LIST counts every one (each server sees all three).
want=$(( 3 * HOLD ))
seen=0
for _ in $(seq 600); do
  sleep 1 # the probe is a python process: not too often, it shares the cores with the load
  seen=$(list_total "${ports[1]}" 2>/dev/null || echo 0)
  [ "${seen:-0}" -ge "$want" ] && break
done
t_all=$(python3 -c "import time; print(f'{time.time() - $t0:.0f}')")
seen_a=$(list_total "${ports[0]}"); seen_c=$(list_total "${ports[2]}")
for i in 0 1 2; do wait "${hold_pids[$i]}" || true; done
reg=()
for i in 0 1 2; do
  r=$(grep '^result' "$out/hold-$i.out" || true)
  reg+=("$(field "$r" register_s)")
  echo "   server ${ports[$i]}: $(field "$r" alive) held, registered in $(field "$r" register_s) s, $(field "$r" rss_per_client_bytes) bytes RSS per client"
done
cluster_reg=$(printf '%s\n' "${reg[@]}" | sort -n | tail -1)
echo "   LIST on the three servers counted $seen_a / $seen / $seen_c of $want users (seen within ${t_all} s, probing once a second)"
echo "   redis: $(awk '/VmRSS/{print $2" KiB resident"}' /proc/$redis_pid/status)"
stop_all
start_single
r=$("$out/chatload" hold --port "$sport" --clients "$HOLD" --hold 1 --inflight 16 --server-pid "$single_pid" --timeout 600 | grep '^result')
single_reg=$(field "$r" register_s)
echo "   one server: $(field "$r" alive) held, registered in $single_reg s"
stop_all

echo
echo "== relay: $PAIRS_CLIENTS clients in $(( PAIRS_CLIENTS / 2 )) pairs, half across servers, vs one server"
tsv="$out/cluster.tsv"; : > "$tsv"
for w in 1 16; do
  msgs=$RELAY1_MSGS; [ "$w" = 16 ] && msgs=$RELAY16_MSGS
  start_single
  r=$("$out/chatload" pairs --port "$sport" --clients "$PAIRS_CLIENTS" --window "$w" --messages "$msgs" \
        --inflight 64 --server-pid "$single_pid" --timeout 600 | grep '^result')
  stop_all
  echo -e "single\t$w\t$r" >> "$tsv"
  start_cluster
  c0=$(cpu_us "${srv_pids[@]}" "$redis_pid")
  r=$("$out/chatload" pairs --ports "$(IFS=,; echo "${ports[*]}")" --cross 50 --clients "$PAIRS_CLIENTS" \
        --window "$w" --messages "$msgs" --inflight 64 --timeout 600 | grep '^result')
  c1=$(cpu_us "${srv_pids[@]}" "$redis_pid")
  rc0=$(cpu_us "$redis_pid")
  stop_all
  # CPU over the whole run (sessions included) per message: an upper bound of the relay's cost.
  d=$(field "$r" delivered)
  echo -e "cluster\t$w\t$r cluster_cpu_us_per_msg=$(python3 -c "print(f'{($c1 - $c0) / max(1, $d):.2f}')")" >> "$tsv"
done
python3 - "$tsv" "$cluster_reg" "$single_reg" "$HOLD" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    kind, w, rest = line.rstrip("\n").split("\t", 2)
    rows[(kind, w)] = dict(kv.split("=", 1) for kv in rest.split() if "=" in kv)
ok_all = True
print(f"  {'':8} {'':5} {'msgs/s':>9} {'p50 us':>8} {'p99 us':>8} {'lost':>5} {'dup':>4} {'reord':>5} {'CPU us/msg':>10}")
for w in ("1", "16"):
    for kind in ("single", "cluster"):
        r = rows[(kind, w)]
        cpu = r.get("server_cpu_us_per_msg") if kind == "single" else r.get("cluster_cpu_us_per_msg")
        print(f"  {kind:8} w={w:3} {float(r['msgs_per_s']):9.0f} {r['p50_us']:>8} {r['p99_us']:>8} {r['lost']:>5} {r['dup']:>4} {r['reordered']:>5} {cpu:>10}")
print()
for w in ("1", "16"):
    s, c = rows[("single", w)], rows[("cluster", w)]
    tput = float(c["msgs_per_s"]) / float(s["msgs_per_s"])
    p99 = float(c["p99_us"]) / max(1.0, float(s["p99_us"]))
    clean = all(int(c[k]) == 0 and int(s[k]) == 0 for k in ("lost", "dup", "reordered", "errors"))
    for good, text in ((clean, f"{w:>2} in flight: zero lost, duplicated or reordered (cluster and single)"),
                       (tput >= 0.5, f"{w:>2} in flight: cluster throughput {tput:.2f}x one server's (goal >= 0.5)"),
                       (p99 <= 3.0, f"{w:>2} in flight: cluster p99 {p99:.2f}x one server's (goal <= 3)")):
        ok_all &= good
        print(f"  {'met    ' if good else 'NOT met'}  {text}")
creg, sreg, hold = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"  registration: {3*hold} clients on 3 servers in {creg:.2f} s ({3*hold/creg:.0f}/s) vs {hold} on one in {sreg:.2f} s "
      f"({hold/sreg:.0f}/s): time ratio {creg/sreg:.2f}, rate ratio {(3*hold/creg)/(hold/sreg):.2f}")
sys.exit(0 if ok_all else 1)
PY
