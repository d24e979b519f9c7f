#!/usr/bin/env bash
# Mark the public API: prefix every function prototype of include/netlab/nl_*.h that starts a line
# (type, then nl_name() with NL_API and include nl_api.h where a header declares any. For new
# headers and merged ones; idempotent. scripts/check-exports.sh checks the result against
# libnetlab.so. Usage: scripts/mark-api.sh [header...]   (default: every public header)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- include/netlab/nl_*.h
for h in "$@"; do
  [ "$(basename "$h")" = nl_api.h ] && continue
  sed -i -E '/^(static|typedef|NL_API) /! s/^((const |unsigned |struct |enum )*[a-z_0-9]+[ *]+nl_[a-z0-9_]+ *\()/NL_API \1/' "$h"
  if grep -q '^NL_API ' "$h" && ! grep -q '#include "nl_api.h"' "$h"; then
    sed -i -E '0,/^#define NL_[A-Z0-9_]+_H$/s//&\n\n#include "nl_api.h"/' "$h"
  fi
done
