#!/bin/bash
# tools/prove-agreement.sh - does `netlab prove` agree with packetdrill on packetdrill's own TCP tests?
#
# Runs every script of a packetdrill checkout's gtests/net/tcp under packetdrill and under
# `netlab prove`, on this kernel, one after the other (both are timing-sensitive: never in
# parallel), in each address mode the script allows (packetdrill's run_all.py rule: a name
# ending in v4.pkt is IPv4 only, v6.pkt IPv6 only). For each script packetdrill passes, a copy
# with one expected field changed (the `ack` of the first outbound segment that has one, +1)
# must fail under netlab prove (exit 1) naming that line and field, and under packetdrill too.
#
# packetdrill's code and scripts are not the project's: the checkout stays where it is, the
# scripts are copied to a temporary folder that is removed at the end. This is why the
# agreement is a tool and not a test: CI has no network to fetch packetdrill.
#
# Usage (root):
#   tools/prove-agreement.sh [options] PACKETDRILL_CHECKOUT [SUBDIR...]
#     --netlab PATH     the netlab executable (default: .build/debug/netlab, then PATH)
#     --modes LIST      comma-separated: ipv4,ipv6,ipv4-mapped-ipv6 (default: ipv4)
#     --retries N       rerun a failing run up to N more times, for timing flakes (default 1)
#     --out DIR         where results.tsv, table.md and the logs go (default: a new temp folder)
#     --no-mutants      skip the mutated copies
#     --summarize DIR   only write DIR/table.md again from DIR/results.tsv (no runs)
#   SUBDIR...           only these folders (or .pkt files) under gtests/net/tcp, e.g. close sack
#   PD_REV=abc1234      names the packetdrill commit in the table when the checkout has no .git
#
# The checkout's packetdrill is built first if gtests/net/packetdrill/packetdrill is missing
# (needs bison and flex). Prints the table (counts, then every difference with both tools'
# first error line) on stdout; exit 0 when every difference is explained by nothing left (all
# agree and every mutant failed), 1 otherwise, 64 on usage errors.
set -u

usage() { sed -n '/^# Usage/,/^# The checkout/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }

# summarize DIR PD_REV: DIR/table.md from DIR/results.tsv (counts, then the differences);
# its status is 1 when the tools disagree anywhere or a mutant did not fail as it should.
summarize() {
  local out=$1 pd_rev=$2
  awk -F'\t' -v pdrev="$pd_rev" -v kernel="$(uname -r)" '
    NR == 1 { next }
    {
      runs++; pdp = ($3 == "pass"); nlp = ($5 ~ /^pass/)
      if (pdp && nlp) both++; else if (!pdp && !nlp) neither++; else if (pdp) pdonly++; else nlonly++
      if (pdp) { mtot++; if ($9 ~ /^fails@/) mfail++ }
      if (pdp && nlp) { btot++; if ($9 ~ /^fails@/) bfail++ }
      if ((pdp && $4 > 1) || (nlp && $6 > 1)) retried++
      pds += $7; nls += $8
      if (pdp != nlp && $5 == "pass;4ms:fail") tolfail++
      if (pdp != nlp) diff[++nd] = sprintf("| %s | %s | %s | %s | %s | %s |", $1, $2, $3, $5, $11, $12)
      if (pdp && $9 !~ /^fails@/) mdiff[++nm] = sprintf("| %s | %s | %s | %s |", $1, $2, $9, $12)
    }
    END {
      printf "## netlab prove vs packetdrill on gtests/net/tcp\n\n"
      printf "packetdrill %s, kernel %s, %d runs (script x mode).\n\n", pdrev, kernel, runs
      printf "| | runs |\n| --- | --- |\n"
      printf "| both pass | %d |\n| both fail | %d |\n| packetdrill passes, netlab prove fails | %d |\n| netlab prove passes, packetdrill fails | %d |\n", both, neither, pdonly, nlonly
      printf "| of those, failing under netlab prove too with packetdrill'"'"'s 4 ms tolerance (--tolerance 4) | %d |\n", tolfail
      printf "| mutated copies of the scripts both pass, failing under netlab prove naming line and field | %d of %d |\n", bfail, btot
      printf "| mutated copies of every packetdrill pass, failing so under netlab prove | %d of %d |\n", mfail, mtot
      printf "| passes that needed a retry (timing) | %d |\n| total seconds, packetdrill / netlab prove | %.1f / %.1f |\n\n", retried, pds, nls
      if (nd) {
        printf "### Runs where the two disagree\n\n| script | mode | packetdrill | netlab prove | packetdrill says | netlab prove says |\n| --- | --- | --- | --- | --- | --- |\n"
        for (i = 1; i <= nd; i++) print diff[i]
        printf "\n"
      }
      if (nm) {
        printf "### Mutated copies netlab prove did not fail as expected\n\n| script | mode | result | netlab prove on the original |\n| --- | --- | --- | --- |\n"
        for (i = 1; i <= nm; i++) print mdiff[i]
        printf "\n"
      }
      exit (nd || nm) ? 1 : 0
    }' "$out/results.tsv" >"$out/table.md"
}

netlab="" modes="ipv4" retries=1 out="" mutants=1
while [ $# -gt 0 ]; do
  case "$1" in
    --netlab) netlab="${2:?}"; shift 2 ;;
    --modes) modes="${2:?}"; shift 2 ;;
    --retries) retries="${2:?}"; shift 2 ;;
    --out) out="${2:?}"; shift 2 ;;
    --no-mutants) mutants=0; shift ;;
    --summarize) summarize "${2:?}" "${PD_REV:-?}"; st=$?; cat "$2/table.md"; exit $st ;;
    -h|--help) usage ;;
    -*) echo "prove-agreement: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage
