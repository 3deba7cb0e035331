// Windows smoke test, run by a Windows node.exe (under wine in CI) against a
// staged copy of the package that has only prebuilds/ (no build/). Prints one
// "ok <name>" or "FAIL <name>: <error>" line per check, then "N passed, M failed".
'use strict';
const assert = require('node:assert/strict');
const path = require('node:path');
const pkg = process.argv[2] || path.join(__dirname, 'pkg');
const io = require(pkg);

const checks = [];
const check = (name, fn) => checks.push([name, fn]);

check('loads on win32 with the select backend', () => {
  assert.equal(process.platform, 'win32');
  assert.equal(new io.DefaultSelector().backend, 'select');
  assert.ok(io.FD_SETSIZE >= 1024, `FD_SETSIZE ${io.FD_SETSIZE}`);
});

check('socketpair + SelectSelector round trip', () => {
  const [a, b] = io.socketpair();
  const sel = new io.SelectSelector();
  try {
    sel.register(a, io.EVENT_READ, 'a');
    assert.deepEqual(sel.select(0), []);
    assert.equal(b.send(Buffer.from('ping')), 4);
    const ready = sel.select(2000);
    assert.equal(ready.length, 1);
    assert.equal(ready[0][0].data, 'a');
    assert.equal(ready[0][1], io.EVENT_READ);
    assert.equal(a.recv(16).toString(), 'ping');
    a.setBlocking(false);
    assert.equal(a.getBlocking(), false);
    assert.equal(a.recv(16), null); // would block -> null, not an exception
  } finally {
    sel.close();
    a.close();
    b.close();
  }
});

check('fileno() is the SOCKET value and closed sockets say EBADF', () => {
  const s = new io.Socket(io.AF_INET, io.SOCK_STREAM);
  const fd = s.fileno();
  assert.ok(Number.isInteger(fd) && fd > 0);
  s.close();
  assert.equal(s.fileno(), -1);
  assert.throws(() => s.send(Buffer.from('x')), { code: 'EBADF' });
});

check('refused connect: ECONNREFUSED, blocking and non-blocking', () => {
  const probe = new io.Socket();
  probe.bind(['127.0.0.1', 0]);
  const port = probe.getsockname()[1];
  probe.close(); // nothing listens there now
  const s = new io.Socket();
  assert.throws(() => s.connect(['127.0.0.1', port]), { code: 'ECONNREFUSED', syscall: 'connect' });
  s.close();
  const n = new io.Socket();
  n.setBlocking(false);
  assert.equal(n.connect(['127.0.0.1', port]), false);
  // Windows reports a failed connect in select's except set; give it time to fail.
  const deadline = Date.now() + 5000;
  let err = null;
  while (!err && Date.now() < deadline) {
    io.select([], [n], [n], 100);
    err = n.connectError();
  }
  assert.ok(err, 'connectError() reported nothing');
  assert.equal(err.code, 'ECONNREFUSED');
  n.close();
});

check('pipe, Poll and Epoll throw ENOSYS', () => {
  assert.throws(() => io.pipe(), { code: 'ENOSYS' });
  assert.throws(() => new io.Poll(), { code: 'ENOSYS' });
  assert.throws(() => new io.Epoll(), { code: 'ENOSYS' });
});

check('select() beyond FD_SETSIZE entries is a RangeError', () => {
  const many = new Array(io.FD_SETSIZE + 1).fill(3);
  assert.throws(() => io.select(many, [], [], 0), RangeError);
});

const asyncChecks = [];
asyncChecks.push(['selectAsync resolves on readiness without blocking the loop', async () => {
  const [a, b] = io.socketpair();
  const sel = new io.DefaultSelector();
  sel.register(a, io.EVENT_READ);
  let ticks = 0;
  const iv = setInterval(() => ticks++, 10);
  setTimeout(() => b.send(Buffer.from('x')), 200);
  const t0 = Date.now();
  const ready = await sel.selectAsync(5000);
  clearInterval(iv);
  assert.equal(ready.length, 1);
  assert.ok(Date.now() - t0 >= 150, 'resolved too early');
  assert.ok(ticks >= 5, `event loop was blocked (ticks ${ticks})`);
  const t1 = Date.now();
  a.recv(8);
  assert.deepEqual(await sel.selectAsync(100), []);
  assert.ok(Date.now() - t1 >= 95);
  sel.close();
  a.close();
  b.close();
}]);

asyncChecks.push(['TCP echo through the echo server code, with a Node net client', async () => {
  const net = require('node:net');
  const { EchoServer } = require(path.join(pkg, 'dist', 'demos', 'echo-server.js'));
  const server = new EchoServer({ port: 0 });
  const [host, port] = server.listen();
  const serving = server.serve();
  try {
    const payload = Buffer.alloc(256 * 1024, 0);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
    const echoed = await new Promise((resolve, reject) => {
      const chunks = [];
      let got = 0;
      const c = net.connect(port, host, () => c.end(payload));
      c.on('data', (d) => { chunks.push(d); got += d.length; });
      c.on('end', () => resolve(Buffer.concat(chunks, got)));
      c.on('error', reject);
      setTimeout(() => reject(new Error(`echo timed out after ${got} bytes`)), 20000).unref();
    });
    assert.equal(echoed.length, payload.length);
    assert.ok(echoed.equals(payload), 'echoed bytes differ');
  } finally {
    server.stop();
    await serving;
    server.close();
  }
}]);

(async () => {
  let passed = 0, failed = 0;
  for (const [name, fn] of [...checks, ...asyncChecks]) {
    try {
      await fn();
      console.log(`ok ${name}`);
      passed++;
    } catch (e) {
      console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
      failed++;
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
})();
