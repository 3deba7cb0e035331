// Native fuzzer: every function and method of the addon (raw binding and the
// public API) called with random argument lists, for a bounded time. Meant to
// run under the ASan build (npm run fuzz:native), where a memory error aborts
// the process; here, any thrown value other than a TypeError, a RangeError or
// an Error with a string `code` (system errors, ERR_IOMUX_*) is a finding.
//
//   node --expose-gc scripts/reliability/fuzz-native.mjs [--seconds 60] [--seed N] [--verbose]
//
// Seeded and reproducible: the seed is printed first; the same seed replays the
// same calls (up to the kernel's timing). It does no damage: fd arguments are
// only ever fds this script created (a pool) or numbers that cannot be open
// (huge or negative); socket families/types are limited to INET/INET6/UNIX
// stream/dgram/seqpacket; addresses are loopback, its own ports, or a temp dir.
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const require = createRequire(import.meta.url);
const ROOT = path.join(path.dirname(new URL(import.meta.url).pathname), '../..');
const io = require(path.join(ROOT, 'dist', 'index.js'));
const { native } = require(path.join(ROOT, 'dist', 'binding.js'));
const SC = native.socketConstants;

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const SECONDS = Number(opt('seconds', 60));
const SEED = Number(opt('seed', Math.floor(Math.random() * 2 ** 32))) >>> 0;
const VERBOSE = argv.includes('--verbose');
console.log(`fuzz-native: seed ${SEED}, ${SECONDS} s${process.env.IOMUX_ADDON_PATH ? `, addon ${process.env.IOMUX_ADDON_PATH}` : ''}`);

// mulberry32: small, fast, good enough for choosing test inputs.
let state = SEED;
function rnd() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rnd() * n);
const pick = (a) => a[int(a.length)];
const chance = (p) => rnd() < p;

// ---- fds the fuzzer owns ----------------------------------------------------
const pool = new Set(); // open fds this script created, all non-blocking
const ports = []; // ports of its own listeners and datagram sockets
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-fuzz-'));
const CLOSED = [1_000_000, 2 ** 31 - 1, 65_536 * 8, 999_999]; // beyond RLIMIT_NOFILE: never open
const POOL_MAX = 96;

function adoptFd(fd) {
  if (typeof fd !== 'number' || fd < 3) return;
  try {
    native.setBlocking(fd, false);
  } catch {
    // a pipe end given back by a fuzzed call is fine; anything else just is not pooled
  }
  pool.add(fd);
  while (pool.size > POOL_MAX) {
    const victim = pick([...pool]);
    pool.delete(victim);
    try {
      native.close(victim);
    } catch {
      // already closed by a fuzzed close(): fine
    }
  }
}

function refill() {
  try {
    const [r, w] = native.pipe();
    adoptFd(r);
    adoptFd(w);
    const [a, b] = native.socketpair(SC.AF_UNIX, pick([SC.SOCK_STREAM, SC.SOCK_DGRAM]));
    adoptFd(a);
    adoptFd(b);
    if (chance(0.3)) {
      const l = native.socket(SC.AF_INET, SC.SOCK_STREAM, 0);
      native.bind(l, SC.AF_INET, ['127.0.0.1', 0]);
      native.listen(l, 8);
      ports.push(native.getsockname(l)[1]);
      adoptFd(l);
      const c = native.socket(SC.AF_INET, SC.SOCK_STREAM, 0);
      adoptFd(c);
      native.connect(c, SC.AF_INET, ['127.0.0.1', ports.at(-1)]);
    }
    if (chance(0.3)) {
      const u = native.socket(pick([SC.AF_INET, SC.AF_INET6]), SC.SOCK_DGRAM, 0);
      const fam = native.adopt(u)[0];
      native.bind(u, fam, [fam === SC.AF_INET ? '127.0.0.1' : '::1', 0]);
      ports.push(native.getsockname(u)[1]);
      adoptFd(u);
    }
    if (ports.length > 64) ports.splice(0, ports.length - 64);
  } catch (e) {
    if (!e.code) throw e;
  }
}

