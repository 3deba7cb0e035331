#!/usr/bin/env bash
# Cross-compiles the addon with zig (platform_zig in lib.sh) for the platforms
# this machine cannot build natively:
#   darwin-x64, darwin-arm64   -> prebuilds/darwin-<arch>/iomux.node (Mach-O bundle,
#                                 -undefined dynamic_lookup: Node-API and libuv
#                                 come from the node binary that loads it)
#   linux-x64-musl, linux-arm64-musl -> prebuilds/linux-<arch>/iomux.musl.node
#                                 (prebuildify's musl tag: node-gyp-build picks it
#                                 on Alpine, the glibc one elsewhere)
# Every file is compiled with -Wall -Wextra -Werror. libc++ is zig's, linked
# statically. Node-API's headers come from node-api-headers, libuv's (uv.h and
# its per-platform uv/*.h) from this node's include/node.
# Usage: build-zig.sh PLATFORM...   (default: all four)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
cache="${IOMUX_PLATFORM_CACHE:-$HOME/.cache/iomux-platform}"
mkdir -p "$cache"
# shellcheck source=lib.sh
. scripts/platform/lib.sh
zig="$(platform_zig)"
napi_inc="$(node -p "require('node-api-headers').include_dir")"
addon_inc="$(node -p "require('node-addon-api').include_dir")"
uv_inc="$(dirname "$(dirname "$(command -v node)")")/include/node"
[ -f "$uv_inc/uv/darwin.h" ] || { echo "build-zig: no libuv headers at $uv_inc (uv/darwin.h)" >&2; exit 1; }
# zig keeps its compile cache here: a second run recompiles only what changed.
export ZIG_GLOBAL_CACHE_DIR="$cache/zig-cache" ZIG_LOCAL_CACHE_DIR="$cache/zig-cache"

# The source lists of binding.gyp's conditions for each OS.
COMMON=(module errors args select async_wait direct_watch socket address resolve poll sys_posix loop_uv)
DARWIN=("${COMMON[@]}" epoll_none uring_none kqueue)
LINUX=("${COMMON[@]}" epoll uring sys_uring kqueue_none)

build() {
  local platform="$1" target out sources=() link=()
  case "$platform" in
    # The oldest macOS each Node 18-24 build runs on: 10.15 (x64), 11.0 (arm64). zig
    # takes it in the target (it ignores -mmacosx-version-min and would say 13.0).
    darwin-x64) target=x86_64-macos.10.15; sources=("${DARWIN[@]}"); out=prebuilds/darwin-x64/iomux.node ;;
    darwin-arm64) target=aarch64-macos.11.0; sources=("${DARWIN[@]}"); out=prebuilds/darwin-arm64/iomux.node ;;
    linux-x64-musl) target=x86_64-linux-musl; sources=("${LINUX[@]}"); out=prebuilds/linux-x64/iomux.musl.node ;;
    linux-arm64-musl) target=aarch64-linux-musl; sources=("${LINUX[@]}"); out=prebuilds/linux-arm64/iomux.musl.node ;;
    *) echo "build-zig: unknown platform $platform" >&2; return 1 ;;
  esac
  # Only the Node-API entry points are exported: -fvisibility=hidden for our code, a
  # version script on ELF (zig's Mach-O linker takes no -exported_symbol: there
  # libc++'s operator new/delete stay visible too, as in a node-gyp build).
  case "$platform" in
    darwin-*) link=(-Wl,-undefined,dynamic_lookup -Wl,-dead_strip) ;;
    linux-*) printf '{ global: napi_register_module_v1; node_api_module_get_api_version_v1; local: *; };\n' > "$cache/zig-exports.map"
             link=(-Wl,--gc-sections -Wl,--version-script="$cache/zig-exports.map") ;;
  esac
  local obj="$cache/zig-obj/$platform"
  mkdir -p "$obj" "$(dirname "$out")"
  local objs=()
  for s in "${sources[@]}"; do objs+=("$obj/$s.o"); done
  # IOMUX_ZIG_JOBS compiles at a time (2: the machine is shared).
  printf '%s\n' "${sources[@]}" | xargs -P "${IOMUX_ZIG_JOBS:-2}" -I{} \
    "$zig" c++ -target "$target" -c -std=c++17 -O2 -fPIC -ffunction-sections -fdata-sections \
      -fvisibility=hidden -fvisibility-inlines-hidden -Wall -Wextra -Werror -Wno-unused-parameter \
      -DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_DEPRECATED -DNAPI_CPP_EXCEPTIONS \
      -I"$napi_inc" -I"$addon_inc" -I"$uv_inc" "src/native/{}.cc" -o "$obj/{}.o" \
    || { echo "build-zig: $platform: compile failed" >&2; return 1; }
  "$zig" c++ -target "$target" -shared -s -o "$out" "${objs[@]}" "${link[@]}"
  echo "build-zig: $out ($(stat -c %s "$out") bytes)"
}

platforms=("$@")
[ ${#platforms[@]} -gt 0 ] || platforms=(darwin-x64 darwin-arm64 linux-x64-musl linux-arm64-musl)
for p in "${platforms[@]}"; do build "$p"; done
