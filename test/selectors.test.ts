// Selectors (the contract's "High-level" section), synchronous half: keys,
// errors, select() readiness and timeouts, against the real kernel, for every
// Linux backend. selectAsync() is in select-async.test.ts; what needs a child
// process (EINTR, thousands of fds, IOMUX_BACKEND) is in selectors-proc.test.ts.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DefaultSelector, EVENT_READ, EVENT_WRITE, EpollSelector, FD_SETSIZE, KqueueSelector, PollSelector, SelectSelector,
  SO_LINGER, SO_RCVBUF, SO_SNDBUF, SOL_SOCKET, Socket, UringSelector, close as closeFd, pipe, socketpair,
  type BaseSelector, type FileLike,
} from '../src/ts/index';
import { TIME_SCALE } from './time-scale';
import { KQUEUE, LINUX, WINDOWS, backendMissing, backendTitle, itFdNumberLimit, itPipes, itUnless } from './platform';

const BACKENDS = [
  ['select', SelectSelector],
  ['poll', PollSelector],
  ['epoll', EpollSelector],
  ['kqueue', KqueueSelector],
  ['io_uring', UringSelector],
] as const;

const RW = EVENT_READ | EVENT_WRITE;

function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return (err as { code?: unknown }).code;
  }
  throw new Error('expected a throw');
}

function elapsed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

