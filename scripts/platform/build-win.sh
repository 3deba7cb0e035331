#!/usr/bin/env bash
# Cross-compiles the addon for win32-x64 with Debian's MinGW-w64 into
# prebuilds/win32-x64/node.napi.node (the name node-gyp-build looks for).
# The addon links against node.exe through an import library made from
# node-api-headers' .def file, so no Windows SDK and no download is needed.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
CXX="${CXX_WIN:-x86_64-w64-mingw32-g++-posix}"
DLLTOOL="${DLLTOOL_WIN:-x86_64-w64-mingw32-dlltool}"
if ! command -v "$CXX" >/dev/null; then
  echo "build-win: $CXX not found (Debian package g++-mingw-w64-x86-64-posix)" >&2
  exit 1
fi
out="$root/build-win"
mkdir -p "$out" prebuilds/win32-x64
headers="$(node -p "require('node-api-headers').include_dir")"
defdir="$(node -p "require('path').join(require.resolve('node-api-headers/package.json'), '..', 'def')")"
addon_api="$(node -p "require('node-addon-api').include_dir")"

"$DLLTOOL" -d "$defdir/node_api.def" -l "$out/libnode.a" -D node.exe

sources=(module errors args select async_wait direct_watch loop_napi socket address resolve poll_none epoll_none uring_none kqueue_none sys_win)
objs=()
for s in "${sources[@]}"; do
  obj="$out/$s.o"
  if [ ! -f "$obj" ] || [ "src/native/$s.cc" -nt "$obj" ] || [ -n "$(find src/native -name '*.h' -newer "$obj" | head -1)" ]; then
    "$CXX" -c -std=c++17 -O2 -Wall -Wextra -Wno-unused-parameter -Wno-cast-function-type \
      -DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_DEPRECATED -DNAPI_CPP_EXCEPTIONS \
      -I"$headers" -I"$addon_api" "src/native/$s.cc" -o "$obj" &
  fi
  objs+=("$obj")
done
wait
target="prebuilds/win32-x64/node.napi.node"
"$CXX" -shared -static -static-libgcc -static-libstdc++ -s -o "$target" "${objs[@]}" "$out/libnode.a" -lws2_32
# The DLL must export the Node-API entry point and import only from node.exe and system DLLs.
x86_64-w64-mingw32-objdump -p "$target" > "$out/objdump.txt"
grep -q "napi_register_module_v1" "$out/objdump.txt" || { echo "build-win: napi_register_module_v1 is not exported" >&2; exit 1; }
bad=$(grep "DLL Name" "$out/objdump.txt" | grep -viE "node.exe|ws2_32|kernel32|msvcrt|api-ms-win|ucrtbase|advapi32|user32" || true)
[ -z "$bad" ] || { echo "build-win: unexpected DLL imports: $bad" >&2; exit 1; }
echo "build-win: $target ($(stat -c %s "$target") bytes); imports: $(grep "DLL Name" "$out/objdump.txt" | awk '{print $3}' | tr '\n' ' ')"
