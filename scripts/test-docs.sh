#!/usr/bin/env bash
# The docs test: every command shown in README.md, CONTRIBUTING.md and docs/*.md runs, as written.
#
# It reads every ```sh block of the pages (a new page under docs/ is picked up by itself) and
# runs each block as one bash script (set -euo pipefail), the blocks of a page in order, in one
# empty temporary folder per page, with netlab on PATH. A block fails the test when a command in
# it fails. Mark a block on its opening fence, after "sh" (GitHub shows only the language):
#
#   ```sh             runs as it is, without root, in the page's temporary folder
#   ```sh root        needs root (sudo, raw sockets, capture, namespaces): runs only as root
#                     (CI is root); `sudo` runs the command as is there, with netlab on PATH
#   ```sh repo        runs in the repository's folder (make, examples/, wireshark/, fuzz/):
#                     not in the installed-package test, which has no checkout
#   ```sh slow        minutes or more, the suite itself (make test, fuzzers, benchmarks, make
#                     deb), or a long run a named test already makes word for word: not run
#                     here unless DOCS_SLOW=1; its syntax and the programs it names are still
#                     checked. Say in the page what covers it (scripts/test-install.sh runs make
#                     deb and make install; CI runs make test; LabImpairTests the impaired lab).
#   ```text, ``` ...  not commands (transcripts, output, protocol lines): never run
#
# Links between the pages (and to files of the checkout) must lead somewhere: a relative link to
# a missing file, or to a heading a page does not have, fails the test too.
#
# Long-running programs (servers, a capture until Ctrl-C) are started with `&` and stopped with
# `kill %N` as a person would in a terminal; whatever a block leaves running is stopped when it
# ends. As root, everything runs in a network namespace of its own (loopback only), so fixed
# ports never meet other programs' and nothing reaches the host's network.
#
#   scripts/test-docs.sh [--netlab DIR] [--installed] [--no-root] [PAGE...]
#     --netlab DIR   the folder holding netlab (default: this checkout's debug build)
#     --installed    netlab is installed (no checkout): `repo` blocks are skipped
#     --no-root      skip `root` blocks even as root (make check)
#   DOCS_SLOW=1 also runs `slow` blocks; DOCS_TIMEOUT=S bounds each block (default 600 s).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
netlab_dir="" installed=0 no_root=0 pages=()
while [ $# -gt 0 ]; do
  case "$1" in
    --netlab) netlab_dir=$2; shift 2 ;;
    --installed) installed=1; shift ;;
    --no-root) no_root=1; shift ;;
    -*) echo "test-docs: unknown option $1" >&2; exit 64 ;;
    *) pages+=("$1"); shift ;;
  esac
