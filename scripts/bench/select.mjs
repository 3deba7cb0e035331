#!/usr/bin/env node
// `npm run bench:select`: the cost of a zero-timeout sel.select(0) in iomux,
// against the same syscall in a tight C loop (scripts/bench/select.c, compiled
// here with the system cc) and against CPython's selectors (which have no
// io_uring selector), for every backend (io_uring twice: UringSelector's
// default multishot polls, and `io_uring-single` = { multishot: false }),
// N registered fds and A ready fds. Writes select.{md,svg,json} and
// README-select.md to a temporary directory, to --out DIR, or with --write to
// the committed bench-results/ (scripts/lib/bench.mjs).
//
//   node scripts/bench/select.mjs [--quick] [--analyze] [--no-python] [--rounds R] [--round-ms MS] [--report-only] [--out DIR | --write]
//                                 [--backends LIST]
//
// --quick     short rounds, for a smoke run (numbers are rougher).
// --analyze   also times, per cell, the raw native wait() without the JS key
//             mapping, an empty Node-API method call, and select(2) in C with
//             the three fd_sets iomux passes, and the C loop in a process with an
//             idle thread; writes bench-results/select-analysis.md.
// --report-only  rewrites the reports from select.json (in --out DIR, else bench-results/) without measuring.
//
// C, iomux (one Node process per backend) and CPython run as worker processes
// that the parent drives cell by cell, interleaving their timed rounds so that
// on a busy machine the load falls on all three alike; the ratios are what the
// target is about. Each cell's figure is the median of its rounds.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCli, describeMachine, machineFooter, machineMarkdown, median, numberFlag, readResults, writeReport, have, nofileLimits } from '../lib/bench.mjs';
import { formatNs, lineChart, panels } from '../lib/svg-chart.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const require = createRequire(import.meta.url);

const SIZES = [1, 10, 100, 1000, 10000];
const SELECT_MAX_N = 1000; // all fds must stay below FD_SETSIZE (1024)
const TARGET_RATIO = 1.3;
const ALL_BACKENDS = ['select', 'poll', 'epoll', 'io_uring', 'io_uring-single'];
const PYTHON_HAS = new Set(['select', 'poll', 'epoll']);
const FD_HEADROOM = 200; // fds the runtimes themselves hold open

const argv = process.argv.slice(2);
const cli = benchCli('select', {
  analyze: { type: 'boolean', default: false },
  'no-python': { type: 'boolean', default: false },
  rounds: { type: 'string' },
  'round-ms': { type: 'string' },
  'iomux-worker': { type: 'boolean', default: false },
  backends: { type: 'string' },
}, 'node scripts/bench/select.mjs [--analyze] [--no-python] [--rounds R] [--round-ms MS] [--backends LIST]');
const quick = cli.quick;
const roundMs = numberFlag(cli, 'round-ms', quick ? 10 : 50, 1);
const rounds = Math.max(1, Math.min(63, numberFlag(cli, 'rounds', quick ? 3 : 7, 1)));
// --backends a,b: only these rows (e.g. epoll,io_uring,io_uring-single).
const BACKENDS = cli.values.backends ? cli.values.backends.split(',') : ALL_BACKENDS;
for (const b of BACKENDS) if (!ALL_BACKENDS.includes(b)) throw new Error(`--backends: unknown backend ${b} (${ALL_BACKENDS.join(', ')})`);

/** The (N, A) cells of a backend: A = 1 and A = min(N, 100), once when equal. */
function cells(backend) {
  const out = [];
  for (const n of SIZES) {
    if (backend === 'select' && n > SELECT_MAX_N) continue;
    const big = Math.min(n, 100);
    out.push([n, 1]);
    if (big !== 1) out.push([n, big]);
  }
  return out;
}

/** Which registered fds are made ready: spread evenly, as in the C and Python halves. */
function readyIndices(n, a) {
  const out = [];
  for (let k = 0; k < a; k++) out.push(Math.floor((k * n) / a));
  return out;
}

