#!/usr/bin/env node
// `npm run bench:notify`: readiness notification, side by side in one run.
//
// Two scenarios, each implementation in its own fresh Node process per run,
// rounds interleaved (the order rotates each round), medians over the rounds:
//   idle       a C child (scripts/bench/notify-writer.c) writes its CLOCK_MONOTONIC
//              time into a socketpair every 2 ms; the process under test sleeps
//              until the fd is readable, reads the stamp, and records the
//              wake-up latency (p50/p99) and its own CPU time per wake-up.
//              At each set size N (--sizes, default 1, 8, 64 and 1,000), the
//              written fd is watched beside N - 1 idle ones: listening sockets
//              nobody connects to (one fd each, so all stay below FD_SETSIZE).
//   pingpong   always ready: write a byte on one end of a socketpair, wait until
//              the other end is readable, read it, repeat (events/s, CPU per event).
//   churn      iomux only: with a wait pending over 1 or 63 idle fds, register one
//              more, let Node's loop turn, unregister it, turn again (CPU per
//              cycle beyond the bare loop turns): what a watch costs to make.
// Implementations: iomux's EpollSelector, UringSelector, PollSelector and SelectSelector
// (selectAsync()), each twice: as shipped (direct watching of each fd up to 64
// fds) and with IOMUX_DIRECT_MAX=0 (the nested epoll fd, ring eventfd or waiter
// thread: the way every size took before direct watching); npm `epoll` (fivdi: epoll + a thread + uv_async), npm
// `socketwatcher` (a bare uv_poll_t), and Node `net` on the same fd. The raw
// iomux Epoll class has no async form, so it is not in the table. The peers are
// installed on demand into ~/.cache/iomux-bench/notify (scripts/lib/peers.mjs),
// not into the project.
//
//   node scripts/bench/notify.mjs [--quick] [--rounds R] [--idle-ms MS] [--pingpong-ms MS]
//                                 [--sizes 1,8,64,1000] [--out DIR | --write] [--report-only]
//
// Writes notify.{md,json,svg} to a new temporary directory, to --out DIR, or
// with --write over the committed bench-results/ (scripts/lib/bench.mjs);
// --report-only re-renders from the notify.json there.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCli, describeMachine, median, numberFlag, readResults, writeReport } from '../lib/bench.mjs';
import { barChart, panels } from '../lib/svg-chart.mjs';
import { ensurePeers } from '../lib/peers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const require = createRequire(import.meta.url);

const PEERS = { epoll: '4.0.2', socketwatcher: '0.4.0' };
const SELECTORS = [
  { id: 'iomux-epoll', label: 'iomux EpollSelector', color: '#d62728' },
  { id: 'iomux-io_uring', label: 'iomux UringSelector', color: '#17becf' },
  { id: 'iomux-poll', label: 'iomux PollSelector', color: '#2ca02c' },
  { id: 'iomux-select', label: 'iomux SelectSelector', color: '#1f77b4' },
];
const NESTED = ' (IOMUX_DIRECT_MAX=0)';
const IMPLS = [
  ...SELECTORS,
  // The same selectors the way they waited before direct watching: every size nested.
  ...SELECTORS.map((i) => ({ ...i, id: `${i.id}-nested`, label: `${i.label}, nested`, color: `${i.color}99`, env: { IOMUX_DIRECT_MAX: '0' }, nested: true })),
  { id: 'fivdi-epoll', label: 'npm epoll (fivdi)', color: '#9467bd' },
  { id: 'socketwatcher', label: 'npm socketwatcher (uv_poll)', color: '#8c564b' },
  { id: 'node-net', label: 'Node net', color: '#ff7f0e' },
  // Not a peer: socketwatcher's uv_poll on an epoll fd that holds the socket, plus
  // one epoll_wait(…, 0) per wake (iomux's raw Epoll) -- what EpollSelector's
  // selectAsync() does in the kernel, without its promise and callback.
  { id: 'control-nested', label: 'control: uv_poll on an epoll fd + epoll_wait(0)', color: '#7f7f7f', control: true, sizes: [1] },
  // Not a peer either: socketwatcher's uv_poll on the fd, each wake resolving a
  // promise that an async loop awaits -- what any promise-returning wait pays
  // in JS, with no syscall and no iomux code.
  { id: 'control-promise', label: 'control: socketwatcher + a promise per wake', color: '#bcbd22', control: true, sizes: [1] },
];
const DEFAULT_SIZES = [1, 8, 64, 1000];
const PERIOD_US = 2000;

