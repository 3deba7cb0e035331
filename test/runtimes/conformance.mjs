// Runtime-neutral conformance checks of the BUILT package (dist/ and the addon
// that node-gyp-build finds: build/Release or prebuilds/), in plain JavaScript
// with no test runner, so that node, bun and deno run the same file:
//   node test/runtimes/conformance.mjs
//   bun test/runtimes/conformance.mjs
//   deno run -A test/runtimes/conformance.mjs
// Options (or the environment):
//   --addon PATH    load this .node file instead (IOMUX_ADDON_PATH; e.g. the
//                   musl prebuild under a musl runtime)
//   --package DIR   the package root (default: this repository)
//   --only TEXT     run only the checks whose name contains TEXT
// Each check has its own time limit; a failing one prints its reason. The last
// line is `N passed, N failed` (`, N skipped` when some are skipped, each with
// its reason); the exit code is 1 when any check failed.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

const args = process.argv.slice(2);
function option(name) {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  if (i + 1 >= args.length) usage(`${name} needs a value`);
  return args[i + 1];
}
function usage(why) {
  console.error(`conformance: ${why}\nusage: conformance.mjs [--addon FILE.node] [--package DIR] [--only TEXT]`);
  process.exit(2);
}
for (let i = 0; i < args.length; i += 2) {
  if (!['--addon', '--package', '--only'].includes(args[i])) usage(`unknown argument ${args[i]}`);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = path.resolve(option('--package') ?? path.join(here, '..', '..'));
const addon = option('--addon') ?? process.env.IOMUX_ADDON_PATH;
const only = option('--only');
if (addon !== undefined) {
  if (!fs.existsSync(addon)) usage(`--addon ${addon}: no such file`);
  // dist/binding.js reads it when it loads.
  process.env.IOMUX_ADDON_PATH = path.resolve(addon);
}

function runtimeName() {
  if (globalThis.Bun) return `bun ${globalThis.Bun.version}`;
  if (globalThis.Deno) return `deno ${globalThis.Deno.version.deno}`;
  return `node ${process.version}`;
}
function libc() {
  if (process.platform !== 'linux') return process.platform;
  try {
    // The dynamic loader the runtime itself runs under says which libc it is.
    const maps = fs.readFileSync('/proc/self/maps', 'utf8');
    if (/ld-musl|linux-musl|libc\.musl/.test(maps)) return 'musl';
    if (/libc\.so\.6|ld-linux/.test(maps)) {
      const h = process.report?.getReport?.().header;
      return h?.glibcVersionRuntime ? `glibc ${h.glibcVersionRuntime}` : 'glibc';
    }
  } catch { /* no /proc */ }
  return 'libc unknown';
}

const rt = runtimeName();
const RUNTIME = rt.split(' ')[0];
console.log(`conformance: ${rt} on ${process.platform}-${process.arch} (${libc()}), Node-API ${process.versions?.napi ?? '?'}`);
console.log(`conformance: package ${pkgDir}${addon ? `, addon ${process.env.IOMUX_ADDON_PATH}` : ''}`);

const require = createRequire(path.join(pkgDir, 'package.json'));
let m;
try {
  m = require(pkgDir);
} catch (err) {
  // The whole script depends on this: say which call failed and why.
  console.log(`FAIL load the package: require(${JSON.stringify(pkgDir)}) threw ${err?.name}: ${err?.message}`);
  try {
    const file = addon ? path.resolve(addon) : require('node-gyp-build').resolve(pkgDir);
    const mod = { exports: {} };
    process.dlopen(mod, file);
    console.log(`  process.dlopen(${file}) on its own works: the failure is in the JavaScript around it`);
  } catch (e2) {
    console.log(`  process.dlopen of the addon: ${e2?.name}: ${e2?.message}`);
  }
  console.log('0 passed, 1 failed');
  process.exit(1);
}
try {
  const { fdWatch } = require(path.join(pkgDir, 'dist', 'binding.js'));
  console.log(`conformance: selectAsync on epoll/io_uring waits ${fdWatch ? "in the runtime's loop (uv_poll)" : 'on a waiter thread (no uv_poll)'}`);
} catch { /* an older dist/ */ }
if (addon) console.log(`conformance: loaded ${process.env.IOMUX_ADDON_PATH}`);
else {
  try { console.log(`conformance: loaded ${path.relative(pkgDir, require('node-gyp-build').resolve(pkgDir))}`); } catch { /* printed by the checks */ }
}

// --- the harness -------------------------------------------------------------
const checks = [];
// gaps: { bun|deno|node: reason }: a known gap of that runtime, not of iomux.
// The check still runs there; a failure counts as skipped with the reason and
// the error, a pass says that the gap is gone.
function check(name, fn, { timeout = 5000, skip, gaps } = {}) { checks.push({ name, fn, timeout, skip, gaps }); }
class CheckError extends Error {}
function assert(cond, msg) { if (!cond) throw new CheckError(msg); }
function eq(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  assert(a === e, `${what}: expected ${e}, got ${a}`);
}
/** fn() must throw (or reject) an error of class Type with the given code. */
async function throwsLike(fn, Type, code, what) {
  let err;
  try { await fn(); } catch (e) { err = e; }
  assert(err !== undefined, `${what}: did not throw`);
  assert(!Type || err instanceof Type, `${what}: threw ${err?.name} (${err?.code}: ${err?.message}), expected ${Type?.name}`);
  assert(!code || err.code === code, `${what}: code ${err?.code} (${err?.message}), expected ${code}`);
  return err;
}
/** A sync call that must throw synchronously, not return a promise. */
function throwsSync(fn, Type, code, what) {
  let err, ret;
  try { ret = fn(); } catch (e) { err = e; }
  if (ret && typeof ret.then === 'function') ret.catch(() => {});
  assert(err !== undefined, `${what}: did not throw${ret && typeof ret.then === 'function' ? ' (returned a promise)' : ''}`);
  assert(!Type || err instanceof Type, `${what}: threw ${err?.name} (${err?.code}: ${err?.message}), expected ${Type?.name}`);
  assert(!code || err.code === code, `${what}: code ${err?.code} (${err?.message}), expected ${code}`);
  return err;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

async function runAll() {
  let passed = 0, failed = 0, skipped = 0;
  for (const c of checks) {
    if (only && !c.name.includes(only)) continue;
    const skip = typeof c.skip === 'function' ? c.skip() : c.skip;
    if (skip) { skipped++; console.log(`skip ${c.name} (${skip})`); continue; }
    const cleanup = [];
    const track = (x) => { cleanup.push(x); return x; };
    let timer;
    const start = now();
    try {
      await Promise.race([
        (async () => c.fn(track))(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new CheckError(`timed out after ${c.timeout} ms`)), c.timeout); }),
      ]);
      passed++;
      console.log(`ok   ${c.name} (${Math.round(now() - start)} ms)${c.gaps?.[RUNTIME] ? ` (the known ${RUNTIME} gap is gone: ${c.gaps[RUNTIME]})` : ''}`);
    } catch (err) {
      const gap = c.gaps?.[RUNTIME];
      if (gap) {
        skipped++;
        console.log(`skip ${c.name} (${RUNTIME} gap: ${gap}; got ${err?.code ?? err?.name}: ${String(err?.message).split('\n')[0]})`);
        continue;
      }
      failed++;
      const why = err instanceof CheckError ? err.message : `${err?.name}${err?.code ? ` ${err.code}` : ''}: ${err?.message}`;
      console.log(`FAIL ${c.name}: ${why}`);
      if (!(err instanceof CheckError) && err?.stack) console.log(err.stack.split('\n').slice(1, 4).join('\n'));
    } finally {
      clearTimeout(timer);
      for (const x of cleanup.reverse()) {
        try { if (typeof x === 'number') m.close(x); else x.close(); } catch { /* already closed */ }
      }
    }
  }
  return { passed, failed, skipped };
}