// ---------------------------------------------------------------------------
// The workers. Each one holds one cell at a time and answers, line by line:
//   setup BACKEND N A -> ok      calibrate MS KIND -> ITERS
//   round ITERS KIND  -> NS      teardown          -> ok
// (the protocol of bench-select.c --serve), so the parent can interleave the
// rounds of C, iomux and CPython on the same cell.

// iomux worker: one Node process per backend, so V8 sees one selector class per
// process, as in a real program. Kinds: "main" = sel.select(0); "native" = the
// native wait(0) alone, without BaseSelector's key mapping; "empty" = a native
// method that does nothing (the bare cost of a Node-API crossing).
function iomuxWorker() {
  const iomux = require(root);
  const { native } = require(path.join(root, 'dist', 'binding.js'));
  const classes = {
    select: iomux.SelectSelector, poll: iomux.PollSelector, epoll: iomux.EpollSelector,
    io_uring: iomux.UringSelector,
    'io_uring-single': class extends iomux.UringSelector { constructor() { super({ multishot: false }); } },
  };
  let sink = 0;
  let cell;

  // Each measured loop is its own function so every call site stays monomorphic.
  function timeSelect(sel, iters) {
    let s = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) s += sel.select(0).length;
    const t1 = process.hrtime.bigint();
    sink += s;
    return Number(t1 - t0) / iters;
  }
  function timeNativeWait(set, iters) {
    let s = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) s += set.wait(0);
    const t1 = process.hrtime.bigint();
    sink += s;
    return Number(t1 - t0) / iters;
  }
  function timeEmpty(obj, iters) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) obj.cancel();
    const t1 = process.hrtime.bigint();
    return Number(t1 - t0) / iters;
  }
  // "jsmap": sel.select(0) with the native set swapped for a stub that only
  // returns the count of the last real wait (whose pairs are still in the
  // results array), i.e. BaseSelector's own JS cost. It makes the native.wait
  // call site polymorphic, so the parent runs it in a separate worker process.
  function timeJsMap(sel, iters) {
    const real = sel.native;
    sel.native = cell.stub;
    try {
      return timeSelect(sel, iters);
    } finally {
      sel.native = real;
    }
  }
  const loop = (kind) => {
    if (kind === 'main') return [timeSelect, cell.sel];
    if (kind === 'native') return [timeNativeWait, cell.sel.native];
    if (kind === 'empty') return [timeEmpty, cell.empty];
    if (kind === 'jsmap') return [timeJsMap, cell.sel];
    throw new Error(`unknown kind ${kind}`);
  };

  const commands = {
    setup(backend, n, a) {
      n = Number(n);
      a = Number(a);
      // Both ends of each socketpair are registered (N fds, not 2N); a ready fd
      // has one byte pending, written by its partner and never read.
      const ends = [];
      for (let j = 0; j < Math.ceil(n / 2); j++) ends.push(...iomux.socketpair());
      const sel = new classes[backend]();
      for (let i = 0; i < n; i++) {
        const fd = ends[i].fileno();
        if (backend === 'select' && fd >= iomux.FD_SETSIZE) throw new Error(`fd ${fd} >= FD_SETSIZE: too many fds already open`);
        sel.register(fd, iomux.EVENT_READ);
      }
      for (const i of readyIndices(n, a)) ends[i ^ 1].send(Buffer.from('x'));
      const got = sel.select(0).length;
      if (got !== a) throw new Error(`iomux ${backend} n=${n}: ${got} ready, expected ${a}`);
      const count = sel.native.wait(0);
      cell = { ends, sel, empty: new native.EpollSet(new Int32Array(2)), stub: { wait: () => count } };
      return 'ok';
    },
    calibrate(ms, kind) {
      const [fn, arg] = loop(kind);
      const iters = calibrate(fn, arg, Number(ms));
      fn(arg, iters); // one more full round, so that optimised code is what gets timed
      return String(iters);
    },
    round(iters, kind) {
      const [fn, arg] = loop(kind);
      return String(fn(arg, Number(iters)));
    },
    teardown() {
      cell.sel.close();
      cell.empty.close();
      for (const s of cell.ends) s.close();
      cell = undefined;
      return 'ok';
    },
  };
  serveLines((line) => {
    const [cmd, ...args] = line.trim().split(/\s+/);
    if (!commands[cmd]) throw new Error(`bad command: ${line}`);
    return commands[cmd](...args);
  });
  process.on('exit', () => {
    if (sink === 0.5) console.error(sink); // never true; keeps `sink` observable
  });
}

