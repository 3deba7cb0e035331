// epoll(7) through Epoll: real pipes, socketpairs and files.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EPOLLERR,
  EPOLLET,
  EPOLLEXCLUSIVE,
  EPOLLHUP,
  EPOLLIN,
  EPOLLONESHOT,
  EPOLLOUT,
  EPOLLPRI,
  EPOLLRDHUP,
  Epoll,
  FD_SETSIZE,
  SHUT_WR,
  Socket,
  pipe,
  socketpair,
} from '../src/ts/index';
import { FdBag, isOpen, readFd, timed, writeFd } from './fixtures/lowlevel';
import { TIME_SCALE } from './time-scale';
import { LINUX, itPipes, itProcFs } from './platform';

const root = path.resolve(__dirname, '..');
const bag = new FdBag();
afterEach(() => bag.closeAll());

function pair(): [Socket, Socket] {
  const [a, b] = socketpair();
  return [bag.obj(a), bag.obj(b)];
}

function ep(): Epoll {
  return bag.obj(new Epoll());
}

function sorted(r: Array<[number, number]>): Array<[number, number]> {
  return [...r].sort((x, y) => x[0] - y[0]);
}

function catchErr(fn: () => unknown): Error & { code?: string; errno?: number; syscall?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe.skipIf(!LINUX)('Epoll constants (epoll is Linux-only)', () => {
  it('are unsigned Linux values', () => {
    expect({ EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP, EPOLLEXCLUSIVE, EPOLLONESHOT, EPOLLET }).toEqual({
      EPOLLIN: 0x1,
      EPOLLPRI: 0x2,
      EPOLLOUT: 0x4,
      EPOLLERR: 0x8,
      EPOLLHUP: 0x10,
      EPOLLRDHUP: 0x2000,
      EPOLLEXCLUSIVE: 2 ** 28,
      EPOLLONESHOT: 2 ** 30,
      EPOLLET: 2 ** 31,
    });
  });
});

describe.skipIf(!LINUX)('Epoll lifecycle (epoll is Linux-only)', () => {
  itProcFs('fileno() is an open, close-on-exec epoll fd; close() closes it', () => {
    const e = new Epoll();
    const fd = e.fileno();
    expect(Number.isInteger(fd) && fd >= 0).toBe(true);
    expect(fs.readlinkSync(`/proc/self/fd/${fd}`)).toBe('anon_inode:[eventpoll]');
    const flags = /flags:\s+(\d+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1];
    expect(parseInt(flags, 8) & 0o2000000).toBe(0o2000000); // O_CLOEXEC
    expect(e.closed).toBe(false);
    e.close();
    expect(e.closed).toBe(true);
    expect(isOpen(fd) && fs.readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventpoll]').toBe(false);
  });

  it('close() is idempotent and every other method then throws ERR_IOMUX_CLOSED', () => {
    const e = new Epoll();
    const [a] = pair();
    e.close();
    e.close();
    expect(e.closed).toBe(true);
    for (const call of [
      () => e.fileno(),
      () => e.register(a),
      () => e.modify(a, EPOLLIN),
      () => e.unregister(a),
      () => e.poll(0),
    ]) {
      const err = catchErr(call);
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe('ERR_IOMUX_CLOSED');
    }
  });

  itProcFs('Symbol.dispose closes it', () => {
    let fd = -1;
    let seen: Epoll | undefined;
    {
      using e = new Epoll();
      fd = e.fileno();
      seen = e;
      expect(e.closed).toBe(false);
    }
    expect(seen!.closed).toBe(true);
    expect(isOpen(fd) && fs.readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventpoll]').toBe(false);
    const e2 = new Epoll();
    e2[Symbol.dispose]();
    expect(e2.closed).toBe(true);
    e2[Symbol.dispose]();
  });

  itPipes('fromFd() adopts an epoll fd: it sees the registrations and close() closes it', () => {
    // The fd is handed to a child as its fd 3 so that exactly one owner closes it.
    const e = ep();
    const [r, w] = bag.add(...pipe());
    e.register(r, EPOLLIN);
    writeFd(w, 'x');
    const child = spawnSync(process.execPath, ['-e', `
      const fs = require('fs');
      const { Epoll, EPOLLIN } = require(${JSON.stringify(root)} + '/dist/index.js');
      const ep = Epoll.fromFd(3);
      const out = { fileno: ep.fileno(), events: ep.poll(0) };
      ep.close();
      try { fs.fstatSync(3); out.open = true; } catch (err) { out.open = false; out.code = err.code; }
      console.log(JSON.stringify(out));
    `], { stdio: ['ignore', 'pipe', 'pipe', e.fileno()], encoding: 'utf8', timeout: 20000 * TIME_SCALE });
    expect(child.status, child.stderr).toBe(0);
    const out = JSON.parse(child.stdout);
    // The child's fd 3 is a duplicate of ours; the registration is shared.
    expect(out.fileno).toBe(3);
    expect(out.events).toEqual([[r, EPOLLIN]]);
    expect(out.open).toBe(false);
    expect(out.code).toBe('EBADF');
    // Ours is still fine.
    expect(e.poll(0)).toEqual([[r, EPOLLIN]]);
  });

  itProcFs('fromFd() of a closed fd is EBADF; of a bad value a TypeError/RangeError', () => {
    const [r, w] = bag.add(...pipe());
    bag.close(r);
    bag.close(w);
    expect(catchErr(() => Epoll.fromFd(r))).toMatchObject({ code: 'EBADF' });
    expect(() => Epoll.fromFd(-1)).toThrow(RangeError);
    expect(() => Epoll.fromFd(1.5)).toThrow(TypeError);
    expect(() => Epoll.fromFd('3' as unknown as number)).toThrow(TypeError);
    // A failed fromFd does not poison the next constructor call.
    const e = ep();
    expect(e.closed).toBe(false);
    expect(fs.readlinkSync(`/proc/self/fd/${e.fileno()}`)).toBe('anon_inode:[eventpoll]');
  });
});

describe.skipIf(!LINUX)('Epoll registration (epoll is Linux-only)', () => {
  it('registers EPOLLIN | EPOLLPRI | EPOLLOUT by default', () => {
    const [a, b] = pair();
    const e = ep();
    e.register(a);
    expect(e.poll(0)).toEqual([[a.fileno(), EPOLLOUT]]);
    b.send(Buffer.from('x'));
    expect(e.poll(0)).toEqual([[a.fileno(), EPOLLIN | EPOLLOUT]]);
  });

  it('registering twice is the system error EEXIST', () => {
    const [a] = pair();
    const e = ep();
    e.register(a, EPOLLIN);
    const err = catchErr(() => e.register({ fileno: () => a.fileno() }, EPOLLOUT));
    expect(err).toMatchObject({ code: 'EEXIST', errno: -17, syscall: 'epoll_ctl' });
    expect(err.message).toContain('epoll_ctl');
    expect(err.message).toContain('EEXIST');
  });

  it('modify() changes the mask; of an unregistered fd it is ENOENT', () => {
    const [a, b] = pair();
    const e = ep();
    expect(catchErr(() => e.modify(a, EPOLLIN))).toMatchObject({ code: 'ENOENT', syscall: 'epoll_ctl' });
    e.register(a, EPOLLIN);
    expect(e.poll(0)).toEqual([]);
    e.modify(a, EPOLLOUT);
    expect(e.poll(0)).toEqual([[a.fileno(), EPOLLOUT]]);
    b.send(Buffer.from('x'));
    e.modify(a, EPOLLIN);
    expect(e.poll(0)).toEqual([[a.fileno(), EPOLLIN]]);
  });

  it('unregister() stops reporting; of an unknown fd it is ENOENT', () => {
    const [a, b] = pair();
    const e = ep();
    expect(catchErr(() => e.unregister(b))).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'epoll_ctl' });
    e.register(a, EPOLLOUT);
    e.unregister(a);
    expect(e.poll(0)).toEqual([]);
    expect(catchErr(() => e.unregister(a))).toMatchObject({ code: 'ENOENT' });
  });

  itPipes('unregister() of an fd that was already closed is ignored (EBADF)', () => {
    const [r] = bag.add(...pipe());
    const e = ep();
    e.register(r, EPOLLIN);
    bag.close(r);
    expect(() => e.unregister(r)).not.toThrow();
    // Nothing stale remains.
    expect(e.poll(0)).toEqual([]);
  });

  itPipes('register() of a closed fd is EBADF', () => {
    // The epoll fd first, so that it cannot take the closed fd's number.
    const e = ep();
    const [r, w] = bag.add(...pipe());
    bag.close(r);
    bag.close(w);
    expect(catchErr(() => e.register(r))).toMatchObject({ code: 'EBADF', errno: -9, syscall: 'epoll_ctl' });
  });

  it('epoll on a regular file is EPERM', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-epoll-'));
    const fd = fs.openSync(path.join(dir, 'f'), 'w+');
    try {
      expect(catchErr(() => ep().register(fd, EPOLLIN))).toMatchObject({ code: 'EPERM', errno: -1, syscall: 'epoll_ctl' });
    } finally {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('accepts EPOLLIN | EPOLLET given as a negative int32, or unsigned', () => {
    const signed = EPOLLIN | EPOLLET;
    expect(signed).toBeLessThan(0);
    const [a, b] = pair();
    const e = ep();
    e.register(a, signed);
    b.send(Buffer.from('x'));
    expect(e.poll(0)).toEqual([[a.fileno(), EPOLLIN]]);
    e.modify(a, (EPOLLIN | EPOLLOUT | EPOLLET) >>> 0);
    const res = e.poll(0);
    expect(res).toEqual([[a.fileno(), EPOLLIN | EPOLLOUT]]);
    for (const [, ev] of res) expect(ev).toBeGreaterThanOrEqual(0);
  });

  it('accepts EPOLLEXCLUSIVE on register (and reports events)', () => {
    const [a, b] = pair();
    const e = ep();
    e.register(a, EPOLLIN | EPOLLEXCLUSIVE);
    b.send(Buffer.from('x'));
    expect(e.poll(0)).toEqual([[a.fileno(), EPOLLIN]]);
    // The kernel refuses it on modify; that comes back as its system error.
    expect(catchErr(() => e.modify(a, EPOLLIN | EPOLLEXCLUSIVE))).toMatchObject({ code: 'EINVAL', syscall: 'epoll_ctl' });
  });

  it('refuses unknown event bits with a RangeError before any syscall', () => {
    const [a] = pair();
    const e = ep();
    expect(() => e.register(a, 1 << 20)).toThrow(RangeError);
    expect(() => e.poll(0)).not.toThrow();
    expect(e.poll(0)).toEqual([]);
  });

  it('has no FD_SETSIZE limit', () => {
    const socks: Socket[] = [];
    try {
      let high: Socket | undefined;
      while (!high) {
        const [x, y] = socketpair();
        socks.push(x, y);
        if (y.fileno() >= FD_SETSIZE + 10) high = y;
      }
      const e = ep();
      e.register(high, EPOLLOUT);
      expect(e.poll(0)).toEqual([[high.fileno(), EPOLLOUT]]);
    } finally {
      for (const s of socks) s.close();
    }
  });
});

describe.skipIf(!LINUX)('Epoll triggering (epoll is Linux-only)', () => {
  itPipes('level-triggered: reported on every poll while data is there', () => {
    const [r, w] = bag.add(...pipe());
    const e = ep();
    e.register(r, EPOLLIN);
    writeFd(w, 'abc');
    for (let i = 0; i < 3; i++) expect(e.poll(0)).toEqual([[r, EPOLLIN]]);
    readFd(r);
    expect(e.poll(0)).toEqual([]);
  });

  itPipes('edge-triggered (EPOLLET): reported once, again only when new data arrives', () => {
    const [r, w] = bag.add(...pipe());
    const e = ep();
    e.register(r, EPOLLIN | EPOLLET);
    writeFd(w, 'abc');
    expect(e.poll(0)).toEqual([[r, EPOLLIN]]);
    expect(e.poll(0)).toEqual([]);
    expect(e.poll(20)).toEqual([]);
    writeFd(w, 'def');
    expect(e.poll(0)).toEqual([[r, EPOLLIN]]);
    expect(e.poll(0)).toEqual([]);
    expect(readFd(r)).toBe('abcdef');
  });

  it('one-shot (EPOLLONESHOT): disabled after one event until modify() re-arms it', () => {
    const [a, b] = pair();
    const e = ep();
    e.register(a, EPOLLIN | EPOLLONESHOT);
    b.send(Buffer.from('1'));
    expect(e.poll(0)).toEqual([[a.fileno(), EPOLLIN]]);
    expect(e.poll(0)).toEqual([]);
    b.send(Buffer.from('2'));
    expect(e.poll(0)).toEqual([]);
    // Still registered: a second register is EEXIST.
    expect(catchErr(() => e.register(a, EPOLLIN))).toMatchObject({ code: 'EEXIST' });
    e.modify(a, EPOLLIN | EPOLLONESHOT);
    expect(e.poll(0)).toEqual([[a.fileno(), EPOLLIN]]);
    expect(e.poll(0)).toEqual([]);
  });

  it('EPOLLRDHUP when the peer shuts down its write side', () => {
    const [a, b] = pair();
    const e = ep();
    e.register(a, EPOLLIN | EPOLLRDHUP);
    expect(e.poll(0)).toEqual([]);
    b.shutdown(SHUT_WR);
    expect(e.poll(0)).toEqual([[a.fileno(), EPOLLIN | EPOLLRDHUP]]);
  });

  itPipes('EPOLLHUP on a pipe read end without writers, EPOLLERR on a write end without readers', () => {
    const [r1, w1] = bag.add(...pipe());
    const [r2, w2] = bag.add(...pipe());
    const e = ep();
    e.register(r1, EPOLLIN);
    e.register(w2, EPOLLOUT);
    bag.close(w1);
    bag.close(r2);
    const res = new Map(e.poll(0));
    expect(res.get(r1)! & EPOLLHUP).toBe(EPOLLHUP);
    expect(res.get(w2)! & EPOLLERR).toBe(EPOLLERR);
  });
});

describe.skipIf(!LINUX)('Epoll.poll maxevents (epoll is Linux-only)', () => {
  function fiveReady(e: Epoll, extra = 0): number[] {
    const reads: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [r, w] = bag.add(...pipe());
      writeFd(w, 'x');
      e.register(r, EPOLLIN | extra);
      reads.push(r);
    }
    return reads.sort((x, y) => x - y);
  }

  it('limits how many events one call returns; the rest come next time', () => {
    const e = ep();
    const reads = fiveReady(e, EPOLLET);
    const seen: number[] = [];
    for (const want of [2, 2, 1]) {
      const res = e.poll(0, 2);
      expect(res).toHaveLength(want);
      seen.push(...res.map(([fd]) => fd));
    }
    expect(seen.sort((x, y) => x - y)).toEqual(reads);
    expect(e.poll(0, 2)).toEqual([]);
  });

  it('-1 or undefined means the default (all of them here)', () => {
    const e = ep();
    const reads = fiveReady(e);
    expect(sorted(e.poll(0, -1)).map(([fd]) => fd)).toEqual(reads);
    expect(sorted(e.poll(0, undefined)).map(([fd]) => fd)).toEqual(reads);
    expect(e.poll(0, 1)).toHaveLength(1);
    expect(e.poll(0, 2 ** 31)).toHaveLength(5);
  });

  it.each([0, -2, -100])('maxevents %s is a RangeError', (m) => {
    const e = ep();
    fiveReady(e);
    expect(() => e.poll(0, m)).toThrow(RangeError);
  });

  it.each([1.5, NaN, Infinity, '2', null])('maxevents %s is a TypeError', (m) => {
    const e = ep();
    expect(() => e.poll(0, m as unknown as number)).toThrow(TypeError);
  });
});

