// selectAsync(): waits without blocking Node's event loop, on every Linux
// backend. Process lifetime and worker teardown are checked in child processes.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { getEventListeners, once } from 'node:events';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AbortError, EVENT_READ, EVENT_WRITE, EpollSelector, KqueueSelector, PollSelector, SO_LINGER, SO_RCVBUF, SO_SNDBUF, SOL_SOCKET,
  SelectSelector, Socket, UringSelector, socketpair, type BaseSelector,
} from '../src/ts/index';
import { TIME_SCALE } from './time-scale';
import { LINUX, NO_DIRECT_WATCH, WAYS, WINE, backendMissing, backendTitle, itPipes, itProcFs, setWay, wayTitle } from './platform';

// Forward slashes: the path goes into nested template literals, where a Windows backslash would be an escape.
const root = path.resolve(__dirname, '..').split(path.sep).join('/');
const BACKENDS = [
  ['select', SelectSelector, 'SelectSelector'],
  ['poll', PollSelector, 'PollSelector'],
  ['epoll', EpollSelector, 'EpollSelector'],
  ['kqueue', KqueueSelector, 'KqueueSelector'],
  ['io_uring', UringSelector, 'UringSelector'],
] as const;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs a CommonJS script (`io` is the package) in a fresh node; resolves with its exit and output. */
function runChild(script: string, timeout = 20000, nodeArgs: string[] = []): Promise<{ code: number | null; signal: string | null; out: string; err: string; ms: number }> {
  const code = `const io = require(${JSON.stringify(root)});\n${script}`;
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [...nodeArgs, '-e', code], { encoding: 'utf8', timeout: timeout * TIME_SCALE }, (error, out, err) => {
      const e = error as (NodeJS.ErrnoException & { code?: unknown; signal?: string }) | null;
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        signal: e?.signal ?? null,
        out, err, ms: performance.now() - t0,
      });
    });
  });
}

