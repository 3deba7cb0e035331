#!/usr/bin/env node
'use strict';
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
