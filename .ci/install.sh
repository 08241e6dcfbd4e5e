#!/usr/bin/env bash
# Installs what this repository's tests and tools need on Debian (bookworm): libpcap
# (the versioned runtime package only, no -dev), the oracles (tcpdump, tshark,
# tcpreplay), iproute2 for network namespaces, C compilers (and the cross C libraries' headers)
# for the layout checks and the C baselines, tmux and Chromium for the Traffic Watcher tests, and the npm dev tools
# (Deno, Bun, TypeScript, playwright-core). Idempotent; run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
packages=(
  libpcap0.8 tcpdump tshark tcpreplay iproute2 procps
  gcc libc6-dev gcc-i686-linux-gnu libc6-dev-i386-cross gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  mingw-w64
  tmux chromium
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -x node_modules/.bin/deno ] || [ ! -x node_modules/.bin/bun ] ||
  ! cmp -s package-lock.json node_modules/.package-lock.json 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
fi