// --- what this machine has ---------------------------------------------------
const LINUX = process.platform === 'linux';
const WINDOWS = process.platform === 'win32';
function uringUnavailable() {
  if (!LINUX) return 'io_uring is Linux-only';
  try { new m.UringSelector().close(); return undefined; } catch (e) {
    if (e.code === 'ENOSYS' || e.code === 'EPERM') return `io_uring unavailable here: ${e.code} (${e.message})`;
    return undefined; // any other error is for the checks to report
  }
}
const backends = [
  ['select', () => new m.SelectSelector(), undefined],
  ['poll', () => new m.PollSelector(), WINDOWS ? 'poll(2) is not on Windows' : undefined],
  ['epoll', () => new m.EpollSelector(), LINUX ? undefined : 'epoll is Linux-only'],
  ['io_uring', () => new m.UringSelector(), uringUnavailable()],
];
const { EVENT_READ: R, EVENT_WRITE: W } = m;

// A connected non-blocking pair; socketpair() gives blocking sockets.
function pair(track) {
  const [a, b] = m.socketpair();
  track(a); track(b);
  a.setBlocking(false); b.setBlocking(false);
  return [a, b];
}
// A listening TCP socket on 127.0.0.1, any free port.
function listener(track) {
  const srv = track(new m.Socket(m.AF_INET, m.SOCK_STREAM));
  srv.setsockopt(m.SOL_SOCKET, m.SO_REUSEADDR, 1);
  srv.bind(['127.0.0.1', 0]);
  srv.listen();
  return [srv, srv.getsockname()[1]];
}

