#!/usr/bin/env bash
# netlab as a user installs it (root; CI runs it as a stage of make test, after `make deb`):
#
# 1. `make install` into a staging DESTDIR puts every file where it belongs, and `make uninstall`
#    leaves no file or link of netlab's behind.
# 2. The Debian package in a fresh root. No network here, so no debootstrap: the fresh root is
#    this machine's own, seen from a private mount namespace in which /usr, /etc and /var are
#    copy-on-write overlays (the host's files untouched: everything written lands in a temporary
#    folder, dropped at the end), the Swift toolchain's folder and this source checkout are hidden
#    under empty tmpfs mounts, /run/netns and the network namespace are private (loopback only),
#    and PATH holds no Swift. There `dpkg -i`
#    installs build/netlab_*.deb as on any Debian 12 whose packages satisfy its Depends (dpkg
#    checks them against the real package database and runs the ldconfig and man-db triggers);
#    then: every command's --help, the manual pages and completions, `ldd` (no Swift library),
#    libnetlab through pkg-config, `netlab inject` and `netlab analyze` on the bundled sample and
#    `netlab lab` in an empty folder, the dissector loaded by tshark, and the README's
#    walkthroughs run as written from an empty folder (scripts/test-docs.sh --installed);
#    finally `dpkg -r netlab` leaves none of the package's files behind.
#
# What it does not prove: installing on a machine without the Depends (apt would fetch them; there
# is no network here), or on another distribution.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
if [ "$(id -u)" != 0 ]; then
  echo "test-install: skipped: needs root (mount namespaces, dpkg, the lab); CI runs it as root"
  exit 0
fi
debs=(build/netlab_*.deb)
[ -e "${debs[0]}" ] || { echo "test-install: no build/netlab_*.deb: run make deb first" >&2; exit 1; }
deb=$(ls -t build/netlab_*.deb | head -1)
tmp=$(mktemp -d /tmp/netlab-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "--- 1. make install and make uninstall in a staging folder"
stage="$tmp/destdir"
make -s --no-print-directory install DESTDIR="$stage" PREFIX=/usr/local >/dev/null
for f in bin/netlab share/netlab/samples/group01_chat_input.csv share/netlab/samples/in-proj.txt \
         share/man/man1/netlab.1.gz share/man/man1/netlab-analyze.1.gz share/man/man1/netlab-chat-server.1.gz \
         share/bash-completion/completions/netlab share/zsh/site-functions/_netlab \
         share/fish/vendor_completions.d/netlab.fish share/doc/netlab/README.md share/doc/netlab/docs/analyze.md \
         lib/libnetlab.so.0 lib/libnetlab.a lib/pkgconfig/netlab.pc include/netlab.h lib/wireshark/plugins/netlab_chat.lua; do
  [ -e "$stage/usr/local/$f" ] || { echo "test-install: make install did not install $f" >&2; exit 1; }
done
echo "make install: $(find "$stage" -type f -o -type l | wc -l) files and links under /usr/local"
make -s --no-print-directory uninstall DESTDIR="$stage" PREFIX=/usr/local >/dev/null
left=$(find "$stage" -type f -o -type l)
[ -z "$left" ] || { echo "test-install: make uninstall left: $left" >&2; exit 1; }
echo "make uninstall: no file or link left (only the system's empty folders: $(find "$stage" -mindepth 1 -type d | sed "s|$stage||" | tr '\n' ' '))"

echo "--- 2. the Debian package in a fresh root"
kit="$tmp/kit"
mkdir -p "$kit/examples"
cp "$deb" README.md scripts/test-docs.sh "$kit/"
cp examples/encapsulate.c "$kit/examples/"
swift_bin=$(command -v swift || true)
toolchain=""
[ -n "$swift_bin" ] && toolchain=$(cd "$(dirname "$(readlink -f "$swift_bin")")/../.." && pwd)
case "$toolchain" in
  /|/usr|/usr/local) echo "test-install: swift lives in $toolchain, which cannot be hidden; install the toolchain under its own folder (as /opt/swift)" >&2; exit 1 ;;
esac
echo "package: $(basename "$deb"), $(du -h "$deb" | cut -f1); hidden: ${toolchain:-no Swift toolchain found} and $repo"
mkdir -p "$tmp/ovl"
unshare -m -n --propagation private env -i TMP="$tmp" KIT="$kit" TOOLCHAIN="$toolchain" REPO="$repo" \
  PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 bash -euo pipefail -c '
ip link set lo up
for d in usr etc var; do
  mkdir -p "$TMP/ovl/$d-up" "$TMP/ovl/$d-work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$TMP/ovl/$d-up,workdir=$TMP/ovl/$d-work" "/$d"