pd_checkout=$(cd "$1" 2>/dev/null && pwd) || { echo "prove-agreement: no folder $1" >&2; exit 64; }
shift
[ -d "$pd_checkout/gtests/net/tcp" ] || { echo "prove-agreement: $pd_checkout has no gtests/net/tcp (give the root of a google/packetdrill checkout)" >&2; exit 64; }
[ "$(id -u)" = 0 ] || { echo "prove-agreement: needs root (network namespaces, tun devices)" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$netlab" ]; then
  if [ -x "$repo/.build/debug/netlab" ]; then netlab="$repo/.build/debug/netlab"; else netlab=$(command -v netlab) || true; fi
fi
[ -n "$netlab" ] && [ -x "$netlab" ] || { echo "prove-agreement: no netlab executable (swift build, or --netlab PATH)" >&2; exit 64; }

pd_dir="$pd_checkout/gtests/net/packetdrill"
pd="$pd_dir/packetdrill"
if [ ! -x "$pd" ]; then
  echo "prove-agreement: building packetdrill in $pd_dir" >&2
  (cd "$pd_dir" && ./configure >/dev/null && make -j2 >/dev/null) || { echo "prove-agreement: packetdrill did not build (bison and flex installed?)" >&2; exit 1; }
fi

[ -n "$out" ] || out=$(mktemp -d /tmp/prove-agreement.XXXXXX)
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/prove-agreement-scripts.XXXXXX)
# tcp/common/defaults.sh is a link to ../../common/defaults.sh: copy both folders.
mkdir -p "$work/net"
cp -r "$pd_checkout/gtests/net/tcp" "$pd_checkout/gtests/net/common" "$work/net/"
ns=""
cleanup() {
  [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# packetdrill's address arguments per mode, as its run_all.py gives them.
pd_mode_args() {
  case "$1" in
    ipv4) echo "--ip_version=ipv4 --local_ip=192.168.0.1 --gateway_ip=192.168.0.1 --netmask_ip=255.255.0.0 --remote_ip=192.0.2.1 -D TFO_COOKIE=3021b9d889017eeb -D CODE=host_unreachable -D CMSG_LEVEL_IP=SOL_IP -D CMSG_TYPE_RECVERR=IP_RECVERR" ;;
    ipv6) echo "--ip_version=ipv6 --mtu=1520 --local_ip=fd3d:0a0b:17d6::1 --gateway_ip=fd3d:0a0b:17d6:8888::1 --remote_ip=fd3d:fa7b:d17d::1 -D TFO_COOKIE=c1d1e9742a47a9bc -D CMSG_LEVEL_IP=SOL_IPV6 -D CMSG_TYPE_RECVERR=IPV6_RECVERR" ;;
    ipv4-mapped-ipv6) echo "--ip_version=ipv4-mapped-ipv6 --local_ip=192.168.0.1 --gateway_ip=192.168.0.1 --netmask_ip=255.255.0.0 --remote_ip=192.0.2.1 -D TFO_COOKIE=3021b9d889017eeb -D CODE=host_unreachable -D CMSG_LEVEL_IP=SOL_IPV6 -D CMSG_TYPE_RECVERR=IPV6_RECVERR" ;;
  esac
}

