// Calls every native function of the addon, on success and on error paths, so
// that scripts/valgrind.sh can run it under memcheck. Loopback only. Prints a
// count of the calls it made; any unexpected outcome throws (exit code 1).
//
//   node --expose-gc scripts/valgrind-exercise.js [rounds]
'use strict';
const path = require('node:path');
const assert = require('node:assert/strict');
const { Worker, isMainThread, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const os = require('node:os');

const root = path.join(__dirname, '../..');
const io = require(path.join(root, 'dist', 'index.js'));
const { native } = require(path.join(root, 'dist', 'binding.js'));
const C = native.socketConstants;

let calls = 0;
function ok(fn) {
  calls++;
  return fn();
}
// Expects fn to throw an error of class cls and, if given, with this code.
function fails(fn, cls, code) {
  calls++;
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e && e.stack}`);
    if (code) assert.equal(e.code, code, e.message);
    return e;
  }
  throw new Error(`did not throw: ${fn}`);
}

const BIG_CLOSED = 1_000_000; // above any RLIMIT_NOFILE here: always EBADF

function lowLevel() {
  // select()
  const [r, w] = ok(() => native.pipe());
  fs.writeSync(w, 'x');
  let res = ok(() => io.select([r], [w], [r, w], 0));
  assert.deepEqual(res, [[r], [w], []]);
  res = ok(() => io.select([], [], [], 1));
  ok(() => native.select([r], [w], [], undefined));
  fails(() => native.select([BIG_CLOSED], [], [], 0), RangeError);
  fails(() => native.select([1.5], [], [], 0), TypeError);
  fails(() => native.select([r], [], [], NaN), TypeError);
  fails(() => native.select({}, [], [], 0), TypeError);
  const sparse = [];
  sparse.length = 5000;
  fails(() => native.select(sparse, [], [], 0), RangeError);
  const [cr, cw] = native.pipe();
  native.close(cr);
  native.close(cw);
  fails(() => native.select([cr], [], [], 0), Error, 'EBADF');

  // Poll, raw
  const p = new io.Poll();
  ok(() => p.register(r, io.POLLIN));
  ok(() => p.register(w));
  ok(() => p.modify(w, io.POLLOUT));
  assert.equal(ok(() => p.poll(0)).length, 2);
  ok(() => p.poll(1));
  ok(() => p.unregister(w));
  fails(() => p.unregister(w), Error, 'ENOENT');
  fails(() => p.modify(w, io.POLLIN), Error, 'ENOENT');
  fails(() => p.register(r, 1 << 30), RangeError);
  ok(() => p.register(BIG_CLOSED, io.POLLIN)); // POLLNVAL at the next wait
  ok(() => p.poll(0));
  ok(() => p.unregister(BIG_CLOSED));

  // Epoll, raw
  const ep = new io.Epoll();
  ok(() => ep.register(r, io.EPOLLIN | io.EPOLLET));
  fails(() => ep.register(r, io.EPOLLIN), Error, 'EEXIST');
  ok(() => ep.register(w, io.EPOLLOUT));
  ok(() => ep.modify(w, io.EPOLLOUT | io.EPOLLONESHOT));
  assert.equal(ok(() => ep.poll(0)).length, 2);
  ok(() => ep.poll(0, 1));
  ok(() => ep.poll(1));
  ok(() => ep.unregister(w));
  fails(() => ep.unregister(w), Error, 'ENOENT');
  fails(() => ep.register(BIG_CLOSED), Error, 'EBADF');
  fails(() => ep.poll(0, 0), RangeError);
  const fd = ok(() => ep.fileno());
  const adopted = ok(() => io.Epoll.fromFd(require('node:fs').openSync('/dev/null', 'r')));
  fails(() => adopted.register(r), Error); // not an epoll fd: EINVAL
  ok(() => adopted.close());
  ok(() => ep.close());
  ok(() => ep.close());
  fails(() => ep.fileno(), Error, 'ERR_IOMUX_CLOSED');
  fails(() => ep.poll(0), Error, 'ERR_IOMUX_CLOSED');
  assert.ok(fd > 2);
  fails(() => io.Epoll.fromFd(BIG_CLOSED), Error, 'EBADF');

  // Raw native sets with a caller's results array.
  // [constructor, read mask, write mask]: selector sets take EVENT_READ/WRITE, Poll/Epoll POLL*/EPOLL*.
  for (const [make, rd, wr] of [
    [(a) => new native.SelectSet(a), 1, 2],
    [(a) => new native.PollSet(a), 1, 2],
    [(a) => new native.EpollSet(a), 1, 2],
    [(a) => new native.Poll(a), io.POLLIN, io.POLLOUT],
    [(a) => new native.Epoll(a), io.EPOLLIN, io.EPOLLOUT],
  ]) {
    const set = ok(() => make(new Int32Array(2)));
    ok(() => set.add(r, rd));
    ok(() => set.add(w, rd));
    ok(() => set.modify(w, wr));
    assert.equal(ok(() => set.wait(0)), 1); // room for one pair only
    ok(() => set.setResults(new Int32Array(8)));
    assert.equal(ok(() => set.wait(0)), 2);
    ok(() => set.remove(w));
    fails(() => set.setResults(new Uint32Array(8)), TypeError);
    fails(() => set.modify(r, 1 << 27), RangeError);
    ok(() => set.close());
  }
  // A results array whose buffer is detached (transferred) or shrunk after the
  // set got it: the wait must not write through the old pointer.
  for (const make of [(a) => new native.SelectSet(a), (a) => new native.PollSet(a), (a) => new native.EpollSet(a)]) {
    const arr = new Int32Array(1024);
    const set = make(arr);
    set.add(w, 2);
    structuredClone(arr.buffer, { transfer: [arr.buffer] });
    assert.equal(ok(() => set.wait(0)), 0);
    const rab = new ArrayBuffer(64, { maxByteLength: 64 });
    ok(() => set.setResults(new Int32Array(rab)));
    rab.resize(4);
    assert.equal(ok(() => set.wait(0)), 0);
    set.close();
  }
  // sendTo whose address getter detaches the data buffer: nothing is read from it.
  {
    const [s1, s2] = native.socketpair(C.AF_UNIX, C.SOCK_DGRAM);
    const data = new Uint8Array(new ArrayBuffer(4096));
    const addr = ['127.0.0.1', 9];
    Object.defineProperty(addr, 0, { get: () => (structuredClone(data.buffer, { transfer: [data.buffer] }), '127.0.0.1') });
    fails(() => native.sendTo(s1, data, C.AF_INET, addr), Error, 'EINVAL'); // an AF_UNIX socket; the point is no stale read
    native.close(s1);
    native.close(s2);
  }
  fails(() => new native.SelectSet({}), TypeError);
  fails(() => new native.Poll(new Int32Array(2).buffer), TypeError);
  fails(() => native.Poll.prototype.add.call({}, 1, 1), Error);

  native.close(r);
  native.close(w);
}

function sockets() {
  // TCP over IPv4 loopback, blocking and non-blocking.
  const srv = ok(() => new io.Socket(io.AF_INET, io.SOCK_STREAM));
  ok(() => srv.setsockopt(io.SOL_SOCKET, io.SO_REUSEADDR, 1));
  ok(() => srv.bind(['127.0.0.1', 0]));
  ok(() => srv.listen());
  const addr = ok(() => srv.getsockname());
  ok(() => srv.setBlocking(false));
  assert.equal(ok(() => srv.getBlocking()), false);
  assert.equal(ok(() => srv.accept()), null);

  const cli = ok(() => new io.Socket());
  ok(() => cli.setBlocking(false));
  ok(() => cli.connect(addr));
  ok(() => io.select([], [cli], [], 5000));
  assert.equal(ok(() => cli.connectError()), null);
  ok(() => cli.getpeername());
  ok(() => io.select([srv], [], [], 5000));
  const [conn, peer] = ok(() => srv.accept());
  assert.ok(Array.isArray(peer));
  ok(() => conn.setsockopt(io.IPPROTO_TCP, io.TCP_NODELAY, true));
  ok(() => conn.getsockopt(io.IPPROTO_TCP, io.TCP_NODELAY));
  ok(() => conn.setsockopt(io.SOL_SOCKET, io.SO_LINGER, 1));
  assert.equal(ok(() => conn.getsockopt(io.SOL_SOCKET, io.SO_LINGER)), 1);
  ok(() => conn.setsockopt(io.SOL_SOCKET, io.SO_LINGER, -1));
  fails(() => conn.setsockopt(io.SOL_SOCKET, 9999, 1), Error, 'ENOPROTOOPT');
  fails(() => conn.getsockopt(io.SOL_SOCKET, 9999), Error, 'ENOPROTOOPT');

  const payload = Buffer.alloc(3 * 1024 * 1024, 7);
  ok(() => cli.setBlocking(true));
  const sent = ok(() => cli.send(payload, 1, 100));
  assert.equal(sent, 100);
  ok(() => conn.setBlocking(false));
  const got = ok(() => conn.recv(50));
  assert.equal(got.length, 50);
  const into = Buffer.alloc(64);
  assert.equal(ok(() => conn.recvInto(into.subarray(3), 1, 50)), 50);
  assert.equal(ok(() => conn.recv(10)), null);
  fails(() => cli.send(payload, 5, payload.length), RangeError);
  fails(() => conn.recv(-1), RangeError);
  fails(() => conn.recvInto('x'), TypeError);
  // A large read: the one-off buffer path (> 1 MiB).
  ok(() => cli.send(Buffer.from('hello')));
  ok(() => io.select([conn], [], [], 5000));
  assert.equal(ok(() => conn.recv(2 * 1024 * 1024)).toString(), 'hello');
  // Non-blocking sendAll that fills the buffer: EAGAIN with bytesSent.
  ok(() => cli.setBlocking(false));
  ok(() => cli.setsockopt(io.SOL_SOCKET, io.SO_SNDBUF, 4096));
  ok(() => cli.getsockopt(io.SOL_SOCKET, io.SO_SNDBUF));
  const e = fails(() => cli.sendAll(payload), Error, 'EAGAIN');
  assert.ok(e.bytesSent > 0);
  // Drain some, then close the reader with unread data: the writer gets a reset.
  ok(() => conn.recv(1 << 16));
  ok(() => conn.shutdown(io.SHUT_RD));
  fails(() => conn.shutdown(7), RangeError);
  ok(() => conn.close());
  ok(() => conn.close());
  fails(() => conn.recv(1), Error, 'EBADF');
  for (let i = 0; i < 50; i++) {
    try {
      cli.send(payload);
    } catch (err) {
      assert.ok(['EPIPE', 'ECONNRESET'].includes(err.code), err.message);
      break;
    }
  }
  ok(() => cli.close());
  ok(() => srv.close());

  // Refused connection on a port nothing listens on.
  const probe = new io.Socket();
  probe.bind(['127.0.0.1', 0]);
  const freePort = probe.getsockname()[1];
  probe.close();
  const refused = new io.Socket();
  refused.setBlocking(false);
  ok(() => refused.connect(['127.0.0.1', freePort]));
  ok(() => io.select([], [refused], [], 5000));
  const ce = ok(() => refused.connectError());
  assert.equal(ce && ce.code, 'ECONNREFUSED');
  const blocking = new io.Socket();
  fails(() => blocking.connect(['127.0.0.1', freePort]), Error, 'ECONNREFUSED');
  blocking.close();
  refused.close();

  // UDP over IPv6 loopback and a host name from /etc/hosts.
  const u1 = ok(() => new io.Socket(io.AF_INET6, io.SOCK_DGRAM));
  ok(() => u1.bind(['::1', 0]));
  const u2 = new io.Socket(io.AF_INET6, io.SOCK_DGRAM);
  ok(() => u2.setsockopt(io.IPPROTO_IPV6, io.IPV6_V6ONLY, 1));
  ok(() => u2.sendTo(Buffer.from('dgram'), u1.getsockname()));
  ok(() => io.select([u1], [], [], 5000));
  const [msg, from] = ok(() => u1.recvFrom(100));
  assert.equal(msg.toString(), 'dgram');
  assert.equal(from[0], '::1');
  u1.setBlocking(false);
  assert.equal(ok(() => u1.recvFrom(100)), null);
  const u4 = new io.Socket(io.AF_INET, io.SOCK_DGRAM);
  ok(() => u4.bind(['localhost', 0]));
  ok(() => u4.sendTo(new Uint8Array(0), u4.getsockname()));
  ok(() => u4.recvFrom(0));
  fails(() => u4.sendTo(Buffer.from('x'), ['127.0.0.1', 70000]), RangeError);
  fails(() => u4.sendTo(Buffer.from('x'), ['127.0.0.1']), TypeError);
  fails(() => u4.sendTo(Buffer.from('x'), ['a\0b', 1]), TypeError);
  fails(() => native.sendTo(u4.fileno(), Buffer.from('x'), 12345, ['127.0.0.1', 1]), Error, 'EAFNOSUPPORT');
  for (const s of [u1, u2, u4]) s.close();

  // AF_UNIX: a path, the abstract namespace, socketpair, fromFd/adopt.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-vg-'));
  const sockPath = path.join(dir, 's');
  const us = ok(() => new io.Socket(io.AF_UNIX, io.SOCK_STREAM));
  ok(() => us.bind(sockPath));
  ok(() => us.listen(4));
  const uc = new io.Socket(io.AF_UNIX, io.SOCK_STREAM);
  ok(() => uc.connect(sockPath));
  const [ua, uaddr] = ok(() => us.accept());
  assert.equal(uaddr, '');
  ok(() => ua.getsockname());
  ok(() => uc.getpeername());
  for (const s of [ua, uc, us]) s.close();
  fs.rmSync(dir, { recursive: true });
  const abs = new io.Socket(io.AF_UNIX, io.SOCK_DGRAM);
  ok(() => abs.bind(`\0iomux-vg-${process.pid}`));
  assert.equal(ok(() => abs.getsockname()), `\0iomux-vg-${process.pid}`);
  abs.close();
  fails(() => new io.Socket(io.AF_UNIX).bind('x'.repeat(200)), RangeError);
  fails(() => new io.Socket(io.AF_UNIX).bind('a\0b'), TypeError);

  const [a, b] = ok(() => io.socketpair());
  const fd = a.fileno();
  const again = ok(() => io.Socket.fromFd(native.socket(io.AF_INET, io.SOCK_DGRAM, 0)));
  again.close();
  ok(() => native.adopt(fd));
  ok(() => b.sendAll(Buffer.from('pair')));
  assert.equal(ok(() => a.recv(10)).toString(), 'pair');
  a.close();
  b.close();
  fails(() => native.adopt(BIG_CLOSED), Error, 'EBADF');
  const [pr, pw] = io.pipe();
  fails(() => native.adopt(pr), Error, 'ENOTSOCK');
  io.close(pr);
  io.close(pw);
  fails(() => io.close(BIG_CLOSED), Error, 'EBADF');
  fails(() => native.socket(12345, 1, 0), Error, 'EAFNOSUPPORT');
  fails(() => native.socketpair(io.AF_INET, io.SOCK_STREAM), Error);
  fails(() => native.setBlocking(BIG_CLOSED, true), Error, 'EBADF');
  fails(() => native.getBlocking(BIG_CLOSED), Error, 'EBADF');
  fails(() => native.listen(BIG_CLOSED), Error, 'EBADF');
  fails(() => native.accept(BIG_CLOSED), Error, 'EBADF');
  fails(() => native.connectError(BIG_CLOSED), Error, 'EBADF');
  fails(() => native.getsockname(BIG_CLOSED), Error, 'EBADF');
  fails(() => native.getpeername(BIG_CLOSED), Error, 'EBADF');
  fails(() => native.recvFrom(BIG_CLOSED, 10), Error, 'EBADF');
  fails(() => native.sendAll(BIG_CLOSED, Buffer.from('x')), Error, 'EBADF');
  fails(() => native.bind(BIG_CLOSED, C.AF_INET, ['127.0.0.1', 0]), Error, 'EBADF');
  const se = ok(() => native.systemError(104, 'read'));
  assert.equal(se.code, 'ECONNRESET');
  ok(() => native.systemError(99999, 'x'));
  fails(() => native.systemError(0, 'x'), RangeError);
}

async function selectors() {
  for (const Sel of [io.SelectSelector, io.PollSelector, io.EpollSelector, io.UringSelector, io.DefaultSelector]) {
    const [a, b] = io.socketpair();
    const sel = ok(() => new Sel());
    ok(() => sel.register(a, io.EVENT_READ, 'a'));
    ok(() => sel.register(b, io.EVENT_WRITE));
    ok(() => sel.modify(b, io.EVENT_READ | io.EVENT_WRITE));
    assert.equal(ok(() => sel.select(0)).length, 1);
    fails(() => sel.register(a, io.EVENT_READ), Error, 'ERR_IOMUX_ALREADY_REGISTERED');
    fails(() => sel.register(a.fileno() + 1000, 4), RangeError);
    ok(() => sel.unregister(b));
    // selectAsync: ready after a write from a timer, then a timeout, then an abort.
    setTimeout(() => b.send(Buffer.from('x')), 5);
    calls++;
    const ready = await sel.selectAsync(5000);
    assert.equal(ready.length, 1);
    a.recv(10);
    calls++;
    assert.deepEqual(await sel.selectAsync(5), []);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 5);
    calls++;
    await assert.rejects(sel.selectAsync(null, { signal: ac.signal }), { name: 'AbortError' });
    // A registration changed during the wait is seen by it.
    const pending = sel.selectAsync(5000);
    setTimeout(() => {
      sel.register(b, io.EVENT_WRITE);
    }, 5);
    calls++;
    assert.equal((await pending).length, 1);
    // Closed while waiting: resolves with [].
    sel.unregister(b);
    const closing = sel.selectAsync(null);
    setTimeout(() => sel.close(), 5);
    calls++;
    assert.deepEqual(await closing, []);
    fails(() => sel.select(0), Error, 'ERR_IOMUX_CLOSED');
    a.close();
    b.close();
    // Dropped without close(): the finalizers free everything.
    const lost = new Sel();
    const [c, d] = io.socketpair();
    lost.register(c, io.EVENT_READ);
    lost.selectAsync(1).catch(() => {});
    await new Promise((res) => setTimeout(res, 20));
    c.close();
    d.close();
  }
  if (global.gc) for (let i = 0; i < 3; i++) global.gc();
}

// A worker that loads the addon, leaves a wait pending and exits: teardown paths.
function worker() {
  return new Promise((resolve, reject) => {
    const w = new Worker(__filename, { argv: ['worker'] });
    w.on('message', (n) => {
      calls += n;
    });
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exit ${code}`))));
  });
}

