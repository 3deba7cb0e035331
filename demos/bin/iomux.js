#!/usr/bin/env node
'use strict';
// `iomux crawl` allocates fast enough that V8 grows the young generation to
// 3 x 16 MiB; 4 MiB semi-spaces keep its peak RSS about 30 MiB lower at the same
// speed (docs/crawl.md). Heap flags only count at start, so that command runs
// itself once more with the flag. The child gets its own process group, so a
// terminal's Ctrl-C reaches it once, through this process, not twice.
const NODE_FLAGS = { crawl: ['--max-semi-space-size=4'] };

function rerun(flags) {
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, ...flags, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    detached: true,
    env: { ...process.env, IOMUX_RERUN: '1' },
  });
  const forward = (sig) => () => child.kill(sig);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 9);
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
  });
}

const flags = NODE_FLAGS[process.argv[2]];
if (flags && !process.env.IOMUX_RERUN && process.platform !== 'win32') {
  rerun(flags);
} else {
  // Errors are reported by the command as one line; this catch is for a bug
  // (IOMUX_DEBUG=1 adds the stack).
  require('../dist/cli.js')
    .run(process.argv.slice(2))
    .then(
      (code) => { process.exitCode = code; },
      (err) => {
        process.stderr.write(`iomux: ${err && err.message ? err.message : err}\n${process.env.IOMUX_DEBUG && err && err.stack ? `${err.stack}\n` : ''}`);
        process.exitCode = 1;
      },
    );
}
