#!/usr/bin/env bash
# libnetlab's halves (docs/ARCHITECTURE.md): every C file sits in a half folder CSources/netlab/<half>/,
# every public header belongs to the half under which include/netlab.h groups it, and no
# #include goes from a lower half into a higher one:
#   base <- wire <- pcap <- craft <- analyze;  base <- apps;  every half <- lab;  base, wire, pcap, craft <- prove
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
  [prove]="base wire pcap craft prove"
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
# Seams inside a half (issue 23): the chat server and its Redis mechanism meet only in
# apps/nl_chatnet.h. The chat core (nl_chat*.c/h) includes nothing of the mechanism (nl_cluster*,
# nl_redis); the mechanism includes nothing of the chat core but the seam and the protocol's public
# header (netlab/nl_chat.h: its limits and name rule).
seam=0
for f in CSources/netlab/apps/nl_chat*.[ch] CSources/netlab/apps/nl_cluster*.[ch]; do
  [ -e "$f" ] || continue
  base=${f##*/}
  while IFS= read -r inc; do
    seam=$((seam + 1))
    case $base:${inc##*/} in
      nl_chat*:nl_cluster*|nl_chat*:nl_redis.h)
        fail "$f includes \"$inc\": the chat core reaches other servers only through nl_chatnet.h" ;;
      nl_cluster*:nl_chatnet.h|nl_cluster*:nl_chat.h) ;;
      nl_cluster*:nl_chat*)
        fail "$f includes \"$inc\": the Redis mechanism sees the chat server only through nl_chatnet.h" ;;
    esac
  done < <(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/p' "$f")
done

# The analyze wing's own rules (issue 23): arrows removed there cannot come back.
# 1. One TCP engine: only nl_tcpanalysis.c keeps per-segment TCP state (sequence numbers,
#    unacknowledged segments, duplicate ACKs, window scales, loss rules) or parses options.
tcp_state='nl_tcp_options_parse|[^_]unacked|nextseq|maxseqtobeacked|dupacknum|win_scale|wscale\[|loss_marks'
for f in CSources/netlab/analyze/*.c; do
  [ "$f" = CSources/netlab/analyze/nl_tcpanalysis.c ] && continue
  if grep -nE "$tcp_state" "$f" | grep -vE '^[0-9]+: *(/?\*|//)' > /tmp/check-layout.$$; then
    fail "$f keeps TCP analysis state (only nl_tcpanalysis.c does; read its rows and figures): $(head -1 /tmp/check-layout.$$)"
  fi
  rm -f /tmp/check-layout.$$
done
# 2. The loop calls its consumers, never the reverse: nothing calls a function nl_analyze.c
#    defines but the public API (include/) that opens and frees an analysis.
for name in $(grep -E '^[a-z][^;(]*[ *]nl_[a-z0-9_]+\(' CSources/netlab/analyze/nl_analyze.c | grep -v '^static' \
                | sed -E 's/^[^(]*[ *](nl_[a-z0-9_]+)\(.*/\1/'); do
  grep -qE "NL_API[^;]*[^a-z0-9_]$name *\(" include/netlab/*.h && continue
  users=$(grep -lE "[^a-z0-9_]$name *\(" CSources/netlab/*/*.c | grep -v 'analyze/nl_analyze.c$' | tr '\n' ' ' || true)
  [ -z "$users" ] || fail "$users calls back into nl_analyze.c ($name): a consumer knows nothing of the loop"
done
# 3. The capture formats call no reader function but the shared state's (nl_pcapr_state.c):
#    nl_pcapr.c finds a format through its table, and no format calls back.
for f in CSources/netlab/pcap/nl_pcapng.c CSources/netlab/pcap/nl_pcap_classic.c; do
  bad=$(grep -oE 'nl_pcapr_[a-z0-9_]+ *\(' "$f" | tr -d ' (' | sort -u | grep -vxE 'nl_pcapr_(warn|fail|add_iface)' || true)
  [ -z "$bad" ] || fail "$f calls $bad of the reader: a format uses only nl_pcapr_state.c's warn, fail, add_iface"
done

grep -qE 'nl_pcapng_[a-z0-9_]+ *\(' CSources/netlab/pcap/nl_pcapr.c \
  && fail "CSources/netlab/pcap/nl_pcapr.c calls into nl_pcapng.c by name: formats are reached through the table"

[ "$status" = 0 ] && echo "layout: ${#half_of[@]} files in ${#uses[@]} halves, $checked includes, none from a lower half into a higher one; $seam includes of the chat core and its Redis mechanism, none across their seam; one TCP engine, no call back into the analysis loop or from a capture format into the reader"
exit "$status"
