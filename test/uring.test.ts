// UringSelector specifics that the shared selector suites cannot see: multishot
// polls that stay armed across many events (checked in the ring's own fdinfo),
// the single-shot re-arm path, a closed fd still registered, more registrations
// than the submission queue holds, many modifies, options, and a kernel that
// refuses io_uring (a seccomp filter makes io_uring_setup fail as it would).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_READ, EVENT_WRITE, Socket, UringSelector, socketpair } from '../src/ts/index';
import { NO_URING_QEMU, QEMU_USER } from './platform';

const root = path.resolve(__dirname, '..');
const RW = EVENT_READ | EVENT_WRITE;

/** The ring's state as the kernel shows it in /proc/self/fdinfo. */
function ringInfo(sel: UringSelector): { sqTail: number; sqEntries: number; polls: number } {
  const text = fs.readFileSync(`/proc/self/fdinfo/${sel.fileno()}`, 'utf8');
  const num = (re: RegExp) => Number(re.exec(text)?.[1]);
  return {
    sqTail: num(/^SqTail:\s*(\d+)/m),
    sqEntries: parseInt(/^SqMask:\s*0x([0-9a-f]+)/m.exec(text)?.[1] ?? 'NaN', 16) + 1,
    // Armed poll requests, one "op=6" line each (IORING_OP_POLL_ADD).
    polls: (text.match(/^\s+op=6\b/gm) ?? []).length,
  };
}

