// Selector behaviours that need a process of their own: a signal during a
// blocking select() (EINTR), and thousands of fds (beyond FD_SETSIZE) under a
// raised fd limit.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendMissing, backendTitle, itFdNumberLimit, itPipes, itProcFs } from './platform';

const root = path.resolve(__dirname, '..');
const BACKENDS = [
  ['select', 'SelectSelector'],
  ['poll', 'PollSelector'],
  ['epoll', 'EpollSelector'],
  ['kqueue', 'KqueueSelector'],
  ['io_uring', 'UringSelector'],
] as const;

/** Runs `script` (CommonJS, `io` is the package) in a fresh node; returns its last stdout line as JSON. */
function runChild(script: string, opts: { shell?: string; timeout?: number; env?: NodeJS.ProcessEnv } = {}): Record<string, unknown> {
  const code = `const io = require(${JSON.stringify(root)});\n${script}`;
  const env = opts.env ? { ...process.env, ...opts.env } : undefined;
  const out = opts.shell
    ? execFileSync('sh', ['-c', `${opts.shell}; exec "$0" -e "$1"`, process.execPath, code], {
      encoding: 'utf8', timeout: opts.timeout ?? 30000, env,
    })
    : execFileSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: opts.timeout ?? 30000, env });
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

for (const [name, cls] of BACKENDS) describe.skipIf(!!backendMissing(name))(backendTitle(`${name} selector in a child process`, name), () => {
  itPipes('a signal during select(1000) neither shortens nor breaks the wait (EINTR is retried)', () => {
    const res = runChild(`
      const { spawn } = require('node:child_process');
      let signals = 0;
      // With a listener, SIGUSR2 does not kill the process; it interrupts the syscall.
      process.on('SIGUSR2', () => { signals++; });
      const [r, w] = io.pipe();
      const sel = new io.${cls}();
      sel.register(r, io.EVENT_READ);
      spawn('sh', ['-c', 'sleep 0.2; kill -USR2 ' + process.pid + '; sleep 0.2; kill -USR2 ' + process.pid],
        { stdio: 'ignore' });
      const t0 = performance.now();
      let ready, error;
      try { ready = sel.select(1000).length; } catch (e) { error = e.code || String(e); }
      const took = performance.now() - t0;
      // Let the signal listeners run before reporting.
      setTimeout(() => {
        console.log(JSON.stringify({ ready, error, took, signals }));
        sel.close(); io.close(r); io.close(w);
      }, 100);
    `);
    expect(res.error).toBeUndefined();
    expect(res.ready).toBe(0);
    expect(res.signals).toBe(2);
    expect(res.took as number).toBeGreaterThanOrEqual(999);
    expect(res.took as number).toBeLessThan(1600);
  });

  if (name !== 'select') {
    it('handles several thousand fds (well beyond FD_SETSIZE) and finds the ready ones', () => {
      const res = runChild(`
        const N = 2500; // pairs: 5000 fds, numbers far above FD_SETSIZE
        const pairs = [];
        for (let i = 0; i < N; i++) pairs.push(io.socketpair());
        const sel = new io.${cls}();
        for (const [a, b] of pairs) { sel.register(a, io.EVENT_READ, 'a'); sel.register(b, io.EVENT_READ, 'b'); }
        const picks = [0, 1, 511, 1200, N - 2, N - 1];
        for (const i of picks) pairs[i][1].send(Buffer.from('x'));
        const ready = sel.select(0);
        const got = ready.map(([k, m]) => [k.fd, m, k.data]).sort((x, y) => x[0] - y[0]);
        const want = picks.map((i) => [pairs[i][0].fileno(), io.EVENT_READ, 'a']).sort((x, y) => x[0] - y[0]);
        // Every registered fd ready at once: the results buffer must hold them all.
        for (const [a, b] of pairs) sel.modify(b, io.EVENT_WRITE, 'b');
        const allWritable = sel.select(0).filter(([k, m]) => m === io.EVENT_WRITE && k.data === 'b').length;
        const maxFd = pairs[N - 1][1].fileno();
        console.log(JSON.stringify({ registered: sel.getMap().size, got, want, allWritable, maxFd,
          FD_SETSIZE: io.FD_SETSIZE }));
        sel.close();
        for (const [a, b] of pairs) { a.close(); b.close(); }
      `, { shell: 'ulimit -n 8192 2>/dev/null || true' });
      expect(res.registered).toBe(5000);
      expect(res.maxFd as number).toBeGreaterThan(4 * (res.FD_SETSIZE as number));
      expect(res.got).toEqual(res.want);
      expect((res.got as unknown[]).length).toBe(6);
      expect(res.allWritable).toBe(2500);
    });
  } else {
    itFdNumberLimit('throws RangeError at register time for an open fd >= FD_SETSIZE, and keeps working below it', () => {
      const res = runChild(`
        const pairs = [];
        while (pairs.length === 0 || pairs[pairs.length - 1][1].fileno() < io.FD_SETSIZE + 10) pairs.push(io.socketpair());
        const high = pairs[pairs.length - 1][1];
        const sel = new io.SelectSelector();
        let error;
        try { sel.register(high, io.EVENT_READ); } catch (e) { error = e.name; }
        const low = pairs[0];
        const key = sel.register(low[0], io.EVENT_READ);
        low[1].send(Buffer.from('x'));
        const ready = sel.select(0).map(([k, m]) => [k === key, m]);
        console.log(JSON.stringify({ error, highFd: high.fileno(), size: sel.getMap().size, ready,
          FD_SETSIZE: io.FD_SETSIZE }));
        sel.close();
        for (const [a, b] of pairs) { a.close(); b.close(); }
      `, { shell: 'ulimit -n 4096 2>/dev/null || true' });
      expect(res.highFd as number).toBeGreaterThanOrEqual(res.FD_SETSIZE as number);
      expect(res.error).toBe('RangeError');
      expect(res.size).toBe(1);
      expect(res.ready).toEqual([[true, 1]]);
    });

    itPipes('selectAsync works when the process already has more than FD_SETSIZE fds open', () => {
      // The selector's own wake-up fds then get numbers select(2) cannot take.
      const res = runChild(`
        const [a, b] = io.socketpair();
        const [c, d] = io.socketpair();
        const filler = [];
        while (filler.length === 0 || filler[filler.length - 1][1] < io.FD_SETSIZE + 10) filler.push(io.pipe());
        const sel = new io.SelectSelector();
        const ka = sel.register(a, io.EVENT_READ, 'a');
        (async () => {
          setTimeout(() => b.send(Buffer.from('x')), 100);
          const r1 = (await sel.selectAsync(5000)).map(([k, m]) => [k.data, m]);
          a.recv(10);
          const p2 = sel.selectAsync(5000);
          setTimeout(() => { d.send(Buffer.from('y')); sel.register(c, io.EVENT_READ, 'c'); }, 100);
          const r2 = (await p2).map(([k, m]) => [k.data, m]);
          c.recv(10);
          const p3 = sel.selectAsync();
          await new Promise((r) => setTimeout(r, 100));
          const t0 = performance.now();
          sel.close();
          const r3 = await p3;
          const closeMs = performance.now() - t0;
          console.log(JSON.stringify({ r1, r2, r3, closeMs }));
          for (const [r, w] of filler) { io.close(r); io.close(w); }
          a.close(); b.close(); c.close(); d.close();
        })();
      `, { shell: 'ulimit -n 4096 2>/dev/null || true' });
      expect(res.r1).toEqual([['a', 1]]);
      expect(res.r2).toEqual([['c', 1]]);
      expect(res.r3).toEqual([]);
      expect(res.closeMs as number).toBeLessThan(500);
    });
  }
});