for (const [name, Cls] of BACKENDS) describe.skipIf(!!backendMissing(name))(backendTitle(`${name} selector`, name), () => {
  let sel: BaseSelector<string>;
  const toClose: Array<() => void> = [];

  beforeEach(() => {
    sel = new Cls<string>();
  });
  afterEach(() => {
    sel.close();
    for (const f of toClose.splice(0)) f();
  });

  function pair(): [Socket, Socket] {
    const [a, b] = socketpair();
    toClose.push(() => { a.close(); b.close(); });
    return [a, b];
  }

  /** A connected TCP pair over loopback whose `client` side's send buffer is full. */
  function fullTcpPair(): { client: Socket; server: Socket } {
    const lsn = new Socket();
    toClose.push(() => lsn.close());
    lsn.bind(['127.0.0.1', 0]);
    lsn.listen(1);
    const client = new Socket();
    client.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
    client.connect(lsn.getsockname());
    const accepted = lsn.accept();
    if (accepted === null) throw new Error('accept returned null on a blocking socket');
    const server = accepted[0];
    toClose.push(() => { client.close(); server.close(); });
    server.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096);
    client.setBlocking(false);
    const chunk = Buffer.alloc(65536, 1);
    // Keep writing until the kernel says "would block": nobody reads on the server side.
    for (let i = 0; i < 10000 && client.send(chunk) !== null; i++);
    expect(client.send(chunk)).toBeNull();
    return { client, server };
  }

  it('names its backend', () => {
    expect(sel.backend).toBe(name);
  });

  describe('register / getKey / getMap', () => {
    it('returns a key with fileobj, fd, events and data (undefined when none)', () => {
      const [a, b] = pair();
      const ka = sel.register(a, EVENT_READ);
      expect(ka).toEqual({ fileobj: a, fd: a.fileno(), events: EVENT_READ, data: undefined });
      expect('data' in ka).toBe(true);
      const kb = sel.register(b.fileno(), RW, 'bee');
      expect(kb).toEqual({ fileobj: b.fileno(), fd: b.fileno(), events: RW, data: 'bee' });
      // getKey finds a key by its object or by the bare fd.
      expect(sel.getKey(a)).toBe(ka);
      expect(sel.getKey(a.fileno())).toBe(ka);
      expect(sel.getKey(b)).toBe(kb);
    });

    it('refuses an fd already registered, by any object with that fd', () => {
      const [a] = pair();
      const key = sel.register(a, EVENT_READ, 'first');
      expect(codeOf(() => sel.register(a, EVENT_WRITE))).toBe('ERR_IOMUX_ALREADY_REGISTERED');
      expect(codeOf(() => sel.register(a.fileno(), EVENT_WRITE))).toBe('ERR_IOMUX_ALREADY_REGISTERED');
      const twin = { fileno: () => a.fileno() };
      expect(codeOf(() => sel.register(twin, EVENT_WRITE))).toBe('ERR_IOMUX_ALREADY_REGISTERED');
      expect(() => sel.register(twin, EVENT_WRITE)).toThrow(Error);
      // The original key is untouched.
      expect(sel.getKey(a)).toBe(key);
      expect(sel.getMap().size).toBe(1);
    });

    it('throws ERR_IOMUX_NOT_REGISTERED from unregister, modify and getKey of an unknown fd', () => {
      const [a, b] = pair();
      sel.register(a, EVENT_READ);
      expect(codeOf(() => sel.unregister(b))).toBe('ERR_IOMUX_NOT_REGISTERED');
      expect(codeOf(() => sel.modify(b, EVENT_READ))).toBe('ERR_IOMUX_NOT_REGISTERED');
      expect(codeOf(() => sel.getKey(b))).toBe('ERR_IOMUX_NOT_REGISTERED');
      expect(codeOf(() => sel.getKey(b.fileno()))).toBe('ERR_IOMUX_NOT_REGISTERED');
      sel.unregister(a);
      expect(codeOf(() => sel.unregister(a))).toBe('ERR_IOMUX_NOT_REGISTERED');
      expect(codeOf(() => sel.getKey(a))).toBe('ERR_IOMUX_NOT_REGISTERED');
    });

    it('rejects bad events: 0, unknown bits, negative -> RangeError; non-integers -> TypeError; no key left', () => {
      const [a] = pair();
      for (const ev of [0, 4, -1, 8, RW | 4, 2 ** 31]) {
        expect(() => sel.register(a, ev), `events ${ev}`).toThrow(RangeError);
      }
      for (const ev of [1.5, NaN, '1', null, undefined, {}] as unknown[]) {
        expect(() => sel.register(a, ev as number), `events ${String(ev)}`).toThrow(TypeError);
      }
      expect(sel.getMap().size).toBe(0);
      sel.register(a, EVENT_READ);
      expect(() => sel.modify(a, 0)).toThrow(RangeError);
      expect(() => sel.modify(a, 4)).toThrow(RangeError);
      expect(() => sel.modify(a, -1)).toThrow(RangeError);
      expect(() => sel.modify(a, 2.5)).toThrow(TypeError);
      expect(sel.getKey(a).events).toBe(EVENT_READ);
    });

    it('rejects wrong file-likes: TypeError for a wrong type or a non-integer fd, RangeError for a negative one', () => {
      const typeErrors: unknown[] = ['3', null, undefined, {}, [], 1.5, NaN, Infinity, { fileno: () => '3' },
        { fileno: () => 2.5 }, { fileno: 3 }];
      for (const f of typeErrors) {
        expect(() => sel.register(f as FileLike, EVENT_READ), `fileobj ${String(f)}`).toThrow(TypeError);
        expect(() => sel.getKey(f as FileLike)).toThrow(TypeError);
        expect(() => sel.unregister(f as FileLike)).toThrow(TypeError);
        expect(() => sel.modify(f as FileLike, EVENT_READ)).toThrow(TypeError);
      }
      for (const f of [-1, -100, { fileno: () => -1 }]) {
        expect(() => sel.register(f as FileLike, EVENT_READ)).toThrow(RangeError);
      }
      expect(sel.getMap().size).toBe(0);
    });

    it('getMap() is a live, read-only view keyed by fd that is empty after close()', () => {
      const [a, b] = pair();
      const map = sel.getMap();
      expect(map.size).toBe(0);
      const ka = sel.register(a, EVENT_READ);
      // Registered after getMap() was called: the view sees it.
      expect(map.size).toBe(1);
      expect(map.get(a.fileno())).toBe(ka);
      expect(map.has(a.fileno())).toBe(true);
      const kb = sel.register(b, EVENT_WRITE, 'b');
      expect([...map.keys()].sort()).toEqual([a.fileno(), b.fileno()].sort());
      expect(new Set(map.values())).toEqual(new Set([ka, kb]));
      expect(new Map(map)).toEqual(new Map([[a.fileno(), ka], [b.fileno(), kb]]));
      const seen: number[] = [];
      map.forEach((key, fd) => { expect(key.fd).toBe(fd); seen.push(fd); });
      expect(seen.length).toBe(2);
      // Read-only: nothing to change it through.
      const m = map as unknown as Record<string, unknown>;
      expect(m.set).toBeUndefined();
      expect(m.delete).toBeUndefined();
      expect(m.clear).toBeUndefined();
      expect(Object.isFrozen(ka)).toBe(true);
      sel.unregister(a);
      expect(map.has(a.fileno())).toBe(false);
      expect(map.size).toBe(1);
      sel.close();
      expect(map.size).toBe(0);
      expect([...map]).toEqual([]);
    });
  });

  describe('closed selector', () => {
    it('every method but close/dispose throws ERR_IOMUX_CLOSED; close is idempotent', async () => {
      const [a] = pair();
      sel.register(a, EVENT_READ);
      sel.close();
      sel.close();
      sel[Symbol.dispose]();
      expect(codeOf(() => sel.register(a, EVENT_WRITE))).toBe('ERR_IOMUX_CLOSED');
      expect(codeOf(() => sel.unregister(a))).toBe('ERR_IOMUX_CLOSED');
      expect(codeOf(() => sel.modify(a, EVENT_WRITE))).toBe('ERR_IOMUX_CLOSED');
      expect(codeOf(() => sel.getKey(a))).toBe('ERR_IOMUX_CLOSED');
      expect(codeOf(() => sel.getMap())).toBe('ERR_IOMUX_CLOSED');
      expect(codeOf(() => sel.select(0))).toBe('ERR_IOMUX_CLOSED');
      await expect(sel.selectAsync(0)).rejects.toMatchObject({ code: 'ERR_IOMUX_CLOSED' });
      if (sel instanceof EpollSelector || sel instanceof KqueueSelector || sel instanceof UringSelector) {
        const ep = sel as EpollSelector<string> | KqueueSelector<string> | UringSelector<string>;
        expect(codeOf(() => ep.fileno())).toBe('ERR_IOMUX_CLOSED');
      }
    });

    it('Symbol.dispose closes it', () => {
      const [a] = pair();
      const s = new Cls();
      const map = s.getMap();
      s.register(a, EVENT_READ);
      s[Symbol.dispose]();
      expect(map.size).toBe(0);
      expect(codeOf(() => s.select(0))).toBe('ERR_IOMUX_CLOSED');
      s.close();
    });
  });

  describe('kernel refusals leave no key behind', () => {
    itPipes('a closed fd: EBADF', () => {
      const [r, w] = pipe();
      closeFd(r);
      closeFd(w);
      let err: NodeJS.ErrnoException | undefined;
      try {
        sel.register(r, EVENT_READ);
      } catch (e) {
        err = e as NodeJS.ErrnoException;
      }
      expect(err).toBeInstanceOf(Error);
      expect(err).toMatchObject({ code: 'EBADF', errno: -os.constants.errno.EBADF });
      expect(typeof err?.syscall).toBe('string');
      expect(err?.message).toContain('EBADF');
      expect(sel.getMap().size).toBe(0);
      expect(codeOf(() => sel.getKey(r))).toBe('ERR_IOMUX_NOT_REGISTERED');
      expect(sel.select(0)).toEqual([]);
    });

    itUnless(WINDOWS, 'regular files: Windows select() takes sockets only')(name === 'epoll' ? 'a regular file: EPERM from epoll_ctl' : 'a regular file is accepted and always ready', () => {
      const file = path.join(os.tmpdir(), `iomux-sel-${process.pid}-${name}.txt`);
      fs.writeFileSync(file, 'hello');
      const fd = fs.openSync(file, 'r');
      toClose.push(() => { fs.closeSync(fd); fs.rmSync(file, { force: true }); });
      if (name === 'epoll') {
        let err: NodeJS.ErrnoException | undefined;
        try {
          sel.register(fd, EVENT_READ);
        } catch (e) {
          err = e as NodeJS.ErrnoException;
        }
        expect(err).toMatchObject({ code: 'EPERM', errno: -os.constants.errno.EPERM, syscall: 'epoll_ctl' });
        expect(err?.message).toMatch(/EPERM/);
        expect(err?.message).toMatch(/epoll_ctl/);
        expect(sel.getMap().size).toBe(0);
        expect(codeOf(() => sel.getKey(fd))).toBe('ERR_IOMUX_NOT_REGISTERED');
        // And the fd can still be handled later (nothing half-registered).
        expect(() => sel.register(fd, EVENT_READ)).toThrow(expect.objectContaining({ code: 'EPERM' }));
      } else {
        const key = sel.register(fd, EVENT_READ);
        expect(sel.select(0)).toEqual([[key, EVENT_READ]]);
      }
    });
  });

  describe('modify', () => {
    itPipes('with the same events only updates data, with no system call (works on a closed fd)', () => {
      const [r, w] = pipe();
      toClose.push(() => closeFd(w));
      const k1 = sel.register(r, EVENT_READ, 'one');
      closeFd(r);
      // A syscall on the closed fd would fail with EBADF; none is made.
      const k2 = sel.modify(r, EVENT_READ, 'two');
      expect(k2).toEqual({ fileobj: r, fd: r, events: EVENT_READ, data: 'two' });
      expect(sel.getKey(r)).toBe(k2);
      // Keys are immutable snapshots: the old one still says 'one'.
      expect(k1.data).toBe('one');
      // Data omitted: undefined, as Python's data=None.
      expect(sel.modify(r, EVENT_READ).data).toBeUndefined();
      sel.unregister(r);
    });

    if (name === 'epoll' || name === 'kqueue' || name === 'io_uring') {
      itPipes('with other events on a closed fd: the kernel refuses (EBADF) and the key is dropped', () => {
        const [r, w] = pipe();
        toClose.push(() => closeFd(w));
        sel.register(r, EVENT_READ);
        closeFd(r);
        expect(codeOf(() => sel.modify(r, EVENT_WRITE))).toBe('EBADF');
        expect(sel.getMap().size).toBe(0);
      });
    }

    it('with other events changes what select() reports', () => {
      const [a, b] = pair();
      sel.register(a, EVENT_READ, 'r');
      expect(sel.select(0)).toEqual([]);
      const k = sel.modify(a, EVENT_WRITE, 'w');
      expect(k).toMatchObject({ fd: a.fileno(), events: EVENT_WRITE, data: 'w' });
      expect(sel.select(0)).toEqual([[k, EVENT_WRITE]]);
      b.send(Buffer.from('x'));
      const k2 = sel.modify(a, RW);
      expect(sel.select(0)).toEqual([[k2, RW]]);
      const k3 = sel.modify(a.fileno(), EVENT_READ, 'by fd');
      expect(sel.select(0)).toEqual([[k3, EVENT_READ]]);
      expect(sel.getKey(a)).toBe(k3);
    });
  });

  describe('select()', () => {
    it('reports readiness: write on a fresh socket, read after the peer writes', () => {
      const [a, b] = pair();
      const ka = sel.register(a, EVENT_READ, 'a');
      expect(sel.select(0)).toEqual([]);
      b.send(Buffer.from('ping'));
      expect(sel.select(0)).toEqual([[ka, EVENT_READ]]);
      expect(a.recv(10)?.toString()).toBe('ping');
      expect(sel.select(0)).toEqual([]);
      const kb = sel.register(b, EVENT_WRITE, 'b');
      expect(sel.select(0)).toEqual([[kb, EVENT_WRITE]]);
    });

    it('returns each ready key once, with only the registered events that are ready', () => {
      const socks = Array.from({ length: 4 }, () => pair());
      const keys = socks.map(([a], i) => sel.register(a, i % 2 === 0 ? RW : EVENT_READ, `k${i}`));
      for (const [, b] of socks) b.send(Buffer.from('x'));
      const ready = sel.select(0);
      expect(ready.length).toBe(4);
      expect(new Set(ready.map(([k]) => k)).size).toBe(4);
      for (const [key, mask] of ready) {
        const i = keys.indexOf(key);
        expect(i).toBeGreaterThanOrEqual(0);
        expect(mask).toBe(i % 2 === 0 ? RW : EVENT_READ);
      }
    });

    it('a hung-up fd (peer closed) is returned with all of its registered events', () => {
      const [a, b] = pair();
      const [c, d] = pair();
      const ka = sel.register(a, RW);
      const kc = sel.register(c, EVENT_READ);
      b.close();
      d.close();
      const ready = new Map(sel.select(0).map(([k, m]) => [k, m]));
      expect(ready.get(ka)).toBe(RW);
      // Never more than was registered.
      expect(ready.get(kc)).toBe(EVENT_READ);
    });

    it('a reset connection with a full send buffer is returned with all of its registered events', () => {
      const { client, server } = fullTcpPair();
      const kw = sel.register(client, RW);
      // Neither readable (nothing sent to it) nor writable (buffer full) yet.
      expect(sel.select(0)).toEqual([]);
      server.setsockopt(SOL_SOCKET, SO_LINGER, 0);
      server.close(); // linger 0: RST
      const ready = sel.select(2000);
      expect(ready).toEqual([[kw, RW]]);
    });

    it('with nothing registered honours its timeout', () => {
      expect(sel.getMap().size).toBe(0);
      const t = elapsed(() => expect(sel.select(250)).toEqual([]));
      expect(t).toBeGreaterThanOrEqual(249);
      expect(t).toBeLessThan(250 + 600);
    });

    it('timeouts: 0 and negative poll at once, 1000 ms waits within tolerance', () => {
      const [a] = pair();
      sel.register(a, EVENT_READ);
      for (const t of [0, -1, -1000, -Infinity, -0.5]) {
        expect(elapsed(() => expect(sel.select(t)).toEqual([]))).toBeLessThan(500);
      }
      const t = elapsed(() => expect(sel.select(1000)).toEqual([]));
      expect(t).toBeGreaterThanOrEqual(999);
      expect(t).toBeLessThan(1600);
    });

    it('a fractional timeout is rounded up, never down', () => {
      const [a] = pair();
      sel.register(a, EVENT_READ);
      for (const t of [0.3, 0.9, 1.5, 20.4]) {
        const took = elapsed(() => expect(sel.select(t)).toEqual([]));
        expect(took, `select(${t})`).toBeGreaterThanOrEqual(t);
      }
    });

    it('a timeout beyond what the syscall takes is not an error', () => {
      const [a, b] = pair();
      const key = sel.register(a, EVENT_READ);
      b.send(Buffer.from('x'));
      for (const t of [2 ** 31, 2 ** 40, 1e300]) expect(sel.select(t)).toEqual([[key, EVENT_READ]]);
    });

    it('NaN or a non-number timeout is a TypeError', () => {
      for (const t of [NaN, '10', {}, [], true, 10n] as unknown[]) {
        expect(() => sel.select(t as number), `timeout ${String(t)}`).toThrow(TypeError);
      }
    });

    itPipes('undefined, null and Infinity block until an event (another process writes later)', () => {
      for (const t of [undefined, null, Infinity]) {
        const [r, w] = pipe();
        const key = sel.register(r, EVENT_READ);
        // The writer is a separate process: this one is blocked in select().
        const child = spawn('sh', ['-c', 'sleep 0.2; printf x'], { stdio: ['ignore', w, 'ignore'] });
        closeFd(w);
        // Bounded even if the child failed: its exit closes the last write end (EOF is readable).
        const took = elapsed(() => expect(sel.select(t)).toEqual([[key, EVENT_READ]]));
        expect(took).toBeGreaterThanOrEqual(150);
        const buf = Buffer.alloc(8);
        expect(buf.toString('utf8', 0, fs.readSync(r, buf))).toBe('x');
        sel.unregister(r);
        closeFd(r);
        child.unref();
      }
    });
  });

  describe('unregister', () => {
    itPipes('works after the fd was closed (by the object, whose fileno() is now -1, or by fd)', () => {
      const [a, b] = pair();
      const fdA = a.fileno();
      const ka = sel.register(a, EVENT_READ, 'a');
      const [r, w] = pipe();
      const kr = sel.register(r, EVENT_READ, 'r');
      a.close();
      closeFd(r);
      closeFd(w);
      expect(a.fileno()).toBe(-1);
      expect(sel.unregister(a)).toBe(ka);
      expect(sel.getMap().has(fdA)).toBe(false);
      expect(sel.unregister(r)).toBe(kr);
      expect(sel.getMap().size).toBe(0);
      expect(sel.select(0)).toEqual([]);
      b.close();
    });

    it('works after the fd number was reused by a new socket, which can then be registered', () => {
      for (const byObject of [true, false]) {
        const [a, b] = pair();
        const fd = a.fileno();
        const old = sel.register(byObject ? a : fd, EVENT_READ, 'old');
        a.close();
        // The lowest free number is the one just released.
        const [c, d] = socketpair();
        toClose.push(() => { c.close(); d.close(); });
        expect(c.fileno()).toBe(fd);
        expect(sel.unregister(byObject ? a : fd)).toBe(old);
        const fresh = sel.register(c, EVENT_READ, 'new');
        expect(sel.select(0)).toEqual([]);
        d.send(Buffer.from('x'));
        expect(sel.select(0)).toEqual([[fresh, EVENT_READ]]);
        b.close(); // the old peer hanging up is nothing to the new socket
        expect(sel.select(0)).toEqual([[fresh, EVENT_READ]]);
        sel.unregister(c);
      }
    });

    it('getKey and modify find a key by its (closed) object too', () => {
      const [a] = pair();
      const k = sel.register(a, EVENT_READ, 'x');
      a.close();
      expect(sel.getKey(a)).toBe(k);
      expect(sel.modify(a, EVENT_READ, 'y').data).toBe('y');
      sel.unregister(a);
    });
  });

  if (name === 'select') {
    itFdNumberLimit('refuses fds >= FD_SETSIZE with a RangeError at register time, leaving no key', () => {
      expect(FD_SETSIZE).toBeGreaterThan(0);
      for (const fd of [FD_SETSIZE, FD_SETSIZE + 1, 65536]) {
        expect(() => sel.register(fd, EVENT_READ)).toThrow(RangeError);
      }
      expect(sel.getMap().size).toBe(0);
    });
  }
});

