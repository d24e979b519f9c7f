#!/usr/bin/env bash
# Chat benchmark: netlab's chatserver beside ngircd (Debian's IRC server) in
# one run, on loopback, driven by the same harness (tools/chatload, built -O2,
# one thread, epoll) speaking each server's protocol: netlab MSG/FROM or IRC
# PRIVMSG. Like an IRC client, it registers as soon as it is connected, and it
# answers everything one read brought in with one write.
#   relay  1000 clients in 500 pairs, 64-byte lines, 1 and 16 messages in flight
#          per client; every message checked (lost, duplicated, reordered)
#   hold   10,000 clients connect and register, paced 1 and 16 handshakes at a
#          time; time to register them all; server RSS per idle client
# Each server is started fresh for every run; runs alternate between servers;
# ROUNDS runs each; medians and ratios of medians, then the issue's goals.
# Beside msgs/s: the server's own CPU time per message (from /proc/PID/stat; on
# loopback some TCP work is charged to whichever process runs it, so read it as
# a second opinion) and the harness's share of a core (near 100%: the harness,
# not the server, set the pace).
#
#   bench/chat.sh                ROUNDS=5 RELAY_MSGS=300 RELAY16_MSGS=2000
# Needs root (or sudo) once to apt-get install ngircd; it is run as a plain
# process with a generated config on 127.0.0.1 and a free port, never as a service.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
ROUNDS=${ROUNDS:-5}
RELAY_MSGS=${RELAY_MSGS:-300}
RELAY16_MSGS=${RELAY16_MSGS:-2000}
HOLD=${HOLD:-10000}
out=bench/out
mkdir -p "$out"
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT

if ! command -v ngircd >/dev/null; then
  echo "== installing ngircd (the peer)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq --no-install-recommends ngircd >/dev/null 2>&1 ||
    { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends ngircd >/dev/null; }
fi
echo "== building (release)"
swift build -c release --product chatserver 2>&1 | tail -1
cc -O2 -o "$out/chatload" tools/chatload/chatload.c
ulimit -n "$(ulimit -Hn)"
echo "   open-file limit $(ulimit -n); $(ngircd --version | head -1)"


start() { # server -> sets pid, port
  port=$(free_port)
  case $1 in
    netlab)
      .build/release/chatserver --host 127.0.0.1 --port "$port" --quiet > "$out/chatserver.log" 2>&1 &
      pid=$! ;;
    ngircd)
      # Penalties off (MaxPenaltyTime 0), no DNS/IDENT/PAM lookups, no per-IP limit: its fastest setup.
      cat > "$out/ngircd.conf" <<CONF
[Global]
Name = bench.netlab.local
Info = netlab benchmark peer
AdminInfo1 = netlab bench
AdminEMail = bench@localhost
Listen = 127.0.0.1
Ports = $port
MotdPhrase = netlab benchmark
[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxNickLength = 16
MaxPenaltyTime = 0
PingTimeout = 600
PongTimeout = 600
[Options]
DNS = no
Ident = no
PAM = no
CONF
      ngircd -n -f "$out/ngircd.conf" > "$out/ngircd.log" 2>&1 &
      pid=$! ;;
  esac
  wait_port "$pid" "$port"
}
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; }

tsv="$out/chat.tsv"
: > "$tsv"
record() { # workload server round result-line
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(echo "$4" | sed 's/^result //; s/ /\t/g')" >> "$tsv"
}
proto() { [ "$1" = ngircd ] && echo irc || echo netlab; }

