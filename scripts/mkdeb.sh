#!/usr/bin/env bash
# build/netlab_VERSION_ARCH.deb: what `make install` installs, laid out as Debian lays it out
# (/usr, the multiarch library folder, compressed manual pages, the copyright file), built with
# dpkg-deb. Its dependencies are dpkg-shlibdeps' reading of the binary and the library; the
# programs the lab and the report run (tshark, chromium, ...) are recommended, not required.
# lintian, when installed, checks the package (errors fail the build). Run by `make deb` after
# `make all`; scripts/test-install.sh installs the result into a throwaway root and uses it.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^let netlabVersion = "\(.*\)"/\1/p' Sources/NetlabCLI/Version.swift)
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
deb="build/netlab_${version}_${arch}.deb"
stage=build/deb
root="$stage/root"
rm -rf "$stage"
mkdir -p "$root/DEBIAN"

# Everything `make install` installs, under /usr.
make -s --no-print-directory install-lib install-tools DESTDIR="$PWD/$root" PREFIX=/usr \
  LIBDIR="/usr/lib/$multiarch" WIRESHARK_PLUGINDIR="/usr/lib/$multiarch/wireshark/plugins" \
  ZSHCOMPDIR=/usr/share/zsh/vendor-completions >/dev/null

# As dh_strip does: no symbols or compiler notes in what is shipped.
strip --remove-section=.comment --remove-section=.note "$root/usr/bin/netlab"
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/lib/$multiarch/libnetlab.so.$version"
strip --strip-debug --enable-deterministic-archives "$root/usr/lib/$multiarch/libnetlab.a"

# A native package's changelog: this build, dated by the last commit (reproducible).
maintainer=${DEB_MAINTAINER:-netlab authors <netlab@example.org>}
when=$(git log -1 --format=%cD 2>/dev/null || date -R)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
doc="$root/usr/share/doc/netlab"
printf 'netlab (%s) unstable; urgency=medium\n\n  * Built from the netlab source tree at %s (make deb).\n\n -- %s  %s\n' \
  "$version" "$commit" "$maintainer" "$when" | gzip -9n > "$doc/changelog.gz"
install -m 644 packaging/deb/copyright "$doc/copyright"
# libnetlab's users depend on this package; ldconfig runs after the library is installed or removed.
soversion=$(sed -n 's/^SOVERSION *:= *//p' Makefile)
echo "libnetlab $soversion netlab (>= $version)" > "$root/DEBIAN/shlibs"
echo "activate-noawait ldconfig" > "$root/DEBIAN/triggers"
chmod 644 "$root/DEBIAN/shlibs" "$root/DEBIAN/triggers"

# Dependencies: the shared libraries the binary and libnetlab load, with the versions their
# packages declare. dpkg-shlibdeps reads debian/control from the folder it runs in.
shdir=$(mktemp -d)
trap 'rm -rf "$shdir"' EXIT
mkdir -p "$shdir/debian"
printf 'Source: netlab\n\nPackage: netlab\nArchitecture: any\n' > "$shdir/debian/control"
depends=$(cd "$shdir" && dpkg-shlibdeps -O -xnetlab "$OLDPWD/$root/usr/bin/netlab" \
            "$OLDPWD/$root/usr/lib/$multiarch/libnetlab.so.$version" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "mkdeb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" -e "s|@MAINTAINER@|$maintainer|" \
    -e "s/@INSTALLED_SIZE@/$installed_size/" packaging/deb/control.in > "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort | xargs md5sum) \
  > "$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
find "$root" -type d -exec chmod 755 {} +

dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "mkdeb: $deb ($(du -h "$deb" | cut -f1)); Depends: $depends"

if command -v lintian >/dev/null; then
  lint=$(lintian --tag-display-limit 0 "$deb" 2>&1 || true)
  [ -z "$lint" ] || printf '%s\n' "$lint" | sed 's/^/lintian: /'
  if grep -q '^E:' <<< "$lint"; then echo "mkdeb: lintian reports errors" >&2; exit 1; fi
  echo "mkdeb: lintian: no errors ($(grep -c '^W:' <<< "$lint" || true) warnings)"
else
  echo "mkdeb: lintian is not installed (scripts/install-deps.sh installs it): package not checked"
fi