// --- loading -----------------------------------------------------------------
check('load: the exports are there', () => {
  for (const name of ['select', 'Poll', 'Epoll', 'Socket', 'socketpair', 'pipe', 'SelectSelector', 'PollSelector',
    'EpollSelector', 'KqueueSelector', 'UringSelector', 'DefaultSelector', 'EventLoop', 'AbortError']) {
    assert(typeof m[name] === 'function', `${name} is ${typeof m[name]}`);
  }
  eq([R, W], [1, 2], 'EVENT_READ, EVENT_WRITE');
  assert(Number.isInteger(m.FD_SETSIZE) && m.FD_SETSIZE >= 64, `FD_SETSIZE ${m.FD_SETSIZE}`);
});
check('load: DefaultSelector is epoll on Linux, poll on other POSIX, select on Windows', () => {
  const saved = process.env.IOMUX_BACKEND;
  delete process.env.IOMUX_BACKEND;
  try {
    const s = new m.DefaultSelector();
    const want = LINUX ? 'epoll' : WINDOWS ? 'select' : process.platform === 'darwin' || process.platform.endsWith('bsd') ? ['kqueue', 'poll'] : 'poll';
    const ok = Array.isArray(want) ? want.includes(s.backend) : s.backend === want;
    s.close();
    assert(ok, `backend ${s.backend}, expected ${want}`);
  } finally { if (saved !== undefined) process.env.IOMUX_BACKEND = saved; }
});
check('load: IOMUX_BACKEND=poll picks PollSelector at new DefaultSelector()', () => {
  const saved = process.env.IOMUX_BACKEND;
  process.env.IOMUX_BACKEND = WINDOWS ? 'select' : 'poll';
  try {
    const s = new m.DefaultSelector();
    const b = s.backend; s.close();
    eq(b, WINDOWS ? 'select' : 'poll', 'backend');
  } finally { if (saved === undefined) delete process.env.IOMUX_BACKEND; else process.env.IOMUX_BACKEND = saved; }
});
check('load: KqueueSelector where there is no kqueue throws ENOSYS', () => {
  if (process.platform === 'darwin' || process.platform.endsWith('bsd')) return; // it exists there
  throwsSync(() => new m.KqueueSelector(), Error, 'ENOSYS', 'new KqueueSelector()');
});