/** Run `fn` on `iters` doubling until a round takes about ms / 4, then scale to ms. */
function calibrate(fn, arg, ms) {
  let iters = 16;
  for (;;) {
    const t0 = performance.now();
    fn(arg, iters);
    const took = performance.now() - t0;
    if (took >= ms / 4) return Math.max(1, Math.round((iters * ms) / Math.max(took, 1e-3)));
    iters *= 4;
  }
}

function serveLines(handle) {
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) fs.writeSync(1, handle(line) + '\n');
    }
  });
}

// CPython's selectors worker, same layout, same protocol. Kind: "main" only.
const PYTHON = String.raw`
import resource, selectors, socket, sys, time

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft != hard:
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
classes = {'select': selectors.SelectSelector, 'poll': selectors.PollSelector, 'epoll': selectors.EpollSelector}
perf = time.perf_counter_ns

def one_round(sel, iters):
    select = sel.select
    t0 = perf()
    for _ in range(iters):
        select(0)
    return (perf() - t0) / iters

sel = ends = None
for line in sys.stdin:
    cmd, *args = line.split()
    if cmd == 'setup':
        backend, n, a = args[0], int(args[1]), int(args[2])
        ends = []
        for _ in range((n + 1) // 2):
            ends.extend(socket.socketpair())
        sel = classes[backend]()
        for i in range(n):
            sel.register(ends[i].fileno(), selectors.EVENT_READ)
        for k in range(a):
            ends[(k * n // a) ^ 1].send(b'x')
        got = len(sel.select(0))
        if got != a:
            sys.exit('python %s n=%d: %d ready, expected %d' % (backend, n, got, a))
        out = 'ok'
    elif cmd == 'calibrate':
        ms, iters = float(args[0]), 16
        while True:
            t0 = perf()
            one_round(sel, iters)
            took = (perf() - t0) / 1e6
            if took >= ms / 4:
                iters = max(1, round(iters * ms / max(took, 1e-3)))
                break
            iters *= 4
        out = str(iters)
    elif cmd == 'round':
        out = repr(one_round(sel, int(args[0])))
    elif cmd == 'teardown':
        sel.close()
        for s in ends:
            s.close()
        sel = ends = None
        out = 'ok'
    else:
        sys.exit('bad command: ' + line)
    sys.stdout.write(out + '\n')
    sys.stdout.flush()
`;

/** A worker process spoken to one line at a time. */
class Worker {
  constructor(name, cmd, args) {
    this.name = name;
    this.proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.waiting = [];
    this.buf = '';
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk) => {
      this.buf += chunk;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        this.waiting.shift()?.resolve(line);
      }
    });
    this.proc.on('exit', (code, sig) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`${name} worker exited (${sig ?? code})`));
      this.exited = true;
    });
    this.proc.on('error', (err) => {
      for (const w of this.waiting.splice(0)) w.reject(err);
    });
  }
  send(line) {
    if (this.exited) return Promise.reject(new Error(`${this.name} worker has exited`));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.proc.stdin.write(line + '\n');
    });
  }
  close() {
    this.proc.stdin.end();
  }
}

// ---------------------------------------------------------------------------
// Parent: build, run everything, report.


