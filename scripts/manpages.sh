#!/usr/bin/env bash
# One manual page per command, generated from netlab's argument parser: swift-argument-parser's
# generate-manual reads `netlab --experimental-dump-help` and writes mdoc pages, one per command
# (netlab.1, netlab.chat.server.1, ...); here they are named as `man` is asked for them
# (netlab-analyze.1, netlab-chat-server.1), their cross-references to match, and the page of
# ArgumentParser's own `help` subcommand is left out. The date is the last commit's, so the
# pages do not change from one build to the next.
#
#   scripts/manpages.sh NETLAB OUTDIR       e.g. scripts/manpages.sh build/bin/netlab build/man
set -euo pipefail
cd "$(dirname "$0")/.."
exe=$1 out=$2

swift build --product generate-manual >/dev/null
gen="$(swift build --show-bin-path)/generate-manual"
date=$(git log -1 --format=%cs 2>/dev/null || true)
[ -n "$date" ] || date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%F)

raw=$(mktemp -d)
trap 'rm -rf "$raw"' EXIT
"$gen" "$exe" --multi-page --date "$date" --authors "the netlab authors" -o "$raw"
rm -rf "$out"
mkdir -p "$out"
for page in "$raw"/*.1; do
  name=$(basename "$page" .1)              # netlab.chat.server
  [ "$name" = netlab.help ] && continue
  man=${name//./-}                         # netlab-chat-server
  # .Dt NETLAB.CHAT.SERVER 1 -> NETLAB-CHAT-SERVER; .Xr netlab.chat 1 -> netlab-chat; no help page.
  # As git's pages: the NAME section names the page (netlab-chat-server, what whatis and apropos
  # read), the synopsis the command as typed (netlab chat server). Paragraphs are .Pp, not blank lines.
  words=${name//./ }
  sed -e '/^\.Xr netlab\.help /d' \
      -e "/^\.Sh NAME/,/^\.Sh /{s/^\.Nm .*/.Nm $man/}" \
      -e "/^\.Sh NAME/,/^\.Sh /!{s/^\.Nm\$/.Nm \"$words\"/}" \
      -e 's/^$/.Pp/' \
      -e ':d' -e 's/^\(\.Dt [A-Z-]*\)\./\1-/' -e 'td' \
      -e ':x' -e 's/^\(\.Xr [a-z-]*\)\./\1-/' -e 'tx' \
      "$page" > "$out/$man.1"
done
# The list that was cut at the help page may now end in a comma; a command's page without a SEE
# ALSO section (the leaves) points back to netlab(1).
for page in "$out"/*.1; do
  awk '{ lines[NR] = $0 } END {
         for (i = 1; i <= NR; i++) if (lines[i] ~ /^\.Sh "SEE ALSO"/) seealso = 1
         for (i = 1; i <= NR; i++) {
           l = lines[i]
           if (l ~ /^\.Xr / && l ~ / ,$/ && !(lines[i + 1] ~ /^\.Xr /)) sub(/ ,$/, "", l)
           if (!seealso && l ~ /^\.Sh AUTHORS/) print ".Sh \"SEE ALSO\"\n.Xr netlab 1"
           print l } }' "$page" > "$page.tmp" && mv "$page.tmp" "$page"
done
ls "$out"
