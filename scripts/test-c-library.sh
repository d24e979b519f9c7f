#!/usr/bin/env bash
# libnetlab for C users: build, install into a temporary prefix, build examples/
# with `pkg-config --cflags --libs netlab`, run them, and check their pcap with tshark.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(mktemp -d /tmp/netlab-prefix.XXXXXX)
trap 'rm -rf "$prefix"' EXIT

# The halves of CSources/ (docs/ARCHITECTURE.md): no include from a lower half into a higher one.
scripts/check-layout.sh
make -s lib
# Only the public API is exported (NL_API, -fvisibility=hidden), and every part of it is.
scripts/check-exports.sh build/libnetlab.so
make -s install-lib PREFIX="$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ -f "$prefix/lib/wireshark/plugins/netlab_chat.lua" ] || { echo "make install did not install the chat dissector" >&2; exit 1; }
echo "pkg-config --cflags --libs netlab: $(pkg-config --cflags --libs netlab)"
echo "pkg-config --static --libs netlab: $(pkg-config --static --libs netlab)"
rm -rf build/examples
make -s examples
export LD_LIBRARY_PATH="$prefix/lib"
# (ldd's output is read whole first: `ldd | grep -q` can fail under pipefail when grep stops early)
libs=$(ldd build/examples/encapsulate)
grep -q "$prefix/lib/libnetlab.so" <<< "$libs" || { echo "example is not linked to the installed libnetlab: $libs" >&2; exit 1; }

out="$prefix/example.pcap"
build/examples/encapsulate samples/group01_chat_input.csv "$out" | tail -1
# The oracle: tshark must find every checksum good and nothing malformed.
bad=$(tshark -r "$out" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
      -Y '_ws.malformed || ip.checksum.status == "Bad" || tcp.checksum.status == "Bad" || tcp.analysis.flags' 2>/dev/null | wc -l)
good=$(tshark -r "$out" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
      -Y 'ip.checksum.status == "Good" && tcp.checksum.status == "Good"' 2>/dev/null | wc -l)
total=$(tshark -r "$out" 2>/dev/null | wc -l)
echo "tshark: $total packets, $good with both checksums good, $bad malformed/bad/analysis-flagged"
[ "$bad" -eq 0 ] && [ "$good" -eq "$total" ] && [ "$total" -gt 0 ] || { echo "C example output failed tshark's checks" >&2; exit 1; }

# The analysis from C reads the same capture back: one conversation, handshake, FIN.
build/examples/conversations "$out" > "$prefix/conv.txt"
cat "$prefix/conv.txt" | head -3
grep -q "1 TCP conversations" "$prefix/conv.txt" && grep -q -- "-> 127.0.0.1:12345 packets" "$prefix/conv.txt" \
  && grep -q "handshake yes end fin" "$prefix/conv.txt" && grep -q "bad 0 offload 0" "$prefix/conv.txt" \
  || { echo "examples/conversations misread the capture: $(cat "$prefix/conv.txt")" >&2; exit 1; }

# The answer sheet from C, checked against tshark: the server's first payload frame and its tcp.len,
# and the frame bytes each way of -z conv,tcp.
build/examples/answers "$out" > "$prefix/answers.txt"
head -3 "$prefix/answers.txt"
read -r gframe glen < <(tshark -r "$out" -Y 'tcp.srcport == 12345 && tcp.len > 0' -T fields -e frame.number -e tcp.len 2>/dev/null | head -1)
conv=$(tshark -r "$out" -q -z conv,tcp 2>/dev/null | grep '<->')
grep -q "greeting packet $gframe, $glen bytes" "$prefix/answers.txt" \
  || { echo "examples/answers: greeting is not frame $gframe ($glen bytes): $(cat "$prefix/answers.txt")" >&2; exit 1; }
for b in $(awk '{print $5, $8}' <<< "$conv"); do
  grep -q "frames $b" "$prefix/answers.txt" || { echo "examples/answers: no frame byte count $b (tshark: $conv)" >&2; exit 1; }
