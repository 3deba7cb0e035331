#!/usr/bin/env bash
# npm run test:valgrind — memcheck over scripts/valgrind-exercise.js, which calls
# every native function (success and error paths, selectAsync on each backend,
# a worker torn down with waits pending) against the normal build/Release addon.
# Fails on any invalid access (read/write/free, uninitialised values reaching a
# syscall or a branch) and on a "definitely lost" block with an iomux.node frame.
#
#   scripts/valgrind.sh [rounds]      (default 1 round; ~1-3 min under memcheck)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/build-asan/valgrind"   # ignored by git, next to the ASan workspace
mkdir -p "$OUT"
LOG="$OUT/memcheck.log"
unset IOMUX_ADDON_PATH LD_PRELOAD   # the normal build, no ASan runtime

# --jitless: V8 writes no machine code at run time, so memcheck sees no
#   self-modifying code (and runs faster); the native paths are the same.
# Suppressions (scripts/valgrind.supp) cover node/V8 start-up only, never iomux frames.
start=$(date +%s)
status=0
valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
  --errors-for-leak-kinds=none --track-origins=no --num-callers=30 \
  --suppressions="$ROOT/scripts/reliability/valgrind.supp" --log-file="$LOG" \
  node --jitless --expose-gc "$ROOT/scripts/reliability/valgrind-exercise.js" "${1:-1}" || status=$?
secs=$(( $(date +%s) - start ))

summary=$(grep -E "ERROR SUMMARY" "$LOG" | tail -1 | sed 's/^==[0-9]*== //')
# A leak record is a block of lines; keep the "definitely lost" ones that pass through iomux.node.
ours=$(awk '/definitely lost in/ {rec=$0; inrec=1; next} inrec && /^==[0-9]+== *$/ {if (rec ~ /iomux\.node/) n++; inrec=0; next} inrec {rec=rec"\n"$0} END {print n+0}' "$LOG")
invalid=$(grep -cE "Invalid (read|write|free)|Mismatched free|uninitialised|unaddressable|overlap" "$LOG" || true)
lost=$(grep -E "definitely lost:" "$LOG" | tail -1 | sed 's/^==[0-9]*== *//')
echo "valgrind.sh: $summary; ${lost:-definitely lost: 0 bytes}; definite leaks through iomux.node: $ours; invalid accesses: $invalid; ${secs} s (log: $LOG)"
echo "{\"valgrind\":\"memcheck\",\"seconds\":$secs,\"errors\":\"${summary}\",\"iomuxDefiniteLeaks\":$ours,\"invalidAccesses\":$invalid}"
if [ "$status" -ne 0 ] || [ "$ours" -ne 0 ] || [ "$invalid" -ne 0 ]; then
  echo "valgrind.sh: FAILED (exit $status); see $LOG" >&2
  exit 1
fi
