#!/usr/bin/env bash
# make check: the inner loop, under 2 minutes on the 2-core development machine. Builds, runs the
# quick checks, every XCTest that needs no root and is not a load or memory test, and the docs'
# commands that need no root. Not here (make test runs them): tests that need root (they skip,
# even as root: NETLAB_SKIP_ROOT=1), the load and memory tests named below, the fuzzers, the
# package. A new test class runs here by default; add it to SLOW only if it takes many seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
SLOW='ReadAheadTests|ChatClusterTests|ChatFairnessTests|ChatLoadTests|ServerMemoryTests'
started=$(date +%s)
lap() { printf '=== %s: %d s ===\n' "$1" $(( $(date +%s) - started )); }

swift build --build-tests 2>&1 | grep -E 'error|warning: unre|Compiling|Build complete' | grep -v '^\[' || true
swift build --build-tests >/dev/null
lap build
scripts/check-link-flags.sh
scripts/check-layout.sh
bench/benchmarks-page.sh --check
log=$(mktemp /tmp/netlab-check.XXXXXX)
if ! NETLAB_SKIP_ROOT=1 swift test --skip-build --parallel --skip "$SLOW" > "$log" 2>&1; then
  grep -E 'error:|failed|Fatal|crash' "$log" | head -40
  echo "make check: tests failed (whole output: $log)" >&2
  exit 1
fi
echo "tests passed: $(grep -c '^\[[0-9]*/[0-9]*] Testing' "$log") run in parallel"
rm -f "$log"
lap "tests (no root, not $SLOW)"
scripts/test-docs.sh --no-root 2>&1 | grep -v '^skip ' || exit 1
lap "make check"