done
echo "answers from C: greeting frame $gframe ($glen bytes) and the frame bytes agree with tshark"

# The TCP analysis from C: the clean capture flags nothing and has its conversation's figures.
build/examples/tcp_analysis "$out" > "$prefix/ta.txt"
grep -q "^conversation 1: mss" "$prefix/ta.txt" && ! grep -q "^Warning\|^Note" "$prefix/ta.txt" \
  || { echo "examples/tcp_analysis: $(cat "$prefix/ta.txt")" >&2; exit 1; }
head -1 "$prefix/ta.txt"

# A bad CSV must fail with a message naming the file and line, and a non-zero exit.
printf 'msg_id,app_protocol,src_app,dst_app,message,timestamp\n1,CHAT,a,b,"unterminated\n' > "$prefix/bad.csv"
if build/examples/encapsulate "$prefix/bad.csv" "$prefix/bad.pcap" 2> "$prefix/err"; then
  echo "example accepted a malformed CSV" >&2; exit 1
fi
grep -q "bad.csv:2" "$prefix/err" || { echo "error does not name file:line: $(cat "$prefix/err")" >&2; exit 1; }
[ ! -e "$prefix/bad.pcap" ] || { echo "a failed run left a pcap behind" >&2; exit 1; }
# The chat server from C: start it on a free port, register over TCP with nc, stop it with SIGTERM.
build/examples/chat_server 0 > "$prefix/chat.log" 2>&1 &
chat_pid=$!
for _ in $(seq 100); do grep -q "(port " "$prefix/chat.log" && break; sleep 0.05; done
chat_port=$(grep -o '(port [0-9]*' "$prefix/chat.log" | head -1 | cut -d' ' -f2)
reply=$(printf 'NICK from_c\nQUIT\n' | timeout 10 nc -N 127.0.0.1 "$chat_port" | tr -d '\r' | sed -n 2p)
kill -TERM "$chat_pid"; wait "$chat_pid" || { echo "chat_server did not stop cleanly" >&2; exit 1; }
[ "$reply" = "OK NICK from_c" ] || { echo "chat_server from C: unexpected reply '$reply'" >&2; cat "$prefix/chat.log" >&2; exit 1; }
echo "chat_server from C: registered from_c on port $chat_port, stopped cleanly"
# The read-ahead thread (nl_readahead.c) under ThreadSanitizer: the analysis built with
# -fsanitize=thread over a generated capture of thousands of interleaved conversations
# (lossy: retransmissions, SACK), two threads forced; no report, and the same answers
# as one thread.
tsan="$prefix/tsan"
mkdir -p "$tsan"
cc -O2 -Wall -o "$tsan/gen_capture" bench/gen_capture.c
"$tsan/gen_capture" 30000 "$tsan/lossy.pcap" 3 1 20 2>/dev/null
cc -std=gnu11 -D_GNU_SOURCE -O1 -g -fsanitize=thread -Iinclude $(printf -- '-I%s ' CSources/netlab/*/) \
   -o "$tsan/tcp_analysis" examples/tcp_analysis.c CSources/netlab/*/*.c $(make -s --no-print-directory dep-libs)
NETLAB_ANALYZE_THREADS=2 TSAN_OPTIONS=halt_on_error=1:exitcode=66 "$tsan/tcp_analysis" "$tsan/lossy.pcap" > "$tsan/two.txt"
NETLAB_ANALYZE_THREADS=1 "$tsan/tcp_analysis" "$tsan/lossy.pcap" > "$tsan/one.txt"
cmp -s "$tsan/one.txt" "$tsan/two.txt" || { echo "the read-ahead thread changed the TCP analysis:" >&2; diff "$tsan/one.txt" "$tsan/two.txt" | head >&2; exit 1; }
echo "read-ahead thread under ThreadSanitizer: no report, $(grep -c . "$tsan/two.txt") lines of TCP analysis equal to one thread's"
echo "C library: ok"