# netlab prove takes the address mode as packetdrill's script option (`--ip_version=MODE` at the
# top of the script), not on its command line: for a mode other than IPv4 netlab prove gets a
# copy whose first line carries the option in front of what was there (a comment or nothing),
# so every line keeps its number. Prints the path to give netlab prove, or nothing when the
# first line is an event (the run is then marked n/a). In the IPv4 modes the same line gives
# packetdrill's local address (--local_ip=192.168.0.1, as run_all.py does; netlab prove's own
# default is 192.168.0.2): a TCP Fast Open server's cookie is computed over the address pair
# (RFC 7413 4.1.2), so -D TFO_COOKIE holds for that address only. An IPv4 script whose first
# line is an event runs as it is.
nl_script_for_mode() {
  local script=$1 mode=$2 first opts
  # the address mode goes on netlab prove's command line (--ip-version, as packetdrill's); the
  # first line carries packetdrill's local address for the IPv4 modes
  case "$mode" in
    ipv4|ipv4-mapped-ipv6) opts="--local_ip=192.168.0.1" ;;
    *) echo "$script"; return ;;
  esac
  first=$(head -1 "$script")
  case "$first" in
    ''|//*|'#'*) ;;
    *) [ "$mode" = ipv4 ] && echo "$script"; return ;;
  esac
  local copy
  copy="$(dirname "$script")/mode-$mode-$(basename "$script")"
  { printf -- '%s %s\n' "$opts" "$first"; tail -n +2 "$script"; } >"$copy"
  echo "$copy"
}

# netlab prove's arguments per mode: packetdrill's -D symbols and IPv6's --mtu if it takes them.
nl_help=$("$netlab" prove --help 2>&1)
nl_mode_args() {
  local defs=""
  if printf '%s' "$nl_help" | grep -q -- '-D\b\|--define'; then
    case "$1" in
      ipv4) defs="-D TFO_COOKIE=3021b9d889017eeb -D CODE=host_unreachable -D CMSG_LEVEL_IP=SOL_IP -D CMSG_TYPE_RECVERR=IP_RECVERR" ;;
      ipv6) defs="-D TFO_COOKIE=c1d1e9742a47a9bc -D CMSG_LEVEL_IP=SOL_IPV6 -D CMSG_TYPE_RECVERR=IPV6_RECVERR" ;;
      ipv4-mapped-ipv6) defs="-D TFO_COOKIE=3021b9d889017eeb -D CODE=host_unreachable -D CMSG_LEVEL_IP=SOL_IPV6 -D CMSG_TYPE_RECVERR=IPV6_RECVERR" ;;
    esac
  fi
  if printf '%s' "$nl_help" | grep -q -- '--ip-version'; then
    defs="$defs --ip-version $1"
  fi
  # run_all.py's IPv6 mode gives tun0 an MTU of 1520 (MSS 1460)
  if [ "$1" = ipv6 ] && printf '%s' "$nl_help" | grep -q -- '--mtu'; then
    defs="$defs --mtu 1520"
  fi
  echo "$defs"
}

now() { date +%s.%N; }

# run_pd SCRIPT MODE LOG: packetdrill in a namespace of its own, from the script's folder.
run_pd() {
  local script=$1 mode=$2 log=$3 rc
  ns="agree-$$-$RANDOM"
  ip netns add "$ns" || return 1
  ip -netns "$ns" link set lo up
  # shellcheck disable=SC2046
  (cd "$(dirname "$script")" && timeout -k 5 180 ip netns exec "$ns" "$pd" --send_omit_free $(pd_mode_args "$mode") "$(basename "$script")") >"$log" 2>&1
  rc=$?
  ip netns del "$ns" 2>/dev/null; ns=""
  return $rc
}

