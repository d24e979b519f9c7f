#!/usr/bin/env bash
# Every netlab test (make test; CI runs it as root), each stage timed (the table at the end;
# CONTRIBUTING.md says what each costs). The build and the quick checks first; then, in three
# phases of two lanes (two cores: the stages of a lane one after another, each logged to a file
# printed when its phase ends):
#   1. the XCTest classes that need root, one at a time (they wait on timers and the network)
#      beside, niced: the other XCTests in parallel; libnetlab as a plain C library (make lib,
#      installed into a temporary prefix, examples/ built through pkg-config, run, checked by
#      tshark); the docs (every command shown in README.md and docs/*.md runs,
#      scripts/test-docs.sh); make deb (root); the fuzz targets' build for phase 3; analyze
#      over hundreds of malformed captures under ASan/LSan/UBSan (fuzz/robust.sh)
#   2. the load and memory tests, then the event-loop and server tests on the poll() backend
#      (NETLAB_LOOP=poll), with nothing CPU-bound beside them but, niced, the package (root):
#      scripts/test-install.sh (make install/uninstall, the .deb in a fresh root with no Swift,
#      the README's walkthroughs as written, dpkg -r)
#   3. short libFuzzer runs of every fuzz target (fuzz/run.sh, one per core)
# Tests needing root or CAP_NET_RAW skip with the reason when it is missing.
# Environment: FUZZ_SECONDS (default 20 per target), SKIP_FUZZ=1 to skip the fuzz and robustness stages.
set -euo pipefail
cd "$(dirname "$0")/.."

# Wall time and CPU time (user + system of everything the stage ran) per stage: on a machine
# other builds share, wall time says how long you waited, CPU time what the stage cost.
timings=()
current="" started=0 cpu_started=0
# This shell's CPU seconds and its waited-for children's (/proc/PID/stat: utime stime cutime cstime).
clk=$(getconf CLK_TCK)
cpu_now() { awk -v clk="$clk" '{ printf "%d", ($14 + $15 + $16 + $17) / clk }' "/proc/${1:-$$}/stat"; }
mmss() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }
stage() {
  end_stage
  current="$*" started=$(date +%s) cpu_started=$(cpu_now)
  printf '\n=== %s ===\n' "$*"
}
end_stage() {
  [ -n "$current" ] || return 0
  local secs=$(( $(date +%s) - started )) cpu=$(( $(cpu_now) - cpu_started ))
  timings+=("$(printf '%6s %6s  %s' "$(mmss "$secs")" "$(mmss "$cpu")" "$current")")
  printf '=== %s: %d s (CPU %d s) ===\n' "$current" "$secs" "$cpu"
  current=""
}
lane_pids=()
report_timings() {
  local rc=$? p
  # a lane still running (the suite failed or was interrupted) is stopped with everything it started
  for p in "${lane_pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
  end_stage
  local total=$(( $(date +%s) - suite_started ))
  printf '\n=== time per stage (min:s; load average at the end: %s) ===\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%6s %6s  %s\n' wall CPU stage
  printf '%s\n' "${timings[@]}"
  printf '%6s %6s  total%s\n' "$(mmss "$total")" "$(mmss "$(cpu_now)")" "$([ "$rc" = 0 ] || echo ", FAILED")"
}
suite_started=$(date +%s)
trap report_timings EXIT

# Issue 8: no test may replace /dev/null (an output path renamed over it did once).
dev_null_intact() {
  [ -c /dev/null ] || { echo "FAIL: /dev/null is no longer a character device after $1" >&2; exit 1; }
  echo "/dev/null is still a character device after $1"
}

stage "swift build"
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Write|Emitting|Linking|Applying)' || true
swift build --build-tests >/dev/null

stage "quick checks: link flags, layout, benchmarks page"
scripts/check-link-flags.sh
scripts/check-layout.sh
bench/benchmarks-page.sh --check

end_stage

