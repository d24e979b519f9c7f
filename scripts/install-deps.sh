#!/usr/bin/env bash
# Install what netlab needs on Debian/Ubuntu, only if something is missing:
# the C libraries (libnet, libpcap, libcsv, zlib), build tools, and the independent
# oracles the tests compare against (tshark, tcpdump, Scapy, hping3, ncat, nc, cmark-gfm for
# report.md, strace for the report's one read), the fonts the report's PDF needs for Japanese
# and emoji (Noto CJK, Noto Color Emoji), and what
# `make deb` and its test use (dpkg-shlibdeps, lintian, man, bash completion).
set -euo pipefail

PKGS=(
  build-essential pkg-config make
  libpcap-dev libnet1-dev libcsv-dev zlib1g-dev
  tshark wireshark-common tcpdump python3-scapy hping3 ncat netcat-openbsd
  iproute2 nftables procps psmisc util-linux bsdutils
  chromium poppler-utils fonts-noto-cjk fonts-noto-color-emoji cmark-gfm strace
  redis-server redis-tools libhiredis-dev
  dpkg-dev lintian man-db bash-completion
)

missing=()
for p in "${PKGS[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
