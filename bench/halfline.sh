#!/usr/bin/env bash
# Half-line memory (issue 8, item 5): N clients each hold a LINE-byte line with no LF.
# echoserver with its default input budget (128 MiB) beside echoserver with the budget
# lifted (--max-input 1 TiB: what the server did before the budget), and chatserver at its
# defaults. Memory from /proc (VmRSS, VmHWM); nothing here is a timing.
#
#   bench/halfline.sh             N=1000 LINE=1000000 CHAT_N=2000
# BIN=.build/debug reuses a debug build instead of building release.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}
LINE=${LINE:-1000000}
CHAT_N=${CHAT_N:-2000}
if [ -z "${BIN:-}" ]; then
  swift build -c release --product echoserver 2>&1 | tail -1
  swift build -c release --product chatserver 2>&1 | tail -1
  BIN=.build/release
fi
out=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$out"; }
trap cleanup EXIT
run() { # label tool probe answer args...
  local label=$1 tool=$2 probe=$3 answer=$4 n=$5 line=$6; shift 6
  "$BIN/$tool" --host 127.0.0.1 --port 0 --quiet "$@" > "$out/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q '(port ' "$out/log" && break; sleep 0.05; done
  local port; port=$(grep -o '(port [0-9]*' "$out/log" | head -1 | cut -d' ' -f2)
  printf '%-44s ' "$label"
  python3 bench/halfline.py "$pid" "$port" "$n" "$line" "$probe" "$answer"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}
echo "== $N clients x $LINE bytes without LF"
run "echoserver (default budget 128 MiB)" echoserver "Still Served" "DEVREs LLITs" "$N" "$LINE" --no-output
run "echoserver --max-input 1TiB (no budget)" echoserver "Still Served" "DEVREs LLITs" "$N" "$LINE" --no-output --max-input 1099511627776
echo "== $CHAT_N clients x 4000 bytes without LF"
run "chatserver (default budget 64 MiB)" chatserver "PING x" "PONG x" "$CHAT_N" 4000 --login-timeout 0
run "chatserver --max-input 1048576" chatserver "PING x" "PONG x" "$CHAT_N" 4000 --login-timeout 0 --max-input 1048576