# run_nl SCRIPT MODE LOG: netlab prove (it makes its own namespace), from the script's folder.
run_nl() {
  local script mode=$2 log=$3
  script=$(nl_script_for_mode "$1" "$2")
  [ -n "$script" ] || { echo "n/a: the first line is an event, no room for --ip_version" >"$log"; return 3; }
  # shellcheck disable=SC2046
  (cd "$(dirname "$script")" && timeout -k 5 180 "$netlab" prove --out "$out/runs" $(nl_mode_args "$mode") "$(basename "$script")") >"$log" 2>&1
}

run_nl_tol() {
  local script mode=$2 log=$3
  script=$(nl_script_for_mode "$1" "$2")
  # shellcheck disable=SC2046
  (cd "$(dirname "$script")" && timeout -k 5 180 "$netlab" prove --tolerance 4 --out "$out/runs" $(nl_mode_args "$mode") "$(basename "$script")") >"$log" 2>&1
}

# with_retries FUNC SCRIPT MODE LOG: rc of the first passing attempt, or of the last one; sets tries.
tries=0
with_retries() {
  local f=$1 rc=1 i
  for ((i = 0; i <= retries; i++)); do
    tries=$((i + 1))
    "$f" "$2" "$3" "$4.$tries" && { rc=0; cp "$4.$tries" "$4"; return 0; }
    rc=$?
    cp "$4.$tries" "$4"
  done
  return $rc
}

# first_error LOG: what went wrong, in one line: packetdrill's first line (sysctl chatter
# skipped); netlab prove's "netlab prove: ..." error, or its verdict's FAILED line and the
# line under it that names the field.
first_error() {
  local e
  e=$(grep -m1 '^netlab prove: ' "$1" 2>/dev/null)
  [ -n "$e" ] || e=$(grep -m1 -A1 '^FAILED ' "$1" 2>/dev/null | tr -s ' \n' ' ')
  [ -n "$e" ] || e=$(grep -v -e '^sysctl: ' -e '^$' -e '^netlab prove ' -e '^ *line ' -e '^ *[0-9]' "$1" 2>/dev/null | head -1)
  printf '%s' "$e" | cut -c1-200 | tr '\t|' ' /'
}

# mutate SCRIPT COPY: COPY gets SCRIPT with one expected field of one outbound segment changed:
# the first `ack N` on a `>` line becomes N+1, or, when no outbound segment has an ack, the
# first outbound sequence range a:b(n) of a segment without SYN becomes a+1:b+1(n).
# Prints "LINE FIELD" or nothing.
mutate() {
  awk -v copy="$2" '
    { line[NR] = $0 }
    /^[ \t]*[-+0-9.~*]*[ \t]*>[ \t]/ {
      if (!acked && match($0, /[ \t]ack [0-9]+/)) acked = NR
      # the sequence number of a SYN is its ISN, which both tools learn rather than check
      if (!seqd && $0 !~ />[ \t]+[A-Z.]*S/ && match($0, /[ \t][0-9]+:[0-9]+\([0-9]+\)/)) seqd = NR
    }
    END {
      if (acked) {
        $0 = line[acked]; match($0, /[ \t]ack [0-9]+/)
        line[acked] = substr($0, 1, RSTART + 4) (substr($0, RSTART + 5, RLENGTH - 5) + 1) substr($0, RSTART + RLENGTH)
        what = acked " ack"
      } else if (seqd) {
        $0 = line[seqd]; match($0, /[ \t][0-9]+:[0-9]+\([0-9]+\)/)
        split(substr($0, RSTART + 1, RLENGTH - 1), r, /[:()]/)
        line[seqd] = substr($0, 1, RSTART) (r[1] + 1) ":" (r[2] + 1) "(" r[3] ")" substr($0, RSTART + RLENGTH)
        what = seqd " seq"
      }
      for (i = 1; i <= NR; i++) print line[i] > copy
      if (what != "") print what
    }' "$1"
}

printf 'script\tmode\tpacketdrill\tpd_tries\tnetlab\tnl_tries\tpd_seconds\tnl_seconds\tmutant_netlab\tmutant_packetdrill\tpd_first_error\tnl_first_error\n' >"$out/results.tsv"