const argv = process.argv.slice(2);

// ---- the process under test ------------------------------------------------

// Each implementation as `watch(fds, onReadable) -> stop()`: fds[0] is the
// written fd, the rest are idle; onReadable runs on every readiness
// notification of fds[0] and must consume what is readable.
function watchers(peerDirs) {
  const io = require(root);
  const selector = (Cls) => (fds, onReadable) => {
    const sel = new Cls();
    for (const fd of fds) sel.register(fd, io.EVENT_READ);
    let running = true;
    (async () => {
      while (running) {
        const ready = await sel.selectAsync();
        if (ready.length > 0) onReadable();
      }
    })();
    return () => {
      running = false;
      sel.close();
    };
  };
  const peer = (name) => createRequire(path.join(peerDirs, 'package.json'))(name);
  const socketwatcher = (fds, onReadable) => {
    const { SocketWatcher } = peer('socketwatcher');
    const ws = fds.map((fd, i) => {
      const w = new SocketWatcher();
      w.callback = i === 0 ? onReadable : () => {};
      w.set(fd, true, false);
      w.start();
      return w;
    });
    return () => { for (const w of ws) w.stop(); };
  };
  const table = {
    'fivdi-epoll': (fds, onReadable) => {
      const { Epoll } = peer('epoll');
      const ep = new Epoll((err) => {
        if (err) throw err;
        onReadable();
      });
      for (const fd of fds) ep.add(fd, Epoll.EPOLLIN);
      return () => ep.close();
    },
    socketwatcher,
    'control-promise': (fds, onReadable) => {
      const { SocketWatcher } = peer('socketwatcher');
      const w = new SocketWatcher();
      let wake = null;
      w.callback = () => {
        if (!wake) return;
        const r = wake;
        wake = null;
        r([fds[0]]);
      };
      w.set(fds[0], true, false);
      w.start();
      let running = true;
      (async () => {
        while (running) {
          const ready = await new Promise((r) => (wake = r));
          if (ready.length > 0) onReadable();
        }
      })();
      return () => {
        running = false;
        w.stop();
      };
    },
    'control-nested': (fds, onReadable) => {
      const ep = new io.Epoll();
      for (const fd of fds) ep.register(fd, io.EPOLLIN);
      const stop = socketwatcher([ep.fileno()], () => {
        if (ep.poll(0).length > 0) onReadable();
      });
      return () => {
        stop();
        ep.close();
      };
    },
  };
  const classes = { 'iomux-epoll': io.EpollSelector, 'iomux-io_uring': io.UringSelector, 'iomux-poll': io.PollSelector, 'iomux-select': io.SelectSelector };
  for (const [id, Cls] of Object.entries(classes)) table[id] = table[`${id}-nested`] = selector(Cls);
  return table;
}

