// Bad input for the low-level API (select, Poll, Epoll, pipe, close): every
// case gets the right error class or code, and nothing crashes.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EPOLLIN,
  Epoll,
  FD_SETSIZE,
  POLLIN,
  POLLNVAL,
  Poll,
  close,
  pipe,
  select,
  socketpair,
} from '../src/ts/index';
import { openFds } from './fixtures/lowlevel';
import { TIME_SCALE } from './time-scale';
import { LINUX, backendMissing, itFdNumberLimit, itPipes, itProcFs, itUnless } from './platform';

const root = path.resolve(__dirname, '..');
const fdsBefore = LINUX ? openFds() : [];

type Expect = { cls: typeof TypeError | typeof RangeError } | { code: string } | { same: Error };

const boom = new Error('fileno exploded');

// [name, value, expected error for FileLike-taking functions, expected error for close(fd: number)]
const badFds: Array<[string, unknown, Expect, Expect]> = [
  ['a string', 'abc', { cls: TypeError }, { cls: TypeError }],
  ['a numeric string', '3', { cls: TypeError }, { cls: TypeError }],
  ['null', null, { cls: TypeError }, { cls: TypeError }],
  ['undefined', undefined, { cls: TypeError }, { cls: TypeError }],
  ['a boolean', true, { cls: TypeError }, { cls: TypeError }],
  ['a bigint', 3n, { cls: TypeError }, { cls: TypeError }],
  ['a symbol', Symbol('fd'), { cls: TypeError }, { cls: TypeError }],
  ['an array', [3], { cls: TypeError }, { cls: TypeError }],
  ['an object without fileno', {}, { cls: TypeError }, { cls: TypeError }],
  ['an object whose fileno is not a function', { fileno: 3 }, { cls: TypeError }, { cls: TypeError }],
  ['fileno() returning a string', { fileno: () => '3' }, { cls: TypeError }, { cls: TypeError }],
  ['fileno() returning 1.5', { fileno: () => 1.5 }, { cls: TypeError }, { cls: TypeError }],
  ['fileno() returning NaN', { fileno: () => NaN }, { cls: TypeError }, { cls: TypeError }],
  ['fileno() returning -1', { fileno: () => -1 }, { cls: RangeError }, { cls: TypeError }],
  ['fileno() throwing', { fileno: () => { throw boom; } }, { same: boom }, { cls: TypeError }],
  ['NaN', NaN, { cls: TypeError }, { cls: TypeError }],
  ['Infinity', Infinity, { cls: TypeError }, { cls: TypeError }],
  ['-Infinity', -Infinity, { cls: TypeError }, { cls: TypeError }],
  ['1.5', 1.5, { cls: TypeError }, { cls: TypeError }],
  ['-1', -1, { cls: RangeError }, { cls: RangeError }],
  ['-2**31', -(2 ** 31), { cls: RangeError }, { cls: RangeError }],
  ['2**31', 2 ** 31, { cls: RangeError }, { cls: RangeError }],
  ['2**32', 2 ** 32, { cls: RangeError }, { cls: RangeError }],
  ['1e20', 1e20, { cls: RangeError }, { cls: RangeError }],
  ['MAX_SAFE_INTEGER + 2', Number.MAX_SAFE_INTEGER + 2, { cls: RangeError }, { cls: RangeError }],
];

// Made only where the platform has them (Poll throws ENOSYS on Windows, Epoll
// is Linux-only); the tests that use a missing one are skipped with the reason.
const pollMissing = backendMissing('poll');
const epollMissing = backendMissing('epoll');
const poll = (pollMissing ? null : new Poll()) as Poll;
const epoll = (epollMissing ? null : new Epoll()) as Epoll;
afterAll(() => epoll?.close());
/** `it` where every backend in `needs` exists, else skipped with why not. */
function itWith(...needs: Array<'poll' | 'epoll'>): typeof it {
  const why = needs.map(backendMissing).filter(Boolean).join('; ');
  return itUnless(why !== '', why);
}

