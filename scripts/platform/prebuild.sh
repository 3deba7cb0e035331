#!/usr/bin/env bash
# Makes the eight prebuilds in prebuildify's layout, with the tags node-gyp-build
# matches on: prebuilds/linux-x64/iomux.glibc.node,
# prebuilds/linux-arm64/iomux.glibc.node (aarch64-linux-gnu),
# prebuilds/linux-arm/iomux.armv7.glibc.node (armv7 hard-float),
# prebuilds/win32-x64/node.napi.node (MinGW-w64, scripts/build-win.sh), and with
# zig (scripts/platform/build-zig.sh, zig from the npm registry): prebuilds/darwin-x64/iomux.node,
# prebuilds/darwin-arm64/iomux.node, prebuilds/linux-x64/iomux.musl.node and
# prebuilds/linux-arm64/iomux.musl.node (Alpine). The darwin and musl ones are
# then checked by check-binaries.sh (no machine here can load them).
# The Linux ones are built by prebuildify/node-gyp from binding.gyp, each in its
# own staged copy so that the development build/ stays the host's.
# libstdc++ and libgcc are linked statically: an older distribution's
# libstdc++ (a Raspberry Pi OS one) does not have to match Debian 12's.
# Fails naming the Debian package when a cross-compiler is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

missing=()
for pair in g++:g++ aarch64-linux-gnu-g++:g++-aarch64-linux-gnu arm-linux-gnueabihf-g++:g++-arm-linux-gnueabihf \
            x86_64-w64-mingw32-g++-posix:g++-mingw-w64-x86-64-posix; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "prebuild: missing cross-compilers; install the Debian packages: apt-get install ${missing[*]}" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# build_linux ARCH TRIPLE-PREFIX [prebuildify args...]
build_linux() {
  local arch="$1" prefix="$2"; shift 2
  local stage="$work/$arch"
  mkdir -p "$stage/src"
  cp package.json binding.gyp "$stage/"
  cp -r src/native "$stage/src/"
  ln -s "$root/node_modules" "$stage/node_modules"
  (cd "$stage" && env CC="${prefix}gcc" CXX="${prefix}g++" LINK="${prefix}g++" AR="${prefix}ar" \
     LDFLAGS="-static-libstdc++ -static-libgcc -Wl,--gc-sections -Wl,--exclude-libs,ALL" PREBUILD_STRIP_BIN="${prefix}strip" \
     npx prebuildify --napi --strip --tag-libc --arch "$arch" "$@") > "$work/$arch.log" 2>&1 \
    || { cat "$work/$arch.log" >&2; echo "prebuild: linux-$arch failed" >&2; return 1; }
}

pids=()
build_linux x64 "" & pids+=($!)
build_linux arm64 aarch64-linux-gnu- & pids+=($!)
PREBUILD_ARMV=7 build_linux arm arm-linux-gnueabihf- --tag-armv & pids+=($!)
bash scripts/platform/build-win.sh > "$work/win.log" 2>&1 & pids+=($!)
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[ $failed -eq 0 ] || { cat "$work/win.log" >&2; exit 1; }

rm -rf prebuilds/linux-x64 prebuilds/linux-arm64 prebuilds/linux-arm
for arch in x64 arm64 arm; do cp -r "$work/$arch/prebuilds/linux-$arch" prebuilds/; done
# After the glibc ones are in place (the copy above replaces their directories).
bash scripts/platform/build-zig.sh
bash scripts/platform/check-binaries.sh
bash scripts/platform/check-prebuilds.sh
