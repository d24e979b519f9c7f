#!/usr/bin/env bash
# Link flags are written in one place, the Makefile's DEP_LIBS. Package.swift needs a list of its
# own (SwiftPM cannot read the Makefile): it must name the same libraries (SwiftPM adds pthread
# itself). Scripts that link libnetlab's sources take the list from `make -s dep-libs` and C users
# from netlab.pc; no other file may spell a library of the list out.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
make_libs=$(make -s --no-print-directory dep-libs | tr ' ' '\n' | sed -n 's/^-l//p' | grep -vx pthread | sort)
swift_libs=$(sed -n 's/^ *\.linkedLibrary("\([^"]*\)").*/\1/p' Package.swift | sort)
if [ "$make_libs" != "$swift_libs" ]; then
  echo "check-link-flags: Package.swift links [$(echo $swift_libs)] but the Makefile's DEP_LIBS says [$(echo $make_libs)]" >&2
  fail=1
fi
# Any other spelling of these flags (bench/pcap_loop.c's -lpcap is a peer's, not libnetlab's).
pattern=$(printf -- '-l%s\\b|' $make_libs); pattern=${pattern%|}
stray=$(git ls-files -- '*.sh' '*.py' '*.c' '*.swift' '*.in' '*.mk' 'Makefile' ':!Makefile' ':!Package.swift' \
          ':!bench/analyze.sh' ':!bench/pcap_loop.c' | xargs grep -nE -- "$pattern" 2>/dev/null \
          | grep -v 'check-link-flags.sh' || true)
if [ -n "$stray" ]; then
  echo "check-link-flags: link flags spelled out outside the Makefile (use \$(make -s dep-libs)):" >&2
  echo "$stray" >&2
  fail=1
fi
[ "$fail" -eq 0 ] && echo "check-link-flags: the Makefile and Package.swift link the same libraries: $(echo $make_libs)"
exit "$fail"