async function worker(impl, scenario, measureMs, warmMs, writerExe, peerDirs, setSize) {
  const io = require(root);
  const { native } = require(path.join(root, 'dist', 'binding.js'));
  const buf = Buffer.alloc(4096);
  let events = 0;
  const lat = [];
  let measuring = false;
  let stop;
  let result;

  if (scenario === 'idle') {
    const [a, b] = io.socketpair();
    const child = spawn(writerExe, [String(PERIOD_US)], { stdio: ['ignore', b.fileno(), 'inherit'] });
    b.close();
    const fd = a.fileno();
    a.setBlocking(false);
    // The idle rest of the set: listening sockets nobody connects to, never
    // readable, one fd each (so 1,000 of them stay below select(2)'s
    // FD_SETSIZE), each its own file (the kernel caps the wake-up paths of one
    // file through nested epoll sets: duplicates of one socket would not nest).
    const idleFds = [];
    for (let i = 1; i < setSize; i++) {
      const l = new io.Socket(io.AF_INET);
      l.bind(['127.0.0.1', 0]);
      l.listen(1);
      idleFds.push(l.detach());
    }
    const fds = [fd, ...idleFds];
    const stamps = (data, n) => {
      const now = process.hrtime.bigint();
      for (let off = 0; off + 8 <= n; off += 8) if (measuring) lat.push(Number(now - data.readBigInt64LE(off)));
    };
    if (impl === 'node-net') {
      const net = require('node:net');
      const s = new net.Socket({ fd, readable: true, writable: false });
      s.on('data', (d) => {
        if (measuring) events++;
        stamps(d, d.length);
      });
      const rest = idleFds.map((f) => new net.Socket({ fd: f, readable: true, writable: false }));
      stop = () => { s.destroy(); for (const r of rest) r.destroy(); };
    } else {
      stop = watchers(peerDirs)[impl](fds, () => {
        if (measuring) events++;
        const n = native.recvInto(fd, buf);
        if (n) stamps(buf, n);
      });
    }
    await sleep(warmMs);
    const r0 = process.resourceUsage();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    measuring = true;
    await sleep(measureMs);
    measuring = false;
    const cpu = process.cpuUsage(c0);
    const r1 = process.resourceUsage();
    const wall = performance.now() - t0;
    stop();
    child.kill();
    lat.sort((x, y) => x - y);
    const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] / 1000;
    // Context switches of all the process's threads (getrusage(RUSAGE_SELF)):
    // how many times something had to be woken per wake-up.
    const switches = r1.voluntaryContextSwitches - r0.voluntaryContextSwitches + (r1.involuntaryContextSwitches - r0.involuntaryContextSwitches);
    result = { events, wallMs: wall, cpuUs: cpu.user + cpu.system, cpuPerEventUs: (cpu.user + cpu.system) / events, p50Us: q(0.5), p99Us: q(0.99), stamps: lat.length, switchesPerEvent: switches / events };
  } else if (scenario === 'churn') {
    // Registration churn while a wait is pending: register one more fd, let
    // Node's loop turn (it applies watches there), unregister it, turn again.
    const classes = { 'iomux-epoll': io.EpollSelector, 'iomux-io_uring': io.UringSelector, 'iomux-poll': io.PollSelector, 'iomux-select': io.SelectSelector };
    const sel = new classes[impl.replace(/-nested$/, '')]();
    const keep = [];
    for (let i = 0; i < setSize; i++) {
      const l = new io.Socket(io.AF_INET);
      l.bind(['127.0.0.1', 0]);
      l.listen(1);
      keep.push(l);
      sel.register(l, io.EVENT_READ);
    }
    const [x, y] = io.socketpair();
    const pending = sel.selectAsync();
    const turn = () => new Promise((r) => setImmediate(r));
    const cycle = async () => {
      sel.register(x, io.EVENT_READ);
      await turn();
      sel.unregister(x);
      await turn();
    };
    const end0 = performance.now() + warmMs;
    while (performance.now() < end0) await cycle();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < measureMs) {
      await cycle();
      n++;
    }
    const cpu = process.cpuUsage(c0);
    // The same loop turns without the registrations: what the cycle costs beyond them.
    const c1 = process.cpuUsage();
    for (let i = 0; i < n; i++) { await turn(); await turn(); }
    const base = process.cpuUsage(c1);
    sel.close();
    await pending;
    void y;
    result = { events: n, wallMs: performance.now() - t0, cpuUs: cpu.user + cpu.system, cpuPerEventUs: (cpu.user + cpu.system - base.user - base.system) / n };
  } else {
    const [a, b] = io.socketpair();
    const fa = a.fileno();
    const fb = b.fileno();
    a.setBlocking(false);
    const one = Buffer.from('x');
    let done;
    const finished = new Promise((r) => (done = r));
    let deadline = Infinity;
    const onReadable = () => {
      if (!native.recvInto(fa, buf)) return;
      events++;
      if (performance.now() >= deadline) return done();
      native.send(fb, one);
    };
    if (impl === 'node-net') {
      const net = require('node:net');
      const s = new net.Socket({ fd: fa, readable: true, writable: false });
      s.on('data', () => {
        events++;
        if (performance.now() >= deadline) return done();
        native.send(fb, one);
      });
      stop = () => s.destroy();
    } else {
      stop = watchers(peerDirs)[impl]([fa], onReadable);
    }
    // Warm up, then measure a fresh window.
    deadline = performance.now() + warmMs;
    native.send(fb, one);
    await finished;
    const warmEvents = events;
    const again = new Promise((r) => (done = r));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    deadline = t0 + measureMs;
    native.send(fb, one);
    await again;
    const cpu = process.cpuUsage(c0);
    const wall = performance.now() - t0;
    const n = events - warmEvents;
    stop();
    result = { events: n, wallMs: wall, perSec: (n * 1000) / wall, cpuUs: cpu.user + cpu.system, cpuPerEventUs: (cpu.user + cpu.system) / n };
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  // Handles of the peers may linger; this process is done.
  process.exit(0);
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// ---- the parent: build, install, rotate, report -----------------------------

async function parent() {
  const cli = benchCli('notify', {
    rounds: { type: 'string' },
    'idle-ms': { type: 'string' },
    'pingpong-ms': { type: 'string' },
    sizes: { type: 'string' },
  }, 'node scripts/bench/notify.mjs [--rounds R] [--idle-ms MS] [--pingpong-ms MS] [--sizes 1,8,64,1000]');
  if (cli.reportOnly) return finish(cli, readResults(cli, 'notify'));
  const quick = cli.quick;
  const rounds = numberFlag(cli, 'rounds', quick ? 1 : 3, 1);
  const idleMs = numberFlag(cli, 'idle-ms', quick ? 1000 : 3000, 1);
  const pingMs = numberFlag(cli, 'pingpong-ms', quick ? 500 : 1500, 1);
  const warmMs = quick ? 200 : 500;
  const sizesFlag = cli.values?.sizes ?? cli.sizes;
  const sizes = sizesFlag ? String(sizesFlag).split(',').map(Number) : quick ? [1, 64] : DEFAULT_SIZES;
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) throw new Error(`--sizes takes integers from 1 to 1000, not ${sizesFlag}`);
  const churnSizes = [1, 63].filter((n) => n <= Math.max(...sizes));
  const churnMs = quick ? 300 : 1000;
  if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build:ts` first');

  const cc = process.env.CC || 'cc';
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-notify-writer-'));
  const writer = path.join(tmp, 'notify-writer');
  const b = spawnSync(cc, ['-O2', '-o', writer, path.join(here, 'notify-writer.c')], { stdio: 'inherit' });
  if (b.status !== 0) throw new Error(`${cc} -O2 scripts/bench/notify-writer.c failed`);

  const peers = ensurePeers('notify', PEERS);
  const peerDir = path.dirname(path.dirname(Object.values(peers).find((p) => p.dir)?.dir ?? path.join(tmp, 'x', 'y')));
  const versions = {};
  for (const [pkg, p] of Object.entries(peers)) {
    versions[pkg] = p.version ? `${p.version}${p.error ? ` (${p.error})` : ''}` : p.error;
    process.stderr.write(`peer ${pkg}: ${versions[pkg]}\n`);
  }
  const impls = IMPLS.filter((i) => {
    if (i.id === 'fivdi-epoll') return !peers.epoll.error && process.platform === 'linux';
    if (i.id === 'socketwatcher') return !peers.socketwatcher.error;
    return true;
  });

  const machine = describeMachine({
    cc: spawnSync(cc, ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? 'unknown',
    mode: `${rounds} round${rounds === 1 ? '' : 's'} (order rotating; median), idle ${idleMs / 1000} s at ${sizes.join(', ')} fds and ping-pong ${pingMs / 1000} s measured per run`,
  });
  const runs = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const cells = [...sizes.map((n) => ['idle', n]), ['pingpong', 1], ...churnSizes.map((n) => ['churn', n])];
      for (const [scenario, n] of cells) {
        const here = impls.filter((i) => (!i.sizes || i.sizes.includes(n)) && (scenario !== 'churn' || i.id.startsWith('iomux-')));
        // Rotate who goes first, so no implementation always follows the same one.
        const order = here.map((_, k) => here[(k + r) % here.length]);
        for (const impl of order) {
          const ms = scenario === 'idle' ? idleMs : scenario === 'churn' ? churnMs : pingMs;
          const res = runWorker(impl, scenario, ms, warmMs, writer, peerDir, n);
          runs.push({ round: r, scenario, size: n, impl: impl.id, ...res });
          const what = scenario === 'idle' ? `, p50 ${res.p50Us?.toFixed(0)} us, p99 ${res.p99Us?.toFixed(0)} us, ${res.switchesPerEvent?.toFixed(2)} switches` : scenario === 'churn' ? ' per register + unregister' : `, ${Math.round(res.perSec)} events/s`;
          process.stderr.write(`round ${r + 1}/${rounds} ${scenario.padEnd(8)} ${String(n).padStart(4)} fds ${impl.id.padEnd(22)} ${res.error ? `error: ${res.error}` : `${res.cpuPerEventUs.toFixed(2)} us CPU/event${what}`}\n`);
        }
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  finish(cli, { machine, versions, impls: impls.map((i) => i.id), sizes, runs });
}

function runWorker(impl, scenario, ms, warmMs, writer, peerDir, setSize) {
  const env = { ...process.env, ...(impl.env ?? {}) };
  if (!impl.env) delete env.IOMUX_DIRECT_MAX;
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--worker', impl.id, scenario, String(ms), String(warmMs), writer, peerDir, String(setSize)], {
    encoding: 'utf8',
    timeout: ms + warmMs + 30000,
    env,
  });
  const line = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !line) return { error: (r.stderr || `status ${r.status}`).trim().split('\n').slice(-3).join(' | ') };
  return JSON.parse(line);
}

// Runs saved before the set-size dimension have no size: one fd.
const sizeOf = (r) => r.size ?? 1;

function summarize(saved) {
  const sizes = saved.sizes ?? [1];
  const rows = {};  // rows[size][id]; churn sizes are their own
  const churn = [...new Set(saved.runs.filter((r) => r.scenario === 'churn').map(sizeOf))];
  rows.churn = {};
  for (const n of churn) {
    rows.churn[n] = {};
    for (const id of saved.impls) {
      const c = saved.runs.filter((r) => r.impl === id && r.scenario === 'churn' && sizeOf(r) === n && !r.error);
      if (c.length) rows.churn[n][id] = { churnCpu: median(c.map((r) => r.cpuPerEventUs)), cycles: median(c.map((r) => r.events)) };
    }
  }
  for (const n of sizes) {
    rows[n] = {};
    for (const id of saved.impls) {
      const idle = saved.runs.filter((r) => r.impl === id && r.scenario === 'idle' && sizeOf(r) === n && !r.error);
      const ping = saved.runs.filter((r) => r.impl === id && r.scenario === 'pingpong' && !r.error);
      const ran = saved.runs.some((r) => r.impl === id && sizeOf(r) === n && r.scenario !== 'churn');
      if (!ran) continue;
      rows[n][id] = {
        idleCpu: median(idle.map((r) => r.cpuPerEventUs)),
        p50: median(idle.map((r) => r.p50Us)),
        p99: median(idle.map((r) => r.p99Us)),
        wakes: median(idle.map((r) => r.events)),
        switches: median(idle.map((r) => r.switchesPerEvent).filter(Number.isFinite)),
        pingRate: median(ping.map((r) => r.perSec)),
        pingCpu: median(ping.map((r) => r.cpuPerEventUs)),
        churnCpu: median(saved.runs.filter((r) => r.impl === id && r.scenario === 'churn' && sizeOf(r) === n && !r.error).map((r) => r.cpuPerEventUs)),
        errors: saved.runs.filter((r) => r.impl === id && sizeOf(r) === n && r.error).map((r) => r.error),
      };
    }
  }
  return rows;
}

function finish(cli, saved) {
  const rows = summarize(saved);
  const md = report(saved, rows);
  writeReport(cli, 'notify', { md, json: saved, svg: chart(saved, rows) });
  process.stdout.write(md);
}

const label = (id) => IMPLS.find((i) => i.id === id)?.label ?? id;
const f1 = (v) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');
const f2 = (v) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
const int = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a');
const ratio = (v, base) => (base && Number.isFinite(v) && Number.isFinite(base) ? `${(v / base).toFixed(2)}×` : 'n/a');
const fds = (n) => `${n.toLocaleString('en-US')} fd${n === 1 ? '' : 's'}`;

function report(saved, rows) {
  const m = saved.machine;
  const sizes = saved.sizes ?? [1];
  const L = [];
  L.push('# bench:notify — readiness notification, side by side', '');
  L.push(`${m.date}; ${m.cpu}, ${m.cores} cores; ${m.kernel}; Node ${m.node}; load ${m.load} at the start; ${m.mode}.`);
  L.push(`Peers (installed by the bench into ~/.cache/iomux-bench/notify, not dependencies): ${Object.entries(saved.versions).map(([p, v]) => `\`${p}\` ${v}`).join(', ')}.`);
  if (Number(m.load.split(' ')[0]) > m.cores / 2) L.push('', `**Busy machine** (load ${m.load.split(' ')[0]} on ${m.cores} cores): absolute figures are noisy; compare the ratios within this run.`);
  L.push('', 'Selectors as shipped watch each fd in Node\'s loop while they hold at most 64 (direct watching); the rows marked *nested* are the same selectors with `IOMUX_DIRECT_MAX=0`, the way every size waited before (the epoll fd or ring eventfd in Node\'s loop; a waiter thread for poll and select). Above 64 fds both are the nested way.');
  for (const n of sizes) {
    const r = rows[n];
    const sw = r.socketwatcher;
    L.push('', `## Idle wake-ups, ${fds(n)} watched: a stamp every 2 ms into one of them, the process asleep in between`, '');
    L.push('| implementation | wakes | latency p50 (µs) | p99 (µs) | CPU per wake (µs) | × socketwatcher | p50 × socketwatcher | context switches per wake |');
    L.push('|---|--:|--:|--:|--:|--:|--:|--:|');
    for (const id of saved.impls) {
      const x = r[id];
      if (!x) continue;
      L.push(`| ${label(id)} | ${int(x.wakes)} | ${f1(x.p50)} | ${f1(x.p99)} | ${f2(x.idleCpu)} | ${ratio(x.idleCpu, sw?.idleCpu)} | ${ratio(x.p50, sw?.p50)} | ${f2(x.switches)} |`);
    }
  }
  const one = rows[sizes.includes(1) ? 1 : sizes[0]];
  const sw1 = one.socketwatcher;
  L.push('', '## Always ready: ping-pong over a socketpair (write, wait readable, read), 1 fd', '');
  L.push('| implementation | events/s | CPU per event (µs) | × socketwatcher |');
  L.push('|---|--:|--:|--:|');
  for (const id of saved.impls) {
    const x = one[id];
    if (!x) continue;
    L.push(`| ${label(id)} | ${int(x.pingRate)} | ${f2(x.pingCpu)} | ${ratio(x.pingCpu, sw1?.pingCpu)} |`);
  }

  const churnSizes = Object.keys(rows.churn ?? {}).map(Number).sort((x, y) => x - y);
  if (churnSizes.length) {
    L.push('', '## What direct watching costs a registration: register one more fd while a wait is pending, let the loop turn, unregister it, turn again', '');
    L.push(`CPU per register + unregister (µs), beyond the two loop turns themselves; with ${churnSizes.map((n) => fds(n)).join(' and ')} registered beside it.`, '');
    L.push(`| selector | ${churnSizes.map((n) => `${fds(n)}: as shipped | nested | ×`).join(' | ')} |`);
    L.push(`|---|${churnSizes.map(() => '--:|--:|--:').join('|')}|`);
    for (const sel of SELECTORS) {
      const cells = churnSizes.map((n) => {
        const a = rows.churn[n][sel.id]?.churnCpu;
        const b = rows.churn[n][`${sel.id}-nested`]?.churnCpu;
        return `${f2(a)} | ${f2(b)} | ${ratio(a, b)}`;
      });
      if (rows.churn[churnSizes[0]][sel.id]) L.push(`| ${sel.label} | ${cells.join(' | ')} |`);
    }
  }
  L.push('', '## Targets (medians; ratios within this run)', '');
  const t = (ok) => (ok ? 'met' : '**missed**');
  const shipped = SELECTORS.map((i) => i.id).filter((id) => saved.impls.includes(id));
  for (const n of sizes) {
    const r = rows[n];
    const sw = r.socketwatcher;
    if (!sw) continue;
    if (n <= 8) {
      for (const id of shipped) {
        const x = r[id];
        if (!x) continue;
        L.push(`- ${fds(n)}, ${label(id)}: CPU per wake ≤ 1.1× socketwatcher's: ${ratio(x.idleCpu, sw.idleCpu)} — ${t(x.idleCpu <= 1.1 * sw.idleCpu)}; one context switch per wake: ${f2(x.switches)} (socketwatcher ${f2(sw.switches)}) — ${t(x.switches <= 1.1)}; p50 ≤ 1.2× socketwatcher's: ${ratio(x.p50, sw.p50)} — ${t(x.p50 <= 1.2 * sw.p50)}`);
      }
    } else if (n <= 64) {
      for (const id of shipped) {
        const x = r[id];
        if (x) L.push(`- ${fds(n)}, ${label(id)}: CPU per wake ≤ 1.2× socketwatcher's: ${ratio(x.idleCpu, sw.idleCpu)} — ${t(x.idleCpu <= 1.2 * sw.idleCpu)}`);
      }
    } else {
      for (const id of shipped) {
        const x = r[id];
        const before = r[`${id}-nested`];
        // Within 5 %: what two runs of the same code differ by here.
        if (x && before) L.push(`- ${fds(n)}, ${label(id)}: no worse than before direct watching (the nested row, same run): ${ratio(x.idleCpu, before.idleCpu)} — ${t(x.idleCpu <= 1.05 * before.idleCpu)}`);
      }
    }
  }
  const peers = saved.impls.filter((id) => !id.startsWith('iomux-') && !IMPLS.find((i) => i.id === id)?.control);
  const best = Math.min(...peers.map((p) => one[p]?.pingCpu).filter(Number.isFinite));
  for (const id of shipped) {
    if (one[id]) L.push(`- ${label(id)} ping-pong CPU per event below every peer's (best peer ${f2(best)} µs): ${f2(one[id].pingCpu)} µs — ${t(one[id].pingCpu < best)}`);
  }

  const ctl = one['control-nested'];
  const ep = one['iomux-epoll-nested'];
  const cp = one['control-promise'];
  if (cp && sw1) {
    L.push('', '## What direct watching is made of (1 fd)', '');
    L.push(`- The promise: socketwatcher with each wake resolving a promise that an async loop awaits (no syscall, no iomux code) costs ${ratio(cp.idleCpu, sw1.idleCpu)} socketwatcher's CPU per wake (${f2(cp.idleCpu)} against ${f2(sw1.idleCpu)} µs).`);
    for (const id of shipped) if (one[id]) L.push(`- ${label(id)}: ${ratio(one[id].idleCpu, cp.idleCpu)} that control (${f2(one[id].idleCpu)} µs): one zero-timeout call of its syscall per wake (the backend's own answer), iomux's native callback and its JS (the key lookup, the result array).`);
  }
  if (ctl && sw1) {
    L.push('', '## What the nested way is made of (1 fd)', '');
    if (ep) L.push(`- EpollSelector nested against the control (socketwatcher's uv_poll on an epoll fd holding the socket, plus one \`epoll_wait(…, 0)\` per wake, no promise and no iomux code): ${ratio(ep.idleCpu, ctl.idleCpu)}; the control against socketwatcher on the socket itself: ${ratio(ctl.idleCpu, sw1.idleCpu)}: the kernel's nested epoll wake-up and the second look.`);
    for (const id of ['iomux-poll-nested', 'iomux-select-nested']) {
      const x = one[id];
      if (x && Number.isFinite(x.switches)) L.push(`- ${label(id)}: ${f2(x.switches)} context switches per wake against socketwatcher's ${f2(sw1.switches)}: the waiter thread is woken by the fd, wakes Node's loop (uv_async), and is woken again by the next arm.`);
    }
  }
  const errs = [];
  for (const n of sizes) for (const id of saved.impls) if (rows[n][id]?.errors.length) errs.push(`- ${fds(n)}, ${label(id)} failed in ${rows[n][id].errors.length} run(s): ${rows[n][id].errors[0]}`);
  if (errs.length) L.push('', ...errs);
  L.push('', 'CPU is the process\'s own user + system time (process.cpuUsage()) over the measured window divided by the notifications it handled;',
    'each run is a fresh process; latency is the reader\'s CLOCK_MONOTONIC minus the writer\'s stamp. The raw `Epoll` class has no async form and is not listed.',
    'The idle fds are listening TCP sockets nobody connects to (one fd each, so that 1,000 of them fit below select(2)\'s FD_SETSIZE); each peer watches every fd (socketwatcher: one uv_poll_t per fd; Node net: one net.Socket per fd).',
    'Context switches are voluntary + involuntary ones of all the process\'s threads (process.resourceUsage()) per wake. The control row is not a peer and is left out of the targets.', '');
  return L.join('\n');
}

