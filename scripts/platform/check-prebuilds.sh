#!/usr/bin/env bash
# Refuses (exit 1) unless the eight prebuilds are there, each for its own
# machine, and none is older than the native sources: run before `npm pack`
# (the prepack script) so a tarball always carries binaries for all eight.
# (check-binaries.sh looks deeper into the darwin and musl ones.)
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "check-prebuilds: $*; run npm run prebuild" >&2; exit 1; }
# prebuilds/<platform>-<arch>/<file>: prebuildify's names (package name, then
# the tags node-gyp-build matches: armv7, glibc, musl); build-win.sh's for win32.
expect=(
  "linux-x64 iomux.glibc.node"
  "linux-arm64 iomux.glibc.node"
  "linux-arm iomux.armv7.glibc.node"
  "win32-x64 node.napi.node"
  "darwin-x64 iomux.node"
  "darwin-arm64 iomux.node"
  "linux-x64 iomux.musl.node"
  "linux-arm64 iomux.musl.node"
)
newest_src="$(ls -t src/native/* binding.gyp | head -1)"
for line in "${expect[@]}"; do
  read -r dir name <<<"$line"
  f="prebuilds/$dir/$name"
  [ -f "$f" ] || fail "$f is missing"
  [ "$f" -nt "$newest_src" ] || fail "$f is older than $newest_src"
  desc="$(od -An -tx1 -N20 "$f" | tr -d ' \n')"
  case "$dir" in
    linux-x64) [ "${desc:0:8}" = 7f454c46 ] && [ "${desc:36:4}" = 3e00 ] || fail "$f is not an x86-64 ELF" ;;
    linux-arm64) [ "${desc:0:8}" = 7f454c46 ] && [ "${desc:36:4}" = b700 ] || fail "$f is not an aarch64 ELF" ;;
    linux-arm) [ "${desc:0:8}" = 7f454c46 ] && [ "${desc:36:4}" = 2800 ] || fail "$f is not a 32-bit ARM ELF" ;;
    win32-x64) [ "${desc:0:4}" = 4d5a ] || fail "$f is not a Windows DLL" ;;
    darwin-x64) [ "${desc:0:16}" = cffaedfe07000001 ] || fail "$f is not an x86_64 Mach-O" ;;
    darwin-arm64) [ "${desc:0:16}" = cffaedfe0c000001 ] || fail "$f is not an arm64 Mach-O" ;;
  esac
done
echo "check-prebuilds: linux-x64, linux-arm64, linux-arm (armv7), win32-x64, darwin-x64, darwin-arm64, linux-x64-musl, linux-arm64-musl present"