// --- selectors, on every backend ---------------------------------------------
for (const [name, make, unavailable] of backends) {
  const opts = { skip: unavailable };
  check(`selector ${name}: register, select, modify, unregister, close`, (track) => {
    const s = track(make());
    eq(s.backend, name, 'backend');
    const [a, b] = pair(track);
    const key = s.register(a, R, 'data-a');
    eq([key.fd, key.events, key.data, key.fileobj === a], [a.fileno(), R, 'data-a', true], 'key');
    assert(Object.isFrozen(key), 'the key is not frozen');
    eq(s.select(0), [], 'select(0) with nothing to read');
    b.send(Buffer.from('x'));
    let ready = s.select(1000);
    eq(ready.length, 1, 'ready count after the peer wrote');
    assert(ready[0][0] === key && ready[0][1] === R, `ready ${JSON.stringify(ready.map(([k, ev]) => [k.fd, ev]))}`);
    const k2 = s.modify(a, R | W, 'data-b');
    ready = s.select(0);
    eq(ready.map(([k, ev]) => [k === k2, ev]), [[true, R | W]], 'after modify to READ|WRITE');
    assert(s.getKey(a) === k2 && s.getMap().get(a.fileno()) === k2, 'getKey/getMap');
    throwsSync(() => s.register(a, R), Error, 'ERR_IOMUX_ALREADY_REGISTERED', 'register twice');
    assert(s.unregister(a) === k2, 'unregister returns the key');
    throwsSync(() => s.getKey(a), Error, 'ERR_IOMUX_NOT_REGISTERED', 'getKey after unregister');
    eq(s.getMap().size, 0, 'map size');
    s.close(); s.close();
    throwsSync(() => s.select(0), Error, 'ERR_IOMUX_CLOSED', 'select after close');
  }, opts);
  check(`selector ${name}: select(50) waits about 50 ms`, (track) => {
    const s = track(make());
    const [a] = pair(track);
    s.register(a, R);
    const t0 = now();
    const r = s.select(50);
    const dt = now() - t0;
    eq(r, [], 'result');
    assert(dt >= 45 && dt < 2000, `waited ${dt.toFixed(1)} ms`);
  }, opts);
  check(`selector ${name}: a peer that closes is reported readable, and recv() gives EOF`, (track) => {
    const s = track(make());
    const [a, b] = pair(track);
    s.register(a, R);
    b.close();
    const r = s.select(1000);
    eq(r.map(([, ev]) => ev), [R], 'events');
    eq(a.recv(10).length, 0, 'recv at EOF');
  }, opts);
  check(`selector ${name}: selectAsync(timeout) resolves [] after the timeout`, async (track) => {
    const s = track(make());
    const [a] = pair(track);
    s.register(a, R);
    const t0 = now();
    const r = await s.selectAsync(60);
    const dt = now() - t0;
    eq(r, [], 'result');
    assert(dt >= 50 && dt < 3000, `resolved after ${dt.toFixed(1)} ms`);
  }, opts);
  check(`selector ${name}: selectAsync resolves when a peer writes later`, async (track) => {
    const s = track(make());
    const [a, b] = pair(track);
    const key = s.register(a, R);
    let timerRan = false;
    setTimeout(() => { timerRan = true; b.send(Buffer.from('late')); }, 30);
    const r = await s.selectAsync(4000);
    assert(timerRan, 'resolved before the peer wrote: the wait did not let the timer run');
    eq(r.map(([k, ev]) => [k === key, ev]), [[true, R]], 'ready');
    eq(a.recv(16).toString(), 'late', 'data');
  }, opts);
  check(`selector ${name}: selectAsync with an AbortSignal rejects with AbortError`, async (track) => {
    const s = track(make());
    const [a] = pair(track);
    s.register(a, R);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('stop')), 30);
    const t0 = now();
    const err = await throwsLike(() => s.selectAsync(10000, { signal: ac.signal }), m.AbortError, 'ABORT_ERR', 'aborted wait');
    assert(now() - t0 < 3000, 'the abort took too long');
    assert(err.cause?.message === 'stop', `cause ${err.cause}`);
    // Already aborted: rejects at once.
    await throwsLike(() => s.selectAsync(10000, { signal: ac.signal }), m.AbortError, 'ABORT_ERR', 'already aborted');
    // The selector still works afterwards.
    eq(await s.selectAsync(0), [], 'selectAsync(0) after the abort');
  }, opts);
  check(`selector ${name}: selectAsync twice is ERR_IOMUX_BUSY; close() while waiting resolves []`, async (track) => {
    const s = track(make());
    const [a] = pair(track);
    s.register(a, R);
    const first = s.selectAsync(10000);
    await throwsLike(() => s.selectAsync(0), Error, 'ERR_IOMUX_BUSY', 'second selectAsync');
    setTimeout(() => s.close(), 20);
    eq(await first, [], 'the pending wait after close()');
  }, opts);
  check(`selector ${name}: bad input`, async (track) => {
    const s = track(make());
    const [a] = pair(track);
    throwsSync(() => s.register(-1, R), RangeError, undefined, 'register(-1)');
    throwsSync(() => s.register(2 ** 31, R), RangeError, undefined, 'register(2**31)');
    throwsSync(() => s.register('3', R), TypeError, undefined, "register('3')");
    throwsSync(() => s.register({ fileno: () => 1.5 }, R), TypeError, undefined, 'register(fileno 1.5)');
    throwsSync(() => s.register(a, 0), RangeError, undefined, 'register(events 0)');
    throwsSync(() => s.register(a, 8), RangeError, undefined, 'register(events 8)');
    throwsSync(() => s.select(NaN), TypeError, undefined, 'select(NaN)');
    throwsSync(() => s.select('10'), TypeError, undefined, "select('10')");
    await throwsLike(() => s.selectAsync(NaN), TypeError, undefined, 'selectAsync(NaN)');
    let threw = false;
    try { s.selectAsync(NaN).catch(() => {}); } catch { threw = true; }
    assert(!threw, 'selectAsync(NaN) threw instead of rejecting');
    throwsSync(() => s.unregister(a), Error, 'ERR_IOMUX_NOT_REGISTERED', 'unregister unknown');
    // A closed fd: EBADF, and no key is left.
    const [c, d] = m.socketpair();
    const fd = c.fileno(); c.close(); d.close();
    throwsSync(() => s.register(fd, R), Error, 'EBADF', 'register a closed fd');
    eq(s.getMap().size, 0, 'keys after the refused register');
    eq(s.select(-5), [], 'a negative timeout polls once');
  }, opts);
}
check('selector select: an fd >= FD_SETSIZE is a RangeError', (track) => {
  const s = track(new m.SelectSelector());
  throwsSync(() => s.register(m.FD_SETSIZE, R), RangeError, undefined, 'register(FD_SETSIZE)');
}, { skip: WINDOWS ? "Winsock's fd_set limits the count of handles, not their values" : undefined });