done
if [ ${#pages[@]} -eq 0 ]; then
  pages=("$repo/README.md" "$repo/CONTRIBUTING.md" "$repo"/docs/*.md)
fi
if [ -z "$netlab_dir" ]; then
  netlab_dir=$(cd "$repo" && swift build --show-bin-path)
fi
[ -x "$netlab_dir/netlab" ] || { echo "test-docs: no netlab in $netlab_dir (build it first)" >&2; exit 1; }
netlab_dir=$(cd "$netlab_dir" && pwd)
# root: whether `root` blocks run (decided before entering a namespace, where uid 0 may be a user
# namespace's). Then one network namespace of our own for the whole run, loopback up: as root
# a plain one, with a mount namespace in which /run/netns is our own too (the pages' `netlab lab`
# runs remove namespaces that crashed labs left, which must not be those a test beside this one
# is looking at: make test runs the docs beside the root XCTests); otherwise a user namespace's,
# where the kernel allows it.
root=${NETLAB_DOCS_ROOT:-0}
if [ -z "${NETLAB_DOCS_ROOT:-}" ] && [ "$(id -u)" = 0 ] && [ "$no_root" = 0 ]; then root=1; fi
if [ "${NETLAB_DOCS_NETNS:-}" != 1 ]; then
  export NETLAB_DOCS_NETNS=1 NETLAB_DOCS_ROOT=$root
  args=(--netlab "$netlab_dir")
  [ "$installed" = 1 ] && args+=(--installed)
  if [ "$(id -u)" = 0 ]; then
    exec unshare -m -n --propagation private bash -c \
      'mkdir -p /run/netns && mount -t tmpfs -o size=1m tmpfs /run/netns && ip link set lo up && exec "$0" "$@"' \
      "$0" "${args[@]}" "${pages[@]}"
  elif unshare -rn true 2>/dev/null; then
    exec unshare -rn bash -c 'ip link set lo up && exec "$0" "$@"' "$0" "${args[@]}" "${pages[@]}"
  fi
  echo "test-docs: no network namespace of its own (not root, no user namespaces): fixed ports may meet other programs'"
fi

work=$(mktemp -d /tmp/netlab-docs.XXXXXX)
trap 'rm -rf "$work"' EXIT
# sudo as root: the command as is, with this PATH (a real sudo would reset it).
mkdir -p "$work/shim"
printf '#!/bin/sh\nexec "$@"\n' > "$work/shim/sudo"
chmod +x "$work/shim/sudo"
path="$netlab_dir:$PATH"
[ "$root" = 1 ] && path="$work/shim:$path"

pass=0 fail=0 skip=0 failed=()

# Relative links and #anchors (GitHub's rule: lower case, punctuation dropped, spaces to -).
if [ "$installed" = 0 ]; then
  if broken=$(/usr/bin/python3 - "${pages[@]}" <<'PY'
import os, re, sys
def anchors(path):
    out, fence = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"): fence = not fence
        if not fence and re.match(r"^#{1,6} ", line):
            out.add(re.sub(r"[^a-z0-9 _-]", "", line.lstrip("#").strip().lower()).replace(" ", "-"))
    return out
bad = []
for page in sys.argv[1:]:
    text, fence = [], False
    for line in open(page, encoding="utf-8"):
        if line.startswith("```"): fence = not fence
        elif not fence: text.append(line)
    text = "".join(text)
    for m in re.finditer(r"\]\(([^)\s]+)\)", text):
        link = m.group(1)
        if re.match(r"^[a-z]+:", link): continue
        path, _, anchor = link.partition("#")
        target = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
        if not os.path.exists(target): bad.append(f"{page}: {link}: no such file")
        elif anchor and target.endswith(".md") and anchor not in anchors(target):
            bad.append(f"{page}: {link}: no such heading")
print("\n".join(bad)); sys.exit(1 if bad else 0)
PY
  ); then
    echo "ok    links between the pages"
  else
    echo "FAIL  links between the pages:"; echo "$broken" | sed 's/^/      /'
    fail=$((fail + 1)); failed+=("links")
  fi
fi

# Runs one block as a script in its own process group; stops what it left running.
run_block() {  # script dir log limit
  local script=$1 dir=$2 log=$3 limit=$4 pid rc waited=0
  (cd "$dir" && PATH="$path" exec setsid bash -euo pipefail "$script") > "$log" 2>&1 < /dev/null &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge $((limit * 10)) ]; then
      echo "test-docs: still running after ${limit} s: stopped" >> "$log"
      kill -TERM -- "-$pid" 2>/dev/null
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  wait "$pid"; rc=$?
  [ "$waited" -ge $((limit * 10)) ] && rc=124
  kill -TERM -- "-$pid" 2>/dev/null && sleep 0.5
  kill -KILL -- "-$pid" 2>/dev/null
  return "$rc"
}

# The programs a slow block names exist (commands at the start of each line and after | && ;).
check_names() {  # script
  local word missing=()
  for word in $(sed -e "s/'[^']*'//g" -e 's/"[^"]*"//g' -e 's/#.*//' "$1" | tr '|;&' '\n\n\n' \
                | awk '{print $1}' | grep -v '^$' | sort -u); do
    case "$word" in
      *=*|'('*|')'*|'$('*|'"'*|"'"*) continue ;;
      */*) [ -e "$repo/$word" ] || [ -e "$word" ] || missing+=("$word") ;;
      sudo) ;;   # the reader's; as root here it is the command itself
      *) PATH="$path" command -v "$word" >/dev/null || missing+=("$word") ;;
    esac
  done
  [ ${#missing[@]} -eq 0 ] || { echo "names what does not exist: ${missing[*]}"; return 1; }
}

for page in "${pages[@]}"; do
  name=${page#"$repo"/}
  dir="$work/page-$(basename "$page" .md)"
  mkdir -p "$dir"
  blocks="$work/blocks"
  rm -rf "$blocks"; mkdir -p "$blocks"
  # One file per ```sh block: its line, its marks, its commands.
  awk -v out="$blocks" '
    !inblock && /^```sh( |$)/ { inblock = 1; n++; marks = substr($0, 6); line = NR
                                f = sprintf("%s/%03d", out, n); print line > (f ".line"); print marks > (f ".marks")
                                printf "" > (f ".sh"); next }
    inblock && /^```/ { inblock = 0; close(f ".sh"); next }
    inblock { print > (f ".sh") }' "$page"
  for script in "$blocks"/*.sh; do
    [ -e "$script" ] || continue
    base=${script%.sh}
    line=$(cat "$base.line") marks=" $(cat "$base.marks") "
    label="$name:$line (sh$(cat "$base.marks"))"
    reason=""
    if [[ "$marks" == *" slow "* ]] && [ "${DOCS_SLOW:-0}" != 1 ]; then
      if err=$(bash -n "$script" 2>&1 && check_names "$script"); then
        echo "skip  $label: slow, not run (DOCS_SLOW=1 runs it); syntax and names checked"
        skip=$((skip + 1))
      else
        echo "FAIL  $label: $err"
        fail=$((fail + 1)); failed+=("$label")
      fi
      continue
    fi
    [[ "$marks" == *" root "* ]] && [ "$root" != 1 ] && reason="needs root"
    [[ "$marks" == *" repo "* ]] && [ "$installed" = 1 ] && reason="needs the source checkout"
    if [ -n "$reason" ]; then
      echo "skip  $label: $reason"
      skip=$((skip + 1))
      continue
    fi
    where=$dir
    [[ "$marks" == *" repo "* ]] && where=$repo
    start=$(date +%s%N)
    if run_block "$script" "$where" "$base.log" "${DOCS_TIMEOUT:-600}"; then
      ms=$(( ($(date +%s%N) - start) / 1000000 ))
      printf 'ok    %s (%d.%d s)\n' "$label" $((ms / 1000)) $((ms % 1000 / 100))
      pass=$((pass + 1))
    else
      rc=$?
      printf 'FAIL  %s: exit %s\n' "$label" "$rc"
      sed 's/^/      | /' "$script"
      echo "      output (last 40 lines):"
      tail -40 "$base.log" | sed 's/^/      > /'
      fail=$((fail + 1)); failed+=("$label")
    fi
  done
done

echo "test-docs: $pass blocks ran, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] || { printf 'test-docs: failed: %s\n' "${failed[@]}" >&2; exit 1; }
