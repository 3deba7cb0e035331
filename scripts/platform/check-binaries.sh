#!/usr/bin/env bash
# Checks the cross-compiled prebuilds that no machine here can load (CI runs it):
#   darwin-x64, darwin-arm64 (Mach-O): the right CPU type, a dylib/bundle, the oldest
#     macOS Node supports there as its minimum (10.15 x64, 11.0 arm64), exports
#     napi_register_module_v1, links only /usr/lib/libSystem.B.dylib, and every
#     undefined symbol is either bound to libSystem or looked up in the loading
#     node at run time: Node-API (napi_*, node_api_*) or node's libuv (uv_*: the
#     selectAsync fd watch and wake-up, as on Linux).
#   linux-x64, linux-arm64 musl (ELF): the right machine, exports
#     napi_register_module_v1, NEEDED only musl's libc.so (or ld-musl), no
#     glibc-versioned symbol.
# Needs llvm-nm/llvm-objdump (Debian package llvm) and readelf (binutils).
set -euo pipefail
cd "$(dirname "$0")/../.."
for t in llvm-nm llvm-objdump readelf; do
  command -v "$t" >/dev/null || { echo "check-binaries: $t not found (Debian package ${t/readelf/binutils}; llvm for llvm-*)" >&2; exit 1; }
done
fail() { echo "check-binaries: $*" >&2; exit 1; }
hex() { od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }

check_macho() {  # FILE CPUTYPE(little-endian hex) NAME MINOS
  local f="$1" cpu="$2" name="$3"
  [ -f "$f" ] || fail "$f is missing"
  [ "$(hex "$f" 0 4)" = cffaedfe ] || fail "$f is not a 64-bit Mach-O"
  [ "$(hex "$f" 4 4)" = "$cpu" ] || fail "$f is not $name (cputype $(hex "$f" 4 4))"
  case "$(hex "$f" 12 4)" in 06000000|08000000) ;; *) fail "$f is not a dylib or bundle (filetype $(hex "$f" 12 4))" ;; esac
  local minos; minos="$(llvm-objdump --macho --private-headers "$f" | awk '/cmd LC_BUILD_VERSION/ {b=1} b && $1 == "minos" {print $2; exit}')"
  [ "$minos" = "$4" ] || fail "$f needs macOS $minos; the oldest macOS Node runs on here is $4"
  # (Captured first: with pipefail, grep -q ending a pipe early fails the producer with SIGPIPE.)
  local defined; defined="$(llvm-nm -g --defined-only "$f")"
  grep -qE ' T _napi_register_module_v1$' <<<"$defined" || fail "$f does not export napi_register_module_v1"
  # (the first line names the file; a dylib also lists its own install name, which is that path)
  local libs; libs="$(llvm-objdump --macho --dylibs-used "$f" | tail -n +2 | awk '{print $1}' | grep -vxF "$f" || true)"
  [ "$libs" = /usr/lib/libSystem.B.dylib ] || fail "$f links other libraries than libSystem: $(echo $libs)"
  local und; und="$(llvm-nm -m -u "$f")"
  local bad; bad="$(echo "$und" | grep -v '(from libSystem)' | awk '{print $3}' | grep -vE '^_(napi_|node_api_|uv_)' || true)"
  [ -z "$bad" ] || fail "$f has undefined symbols outside libSystem, Node-API and libuv: $(echo $bad)"
  printf '%-38s %-7s %7d bytes; macOS >= %s; exports napi_register_module_v1; undefined: %d libSystem, %d Node-API, %d libuv, 0 other; links %s\n' \
    "$f" "$name" "$(stat -c %s "$f")" "$minos" "$(echo "$und" | grep -c '(from libSystem)')" \
    "$(echo "$und" | grep -v '(from libSystem)' | grep -cE ' _(napi_|node_api_)')" \
    "$(echo "$und" | grep -v '(from libSystem)' | grep -cE ' _uv_')" "$libs"
}

check_musl() {  # FILE E_MACHINE(little-endian hex) NAME
  local f="$1" mach="$2" name="$3"
  [ -f "$f" ] || fail "$f is missing"
  [ "$(hex "$f" 0 5)" = 7f454c4602 ] || fail "$f is not a 64-bit ELF"
  [ "$(hex "$f" 18 2)" = "$mach" ] || fail "$f is not $name (e_machine $(hex "$f" 18 2))"
  local dyn; dyn="$(readelf --dyn-syms -W "$f")"
  awk '$7 != "UND" {print $8}' <<<"$dyn" | grep -x napi_register_module_v1 >/dev/null || fail "$f does not export napi_register_module_v1"
  local needed; needed="$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
  local bad; bad="$(echo "$needed" | grep -vE '^(libc\.so|ld-musl-[a-z0-9_]+\.so\.1)$' || true)"
  [ -z "$bad" ] || fail "$f needs other libraries than musl's libc: $(echo $bad)"
  ! grep -q '@GLIBC' <<<"$dyn" || fail "$f has glibc-versioned symbols"
  local exports; exports="$(awk '$7 != "UND" && $5 != "LOCAL" && $8 != "" && $8 != "Name" {print $8}' <<<"$dyn" | tr '\n' ' ')"
  printf '%-38s %-7s %7d bytes; exports %s; NEEDED %s; no glibc symbol\n' "$f" "$name" "$(stat -c %s "$f")" "$exports" "$(echo $needed)"
}

check_macho prebuilds/darwin-x64/iomux.node 07000001 x86_64 10.15
check_macho prebuilds/darwin-arm64/iomux.node 0c000001 arm64 11.0
check_musl prebuilds/linux-x64/iomux.musl.node 3e00 x86-64
check_musl prebuilds/linux-arm64/iomux.musl.node b700 aarch64
echo "check-binaries: darwin-x64, darwin-arm64, linux-x64-musl, linux-arm64-musl checked"
