#!/usr/bin/env bash
# test/runtimes/conformance.mjs under other JavaScript runtimes, against the
# built package of this tree (dist/ and the addon node-gyp-build finds, or the
# one given with --musl-addon):
#   bun       @oven/bun-linux-x64            bun test/runtimes/conformance.mjs
#   deno      @deno/linux-x64-glibc          deno run -A test/runtimes/conformance.mjs
#   bun-musl  @oven/bun-linux-x64-musl       under Debian's musl loader
#             (/lib/ld-musl-x86_64.so.1, the `musl` package), loading the musl
#             addon (--musl-addon, default prebuilds/linux-x64/iomux.musl.node).
#             That Bun links libstdc++.so.6/libgcc_s.so.1, which Debian has
#             only for glibc: those load under musl with the few glibc-only
#             symbols of scripts/platform/musl-glibc-shim.c (built here with
#             musl-gcc, the `musl-tools` package) preloaded.
# The runtimes come from the npm registry (pinned below) into the cache
# ~/.cache/iomux-platform. Each prints its own lines and the count line
# `N passed, N failed[, N skipped]`; a summary line per runtime at the end.
# A missing musl addon is a skip with its reason (exit 0), not a failure.
# Usage: runtimes.sh [bun] [deno] [bun-musl] [--musl-addon FILE]   (default: all three)
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
cache="${IOMUX_PLATFORM_CACHE:-$HOME/.cache/iomux-platform}"
mkdir -p "$cache"
source "$root/scripts/platform/lib.sh"

BUN_VERSION=1.4.5
DENO_VERSION=2.9.6

which=() musl_addon="$root/prebuilds/linux-x64/iomux.musl.node"
while [ $# -gt 0 ]; do
  case "$1" in
    --musl-addon) musl_addon="$(realpath -m "${2:?--musl-addon needs a file}")"; shift 2 ;;
    bun|deno|bun-musl) which+=("$1"); shift ;;
    *) echo "usage: runtimes.sh [bun] [deno] [bun-musl] [--musl-addon FILE]" >&2; exit 2 ;;
  esac
done
[ ${#which[@]} -gt 0 ] || which=(bun deno bun-musl)
[ -f dist/index.js ] || { echo "runtimes: no dist/: run npm install (or npm run build:ts) first" >&2; exit 1; }

script=test/runtimes/conformance.mjs
limit="${IOMUX_RUNTIME_TIMEOUT:-300}"
summary=()
rc=0

# run NAME CMD...: the script under one runtime, with a time limit of its own.
run() {
  local name="$1" start=$SECONDS r=0; shift
  echo "--- $name"
  local log; log="$(mktemp)"
  timeout -k 10 "$limit" "$@" 2>&1 | tee "$log"
  r=${PIPESTATUS[0]}
  local counts; counts="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)"
  rm -f "$log"
  [ $r -ne 124 ] || counts="timed out after $limit s"
  [ $r -ne 134 ] || [ -n "$counts" ] || counts="the runtime aborted (SIGABRT) during the checks: a crash, not a failed check"
  [ -n "$counts" ] || counts="no count line (exit $r)"
  summary+=("$(printf '%-34s %s (exit %d, %d s)' "$name:" "$counts" "$r" $((SECONDS - start)))")
  [ $r -eq 0 ] || rc=1
}

for rt in "${which[@]}"; do
  case "$rt" in
    bun)
      bun="$(registry_bin @oven/bun-linux-x64 "$BUN_VERSION" bin/bun bun)" || { rc=1; summary+=("bun: download failed"); continue; }
      run "bun $("$bun" --version) (glibc)" "$bun" "$script" ;;
    deno)
      deno="$(registry_bin @deno/linux-x64-glibc "$DENO_VERSION" deno deno)" || { rc=1; summary+=("deno: download failed"); continue; }
      # Deno keeps its caches under DENO_DIR; no update check (no network but npm's).
      export DENO_DIR="$cache/deno-dir" DENO_NO_UPDATE_CHECK=1
      # -A: the addon (--allow-ffi), sockets, env, fs. Deno 2 loads a .node file
      # through require()/process.dlopen with no --unstable flag.
      run "deno $("$deno" --version | head -1 | cut -d' ' -f2) (glibc)" "$deno" run -A "$script" ;;
    bun-musl)
      if [ ! -f "$musl_addon" ]; then
        echo "--- bun-musl: skipped: no musl addon at ${musl_addon#"$root"/} (the zig cross-build of the prebuilds makes it)"
        summary+=("bun-musl: skipped (no musl addon at ${musl_addon#"$root"/})")
        continue
      fi
      loader=/lib/ld-musl-x86_64.so.1
      if [ ! -e "$loader" ] || ! command -v musl-gcc >/dev/null; then
        apt_need musl musl-tools || { rc=1; summary+=("bun-musl: apt-get install musl musl-tools failed"); continue; }
      fi
      bunm="$(registry_bin @oven/bun-linux-x64-musl "$BUN_VERSION" bin/bun bun)" || { rc=1; summary+=("bun-musl: download failed"); continue; }
      libs="$cache/musl-glibc-libs"
      if [ ! -f "$libs/libglibcshim.so" ] || [ "$root/scripts/platform/musl-glibc-shim.c" -nt "$libs/libglibcshim.so" ]; then
        mkdir -p "$libs"
        musl-gcc -O2 -shared -fPIC -o "$libs/libglibcshim.so" "$root/scripts/platform/musl-glibc-shim.c" || { rc=1; summary+=("bun-musl: shim build failed"); continue; }
        # Debian's libstdc++ names glibc's loader as a dependency: an empty stand-in.
        echo 'void iomux_ld_linux_stand_in(void) {}' | musl-gcc -shared -fPIC -x c - -o "$libs/ld-linux-x86-64.so.2" -Wl,-soname,ld-linux-x86-64.so.2
        ln -sf /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/x86_64-linux-gnu/libgcc_s.so.1 "$libs/"
      fi
      # A .node that exports its C++ runtime (zig's static libc++abi/libunwind:
      # __cxa_*, _Unwind_*) has its throws bound to the process's libstdc++ when
      # one is loaded (this Bun, Alpine's node), and the first exception aborts:
      # say so before running it.
      if command -v nm >/dev/null && nm -D --defined-only "$musl_addon" 2>/dev/null | grep -qE ' (__cxa_throw|_Unwind_RaiseException)$'; then
        echo "runtimes: warning: ${musl_addon#"$root"/} exports its C++ runtime (__cxa_throw, _Unwind_*); under a host with libstdc++ its exceptions abort. Link it with a version script exporting only napi_register_module_v1 and node_api_module_get_api_version_v1 (and -Wl,-Bsymbolic)." >&2
      fi
      # The variables go to Bun only (env is a glibc program; timeout too).
      run "bun $BUN_VERSION (musl, $(basename "$musl_addon"))" \
        env LD_PRELOAD="$libs/libglibcshim.so" LD_LIBRARY_PATH="$libs" "$bunm" "$script" --addon "$musl_addon" ;;
  esac
done

echo "=== runtimes"
printf '%s\n' "${summary[@]}"
exit $rc
