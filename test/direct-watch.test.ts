// Direct watching (selectAsync() on a selector of at most 64 fds has Node's loop
// watch a duplicate of each: direct_watch.h): fds that Node itself watches,
// crossing the limit both ways while a wait is pending, fds closed or replaced
// behind the selector's back, and the fd limit met while watches are made.
// Linux only: the Windows build has no libuv fd watch (NO_DIRECT_WATCH), and
// the checks read /proc/self.
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  EVENT_READ, EVENT_WRITE, EpollSelector, PollSelector, SelectSelector, Socket, UringSelector, close, socketpair,
  type BaseSelector, type SelectorKey,
} from '../src/ts/index';
import { TIME_SCALE } from './time-scale';
import { DIRECT_DEFAULT_MAX, LINUX, NO_DIRECT_WATCH, WAYS, backendMissing, backendTitle, setWay, wayTitle } from './platform';

const root = path.resolve(__dirname, '..').split(path.sep).join('/');
const BACKENDS = [
  ['select', SelectSelector, 'SelectSelector'],
  ['poll', PollSelector, 'PollSelector'],
  ['epoll', EpollSelector, 'EpollSelector'],
  ['io_uring', UringSelector, 'UringSelector'],
] as const;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const SKIP = !LINUX ? 'Linux-only (direct watching needs libuv fd watches; the checks read /proc/self)' : NO_DIRECT_WATCH;

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
function pair(): [Socket, Socket] {
  const [a, b] = socketpair();
  cleanups.push(() => { if (!a.closed) a.close(); if (!b.closed) b.close(); });
  return [a, b];
}
/** CPU (ms) the process spends over `ms` of wall time. */
async function cpuOver(ms: number): Promise<number> {
  const c0 = process.cpuUsage();
  await sleep(ms);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}
const dataOf = (ready: Array<[SelectorKey<string>, number]>) => ready.map(([k, m]) => [k.data, m]).sort();

