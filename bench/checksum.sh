#!/usr/bin/env bash
# Checksum speed: netlab's nl_cksum vs a plain 16-bit loop (same compiler, same
# flags) vs a plain 64-bit read loop (the memory-read limit), plus Scapy's
# checksum() for scale. Ratios matter; absolute GB/s depend on the machine.
#   bench/checksum.sh                 runs with -O2 and with -O3
#   CFLAGS=-O2 bench/checksum.sh      one flag set
set -euo pipefail
cd "$(dirname "$0")/.."
CFLAGS_LIST=${CFLAGS:-"-O2 -O3"}
mkdir -p bench/out
for CFLAGS in $CFLAGS_LIST; do
  # The engine and the peers compiled here, with the same flags (the shared build/ is left alone).
  ${CC:-cc} $CFLAGS -D_GNU_SOURCE -Iinclude -ICSources/netlab/base bench/checksum_bench.c CSources/netlab/base/nl_checksum.c CSources/netlab/base/nl_error.c \
     -o bench/out/checksum_bench
  echo "== checksum (${CC:-cc} $CFLAGS: libnetlab and both peers compiled with them)"
  bench/out/checksum_bench
done
if /usr/bin/python3 -c 'import scapy' 2>/dev/null; then
  /usr/bin/python3 - <<'PY'
import os, time
from scapy.utils import checksum
buf = os.urandom(1500)
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < 1.0:
    checksum(buf); n += 1
dt = time.perf_counter() - t0
print(f"scapy.utils.checksum, 1500 bytes: {n * 1500 / dt / 1e9:.3f} GB/s")
PY
fi
