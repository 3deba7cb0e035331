#!/usr/bin/env bash
# A fresh clone's `npm test` on a machine without the test peers that .ci/run
# installs (issue #23): hide them, run the test files that use them, and check
# that they pass with each missing peer's test skipped and its Debian package
# named in the title. The peers are hidden in a private mount namespace
# (unshare -m, root): each program is covered by /dev/null (exec fails EACCES,
# as for a missing file) and the python3-doc tree by an empty tmpfs, so the
# tests see a real absence and nothing on the machine changes.
set -euo pipefail
cd "$(dirname "$0")/../.."
PROGRAMS=(curl wget openssl ss nginx)
LIB_FILES=(test/socket-connect.test.ts)
DEMO_FILES=(test/crawler-https.test.ts test/crawler-robots.test.ts test/crawler-wget.test.ts test/http.test.ts test/http-protocol.test.ts)

if [ "${1:-}" != --inside ]; then
  [ "$(id -u)" = 0 ] || { echo "without-peers: needs root for unshare -m" >&2; exit 2; }
  exec unshare -m --propagation private bash "$0" --inside
fi

for p in "${PROGRAMS[@]}"; do
  for d in /usr/bin /usr/sbin /bin /sbin /usr/local/bin /usr/local/sbin; do
    [ -e "$d/$p" ] && [ ! -L "$d" ] && mount --bind /dev/null "$d/$p"
  done
done
[ -d /usr/share/doc/python3-doc ] && mount -t tmpfs none /usr/share/doc/python3-doc
for p in "${PROGRAMS[@]}"; do
  if "$p" --version >/dev/null 2>&1 || "$p" -V >/dev/null 2>&1; then echo "without-peers: $p still runs" >&2; exit 1; fi
done

unset IOMUX_TEST_PEERS FORCE_COLOR
export NO_COLOR=1  # the log is grepped below: no colour codes in it
log="$(mktemp)"
rc=0
npx vitest run --reporter=verbose "${LIB_FILES[@]}" > "$log" 2>&1 || rc=$?
(cd demos && npx vitest run --reporter=verbose "${DEMO_FILES[@]}") >> "$log" 2>&1 || rc=$?
grep -E '^ *(Test Files|Tests) ' "$log" || { echo "without-peers: vitest printed no counts" >&2; rc=1; }
# Every peer the files use must show up as a skip reason with its package.
need=('apt-get install nginx-light' 'apt-get install python3-doc' 'apt-get install curl' 'apt-get install iproute2' )
for n in "${need[@]}"; do grep -q -- "$n" "$log" || { echo "without-peers: no test was skipped naming '$n'" >&2; rc=1; }; done
if [ $rc -ne 0 ]; then cat "$log"; echo "without-peers: FAILED"; exit 1; fi
echo "without-peers: passed; skipped tests name their package: $(grep -o 'apt-get install [a-z0-9-]*' "$log" | sort | uniq -c | tr -s ' ' | paste -sd, -)"
