#!/usr/bin/env bash
# Installs the packed tarball the way a user would, into an empty directory,
# and runs a selector round trip (scripts/platform/round-trip.js):
#   tarball-install.sh [PLATFORM...]   linux-x64 (default), linux-arm64 and
#     linux-arm (npm and node under qemu), win32-x64 (npm and node.exe under
#     wine): with no compiler reachable; fails if anything was compiled.
#   tarball-install.sh no-prebuild     linux-x64 without its prebuild and with no
#     compiler: the install must fail with iomux's one message naming the
#     platform and what to install, not a node-gyp stack.
#   tarball-install.sh fallback        linux-x64 with a prebuild that does not
#     load here (the arm64 one in its place) and a compiler: the install builds
#     from source and the round trip runs on that build.
# The Linux installs get an empty HOME (no ~/.npmrc nodedir) and a PATH of node,
# npm and sh only; npm prefers its cache for the dependencies.
# Needs `npm run prebuild` first (the pack refuses without the eight prebuilds).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
cache="${IOMUX_PLATFORM_CACHE:-$HOME/.cache/iomux-platform}"
mkdir -p "$cache"
source "$root/scripts/platform/lib.sh"
[ $# -gt 0 ] || set -- linux-x64

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -1)"
listing="$(tar tzf "$tarball")"
for want in package/prebuilds/linux-x64/ package/prebuilds/linux-arm64/ package/prebuilds/linux-arm/ \
            package/prebuilds/win32-x64/ package/prebuilds/darwin-x64/iomux.node package/prebuilds/darwin-arm64/iomux.node \
            package/prebuilds/linux-x64/iomux.musl.node package/prebuilds/linux-arm64/iomux.musl.node package/install.js package/dist/index.js package/dist/index.d.ts; do
  grep -q "^$want" <<<"$listing" || { echo "tarball-install: $want is not in the tarball" >&2; exit 1; }
done
npm_cli="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
npm_cache="$(npm config get cache)"

# A PATH with node (the given binary), npm and sh, and no compiler, make or python.
bare_path() {
  local dir="$1" node_bin="$2"
  mkdir -p "$dir"
  ln -sf "$node_bin" "$dir/node"
  ln -sf "$(command -v sh)" "$dir/sh"
  printf '#!/bin/sh\nexec node "%s" "$@"\n' "$npm_cli" > "$dir/npm"; chmod +x "$dir/npm"
  for tool in cc gcc g++ c++ make python3 python; do
    if PATH="$dir" command -v $tool >/dev/null 2>&1; then echo "tarball-install: $tool is reachable" >&2; exit 1; fi
  done
}

# repack NAME CMD...: the tarball changed by CMD run in its unpacked package/.
repack() {
  local name="$1"; shift
  rm -rf "$work/unpacked"; mkdir -p "$work/unpacked"
  tar xzf "$tarball" -C "$work/unpacked"
  (cd "$work/unpacked/package" && "$@")
  tar czf "$work/$name.tgz" -C "$work/unpacked" package
  echo "$work/$name.tgz"
}

new_app() {
  local app="$work/app-$1"
  rm -rf "$app"; mkdir -p "$app" "$work/home"
  echo '{"name":"app","version":"1.0.0","private":true}' > "$app/package.json"
  echo "$app"
}

install_linux() {  # PLATFORM TGZ NODE_BIN: npm install with that node, no compiler
  local platform="$1" tgz="$2" node_bin="$3"
  local app; app="$(new_app "$platform")"
  bare_path "$work/bin-$platform" "$node_bin"
  local prefix=""
  case "$platform" in linux-arm64) prefix=/usr/aarch64-linux-gnu ;; linux-arm) prefix=/usr/arm-linux-gnueabihf ;; esac
  (cd "$app" && HOME="$work/home" PATH="$work/bin-$platform" QEMU_LD_PREFIX="$prefix" npm_config_cache="$npm_cache" \
     node "$npm_cli" install --prefer-offline --no-audit --no-fund "$tgz") > "$work/install-$platform.log" 2>&1
}

round_trip_linux() {  # PLATFORM NODE_BIN
  local platform="$1" node_bin="$2" prefix=""
  case "$platform" in linux-arm64) prefix=/usr/aarch64-linux-gnu ;; linux-arm) prefix=/usr/arm-linux-gnueabihf ;; esac
  # A copy in the app: run from this repository, require("iomux") would find the repository itself.
  cp "$root/scripts/platform/round-trip.js" "$work/app-$platform/"
  (cd "$work/app-$platform" && HOME="$work/home" PATH="$work/bin-$platform" QEMU_LD_PREFIX="$prefix" node round-trip.js)
}