describe('KqueueSelector where there is no kqueue (Linux, Windows)', () => {
  itUnless(KQUEUE, 'kqueue exists here')('its constructor throws ENOSYS naming the platform', () => {
    let err: NodeJS.ErrnoException | undefined;
    try {
      new KqueueSelector();
    } catch (e) {
      err = e as NodeJS.ErrnoException;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'ENOSYS', errno: -os.constants.errno.ENOSYS, syscall: 'kqueue' });
    expect(err?.message).toMatch(/^kqueue ENOSYS/);
    expect(err?.message).toContain(WINDOWS ? 'Windows' : 'Linux');
  });
});

describe('KqueueSelector where kqueue exists (macOS, BSD)', () => {
  itUnless(!KQUEUE, 'kqueue is macOS/BSD-only')('fileno() is its own kqueue fd, one per selector, and DefaultSelector picks it', () => {
    const a = new KqueueSelector();
    const b = new KqueueSelector();
    try {
      expect(a.fileno()).toBeGreaterThanOrEqual(0);
      expect(b.fileno()).not.toBe(a.fileno());
      expect(process.env.IOMUX_BACKEND ?? '').toBe('');
      const d = new DefaultSelector();
      expect(d.backend).toBe('kqueue');
      d.close();
    } finally {
      a.close();
      b.close();
    }
  });

  itUnless(!KQUEUE, 'kqueue is macOS/BSD-only')('merges the READ and WRITE kevents of one fd into one entry', () => {
    const sel = new KqueueSelector<string>();
    const [a, b] = socketpair();
    try {
      const key = sel.register(a, RW, 'a');
      b.send(Buffer.from('x'));
      expect(sel.select(0)).toEqual([[key, RW]]);
    } finally {
      sel.close();
      a.close();
      b.close();
    }
  });

  itUnless(!KQUEUE || WINDOWS, 'kqueue is macOS/BSD-only')('unregister of closed fds is queued: the next select() still waits its timeout', () => {
    const sel = new KqueueSelector();
    const [r, w] = pipe();
    const [c, d] = socketpair();
    try {
      sel.register(r, EVENT_READ);
      sel.register(c, EVENT_READ);
      closeFd(r);
      closeFd(w);
      sel.unregister(r);
      // The queued EV_DELETE fails (the kernel dropped the knote at close): that report must not end the wait.
      const t0 = performance.now();
      expect(sel.select(200)).toEqual([]);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(199);
      d.send(Buffer.from('x'));
      sel.unregister(c);
      // The deletion goes with the zero-timeout select: c is not reported.
      expect(sel.select(0)).toEqual([]);
    } finally {
      sel.close();
      c.close();
      d.close();
    }
  });
});

