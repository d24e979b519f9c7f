#!/usr/bin/env bash
# Save every output analyze gives on a set of captures, to tell whether a change altered any:
# text, --json, --packets (text and JSON), --answers --json, and --json with --find/--follow/
# --expect (the stream consumers), each mode one run over all the captures (as fuzz/robust.sh
# runs them), exit status kept. Compare two builds with `diff -r`:
#   tools/analyze-outputs.sh OLD_BIN OUT_OLD CAPTURE...
#   tools/analyze-outputs.sh NEW_BIN OUT_NEW CAPTURE...
#   diff -r OUT_OLD OUT_NEW && echo identical
# The robustness corpus: python3 fuzz/mkcorpus.py fuzz/corpus/pcap DIR 20261121 and
# python3 fuzz/mkextreme.py DIR (762 captures).
set -uo pipefail
[ $# -ge 3 ] || { echo "usage: $0 ANALYZE_BIN OUT_DIR CAPTURE..." >&2; exit 64; }
bin=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
export NETLAB_ANALYZE_THREADS=1
run() { # NAME ARGS...
  local name=$1
  shift
  "$bin" "$@" > "$out/$name.out" 2> "$out/$name.err"
  echo "exit $?" >> "$out/$name.out"
}
run text --no-color "$@"
run json --json "$@"
run packets --no-color --packets "$@"
run packets-json --packets --json "$@"
run answers --answers --json "$@"
run streams --json --find Welcome --find HELLO --follow 1 --expect "$here/samples/group01_chat_input.csv" "$@"
NETLAB_ANALYZE_THREADS=2 run json-two-threads --json "$@"
ls "$out"