// ---- values -------------------------------------------------------------------
const NUMBERS = [0, -0, 1, -1, 2, 3, 7, 8, 64, 255, 4096, 1023, 1024, 1025, 65535, 65536, 2 ** 31 - 1, 2 ** 31,
  -(2 ** 31), 2 ** 32 - 1, 2 ** 32, 2 ** 53, -(2 ** 53), 1e300, -1e300, NaN, Infinity, -Infinity, 0.5, -0.5, 1.5,
  Number.MIN_VALUE, Number.EPSILON, 1e15, 1e15 + 1];

function number() {
  if (chance(0.5)) return pick(NUMBERS);
  if (chance(0.5)) return int(5000) - 100;
  return (rnd() - 0.5) * 10 ** int(20);
}

function buffer() {
  const size = pick([0, 1, 3, 7, 64, 1000, 4096, 65537, 300_000]);
  const ab = chance(0.1) ? new SharedArrayBuffer(size + 16) : new ArrayBuffer(size + 16);
  const off = int(16);
  const len = Math.min(size, int(size + 1));
  const kind = int(9);
  if (kind === 0) return new Uint16Array(ab, off & ~1, len >> 1);
  if (kind === 1) return new Float64Array(ab, off & ~7, len >> 3);
  if (kind === 2) return new DataView(ab, off, len);
  if (kind === 3) return new Int32Array(ab, off & ~3, len >> 2);
  if (kind === 4 && !(ab instanceof SharedArrayBuffer)) {
    const u = new Uint8Array(ab, off, len);
    structuredClone(ab, { transfer: [ab] }); // detached: length 0 from now on
    return u;
  }
  if (kind === 5) return Buffer.alloc(len, 0x61).subarray(int(3));
  if (kind === 6) {
    const rab = new ArrayBuffer(size + 16, { maxByteLength: size * 2 + 32 });
    return new Uint8Array(rab, off); // length-tracking over a resizable buffer
  }
  return new Uint8Array(ab, off, len);
}

function fileLike() {
  const fd = fd_();
  const k = int(4);
  if (k === 0) return { fileno: () => fd };
  if (k === 1) return { fileno: 'nope' };
  if (k === 2) return { fileno: () => { throw Object.assign(new Error('fuzz getter'), { fuzzerOwn: true }); } };
  return { fileno: () => pick(['1', null, NaN, -1]) };
}

function value(depth = 0) {
  switch (int(14)) {
    case 0: case 1: case 2: return number();
    case 3: return pick(['', 'abc', '127.0.0.1', '::1', '\0abstract', 'a\0b', 'é'.repeat(60), 'x'.repeat(5000)]);
    case 4: return pick([true, false]);
    case 5: return undefined;
    case 6: return null;
    case 7: return buffer();
    case 8: return pick([{}, { length: 3 }, Object.create(null), new Date(0), /re/, new Map()]);
    case 9: {
      if (depth > 1) return [];
      if (chance(0.1)) {
        const sparse = [];
        sparse.length = pick([5000, 2 ** 32 - 1]);
        return sparse;
      }
      return Array.from({ length: int(5) }, () => value(depth + 1));
    }
    case 10: return pick([() => {}, function named() { return 1; }, class K {}, Symbol('s'), 10n]);
    case 11: return fileLike();
    case 12: return fd_();
    default: return new Int32Array(pick([0, 1, 2, 8, 64]));
  }
}

// An fd argument: mostly a pooled fd; otherwise a number that cannot be an open
// fd (or a non-number). Never 0-2 or another part of the process's fds.
function fd_() {
  const r = rnd();
  if (r < 0.75 && pool.size) return pick([...pool]);
  if (r < 0.9) return pick(CLOSED);
  return pick([-1, -0, 0.5, NaN, Infinity, 2 ** 53, '3', null, undefined]);
}
// Whatever random value landed in an fd position: keep it only if it is safe.
function safeFd(v) {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 31 && !pool.has(v) && !CLOSED.includes(v))
    return pick(CLOSED);
  return v;
}