// --- low level ---------------------------------------------------------------
check('low level: select() on a socket pair', (track) => {
  const [a, b] = pair(track);
  eq(m.select([a], [], [], 0).map((l) => l.length), [0, 0, 0], 'nothing ready');
  b.send(Buffer.from('x'));
  const [r, w, x] = m.select([a], [b], [], 1000);
  assert(r.length === 1 && r[0] === a && w[0] === b && x.length === 0, 'r/w lists');
});
check('low level: select() bad input', () => {
  throwsSync(() => m.select([-1], [], [], 0), RangeError, undefined, 'select([-1])');
  throwsSync(() => m.select([2 ** 31], [], [], 0), RangeError, undefined, 'select([2**31])');
  throwsSync(() => m.select(['x'], [], [], 0), TypeError, undefined, "select(['x'])");
  throwsSync(() => m.select([], [], [], NaN), TypeError, undefined, 'select timeout NaN');
  throwsSync(() => m.select('nope', [], [], 0), TypeError, undefined, "select('nope')");
  if (!WINDOWS) throwsSync(() => m.select([m.FD_SETSIZE], [], [], 0), RangeError, undefined, 'select([FD_SETSIZE])');
});
check('low level: Poll on a pipe and a socket pair', (track) => {
  const [r, w] = m.pipe(); track(r); track(w);
  const [a, b] = pair(track);
  const p = new m.Poll();
  p.register(r, m.POLLIN);
  p.register(w, m.POLLOUT);
  p.register(a.fileno(), m.POLLIN);
  eq(p.poll(0), [[w, m.POLLOUT]], 'only the pipe\'s write end is ready');
  b.send(Buffer.from('x'));
  eq(p.poll(1000), [[w, m.POLLOUT], [a.fileno(), m.POLLIN]], 'after the peer wrote');
  m.close(w);
  eq(p.poll(1000).map(([fd, ev]) => [fd, ev & (m.POLLHUP | m.POLLNVAL)]), [[r, m.POLLHUP], [w, m.POLLNVAL], [a.fileno(), 0]],
    'after the write end was closed');
  throwsSync(() => p.register(-1, m.POLLIN), RangeError, undefined, 'register(-1)');
  throwsSync(() => p.register(r, 1 << 20), RangeError, undefined, 'unknown bits');
  throwsSync(() => p.poll(NaN), TypeError, undefined, 'poll(NaN)');
  throwsSync(() => p.unregister(b.fileno()), Error, 'ENOENT', 'unregister unknown');
}, { skip: WINDOWS ? 'pipes and poll(2): not on Windows' : undefined });
check('interop: node:fs reads and writes the fds of iomux.pipe()', (track) => {
  const [r, w] = m.pipe(); track(r); track(w);
  eq(fs.writeSync(w, 'via fs'), 6, 'fs.writeSync');
  eq(m.select([r], [], [], 1000)[0], [r], 'select sees it');
  const buf = Buffer.alloc(16);
  eq(buf.toString('utf8', 0, fs.readSync(r, buf, 0, 16, null)), 'via fs', 'fs.readSync');
}, {
  skip: WINDOWS ? 'iomux.pipe() is ENOSYS on Windows' : undefined,
  gaps: { deno: "Deno's node:fs maps fd numbers to its own resources: an fd it did not open is EBADF" },
});
check('low level: Epoll', (track) => {
  const e = track(new m.Epoll());
  const [a, b] = pair(track);
  e.register(a.fileno(), m.EPOLLIN);
  throwsSync(() => e.register(a.fileno(), m.EPOLLIN), Error, 'EEXIST', 'register twice');
  b.send(Buffer.from('x'));
  eq(e.poll(1000), [[a.fileno(), m.EPOLLIN]], 'readable');
  eq(m.EPOLLET, 2 ** 31, 'EPOLLET unsigned');
  throwsSync(() => e.poll(0, 0), RangeError, undefined, 'maxevents 0');
  throwsSync(() => e.poll(NaN), TypeError, undefined, 'poll(NaN)');
  e.close();
  throwsSync(() => e.poll(0), Error, 'ERR_IOMUX_CLOSED', 'poll after close');
}, { skip: LINUX ? undefined : 'epoll is Linux-only' });

