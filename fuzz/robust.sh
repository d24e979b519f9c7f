#!/usr/bin/env bash
# analyze over hundreds of assorted and malformed captures (fuzz/mkcorpus.py,
# from the seed captures in fuzz/corpus/pcap), built with AddressSanitizer and
# LeakSanitizer, and UndefinedBehaviorSanitizer on libnetlab's C: never a crash,
# a hang, a leak or a sanitizer report; exit status 0, 1 or 2 only; every error
# line names its file. Text and JSON, with --find, --follow and --expect; --packets (text
# and JSON: every segment's line and time); --answers; and JSON again with the read-ahead
# thread forced on. Then captures whose every string is hostile to a terminal (fuzz/escapes.py,
# issue 20 item 5) through the same binary in every output mode, on a pipe and on a pty:
# no control byte reaches stdout or stderr but the formatter's own.
#   fuzz/robust.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
# (--disable-build-manifest-caching: SwiftPM 6.3 fails incremental sanitizer builds without it)
flags=(--sanitize=address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined --scratch-path .build-asan
       --disable-build-manifest-caching)
out=fuzz/out/robust
rm -rf "$out"
mkdir -p "$out"
n=$(python3 fuzz/mkcorpus.py fuzz/corpus/pcap "$out/corpus" "${1:-20261121}")
# Plus valid captures with extreme times and lengths (fuzz/mkextreme.py: if_tsoffset past the
# int64-nanosecond range, interfaces offset -9e9 s and +9e9 s, every if_tsresol), so the Swift
# formatting a user's run goes through is fuzzed too, not only the C (issue 8 item 2).
n=$((n + $(python3 fuzz/mkextreme.py "$out/corpus")))
swift build "${flags[@]}" --product analyze 2>&1 | tail -1
bin=$(swift build "${flags[@]}" --show-bin-path)/analyze
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
base_args=(--find Welcome --find HELLO --follow 1 --expect samples/group01_chat_input.csv)

bad() { # MODE STATUS ERRFILE: true when the run went wrong
  [ "$2" -ne 0 ] && [ "$2" -ne 1 ] && [ "$2" -ne 2 ] && return 0
  grep -qE 'Sanitizer|runtime error' "$3" && return 0
  [ -n "$(grep -v "^analyze: $out/corpus/" "$3")" ] && return 0
  return 1
}

modes=(json text answers packets packets-json json-two-threads)
mode_args() { # MODE: sets args and extra, and NETLAB_ANALYZE_THREADS, for that mode
  args=("${base_args[@]}")
  extra=(); [ "$1" = json ] && extra=(--json)
  # The read-ahead thread (used on big captures) forced on every capture, under the sanitizers too.
  export NETLAB_ANALYZE_THREADS=1
  [ "$1" = json-two-threads ] && extra=(--json) && export NETLAB_ANALYZE_THREADS=2
  [ "$1" = packets ] && extra=(--packets)
  [ "$1" = packets-json ] && extra=(--packets --json)
  [ "$1" = answers ] && args=(--answers --json)
  return 0
}
run_mode() { # MODE: the whole corpus in one run; its exit status to $out/MODE.status
  local status=0
  mode_args "$1"
  timeout 300 "$bin" "${args[@]}" "${extra[@]}" "$out"/corpus/* > "$out/$1.out" 2> "$out/$1.err" || status=$?
  echo "$status" > "$out/$1.status"
}
# The modes run as many at a time as there are cores (each is one process, two threads at most).
for mode in "${modes[@]}"; do
  run_mode "$mode" &
  while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n || true; done
done
wait
for mode in "${modes[@]}"; do
  status=$(cat "$out/$mode.status")
  if bad "$mode" "$status" "$out/$mode.err"; then
    echo "robust: $mode run failed (exit $status); finding the capture ..." >&2
    mode_args "$mode"
    for f in "$out"/corpus/*; do
      set +e
      timeout 20 "$bin" "${args[@]}" "${extra[@]}" "$f" > /dev/null 2> "$out/one.err"
      s=$?
      set -e
      if bad "$mode" "$s" "$out/one.err"; then
        echo "robust: $f: exit $s" >&2
        head -40 "$out/one.err" >&2
        echo "replay: $bin ${args[*]} ${extra[*]} $f" >&2
        exit 1
      fi
    done
    head -40 "$out/$mode.err" >&2
    exit 1
  fi
done
python3 - "$out/json.out" "$n" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert len(d) == n, (len(d), n)
rej = sum(1 for x in d if "error" in x)
cut = sum(1 for x in d if x.get("read_error"))
pk = sum(x.get("packets", 0) for x in d)
print("robust: %d captures (%d rejected as not captures, %d damaged part-way, %d packets read), text and JSON, "
      "--packets, --answers, ASan+LSan+UBSan: no crash, hang, leak or sanitizer report" % (n, rej, cut, pk))
PY
# The text path end to end under the sanitizers: hostile interface names, descriptions, comments,
# chat names and payloads in every output mode (a sanitizer report would end analyze with 1 or 2
# and a report on stderr, which escapes.py counts as a failure too).
python3 fuzz/escapes.py "$bin" "${1:-20261209}"