for (const way of WAYS) for (const [name, Cls, clsName] of BACKENDS) describe.skipIf(!!backendMissing(name) || (way === 'direct' && !!NO_DIRECT_WATCH))(wayTitle(backendTitle(`${name} selectAsync`, name), way), () => {
  let sel: BaseSelector<string>;
  let oldWay = 0;
  beforeAll(() => { oldWay = setWay(way); });
  afterAll(() => { setWay(oldWay); });
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

  it('resolves with the ready keys once the peer writes', async () => {
    const [a, b] = pair();
    const key = sel.register(a, EVENT_READ, 'a');
    setTimeout(() => b.send(Buffer.from('x')), 100);
    const t0 = performance.now();
    const ready = await sel.selectAsync(5000);
    expect(ready).toEqual([[key, EVENT_READ]]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(80);
  });

  it('resolves at once when something is already ready, with the same shape as select()', async () => {
    const [a, b] = pair();
    const ka = sel.register(a, EVENT_READ | EVENT_WRITE);
    b.send(Buffer.from('x'));
    const ready = await sel.selectAsync();
    expect(ready).toEqual([[ka, EVENT_READ | EVENT_WRITE]]);
    expect(ready).toEqual(sel.select(0));
  });

  it('does not block the event loop: timers tick and a net server answers during the wait', async () => {
    const [a, b] = pair();
    const key = sel.register(a, EVENT_READ);
    const server = net.createServer((c) => c.on('data', (d) => c.end(Buffer.concat([Buffer.from('echo:'), d]))));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    toClose.push(() => server.close());
    let ticks = 0;
    const iv = setInterval(() => ticks++, 20);
    toClose.push(() => clearInterval(iv));
    const pending = sel.selectAsync(10000);
    let settled = false;
    void pending.then(() => { settled = true; });
    // A full TCP round trip through Node's own loop while the wait is pending.
    const port = (server.address() as net.AddressInfo).port;
    const reply = await new Promise<string>((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => c.end('hi'));
      let got = '';
      c.on('data', (d) => { got += d; });
      c.on('end', () => resolve(got));
      c.on('error', reject);
    });
    expect(reply).toBe('echo:hi');
    await sleep(300);
    expect(settled).toBe(false);
    expect(ticks).toBeGreaterThanOrEqual(5);
    b.send(Buffer.from('x'));
    expect(await pending).toEqual([[key, EVENT_READ]]);
  });

  it('resolves [] after its timeout (never early), and at once for 0 or a negative one', async () => {
    const [a] = pair();
    sel.register(a, EVENT_READ);
    let t0 = performance.now();
    expect(await sel.selectAsync(300)).toEqual([]);
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(299);
    expect(took).toBeLessThan(300 + 1000);
    for (const t of [0, -5]) {
      t0 = performance.now();
      expect(await sel.selectAsync(t)).toEqual([]);
      expect(performance.now() - t0).toBeLessThan(500);
    }
    t0 = performance.now();
    expect(await sel.selectAsync(20.3)).toEqual([]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(20.3);
  });

  it('a timeout beyond what timers and syscalls take is waited out, not an error', async () => {
    const [a, b] = pair();
    const key = sel.register(a, EVENT_READ);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    toClose.push(() => process.off('warning', onWarning));
    const p = sel.selectAsync(2 ** 40);
    let settled = false;
    void p.then(() => { settled = true; }, () => { settled = true; });
    await sleep(150);
    expect(settled).toBe(false);
    b.send(Buffer.from('x'));
    expect(await p).toEqual([[key, EVENT_READ]]);
    expect(warnings).toEqual([]);
  });

  it('with nothing registered honours its timeout', async () => {
    const t0 = performance.now();
    expect(await sel.selectAsync(200)).toEqual([]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(199);
  });

  it('an already-aborted signal rejects with AbortError at once', async () => {
    const [a, b] = pair();
    sel.register(a, EVENT_READ);
    b.send(Buffer.from('x')); // even when something is ready
    const ac = new AbortController();
    ac.abort(new Error('why'));
    const t0 = performance.now();
    const err = await sel.selectAsync(5000, { signal: ac.signal }).then(() => undefined, (e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(err).toBeInstanceOf(AbortError);
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    // Nothing is left pending.
    expect((await sel.selectAsync(0)).length).toBe(1);
  });

  it('an abort during the wait rejects with AbortError promptly, and the selector stays usable', async () => {
    const [a, b] = pair();
    const key = sel.register(a, EVENT_READ);
    const ac = new AbortController();
    const p = sel.selectAsync(undefined, { signal: ac.signal });
    await sleep(100);
    const t0 = performance.now();
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - t0).toBeLessThan(500);
    // A late event does not resurrect the aborted wait; the next one sees it.
    b.send(Buffer.from('x'));
    expect(await sel.selectAsync(5000)).toEqual([[key, EVENT_READ]]);
  });

  it('many short waits in a row (timeouts, aborts) leave no stale wake-up behind', async () => {
    const [a, b] = pair();
    const key = sel.register(a, EVENT_READ);
    for (let i = 0; i < 20; i++) {
      expect(await sel.selectAsync(2)).toEqual([]);
      const ac = new AbortController();
      const p = sel.selectAsync(undefined, { signal: ac.signal });
      ac.abort();
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    }
    const p = sel.selectAsync(5000);
    setTimeout(() => b.send(Buffer.from('x')), 50);
    expect(await p).toEqual([[key, EVENT_READ]]);
    a.recv(10);
    // Nothing ready any more: the next wait really waits.
    const t0 = performance.now();
    expect(await sel.selectAsync(100)).toEqual([]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(99);
  });

  it(`a connection reset during the wait resolves it with all of the registered events${WINE ? ' (wine closes gracefully despite SO_LINGER 0: READ and EOF accepted under wine)' : ''}`, async () => {
    const lsn = new Socket();
    toClose.push(() => lsn.close());
    lsn.bind(['127.0.0.1', 0]);
    lsn.listen(1);
    const client = new Socket();
    client.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
    client.connect(lsn.getsockname());
    const server = (lsn.accept() as [Socket, unknown])[0];
    toClose.push(() => { client.close(); server.close(); });
    server.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096);
    client.setBlocking(false);
    // Fill the send buffer: neither readable nor writable now.
    const chunk = Buffer.alloc(65536, 1);
    for (let i = 0; i < 10000 && client.send(chunk) !== null; i++);
    const key = sel.register(client, EVENT_READ | EVENT_WRITE);
    const p = sel.selectAsync(5000);
    await sleep(50);
    server.setsockopt(SOL_SOCKET, SO_LINGER, 0);
    server.close(); // RST
    if (WINE) {
      // Windows documents closesocket() with a zero linger as a reset; wine closes
      // gracefully, so the client is readable (EOF), and its full send buffer keeps it unwritable.
      expect(await p).toEqual([[key, EVENT_READ]]);
      let got: unknown;
      try {
        got = client.recv(10)?.length;
      } catch (e) {
        got = (e as NodeJS.ErrnoException).code;
      }
      expect([0, 'ECONNRESET']).toContain(got);
    } else {
      expect(await p).toEqual([[key, EVENT_READ | EVENT_WRITE]]);
    }
  });

  it('close() while pending resolves [] promptly, even with no timeout', async () => {
    const [a] = pair();
    sel.register(a, EVENT_READ);
    const p = sel.selectAsync();
    await sleep(50);
    const t0 = performance.now();
    sel.close();
    expect(await p).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('a second concurrent call rejects with ERR_IOMUX_BUSY; the first one carries on', async () => {
    const [a, b] = pair();
    const key = sel.register(a, EVENT_READ);
    const first = sel.selectAsync(5000);
    await expect(sel.selectAsync(5000)).rejects.toMatchObject({ code: 'ERR_IOMUX_BUSY' });
    b.send(Buffer.from('x'));
    expect(await first).toEqual([[key, EVENT_READ]]);
    // Once settled, another call is allowed.
    expect(await sel.selectAsync(0)).toEqual([[key, EVENT_READ]]);
  });

  it('sees registrations made while it waits', async () => {
    const [a] = pair();
    sel.register(a, EVENT_READ);
    const p = sel.selectAsync(5000);
    await sleep(100);
    // A new fd that is already readable.
    const [c, d] = pair();
    d.send(Buffer.from('x'));
    const kc = sel.register(c, EVENT_READ, 'new');
    const t0 = performance.now();
    expect(await p).toEqual([[kc, EVENT_READ]]);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('sees modify() and unregister() made while it waits', async () => {
    const [a, b] = pair();
    const [c, d] = pair();
    sel.register(a, EVENT_READ);
    sel.register(c, EVENT_READ);
    const p = sel.selectAsync(5000);
    await sleep(50);
    // a stops being watched: data arriving on it must not settle the wait.
    sel.unregister(a);
    b.send(Buffer.from('x'));
    await sleep(150);
    let settled = false;
    void p.then(() => { settled = true; });
    await sleep(0);
    expect(settled).toBe(false);
    // c is always writable: switching it to EVENT_WRITE settles the wait.
    const kc = sel.modify(c, EVENT_WRITE, 'w');
    expect(await p).toEqual([[kc, EVENT_WRITE]]);
    void d;
  });

  it('reports errors by rejecting, never by throwing', async () => {
    const calls: Array<() => Promise<unknown>> = [
      () => sel.selectAsync(NaN),
      () => sel.selectAsync('10' as unknown as number),
      () => sel.selectAsync(10, { signal: {} as AbortSignal }),
    ];
    for (const call of calls) {
      let p: Promise<unknown> | undefined;
      expect(() => { p = call(); }).not.toThrow();
      await expect(p).rejects.toBeInstanceOf(TypeError);
    }
    sel.close();
    let p: Promise<unknown> | undefined;
    expect(() => { p = sel.selectAsync(10); }).not.toThrow();
    await expect(p).rejects.toMatchObject({ code: 'ERR_IOMUX_CLOSED' });
  });

  itPipes('a pending wait keeps the process alive until it resolves', async () => {
    const res = await runChild(`
      const { spawn } = require('node:child_process');
      const [r, w] = io.pipe();
      // Before the spawn: the writer's 0.5 s start as the spawn does, and an
      // emulated spawn takes a good part of that.
      const t0 = performance.now();
      // The writer is another process, unref'd: the pending wait is all that is left here.
      spawn('sh', ['-c', 'sleep 0.5; printf x'], { stdio: ['ignore', w, 'ignore'] }).unref();
      io.close(w);
      // Nothing outside this function holds the selector: the pending wait must.
      (function () {
        const sel = new io.${clsName}();
        sel.register(r, io.EVENT_READ);
        sel.selectAsync().then((ready) => {
          console.log('resolved ' + ready.length + ' ' + Math.round(performance.now() - t0));
          sel.close();
          io.close(r);
        });
      })();
      setInterval(() => global.gc(), 50).unref();
      process.on('exit', () => console.log('exit'));
    `, 20000, ['--expose-gc']);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    const lines = res.out.trim().split('\n');
    expect(lines[0]).toMatch(/^resolved 1 \d+$/);
    expect(Number(lines[0].split(' ')[2])).toBeGreaterThanOrEqual(400);
    expect(lines[1]).toBe('exit');
  });

  it('an idle selector never keeps the process alive (nor one whose waits have settled)', async () => {
    const res = await runChild(`
      const [a, b] = io.socketpair();
      const [c, d] = io.socketpair();
      const sel = new io.${clsName}();
      sel.register(a, io.EVENT_READ);
      sel.register(c, io.EVENT_READ);
      (async () => {
        setTimeout(() => b.send(Buffer.from('x')), 30);
        const r1 = await sel.selectAsync();          // armed, then resolved by readiness
        a.recv(10);
        const r2 = await sel.selectAsync(30);        // resolved by its timeout
        const ac = new AbortController();
        const p3 = sel.selectAsync(undefined, { signal: ac.signal });
        setTimeout(() => ac.abort(), 30);
        const r3 = await p3.then(() => 'resolved', (e) => e.name);
        console.log(r1.length, r2.length, r3);
        // Left open, with fds registered, on purpose.
      })();
    `);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    expect(res.signal).toBeNull();
    expect(res.out.trim()).toBe('1 0 AbortError');
    expect(res.ms).toBeLessThan(10000 * TIME_SCALE);
  });

  itProcFs('a dropped selector that has used selectAsync() is collected and frees its fds', async () => {
    const res = await runChild(`
      const fs = require('node:fs');
      const fdCount = () => fs.readdirSync('/proc/self/fd').length;
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const [a, b] = io.socketpair();
      async function useOne() {
        const s = new io.${clsName}();
        s.register(a, io.EVENT_READ);
        await s.selectAsync(1);        // armed, settled by its timeout
        setTimeout(() => b.send(Buffer.from('x')), 5);
        await s.selectAsync();         // armed, settled by readiness
        a.recv(10);
        // Not closed: dropped.
      }
      (async () => {
        await useOne();
        for (let i = 0; i < 3; i++) { global.gc(); await sleep(20); }
        const before = fdCount();
        for (let i = 0; i < 30; i++) await useOne();
        const mid = fdCount();
        for (let i = 0; i < 40 && fdCount() > before + 2; i++) { global.gc(); await sleep(25); }
        console.log(JSON.stringify({ before, mid, after: fdCount() }));
        a.close(); b.close();
      })();
    `, 20000, ['--expose-gc']);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    const { before, after } = JSON.parse(res.out.trim()) as { before: number; mid: number; after: number };
    // 30 leaked selectors would leave 30 (epoll) or 60 (wake pipes) fds open.
    expect(after).toBeLessThanOrEqual(before + 2);
  });

  it('works inside a worker_thread', async () => {
    const res = await runChild(`
      const { Worker } = require('node:worker_threads');
      const w = new Worker(\`
        const io = require(${JSON.stringify(root)});
        const { parentPort } = require('node:worker_threads');
        const [a, b] = io.socketpair();
        const sel = new io.${clsName}();
        const key = sel.register(a, io.EVENT_READ, 'in-worker');
        // The peer writes only once the worker's timers have ticked 3 times
        // during the wait: a wait that blocked the worker's loop never ends.
        let ticks = 0;
        const iv = setInterval(() => { if (++ticks === 3) b.send(Buffer.from('x')); }, 10);
        sel.selectAsync().then((ready) => {
          clearInterval(iv);
          parentPort.postMessage({ n: ready.length, data: ready[0] && ready[0][0].data, same: ready[0] && ready[0][0] === key, ticks });
          sel.close(); a.close(); b.close();
        });
      \`, { eval: true });
      w.on('message', (m) => console.log(JSON.stringify(m)));
      w.on('error', (e) => console.log(JSON.stringify({ error: String(e) })));
      w.on('exit', (code) => console.log(JSON.stringify({ exit: code })));
    `);
    expect(res.err, res.err).toBe('');
    expect(res.code).toBe(0);
    const msgs = res.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(msgs[0], res.out).toMatchObject({ n: 1, data: 'in-worker', same: true });
    expect(msgs[0].ticks as number).toBeGreaterThanOrEqual(3);
    expect(msgs[1]).toEqual({ exit: 0 });
  });

  itProcFs('a worker terminated with a wait pending exits cleanly and leaves no fd behind', async () => {
    const res = await runChild(`
      const fs = require('node:fs');
      const { Worker } = require('node:worker_threads');
      const fdCount = () => fs.readdirSync('/proc/self/fd').length;
      const src = \`
        const io = require(${JSON.stringify(root)});
        const { parentPort, workerData } = require('node:worker_threads');
        const sel = new io.${clsName}();
        sel.register(workerData.fd, io.EVENT_READ);
        sel.selectAsync().then(() => parentPort.postMessage('settled'));
        parentPort.postMessage('pending');
      \`;
      // The fds the test watches belong to this thread; the worker owns only its selector.
      const [r, w] = io.pipe();
      async function once() {
        const worker = new Worker(src, { eval: true, workerData: { fd: r } });
        const msgs = [];
        worker.on('message', (m) => msgs.push(m));
        await new Promise((res) => worker.on('message', (m) => m === 'pending' && res()));
        await new Promise((res) => setTimeout(res, 50));
        const code = await worker.terminate();
        return { code, msgs };
      }
      (async () => {
        const first = await once();         // warms up whatever a first worker loads for good
        await new Promise((res) => setTimeout(res, 100));
        const before = fdCount();
        const runs = [];
        for (let i = 0; i < 3; i++) runs.push(await once());
        await new Promise((res) => setTimeout(res, 200));
        const after = fdCount();
        io.close(r); io.close(w);
        console.log(JSON.stringify({ first, runs, before, after }));
      })();
    `);
    expect(res.err).toBe('');
    expect(res.signal).toBeNull();
    expect(res.code).toBe(0);
    const out = JSON.parse(res.out.trim().split('\n').pop() as string) as {
      first: { code: number; msgs: string[] }; runs: Array<{ code: number; msgs: string[] }>; before: number; after: number;
    };
    for (const run of [out.first, ...out.runs]) {
      expect(run.code).toBe(1); // terminate()'s exit code
      expect(run.msgs).toEqual(['pending']);
    }
    expect(out.after).toBeLessThanOrEqual(out.before);
  });

  it(`thousands of wake-ups through the native callback leave no fd or thread behind${LINUX ? '' : ' (the fd and thread counts read /proc/self: Linux-only; the wake-ups run here)'}`, async () => {
    const [a, b] = pair();
    const key = sel.register(a, EVENT_READ);
    const buf = Buffer.alloc(16);
    // Arm once so that the waiter thread / loop watch exists before counting.
    let p = sel.selectAsync();
    b.send(Buffer.from('x'));
    await p;
    a.recvInto(buf);
    // Counting fds and threads reads /proc/self: Linux-only (the title says so elsewhere).
    const count = (dir: string) => (LINUX ? fs.readdirSync(dir).length : 0);
    const fds = count('/proc/self/fd');
    const threads = count('/proc/self/task');
    const N = 2000;
    for (let i = 0; i < N; i++) {
      // Nothing is ready when the wait starts, so it is armed and the byte
      // written after it arrives through the wake-up path, not the first look.
      p = sel.selectAsync(5000);
      b.send(Buffer.from('x'));
      expect(await p).toEqual([[key, EVENT_READ]]);
      expect(a.recvInto(buf)).toBe(1);
    }
    expect(count('/proc/self/fd')).toBe(fds);
    expect(count('/proc/self/task')).toBe(threads);
  });

  it('many registration changes during one pending wait: only what is registered and ready settles it', async () => {
    const [a, b] = pair();
    sel.register(a, EVENT_READ);
    const p = sel.selectAsync(5000);
    let settled = false;
    void p.then(() => { settled = true; });
    // Churn while the wait is pending: fds come and go, one of them readable
    // but unregistered again before the loop gets a turn.
    for (let i = 0; i < 50; i++) {
      const [c, d] = pair();
      sel.register(c, EVENT_READ | EVENT_WRITE);
      if (i % 2 === 0) d.send(Buffer.from('x'));
      sel.modify(c, EVENT_READ);
      sel.unregister(c);
      await sleep(0);
    }
    await sleep(50);
    expect(settled).toBe(false);
    b.send(Buffer.from('x'));
    const ready = await p;
    expect(ready.map(([k, m]) => [k.fd, m])).toEqual([[a.fileno(), EVENT_READ]]);
  });

  it('a wake-up whose fd was unregistered before its callback ran keeps waiting for the rest', async () => {
    const [a, b] = pair();
    const [c, d] = pair();
    sel.register(a, EVENT_READ);
    const kc = sel.register(c, EVENT_READ, 'c');
    for (let i = 0; i < 20; i++) {
      const p = sel.selectAsync(5000);
      b.send(Buffer.from('x'));
      // Let the waiter (or the kernel) see a ready, then drop it before the JS callback.
      await new Promise((r) => setImmediate(r));
      sel.unregister(a);
      const recv = Buffer.alloc(8);
      a.recvInto(recv);
      d.send(Buffer.from('y'));
      const got = await p;
      // Either a was already reported (resolved before the unregister) or only c is.
      expect(got.every(([k]) => k.fd === a.fileno() || k === kc)).toBe(true);
      expect(got.length).toBeGreaterThan(0);
      c.recvInto(recv);
      sel.register(a, EVENT_READ);
    }
  });

  it('one AbortSignal over many waits keeps one abort listener, still aborts, and close() removes it', async () => {
    const [a, b] = pair();
    const key = sel.register(a, EVENT_READ);
    const ac = new AbortController();
    const buf = Buffer.alloc(8);
    for (let i = 0; i < 200; i++) {
      const p = sel.selectAsync(5000, { signal: ac.signal });
      b.send(Buffer.from('x'));
      expect(await p).toEqual([[key, EVENT_READ]]);
      a.recvInto(buf);
      expect(getEventListeners(ac.signal, 'abort').length).toBe(1);
    }
    // A wait without the signal is not aborted by it.
    const other = sel.selectAsync(100);
    ac.abort();
    expect(await other).toEqual([]);
    await expect(sel.selectAsync(5000, { signal: ac.signal })).rejects.toBeInstanceOf(AbortError);
    const ac2 = new AbortController();
    const p2 = sel.selectAsync(5000, { signal: ac2.signal });
    ac2.abort('why');
    await expect(p2).rejects.toMatchObject({ name: 'AbortError', cause: 'why' });
    const ac3 = new AbortController();
    void sel.selectAsync(5000, { signal: ac3.signal });
    expect(getEventListeners(ac3.signal, 'abort').length).toBe(1);
    sel.close();
    expect(getEventListeners(ac3.signal, 'abort').length).toBe(0);
  });

  it('a worker that exits by itself (process.exit) with a wait pending exits cleanly', async () => {
    const res = await runChild(`
      const { Worker } = require('node:worker_threads');
      const src = \`
        const io = require(${JSON.stringify(root)});
        const { workerData } = require('node:worker_threads');
        const sel = new io.${clsName}();
        sel.register(workerData.fd, io.EVENT_READ);
        sel.selectAsync();
        setTimeout(() => process.exit(7), 30);
      \`;
      // A socket pair, not a pipe: Windows' select() takes sockets only.
      const [r, w] = io.socketpair().map((s) => s.detach());
      (async () => {
        const codes = [];
        for (let i = 0; i < 3; i++) {
          const worker = new Worker(src, { eval: true, workerData: { fd: r } });
          codes.push(await new Promise((res) => worker.on('exit', res)));
        }
        io.close(r); io.close(w);
        console.log(JSON.stringify(codes));
      })();
    `);
    expect(res.err, res.err).toBe('');
    expect(res.signal).toBeNull();
    expect(res.code).toBe(0);
    expect(JSON.parse(res.out.trim())).toEqual([7, 7, 7]);
  });

  if (name === 'epoll' || name === 'kqueue' || name === 'io_uring') {
    it(`the pending wait does not make the ${name} fd unusable for select() afterwards`, async () => {
      const [a, b] = pair();
      const key = sel.register(a, EVENT_READ);
      const p = sel.selectAsync(100);
      expect(await p).toEqual([]);
      b.send(Buffer.from('x'));
      expect(sel.select(0)).toEqual([[key, EVENT_READ]]);
    });
  }
});

// The epoll selector's fd sits in Node's own epoll (a uv_poll watch). Stopping
// and restarting that watch is an EPOLL_CTL_ADD for which the kernel walks every
// fd in the selector (milliseconds at 10,000 connections), so it is kept through
// one loop turn with no wait armed, and stopped on the next.
describe.skipIf(process.platform !== 'linux')('EpollSelector selectAsync: the watch in Node\'s epoll (Linux-only: /proc fdinfo) (nested: IOMUX_DIRECT_MAX=0)', () => {
  let oldWay = 0;
  beforeAll(() => { oldWay = setWay('nested'); });
  afterAll(() => { setWay(oldWay); });
  /** Whether some epoll fd of this process other than `epfd` itself watches `epfd` (as Node's loop does). */
  function watchedByLoop(epfd: number): boolean {
    for (const name of fs.readdirSync('/proc/self/fd')) {
      const fd = Number(name);
      if (fd === epfd) continue;
      let info: string;
      try {
        if (fs.readlinkSync(`/proc/self/fd/${name}`) !== 'anon_inode:[eventpoll]') continue;
        info = fs.readFileSync(`/proc/self/fdinfo/${name}`, 'utf8');
      } catch {
        continue; // closed meanwhile
      }
      if (new RegExp(`^tfd:\\s+${epfd}\\s`, 'm').test(info)) return true;
    }
    return false;
  }
  const turn = () => new Promise<void>((r) => setImmediate(r));

  it('keeps the watch through one unarmed loop turn, stops it on the next, and does not keep the loop turning', async () => {
    const sel = new EpollSelector();
    const [a, b] = socketpair();
    try {
      const key = sel.register(a, EVENT_READ);
      const epfd = sel.fileno();
      expect(watchedByLoop(epfd)).toBe(false); // no wait yet
      const p = sel.selectAsync(null);
      await sleep(5); // libuv applies the watch in its next poll phase
      expect(watchedByLoop(epfd)).toBe(true);
      b.send(Buffer.from('x'));
      expect(await p).toEqual([[key, EVENT_READ]]);
      // Still readable (nothing was read), nobody waiting: the next poll phase (the
      // second immediate runs after it) wakes the watch with no wait armed, which keeps it...
      await turn();
      await turn();
      expect(watchedByLoop(epfd)).toBe(true);
      // ...a wait armed then is served by it (at once: the byte is still there)...
      expect(await sel.selectAsync(null)).toEqual([[key, EVENT_READ]]);
      // ...and with nobody waiting any more, the next turns stop it: the loop goes back to sleeping.
      await sleep(20);
      expect(watchedByLoop(epfd)).toBe(false);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await sleep(200);
      const used = process.cpuUsage(cpu0);
      const wall = performance.now() - t0;
      // A loop spinning on the readable epoll fd would burn about the whole 200 ms.
      expect((used.user + used.system) / 1000).toBeLessThan(wall / 2);
      // And a later wait still works (the watch starts again).
      expect(a.recv(1)).toEqual(Buffer.from('x'));
      const q = sel.selectAsync(null);
      await sleep(5);
      expect(watchedByLoop(epfd)).toBe(true);
      b.send(Buffer.from('y'));
      expect(await q).toEqual([[key, EVENT_READ]]);
    } finally {
      sel.close();
      a.close();
      b.close();
    }
  });
});

// Direct watching: Node's own epoll holds a duplicate of each registered fd
// (never the fd's own number: direct_watch.h says why), started at the first
// wait, kept through one unarmed loop turn, stopped on the next, and gone with
// unregister() at once.
describe.skipIf(process.platform !== 'linux')('selectAsync, direct watching: the duplicates in Node\'s epoll (Linux-only: /proc fdinfo)', () => {
  let oldWay = 0;
  beforeAll(() => { oldWay = setWay('direct'); });
  afterAll(() => { setWay(oldWay); });
  const target = (fd: number | string) => { try { return fs.readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } };
  /** Fds other than `fd` naming the same file as `fd` and watched by an epoll set of this process other than `own`. */
  function watchedDuplicates(fd: number, own = -1): number[] {
    const file = target(fd);
    const found: number[] = [];
    for (const name of fs.readdirSync('/proc/self/fd')) {
      if (Number(name) === own || target(name) !== 'anon_inode:[eventpoll]') continue;
      let info = '';
      try { info = fs.readFileSync(`/proc/self/fdinfo/${name}`, 'utf8'); } catch { continue; }
      for (const m of info.matchAll(/^tfd:\s+(\d+)\s/gm)) {
        const t = Number(m[1]);
        if (t !== fd && target(t) === file) found.push(t);
      }
    }
    return found;
  }
  const turn = () => new Promise<void>((r) => setImmediate(r));
  /** Waits until `ok()` (libuv applies a watch's start or stop in a later poll phase: slow under qemu). */
  async function until(ok: () => boolean, what: string): Promise<void> {
    const end = performance.now() + 2000 * TIME_SCALE;
    while (!ok()) {
      if (performance.now() > end) throw new Error(`timed out waiting until ${what}`);
      await sleep(5);
    }
  }

  for (const [name, Cls] of BACKENDS) it.skipIf(!!backendMissing(name))(backendTitle(`${name}: a duplicate of the fd is watched while waits keep coming, stopped when they stop, closed by unregister()`, name), async () => {
    const sel: BaseSelector<string> = new Cls<string>();
    const [a, b] = socketpair();
    try {
      const key = sel.register(a, EVENT_READ);
      const own = name === 'epoll' ? (sel as EpollSelector<string>).fileno() : -1;
      expect(watchedDuplicates(a.fileno(), own)).toEqual([]); // no wait yet
      const p = sel.selectAsync(null);
      await until(() => watchedDuplicates(a.fileno(), own).length > 0, 'the duplicate is in Node\'s epoll');
      const dups = watchedDuplicates(a.fileno(), own);
      expect(dups).toHaveLength(1);
      expect(dups[0]).toBeGreaterThanOrEqual(1024); // never one of the low numbers, which are the application's
      // Close-on-exec, and the file keeps its blocking mode (socketpair() made it blocking).
      const flags = parseInt(/flags:\s+(\d+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${dups[0]}`, 'utf8'))![1], 8);
      expect(flags & 0o2000000).toBe(0o2000000);
      expect(flags & 0o4000).toBe(0);
      b.send(Buffer.from('x'));
      expect(await p).toEqual([[key, EVENT_READ]]);
      // Still readable, nobody waiting: one unarmed wake-up keeps the watch...
      await turn();
      await turn();
      expect(watchedDuplicates(a.fileno(), own)).toEqual(dups);
      expect(await sel.selectAsync(null)).toEqual([[key, EVENT_READ]]);
      // ...the next ones stop it (the duplicate stays open, out of Node's epoll).
      await until(() => watchedDuplicates(a.fileno(), own).length === 0, 'the watch is stopped');
      expect(watchedDuplicates(a.fileno(), own)).toEqual([]);
      expect(target(dups[0])).toBe(target(a.fileno()));
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await sleep(200);
      const used = process.cpuUsage(cpu0);
      expect((used.user + used.system) / 1000).toBeLessThan((performance.now() - t0) / 2);
      expect(a.recv(1)).toEqual(Buffer.from('x'));
      const q = sel.selectAsync(null);
      await until(() => watchedDuplicates(a.fileno(), own).length > 0, 'the watch is started again');
      expect(watchedDuplicates(a.fileno(), own)).toEqual(dups);
      b.send(Buffer.from('y'));
      expect(await q).toEqual([[key, EVENT_READ]]);
      expect(a.recv(1)).toEqual(Buffer.from('y'));
      // unregister() closes the duplicate at once: the close() that follows really closes the socket.
      sel.unregister(a);
      expect(target(dups[0])).not.toBe(target(a.fileno()));
      a.close();
      b.setBlocking(false);
      expect(b.recv(1)).toEqual(Buffer.alloc(0)); // EOF (not null: would block): nothing of ours holds a's file open
    } finally {
      sel.close();
      if (!a.closed) a.close();
      b.close();
    }
  });
});