for (const [name, Cls, clsName] of BACKENDS) describe.skipIf(!!SKIP || !!backendMissing(name))(`${backendTitle(`${name}: direct watching`, name)}${SKIP ? ` (skipped: ${SKIP})` : ''}`, () => {
  let oldWay = 0;
  beforeAll(() => { oldWay = setWay('direct'); });
  afterAll(() => { setWay(oldWay); });

  it("fds Node already watches (a net.Socket's, a child's stdout pipe) beside socketpairs: Node and the selector both read what is theirs", async () => {
    const sel: BaseSelector<string> = new Cls<string>();
    cleanups.push(() => sel.close());
    // A net connection whose client end Node reads ('data').
    const server = net.createServer((c) => {
      let i = 0;
      const iv = setInterval(() => { c.write(`n${i++};`); if (i === 20) { clearInterval(iv); c.end(); } }, 5);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(client, 'connect');
    let fromNet = '';
    client.on('data', (d) => { fromNet += d; });
    const netEnded = once(client, 'end');
    // A child whose stdout pipe Node reads.
    const child = spawn('sh', ['-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do printf "c$i;"; sleep 0.01; done']);
    const childDone = once(child, 'exit');
    let fromChild = '';
    child.stdout.on('data', (d) => { fromChild += d; });
    const childEnded = once(child.stdout, 'end');
    const netFd = (client as unknown as { _handle: { fd: number } })._handle.fd;
    const pipeFd = (child.stdout as unknown as { _handle: { fd: number } })._handle.fd;
    expect(netFd).toBeGreaterThan(2);
    expect(pipeFd).toBeGreaterThan(2);
    const [a, b] = pair();
    const [c, d] = pair();
    sel.register(a, EVENT_READ, 'a');
    sel.register(c, EVENT_READ, 'c');
    // Registered for readability beside them; the selector never reads these (Node does).
    sel.register(netFd, EVENT_READ, 'net');
    sel.register(pipeFd, EVENT_READ, 'pipe');
    // Node closes its fd when its stream ends: unregister first, as with any fd.
    client.once('end', () => sel.unregister(netFd));
    child.stdout.once('end', () => sel.unregister(pipeFd));
    const got: string[] = [];
    let sent = 0;
    const writer = setInterval(() => {
      if (sent === 30) return clearInterval(writer);
      (sent % 2 ? d : b).send(Buffer.from(`m${sent++};`));
    }, 7);
    cleanups.push(() => clearInterval(writer));
    const deadline = performance.now() + 10000 * TIME_SCALE;
    while (got.join('').split(';').length - 1 < 30 && performance.now() < deadline) {
      const ready = await sel.selectAsync(1000);
      for (const [key] of ready) {
        if (key.data === 'a' || key.data === 'c') {
          const s = key.data === 'a' ? a : c;
          got.push(s.recv(4096).toString());
        }
      }
      // A net or pipe fd Node has not read yet is reported again; let Node's loop turn.
      if (ready.every(([k]) => k.data === 'net' || k.data === 'pipe')) await new Promise((r) => setImmediate(r));
    }
    await Promise.all([netEnded, childEnded, childDone]);
    const msgs = got.join('').split(';').filter(Boolean).sort((x, y) => Number(x.slice(1)) - Number(y.slice(1)));
    expect(msgs).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`));
    expect(fromNet).toBe(Array.from({ length: 20 }, (_, i) => `n${i};`).join(''));
    expect(fromChild).toBe(Array.from({ length: 10 }, (_, i) => `c${i + 1};`).join(''));
    // The selector still works afterwards.
    client.destroy();
    b.send(Buffer.from('z'));
    expect(dataOf(await sel.selectAsync(1000))).toEqual([['a', EVENT_READ]]);
  });

  for (const limit of [4, DIRECT_DEFAULT_MAX]) it(`crossing the limit (${limit}) both ways while a wait is pending loses no event and reports none twice`, async () => {
    const old = setWay(limit);
    cleanups.push(() => { setWay(old); });
    const sel: BaseSelector<string> = new Cls<string>();
    cleanups.push(() => sel.close());
    const pairs = Array.from({ length: limit + 1 }, () => pair());
    for (let i = 0; i < limit; i++) sel.register(pairs[i][0], EVENT_READ, `p${i}`);
    const ping = async (i: number, p: Promise<Array<[SelectorKey<string>, number]>>) => {
      expect(dataOf(await p)).toEqual([[`p${i}`, EVENT_READ]]);
      expect(pairs[i][0].recv(10)).toEqual(Buffer.from('x'));
      // Consumed: not reported again.
      expect(await sel.selectAsync(30)).toEqual([]);
    };
    const fdCount = () => fs.readdirSync('/proc/self/fd').length;
    let p0 = sel.selectAsync(5000);
    await sleep(5);
    const fdsDirect = fdCount();
    pairs[0][1].send(Buffer.from('x'));
    await ping(0, p0);
    for (const round of [0, 1, 2]) {
      // Up: pending, an event on a watched fd, then the (limit+1)-th fd registered in the same turn.
      let p = sel.selectAsync(5000);
      await sleep(5);
      pairs[1][1].send(Buffer.from('x'));
      sel.register(pairs[limit][0], EVENT_READ, `p${limit}`);
      await ping(1, p);
      // Past the limit: the new fd and the old ones are all seen.
      p = sel.selectAsync(5000);
      await sleep(5);
      pairs[limit][1].send(Buffer.from('x'));
      await ping(limit, p);
      p = sel.selectAsync(5000);
      await sleep(5);
      pairs[0][1].send(Buffer.from('x'));
      await ping(0, p);
      // Down: pending, an event, then back to the limit in the same turn.
      p = sel.selectAsync(5000);
      await sleep(5);
      pairs[2][1].send(Buffer.from('x'));
      sel.unregister(pairs[limit][0]);
      await ping(2, p);
      // Down with the event on the fd that goes: it is not reported (it is no longer registered).
      sel.register(pairs[limit][0], EVENT_READ, `p${limit}`);
      p = sel.selectAsync(5000);
      await sleep(5);
      pairs[limit][1].send(Buffer.from('x'));
      sel.unregister(pairs[limit][0]);
      pairs[3 % limit][1].send(Buffer.from('x'));
      await ping(3 % limit, p);
      expect(pairs[limit][0].recv(10)).toEqual(Buffer.from('x'));
      void round;
    }
    // Back at the limit, watched directly again: the nested way's waiter thread
    // and wake-up pipe are gone (io_uring keeps its ring's eventfd, one fd).
    p0 = sel.selectAsync(5000);
    await sleep(5);
    expect(fdCount() - fdsDirect).toBe(name === 'io_uring' ? 1 : 0);
    pairs[0][1].send(Buffer.from('x'));
    await ping(0, p0);
  });

});

// Closed behind the selector's back, on both ways (the nested one is what it did before).
for (const way of WAYS) for (const [name, Cls] of BACKENDS) describe.skipIf(!!SKIP || !!backendMissing(name))(`${wayTitle(backendTitle(`${name}: an fd closed behind the selector's back`, name), way)}${SKIP ? ` (skipped: ${SKIP})` : ''}`, () => {
  let oldWay = 0;
  beforeAll(() => { oldWay = setWay(way); });
  afterAll(() => { setWay(oldWay); });

  it('a registered fd closed behind the selector\'s back, then its number reused, does not spin Node\'s loop; the old file is let go', async () => {
    const sel: BaseSelector<string> = new Cls<string>();
    cleanups.push(() => sel.close());
    const [a, b] = pair();
    const [c] = pair();
    sel.register(a, EVENT_READ, 'a');
    sel.register(c, EVENT_READ, 'c');
    const pending = sel.selectAsync(null);
    let settled = false;
    void pending.then(() => { settled = true; }, () => { settled = true; });
    await sleep(10);
    const fd = a.fileno();
    close(a.detach()); // behind the selector's back: still registered
    // Closed and nothing else: the loop sleeps.
    expect(await cpuOver(1000 * TIME_SCALE)).toBeLessThan(150 * TIME_SCALE);
    // The number is reused by another file (never readable here), and the old file's peer writes.
    const [r1, r2] = socketpair();
    cleanups.push(() => { r1.close(); r2.close(); });
    const reused = [r1, r2].find((s) => s.fileno() === fd);
    expect(reused, `fd ${fd} reused by the new pair (${r1.fileno()}, ${r2.fileno()})`).toBeDefined();
    b.setBlocking(false);
    try { b.send(Buffer.from('late')); } catch { /* EPIPE: the old file is gone already */ }
    expect(await cpuOver(1000 * TIME_SCALE)).toBeLessThan(150 * TIME_SCALE);
    // Once unregistered, nothing holds the old file open: its peer sees it closed.
    // (Before that, a poll(2) or select(2) blocked in the waiter thread, or an
    // io_uring poll request, holds a reference to the file, as the kernel does.)
    sel.unregister(fd);
    let end: Buffer | null | undefined;
    for (let i = 0; i < 100 && end === undefined; i++) {
      try {
        const got = b.recv(10);
        if (got !== null && got.length === 0) end = got;
      } catch { end = Buffer.alloc(0); } // ECONNRESET
      if (end === undefined) await sleep(10);
    }
    expect(end).toEqual(Buffer.alloc(0));
    // Node's own loop is fine: a TCP round trip.
    const server = net.createServer((s) => s.end('pong'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise<void>((res) => server.close(() => res())));
    const reply = await new Promise<string>((res, rej) => {
      const s = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      let got = '';
      s.on('data', (dd) => { got += dd; });
      s.on('end', () => res(got));
      s.on('error', rej);
    });
    expect(reply).toBe('pong');
    sel.close();
    await pending.catch(() => undefined); // select reports the closed fd (EBADF), as select(2) does
    void settled;
  });
});

// The fd limit met while the watches are made: the wait goes the nested way,
// and fails with a clear error only when that needs an fd too; the selector
// stays usable. In a child with `ulimit -n 1100` (duplicates are numbered from
// 1,024 up: every number is taken) and, for the nested way, `ulimit -n 48`.
describe.skipIf(!!SKIP)(`direct watching at the fd limit${SKIP ? ` (skipped: ${SKIP})` : ''}`, () => {
  for (const [name, , clsName] of BACKENDS) for (const way of WAYS) it.skipIf(!!backendMissing(name))(wayTitle(backendTitle(`${name}: out of fds, a wait goes the nested way, or fails with a SystemError naming the syscall when that needs an fd too; the selector stays usable`, name), way), async () => {
    const script = `
      const io = require(${JSON.stringify(root)});
      (async () => {
        const out = {};
        const sel = new io.${clsName}();
        const [a, b] = io.socketpair();
        sel.register(a, io.EVENT_READ);
        const fill = [];
        for (;;) { try { fill.push(io.pipe()); } catch (e) { out.fillError = e.code; break; } }
        // One fd may be left (a pipe takes two): take it too.
        for (;;) { try { fill.push([a.dup().detach()]); } catch (e) { break; } }
        try { await sel.selectAsync(100); out.first = 'resolved'; } catch (e) { out.first = { code: e.code, syscall: e.syscall, message: e.message, isError: e instanceof Error }; }
        out.selectAfter = sel.select(0).length;
        b.send(Buffer.from('x'));
        out.selectReady = sel.select(0).length;
        a.recv(1);
        for (const fds of fill.splice(0, 4)) for (const fd of fds) io.close(fd);
        setTimeout(() => b.send(Buffer.from('y')), 20);
        const r = await sel.selectAsync(2000);
        out.second = r.length;
        sel.close();
        console.log(JSON.stringify(out));
      })().catch((e) => { console.log(JSON.stringify({ crash: String(e && e.stack) })); });
    `;
    const res = await new Promise<{ out: string; err: string }>((resolve) => {
      execFile('sh', ['-c', `ulimit -n ${way === 'direct' ? 1100 : 48} && exec "$0" -e "$1"`, process.execPath, script], {
        encoding: 'utf8', timeout: 30000 * TIME_SCALE, env: { ...process.env, IOMUX_DIRECT_MAX: way === 'direct' ? '64' : '0' },
      }, (_e, out, err) => resolve({ out, err }));
    });
    const out = JSON.parse(res.out.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    expect(out.crash, res.err).toBeUndefined();
    expect(out.fillError).toBe('EMFILE');
    // A duplicate that cannot be made sends the wait the nested way, which
    // needs an fd of its own for select and poll (the wake-up pipe) and io_uring
    // (the ring's eventfd), none for epoll (its epoll fd is Node's to watch).
    if (name === 'epoll') {
      expect(out.first).toBe('resolved');
    } else {
      expect(out.first).toMatchObject({ code: 'EMFILE', isError: true });
      expect(['pipe', 'io_uring_enter']).toContain((out.first as { syscall: string }).syscall);
      expect((out.first as { message: string }).message).toMatch(/EMFILE/);
    }
    expect(out.selectAfter).toBe(0);
    expect(out.selectReady).toBe(1);
    expect(out.second).toBe(1);
  });

  // Duplicates never take the low numbers: under a limit of 1,024 or less
  // there is no room for them, and every wait goes the nested way.
  for (const [name, , clsName] of BACKENDS) it.skipIf(!!backendMissing(name))(backendTitle(`${name}: under ulimit -n 256 no duplicate is made (the low numbers stay the application's); waits go the nested way with the same results`, name), async () => {
    const script = `
      const fs = require('fs');
      const io = require(${JSON.stringify(root)});
      const target = (fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd); } catch { return ''; } };
      (async () => {
        const sel = new io.${clsName}();
        const [a, b] = io.socketpair();
        const key = sel.register(a, io.EVENT_READ, 'a');
        const out = { results: [] };
        for (let i = 0; i < 3; i++) {
          const p = sel.selectAsync(2000);
          await new Promise((r) => setTimeout(r, 20));
          const file = target(a.fileno());
          out.sameFile = fs.readdirSync('/proc/self/fd').filter((n) => Number(n) !== a.fileno() && target(n) === file).length;
          b.send(Buffer.from('x'));
          const r = await p;
          out.results.push(r.map(([k, m]) => [k.data, m]));
          a.recv(1);
        }
        sel.close();
        console.log(JSON.stringify(out));
      })().catch((e) => { console.log(JSON.stringify({ crash: String(e && e.stack) })); });
    `;
    const res = await new Promise<{ out: string; err: string }>((resolve) => {
      execFile('sh', ['-c', 'ulimit -n 256 && exec "$0" -e "$1"', process.execPath, script], {
        encoding: 'utf8', timeout: 30000 * TIME_SCALE, env: { ...process.env, IOMUX_DIRECT_MAX: '64' },
      }, (_e, out, err) => resolve({ out, err }));
    });
    const out = JSON.parse(res.out.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    expect(out.crash, res.err).toBeUndefined();
    expect(out.sameFile).toBe(0);
    expect(out.results).toEqual([[['a', EVENT_READ]], [['a', EVENT_READ]], [['a', EVENT_READ]]]);
  });
});
