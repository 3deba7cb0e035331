// Loaded with NODE_OPTIONS=--require by scripts/asan.sh into every node process
// of the ASan run. The run preloads libasan (LD_PRELOAD) because node is not
// instrumented; children inherit that, which is fine for node and python3 but
// not for Debian 12's curl 7.88: with libasan preloaded it hangs for ever in its
// second setlocale() call at start-up (glibc's locale lock is found held), before
// doing any I/O. So the programs listed here are started without LD_PRELOAD;
// everything else (node children in particular) keeps it.
'use strict';
const cp = require('node:child_process');
const path = require('node:path');
const { syncBuiltinESMExports } = require('node:module');
const { promisify } = require('node:util');

const WITHOUT_ASAN = new Set(['curl']);

function withoutPreload(file, args) {
  if (typeof file !== 'string' || !WITHOUT_ASAN.has(path.basename(file))) return args;
  // (file, [args], [options], [callback]): the options are the first plain object.
  const out = args.slice();
  let i = out.findIndex((a) => a !== null && typeof a === 'object' && !Array.isArray(a));
  if (i < 0) {
    i = Array.isArray(out[0]) ? 1 : 0;
    out.splice(i, 0, {});
  }
  const env = { ...(out[i].env ?? process.env) };
  delete env.LD_PRELOAD;
  out[i] = { ...out[i], env };
  return out;
}

for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync']) {
  const orig = cp[name];
  const wrapped = function (file, ...rest) {
    return orig.call(this, file, ...withoutPreload(file, rest));
  };
  // promisify(execFile) resolves to { stdout, stderr } through this hook.
  const custom = orig[promisify.custom];
  if (custom) wrapped[promisify.custom] = (file, ...rest) => custom(file, ...withoutPreload(file, rest));
  cp[name] = wrapped;
}
// ESM `import { execFile } from 'node:child_process'` sees the wrapped functions too.
syncBuiltinESMExports();