// --- raw sockets -------------------------------------------------------------
check('sockets: socketpair send/recv, would-block recv is null', (track) => {
  const [a, b] = pair(track);
  eq(a.recv(10), null, 'recv with nothing to read');
  eq(a.send(Buffer.from('hello')), 5, 'bytes sent');
  eq(b.recv(10).toString(), 'hello', 'received');
  const buf = Buffer.alloc(8);
  eq(b.recvInto(buf), null, 'recvInto with nothing to read');
  a.send(new Uint8Array([1, 2, 3]));
  eq(b.recvInto(buf, 2, 3), 3, 'recvInto bytes');
  eq([...buf.subarray(2, 5)], [1, 2, 3], 'recvInto data');
});
check('sockets: TCP listen/connect/accept/send/recv on 127.0.0.1', (track) => {
  const [srv, port] = listener(track);
  srv.setBlocking(false);
  eq(srv.accept(), null, 'accept with nothing pending');
  const c = track(new m.Socket(m.AF_INET, m.SOCK_STREAM));
  c.setBlocking(false);
  const connected = c.connect(['127.0.0.1', port]);
  assert(typeof connected === 'boolean', `connect returned ${connected}`);
  if (!connected) {
    const [, w] = m.select([], [c], [], 2000);
    eq(w.length, 1, 'writable after connect');
  }
  eq(c.connectError(), null, 'connectError');
  let acc;
  for (let i = 0; i < 100 && !(acc = srv.accept()); i++) m.select([srv], [], [], 20);
  assert(acc, 'accept gave nothing');
  const [s, peer] = acc; track(s);
  eq(peer[0], '127.0.0.1', 'peer host');
  eq(peer[1], c.getsockname()[1], 'peer port');
  eq(c.getpeername(), ['127.0.0.1', port], 'getpeername');
  s.setBlocking(false);
  eq(s.recv(100), null, 'accepted socket: recv would block');
  c.send(Buffer.from('ping'));
  m.select([s], [], [], 1000);
  eq(s.recv(100).toString(), 'ping', 'server got');
  s.sendAll(Buffer.from('pong'));
  m.select([c], [], [], 1000);
  eq(c.recv(100).toString(), 'pong', 'client got');
  c.close();
  m.select([s], [], [], 1000);
  eq(s.recv(100).length, 0, 'EOF after the client closed');
  // Writing to the vanished peer: EPIPE or ECONNRESET, never SIGPIPE.
  let err;
  for (let i = 0; i < 50 && !err; i++) {
    try { s.send(Buffer.alloc(1024)); } catch (e) { err = e; }
    if (!err) m.select([], [], [], 10);
  }
  assert(err && ['EPIPE', 'ECONNRESET'].includes(err.code), `send to a closed peer: ${err?.code ?? 'no error'}`);
});
check('sockets: connect to a closed port gives ECONNREFUSED', (track) => {
  const [srv, port] = listener(track);
  srv.close(); // the port is free now and nothing listens
  const c = track(new m.Socket(m.AF_INET, m.SOCK_STREAM));
  c.setBlocking(false);
  let err;
  try {
    if (!c.connect(['127.0.0.1', port])) {
      m.select([], [c], [], 2000);
      err = c.connectError();
    }
  } catch (e) { err = e; }
  assert(err && err.code === 'ECONNREFUSED', `got ${err?.code ?? 'no error'}`);
  eq([typeof err.errno, err.errno < 0, err.syscall], ['number', true, 'connect'], 'errno, syscall');
});
check('sockets: sendAll on a full non-blocking socket throws EAGAIN with bytesSent', (track) => {
  const [a] = pair(track);
  const err = throwsSync(() => a.sendAll(Buffer.alloc(16 * 1024 * 1024)), Error, 'EAGAIN', 'sendAll');
  assert(Number.isInteger(err.bytesSent) && err.bytesSent > 0, `bytesSent ${err.bytesSent}`);
  eq(a.send(Buffer.alloc(1)), null, 'send on the full socket would block');
});
check('sockets: UDP sendTo/recvFrom on 127.0.0.1', (track) => {
  const u = track(new m.Socket(m.AF_INET, m.SOCK_DGRAM));
  u.bind(['127.0.0.1', 0]);
  u.setBlocking(false);
  eq(u.recvFrom(100), null, 'recvFrom with nothing');
  const v = track(new m.Socket(m.AF_INET, m.SOCK_DGRAM));
  v.bind(['127.0.0.1', 0]);
  eq(v.sendTo(Buffer.from('dgram'), u.getsockname()), 5, 'sendTo');
  m.select([u], [], [], 1000);
  const [data, from] = u.recvFrom(100);
  eq([data.toString(), from], ['dgram', v.getsockname()], 'recvFrom');
});
check('sockets: bad input', (track) => {
  throwsSync(() => new m.Socket('x'), TypeError, undefined, "new Socket('x')");
  throwsSync(() => m.Socket.fromFd(-1), RangeError, undefined, 'fromFd(-1)');
  throwsSync(() => m.Socket.fromFd(2 ** 31), RangeError, undefined, 'fromFd(2**31)');
  const [a] = pair(track);
  throwsSync(() => a.send('text'), TypeError, undefined, "send('text')");
  throwsSync(() => a.recv(-1), RangeError, undefined, 'recv(-1)');
  throwsSync(() => a.recv(NaN), TypeError, undefined, 'recv(NaN)');
  throwsSync(() => a.send(Buffer.alloc(4), 2, 10), RangeError, undefined, 'send past the buffer');
  throwsSync(() => a.bind(['127.0.0.1', 0]), TypeError, undefined, 'AF_UNIX bind to a [host, port]');
  const t = track(new m.Socket(m.AF_INET, m.SOCK_STREAM));
  throwsSync(() => t.bind(['127.0.0.1', 70000]), RangeError, undefined, 'bind port 70000');
  throwsSync(() => t.bind('/tmp/x'), TypeError, undefined, 'AF_INET bind to a path');
  a.close();
  throwsSync(() => a.send(Buffer.alloc(1)), Error, 'EBADF', 'send after close');
  eq(a.fileno(), -1, 'fileno after close');
  throwsSync(() => m.close(-1), RangeError, undefined, 'close(-1)');
});