const FAMILIES = [SC.AF_INET, SC.AF_INET6, SC.AF_UNIX];
function family() {
  return chance(0.85) ? pick(FAMILIES) : pick([12345, -1, 1.5, NaN, 'x', undefined]);
}
// Only INET/INET6/UNIX with stream/dgram/seqpacket reach socket(2): root may
// open raw, packet and netlink sockets, which are no place for random bytes.
function safeFamily(v) {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 31 && !FAMILIES.includes(v)) return 12345;
  return v;
}
function safeType(v) {
  if (typeof v === 'number' && Number.isInteger(v) && ![1, 2, 5].includes(((v % 2 ** 31) + 2 ** 31) % 2 ** 31 & 0xf)) return 12345;
  return v;
}
function type() {
  return chance(0.85) ? pick([SC.SOCK_STREAM, SC.SOCK_DGRAM, 5, SC.SOCK_STREAM | 0o4000, SC.SOCK_DGRAM | 0o2000000]) : value();
}

// Addresses: loopback with one of our ports (or 0 / out of range), a path in the
// temp dir, an abstract name, or a malformed value. No name that needs DNS.
function address() {
  const k = int(10);
  const port = ports.length && chance(0.7) ? pick(ports) : pick([0, 0, 70000, -1, 1.5, NaN, '80']);
  if (k < 3) return ['127.0.0.1', port];
  if (k < 5) return ['::1', port];
  if (k === 5) return ['localhost', port];
  if (k === 6) return path.join(tmpDir, `s${int(8)}`);
  if (k === 7) return `\0iomux-fuzz-${process.pid}-${int(8)}`;
  if (k === 8) return pick(['x'.repeat(200), 'a\0b', ['a\0b', 1], ['127.0.0.1'], [1, 2], {}, '']);
  return value();
}
// A random value in an address position: only ours, never the wider world.
function safeAddress(v) {
  if (typeof v === 'string') return v === '' || v.startsWith('\0') || v.includes('\0') || v.length > 150 ? v : path.join(tmpDir, 'r');
  if (Array.isArray(v) && typeof v[0] === 'string') return ['127.0.0.1', v[1]];
  return v;
}

function timeout() {
  // Never a wait that could block the fuzzer: at most a few milliseconds.
  return pick([0, 0, -1, -0, 1, 0.5, 2, NaN, 'x', {}, -Infinity, -1e300]);
}
// Results arrays handed to sets; some are detached later, while a set holds them.
const handedOut = [];
function results() {
  if (!chance(0.9)) return value();
  const a = new Int32Array(pick([0, 1, 2, 4, 8, 64, 1024]));
  if (chance(0.2)) handedOut.push(a);
  if (handedOut.length > 16) handedOut.shift();
  return a;
}
function detachSome() {
  const a = handedOut.splice(int(handedOut.length), 1)[0];
  if (a && a.buffer.byteLength) structuredClone(a.buffer, { transfer: [a.buffer] });
}
function mask() {
  return chance(0.6) ? pick([1, 2, 3, 4, 5, 0x2000, 1 << 31, (1 << 31) | 1, 1 << 30, -1, 0]) : value();
}
function bytesArg() {
  return chance(0.8) ? buffer() : value();
}

// ---- the calls ------------------------------------------------------------------
const sets = []; // native sets and public objects kept across calls
const selectors = [];
let armed = 0;
const seqCallback = () => {
  armed++;
};
const throwingCallback = () => {
  throw Object.assign(new Error('fuzz callback'), { fuzzerOwn: true });
};

