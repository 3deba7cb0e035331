// Process-level behaviour: EINTR, close-on-exec, worker_threads, fd leaks.
// Each runs in a child process (scripts in test/fixtures/, loading dist/) so
// that a crash or hang cannot take vitest down with it.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AF_INET, AF_UNIX, Epoll, EpollSelector, EVENT_READ, PollSelector, SelectSelector, Socket, UringSelector, close, pipe, socketpair } from '../src/ts/index';
import { openFds } from './fixtures/lowlevel';
import { TIME_SCALE } from './time-scale';
import { LINUX, NO_URING_QEMU, QEMU_USER, backendMissing, itPosixProcess, itProcFs, itUnless } from './platform';

const fixtures = path.join(__dirname, 'fixtures');

interface EintrReport {
  ready?: number;
  error?: string;
  elapsed: number;
  signals: number;
}

/**
 * Starts the eintr child blocked in `kind` on its stdin, sends it SIGUSR2
 * `count` times `every` ms apart once it is waiting, then (if `thenWrite`)
 * writes to its stdin. Resolves with what the child reported.
 */
function eintr(kind: string, timeout: string, count: number, every: number, thenWrite: boolean): Promise<EintrReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(fixtures, 'eintr-child.js'), kind, timeout], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const killer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      if (!timer && out.startsWith('ready\n')) {
        timer = setInterval(() => {
          if (sent < count) {
            child.kill('SIGUSR2');
            sent++;
          } else {
            clearInterval(timer);
            if (thenWrite) child.stdin.write('x');
          }
        }, every);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      clearInterval(timer);
      const line = out.split('\n')[1];
      if (code !== 0 || !line) {
        reject(new Error(`child ${kind} exited ${code ?? signal}: ${err}`));
        return;
      }
      resolve(JSON.parse(line) as EintrReport);
    });
  });
}

const kinds = [
  'select',
  'poll',
  'epoll',
  'SelectSelector',
  'PollSelector',
  'EpollSelector',
  'UringSelector',
  'SelectSelector.selectAsync',
  'PollSelector.selectAsync',
  'EpollSelector.selectAsync',
  'UringSelector.selectAsync',
];

/** Signal tests over rows whose first item is a kind (POSIX processes only); io_uring's skipped, with the reason, where it is missing (qemu-user). */
function eachKind<A extends [string, ...unknown[]]>(rows: A[], title: string, fn: (...args: A) => unknown): void {
  const why = backendMissing('io_uring');
  const missing = (row: A) => !!why && row[0].startsWith('Uring');
  const present = rows.filter((r) => !missing(r));
  const absent = rows.filter(missing);
  if (present.length) itPosixProcess.each(present)(title, fn as never);
  if (absent.length) itUnless(true, why).each(absent)(title, fn as never);
}

describe('EINTR', () => {
  eachKind(kinds.map((k) => [k] as [string]), '%s: signals during a timed wait neither shorten nor break it', async (kind) => {
    // A run in which no signal reached the child before its 400 ms were up (the
    // parent starved on a loaded machine, e.g. under ASan) tested nothing: try again.
    let r = await eintr(kind, '400', 5, 50, false);
    for (let attempt = 1; attempt < 3 && r.signals === 0; attempt++) r = await eintr(kind, '400', 5, 50, false);
    expect(r.error).toBeUndefined();
    expect(r.ready).toBe(0);
    expect(r.signals).toBeGreaterThanOrEqual(1);
    expect(r.elapsed).toBeGreaterThanOrEqual(400);
    expect(r.elapsed).toBeLessThan(5000);
  });

  eachKind(kinds.map((k) => [k] as [string]), '%s: an infinite wait interrupted by signals still returns when data arrives', async (kind) => {
    const r = await eintr(kind, 'null', 5, 50, true);
    expect(r.error).toBeUndefined();
    expect(r.ready).toBe(1);
    expect(r.signals).toBeGreaterThanOrEqual(1);
    // Five signals 50 ms apart, then the write: the wait cannot have ended before.
    expect(r.elapsed).toBeGreaterThanOrEqual(200);
  });
});

describe('timeouts beyond what the syscall takes', () => {
  // A timeout truncated to 32 bits (2**32 + 5 -> 5 ms, or setTimeout's
  // overflow to 1 ms) would return at once; waited out in pieces, it still waits.
  eachKind(kinds.map((k) => [k, 2 ** 32 + 5] as [string, number]), '%s(%s) is still waiting after 600 ms', (kind, t) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(fixtures, 'eintr-child.js'), kind, String(t)], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      let timer: NodeJS.Timeout | undefined;
      child.stderr.on('data', (d) => (err += d));
      child.stdout.on('data', (d) => {
        out += d;
        if (!timer && out.startsWith('ready\n')) {
          timer = setTimeout(() => {
            const waiting = child.exitCode === null && child.signalCode === null;
            child.kill('SIGKILL');
            if (waiting) resolve();
            else reject(new Error(`returned early: ${out} ${err}`));
          }, 600);
        }
      });
      child.on('exit', (code, signal) => {
        if (signal !== 'SIGKILL') {
          clearTimeout(timer);
          reject(new Error(`child exited ${code ?? signal} early: ${out} ${err}`));
        }
      });
    }),
  );
});