// --- the EventLoop -----------------------------------------------------------
check('EventLoop: sockConnect, sockAccept, sockSendAll, sockRecv on 127.0.0.1', async (track) => {
  const loop = track(new m.EventLoop());
  const [srv, port] = listener(track);
  const got = await loop.run(async () => {
    const serve = (async () => {
      const [s] = await loop.sockAccept(srv); track(s);
      const chunks = [];
      for (;;) {
        const b = await loop.sockRecv(s, 65536);
        if (b.length === 0) break;
        chunks.push(b);
      }
      await loop.sockSendAll(s, Buffer.from(`got ${Buffer.concat(chunks).length}`));
      s.close();
    })();
    const c = track(new m.Socket(m.AF_INET, m.SOCK_STREAM));
    await loop.sockConnect(c, ['127.0.0.1', port]);
    await loop.sockSendAll(c, Buffer.alloc(1 << 20, 7)); // more than one socket buffer
    c.shutdown(m.SHUT_WR);
    const reply = await loop.sockRecv(c, 100);
    await serve;
    return reply.toString();
  });
  eq(got, `got ${1 << 20}`, 'reply');
}, { timeout: 10000 });
check('EventLoop: callLater order, cancel, callSoon, sleep', async (track) => {
  const loop = track(new m.EventLoop());
  const seen = [];
  await loop.run(async () => {
    loop.callLater(40, () => seen.push('40'));
    loop.callLater(10, () => seen.push('10'));
    const h = loop.callLater(20, () => seen.push('cancelled'));
    h.cancel();
    loop.callSoon(() => seen.push('soon'));
    const t0 = now();
    await loop.sleep(80);
    assert(now() - t0 >= 70, `slept ${now() - t0} ms`);
  });
  eq(seen, ['soon', '10', '40'], 'order');
});
check('EventLoop: sockRecv on a closed peer gives an empty Buffer; addReader runs its callback', async (track) => {
  const loop = track(new m.EventLoop());
  const [a, b] = pair(track);
  const r = await loop.run(async () => {
    let calls = 0;
    const readable = new Promise((resolve) => loop.addReader(a, () => { calls++; loop.removeReader(a); resolve(); }));
    b.send(Buffer.from('z'));
    await readable;
    const first = await loop.sockRecv(a, 10);
    b.close();
    const eof = await loop.sockRecv(a, 10);
    return [calls, first.toString(), eof.length];
  });
  eq(r, [1, 'z', 0], 'calls, data, eof length');
});
check('EventLoop: bad input', async (track) => {
  const loop = track(new m.EventLoop());
  await loop.run(async () => {
    throwsSync(() => loop.callLater(NaN, () => {}), TypeError, undefined, 'callLater(NaN)');
    throwsSync(() => loop.callSoon('x'), TypeError, undefined, "callSoon('x')");
    await throwsLike(() => loop.sockRecv({}, 10), TypeError, undefined, 'sockRecv(not a socket)');
  });
});

const { passed, failed, skipped } = await runAll();
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
// Nothing may keep the runtime alive after the checks (a leaked wait would
// hang here otherwise); the exit code carries the result.
process.exit(failed ? 1 : 0);
