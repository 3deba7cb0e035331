#!/usr/bin/env bash
# npm run test:asan — the addon built with AddressSanitizer + UndefinedBehaviorSanitizer
# in its own directory (build-asan/, never build/), then the whole vitest suite
# under the stock node with libasan preloaded. Any sanitizer report fails the run.
#
#   scripts/asan.sh            build (if sources changed) and run the suite
#   scripts/asan.sh build      only build; prints the path of the .node file
#   scripts/asan.sh env CMD..  run CMD under the ASan environment (e.g. the fuzzer)
#   scripts/asan.sh test ARGS  build, then vitest with ARGS (e.g. a test file)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WS="$ROOT/build-asan"
PKG="$WS/pkg"
ADDON="$PKG/build/Release/iomux.node"
REPORTS="$WS/reports"

build() {
  mkdir -p "$PKG"
  # A copy of what node-gyp needs; node_modules is shared (node-addon-api headers).
  cp "$ROOT/binding.gyp" "$ROOT/package.json" "$PKG/"
  mkdir -p "$PKG/src"
  rm -rf "$PKG/src/native.new" && cp -r "$ROOT/src/native" "$PKG/src/native.new"
  # Keep the old tree when nothing changed, so make sees unchanged mtimes and does nothing.
  if [ -d "$PKG/src/native" ] && diff -r -q "$PKG/src/native" "$PKG/src/native.new" >/dev/null; then
    rm -rf "$PKG/src/native.new"
  else
    rm -rf "$PKG/src/native" && mv "$PKG/src/native.new" "$PKG/src/native"
  fi
  ln -sfn "$ROOT/node_modules" "$PKG/node_modules"
  # -O1 and frame pointers: readable stacks at a tolerable speed. -fno-sanitize-recover
  # makes any UBSan finding abort instead of printing and going on.
  local san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
  (
    cd "$PKG"
    export CFLAGS="$san" CXXFLAGS="$san" LDFLAGS="-fsanitize=address,undefined"
    { [ -f build/Makefile ] || npx --no-install node-gyp configure; } > "$WS/build.log" 2>&1 &&
      npx --no-install node-gyp build -j2 >> "$WS/build.log" 2>&1 || { cat "$WS/build.log" >&2; exit 1; }
  )
  # The build must really be instrumented (a silently plain build would prove nothing).
  # (grep -c, not grep -q: an early exit would SIGPIPE the producer under pipefail.)
  if [ "$(ldd "$ADDON" | grep -c libasan)" = 0 ] || [ "$(nm -D "$ADDON" | grep -c __ubsan_handle)" = 0 ]; then
    echo "asan.sh: $ADDON is not instrumented" >&2
    exit 1
  fi
}

# The environment every process of the run gets (vitest forks and the tests' own
# children inherit it). libasan goes first via LD_PRELOAD because node itself is
# not instrumented; non-instrumented programs the tests start (python3, curl, ls)
# then run with ASan's allocator, which is harmless for them.
asan_env() {
  LIBASAN="$(g++ -print-file-name=libasan.so)"
  rm -rf "$REPORTS" && mkdir -p "$REPORTS"
  export IOMUX_ADDON_PATH="$ADDON"
  export LD_PRELOAD="$LIBASAN${LD_PRELOAD:+:$LD_PRELOAD}"
  # detect_leaks=0: node (and python3) free little at exit by design, so LeakSanitizer
  #   would report thousands of blocks that are not ours; leaks are valgrind's part.
  # log_path: each process writes its reports to its own file, so a report from a
  #   child whose stderr a test swallows still fails the run.
  # quarantine_size_mb: the default 256 MB per process broke the suite's RSS bounds.
  export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=0:quarantine_size_mb=32:log_path=$REPORTS/asan"
  # curl hangs under the preload: scripts/asan-child-env.cjs starts it without.
  export NODE_OPTIONS="--require $ROOT/scripts/reliability/asan-child-env.cjs${NODE_OPTIONS:+ $NODE_OPTIONS}"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$REPORTS/ubsan"
}

check_reports() {
  local n
  n=$(find "$REPORTS" -type f | wc -l)
  if [ "$n" -ne 0 ]; then
    echo "asan.sh: $n sanitizer report file(s) in $REPORTS:" >&2
    for f in "$REPORTS"/*; do echo "== $f" >&2; head -60 "$f" >&2; done
    return 1
  fi
  echo "asan.sh: sanitizer reports: 0"
}

cmd="${1:-all}"
[ $# -gt 0 ] && shift
case "$cmd" in
  build)
    build
    echo "$ADDON"
    ;;
  env)
    build
    asan_env
    status=0
    "$@" || status=$?
    check_reports || status=1
    exit $status
    ;;
  all | test)
    build
    # dist/ is what the tests' child processes load; it must know IOMUX_ADDON_PATH.
    (cd "$ROOT" && flock /tmp/iomux-build.lock npm run --silent build:ts)
    asan_env
    start=$(date +%s)
    status=0
    # One fork: the machine is shared, and ASan makes everything ~2-3x slower.
    # The library's tests; in the full run the demos' too (they drive the addon
    # through the servers and the crawler, and start nginx, wget and python3
    # peers under the preload). The CI-sized run (RELIABILITY_QUICK=1) keeps to
    # the library's suite, which calls every native function.
    dirs=("$ROOT")
    [ "${RELIABILITY_QUICK:-0}" = 1 ] || dirs+=("$ROOT/demos")
    for dir in "${dirs[@]}"; do
      (cd "$dir" && npx --no-install vitest run --passWithNoTests --poolOptions.forks.maxForks=1 --poolOptions.forks.minForks=1 \
        --testTimeout=90000 --hookTimeout=90000 "$@") || status=$?
    done
    echo "asan.sh: vitest exit $status after $(( $(date +%s) - start )) s"
    check_reports || status=1
    exit $status
    ;;
  *)
    echo "usage: scripts/reliability/asan.sh [build|env CMD...|test VITEST-ARGS...]" >&2
    exit 2
    ;;
esac
