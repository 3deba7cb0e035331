// Loads iomux as an installed dependency (from the current directory's
// node_modules) and runs one selector round trip over a socketpair; prints
// which binary was loaded. Used by tarball-install.sh on every platform.
'use strict';
const path = require('path');
const io = require(require.resolve('iomux', { paths: [process.cwd()] }));
const [a, b] = io.socketpair();
const sel = new io.DefaultSelector();
sel.register(a, io.EVENT_READ, 'a');
b.send(Buffer.from('round trip'));
const ready = sel.select(5000);
if (ready.length !== 1 || ready[0][0].data !== 'a') throw new Error('no readiness: ' + JSON.stringify(ready));
const got = a.recv(64).toString();
if (got !== 'round trip') throw new Error('got ' + got);
const pkg = path.dirname(require.resolve('iomux/package.json', { paths: [process.cwd()] }));
const loaded = require(require.resolve('node-gyp-build', { paths: [pkg] })).resolve(pkg);
console.log(`round trip ok on ${process.platform}-${process.arch} (${sel.constructor.name}, ${path.relative(pkg, loaded)})`);