const RAW = {
  select: () => [[fd_(), fd_()], chance(0.5) ? [fd_()] : value(), chance(0.8) ? [] : value(), timeout()],
  socket: () => [family(), type(), pick([0, 0, 0, 6, 17, 9999, -1, value()])],
  adopt: () => [fd_()],
  setBlocking: () => [fd_(), chance(0.8) ? pick([true, false]) : value()],
  getBlocking: () => [fd_()],
  bind: () => [fd_(), family(), address()],
  listen: () => [fd_(), chance(0.7) ? pick([undefined, 0, 1, 128, 2 ** 31 - 1, -1]) : value()],
  accept: () => [fd_()],
  connect: () => [fd_(), family(), address()],
  connectError: () => [fd_()],
  send: () => [fd_(), bytesArg(), chance(0.5) ? undefined : number(), chance(0.5) ? undefined : number()],
  sendAll: () => [fd_(), bytesArg()],
  recv: () => [fd_(), chance(0.9) ? pick([0, 1, 100, 65536, 1 << 20, (1 << 20) + 1, 4 << 20, -1, 2 ** 31]) : value()],
  recvInto: () => [fd_(), bytesArg(), chance(0.5) ? undefined : number(), chance(0.5) ? undefined : number()],
  sendTo: () => [fd_(), bytesArg(), family(), address()],
  recvFrom: () => [fd_(), chance(0.9) ? pick([0, 1, 100, 65536, (1 << 20) + 1]) : value()],
  shutdown: () => [fd_(), chance(0.8) ? int(4) - 0 : value()],
  setsockopt: () => [fd_(), pick([SC.SOL_SOCKET, SC.IPPROTO_TCP, SC.IPPROTO_IPV6, 0, value()]),
    pick([SC.SO_REUSEADDR, SC.SO_LINGER, SC.SO_RCVBUF, SC.SO_SNDBUF, SC.SO_KEEPALIVE, SC.TCP_NODELAY, SC.IPV6_V6ONLY, 9999, value()]),
    chance(0.7) ? pick([0, 1, -1, true, false, 4096, 2 ** 31 - 1]) : value()],
  getsockopt: () => [fd_(), pick([SC.SOL_SOCKET, SC.IPPROTO_TCP, SC.IPPROTO_IPV6, 0, value()]),
    pick([SC.SO_ERROR, SC.SO_TYPE, SC.SO_LINGER, SC.SO_RCVBUF, SC.TCP_NODELAY, 9999, value()])],
  getsockname: () => [fd_()],
  getpeername: () => [fd_()],
  socketpair: () => [family(), type()],
  pipe: () => [],
  systemError: () => [chance(0.7) ? pick([1, 9, 104, 99999, 0, -1, 2 ** 31]) : value(), chance(0.8) ? 'recv' : value()],
  close: () => [fd_()],
  // Sockets, part 2.
  recvFromInto: () => [fd_(), bytesArg(), chance(0.5) ? undefined : number(), chance(0.5) ? undefined : number(), chance(0.5) ? undefined : flags()],
  sendMsg: () => [fd_(), chance(0.8) ? Array.from({ length: int(4) }, bytesArg) : value(),
    chance(0.7) ? Array.from({ length: int(3) }, ancItem) : value(), chance(0.5) ? undefined : flags(), family(), chance(0.5) ? undefined : address()],
  recvMsg: () => [fd_(), chance(0.9) ? pick([0, 1, 100, 65536]) : value(), chance(0.8) ? pick([0, 1, 16, 24, 4096, -1, 2 ** 21]) : value(), chance(0.5) ? undefined : flags()],
  cmsgLen: () => [chance(0.8) ? pick([0, 4, 4000, -1, 2 ** 31]) : value()],
  cmsgSpace: () => [chance(0.8) ? pick([0, 4, 4000, -1, 2 ** 31]) : value()],
  dup: () => [fd_()],
  waitFd: () => [fd_(), chance(0.8) ? pick([true, false]) : value(), pick([0, 1, -1, 0.5])],
  getaddrinfo: () => [pick(['127.0.0.1', '::1', 'fe80::1%lo', null, '', '1.2.3.4.5', value()]), pick([0, 80, 'http', null, 70000, -1, value()]),
    chance(0.5) ? undefined : pick([0, SC.AF_INET, SC.AF_INET6, 9999, value()]), chance(0.5) ? undefined : pick([0, SC.SOCK_STREAM, SC.SOCK_DGRAM, value()]),
    undefined, SC.AI_NUMERICHOST | (chance(0.5) ? SC.AI_NUMERICSERV : 0)],
  getnameinfo: () => [chance(0.8) ? [pick(['127.0.0.1', '::1', 'fe80::1%lo', 'x', '']), pick([0, 80, 70000, -1, value()]), ...(chance(0.3) ? [int(4), int(4)] : [])] : value(),
    SC.NI_NUMERICHOST | SC.NI_NUMERICSERV],
};
function flags() {
  return chance(0.8) ? pick([0, SC.MSG_PEEK, SC.MSG_DONTWAIT, SC.MSG_TRUNC, SC.MSG_DONTWAIT | SC.MSG_PEEK]) : value();
}
// An ancillary item for sendMsg: mostly SCM_RIGHTS carrying pooled fds (or closed ones).
function ancItem() {
  if (chance(0.2)) return value();
  const fds = Array.from({ length: int(3) }, () => (chance(0.8) ? safeFd(fd_()) : pick(CLOSED)));
  return [chance(0.9) ? SC.SOL_SOCKET : value(), chance(0.9) ? SC.SCM_RIGHTS : value(), chance(0.9) ? new Uint8Array(new Int32Array(fds).buffer) : bytesArg()];
}
// Positions that hold an fd / a family / a type / an address, per function.
const FD_POS = { select: [], socket: [], socketpair: [], pipe: [], systemError: [], cmsgLen: [], cmsgSpace: [], getaddrinfo: [], getnameinfo: [] };
const FAMILY_POS = { socket: 0, socketpair: 0, bind: 1, connect: 1, sendTo: 2 };
const TYPE_POS = { socket: 1, socketpair: 1 };
const ADDR_POS = { bind: 2, connect: 2, sendTo: 3 };
// Functions that may only ever see pooled fds (they take ownership or close).
const OWNING = new Set(['close', 'adopt']);

