#!/usr/bin/env bash
# libnetlab's halves (docs/ARCHITECTURE.md): every C file sits in a half folder CSources/netlab/<half>/,
# every public header belongs to the half under which include/netlab.h groups it, and no
# #include goes from a lower half into a higher one:
#   base <- wire <- pcap <- craft <- analyze;  base <- apps;  every half <- lab
# Reads the #include "..." lines of CSources/**/*.[ch] and include/**/*.h; prints each violation.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A uses=(
  [base]="base"
  [wire]="base wire"
  [pcap]="base wire pcap"
  [craft]="base wire pcap craft"
  [analyze]="base wire pcap craft analyze"
  [apps]="base apps"
  [lab]="base wire pcap craft analyze apps lab"
)
declare -A half_of   # file path -> half
status=0
fail() { echo "check-layout: $*" >&2; status=1; }

# Public headers: the "/* ---- half: NAME" groups of the umbrella header.
half=""
while IFS= read -r line; do
  if [[ $line =~ ^/\*\ ----\ half:\ ([a-z]+) ]]; then half=${BASH_REMATCH[1]}
  elif [[ $line =~ ^#include\ \"(netlab/nl_[a-z0-9_]+\.h)\" ]]; then
    [ -n "$half" ] || fail "include/netlab.h: ${BASH_REMATCH[1]} is outside a half group"
    half_of[include/${BASH_REMATCH[1]}]=$half
  fi
done < include/netlab.h
for h in include/netlab/*.h; do
  [ -n "${half_of[$h]:-}" ] || fail "$h: not grouped under a half in include/netlab.h"
done

# C files and internal headers: their folder.
while IFS= read -r f; do
  rel=${f#CSources/netlab/}
  if [[ $rel != */* ]]; then fail "$f: outside a half folder (git mv it into CSources/netlab/<half>/)"; continue; fi
  h=${rel%%/*}
  [ -n "${uses[$h]:-}" ] || { fail "$f: $h/ is not a half (docs/ARCHITECTURE.md)"; continue; }
  half_of[$f]=$h
done < <(find CSources/netlab -name '*.[ch]' | sort)

# Where an #include "x" of file f leads.
resolve() {
  local f=$1 inc=$2
  if [[ $inc == netlab/* ]]; then echo "include/$inc"; return; fi
  if [[ $f == include/netlab/* && -e include/netlab/$inc ]]; then echo "include/netlab/$inc"; return; fi
  local hits=(CSources/netlab/*/"$inc")
  [ -e "${hits[0]}" ] && [ "${#hits[@]}" = 1 ] && echo "${hits[0]}"
}

checked=0
for f in "${!half_of[@]}"; do
  from=${half_of[$f]}
  while IFS= read -r inc; do
    target=$(resolve "$f" "$inc")
    if [ -z "$target" ]; then fail "$f: #include \"$inc\" names no libnetlab header (or more than one)"; continue; fi
    to=${half_of[$target]:-}
    [ -n "$to" ] || { fail "$f: #include \"$inc\": $target belongs to no half"; continue; }
    checked=$((checked + 1))
    [[ " ${uses[$from]} " == *" $to "* ]] || fail "$f ($from) includes $target ($to): $from may use only ${uses[$from]}"
  done < <(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/p' "$f")
done
[ "$status" = 0 ] && echo "layout: ${#half_of[@]} files in 7 halves, $checked includes, none from a lower half into a higher one"
exit "$status"