function machine(pythonVersion, ccVersion) {
  return describeMachine({
    python: pythonVersion ?? 'not found',
    cc: ccVersion?.split('\n')[0] ?? 'unknown',
    mode: `${quick ? 'quick' : 'full'}: ${rounds} interleaved rounds of ~${roundMs} ms per implementation and cell, median`,
  });
}

const fmtNs = (v) => (v === undefined ? '—' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));
const fmtRatio = (v) => (v === undefined ? '—' : v.toFixed(2) + '×');

function buildRows(results) {
  const get = (impl, b, n, a) => results.find((r) => r.impl === impl && r.backend === b && r.n === n && r.a === a)?.ns;
  const rows = [];
  for (const b of BACKENDS) {
    for (const [n, a] of cells(b)) {
      const c = get('c', b, n, a);
      const io = get('iomux', b, n, a);
      const py = get('cpython', b, n, a);
      rows.push({
        backend: b, n, a, c, io, py,
        ioC: c && io ? io / c : undefined,
        pyC: c && py ? py / c : undefined,
        native: get('iomux-native-wait', b, n, a),
        js: get('iomux-js-mapping', b, n, a),
        ct: get('c-threaded', b, n, a),
        c3: b === 'select' ? get('c', 'select3', n, a) : undefined,
      });
    }
  }
  return rows;
}

function mainTable(rows) {
  const lines = [
    '| backend | N | A | C ns/call | iomux ns/call | CPython ns/call | iomux/C | CPython/C | iomux ≤ 1.3×C | iomux < CPython |',
    '|---|--:|--:|--:|--:|--:|--:|--:|:-:|:-:|',
  ];
  for (const r of rows) {
    const t1 = r.ioC === undefined ? '—' : r.ioC <= TARGET_RATIO ? 'yes' : `**no** (${Math.round((r.ioC / TARGET_RATIO - 1) * 100)}% over target)`;
    const t2 = r.io === undefined || r.py === undefined ? '—' : r.io < r.py ? 'yes' : `**no** (${(r.io / r.py).toFixed(2)}× CPython)`;
    lines.push(`| ${r.backend} | ${r.n.toLocaleString('en-US')} | ${r.a} | ${fmtNs(r.c)} | ${fmtNs(r.io)} | ${fmtNs(r.py)} | ${fmtRatio(r.ioC)} | ${fmtRatio(r.pyC)} | ${t1} | ${t2} |`);
  }
  return lines.join('\n');
}

function analysisTable(rows, empty) {
  const lines = [
    `Empty Node-API instance method call (node-addon-api ObjectWrap, no arguments, returns undefined): **${fmtNs(empty)} ns** (median over the backends' first cells).`,
    '',
    'Columns: C = the syscall loop; native = `sel.native.wait(0)` alone (Node-API crossing, argument parsing, syscall, writing the results array);',
    'JS = `sel.select(0)` with the native set stubbed out (BaseSelector: closed check, result array, key lookups, tuples);',
    'iomux = the real `sel.select(0)`. native − C is the native-side overhead; iomux − native is what the JS side adds.',
    'For select, "C 3 sets" is select(2) given an (empty) write and except set as well, as SelectSet does.',
    '"C thr" is the C loop in a process with one more (sleeping) thread: the kernel then refcounts every file that',
    'select/poll look at (no fdget fast path for a shared fd table), which any Node process pays, as Node always runs several threads.',
    '',
    '| backend | N | A | C | C thr | C 3 sets | native | JS (stub) | iomux | native − C | iomux − native | native/C | iomux/C | iomux/C thr |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    const d1 = r.native !== undefined && r.c !== undefined ? r.native - r.c : undefined;
    const d2 = r.native !== undefined && r.io !== undefined ? r.io - r.native : undefined;
    lines.push(`| ${r.backend} | ${r.n.toLocaleString('en-US')} | ${r.a} | ${fmtNs(r.c)} | ${fmtNs(r.ct)} | ${fmtNs(r.c3)} | ${fmtNs(r.native)} | ${fmtNs(r.js)} | ${fmtNs(r.io)} | ${fmtNs(d1)} | ${fmtNs(d2)} | ${fmtRatio(r.native && r.c ? r.native / r.c : undefined)} | ${fmtRatio(r.ioC)} | ${fmtRatio(r.io && r.ct ? r.io / r.ct : undefined)} |`);
  }
  return lines.join('\n');
}

