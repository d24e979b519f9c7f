#!/usr/bin/env bash
# Every netlab test (make test; CI runs it as root), in the order a failure is cheapest to read,
# each stage timed (the table at the end; CONTRIBUTING.md says what each costs):
#   1. Swift build of every product and the tests
#   2. quick checks: link flags in one place, the halves' layout, docs/BENCHMARKS.md up to date
#   3. the XCTest suite (tshark/tcpdump/nc as oracles; tests needing root or CAP_NET_RAW skip
#      with the reason when it is missing); the event-loop and server tests again on the poll()
#      backend (NETLAB_LOOP=poll)
#   4. libnetlab as a plain C library: make lib, install into a temporary prefix, examples/
#      built through pkg-config and run, their output checked by tshark
#   5. the docs: every command shown in README.md and docs/*.md runs (scripts/test-docs.sh)
#   6. the package (root): make deb, then scripts/test-install.sh (make install/uninstall, the
#      .deb in a fresh root with no Swift, the README's walkthroughs as written, dpkg -r)
#   7. short libFuzzer runs of every fuzz target (fuzz/run.sh)
#   8. analyze over hundreds of malformed captures under ASan/LSan/UBSan (fuzz/robust.sh)
# Environment: FUZZ_SECONDS (default 20 per target), SKIP_FUZZ=1 to skip stages 7 and 8.
set -euo pipefail
cd "$(dirname "$0")/.."

# Wall time and CPU time (user + system of everything the stage ran) per stage: on a machine
# other builds share, wall time says how long you waited, CPU time what the stage cost.
timings=()
current="" started=0 cpu_started=0
# This shell's CPU seconds and its waited-for children's (/proc/PID/stat: utime stime cutime cstime).
clk=$(getconf CLK_TCK)
cpu_now() { awk -v clk="$clk" '{ printf "%d", ($14 + $15 + $16 + $17) / clk }' "/proc/$$/stat"; }
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
report_timings() {
  local rc=$?
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

stage "swift test"
swift test --skip-build
dev_null_intact "swift test"

stage "event loop and server tests on the poll() backend (NETLAB_LOOP=poll)"
NETLAB_LOOP=poll swift test --skip-build \
  --filter 'EventLoopTests|LoopHotColdTests|ChatServerTests|ChatLoadTests|ChatFairnessTests|EchoServerTests'

stage "C library through pkg-config"
scripts/test-c-library.sh

stage "docs: every command shown runs"
if [ "$(id -u)" = 0 ]; then
  # The package stage runs the README's walkthroughs with the installed netlab.
  scripts/test-docs.sh CONTRIBUTING.md docs/*.md
else
  scripts/test-docs.sh
fi

if [ "$(id -u)" = 0 ]; then
  stage "package: make deb, then install it into a fresh root"
  make -s --no-print-directory deb
  scripts/test-install.sh
else
  echo "package stage skipped: installing the .deb into a fresh root needs root (CI is root)"
fi
dev_null_intact "the docs and the package"

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  stage "fuzz (${FUZZ_SECONDS:-20}s per target)"
  fuzz/run.sh "${FUZZ_SECONDS:-20}"
  stage "robustness: analyze over malformed captures (ASan/LSan/UBSan)"
  fuzz/robust.sh
fi

dev_null_intact "the whole suite"
end_stage
echo
echo "=== all tests passed ==="