passed=0; failed=0
ok() { echo "tarball-install: $1: ok"; passed=$((passed + 1)); }
bad() { echo "tarball-install: $1: FAILED: $2" >&2; failed=$((failed + 1)); }

for what in "$@"; do
  case "$what" in
    linux-x64|linux-arm64|linux-arm)
      node_bin="$(command -v node)"
      if [ "$what" != linux-x64 ]; then ensure_platform "$what"; node_bin="$(platform_node "$what")"; fi
      if ! install_linux "$what" "$tarball" "$node_bin"; then
        cat "$work/install-$what.log" >&2; bad "$what" "npm install failed"; continue
      fi
      if [ -d "$work/app-$what/node_modules/iomux/build" ]; then bad "$what" "something was compiled (build/ exists)"; continue; fi
      if round_trip_linux "$what" "$node_bin"; then ok "$what"; else bad "$what" "round trip failed"; fi ;;
    win32-x64)
      ensure_platform win32-x64
      node_bin="$(platform_node win32-x64)"
      app="$(new_app win32-x64)"
      # npm under wine, with node.exe's directory on the Windows PATH for the install script.
      log="$work/install-win32.log"
      if ! WINEPATH="$(host_path win32-x64 "$(dirname "$node_bin")")" run_node win32-x64 "$node_bin" "$app" \
           "$(host_path win32-x64 "$npm_cli")" install --prefer-offline --no-audit --no-fund \
           --cache "$(host_path win32-x64 "$npm_cache")" "$(host_path win32-x64 "$tarball")" > "$log" 2>&1; then
        cat "$log" >&2; bad win32-x64 "npm install under wine failed"; continue
      fi
      if [ -d "$app/node_modules/iomux/build" ]; then bad win32-x64 "something was compiled"; continue; fi
      cp "$root/scripts/platform/round-trip.js" "$app/"
      out="$(run_node win32-x64 "$node_bin" "$app" round-trip.js 2>&1)" && grep -q "round trip ok" <<<"$out" \
        && { echo "$out"; ok win32-x64; } || { echo "$out" >&2; bad win32-x64 "round trip failed"; } ;;
    no-prebuild)
      tgz="$(repack no-prebuild rm -rf prebuilds/linux-x64)"
      if install_linux linux-x64 "$tgz" "$(command -v node)"; then bad no-prebuild "the install succeeded without a prebuild or a compiler"; continue; fi
      log="$work/install-linux-x64.log"
      if grep -q "iomux: no prebuilt binary for linux-x64" "$log" && grep -q "apt-get install g++ make python3" "$log" && ! grep -q "gyp ERR" "$log"; then
        grep "iomux:" "$log" || true; ok no-prebuild
      else cat "$log" >&2; bad no-prebuild "not the one clear message"; fi ;;
    fallback)
      tgz="$(repack fallback sh -c 'cp prebuilds/linux-arm64/*.node prebuilds/linux-x64/')"
      app="$(new_app linux-x64)"
      # With the real PATH (a compiler) and HOME (npm's nodedir setting for the headers).
      if ! (cd "$app" && npm install --foreground-scripts --prefer-offline --no-audit --no-fund "$tgz") > "$work/fallback.log" 2>&1; then
        cat "$work/fallback.log" >&2; bad fallback "npm install failed"; continue
      fi
      grep -q "does not load here" "$work/fallback.log" || { cat "$work/fallback.log" >&2; bad fallback "no fallback message"; continue; }
      [ -f "$app/node_modules/iomux/build/Release/iomux.node" ] || { bad fallback "nothing was built"; continue; }
      cp "$root/scripts/platform/round-trip.js" "$app/"
      out="$(cd "$app" && node round-trip.js)" && grep -q "build/Release" <<<"$out" \
        && { echo "$out"; ok fallback; } || { echo "$out" >&2; bad fallback "round trip not on the source build"; } ;;
    *) echo "tarball-install: unknown case $what" >&2; exit 2 ;;
  esac
done
echo "tarball-install: $passed passed, $failed failed"
[ $failed -eq 0 ]