function rawArgs(name) {
  let args = RAW[name]();
  if (chance(0.15)) args = Array.from({ length: int(6) }, () => value()); // a wholly random list
  if (chance(0.1)) args = args.slice(0, int(args.length + 1)); // too few
  if (chance(0.05)) args.push(value()); // too many
  const fdPos = FD_POS[name] ?? [0];
  for (const i of fdPos) if (i < args.length) args[i] = safeFd(args[i]);
  if (name === 'select') for (let k = 0; k < 3; k++) if (Array.isArray(args[k]) && args[k].length < 2000) args[k] = args[k].map(safeFd);
  if (name in FAMILY_POS && FAMILY_POS[name] < args.length) args[FAMILY_POS[name]] = safeFamily(args[FAMILY_POS[name]]);
  if (name in TYPE_POS && TYPE_POS[name] < args.length) args[TYPE_POS[name]] = safeType(args[TYPE_POS[name]]);
  if (name in ADDR_POS && ADDR_POS[name] < args.length) args[ADDR_POS[name]] = safeAddress(args[ADDR_POS[name]]);
  if (name === 'waitFd') args[2] = pick([0, 1, -1, 0.5]); // never block
  if (name === 'sendMsg' && args.length > 5 && args[5] !== undefined) args[5] = safeAddress(args[5]);
  if (name === 'sendMsg' && args.length > 4) args[4] = safeFamily(args[4]);
  if (name === 'socket' && args.length > 2 && typeof args[2] === 'number' && ![0, 6, 17, 9999, -1].includes(args[2])) args[2] = 0;
  if (name === 'select' && args.length > 3) args[3] = timeout();
  if (name === 'select' && args.length < 4) args.length = 4, (args[3] = 0);
  if (OWNING.has(name) && !pool.has(args[0])) args[0] = pick(CLOSED);
  return args;
}

// After a call: fds it created join the pool; a closed one leaves it; a socket
// made blocking goes back to non-blocking (the fuzzer must never block).
function afterRaw(name, args, ret) {
  if (name === 'socket' && typeof ret === 'number') adoptFd(ret);
  if ((name === 'socketpair' || name === 'pipe') && Array.isArray(ret)) ret.forEach(adoptFd);
  if (name === 'accept' && Array.isArray(ret)) adoptFd(ret[0]);
  if (name === 'dup' && typeof ret === 'number') adoptFd(ret);
  // Fds received through SCM_RIGHTS are new too: into the pool (and so closed at the end).
  if (name === 'recvMsg' && Array.isArray(ret) && Array.isArray(ret[1])) {
    for (const [level, type, data] of ret[1]) {
      if (level !== SC.SOL_SOCKET || type !== SC.SCM_RIGHTS) continue;
      for (let i = 0; i + 4 <= data.length; i += 4) adoptFd(data.readInt32LE(i));
    }
  }
  if (name === 'close') pool.delete(args[0]);
  if (name === 'setBlocking' && pool.has(args[0])) {
    try {
      native.setBlocking(args[0], false);
    } catch {
      // not a socket or pipe flag we could set: it was not changed either
    }
  }
}