# The rest runs in phases of two lanes, for this 2-core machine (CI's too): each stage's output goes
# to a log of its own, printed whole when its phase ends (a line says when each stage ends), with
# its wall and CPU time in the table. A failed stage's lane stops there; the suite fails when the
# other lane has ended, the failed stage's log printed.
logdir=$(mktemp -d /tmp/netlab-test.XXXXXX)
slug() { printf '%s' "$1" | tr -c 'A-Za-z0-9' '_'; }
# run_stage NAME CMD...: CMD's output to NAME's log; "wall cpu status" to NAME's status file.
run_stage() {
  local name=$1 rc=0 t0 c0 me=$BASHPID; shift
  t0=$(date +%s) c0=$(cpu_now "$me")
  ( "$@" ) > "$logdir/$(slug "$name").log" 2>&1 < /dev/null &
  wait $! || rc=$?
  echo "$(( $(date +%s) - t0 )) $(( $(cpu_now "$me") - c0 )) $rc" > "$logdir/$(slug "$name").status"
  printf '... %s: %s after %d s\n' "$name" "$([ $rc = 0 ] && echo done || echo "FAILED (exit $rc)")" $(( $(date +%s) - t0 ))
  return $rc
}
# lane STAGE...: runs the stages (each "NAME|FUNCTION") one after another in the background, in a
# process group of its own (stopped as a whole if the suite ends first); lane_names collects them.
lane_names=()
lane() {
  local spec nice=0
  [ "$1" = --nice ] && { nice=1; shift; }
  for spec in "$@"; do lane_names+=("${spec%%|*}"); done
  set -m
  (
    [ "$nice" = 0 ] || renice -n 10 -p "$BASHPID" > /dev/null
    for spec in "$@"; do
      # (the command is split into words: no stage command has a quoted argument)
      read -ra cmd <<< "${spec#*|}"
      run_stage "${spec%%|*}" "${cmd[@]}" || exit 1
    done
  ) &
  lane_pids+=($!)
  set +m
}
# join: waits for every lane, then prints each stage's log in order with its time row.
join() {
  local p name failed=0 secs cpu rc
  for p in "${lane_pids[@]}"; do wait "$p" || failed=1; done
  lane_pids=()
  for name in "${lane_names[@]}"; do
    printf '\n=== %s ===\n' "$name"
    if [ ! -f "$logdir/$(slug "$name").status" ]; then
      echo "(not run: a stage before it in its lane failed)"; timings+=("$(printf '%6s %6s  %s' - - "$name (not run)")"); continue
    fi
    cat "$logdir/$(slug "$name").log"
    read -r secs cpu rc < "$logdir/$(slug "$name").status"
    printf '=== %s: %d s (CPU %d s)%s ===\n' "$name" "$secs" "$cpu" "$([ "$rc" = 0 ] || echo ", FAILED with exit $rc")"
    timings+=("$(printf '%6s %6s  %s' "$(mmss "$secs")" "$(mmss "$cpu")" "$name$([ "$rc" = 0 ] || echo ' (FAILED)')")")
  done
  lane_names=()
  [ "$failed" = 0 ] || { echo "FAIL: a stage failed (its log is above; all logs: $logdir)" >&2; exit 1; }
}