// Every function that takes a FileLike (plus close(), which takes a number),
// with the backend it needs ('' for none).
const fdTargets: Array<[string, (v: unknown) => unknown, 'filelike' | 'number', '' | 'poll' | 'epoll']> = [
  ['select rlist', (v) => select([v as number], [], [], 0), 'filelike', ''],
  ['select wlist', (v) => select([], [v as number], [], 0), 'filelike', ''],
  ['select xlist', (v) => select([], [], [v as number], 0), 'filelike', ''],
  ['Poll.register', (v) => poll.register(v as number), 'filelike', 'poll'],
  ['Poll.register with a mask', (v) => poll.register(v as number, POLLIN), 'filelike', 'poll'],
  ['Poll.modify', (v) => poll.modify(v as number, POLLIN), 'filelike', 'poll'],
  ['Poll.unregister', (v) => poll.unregister(v as number), 'filelike', 'poll'],
  ['Epoll.register', (v) => epoll.register(v as number), 'filelike', 'epoll'],
  ['Epoll.modify', (v) => epoll.modify(v as number, EPOLLIN), 'filelike', 'epoll'],
  ['Epoll.unregister', (v) => epoll.unregister(v as number), 'filelike', 'epoll'],
  ['Epoll.fromFd', (v) => Epoll.fromFd(v as number), 'filelike', 'epoll'],
  ['close', (v) => close(v as number), 'number', ''],
];

function check(fn: () => unknown, want: Expect): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').toBeDefined();
  if ('cls' in want) {
    expect(err).toBeInstanceOf(want.cls);
    // A plain argument error, not a system error.
    expect((err as { code?: unknown }).code === undefined || typeof (err as { code?: unknown }).code === 'string').toBe(true);
    expect((err as { errno?: unknown }).errno).toBeUndefined();
    expect((err as Error).message.length).toBeGreaterThan(0);
  } else if ('code' in want) {
    expect(err).toBeInstanceOf(Error);
    expect((err as { code?: unknown }).code).toBe(want.code);
  } else {
    expect(err).toBe(want.same);
  }
}

describe('bad fds', () => {
  for (const [target, fn, takes, needs] of fdTargets) {
    const cases = badFds.map(([name, value, filelike, number]) => [`${target}(${name})`, value, takes === 'filelike' ? filelike : number] as const);
    (needs ? itWith(needs) : it).each(cases)('%s', (_name, value, want) => {
      check(() => fn(value), want);
    });
  }

  itWith('poll', 'epoll')('nothing was registered by the rejected calls', () => {
    expect(poll.poll(0)).toEqual([]);
    expect(epoll.poll(0)).toEqual([]);
  });
});

describe('select() specifics', () => {
  it.each([
    ['a string', 'abc'],
    ['null', null],
    ['undefined', undefined],
    ['an array-like object', { length: 1, 0: 0 }],
    ['a number', 3],
    ['a Set', new Set([0])],
  ] as Array<[string, unknown]>)('a list that is %s is a TypeError', (_name, v) => {
    for (const call of [
      () => select(v as number[], [], [], 0),
      () => select([], v as number[], [], 0),
      () => select([], [], v as number[], 0),
    ]) {
      check(call, { cls: TypeError });
    }
  });

  itFdNumberLimit('an fd number >= FD_SETSIZE is a RangeError even when not open, checked before any wait', () => {
    const [a, b] = socketpair();
    try {
      for (const fd of [FD_SETSIZE, FD_SETSIZE + 1, 65535, 2 ** 31 - 1]) {
        check(() => select([a, fd], [], [], 0), { cls: RangeError });
        check(() => select([], [b], [fd], null), { cls: RangeError });
      }
      // FD_SETSIZE - 1 passes the argument check and reaches the kernel, which
      // either says EBADF or (beyond the size of the fd table) ignores it.
      let err: unknown;
      try {
        expect(select([FD_SETSIZE - 1], [], [], 0)).toEqual([[], [], []]);
      } catch (e) {
        err = e;
      }
      if (err !== undefined) expect(err).toMatchObject({ code: 'EBADF', syscall: 'select' });
    } finally {
      a.close();
      b.close();
    }
  });

  itPipes('a closed fd is the system error EBADF from select', () => {
    const [r, w] = pipe();
    close(r);
    close(w);
    for (const lists of [[[r], [], []], [[], [w], []], [[], [], [r]]] as number[][][]) {
      let err: (Error & { code?: string; errno?: number; syscall?: string }) | undefined;
      try {
        select(lists[0], lists[1], lists[2], 0);
      } catch (e) {
        err = e as Error;
      }
      expect(err).toMatchObject({ code: 'EBADF', errno: -9, syscall: 'select' });
      expect(err!.message).toMatch(/select.*EBADF/);
    }
  });
});