const SET_CTORS = [
  () => new native.SelectSet(results()),
  () => new native.PollSet(results()),
  () => new native.Poll(results()),
  () => new native.EpollSet(results()),
  () => new native.Epoll(results(), epollAdopt()),
  // The ring's options: mostly valid, sometimes not (TypeError/RangeError).
  () => new native.UringSet(results(), chance(0.8) ? pick([undefined, 1, 8, 64]) : pick([0, -1, 1.5, 'x', 1e9]),
    chance(0.9) ? pick([undefined, true, false]) : pick([1, 'yes', null])),
];
// Epoll's second argument adopts an fd (closes it on close): a fresh pipe end
// that leaves the pool, or a number that cannot be open.
function epollAdopt() {
  if (chance(0.85)) return undefined;
  if (chance(0.5)) {
    const [r, w] = native.pipe();
    native.close(w);
    return r; // the Epoll owns it now (and refuses it at the first epoll_ctl: EINVAL)
  }
  return pick([...CLOSED, -1, 'x', 1.5]);
}
const SET_METHODS = {
  add: () => [fd_(), mask()],
  modify: () => [fd_(), mask()],
  remove: () => [fd_(), chance(0.5) ? pick([true, false]) : value()],
  wait: () => [timeout(), chance(0.5) ? undefined : pick([1, 2, 0, -1, 2 ** 31, NaN, 64])],
  setResults: () => [results()],
  arm: () => [chance(0.8) ? (chance(0.9) ? seqCallback : throwingCallback) : value(), chance(0.8) ? int(1000) : value()],
  cancel: () => [],
  close: () => [],
  fileno: () => [],
};

function callRawSet() {
  if (sets.length < 4 || chance(0.05)) {
    try {
      sets.push(pick(SET_CTORS)());
    } catch (e) {
      check(e, 'new set');
    }
    if (sets.length > 24) dropSet();
    return 'new set';
  }
  const set = pick(sets);
  const names = Object.keys(SET_METHODS);
  const m = pick(names);
  let args = SET_METHODS[m]();
  if (m !== 'wait' && m !== 'arm' && chance(0.1)) args = Array.from({ length: int(4) }, () => value());
  if (args.length > 0 && ['add', 'modify', 'remove'].includes(m)) args[0] = safeFd(args[0]);
  if (m === 'wait' && args.length > 0 && typeof args[0] !== 'number') args[0] = chance(0.5) ? 0 : args[0];
  if (m === 'wait' && (args[0] === undefined || args[0] === null)) args[0] = 0;
  const fn = set[m];
  if (typeof fn !== 'function') return m;
  // Sometimes through another object: a method on the wrong receiver.
  const self = chance(0.03) ? pick([{}, sets[0], Object.create(set)]) : set;
  try {
    fn.apply(self, args);
  } catch (e) {
    check(e, `set.${m}`, args);
  }
  return `set.${m}`;
}

function dropSet() {
  const i = int(sets.length);
  const [s] = sets.splice(i, 1);
  // Half are closed, half left to the garbage collector.
  if (chance(0.5)) {
    try {
      s.close();
    } catch (e) {
      check(e, 'set.close');
    }
  }
}

// ---- public API ---------------------------------------------------------------
const SELECTORS = [io.SelectSelector, io.PollSelector, io.EpollSelector, io.UringSelector, io.DefaultSelector];
function fileArg() {
  return chance(0.7) ? fd_() : chance(0.5) ? fileLike() : safeFd(value());
}
async function callPublic() {
  const k = int(6);
  if (k === 0) {
    const r = io.select([fileArg()], chance(0.5) ? [fileArg()] : [], [], timeout());
    return r && 'select';
  }
  if (selectors.length < 3 || chance(0.05)) {
    selectors.push(new (pick(SELECTORS))());
    if (selectors.length > 12) {
      const [s] = selectors.splice(int(selectors.length), 1);
      if (chance(0.5)) s.close();
    }
    return 'new selector';
  }
  const sel = pick(selectors);
  const m = pick(['register', 'register', 'modify', 'unregister', 'select', 'selectAsync', 'getKey', 'getMap', 'close', 'fileno']);
  if (m === 'selectAsync') {
    const ac = chance(0.3) ? new AbortController() : undefined;
    const p = sel.selectAsync(pick([0, 1, 2, -1, NaN, 'x']), ac ? { signal: ac.signal } : undefined);
    if (ac && chance(0.5)) ac.abort();
    if (chance(0.2)) sel.close();
    await p.catch((e) => check(e, 'selectAsync'));
    return m;
  }
  const args = m === 'select' ? [timeout()] : [fileArg(), mask(), value()];
  if (typeof sel[m] === 'function') sel[m](...args);
  return m;
}