describe('close-on-exec', () => {
  itProcFs('a spawned child inherits none of the fds iomux created', async () => {
    const before = new Set(openFds());
    const srv = new Socket(AF_INET);
    const cli = new Socket(AF_INET);
    const unix = new Socket(AF_UNIX);
    const [pa, pb] = socketpair();
    const [r, w] = pipe();
    const ep = new Epoll();
    const epSel = new EpollSelector();
    // io_uring where the platform has it (not under qemu-user: backendMissing says why).
    const uringSel = backendMissing('io_uring') ? null : new UringSelector();
    const sels = [epSel, ...(uringSel ? [uringSel] : []), new PollSelector(), new SelectSelector()];
    const pending: Array<Promise<unknown>> = [];
    try {
      srv.bind(['127.0.0.1', 0]);
      srv.listen(1);
      cli.connect(srv.getsockname());
      const [conn] = srv.accept()!;
      try {
        // Pending selectAsync calls create their wake-up fds and threads too.
        for (const s of sels) {
          s.register(pa, EVENT_READ);
          pending.push(s.selectAsync(null));
        }
        const ours = openFds().filter((fd) => !before.has(fd));
        const mustHave = [srv, cli, unix, pa, pb, conn].map((s) => s.fileno()).concat([r, w, ep.fileno(), epSel.fileno(), ...(uringSel ? [uringSel.fileno()] : [])]);
        for (const fd of mustHave) expect(ours).toContain(fd);
        // Every fd that appeared is marked close-on-exec...
        for (const fd of ours) {
          const flags = /flags:\s+(\d+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1];
          expect(parseInt(flags, 8) & 0o2000000, `fd ${fd} -> ${fs.readlinkSync(`/proc/self/fd/${fd}`)}`).toBe(0o2000000);
        }
        // ...and a child really does not get them. ls opens no sockets, pipes or epoll sets of its own.
        const targets = new Set(ours.map((fd) => fs.readlinkSync(`/proc/self/fd/${fd}`)));
        const ls = spawnSync('ls', ['-l', '/proc/self/fd'], { encoding: 'utf8', timeout: 10000 * TIME_SCALE });
        expect(ls.status, ls.stderr).toBe(0);
        const inherited = ls.stdout
          .split('\n')
          .map((line) => /-> (.*)$/.exec(line)?.[1])
          .filter((t): t is string => t !== undefined && (targets.has(t) || t.startsWith('anon_inode:')));
        expect(inherited).toEqual([]);
        // The same through a node child, which lists everything it was given.
        const node = spawnSync(process.execPath, [path.join(fixtures, 'cloexec-child.js')], { encoding: 'utf8', timeout: 10000 * TIME_SCALE });
        expect(node.status, node.stderr).toBe(0);
        const seen = Object.values(JSON.parse(node.stdout) as Record<string, string>);
        expect(seen.filter((t) => targets.has(t) && !t.startsWith('anon_inode:'))).toEqual([]);
      } finally {
        conn.close();
      }
    } finally {
      for (const s of sels) s.close();
      await Promise.all(pending);
      for (const s of [srv, cli, unix, pa, pb]) s.close();
      close(r);
      close(w);
      ep.close();
    }
    expect(openFds().filter((fd) => !before.has(fd))).toEqual([]);
  });
});

describe('worker_threads', () => {
  it(`loads in four workers at once, and workers that die with open fds leave none behind${QEMU_USER ? ` (io_uring left out: ${NO_URING_QEMU})` : ''}${LINUX ? '' : ' (only the backends this platform has; fd counts read /proc/self: Linux-only)'}`, () => {
    const res = spawnSync(process.execPath, [path.join(fixtures, 'workers-child.js')], { encoding: 'utf8', timeout: 60000 * TIME_SCALE });
    expect(res.signal, res.stderr).toBeNull();
    expect(res.status, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as {
      rounds: Array<{ code: number; msg: Array<string | boolean> }>;
      ends: Array<{ how: string; code: number; msgs: string[] }>;
      before: number[];
      after: number[];
      afterTargets: string[];
    };
    // One round trip per backend this platform has, plus DefaultSelector, then the low-level calls.
    const selectors = ['select', 'poll', 'epoll', 'kqueue', 'io_uring'].filter((n) => !backendMissing(n)).length + 1;
    expect(out.rounds).toEqual([0, 1, 2, 3].map((i) => ({ code: 0, msg: [...Array(selectors).fill(`hello ${i}`), true] })));
    expect(out.ends.map((e) => [e.how, e.msgs[0]])).toEqual([
      ['exit', 'armed'],
      ['natural', 'armed'],
      ['terminate', 'armed'],
      ['exit', 'armed'],
      ['terminate', 'armed'],
    ]);
    // A naturally ending worker saw its pending selectAsync calls resolve when it closed the selectors.
    expect(out.ends[1].msgs).toEqual(['armed', 'resolved']);
    expect(out.ends[1].code).toBe(0);
    expect(out.ends[0].code).toBe(0);
    expect(out.afterTargets).toEqual([]);
    expect(out.after).toEqual(out.before);
  });
});

describe('no leaks', () => {
  itProcFs(`opening and closing 10,000 sockets leaves /proc/self/fd as it was; collected Epoll sets and selectors free their fds${QEMU_USER ? ` (io_uring left out: ${NO_URING_QEMU})` : ''}`, () => {
    const res = spawnSync(process.execPath, ['--expose-gc', path.join(fixtures, 'leak-child.js')], {
      encoding: 'utf8',
      timeout: 60000 * TIME_SCALE,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    expect(res.signal, res.stderr).toBeNull();
    expect(res.status, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as {
      before: number[];
      after: number[];
      opened: number;
      gc: { made: number; held: number; base: number[]; now: number[] };
    };
    expect(out.opened).toBeGreaterThanOrEqual(10000);
    expect(out.after).toEqual(out.before);
    // Epoll sets and selectors dropped without close(): their fds were really
    // open (the epoll ones at least), and collection gave them all back.
    expect(out.gc.held).toBeGreaterThanOrEqual(600);
    expect(out.gc.now).toEqual(out.gc.base);
  });
});