if [ $# -gt 0 ]; then
  targets=()
  for t in "$@"; do targets+=("$work/net/tcp/$t"); done
else
  targets=("$work/net/tcp")
fi
mapfile -t scripts < <(find "${targets[@]}" -name '*.pkt' -not -path '*/common/*' | sort)
IFS=',' read -r -a mode_list <<<"$modes"

for script in "${scripts[@]}"; do
  rel=${script#"$work/net/tcp/"}
  for mode in "${mode_list[@]}"; do
    case "$mode" in
      ipv4|ipv4-mapped-ipv6) case "$rel" in *v6.pkt) continue ;; esac ;;
      ipv6) case "$rel" in *v4.pkt) continue ;; esac ;;
      *) echo "prove-agreement: unknown mode $mode" >&2; exit 64 ;;
    esac
    tag=$(printf '%s' "$rel-$mode" | tr '/' '_')
    t0=$(now); with_retries run_pd "$script" "$mode" "$out/logs/$tag.pd"; pd_rc=$?; pd_tries=$tries; t1=$(now)
    with_retries run_nl "$script" "$mode" "$out/logs/$tag.nl"; nl_rc=$?; nl_tries=$tries; t2=$(now)
    pd_s=$(echo "$t1 - $t0" | bc); nl_s=$(echo "$t2 - $t1" | bc)
    pd_res=$([ $pd_rc = 0 ] && echo pass || echo "fail($pd_rc)")
    nl_res=$([ $nl_rc = 0 ] && echo pass || echo "fail($nl_rc)")
    # packetdrill's timing tolerance is fixed (4 ms by default); netlab prove's grows with the
    # machine's measured jitter. When only packetdrill failed, and on time, netlab prove is asked
    # again with packetdrill's 4 ms: the note says whether it then fails too.
    if [ $pd_rc != 0 ] && [ $nl_rc = 0 ] && grep -q 'timing error' "$out/logs/$tag.pd"; then
      run_nl_tol "$script" "$mode" "$out/logs/$tag.nl4" && nl_res="pass;4ms:pass" || nl_res="pass;4ms:fail"
    fi
    mut_nl="-" mut_pd="-"
    if [ $mutants = 1 ] && [ $pd_rc = 0 ]; then
      copy="$(dirname "$script")/mutant-$(basename "$script")"
      what=$(mutate "$script" "$copy")
      if [ -z "$what" ]; then
        mut_nl="no-outbound-segment" mut_pd="-"
      else
        line=${what%% *} field=${what#* }
        run_pd "$copy" "$mode" "$out/logs/$tag.mutant.pd"; m_pd=$?
        run_nl "$copy" "$mode" "$out/logs/$tag.mutant.nl"; m_nl=$?
        # packetdrill names the line as FILE:LINE; so must netlab prove, and the field.
        if [ $m_pd != 0 ] && grep -q "mutant-$(basename "$script"):$line" "$out/logs/$tag.mutant.pd"; then mut_pd="fails@$line"; else mut_pd="rc$m_pd"; fi
        if [ $m_nl = 1 ] && grep -q "mutant-$(basename "$script"):$line:" "$out/logs/$tag.mutant.nl" && grep -qiw "$field" "$out/logs/$tag.mutant.nl"; then
          mut_nl="fails@$line:$field"
        else
          mut_nl="rc$m_nl(no $line/$field)"
        fi
        rm -f "$copy" "$(dirname "$copy")/mode-$mode-$(basename "$copy")"
      fi
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t%s\t%s\t%s\t%s\n' "$rel" "$mode" "$pd_res" "$pd_tries" "$nl_res" "$nl_tries" \
      "$pd_s" "$nl_s" "$mut_nl" "$mut_pd" "$(first_error "$out/logs/$tag.pd")" "$(first_error "$out/logs/$tag.nl")" >>"$out/results.tsv"
    printf '%-60s %-17s pd=%-8s netlab=%-8s mutant=%s\n' "$rel" "$mode" "$pd_res" "$nl_res" "$mut_nl" >&2
  done
done

pd_rev=${PD_REV:-$(git -C "$pd_checkout" rev-parse --short HEAD 2>/dev/null || echo "checkout $pd_checkout")}
summarize "$out" "$pd_rev"
status=$?
cat "$out/table.md"
echo "prove-agreement: results in $out (results.tsv, table.md, logs/)" >&2
exit $status