describe.skipIf(!LINUX)('Epoll.poll timeouts (epoll is Linux-only)', () => {
  itPipes('0 and negative timeouts return at once', () => {
    const [r] = bag.add(...pipe());
    const e = ep();
    e.register(r, EPOLLIN);
    for (const t of [0, -1, -0.5, -1e9, -Infinity]) {
      const [res, ms] = timed(() => e.poll(t));
      expect(res).toEqual([]);
      expect(ms).toBeLessThan(100);
    }
  });

  it('waits a positive timeout out, rounding fractions up', () => {
    const e = ep();
    const [res, ms] = timed(() => e.poll(100));
    expect(res).toEqual([]);
    expect(ms).toBeGreaterThanOrEqual(100);
    expect(ms).toBeLessThan(2000);
    for (let i = 0; i < 5; i++) {
      const [, small] = timed(() => e.poll(0.3));
      expect(small).toBeGreaterThanOrEqual(0.3);
    }
  });

  it.each([60000, 2 ** 31, 2 ** 32 + 5, 2 ** 53, 1e15 + 1])('a timeout of %s beyond what epoll_wait takes is no error', (t) => {
    const [a] = pair();
    const e = ep();
    e.register(a, EPOLLOUT);
    const [res, ms] = timed(() => e.poll(t));
    expect(res).toEqual([[a.fileno(), EPOLLOUT]]);
    expect(ms).toBeLessThan(1000);
  });

  itPipes.each([null, undefined, Infinity])('%s blocks until a child process writes', async (t) => {
    const [r, w] = bag.add(...pipe());
    const e = ep();
    e.register(r, EPOLLIN);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => require("fs").writeSync(1, "x"), 250)'], {
      stdio: ['ignore', w, 'ignore'],
    });
    const exited = new Promise((res) => child.once('exit', res));
    bag.close(w);
    const [res, ms] = timed(() => e.poll(t));
    expect(res[0]).toEqual([r, EPOLLIN]);
    expect(ms).toBeGreaterThanOrEqual(150);
    await exited;
  });
});
