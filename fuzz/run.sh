#!/usr/bin/env bash
# Build every libFuzzer target (clang -fsanitize=fuzzer,address,undefined) and run
# each for SECONDS (default 20) from its seed corpus in fuzz/corpus/<target>/.
#   fuzz/run.sh            20 s per target
#   fuzz/run.sh 600 csv    10 minutes on fuzz_csv only
# New corpus entries go to fuzz/out/ (ignored by git); the seed corpus is not modified.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
only=${2:-}
CLANG=${CLANG:-clang}
mkdir -p fuzz/out
cflags=(-g -O1 -fno-sanitize-recover=undefined -D_GNU_SOURCE -Iinclude $(printf -- '-I%s ' CSources/netlab/*/))
# libnetlab compiled once for every target, on every core, with the same instrumentation the
# targets get (fuzzer-no-link: coverage and sanitizers without libFuzzer's main); each target
# then compiles only its own file and links.
obj=fuzz/out/obj
rm -rf "$obj"; mkdir -p "$obj"
: > fuzz/out/build_lib.log
jobs=$(nproc) running=() failed=0
for c in CSources/netlab/*/*.c; do
  o="$obj/$(basename "$(dirname "$c")")_$(basename "$c" .c).o"
  $CLANG "${cflags[@]}" -fsanitize=fuzzer-no-link,address,undefined -c "$c" -o "$o" >> fuzz/out/build_lib.log 2>&1 &
  running+=($!)
  if [ ${#running[@]} -ge "$jobs" ]; then wait "${running[0]}" || failed=1; running=("${running[@]:1}"); fi
done
for p in "${running[@]}"; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || { cat fuzz/out/build_lib.log >&2; exit 1; }
for src in fuzz/fuzz_*.c; do
  name=$(basename "$src" .c); name=${name#fuzz_}
  [ -n "$only" ] && [ "$only" != "$name" ] && continue
  bin=fuzz/out/fuzz_$name
  if ! $CLANG "${cflags[@]}" -fsanitize=fuzzer,address,undefined "$src" "$obj"/*.o \
       $(make -s --no-print-directory dep-libs) -o "$bin" > "fuzz/out/build_$name.log" 2>&1; then
    cat "fuzz/out/build_$name.log" >&2
    exit 1
  fi
  work=fuzz/out/corpus_$name
  mkdir -p "$work"
  echo "fuzz_$name: ${secs}s from fuzz/corpus/$name ($(ls fuzz/corpus/$name 2>/dev/null | wc -l) seeds)"
  # -rss_limit_mb guards against unbounded growth; leaks fail the run (LeakSanitizer).
  rm -rf "fuzz/out/artifacts_$name"; mkdir -p "fuzz/out/artifacts_$name"
  status=0
  "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="fuzz/out/artifacts_$name/" "$work" "fuzz/corpus/$name" > "fuzz/out/run_$name.log" 2>&1 || status=$?
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "fuzz/out/run_$name.log" | tr '\n' ' '; echo
  if [ "$status" -ne 0 ] || [ -n "$(ls -A "fuzz/out/artifacts_$name")" ]; then
    grep -E -A30 'ERROR|SUMMARY' "fuzz/out/run_$name.log" | head -60 >&2
    echo "fuzz_$name failed (exit $status); reproducer(s): $(ls fuzz/out/artifacts_$name/*)" >&2
    echo "replay with: $bin fuzz/out/artifacts_$name/<file>" >&2
    exit 1
  fi
done
echo "fuzz: ok"