const machineBlock = (m) => machineMarkdown(m, [m.python, m.cc]);

function verdict(rows) {
  const timed = rows.filter((r) => r.ioC !== undefined);
  const miss = timed.filter((r) => r.ioC > TARGET_RATIO);
  const cell = (r) => `${r.backend} N=${r.n.toLocaleString('en-US')} A=${r.a}`;
  const out = [];
  if (timed.length === 0) return 'No iomux/C pairs were measured.';
  if (miss.length === 0) out.push(`All ${timed.length} cells meet the 1.3 × C target.`);
  else {
    out.push(`${timed.length - miss.length} of ${timed.length} cells meet the 1.3 × C target; ${miss.length} miss it:`);
    out.push('');
    for (const r of miss.sort((p, q) => q.ioC - p.ioC)) {
      out.push(`- ${cell(r)}: ${r.ioC.toFixed(2)} × C (${fmtNs(r.io)} ns against ${fmtNs(r.c)} ns; ${fmtNs(r.io - TARGET_RATIO * r.c)} ns over the 1.3 × budget)`);
    }
  }
  const withPy = rows.filter((r) => r.io !== undefined && r.py !== undefined);
  if (withPy.length) {
    const slow = withPy.filter((r) => r.io >= r.py);
    out.push('');
    out.push(slow.length === 0
      ? `iomux is faster than CPython's selectors in all ${withPy.length} cells.`
      : `iomux is not faster than CPython in ${slow.length} of ${withPy.length} cells: ${slow.map(cell).join(', ')}.`);
  }
  return out.join('\n');
}

function chart(results, m) {
  const colors = { select: '#1f77b4', poll: '#2ca02c', epoll: '#d62728', io_uring: '#9467bd', 'io_uring-single': '#8c564b' };
  const styles = { c: ['solid', 'circle', 'C'], iomux: ['dash', 'square', 'iomux'], cpython: ['dot', 'triangle', 'CPython'] };
  const panel = (bigA) => {
    const series = [];
    for (const impl of ['c', 'iomux', 'cpython']) {
      for (const b of BACKENDS) {
        const pts = results
          .filter((r) => r.impl === impl && r.backend === b && (bigA ? r.a === Math.min(r.n, 100) : r.a === 1))
          .map((r) => [r.n, r.ns]);
        if (pts.length) series.push({ name: `${styles[impl][2]} ${b}`, color: colors[b], dash: styles[impl][0], marker: styles[impl][1], points: pts });
      }
    }
    return lineChart({
      title: bigA ? 'A = min(N, 100) ready fds' : 'A = 1 ready fd',
      xLabel: 'registered fds N (log)',
      yLabel: 'time per select(0) call (log)',
      xLog: true, yLog: true, yFormat: formatNs,
      width: 620, height: 560, legendColumns: 3, series,
    });
  };
  return panels([panel(false), panel(true)], {
    title: 'Zero-timeout select(0): C syscall loop vs iomux vs CPython selectors',
    footer: `${machineFooter(m, [m.python])}${m.mode.startsWith('quick') ? ' (quick run)' : ''}`,
  });
}

