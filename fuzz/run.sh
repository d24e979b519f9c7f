#!/usr/bin/env bash
# Build every libFuzzer target (clang -fsanitize=fuzzer,address,undefined) and run
# each for SECONDS (default 20) from its seed corpus in fuzz/corpus/<target>/.
#   fuzz/run.sh            20 s per target
#   fuzz/run.sh 600 csv    10 minutes on fuzz_csv only
#   fuzz/run.sh --build    only build the targets; fuzz/run.sh --no-build 20 then runs them as built
#                          (make test builds them beside other stages)
# Targets run as many at a time as there are cores. New corpus entries go to fuzz/out/ (ignored
# by git); the seed corpus is not modified.
set -euo pipefail
cd "$(dirname "$0")/.."
build=1 run=1
case "${1:-}" in
  --build) run=0; shift ;;
  --no-build) build=0; shift ;;
esac
secs=${1:-20}
only=${2:-}
CLANG=${CLANG:-clang}
mkdir -p fuzz/out
cflags=(-g -O1 -fno-sanitize-recover=undefined -D_GNU_SOURCE -Iinclude $(printf -- '-I%s ' CSources/netlab/*/))
# libnetlab compiled once for every target, on every core, with the same instrumentation the
# targets get (fuzzer-no-link: coverage and sanitizers without libFuzzer's main); each target
# then compiles only its own file and links.
obj=fuzz/out/obj
jobs=$(nproc) running=() failed=0
if [ "$build" = 1 ]; then
  rm -rf "$obj"; mkdir -p "$obj"
  : > fuzz/out/build_lib.log
  for c in CSources/netlab/*/*.c; do
    o="$obj/$(basename "$(dirname "$c")")_$(basename "$c" .c).o"
    $CLANG "${cflags[@]}" -fsanitize=fuzzer-no-link,address,undefined -c "$c" -o "$o" >> fuzz/out/build_lib.log 2>&1 &
    running+=($!)
    if [ ${#running[@]} -ge "$jobs" ]; then wait "${running[0]}" || failed=1; running=("${running[@]:1}"); fi
  done
  for p in "${running[@]}"; do wait "$p" || failed=1; done
  [ "$failed" = 0 ] || { cat fuzz/out/build_lib.log >&2; exit 1; }
fi
# Each target built, then run, as many at a time as there are cores (each is one process).
run_target() { # NAME: runs fuzz_NAME for $secs seconds; its summary and verdict go to fuzz/out/summary_NAME
  local name=$1 bin=fuzz/out/fuzz_$1 work=fuzz/out/corpus_$1 status=0
  mkdir -p "$work"
  # -rss_limit_mb guards against unbounded growth; leaks fail the run (LeakSanitizer).
  rm -rf "fuzz/out/artifacts_$name"; mkdir -p "fuzz/out/artifacts_$name"
  "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="fuzz/out/artifacts_$name/" "$work" "fuzz/corpus/$name" > "fuzz/out/run_$name.log" 2>&1 || status=$?
  {
    echo "fuzz_$name: ${secs}s from fuzz/corpus/$name ($(ls fuzz/corpus/$name 2>/dev/null | wc -l) seeds)"
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "fuzz/out/run_$name.log" | tr '\n' ' '; echo
  } > "fuzz/out/summary_$name"
  if [ "$status" -ne 0 ] || [ -n "$(ls -A "fuzz/out/artifacts_$name")" ]; then
    {
      grep -E -A30 'ERROR|SUMMARY' "fuzz/out/run_$name.log" | head -60
      echo "fuzz_$name failed (exit $status); reproducer(s): $(ls fuzz/out/artifacts_$name/*)"
      echo "replay with: $bin fuzz/out/artifacts_$name/<file>"
    } >> "fuzz/out/summary_$name"
    return 1
  fi
}
names=()
for src in fuzz/fuzz_*.c; do
  name=$(basename "$src" .c); name=${name#fuzz_}
  [ -n "$only" ] && [ "$only" != "$name" ] && continue
  if [ "$build" = 0 ]; then
    [ -x "fuzz/out/fuzz_$name" ] || { echo "fuzz: fuzz/out/fuzz_$name is not built: run fuzz/run.sh --build first" >&2; exit 1; }
  elif ! $CLANG "${cflags[@]}" -fsanitize=fuzzer,address,undefined "$src" "$obj"/*.o \
       $(make -s --no-print-directory dep-libs) -o "fuzz/out/fuzz_$name" > "fuzz/out/build_$name.log" 2>&1; then
    cat "fuzz/out/build_$name.log" >&2
    exit 1
  fi
  names+=("$name")
done
[ "$run" = 1 ] || { echo "fuzz: ${#names[@]} targets built in fuzz/out/"; exit 0; }
declare -A pid_of=()
for name in "${names[@]}"; do
  run_target "$name" & pid_of[$name]=$!
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
done
for name in "${names[@]}"; do
  st=0; wait "${pid_of[$name]}" 2>/dev/null || st=$?
  # a job reaped by `wait -n` above reports 127 here: its summary file says how it ended
  cat "fuzz/out/summary_$name"
  if [ "$st" != 0 ] && [ "$st" != 127 ] || grep -q ' failed (exit' "fuzz/out/summary_$name"; then failed=1; fi
done
[ "$failed" = 0 ] || { echo "fuzz: a target failed (above)" >&2; exit 1; }
echo "fuzz: ok"
