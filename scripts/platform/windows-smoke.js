// Windows smoke test, run by a Windows node.exe (under wine in CI) against a
// staged copy of the package that has only prebuilds/ (no build/). Prints one
// "ok <name>" or "FAIL <name>: <error>" line per check, then "N passed, M failed".
'use strict';
const assert = require('node:assert/strict');
const path = require('node:path');
const pkg = process.argv[2] || path.join(__dirname, 'node_modules', 'iomux');
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

check('pipe, Poll, Epoll and UringSelector throw ENOSYS', () => {
  assert.throws(() => io.pipe(), { code: 'ENOSYS' });
  assert.throws(() => new io.Poll(), { code: 'ENOSYS' });
  assert.throws(() => new io.Epoll(), { code: 'ENOSYS' });
  assert.throws(() => new io.UringSelector(), { code: 'ENOSYS' });
});

check('select() beyond FD_SETSIZE entries is a RangeError', () => {
  const many = new Array(io.FD_SETSIZE + 1).fill(3);
  assert.throws(() => io.select(many, [], [], 0), RangeError);
});

check('TCP: non-blocking accept/connect, addresses, send/recv, half-close', () => {
  const lst = new io.Socket();
  lst.setsockopt(io.SOL_SOCKET, io.SO_REUSEADDR, 1);
  lst.bind(['127.0.0.1', 0]);
  lst.listen();
  lst.setBlocking(false);
  assert.equal(lst.accept(), null); // nothing pending -> null
  const addr = lst.getsockname();
  const c = new io.Socket();
  c.setBlocking(false);
  const done = c.connect(addr);
  if (!done) {
    const [, w] = io.select([], [c], [], 5000);
    assert.equal(w.length, 1, 'connect never finished');
    assert.equal(c.connectError(), null);
  }
  let accepted = null;
  for (let i = 0; i < 50 && !accepted; i++) {
    io.select([lst], [], [], 100);
    accepted = lst.accept();
  }
  assert.ok(accepted, 'accept() never returned the connection');
  const [s, peer] = accepted;
  assert.deepEqual(c.getpeername(), addr);
  assert.deepEqual(s.getpeername(), peer);
  assert.equal(s.getBlocking(), true); // accepted sockets are blocking, as on Linux
  assert.equal(c.send(Buffer.from('hello')), 5);
  assert.equal(s.recv(16).toString(), 'hello');
  c.shutdown(io.SHUT_WR);
  assert.equal(s.recv(16).length, 0); // EOF after the peer's half-close
  assert.equal(s.send(Buffer.from('still open')), 10);
  io.select([c], [], [], 2000);
  assert.equal(c.recv(32).toString(), 'still open');
  for (const x of [s, c, lst]) x.close();
});

check('a full non-blocking socket: partial send, then null', () => {
  const [a, b] = io.socketpair();
  a.setBlocking(false);
  const chunk = Buffer.alloc(64 * 1024, 7);
  let total = 0, r;
  for (let i = 0; i < 10000 && (r = a.send(chunk)) !== null; i++) total += r;
  assert.equal(r, null, 'send never reported would-block');
  assert.ok(total > 0);
  a.close();
  b.close();
});

check('UDP: sendTo / recvFrom with addresses', () => {
  const u1 = new io.Socket(io.AF_INET, io.SOCK_DGRAM);
  const u2 = new io.Socket(io.AF_INET, io.SOCK_DGRAM);
  u1.bind(['127.0.0.1', 0]);
  u2.bind(['127.0.0.1', 0]);
  assert.equal(u1.sendTo(Buffer.from('dgram'), u2.getsockname()), 5);
  io.select([u2], [], [], 2000);
  const [data, from] = u2.recvFrom(64);
  assert.equal(data.toString(), 'dgram');
  assert.deepEqual(from, u1.getsockname());
  u1.close();
  u2.close();
});

check('socket options', () => {
  const s = new io.Socket();
  s.setsockopt(io.IPPROTO_TCP, io.TCP_NODELAY, 1);
  assert.equal(s.getsockopt(io.IPPROTO_TCP, io.TCP_NODELAY) !== 0, true);
  s.setsockopt(io.SOL_SOCKET, io.SO_RCVBUF, 65536);
  assert.ok(s.getsockopt(io.SOL_SOCKET, io.SO_RCVBUF) >= 65536);
  assert.equal(s.getsockopt(io.SOL_SOCKET, io.SO_ERROR), 0);
  s.close();
});