// ---- the loop -------------------------------------------------------------------
const ALLOWED = (e) =>
  e instanceof TypeError || e instanceof RangeError || (e instanceof Error && (typeof e.code === 'string' || e.fuzzerOwn));
const findings = [];
function check(e, what, args) {
  if (ALLOWED(e)) return;
  findings.push({ what, error: String(e && e.stack ? e.stack : e), args: describe(args) });
  console.error(`fuzz-native: FINDING in ${what}: ${e && e.stack ? e.stack : e}\n  args: ${describe(args)}`);
}
function describe(args) {
  if (!args) return '';
  return args
    .map((a) => {
      if (ArrayBuffer.isView(a)) return `${a.constructor.name}(${a.byteLength}@${a.byteOffset})`;
      if (typeof a === 'function') return `fn ${a.name}`;
      if (typeof a === 'symbol' || typeof a === 'bigint') return String(a);
      try {
        return JSON.stringify(a)?.slice(0, 80) ?? String(a);
      } catch {
        return Object.prototype.toString.call(a);
      }
    })
    .join(', ');
}

// Errors thrown asynchronously by callbacks (the throwing arm callback) are
// expected: count them instead of dying.
let uncaught = 0;
process.on('uncaughtException', (e) => {
  if (e && e.fuzzerOwn) {
    uncaught++;
    return;
  }
  check(e, 'uncaught');
});

const counts = {};
let total = 0;
const started = Date.now();
const deadline = started + SECONDS * 1000;
const rawNames = Object.keys(RAW);
refill();
while (Date.now() < deadline) {
  for (let i = 0; i < 200; i++) {
    if (pool.size < 12) refill();
    const r = rnd();
    let what;
    if (r < 0.55) {
      const name = pick(rawNames);
      const args = rawArgs(name);
      what = name;
      try {
        const ret = native[name](...args);
        afterRaw(name, args, ret);
      } catch (e) {
        check(e, name, args);
      }
    } else if (r < 0.85) {
      what = callRawSet();
    } else {
      try {
        what = await callPublic();
      } catch (e) {
        what = 'public';
        check(e, 'public');
      }
    }
    counts[what] = (counts[what] ?? 0) + 1;
    total++;
    if (VERBOSE && total % 1000 === 0) console.log(`${total} calls`);
  }
  if (chance(0.3)) detachSome();
  // Let callbacks (arm), promise reactions and finalizers run.
  await new Promise((res) => setImmediate(res));
  if (global.gc && chance(0.05)) global.gc();
}

// Clean up everything: sets (their threads), selectors, fds, the temp dir.
for (const s of sets) {
  try {
    s.close();
  } catch {
    // closed twice or a wrong object: nothing left to free
  }
}
for (const s of selectors) s.close();
for (const fd of pool) {
  try {
    native.close(fd);
  } catch {
    // closed by a fuzzed call on an adopted number
  }
}
fs.rmSync(tmpDir, { recursive: true, force: true });
if (global.gc) global.gc();

const secs = (Date.now() - started) / 1000;
const top = Object.entries(counts).sort((a, b) => b[1] - a[1]);
console.log(`fuzz-native: ${total} calls in ${secs.toFixed(1)} s (${Math.round(total / secs)}/s), seed ${SEED}, ` +
  `${Object.keys(counts).length} distinct functions/methods, ${armed} wake-up callbacks, ${uncaught} callback throws reported as uncaught`);
if (VERBOSE) console.log(top.map(([k, v]) => `${k}:${v}`).join(' '));
console.log(JSON.stringify({ fuzz: 'native', seed: SEED, seconds: Number(secs.toFixed(1)), calls: total, perSecond: Math.round(total / secs), findings: findings.length }));
if (findings.length) {
  console.error(`fuzz-native: ${findings.length} finding(s); replay with --seed ${SEED}`);
  process.exit(1);
}
process.exit(0);