echo "== $ROUNDS rounds; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
servers=(netlab ngircd)
for round in $(seq "$ROUNDS"); do
  for k in 0 1; do
    s=${servers[$(( (k + round) % 2 ))]}
    for w in 1 16; do
      msgs=$RELAY_MSGS; [ "$w" = 16 ] && msgs=$RELAY16_MSGS
      start "$s"
      # Clients join 8 at a time (ngircd stalls for minutes when hundreds handshake at once);
      # only the relay that follows is timed.
      r=$("$out/chatload" pairs --proto "$(proto "$s")" --port "$port" --clients 1000 --window "$w" \
            --messages "$msgs" --inflight 8 --server-pid "$pid" --timeout 300 2>&1 | grep '^result' || true)
      stop
      [ -n "$r" ] || { echo "relay run failed for $s" >&2; exit 1; }
      record "relay, 1000 clients, $w in flight" "$s" "$round" "$r"
      printf '  round %d  %-7s relay  %2s in flight  %s\n' "$round" "$s" "$w" \
        "$(echo "$r" | grep -o 'delivered=[0-9]* lost=[0-9]*\|msgs_per_s=[0-9]*\|p99_us=[0-9]*\|server_cpu_us_per_msg=[0-9.]*\|harness_cpu_pct=[0-9]*' | tr '\n' ' ')"
    done
    for pace in 1 16; do
      start "$s"
      sleep 0.5 # let the idle server settle before measuring its baseline RSS
      r=$("$out/chatload" hold --proto "$(proto "$s")" --port "$port" --clients "$HOLD" --hold 2 \
            --inflight "$pace" --server-pid "$pid" --timeout 300 2>&1 | grep '^result' || true)
      stop
      [ -n "$r" ] || { echo "hold run failed for $s" >&2; exit 1; }
      record "hold $HOLD clients, $pace handshakes at a time" "$s" "$round" "$r"
      printf '  round %d  %-7s hold   pace %2s       %s\n' "$round" "$s" "$pace" \
        "$(echo "$r" | grep -o 'alive=[0-9]*\|register_s=[0-9.]*\|rss_per_client_bytes=[0-9]*' | tr '\n' ' ')"
    done
  done
done
# Our server alone, with the harness's default 256 handshakes at a time (ngircd stalls for minutes at that pace).
for round in $(seq "$ROUNDS"); do
  start netlab; sleep 0.5
  r=$("$out/chatload" hold --port "$port" --clients "$HOLD" --hold 2 --inflight 256 --server-pid "$pid" --timeout 300 | grep '^result')
  stop
  record "hold $HOLD clients, 256 handshakes at a time" netlab "$round" "$r"
done

R1="relay, 1000 clients, 1 in flight"; R16="relay, 1000 clients, 16 in flight"
H1="hold $HOLD clients, 1 handshakes at a time"; H16="hold $HOLD clients, 16 handshakes at a time"
echo
echo "== medians (messages per second; latency in microseconds; server CPU time per message in microseconds,"
echo "   lower is better and independent of the harness; harness share of a core; seconds; bytes)"
python3 bench/summarize.py "$tsv" msgs_per_s,p50_us,p99_us,lost,server_cpu_us_per_msg,harness_cpu_pct,register_s,rss_per_client_bytes netlab \
  "$R1|msgs_per_s|ngircd|1.5|relay, 1 in flight: msgs/s vs ngircd" \
  "$R16|msgs_per_s|ngircd|1.5|relay, 16 in flight: msgs/s vs ngircd" \
  "$H1|register_s|ngircd|-10|accept+register $HOLD, paced 1: faster than ngircd" \
  "$H16|register_s|ngircd|-10|accept+register $HOLD, paced 16: faster than ngircd" || status=$?
# Absolute goals: zero loss everywhere, at most 2 KiB per idle client.
python3 - "$tsv" <<'PY'
import sys, statistics
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
def vals(w, s, k):
    return [float(kv.split("=", 1)[1]) for r in rows if r[0].startswith(w) and r[1] == s for kv in r[3:] if kv.startswith(k + "=")]
lost = sum(vals("relay", "netlab", "lost")) + sum(vals("relay", "netlab", "errors"))
print(f"  {'met    ' if lost == 0 else 'NOT met'}  zero loss in every netlab relay run (lost+errors = {lost:.0f})")
lost_ng = sum(vals("relay", "ngircd", "lost"))
print(f"  (ngircd lost {lost_ng:.0f} in its relay runs)")
rss = statistics.median(vals("hold", "netlab", "rss_per_client_bytes"))
print(f"  {'met    ' if rss <= 2048 else 'NOT met'}  resident memory per idle client: {rss:.0f} bytes (goal <= 2048; ngircd {statistics.median(vals('hold', 'ngircd', 'rss_per_client_bytes')):.0f})")
PY
exit "${status:-0}"