/** Runs the matrix: per cell, every implementation's rounds interleaved. */
async function measureAll(workers, analyze) {
  const results = [];
  for (const backend of BACKENDS) {
    const io = new Worker(`iomux ${backend}`, process.execPath, [fileURLToPath(import.meta.url), '--iomux-worker']);
    const py = workers.python && PYTHON_HAS.has(backend) ? new Worker(`CPython ${backend}`, 'python3', ['-c', PYTHON]) : null;
    // The breakdown loops run in their own process so they cannot disturb V8's view of the main loop.
    const io2 = analyze ? new Worker(`iomux ${backend} (analysis)`, process.execPath, [fileURLToPath(import.meta.url), '--iomux-worker']) : null;
    try {
      let first = true;
      for (const [n, a] of cells(backend)) {
        process.stderr.write(`bench:select: ${backend} N=${n} A=${a}\n`);
        const ms = [{ impl: 'c', backend, w: workers.c, kind: 'main' }, { impl: 'iomux', backend, w: io, kind: 'main' }];
        if (py) ms.push({ impl: 'cpython', backend, w: py, kind: 'main' });
        if (analyze) {
          ms.push({ impl: 'c-threaded', backend, w: workers.ct, kind: 'main' });
          ms.push({ impl: 'iomux-native-wait', backend, w: io2, kind: 'native' });
          ms.push({ impl: 'iomux-js-mapping', backend, w: io2, kind: 'jsmap' });
          if (backend === 'select') ms.push({ impl: 'c', backend: 'select3', w: workers.c, kind: 'select3' });
          if (first) ms.push({ impl: 'iomux-empty-call', backend, w: io2, kind: 'empty' });
        }
        first = false;
        const ws = [...new Set(ms.map((m) => m.w))];
        for (const w of ws) await w.send(`setup ${backend} ${n} ${a}`);
        for (const m of ms) {
          m.iters = Number(await m.w.send(`calibrate ${roundMs} ${m.kind}`));
          m.per = [];
        }
        // Rotate the order each round so no implementation always follows the same one.
        for (let r = 0; r < rounds; r++) {
          for (let j = 0; j < ms.length; j++) {
            const m = ms[(r + j) % ms.length];
            m.per.push(Number(await m.w.send(`round ${m.iters} ${m.kind}`)));
          }
        }
        for (const w of ws) await w.send('teardown');
        for (const m of ms) {
          results.push({ impl: m.impl, backend: m.backend, n, a, ns: median(m.per), min: Math.min(...m.per), iters: m.iters, rounds });
        }
      }
    } finally {
      io.close();
      io2?.close();
      py?.close();
    }
  }
  return results;
}