async function inWorker() {
  const [a, b] = io.socketpair();
  const sels = [new io.SelectSelector(), new io.PollSelector(), new io.EpollSelector(), new io.UringSelector()];
  for (const s of sels) {
    s.register(a, io.EVENT_READ);
    s.selectAsync(null).catch(() => {});
  }
  b.send(Buffer.from('x'));
  io.select([a], [], [], 0);
  parentPort.postMessage(5);
  // Exit with the waits pending, the sockets and selectors open.
  process.exit(0);
}

// Sockets, part 2: every new native function, on success and error paths.
function socketsPart2() {
  const [a, b] = ok(() => io.socketpair());
  const [r, w] = ok(() => io.pipe());
  const fdBytes = new Uint8Array(new Int32Array([r, w]).buffer);
  assert.equal(ok(() => a.sendMsg([Buffer.from('ab'), Buffer.from('c')], [[C.SOL_SOCKET, C.SCM_RIGHTS, fdBytes]])), 3);
  const [data, anc, flags] = ok(() => b.recvMsg(10, native.cmsgSpace(8)));
  assert.equal(data.toString(), 'abc');
  assert.equal(flags, 0);
  for (let i = 0; i < anc[0][2].length; i += 4) ok(() => io.close(anc[0][2].readInt32LE(i)));
  ok(() => a.sendMsg([Buffer.from('x')], [[C.SOL_SOCKET, C.SCM_RIGHTS, new Uint8Array(new Int32Array([r, w, r]).buffer)]]));
  const cut = ok(() => b.recvMsg(1, native.cmsgLen(4)));
  assert.ok(cut[2] & C.MSG_CTRUNC);
  for (const [, , d] of cut[1]) for (let i = 0; i + 4 <= d.length; i += 4) ok(() => io.close(d.readInt32LE(i)));
  ok(() => io.sendFds(a, [Buffer.from('f')], [r]));
  const [, got] = ok(() => io.recvFds(b, 1, 4));
  got.forEach((fd) => ok(() => io.close(fd)));
  fails(() => io.sendFds(a, [Buffer.from('x')], new Array(10000).fill(r)), Error, 'EINVAL');
  fails(() => a.sendMsg([Buffer.from('x')], [[C.SOL_SOCKET, C.SCM_RIGHTS, Buffer.alloc(2 << 20)]]), RangeError);
  fails(() => a.sendMsg(new Array(2000).fill(Buffer.from('x'))), RangeError);
  fails(() => native.recvMsg(BIG_CLOSED, 1, 16), Error, 'EBADF');
  // A buffers array whose getter detaches an earlier buffer: pointers are taken after every getter ran.
  const victim = new Uint8Array(new ArrayBuffer(64));
  const list = [victim];
  Object.defineProperty(list, 1, { get() { structuredClone(victim.buffer, { transfer: [victim.buffer] }); return Buffer.from('y'); } });
  ok(() => a.sendMsg(list));
  ok(() => b.recv(100));
  // Flags, recvFromInto, raw options, dup/detach, waitFd.
  a.send(Buffer.from('peek'));
  assert.equal(ok(() => b.recv(4, C.MSG_PEEK)).toString(), 'peek');
  const into = Buffer.alloc(8);
  assert.deepEqual(ok(() => b.recvFromInto(into, 2, 4)), [4, null]);
  assert.equal(ok(() => b.recv(4, C.MSG_DONTWAIT)), null);
  assert.equal(ok(() => a.getsockopt(C.SOL_SOCKET, C.SO_PEERCRED, 12)).readInt32LE(0), process.pid);
  fails(() => a.getsockopt(C.SOL_SOCKET, C.SO_TYPE, 2000), RangeError);
  const u = ok(() => new io.Socket(io.AF_INET, io.SOCK_DGRAM));
  ok(() => u.setsockopt(C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, Buffer.from([239, 1, 2, 3, 127, 0, 0, 1])));
  fails(() => u.setsockopt(C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, Buffer.alloc(1)), Error, 'EINVAL');
  const d = ok(() => a.dup());
  ok(() => io.close(d.detach()));
  assert.equal(ok(() => native.waitFd(b.fileno(), false, 1)), false);
  assert.equal(ok(() => native.waitFd(a.fileno(), true, 1)), true);
  fails(() => native.waitFd(BIG_CLOSED, false, 0), Error, 'EBADF');
  u.setTimeout(5);
  fails(() => u.recv(10), Error, 'ETIMEDOUT');
  // Resolver, scope ids, address-naming errors.
  assert.ok(ok(() => io.getaddrinfo('127.0.0.1', 80)).length > 0);
  assert.deepEqual(ok(() => io.getaddrinfo('fe80::1%lo', 80, { flags: C.AI_NUMERICHOST }))[0].address, ['fe80::1%lo', 80]);
  fails(() => io.getaddrinfo('x', 80, { flags: C.AI_NUMERICHOST }), Error, 'ENOTFOUND');
  assert.deepEqual(ok(() => io.getnameinfo(['fe80::1', 80, 0, 1], C.NI_NUMERICHOST | C.NI_NUMERICSERV)), ['fe80::1%lo', '80']);
  fails(() => io.getnameinfo(['::1', 80, -1, 0]), RangeError);
  const e = fails(() => new io.Socket().connect(['::1', 1]), Error, 'EAFNOSUPPORT');
  assert.equal(e.address, '::1');
  const srv = ok(() => io.createServer(['127.0.0.1', 0]));
  const c = ok(() => io.createConnection(['127.0.0.1', srv.getsockname()[1]], { timeoutMs: 1000 }));
  ok(() => native.connectError(c.fileno(), io.AF_INET, ['127.0.0.1', 1]));
  ok(() => native.systemError(111, 'connect', io.AF_INET, ['127.0.0.1', 1]));
  for (const s of [a, b, u, srv, c]) ok(() => s.close());
  ok(() => io.close(r));
  ok(() => io.close(w));
}

async function main() {
  if (!isMainThread) return inWorker();
  const rounds = Number(process.argv[2] ?? 1);
  const start = Date.now();
  for (let i = 0; i < rounds; i++) {
    lowLevel();
    sockets();
    socketsPart2();
    await selectors();
    await worker();
  }
  if (global.gc) global.gc();
  console.log(`valgrind-exercise: ${calls} checked calls in ${rounds} round(s), ${Date.now() - start} ms`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
