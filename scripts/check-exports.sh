#!/usr/bin/env bash
# libnetlab exports its public API and nothing else: built with -fvisibility=hidden, it exports
# exactly the functions declared with NL_API (include/netlab/nl_api.h) under include/.
# Fails on (1) a function declared in a public header without NL_API, (2) a dynamic symbol of
# build/libnetlab.so that no public header declares, (3) a declared function it does not export.
# Usage: scripts/check-exports.sh [path/to/libnetlab.so]   (run after `make lib`)
set -euo pipefail
cd "$(dirname "$0")/.."
so=${1:-build/libnetlab.so}
[ -e "$so" ] || { echo "check-exports: $so not found (make lib first)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/netlab-exports.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
status=0

# (1) A prototype at the start of a line (type, then nl_name() must carry NL_API.
if grep -nE '^(const |unsigned |struct |enum )*[a-z_0-9]+[ *]+nl_[a-z0-9_]+ *\(' include/netlab/*.h include/netlab.h \
     | grep -vE ':(static|typedef) ' > "$tmp/unmarked"; then
  echo "check-exports: public functions declared without NL_API (scripts/mark-api.sh adds it):" >&2; cat "$tmp/unmarked" >&2; status=1
fi

# The names declared with NL_API: each declaration runs from NL_API to its ';'.
grep -hvE '^ *(/\*|\*)' include/netlab/*.h | tr '\n' ' ' | grep -oE 'NL_API [^;{]*;' \
  | sed -E 's/^NL_API [^(]*[^a-z0-9_](nl_[a-z0-9_]+) *\(.*/\1/' | sort -u > "$tmp/declared"
# Dynamic symbols the library defines (the linker's own markers aside).
nm -D --defined-only "$so" | awk '{print $NF}' | grep -vxE '_init|_fini|_edata|_end|__bss_start' | sort -u > "$tmp/exported"

if comm -23 "$tmp/exported" "$tmp/declared" | grep . > "$tmp/extra"; then
  echo "check-exports: $so exports symbols no public header declares:" >&2; cat "$tmp/extra" >&2; status=1
fi
if comm -13 "$tmp/exported" "$tmp/declared" | grep . > "$tmp/missing"; then
  echo "check-exports: public functions $so does not export:" >&2; cat "$tmp/missing" >&2; status=1
fi
[ "$status" = 0 ] && echo "exports: $(wc -l < "$tmp/exported") symbols of $so, each declared with NL_API under include/, and every NL_API function exported"
exit "$status"