describe('fds the selectors create', () => {
  // Direct watching (one fd registered: a duplicate of it per selector, in Node's
  // loop) and the nested ways (IOMUX_DIRECT_MAX=0: the wake-up pipes and the eventfd).
  for (const direct of [true, false]) itProcFs(direct
    ? 'are close-on-exec (epoll fd, io_uring ring, the duplicates direct watching holds), with a wait pending'
    : 'are close-on-exec (epoll fd, select/poll wake-up pipes, io_uring ring and eventfd), with a wait pending (IOMUX_DIRECT_MAX=0)', () => {
    const res = runChild(`
      const fs = require('node:fs');
      const fds = () => new Set(fs.readdirSync('/proc/self/fd').map(Number));
      const before = fds();
      const [a, b] = io.socketpair();
      const sels = [new io.SelectSelector(), new io.PollSelector(), new io.EpollSelector()];
      if (${JSON.stringify(!backendMissing('io_uring'))}) sels.push(new io.UringSelector());
      for (const s of sels) { s.register(a, io.EVENT_READ); s.selectAsync(); }
      const created = [...fds()].filter((fd) => !before.has(fd) && fd !== a.fileno() && fd !== b.fileno());
      const flags = created.map((fd) => {
        try {
          const m = /^flags:\\s*([0-7]+)/m.exec(fs.readFileSync('/proc/self/fdinfo/' + fd, 'utf8'));
          return [fd, m ? parseInt(m[1], 8) : -1];
        } catch { return [fd, -2]; }  // readdir's own fd, gone by now
      }).filter(([, f]) => f !== -2);
      console.log(JSON.stringify({ flags, O_CLOEXEC: 0o2000000 }));
      for (const s of sels) s.close();
      a.close(); b.close();
    `, { env: { IOMUX_DIRECT_MAX: direct ? '64' : '0' } });
    const flags = res.flags as Array<[number, number]>;
    const uring = !backendMissing('io_uring');
    // Direct: the epoll fd, a duplicate of a per selector, the ring (4 where io_uring
    // is missing). Nested: one epoll fd, two wake-up pipes, the ring and its eventfd (5).
    expect(flags.length).toBeGreaterThanOrEqual(direct ? (uring ? 6 : 4) : (uring ? 7 : 5));
    for (const [fd, f] of flags) expect(f & (res.O_CLOEXEC as number), `fd ${fd} flags ${f.toString(8)}`).not.toBe(0);
  });
});