describe('DefaultSelector', () => {
  itUnless(!LINUX, 'epoll is Linux-only')('is epoll on Linux when IOMUX_BACKEND is not set', () => {
    expect(process.env.IOMUX_BACKEND ?? '').toBe('');
    const sel = new DefaultSelector();
    try {
      expect(sel.backend).toBe('epoll');
      expect(sel).toBeInstanceOf(EpollSelector);
    } finally {
      sel.close();
    }
  });

  const root = path.resolve(__dirname, '..');
  const script = `
    try {
      // Inside the try: the contract does not say whether a bad value fails at load or at construction.
      const io = require(${JSON.stringify(root)});
      const sel = new io.DefaultSelector();
      const [a, b] = io.socketpair();
      const key = sel.register(a, io.EVENT_READ);
      b.send(Buffer.from('x'));
      console.log(JSON.stringify({ backend: sel.backend, ready: sel.select(0).length }));
      sel.close();
    } catch (e) {
      console.log(JSON.stringify({ error: e.name, code: e.code, message: e.message }));
    }`;
  function runWith(value: string | undefined): Record<string, unknown> {
    const env = { ...process.env };
    if (value === undefined) delete env.IOMUX_BACKEND;
    else env.IOMUX_BACKEND = value;
    const out = execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 15000 * TIME_SCALE });
    return JSON.parse(out.trim()) as Record<string, unknown>;
  }

  for (const value of ['select', 'poll', 'epoll', 'kqueue', 'io_uring']) {
    itUnless(!!backendMissing(value), backendMissing(value))(`IOMUX_BACKEND=${value} picks that backend`, () => {
      expect(runWith(value)).toEqual({ backend: value, ready: 1 });
    });
  }

  itUnless(KQUEUE, 'kqueue exists here')('IOMUX_BACKEND=kqueue where kqueue is missing: one ENOSYS error naming the variable and the platform', () => {
    const res = runWith('kqueue');
    expect(res).toMatchObject({ error: 'Error', code: 'ENOSYS' });
    expect(res.message).toMatch(/^IOMUX_BACKEND=kqueue: kqueue ENOSYS/);
    expect(res.message).toContain(WINDOWS ? 'Windows' : 'Linux');
  });

  itUnless(!KQUEUE, 'kqueue is macOS/BSD-only')('unset or empty IOMUX_BACKEND picks kqueue', () => {
    expect(runWith(undefined)).toEqual({ backend: 'kqueue', ready: 1 });
    expect(runWith('')).toEqual({ backend: 'kqueue', ready: 1 });
  });

  itUnless(!LINUX, 'epoll is Linux-only')('unset or empty IOMUX_BACKEND picks epoll', () => {
    expect(runWith(undefined)).toEqual({ backend: 'epoll', ready: 1 });
    expect(runWith('')).toEqual({ backend: 'epoll', ready: 1 });
  });

  it('an unknown IOMUX_BACKEND is a RangeError naming the variable and the choices', () => {
    const res = runWith('bogus');
    expect(res.error).toBe('RangeError');
    expect(res.message).toMatch(/IOMUX_BACKEND/);
    expect(res.message).toMatch(/select.*poll.*epoll.*io_uring/);
    expect(res.message).toMatch(/bogus/);
  });
});