function chart(saved, rows) {
  const sizes = saved.sizes ?? [1];
  const fmt = (v) => `${v.toFixed(2)} µs`;
  const bars = (n, key, ids) => ids.filter((id) => rows[n][id]).map((id) => ({ name: label(id), value: rows[n][id][key], color: IMPLS.find((i) => i.id === id)?.color }));
  const one = sizes.includes(1) ? 1 : sizes[0];
  const charts = sizes.map((n) => barChart({ title: `Idle wake-up, ${fds(n)} watched: CPU per wake`, xLabel: 'µs of CPU per wake-up (lower is better)', bars: bars(n, 'idleCpu', saved.impls), format: fmt, width: 640 }));
  charts.push(barChart({ title: 'Always ready (ping-pong, 1 fd): CPU per event', xLabel: 'µs of CPU per event (lower is better)', bars: bars(one, 'pingCpu', saved.impls), format: fmt, width: 640 }));
  // panels() lays out equal cells: pad each chart to the tallest.
  const h = Math.max(...charts.map((c) => Number(/height="([\d.]+)"/.exec(c)[1])));
  const padded = charts.map((c) => c.replace(/height="([\d.]+)"/, `height="${h}"`).replace(/viewBox="0 0 ([\d.]+) ([\d.]+)"/, `viewBox="0 0 $1 ${h}"`));
  return panels(padded, { columns: 2, title: 'bench:notify — readiness notification', footer: `${saved.machine.date}, ${saved.machine.cpu}, ${saved.machine.cores} cores, Node ${saved.machine.node}, load ${saved.machine.load}` });
}

// Last, so that every const above is initialised before parent() or worker() runs.
if (argv[0] === '--worker') {
  worker(argv[1], argv[2], Number(argv[3]), Number(argv[4]), argv[5], argv[6], Number(argv[7] ?? 1)).catch((err) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  });
} else {
  parent().catch((err) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  });
}