function errorOf(fn: () => unknown): NodeJS.ErrnoException {
  try {
    fn();
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
  throw new Error('expected a throw');
}

describe.skipIf(process.platform !== 'linux' || QEMU_USER)(`UringSelector (io_uring is Linux-only${QEMU_USER ? `; ${NO_URING_QEMU}` : ''})`, () => {
  const toClose: Array<{ close(): void }> = [];
  afterEach(() => {
    for (const c of toClose.splice(0)) c.close();
  });
  function pair(): [Socket, Socket] {
    const p = socketpair();
    toClose.push(...p);
    return p;
  }
  function selector(opts?: { entries?: number; multishot?: boolean }): UringSelector<string> {
    const s = new UringSelector<string>(opts);
    toClose.push(s);
    return s;
  }

  it('a multishot registration survives 10,000 readiness events: one poll request submitted in all', () => {
    const sel = selector();
    expect(sel.multishot).toBe(true);
    const [a, b] = pair();
    const key = sel.register(a, EVENT_READ, 'a');
    const x = Buffer.from('x');
    let wrong = 0;
    for (let i = 0; i < 10000; i++) {
      b.send(x);
      const ready = sel.select(1000);
      if (ready.length !== 1 || ready[0][0] !== key || ready[0][1] !== EVENT_READ) wrong++;
      if (a.recv(16)?.length !== 1) wrong++;
    }
    expect(wrong).toBe(0);
    expect(sel.select(0)).toEqual([]);
    const info = ringInfo(sel);
    expect(info.sqTail).toBe(1); // the one POLL_ADD, never re-armed
    expect(info.polls).toBe(1);
  });

  it('single-shot (multishot: false): 10,000 events, each poll re-armed after its completion', () => {
    const sel = selector({ multishot: false });
    expect(sel.multishot).toBe(false);
    const [a, b] = pair();
    const key = sel.register(a, EVENT_READ, 'a');
    const x = Buffer.from('x');
    let wrong = 0;
    for (let i = 0; i < 10000; i++) {
      b.send(x);
      const ready = sel.select(1000);
      if (ready.length !== 1 || ready[0][0] !== key) wrong++;
      a.recv(16);
    }
    expect(wrong).toBe(0);
    expect(sel.select(0)).toEqual([]);
    expect(ringInfo(sel).sqTail).toBeGreaterThanOrEqual(10000);
  });

  it.each([true, false])('level-triggered (multishot %s): an fd left readable is reported by every select()', (multishot) => {
    const sel = selector({ multishot });
    const [a, b] = pair();
    const key = sel.register(a, EVENT_READ);
    b.send(Buffer.from('abc'));
    for (let i = 0; i < 5; i++) expect(sel.select(1000)).toEqual([[key, EVENT_READ]]);
    a.recv(1);
    expect(sel.select(0)).toEqual([[key, EVENT_READ]]);
    a.recv(16);
    expect(sel.select(0)).toEqual([]);
    b.send(Buffer.from('d'));
    expect(sel.select(1000)).toEqual([[key, EVENT_READ]]);
  });

  it('multishot: a wake-up consumed by the caller\'s reads since the last select() is not reported', () => {
    const sel = selector();
    const [a, b] = pair();
    a.setBlocking(false);
    const key = sel.register(a, EVENT_READ);
    let spurious = 0;
    for (let i = 0; i < 200; i++) {
      b.send(Buffer.from('1'));
      expect(sel.select(1000)).toEqual([[key, EVENT_READ]]);
      b.send(Buffer.from('2')); // a second wake-up, hence a second completion...
      while (a.recv(64) !== null); // ...whose data this loop consumes
      if (sel.select(0).length !== 0) spurious++;
    }
    expect(spurious).toBe(0);
  });

  it.each([true, false])('level-triggered in selectAsync too (multishot %s): a key left ready is reported by each wait at once', async (multishot) => {
    const sel = selector({ multishot });
    const [a, b] = pair();
    const key = sel.register(a, EVENT_READ);
    const p = sel.selectAsync(5000); // nothing ready yet: it sleeps in Node's loop
    setTimeout(() => b.send(Buffer.from('x')), 20);
    expect(await p).toEqual([[key, EVENT_READ]]);
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) expect(await sel.selectAsync(5000)).toEqual([[key, EVENT_READ]]);
    expect(performance.now() - t0).toBeLessThan(4000); // never one 5 s timeout
    a.recv(16);
    expect(await sel.selectAsync(50)).toEqual([]);
  });

  it('closing a registered fd before unregister: the armed poll keeps the socket open until unregister, which works by identity', () => {
    const sel = selector();
    const [a, b] = pair();
    b.setBlocking(false);
    sel.register(a, EVENT_READ, 'a');
    expect(sel.select(0)).toEqual([]); // the poll is armed (submitted with this wait)
    const fd = a.fileno();
    a.close();
    // The armed poll holds a reference to the file: the peer does not see EOF yet.
    expect(b.recv(16)).toBeNull();
    expect(sel.getKey(a).fd).toBe(fd);
    const key = sel.unregister(a);
    expect(key.fd).toBe(fd);
    expect(sel.getMap().size).toBe(0);
    // Unregistering removed the poll, and with it the last reference: EOF now.
    const kb = sel.register(b, EVENT_READ, 'b');
    expect(sel.select(2000)).toEqual([[kb, EVENT_READ]]);
    expect(b.recv(16)).toEqual(Buffer.alloc(0));
    sel.unregister(b);
    // The fd number is free and usable again; completions of the old poll do not leak into it.
    const [c, d] = pair();
    const kc = sel.register(c, EVENT_READ, 'c');
    expect(sel.select(0)).toEqual([]);
    d.send(Buffer.from('y'));
    expect(sel.select(1000)).toEqual([[kc, EVENT_READ]]);
  });

  it('an fd closed before its poll was submitted: reported with its events (EBADF from the kernel), as poll(2) reports POLLNVAL', () => {
    const sel = selector();
    const [a] = pair();
    const key = sel.register(a, EVENT_READ, 'a');
    a.close(); // the POLL_ADD is still queued: it goes with the next wait
    expect(sel.select(0)).toEqual([[key, EVENT_READ]]);
    expect(sel.select(0)).toEqual([[key, EVENT_READ]]);
    expect(sel.unregister(a)).toBe(key);
    expect(sel.select(0)).toEqual([]);
  });

  it('modify between READ, WRITE and both 3,000 times: each select() reports what the new events say', () => {
    const sel = selector();
    const [a, b] = pair();
    let key = sel.register(a, EVENT_READ);
    let wrong = 0;
    for (let i = 0; i < 3000; i++) {
      const readable = i % 4 < 2;
      if (readable) b.send(Buffer.from('z'));
      const events = [EVENT_READ, EVENT_WRITE, RW][i % 3];
      key = sel.modify(a, events);
      const want = events & (readable ? RW : EVENT_WRITE);
      const got = sel.select(0);
      if (want === 0 ? got.length !== 0 : got.length !== 1 || got[0][0] !== key || got[0][1] !== want) wrong++;
      if (readable) a.recv(64);
    }
    expect(wrong).toBe(0);
    // Every replaced poll was removed: one is armed.
    sel.select(0);
    expect(ringInfo(sel).polls).toBe(1);
  });

  it('options: entries sizes the submission queue; bad options are TypeError/RangeError', () => {
    expect(ringInfo(selector({ entries: 64 })).sqEntries).toBe(64);
    expect(ringInfo(selector()).sqEntries).toBe(256);
    expect(errorOf(() => new UringSelector(null as never))).toBeInstanceOf(TypeError);
    expect(errorOf(() => new UringSelector('x' as never))).toBeInstanceOf(TypeError);
    expect(errorOf(() => new UringSelector({ entries: 0 }))).toBeInstanceOf(RangeError);
    expect(errorOf(() => new UringSelector({ entries: -1 }))).toBeInstanceOf(RangeError);
    expect(errorOf(() => new UringSelector({ entries: 1e9 }))).toBeInstanceOf(RangeError);
    expect(errorOf(() => new UringSelector({ entries: 1.5 }))).toBeInstanceOf(TypeError);
    expect(errorOf(() => new UringSelector({ entries: NaN }))).toBeInstanceOf(TypeError);
    expect(errorOf(() => new UringSelector({ entries: '64' as never }))).toBeInstanceOf(TypeError);
    expect(errorOf(() => new UringSelector({ multishot: 1 as never }))).toBeInstanceOf(TypeError);
    expect(errorOf(() => new UringSelector({ entries: 0 })).message).toMatch(/options\.entries/);
  });

  it('bad fds: negative, huge and non-integer fds are refused before any syscall', () => {
    const sel = selector();
    expect(errorOf(() => sel.register(-1, EVENT_READ))).toBeInstanceOf(Error);
    expect(errorOf(() => sel.register(2 ** 31, EVENT_READ))).toBeInstanceOf(RangeError);
    expect(errorOf(() => sel.register(1e6, EVENT_READ))).toMatchObject({ code: 'EBADF' });
    expect(errorOf(() => sel.register(1.5, EVENT_READ))).toBeInstanceOf(TypeError);
    expect(errorOf(() => sel.register(NaN, EVENT_READ))).toBeInstanceOf(TypeError);
    expect(sel.getMap().size).toBe(0);
    expect(sel.select(0)).toEqual([]);
  });

  it('more registrations than the submission queue holds (64 entries, 5,000 fds, 2,500 completions for a 1,024-entry CQ): all armed, all reported, all removed', () => {
    // In a child with a raised fd limit: 5,000 sockets.
    const script = `
      const io = require(${JSON.stringify(root)});
      const fs = require('node:fs');
      const info = (s) => fs.readFileSync('/proc/self/fdinfo/' + s.fileno(), 'utf8');
      const polls = (s) => (info(s).match(/^\\s+op=6\\b/gm) || []).length;
      const sel = new io.UringSelector({ entries: 64 });
      const pairs = [];
      for (let i = 0; i < 2500; i++) pairs.push(io.socketpair());
      const keys = [];
      for (const [a, b] of pairs) { keys.push(sel.register(a, io.EVENT_READ | io.EVENT_WRITE)); keys.push(sel.register(b, io.EVENT_READ)); }
      // Every a is writable: 2,500 completions at once, then readable b's after sends.
      const w = sel.select(5000);
      const writable = w.filter(([k, m]) => m === io.EVENT_WRITE).length;
      for (let i = 0; i < 2500; i += 2) pairs[i][0].send(Buffer.from('x'));
      const r = sel.select(5000).filter(([k, m]) => m === io.EVENT_READ).length;
      // Now 5,000 modifies (a remove and an add each) through the 64-entry queue.
      for (const [a, b] of pairs) { sel.modify(a, io.EVENT_READ); sel.modify(b, io.EVENT_WRITE); }
      const afterModify = sel.select(5000).length;
      // Every new poll is armed: data for every a makes all 5,000 ready at once.
      for (const [a, b] of pairs) b.send(Buffer.from('y'));
      const all = sel.select(5000).length;
      for (const [a, b] of pairs) { sel.unregister(a); sel.unregister(b); }
      sel.select(0);
      console.log(JSON.stringify({ writable, r, afterModify, all, left: polls(sel), sqEntries: parseInt(/SqMask:\\s*0x([0-9a-f]+)/.exec(info(sel))[1], 16) + 1 }));
      sel.close();
      for (const [a, b] of pairs) { a.close(); b.close(); }
    `;
    const out = execFileSync('sh', ['-c', 'ulimit -n 12000; exec "$0" -e "$1"', process.execPath, script], { encoding: 'utf8', timeout: 60000 });
    const res = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
    expect(res.sqEntries).toBe(64);
    expect(res.writable).toBe(2500);
    expect(res.r).toBe(1250);
    // After the modifies: every b is writable (2,500), no a is readable (nothing sent to them).
    expect(res.afterModify).toBe(2500);
    expect(res.all).toBe(5000);
    expect(res.left).toBe(0);
  });

  describe('a kernel that refuses io_uring (io_uring_setup failed by a seccomp filter; needs cc to build it)', () => {
    let helper = '';
    const haveCc = spawnSync('cc', ['--version']).status === 0;
    function build(): string {
      if (helper) return helper;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-uring-'));
      helper = path.join(dir, 'no-io-uring');
      execFileSync('cc', ['-O', '-o', helper, path.join(__dirname, 'fixtures', 'no-io-uring.c')]);
      return helper;
    }
    const script = `
      const io = require(${JSON.stringify(root)});
      let error;
      try { new io.UringSelector(); } catch (e) { error = { code: e.code, errno: e.errno, syscall: e.syscall, message: e.message }; }
      const d = new io.DefaultSelector();
      console.log(JSON.stringify({ error, fallback: d.backend }));
      d.close();
    `;
    it.skipIf(!haveCc).each([
      ['ENOSYS', /has no io_uring/],
      ['EPERM', /not permitted|disabled/],
    ] as const)('%s: the constructor throws it with a message saying why; DefaultSelector is unaffected', (code, why) => {
      const out = execFileSync(build(), [code, process.execPath, '-e', script], { encoding: 'utf8', timeout: 30000 });
      const res = JSON.parse(out.trim()) as { error?: NodeJS.ErrnoException; fallback: string };
      expect(res.error).toMatchObject({ code, errno: -os.constants.errno[code], syscall: 'io_uring_setup' });
      expect(res.error?.message).toMatch(/io_uring/);
      expect(res.error?.message).toMatch(why);
      expect(res.fallback).toBe('epoll');
    });
  });
});
