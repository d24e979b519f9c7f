#!/usr/bin/env bash
# Echo benchmark: netlab's echoserver beside SwiftNIO's NIOEchoServer and a
# minimal single-threaded epoll echo loop (the limit), in one run, on loopback.
# Load: bench/echoload.c (one thread, epoll), 64-byte lines, one in flight per connection, at 1, 100
# and 1000 connections. Every (count, server) pair runs ROUNDS times, servers in
# rotating order, each run SECONDS long after a 1 s warm-up; medians and the
# ratios of medians are printed, then the issue's goals checked against them.
#
#   bench/echo.sh                 ROUNDS=9 SECONDS_PER_RUN=2 COUNTS="1 100 1000"
# Needs: the Swift toolchain, cc, python3; builds NIOEchoServer from the local
# swift-nio mirror into bench/.build-nio (ignored by git) on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
ROUNDS=${ROUNDS:-9}
SECS=${SECONDS_PER_RUN:-2}
COUNTS=${COUNTS:-"1 100 1000"}
NIO_VERSION=${NIO_VERSION:-2.101.3}
out=bench/out
mkdir -p "$out"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -f "$out"/echo-answers*.txt; }
trap cleanup EXIT

echo "== building (release)"
swift build -c release --product echoserver 2>&1 | tail -1
cc -O2 -o "$out/echoload" bench/echoload.c
cc -O2 -o "$out/epoll_echo" bench/epoll_echo.c
nio=bench/.build-nio/swift-nio
if [ ! -x "$nio/.build/release/NIOEchoServer" ]; then
  rm -rf "$nio"; mkdir -p bench/.build-nio
  git clone -q --depth 1 --branch "$NIO_VERSION" https://github.com/apple/swift-nio "$nio" 2>/dev/null
  swift build -c release --package-path "$nio" --product NIOEchoServer 2>&1 | tail -1
fi


# Start the servers once; they serve every run. netlab runs as shipped: the answers of a loop
# pass go to its output file in one write(2) before any is sent; netlab-line (--line-output)
# makes one write(2) per answer; netlab-nofile keeps no file, so it does exactly the peers'
# work (plus the transform).
p_netlab=$(free_port)
.build/release/echoserver --host 127.0.0.1 --port "$p_netlab" --quiet --output "$out/echo-answers.txt" > "$out/echoserver.log" 2>&1 &
pids+=($!); wait_port $! "$p_netlab"
p_nofile=$(free_port)
.build/release/echoserver --host 127.0.0.1 --port "$p_nofile" --quiet --no-output > "$out/echoserver-nofile.log" 2>&1 &
pids+=($!); wait_port $! "$p_nofile"
p_line=$(free_port)
.build/release/echoserver --host 127.0.0.1 --port "$p_line" --quiet --line-output --output "$out/echo-answers-line.txt" > "$out/echoserver-line.log" 2>&1 &
pids+=($!); wait_port $! "$p_line"
p_nio=$(free_port)
"$nio/.build/release/NIOEchoServer" 127.0.0.1 "$p_nio" > "$out/nioechoserver.log" 2>&1 &
pids+=($!); wait_port $! "$p_nio"
p_epoll=$(free_port)
"$out/epoll_echo" "$p_epoll" > "$out/epoll_echo.log" 2>&1 &
pids+=($!); wait_port $! "$p_epoll"

declare -A spid=([netlab]=${pids[0]} [netlab-nofile]=${pids[1]} [netlab-line]=${pids[2]} [NIOEchoServer]=${pids[3]} [epoll]=${pids[4]})
declare -A port=([netlab]=$p_netlab [netlab-line]=$p_line [netlab-nofile]=$p_nofile [NIOEchoServer]=$p_nio [epoll]=$p_epoll)
declare -A extra=([netlab]=--greeting [netlab-line]=--greeting [netlab-nofile]=--greeting [NIOEchoServer]= [epoll]=)
servers=(netlab netlab-line netlab-nofile NIOEchoServer epoll)
ns=${#servers[@]}
tsv="$out/echo.tsv"
: > "$tsv"
echo "== $ROUNDS rounds x {$COUNTS} connections x $ns servers, ${SECS}s each ($(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg))"
for round in $(seq "$ROUNDS"); do
  for n in $COUNTS; do
    # Rotate the order so no server always runs first or last.
    for k in $(seq 0 $((ns - 1))); do
      s=${servers[$(( (k + round) % ns ))]}
      r=$("$out/echoload" --port "${port[$s]}" --conns "$n" --seconds "$SECS" --warmup 1 --server-pid "${spid[$s]}" ${extra[$s]}) ||
        { echo "run failed: $s $n: $r" >&2; exit 1; }
      printf '%s connections\t%s\t%s\t%s\n' "$n" "$s" "$round" "$(echo "$r" | sed 's/^result //; s/ /\t/g')" >> "$tsv"
      printf '  round %d  %5d conns  %-14s %s\n' "$round" "$n" "$s" "$(echo "$r" | grep -o 'msgs_per_s=[0-9]* p50_us=[0-9]* p99_us=[0-9]*\|server_cpu_us_per_msg=[0-9.]*\|loadgen_cpu_pct=[0-9]*' | tr '\n' ' ')"
    done
  done
done

echo
echo "== medians (echoes per second; latency in microseconds; server CPU time per echo in microseconds,"
echo "   all threads, lower is better and independent of the load generator; load generator's share of a core)"
status=0
for ours in netlab netlab-line netlab-nofile; do
  goals=()
  for n in $COUNTS; do
    goals+=("$n connections|msgs_per_s|NIOEchoServer|1.0|$ours, $n connections: msgs/s vs NIOEchoServer")
    goals+=("$n connections|msgs_per_s|epoll|0.85|$ours, $n connections: msgs/s vs the epoll loop")
  done
  case " $COUNTS " in *" 1000 "*) goals+=("1000 connections|msgs_per_s|NIOEchoServer|1.2|$ours, 1000 connections: msgs/s vs NIOEchoServer (1.2x)");; esac
  if [ "$ours" = netlab ]; then
    python3 bench/summarize.py "$tsv" msgs_per_s,p50_us,p99_us,server_cpu_us_per_msg,loadgen_cpu_pct "$ours" "${goals[@]}" || status=1
  else
    python3 bench/summarize.py "$tsv" msgs_per_s "$ours" "${goals[@]}" | sed -n '/^goals/,$p' || true
  fi
done
exit $status