done
[ -n "$TOOLCHAIN" ] && mount -t tmpfs -o size=1m tmpfs "$TOOLCHAIN"
mount -t tmpfs -o size=1m tmpfs "$REPO"
mkdir -p /run/netns && mount -t tmpfs -o size=1m tmpfs /run/netns
if command -v swift >/dev/null; then echo "test-install: swift is still on PATH: $(command -v swift)" >&2; exit 1; fi
[ -z "$TOOLCHAIN" ] || [ -z "$(ls -A "$TOOLCHAIN")" ] || { echo "test-install: the toolchain is not hidden" >&2; exit 1; }
deb=$(ls "$KIT"/netlab_*.deb)

dpkg -i "$deb" > "$TMP/dpkg-i.log" 2>&1 || { cat "$TMP/dpkg-i.log" >&2; exit 1; }
echo "dpkg -i: $(dpkg-query -W -f="\${Package} \${Version} \${Status}" netlab), $(dpkg -L netlab | wc -l) paths"
echo "installed binary: $(stat -c %s /usr/bin/netlab) bytes"
echo "ldd /usr/bin/netlab:"
ldd /usr/bin/netlab | sed "s/^/    /"
if ldd /usr/bin/netlab | grep -qi swift; then echo "test-install: netlab loads a Swift library" >&2; exit 1; fi
netlab --version

# Every command'"'"'s help, from the list netlab itself prints (nested ones too).
cmds=$(netlab --help | awk "/^SUBCOMMANDS:/ {on = 1; next} on && /^  [a-z]/ {print \$1}")
n=0
for c in $cmds; do
  netlab "$c" --help > /dev/null; n=$((n + 1))
  for s in $(netlab "$c" --help | awk "/^SUBCOMMANDS:/ {on = 1; next} on && /^  [a-z]/ {print \$1}"); do
    netlab "$c" "$s" --help > /dev/null; n=$((n + 1))
  done
  man -w "netlab-$c" > /dev/null
done
echo "--help: $n commands ($(echo $cmds)); a manual page each: $(man -w netlab-analyze)"
man netlab-analyze 2>/dev/null | grep -q "netlab analyze" || { echo "test-install: man netlab-analyze shows no page" >&2; exit 1; }
bash -c ". /usr/share/bash-completion/completions/netlab && complete -p netlab" > /dev/null
echo "bash completion: $(bash -c ". /usr/share/bash-completion/completions/netlab && complete -p netlab")"
[ -s /usr/share/zsh/vendor-completions/_netlab ] && [ -s /usr/share/fish/vendor_completions.d/netlab.fish ]

# libnetlab through pkg-config, as a C user builds against it.
cc -o "$TMP/encapsulate" "$KIT/examples/encapsulate.c" $(pkg-config --cflags --libs netlab)
ldd "$TMP/encapsulate" | grep -Eq "=> /(usr/)?lib/.*/libnetlab.so.0 " || { echo "test-install: example not linked to the packaged libnetlab" >&2; exit 1; }
echo "pkg-config: $(pkg-config --cflags --libs netlab): an example builds and links to the packaged library"

# The commands a newcomer types first, in a folder that holds nothing.
mkdir "$TMP/empty" && cd "$TMP/empty"
netlab inject --quiet | tail -2
netlab analyze injector.pcap | head -3
netlab lab --no-color > "$TMP/lab.log" 2>&1 || { tail -30 "$TMP/lab.log" >&2; exit 1; }
grep -c "^OK" "$TMP/lab.log" | sed "s/^/netlab lab in an empty folder: /; s/$/ checks OK, report.pdf written/"
[ -f lab-out/report.pdf ] && ! grep -q "^FAIL" "$TMP/lab.log"
tshark -r lab-out/part3.pcap -Y "netlabchat.verb == \"MSG\"" 2>/dev/null | grep -q MSG \
  || { echo "test-install: tshark did not load the packaged dissector" >&2; exit 1; }
echo "tshark decodes lab-out/part3.pcap with the packaged dissector (no -X)"
cd /

# The README, as written, from an empty folder (each page in a folder of its own).
bash "$KIT/test-docs.sh" --installed --netlab /usr/bin "$KIT/README.md"

# Removal leaves nothing of the package.
dpkg-deb -c "$deb" | awk "{print \$6}" | sed "s|^\./|/|" | grep -v "/$" > "$TMP/files"
dpkg -r netlab > "$TMP/dpkg-r.log" 2>&1 || { cat "$TMP/dpkg-r.log" >&2; exit 1; }
for f in $(cat "$TMP/files"); do [ ! -e "$f" ] && [ ! -L "$f" ] || { echo "test-install: dpkg -r left $f" >&2; exit 1; }; done
[ ! -e /usr/share/netlab ] && [ ! -e /usr/share/doc/netlab ] && [ ! -e /usr/include/netlab ]
left=$(find "$TMP/ovl/usr-up" -type f -o -type l -o -type c)
[ -z "$left" ] || { echo "test-install: dpkg -r left files in /usr: $left" >&2; exit 1; }
! ldconfig -p | grep -q libnetlab || { echo "test-install: libnetlab still in the linker cache" >&2; exit 1; }
echo "dpkg -r: none of the $(wc -l < "$TMP/files") files left, nothing new in /usr, libnetlab gone from the linker cache"
'
echo "test-install: ok"