describe('timeouts', () => {
  const badTimeouts: Array<[string, unknown]> = [
    ['NaN', NaN],
    ['a string', '10'],
    ['an empty string', ''],
    ['an object', {}],
    ['a boolean', true],
    ['a bigint', 10n],
    ['an array', [10]],
  ];
  const targets: Array<[string, (t: unknown) => unknown, '' | 'poll' | 'epoll']> = [
    ['select', (t) => select([], [], [], t as number), ''],
    ['Poll.poll', (t) => poll.poll(t as number), 'poll'],
    ['Epoll.poll', (t) => epoll.poll(t as number), 'epoll'],
  ];
  for (const [target, fn, needs] of targets) {
    const cases = badTimeouts.map(([name, t]) => [`${target}(${name})`, t] as const);
    (needs ? itWith(needs) : it).each(cases)('%s is a TypeError', (_name, t) => {
      check(() => fn(t), { cls: TypeError });
    });
  }
});

describe('event masks', () => {
  const [a, b] = socketpair();
  afterAll(() => {
    a.close();
    b.close();
  });
  const badMasks: Array<[string, unknown, Expect]> = [
    ['an unknown bit (1 << 20)', 1 << 20, { cls: RangeError }],
    ['an unknown bit (1 << 27)', 1 << 27, { cls: RangeError }],
    ['2**32', 2 ** 32, { cls: RangeError }],
    ['-(2**31) - 1', -(2 ** 31) - 1, { cls: RangeError }],
    ['1e20', 1e20, { cls: RangeError }],
    ['1.5', 1.5, { cls: TypeError }],
    ['NaN', NaN, { cls: TypeError }],
    ['a string', '1', { cls: TypeError }],
    ['null', null, { cls: TypeError }],
    ['an object', {}, { cls: TypeError }],
  ];
  const targets: Array<[string, (m: unknown) => unknown, 'poll' | 'epoll']> = [
    ['Poll.register', (m) => poll.register(a, m as number), 'poll'],
    ['Poll.modify', (m) => {
      poll.register(b, POLLIN);
      try {
        poll.modify(b, m as number);
      } finally {
        poll.unregister(b);
      }
    }, 'poll'],
    ['Epoll.register', (m) => epoll.register(a, m as number), 'epoll'],
    ['Epoll.modify', (m) => {
      epoll.register(b, EPOLLIN);
      try {
        epoll.modify(b, m as number);
      } finally {
        epoll.unregister(b);
      }
    }, 'epoll'],
  ];
  for (const [target, fn, needs] of targets) {
    const cases = badMasks.map(([name, m, want]) => [`${target}(${name})`, m, want] as const);
    itWith(needs).each(cases)('%s', (_name, m, want) => {
      check(() => fn(m), want);
    });
  }

  itWith('poll', 'epoll')('Poll has POLL bits only and Epoll EPOLL bits only', () => {
    // EPOLLET is meaningless to poll(2).
    check(() => poll.register(a, 2 ** 31), { cls: RangeError });
    expect(poll.poll(0)).toEqual([]);
    expect(epoll.poll(0)).toEqual([]);
  });
});

