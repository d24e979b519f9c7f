#!/usr/bin/env bash
# Every netlab test, in the order a failure is cheapest to read:
#   1. Swift build of every product, then the XCTest suite (tshark/tcpdump/nc as oracles;
#      tests needing root or CAP_NET_RAW skip with the reason when it is missing);
#      the event-loop and server tests run again on the poll() backend (NETLAB_LOOP=poll)
#   2. libnetlab as a plain C library: make, make install into a temporary prefix,
#      examples/ built through pkg-config and run, their output checked by tshark
#   3. short libFuzzer runs of every fuzz target (fuzz/run.sh)
#   4. analyze over hundreds of malformed captures under ASan/LSan/UBSan (fuzz/robust.sh)
# Environment: FUZZ_SECONDS (default 20 per target), SKIP_FUZZ=1 to skip stages 3 and 4.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() { printf '\n=== %s ===\n' "$*"; }
# Issue 8: no test may replace /dev/null (an output path renamed over it did once).
dev_null_intact() {
  [ -c /dev/null ] || { echo "FAIL: /dev/null is no longer a character device after $1" >&2; exit 1; }
  echo "/dev/null is still a character device after $1"
}

stage "swift build"
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Write|Emitting|Linking|Applying)' || true
swift build --build-tests >/dev/null

stage "swift test"
swift test --skip-build
dev_null_intact "swift test"

stage "event loop and server tests on the poll() backend (NETLAB_LOOP=poll)"
NETLAB_LOOP=poll swift test --skip-build \
  --filter 'EventLoopTests|LoopHotColdTests|ChatServerTests|ChatLoadTests|ChatFairnessTests|EchoServerTests'

stage "C library through pkg-config"
scripts/test-c-library.sh

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  stage "fuzz (${FUZZ_SECONDS:-20}s per target)"
  fuzz/run.sh "${FUZZ_SECONDS:-20}"
  stage "robustness: analyze over malformed captures (ASan/LSan/UBSan)"
  fuzz/robust.sh
fi

dev_null_intact "the whole suite"
stage "all tests passed"
