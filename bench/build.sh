#!/usr/bin/env bash
# Building and checksumming packets into memory: nl_plan_build (libnet builders,
# netlab's own encoding and both checksums, cross-checked) vs the bare libnet
# builders alone, on N generated messages. Medians of 7 rounds.
#   bench/build.sh [MESSAGES]     default 100000
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
make -s lib
cc -O2 -Iinclude bench/build_bench.c build/libnetlab.a $(make -s --no-print-directory dep-libs) -o bench/out/build_bench
echo "== build + checksum into memory"
bench/out/build_bench "${1:-100000}"