# The XCTest suite in three parts, every test in exactly one (checked against --list-tests):
#   root: the classes that need root (network namespaces, raw sockets, live capture), found in their
#         source: a class calling requireRoot, isRoot, getuid or geteuid, or using a helper type that
#         does (as ChatVanishedClientTests' VethPair). One at a time, as before.
#   load: the load and memory tests (LOAD), run when nothing else loads the machine.
#   rest: everything else, in parallel (as root under make test: a class needing root that the
#         search missed still runs, here).
# The root and load parts run the test binary directly: `swift test` holds a lock on .build that
# the parallel part keeps.
LOAD='ChatLoadTests|ChatFairnessTests|ServerMemoryTests'
xctest=$(swift build --show-bin-path)/netlabPackageTests.xctest
root_classes=$(awk '
  FNR == 1 { cur = "" }
  /^(final )?(class|struct|enum|extension) [A-Za-z0-9_]+/ {
    cur = $0; sub(/^(final )?(class|struct|enum|extension) /, "", cur); sub(/[^A-Za-z0-9_].*/, "", cur)
    if ($0 ~ /XCTestCase/) tests[cur] = 1
    if ($0 ~ /func requireRoot/) generic[cur] = 1
  }
  /func requireRoot/ { generic[cur] = 1 }
  /requireRoot|isRoot|getuid\(|geteuid\(/ { root[cur] = 1 }
  { text[cur] = text[cur] "\n" $0 }
  END {
    for (h in root) if (!(h in tests) && !(h in generic)) helpers[h] = 1
    for (t in tests) {
      r = (t in root)
      for (h in helpers) if (index(text[t], h)) r = 1
      if (r) print t
    }
  }' Tests/NetlabTests/*.swift | sort)
root_re=$(paste -sd'|' <<< "$root_classes")
list=$("$xctest" --list-tests 2>/dev/null | grep '^NetlabTests\.')
n_all=$(grep -c . <<< "$list")
n_root=$(grep -cE "^NetlabTests\.($root_re)/" <<< "$list")
n_load=$(grep -cE "^NetlabTests\.($LOAD)/" <<< "$list")
n_rest=$(( n_all - n_root - n_load ))
echo "XCTest: $n_all tests: $n_root in the $(wc -l <<< "$root_classes") classes that need root, $n_load load tests ($LOAD), $n_rest in parallel"
echo "root classes: $(tr '\n' ' ' <<< "$root_classes")"

# run_xctest CLASSES_RE COUNT [ENV...]: the classes, one test at a time; fails unless COUNT tests ran.
run_xctest() {
  local re=$1 want=$2 ran out specs; shift 2
  out=$(mktemp "$logdir/xctest.XXXXXX")
  specs=$(grep -oE "^NetlabTests\.($re)/" <<< "$list" | sort -u | sed 's|/$||' | paste -sd,)
  env "$@" "$xctest" "$specs" 2>&1 | tee "$out"
  [ "${PIPESTATUS[0]}" = 0 ] || return 1
  # the last summary is the whole run's ("Test Suite 'Selected tests' passed ... Executed N tests")
  ran=$(grep -oE 'Executed [0-9]+ tests?' "$out" | tail -1 | tr -dc 0-9)
  [ "$ran" = "$want" ] || { echo "FAIL: $ran tests ran, $want expected" >&2; return 1; }
}
xctest_root() { run_xctest "$root_re" "$n_root"; dev_null_intact "the root tests"; }
xctest_rest() {
  local out; out=$(mktemp "$logdir/rest.XXXXXX")
  swift test --skip-build --parallel --skip "NetlabTests\.($root_re|$LOAD)/" 2>&1 | tee "$out"
  [ "${PIPESTATUS[0]}" = 0 ] || return 1
  grep -q "^\[$n_rest/$n_rest\] Testing" "$out" || { echo "FAIL: not $n_rest tests run in parallel" >&2; return 1; }
  dev_null_intact "the parallel tests"
}
xctest_load() { run_xctest "$LOAD" "$n_load"; }
poll_tests() {
  local re='EventLoopTests|LoopHotColdTests|ChatServerTests|ChatLoadTests|ChatFairnessTests|EchoServerTests'
  run_xctest "$re" "$(grep -cE "^NetlabTests\.($re)/" <<< "$list")" NETLAB_LOOP=poll
}
docs_tests() {
  if [ "$(id -u)" = 0 ]; then
    # The package stage runs the README's walkthroughs with the installed netlab.
    scripts/test-docs.sh CONTRIBUTING.md docs/*.md
  else
    scripts/test-docs.sh
  fi
}
make_deb() { make -s --no-print-directory deb; }
fuzz_run() { fuzz/run.sh --no-build "${FUZZ_SECONDS:-20}"; }
is_root() { [ "$(id -u)" = 0 ]; }
# Phase 1: the root tests (they wait on timers and the network: about one core idle) beside the
# CPU-bound stages, those niced so the root tests' timers keep their time.
lane "XCTest: classes that need root, one at a time|xctest_root"
second=("XCTest: the rest, in parallel|xctest_rest"
        "C library through pkg-config|scripts/test-c-library.sh"
        "docs: every command shown runs|docs_tests")
is_root && second+=("package: make deb|make_deb")
[ "${SKIP_FUZZ:-0}" = 1 ] || second+=("fuzz: build the targets|fuzz/run.sh --build"
                                      "robustness: analyze over malformed captures (ASan/LSan/UBSan)|fuzz/robust.sh")
lane --nice "${second[@]}"
join

# Phase 2: the load and memory tests, and the event loop and server tests on the poll() backend,
# with nothing CPU-bound beside them but the package's install test (niced).
lane "XCTest: load and memory tests (${LOAD//|/, })|xctest_load" \
     "event loop and server tests on the poll() backend (NETLAB_LOOP=poll)|poll_tests"
if is_root; then
  lane --nice "package: install it into a fresh root|scripts/test-install.sh"
else
  echo "package stages skipped: installing the .deb into a fresh root needs root (CI is root)"
fi
join
dev_null_intact "the docs and the package"

# Phase 3: the fuzzers, one per core, alone: libFuzzer's time is wall time, so a shared core
# would mean fewer runs in the same FUZZ_SECONDS.
if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  lane "fuzz (${FUZZ_SECONDS:-20}s per target)|fuzz_run"
  join
fi

dev_null_intact "the whole suite"
end_stage
rm -rf "$logdir"
echo
echo "=== all tests passed ==="
