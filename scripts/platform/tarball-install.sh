#!/usr/bin/env bash
# Installs the packed tarball the way a user without a compiler would: into an
# empty directory, with HOME empty (so npm has no nodedir setting), with a PATH
# that holds node, npm and sh but no cc/g++/make/python, preferring the npm
# cache for its dependencies (node-gyp-build, node-addon-api, htmlparser2).
# Then loads iomux and runs a selector round trip. Fails if anything was
# compiled: with no compiler on PATH, a build attempt fails the install.
# Needs `npm run prebuild` first (prebuilds/linux-x64 and prebuilds/win32-x64).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
for p in linux-x64 win32-x64; do
  ls prebuilds/$p/*.node >/dev/null 2>&1 || { echo "tarball-install: prebuilds/$p is missing: run npm run prebuild" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$(npm pack --silent --pack-destination "$work" | tail -1)"
listing="$(tar tzf "$work/$tarball")"
for want in package/prebuilds/linux-x64/ package/prebuilds/win32-x64/ package/dist/index.js package/dist/index.d.ts; do
  grep -q "^$want" <<<"$listing" || { echo "tarball-install: $want is not in $tarball" >&2; exit 1; }
done

cache="$(npm config get cache)"
mkdir -p "$work/home" "$work/bin" "$work/app"
for tool in node npm npx sh; do ln -s "$(command -v $tool)" "$work/bin/$tool"; done
for tool in cc gcc g++ c++ make python3 python; do
  if PATH="$work/bin" command -v $tool >/dev/null 2>&1; then echo "tarball-install: $tool is reachable" >&2; exit 1; fi
done

cd "$work/app"
echo '{"name":"app","version":"1.0.0","private":true}' > package.json
HOME="$work/home" PATH="$work/bin" npm_config_cache="$cache" \
  npm install --prefer-offline --no-audit --no-fund --ignore-scripts=false "$work/$tarball" > "$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; echo "tarball-install: npm install failed" >&2; exit 1; }
[ ! -d node_modules/iomux/build ] || { echo "tarball-install: something was compiled (node_modules/iomux/build exists)" >&2; exit 1; }

HOME="$work/home" PATH="$work/bin" node -e '
  const io = require("iomux");
  const [a, b] = io.socketpair();
  const sel = new io.DefaultSelector();
  sel.register(a, io.EVENT_READ, "a");
  b.send(Buffer.from("round trip"));
  const ready = sel.select(1000);
  if (ready.length !== 1 || ready[0][0].data !== "a") throw new Error("no readiness: " + JSON.stringify(ready));
  const got = a.recv(64).toString();
  if (got !== "round trip") throw new Error("got " + got);
  const path = require.resolve("iomux");
  console.log("tarball-install: ok (" + sel.backend + ", loaded from " + path.replace(process.cwd(), ".") + ")");
'
echo "tarball-install: 1 passed, 0 failed"
