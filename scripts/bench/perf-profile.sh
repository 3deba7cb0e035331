#!/usr/bin/env bash
# Where a missed speed target's CPU goes: a `perf record` of one process while it
# does what the bench measures, then its CPU split by binary (kernel, libc, node,
# JIT-compiled JS, the addon) and the top user-space symbols. Needs `perf` (Debian:
# linux-perf) and permission to profile (root, or kernel.perf_event_paranoid <= 1).
# perf's sampling adds its own overhead: read shares, not absolute times.
#
#   scripts/bench/perf-profile.sh echo iomux|c [MECHANISM] [CONNS] [IDLE]
#                                 the echo server (iomux's CLI or scripts/bench/echo-server-c.c) on
#                                 epoll (default) or select, under echo-load: 64 B messages, CONNS
#                                 active (default 100) and IDLE idle connections (default 0); also
#                                 counts the wait syscalls per recv() (the batch a wait hands back)
#   scripts/bench/perf-profile.sh notify IMPL           one bench:notify idle worker
#                                                        (IMPL: iomux-epoll, socketwatcher, control-nested, ...;
#                                                        run `npm run bench:notify` once first for the peers)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
what=${1:?usage: perf-profile.sh echo iomux|c [MECHANISM] [CONNS] [IDLE] | notify IMPL}
who=${2:?usage: perf-profile.sh echo iomux|c [MECHANISM] [CONNS] [IDLE] | notify IMPL}
command -v perf >/dev/null || { echo "perf-profile: perf is not installed (Debian: linux-perf)" >&2; exit 2; }
tmp=$(mktemp -d)
pid=
# node --perf-basic-prof leaves /tmp/perf-PID.map (JIT symbols for perf report).
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"; [ -z "$pid" ] || rm -f "/tmp/perf-$pid.map"' EXIT
case "$what" in
  echo)
    cc -O2 -o "$tmp/echo-load" "$here/echo-load.c"
    cc -O2 -o "$tmp/echo-server-c" "$here/echo-server-c.c"
    mech=${3:-epoll}
    conns=${4:-100}
    idle=${5:-0}
    if [ "$who" = iomux ]; then
      # From $tmp: --perf-basic-prof also leaves an isolate-*.log in the working directory.
      (cd "$tmp" && exec node --perf-basic-prof "$root/demos/bin/iomux.js" echo --backend "$mech" --port 0 --json >"$tmp/server.out" 2>&1) &
    else
      "$tmp/echo-server-c" --mechanism "$mech" --port 0 >"$tmp/server.out" 2>&1 &
    fi
    pid=$!
    port=
    for _ in $(seq 100); do
      port=$(grep -o '"port":[0-9]*' "$tmp/server.out" | head -1 | cut -d: -f2 || true)
      [ -n "$port" ] && break
      sleep 0.1
    done
    [ -n "$port" ] || { echo "perf-profile: the server did not start: $(cat "$tmp/server.out")" >&2; exit 1; }
    "$tmp/echo-load" --port "$port" --conns "$conns" --idle "$idle" --size 64 --duration-ms 8000 --warmup-ms 1000 \
      --server-pid "$pid" --timeout-ms 60000 >"$tmp/load.json" &
    load=$!
    # Past the connection set-up (10,000 idle connections take a while) and the warm-up.
    sleep $(( 2 + idle / 2000 ))
    perf stat -x, -e syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_select,syscalls:sys_enter_pselect6 \
      -p "$pid" -o "$tmp/stat.csv" -- sleep 2 >/dev/null 2>&1
    perf record -q -F 4000 -g -p "$pid" -o "$tmp/perf.data" -- sleep 3 >/dev/null 2>&1
    wait "$load"
    echo "load: $(cat "$tmp/load.json")"
    echo "== syscalls in 2 s, and per recv()"
    awk -F, '/syscalls:/ { n[$3] = $1 } END {
      r = n["syscalls:sys_enter_recvfrom"]
      for (k in n) printf "%-34s %10d  %.3f per recv\n", k, n[k], (r > 0 ? n[k] / r : 0) }' "$tmp/stat.csv" | sort
    ;;
  notify)
    cc -O2 -o "$tmp/notify-writer" "$here/notify-writer.c"
    peers="$HOME/.cache/iomux-bench/notify"
    (cd "$tmp" && exec node --perf-basic-prof "$here/notify.mjs" --worker "$who" idle 9000 1500 "$tmp/notify-writer" "$peers" >"$tmp/worker.json") &
    pid=$!
    sleep 1.8
    perf record -q -F 4000 -g -p "$pid" -o "$tmp/perf.data" -- sleep 6 >/dev/null 2>&1
    wait "$pid"
    echo "worker: $(cat "$tmp/worker.json")"
    ;;
  *) echo "perf-profile: unknown bench '$what' (echo or notify)" >&2; exit 2 ;;
esac

# head closes the pipe early: the reports below must not end the script (pipefail).
set +o pipefail
echo "== CPU by binary"
perf report -i "$tmp/perf.data" --no-children -g none --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -8
echo "== top user-space symbols"
perf report -i "$tmp/perf.data" --no-children -g none --sort dso,sym --stdio 2>/dev/null | grep -E '^ +[0-9]' | grep -v kallsyms | head -20
echo "== top kernel symbols"
perf report -i "$tmp/perf.data" --no-children -g none --sort sym --stdio 2>/dev/null | grep -E '^ +[0-9].*\[k\]' | head -8