check('selector errors have the contract codes', () => {
  const [a, b] = io.socketpair();
  const sel = new io.SelectSelector();
  sel.register(a, io.EVENT_READ);
  assert.throws(() => sel.register(a, io.EVENT_READ), { code: 'ERR_IOMUX_ALREADY_REGISTERED' });
  assert.throws(() => sel.unregister(b), { code: 'ERR_IOMUX_NOT_REGISTERED' });
  assert.throws(() => sel.register(b, 4), RangeError);
  const k = sel.modify(a, io.EVENT_READ | io.EVENT_WRITE, 'x');
  assert.equal(k.data, 'x');
  a.close();
  assert.equal(sel.unregister(a).fd, k.fd); // after the socket was closed
  const dead = new io.Socket();
  const deadFd = dead.fileno();
  dead.close();
  assert.throws(() => sel.register(deadFd, io.EVENT_READ), { code: 'EBADF' });
  assert.equal(sel.getMap().size, 0);
  sel.close();
  assert.throws(() => sel.select(0), { code: 'ERR_IOMUX_CLOSED' });
  b.close();
});

check('sockets part 2: resolver, createServer/createConnection, timeouts, flags, dup/detach, errors naming addresses', () => {
  assert.deepEqual(io.getaddrinfo('127.0.0.1', 80, { type: io.SOCK_STREAM })[0].address, ['127.0.0.1', 80]);
  assert.deepEqual(io.getnameinfo(['127.0.0.1', 80], io.NI_NUMERICHOST | io.NI_NUMERICSERV), ['127.0.0.1', '80']);
  assert.throws(() => io.getaddrinfo('x', 80, { flags: io.AI_NUMERICHOST }), { syscall: 'getaddrinfo', hostname: 'x' });
  const srv = io.createServer(['127.0.0.1', 0]);
  const port = srv.getsockname()[1];
  const c = io.createConnection(['127.0.0.1', port], { timeoutMs: 2000 });
  assert.equal(c.getTimeout(), 2000);
  const [conn] = srv.accept();
  c.sendAll(Buffer.from('peek'));
  assert.equal(conn.recv(4, io.MSG_PEEK).toString(), 'peek');
  const into = Buffer.alloc(8);
  assert.equal(conn.recvFromInto(into, 0, 4)[0], 4);
  conn.setTimeout(50);
  assert.throws(() => conn.recv(10), { code: 'ETIMEDOUT', syscall: 'recv' });
  const d = c.dup();
  assert.notEqual(d.fileno(), c.fileno());
  c.close();
  d.sendAll(Buffer.from('dup'));
  conn.setTimeout(2000);
  assert.equal(conn.recv(3).toString(), 'dup');
  const fd = d.detach();
  assert.equal(d.closed, true);
  io.Socket.fromFd(fd).close();
  // What Winsock lacks: sendmsg/recvmsg with ancillary data and fd passing.
  assert.throws(() => conn.sendMsg([Buffer.from('x')]), { code: 'ENOSYS' });
  assert.throws(() => io.sendFds(conn, [Buffer.from('x')], [1]), { code: 'ENOSYS' });
  assert.throws(() => new io.Socket().connect(['::1', 1]), { code: 'EAFNOSUPPORT' });
  srv.close();
  const refused = new io.Socket();
  const err = assert.throws(() => refused.connect(['127.0.0.1', port]), (e) => {
    assert.equal(e.code, 'ECONNREFUSED');
    assert.ok(e.message.includes(`connect ECONNREFUSED 127.0.0.1:${port}`), e.message);
    assert.equal(e.port, port);
    return true;
  });
  void err;
  refused.close();
  conn.close();
  assert.throws(() => io.select([-1], [], [], 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => new io.Socket().send('x'), { code: 'ERR_INVALID_ARG_TYPE' });
});

check('bad input: TypeError / RangeError, never a crash', () => {
  assert.throws(() => io.select(['3'], [], [], 0), TypeError);
  assert.throws(() => io.select([-1], [], [], 0), RangeError);
  assert.throws(() => io.select([], [], [], NaN), TypeError);
  const s = new io.Socket();
  assert.throws(() => s.recv(-1), RangeError);
  assert.throws(() => s.send('text'), TypeError);
  assert.throws(() => s.recvInto(Buffer.alloc(4), 2, 3), RangeError);
  assert.throws(() => s.connect(['127.0.0.1', 70000]), RangeError);
  s.close();
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

asyncChecks.push(['selectAsync: abort, close while pending, busy', async () => {
  const [a, b] = io.socketpair();
  const sel = new io.SelectSelector();
  sel.register(a, io.EVENT_READ);
  const ac = new AbortController();
  const p1 = sel.selectAsync(null, { signal: ac.signal });
  await assert.rejects(sel.selectAsync(0), { code: 'ERR_IOMUX_BUSY' });
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(p1, { name: 'AbortError' });
  const p2 = sel.selectAsync(null);
  setTimeout(() => sel.close(), 50);
  assert.deepEqual(await p2, []);
  a.close();
  b.close();
}]);

asyncChecks.push(['TCP echo through the echo server code, with a Node net client', async () => {
  const net = require('node:net');
  const { EchoServer } = require(path.join(pkg, '..', '..', 'demos', 'servers', 'echo-server.js'));
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