describe('closed fds', () => {
  (pollMissing ? itWith('poll') : itPipes)('Poll reports a closed fd as POLLNVAL instead of throwing', () => {
    const p = new Poll();
    const [r, w] = pipe();
    p.register(r, POLLIN);
    close(r);
    close(w);
    expect(p.poll(0)).toEqual([[r, POLLNVAL]]);
    p.unregister(r);
  });

  (epollMissing ? itWith('epoll') : itPipes)('Epoll.register of a closed fd is EBADF', () => {
    const [r, w] = pipe();
    close(r);
    close(w);
    check(() => epoll.register(r), { code: 'EBADF' });
  });

  itPipes('close() of a closed fd is EBADF, with errno and syscall', () => {
    const [r, w] = pipe();
    close(r);
    close(w);
    let err: (Error & { code?: string; errno?: number; syscall?: string }) | undefined;
    try {
      close(r);
    } catch (e) {
      err = e as Error;
    }
    expect(err).toMatchObject({ code: 'EBADF', errno: -9, syscall: 'close' });
  });

  itPipes('pipe() ignores stray arguments and returns two open fds', () => {
    const [r, w] = (pipe as (...args: unknown[]) => [number, number])('x', -1, {});
    expect(Number.isInteger(r) && Number.isInteger(w) && r !== w).toBe(true);
    close(r);
    close(w);
  });
});

describe('the process survives', () => {
  itProcFs('this process still works and leaked no fd', () => {
    const [a, b] = socketpair();
    b.send(Buffer.from('ok'));
    expect(select([a], [], [], 0)[0]).toEqual([a]);
    a.close();
    b.close();
    // The shared Poll/Epoll sets hold no fds of their own except the epoll fd.
    expect(openFds().filter((fd) => !fdsBefore.includes(fd))).toEqual([epoll.fileno()].filter((fd) => !fdsBefore.includes(fd)));
  });

  it('a child hammered with bad input exits normally', () => {
    const out = spawnSync(process.execPath, ['-e', `
      const io = require(${JSON.stringify(root)} + '/dist/index.js');
      const values = ['x', null, undefined, {}, { fileno: () => 'x' }, NaN, -1, 2 ** 31, 1e20, 1.5, Symbol(), 10n, io.FD_SETSIZE, true];
      // Timeouts only get values that are invalid as timeouts: a valid one could block for ever.
      const badTimeouts = ['x', {}, NaN, Symbol(), 10n, true, [1]];
      // Where a backend is missing (ENOSYS), its calls are made on a stand-in that throws.
      const make = (C) => { try { return new C(); } catch (err) { if (err.code !== 'ENOSYS') throw err; return null; } };
      const none = () => { throw new Error('no such backend here'); };
      const stub = { register: none, modify: none, unregister: none, poll: () => [], close() {} };
      const p = make(io.Poll) || stub;
      const e = make(io.Epoll) || stub;
      const [a, b] = io.socketpair();
      let n = 0;
      const attempt = (f) => { try { f(); } catch (err) { if (err instanceof Error) n++; } };
      for (const v of values) {
        for (const f of [
          () => io.select([v], [], [], 0), () => io.select([], [v], [], 0), () => io.select([], [], [v], 0),
          () => p.register(v), () => p.register(a, v), () => p.modify(v, 1), () => p.unregister(v),
          () => e.register(v), () => e.register(b, v), () => e.modify(v, 1), () => e.unregister(v),
          () => e.poll(0, v), () => io.Epoll.fromFd(v), () => io.close(v),
        ]) attempt(f);
      }
      for (const t of badTimeouts) {
        for (const f of [() => io.select([], [], [], t), () => p.poll(t), () => e.poll(t)]) attempt(f);
      }
      p.poll(0);
      e.poll(0);
      e.close();
      console.log('survived', n);
    `], { encoding: 'utf8', timeout: 20000 * TIME_SCALE });
    expect(out.signal).toBeNull();
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^survived \d+/);
  });
});
