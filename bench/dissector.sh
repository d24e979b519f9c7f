#!/usr/bin/env bash
# The chat dissector (wireshark/netlab_chat.lua) beside tshark alone on the same captures
# (issue 20 item 8): one line of 300 KB, 2 MB and 8 MB without a line end (and 2 MB with one),
# 5 MB and 21 MB of ordinary chat lines, all in 1448-byte segments (bench/mkchatcap.py).
# Prints every run, medians and pairwise ratios (tshark -r, and a display filter on a field),
# the bytes TCP hands the dissector (a work count, no clock) and the scaling check; exits 1
# when the work or the shape is not linear. BEFORE=1 also times the dissector as it was before
# the fix (git show 87629e4:wireshark/netlab_chat.lua), each run cut at BEFORE_LIMIT s (120).
#   bench/dissector.sh            (~5 min; ROUNDS=5 pairs per capture)
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out/dissector
mkdir -p "$out"
gen() { [ -s "$out/$1" ] || python3 bench/mkchatcap.py "$out/$1" "${@:2}" > /dev/null; }
gen line300k.pcap longline 300000
gen line2m.pcap longline 2000000
gen line2m-end.pcap longline 2000000 end
gen line8m.pcap longline 8000000
gen lines5m.pcap lines 5000000
gen lines21m.pcap lines 21000000
old=()
if [ "${BEFORE:-0}" = 1 ]; then
  git show 87629e4:wireshark/netlab_chat.lua > "$out/netlab_chat-before.lua"
  old=("$out/netlab_chat-before.lua")
fi
python3 bench/dissector.py "$out" wireshark/netlab_chat.lua "${old[@]}"