async function parent() {
  const analyze = cli.values.analyze;
  if (cli.reportOnly) {
    // Rewrite the reports from the last run's select.json, measuring nothing.
    const saved = readResults(cli, 'select');
    return report(saved.results, saved.machine, saved.results.some((r) => r.impl === 'c-threaded'));
  }
  const need = SIZES[SIZES.length - 1] + FD_HEADROOM;
  const lim = nofileLimits();
  if (lim.soft < need && !process.env.IOMUX_BENCH_REEXEC) {
    // Node raises its soft limit to the hard one by itself; if even that is too
    // low, try to raise the hard one (works as root) and run again.
    const r = spawnSync('sh', ['-c', `ulimit -n ${need} && exec "$0" "$@"`, process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...argv], {
      stdio: 'inherit', env: { ...process.env, IOMUX_BENCH_REEXEC: '1' },
    });
    if (r.status === 0 || r.status === null) process.exit(r.status ?? 1);
    process.stderr.write(`bench:select: cannot raise RLIMIT_NOFILE to ${need} (soft ${lim.soft}, hard ${lim.hard}); N=10000 will fail\n`);
  }
  if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build:ts` first');

  const cc = process.env.CC || 'cc';
  const ccVersion = have(cc);
  if (!ccVersion) throw new Error(`no C compiler (${cc}); set CC`);
  const python = cli.values['no-python'] ? null : have('python3');
  if (!python) process.stderr.write('bench:select: python3 not found (or --no-python): no CPython column\n');

  // The C program is built afresh each run, into a temporary directory.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-bench-'));
  const exe = path.join(tmp, 'bench-select');
  let results;
  try {
    const b = spawnSync(cc, ['-O2', '-pthread', '-o', exe, path.join(here, 'select.c')], { stdio: 'inherit' });
    if (b.status !== 0) throw new Error(`${cc} -O2 -pthread scripts/bench/select.c failed`);
    const c = new Worker('C', exe, ['--serve']);
    const ct = analyze ? new Worker('C (idle thread)', exe, ['--serve', '--idle-thread']) : null;
    try {
      results = await measureAll({ c, ct, python }, analyze);
    } finally {
      c.close();
      ct?.close();
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  report(results, machine(python, ccVersion), analyze);
}

function report(results, m, analyze) {
  const rows = buildRows(results);
  const table = mainTable(rows);
  const md = [
    '# bench:select — zero-timeout select(0) cost per call',
    '',
    machineBlock(m),
    '',
    'C: the raw syscall in a tight loop, including finding the ready fds (scripts/bench/select.c, `cc -O2`).',
    'iomux: `sel.select(0)` on SelectSelector / PollSelector / EpollSelector / UringSelector (io_uring: multishot polls, the default;',
    'io_uring-single: `{ multishot: false }`). CPython: `selectors` `sel.select(0)` (no io_uring selector there).',
    'C io_uring (both io_uring rows): single-shot IORING_OP_POLL_ADD per fd, re-armed after each completion (one io_uring_enter',
    'submits the A re-arms, which complete at once while the fds stay ready): level-triggered readiness as C gets it from io_uring.',
    'N registered fds (both ends of N/2 AF_UNIX socketpairs), A of them readable (one unread byte each). ns per call, median of the rounds.',
    '',
    table,
    '',
    verdict(rows),
    '',
  ].join('\n');

  const readme = [
    '## Speed: select(0) against the raw syscall',
    '',
    'Run `npm run bench:select` (add `-- --quick` for a short run, `-- --analyze` for a breakdown of where the time goes).',
    'It compiles `scripts/bench/select.c` with the system C compiler, which times select(2), poll(2) and epoll_wait(2)',
    'with a zero timeout in a tight loop (including the scan a C program needs to find the ready fds), then runs the same',
    'matrix through iomux\'s `SelectSelector`, `PollSelector` and `EpollSelector` (`sel.select(0)`) and, when `python3` is',
    'installed, through CPython\'s `selectors`. N is the number of registered fds (select stops at 1,000: FD_SETSIZE is',
    '1,024), A the number of them that are readable. The target is iomux ≤ 1.3 × C and below CPython in every cell.',
    '',
    machineBlock(m),
    '',
    table,
    '',
    '![select(0) cost per call against N, log-log](bench-results/select.svg)',
    '',
    verdict(rows),
    '',
    'Reading the numbers: the C loop runs in a single-threaded process, for which Linux skips the per-file reference',
    'counting that select(2) and poll(2) do on every registered fd (the fdget fast path). Node always runs several',
    'threads, so it cannot have that fast path: with many fds, part of the select/poll gap is in the kernel, not in iomux',
    '(CPython, single-threaded, does get it). `npm run bench:select -- --analyze` times the C loop with one idle thread',
    'as well, together with a breakdown of iomux\'s own cost, and writes it to `bench-results/select-analysis.md`.',
    '',
  ].join('\n');
  const extra = { 'README-select.md': readme };
  process.stdout.write(md + '\n');
  if (analyze) {
    const empty = median(results.filter((r) => r.impl === 'iomux-empty-call').map((r) => r.ns));
    const a = ['# bench:select --analyze: where the time goes', '', machineBlock(m), '', analysisTable(rows, empty), ''].join('\n');
    extra['select-analysis.md'] = a;
    process.stdout.write('\n' + a + '\n');
  }
  writeReport(cli, 'select', { md, json: { machine: m, results }, svg: chart(results, m), extra });
}

if (cli.values['iomux-worker']) iomuxWorker();
else
  parent().catch((err) => {
    console.error(err);
    process.exit(1);
  });
