#!/usr/bin/env node
// `npm run bench:echo`: echo-server throughput. A C load generator
// (scripts/bench/echo-load.c) drives, cell by cell, the iomux echo server on each
// backend (the real CLI: `node demos/bin/iomux.js echo --backend X --port 0 --json`),
// Node's own net server (scripts/bench/net-echo-server.mjs) and a minimal C
// server on epoll and on select (scripts/bench/echo-server-c.c). Writes echo.{md,svg,json} and
// README-echo.md to a temporary directory, to --out DIR, or with --write to the
// committed bench-results/ (scripts/lib/bench.mjs).
//
//   node scripts/bench/echo.mjs [--quick] [--rounds R] [--duration-ms MS] [--warmup-ms MS]
//                               [--report-only] [--out DIR | --write]
//
// --quick        1 s measured per cell after 0.3 s warm-up, one round (rough figures).
// --rounds R     passes over every cell (default 3, quick 1). A round runs every cell
//                once, the servers taking turns, so the rounds are interleaved runs
//                of the whole bench; each figure is the median over the rounds, and
//                the targets are also checked round by round.
// --report-only  rewrites the reports from echo.json (in --out DIR, else bench-results/) without measuring.
//
// Every run of a cell gets a fresh server process, so one cell cannot leave
// another a server full of half-closed connections. A cell needing more fds than
// RLIMIT_NOFILE allows (and cannot be raised to) is skipped, with the reason in the report.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCli, describeMachine, machineFooter, machineMarkdown, median, numberFlag, readResults, writeReport, have, nofileLimits } from '../lib/bench.mjs';
import { lineChart, panels } from '../lib/svg-chart.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const argv = process.argv.slice(2);
const cli = benchCli('echo', {
  rounds: { type: 'string' },
  'duration-ms': { type: 'string' },
  'warmup-ms': { type: 'string' },
}, 'node scripts/bench/echo.mjs [--rounds R] [--duration-ms MS] [--warmup-ms MS]');
const quick = cli.quick;
const durationMs = numberFlag(cli, 'duration-ms', quick ? 1000 : 3000, 1);
const warmupMs = numberFlag(cli, 'warmup-ms', quick ? 300 : 1000, 0);
const rounds = Math.max(1, numberFlag(cli, 'rounds', quick ? 1 : 3, 1));

const FD_SETSIZE = 1024;
// fds a Node process holds before its first connection (stdio, libuv, epoll,
// the listener...): select can only take connections whose fds stay below FD_SETSIZE.
const NODE_FDS = 40;
// What a cell needs of RLIMIT_NOFILE beyond one fd per connection (the server's own, with room).
const FD_MARGIN = 100;

const SERVERS = [
  { id: 'iomux-select', label: 'iomux select', backend: 'select', fdSet: true, color: '#1f77b4', dash: 'solid', marker: 'circle' },
  { id: 'iomux-poll', label: 'iomux poll', backend: 'poll', color: '#2ca02c', dash: 'solid', marker: 'square' },
  { id: 'iomux-epoll', label: 'iomux epoll', backend: 'epoll', color: '#d62728', dash: 'solid', marker: 'triangle' },
  // The echo CLI has no --backend io_uring; IOMUX_BACKEND picks it through DefaultSelector.
  { id: 'iomux-io_uring', label: 'iomux io_uring', backend: 'io_uring', viaEnv: true, color: '#9467bd', dash: 'solid', marker: 'diamond' },
  { id: 'node-net', label: 'Node net', color: '#ff7f0e', dash: 'dash', marker: 'diamond' },
  { id: 'c-epoll', label: 'C epoll', mechanism: 'epoll', color: '#444444', dash: 'dot', marker: 'circle' },
  { id: 'c-select', label: 'C select', mechanism: 'select', fdSet: true, color: '#17becf', dash: 'dot', marker: 'square' },
];

const CONFIGS = [
  { conns: 1, idle: 0, size: 64 },
  { conns: 100, idle: 0, size: 64 },
  { conns: 1000, idle: 0, size: 64 },
  { conns: 1, idle: 0, size: 1024 },
  { conns: 100, idle: 0, size: 1024 },
  { conns: 1000, idle: 0, size: 1024 },
  { conns: 10, idle: 10, size: 64 },
  { conns: 10, idle: 100, size: 64 },
  { conns: 10, idle: 900, size: 64 },
  { conns: 10, idle: 10000, size: 64 },
];
const C100 = { conns: 100, idle: 0, size: 64 };
const IDLE10 = { conns: 10, idle: 10, size: 64 };
const IDLE900 = { conns: 10, idle: 900, size: 64 };
const IDLE10K = { conns: 10, idle: 10000, size: 64 };

// Issue #14. idleVsC: with 10 active + 900 idle, iomux's epoll/select msgs/s ratio is at
// least this share of the C servers' epoll/select ratio in the same run. idleCpu: epoll's
// CPU per message with 10,000 idle is at most this multiple of that with 10 idle.
// netVsEpoll, epollVsC: CPU per message at 100 × 64 B, Node net's at least this multiple
// of iomux epoll's, iomux epoll's at most this multiple of C epoll's — in every round.
const TARGETS = { idleVsC: 0.9, idleCpu: 1.1, netVsEpoll: 1.5, epollVsC: 1.15 };

const cfgName = (c) => `${c.conns.toLocaleString('en-US')}${c.idle ? ` active + ${c.idle.toLocaleString('en-US')} idle` : ''} × ${c.size === 1024 ? '1 KiB' : `${c.size} B`}`;
const cfgKey = (c) => `${c.conns}/${c.idle}/${c.size}`;

/** select cannot watch fds >= FD_SETSIZE: such cells are not run (reported as n/a). */
function fits(server, cfg) {
  return !server.fdSet || cfg.conns + cfg.idle + NODE_FDS < FD_SETSIZE;
}

/** Both the load generator and a server hold one fd per connection, plus their own. */
const fdsNeeded = (cfg) => cfg.conns + cfg.idle + FD_MARGIN;

// ---------------------------------------------------------------------------
// Processes. Every child is tracked so that an error or Ctrl-C still kills it.

const children = new Set();
function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
function killAll() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {}
  }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** Starts a server and resolves with { child, port, pid } once it prints where it listens. */
function startServer(server, exes) {
  let cmd;
  let args;
  let env = process.env;
  if (server.viaEnv) {
    [cmd, args] = [process.execPath, [path.join(root, 'demos', 'bin', 'iomux.js'), 'echo', '--port', '0', '--json']];
    env = { ...process.env, IOMUX_BACKEND: server.backend };
  } else if (server.backend) [cmd, args] = [process.execPath, [path.join(root, 'demos', 'bin', 'iomux.js'), 'echo', '--backend', server.backend, '--port', '0', '--json']];
  else if (server.id === 'node-net') [cmd, args] = [process.execPath, [path.join(here, 'net-echo-server.mjs'), '--port', '0']];
  else [cmd, args] = [exes.server, ['--mechanism', server.mechanism, '--port', '0']];
  const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env }));
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${server.label} did not say where it listens within 15 s`)), 15000);
    const fail = (e) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    };
    child.on('error', fail);
    const early = (code, sig) => fail(new Error(`${server.label} exited (${sig ?? code}) before listening: ${err.trim()}`));
    child.on('exit', early);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      child.off('exit', early);
      try {
        const line = JSON.parse(out.slice(0, nl));
        resolve({ child, port: line.port, pid: line.pid ?? child.pid, stderr: () => err });
      } catch (e) {
        fail(new Error(`${server.label}: unexpected first line ${JSON.stringify(out.slice(0, nl))}`));
      }
    });
  });
}

/** SIGTERM, then SIGKILL if it lingers. */
function stopServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Runs the load generator; resolves with its JSON (plus rc), or an error record. */
function runLoad(exe, port, pid, cfg) {
  const args = ['--port', String(port), '--conns', String(cfg.conns), '--idle', String(cfg.idle), '--size', String(cfg.size),
    '--duration-ms', String(durationMs), '--warmup-ms', String(warmupMs), '--server-pid', String(pid), '--timeout-ms', '60000'];
  const child = track(spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  // Connecting, warm-up, the window and the drain; anything past this is a hang.
  const limit = setTimeout(() => child.kill('SIGKILL'), 90000 + warmupMs + durationMs);
  return new Promise((resolve) => {
    child.on('exit', (code, sig) => {
      clearTimeout(limit);
      let r;
      try {
        r = JSON.parse(out.trim().split('\n').pop());
      } catch {
        r = { errors: 1 };
      }
      resolve({ ...r, rc: sig ? sig : code, stderr: err.trim().slice(0, 500) });
    });
  });
}

// ---------------------------------------------------------------------------


function machine(ccVersion) {
  return describeMachine({
    cc: ccVersion?.split('\n')[0] ?? 'unknown',
    mode: `${quick ? 'quick' : 'full'}: ${(warmupMs / 1000).toFixed(1)} s warm-up + ${(durationMs / 1000).toFixed(1)} s measured per cell, ${rounds} round${rounds === 1 ? '' : 's'}${rounds > 1 ? ' (servers take turns; median)' : ''}`,
  });
}

async function parent() {
  if (cli.reportOnly) {
    const saved = readResults(cli, 'echo');
    return report(saved.runs, saved.machine);
  }
  if (!fs.existsSync(path.join(root, 'demos', 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build:ts` first');

  const fdRoom = nofileRoom();

  const cc = process.env.CC || 'cc';
  const ccVersion = have(cc);
  if (!ccVersion) throw new Error(`no C compiler (${cc}); set CC`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-bench-echo-'));
  const exes = { load: path.join(tmp, 'echo-load'), server: path.join(tmp, 'echo-server-c') };
  let runs;
  const m = machine(ccVersion);
  try {
    for (const [exe, src] of [[exes.load, 'echo-load.c'], [exes.server, 'echo-server-c.c']]) {
      const b = spawnSync(cc, ['-O2', '-o', exe, path.join(here, src)], { stdio: 'inherit' });
      if (b.status !== 0) throw new Error(`${cc} -O2 scripts/bench/${src} failed`);
    }
    runs = await measureAll(exes, fdRoom);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  report(runs, m);
  const bad = runs.filter((r) => r.mismatches > 0);
  if (bad.length) {
    process.stderr.write(`bench:echo: echoed bytes differed in ${bad.length} run(s): ${bad.map((r) => `${r.server} ${r.cfg}`).join(', ')}\n`);
    process.exitCode = 3;
  }
}

/**
 * The RLIMIT_NOFILE hard limit the cells can use. Children raise their soft
 * limit to the hard one themselves (Node does at start-up); a hard limit too low
 * for the largest cell can only be raised by root: try, and run again under it.
 */
function nofileRoom() {
  const need = Math.max(...CONFIGS.map(fdsNeeded));
  const lim = nofileLimits();
  if (lim.hard >= need || process.env.IOMUX_BENCH_REEXEC) return lim.hard;
  if (spawnSync('sh', ['-c', `ulimit -n ${need}`]).status === 0) {
    const r = spawnSync('sh', ['-c', `ulimit -n ${need} && exec "$0" "$@"`, process.execPath, fileURLToPath(import.meta.url), ...argv], {
      stdio: 'inherit', env: { ...process.env, IOMUX_BENCH_REEXEC: '1' },
    });
    process.exit(r.status ?? 1);
  }
  process.stderr.write(`bench:echo: cannot raise RLIMIT_NOFILE to ${need} (hard limit ${lim.hard}); cells needing more are skipped\n`);
  return lim.hard;
}

async function measureAll(exes, fdRoom) {
  const runs = [];
  for (let r = 0; r < rounds; r++) {
    for (const cfg of CONFIGS) {
      const servers = SERVERS.filter((s) => fits(s, cfg));
      if (fdsNeeded(cfg) > fdRoom) {
        const skipped = `RLIMIT_NOFILE hard limit ${fdRoom} < ${fdsNeeded(cfg)} fds needed`;
        if (r === 0) process.stderr.write(`bench:echo: ${cfgName(cfg)} skipped: ${skipped}\n`);
        for (const s of servers) runs.push({ server: s.id, cfg: cfgKey(cfg), round: r, skipped });
        continue;
      }
      // Rotate who goes first, so no server always runs right after the same one.
      for (let j = 0; j < servers.length; j++) {
        const s = servers[(r + j) % servers.length];
        process.stderr.write(`bench:echo: ${rounds > 1 ? `round ${r + 1}/${rounds}: ` : ''}${cfgName(cfg)} — ${s.label}\n`);
        let srv;
        let res;
        try {
          srv = await startServer(s, exes);
          res = await runLoad(exes.load, srv.port, srv.pid, cfg);
          if (res.rc !== 0) process.stderr.write(`bench:echo:   load generator exit ${res.rc}: ${res.stderr}\n`);
        } catch (err) {
          process.stderr.write(`bench:echo:   ${err.message}\n`);
          res = { errors: 1, rc: 'server', stderr: err.message };
        } finally {
          if (srv) await stopServer(srv.child);
        }
        delete res.stderr;
        runs.push({ server: s.id, cfg: cfgKey(cfg), round: r, ...res });
      }
    }
  }
  return runs;
}

// ---------------------------------------------------------------------------
// Reports.

/** Per server and config: medians over the rounds that ran cleanly. */
function aggregate(runs) {
  const cells = new Map();
  for (const s of SERVERS) {
    for (const cfg of CONFIGS) {
      const key = `${s.id} ${cfgKey(cfg)}`;
      if (!fits(s, cfg)) {
        cells.set(key, { na: 'n/a (FD_SETSIZE)' });
        continue;
      }
      const mine = runs.filter((r) => r.server === s.id && r.cfg === cfgKey(cfg));
      const ok = mine.filter(clean);
      if (mine.length === 0) continue;
      if (mine.every((r) => r.skipped)) {
        cells.set(key, { na: 'n/a (RLIMIT_NOFILE)' });
        continue;
      }
      if (ok.length === 0) {
        const r = mine[0];
        cells.set(key, { na: r.mismatches > 0 ? 'BAD ECHO' : `failed (${r.rc === 'server' ? 'server' : `${r.errors ?? '?'} errors`})` });
        continue;
      }
      cells.set(key, {
        rate: median(ok.map((r) => r.msgs_per_s)),
        p50: median(ok.map((r) => r.p50_us)),
        p99: median(ok.map((r) => r.p99_us)),
        cpu: median(ok.map((r) => (r.server_cpu_us_per_msg >= 0 ? r.server_cpu_us_per_msg : NaN))),
        user: median(ok.map((r) => (r.server_user_s >= 0 && r.msgs > 0 ? (r.server_user_s * 1e6) / r.msgs : NaN))),
        bytes: ok.reduce((a, r) => a + r.bytes_verified, 0),
        runs: ok.length,
        failed: mine.length - ok.length,
      });
    }
  }
  return (s, cfg) => cells.get(`${s} ${cfgKey(cfg)}`);
}

const fmtInt = (v) => (!Number.isFinite(v) ? '—' : Math.round(v).toLocaleString('en-US'));
const fmtUs = (v) => (!Number.isFinite(v) ? '—' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));
const fmtCpu = (v) => (!Number.isFinite(v) ? '—' : v.toFixed(2));

function table(get) {
  const head = ['config'];
  const align = ['---'];
  for (const s of SERVERS) {
    head.push(`${s.label} msgs/s`, 'p50 µs', 'p99 µs', 'CPU µs/msg');
    align.push('--:', '--:', '--:', '--:');
  }
  const lines = [`| ${head.join(' | ')} |`, `|${align.join('|')}|`];
  for (const cfg of CONFIGS) {
    const row = [cfgName(cfg)];
    for (const s of SERVERS) {
      const c = get(s.id, cfg);
      if (!c) row.push('—', '—', '—', '—');
      else if (c.na) row.push(c.na, '', '', '');
      else row.push(fmtInt(c.rate), fmtUs(c.p50), fmtUs(c.p99), fmtCpu(c.cpu));
    }
    lines.push(`| ${row.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** CPU per message split into user and kernel time: syscalls vs the server's own code. */
function splitTable(get) {
  const lines = [`| config | ${SERVERS.map((s) => `${s.label} user + kernel µs/msg`).join(' | ')} |`, `|---|${SERVERS.map(() => '--:').join('|')}|`];
  for (const cfg of CONFIGS) {
    const row = [cfgName(cfg)];
    for (const s of SERVERS) {
      const c = get(s.id, cfg);
      row.push(!c || c.na || c.user === undefined || c.cpu === undefined ? (c?.na ?? '—') : `${fmtCpu(c.user)} + ${fmtCpu(c.cpu - c.user)}`);
    }
    lines.push(`| ${row.join(' | ')} |`);
  }
  return lines.join('\n');
}

const ratioText = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : 'not measured');

/**
 * The targets of issue #14, as ratios of figures from one run. view(server, cfg)
 * gives { rate, cpu } (NaN where not measured): the medians, or one round's figures.
 */
const TARGET_ROWS = [
  {
    key: '(a)', what: 'iomux epoll/select msgs/s, as a share of C epoll/C select msgs/s', cells: cfgName(IDLE900),
    limit: TARGETS.idleVsC, atMost: false, everyRound: false,
    ratio: (v) => v('iomux-epoll', IDLE900).rate / v('iomux-select', IDLE900).rate / (v('c-epoll', IDLE900).rate / v('c-select', IDLE900).rate),
    detail: (v) => `iomux epoll ${fmtInt(v('iomux-epoll', IDLE900).rate)} / select ${fmtInt(v('iomux-select', IDLE900).rate)} msgs/s = ` +
      `${ratioText(v('iomux-epoll', IDLE900).rate / v('iomux-select', IDLE900).rate)}; C epoll ${fmtInt(v('c-epoll', IDLE900).rate)} / ` +
      `C select ${fmtInt(v('c-select', IDLE900).rate)} = ${ratioText(v('c-epoll', IDLE900).rate / v('c-select', IDLE900).rate)}`,
  },
  {
    key: '(b)', what: 'iomux epoll CPU per message, 10,000 idle vs 10 idle', cells: `${cfgName(IDLE10K)} vs ${cfgName(IDLE10)}`,
    limit: TARGETS.idleCpu, atMost: true, everyRound: false,
    ratio: (v) => v('iomux-epoll', IDLE10K).cpu / v('iomux-epoll', IDLE10).cpu,
    detail: (v) => `${fmtCpu(v('iomux-epoll', IDLE10K).cpu)} against ${fmtCpu(v('iomux-epoll', IDLE10).cpu)} µs per message ` +
      `(C epoll: ${fmtCpu(v('c-epoll', IDLE10K).cpu)} against ${fmtCpu(v('c-epoll', IDLE10).cpu)}, ` +
      `${ratioText(v('c-epoll', IDLE10K).cpu / v('c-epoll', IDLE10).cpu)})`,
  },
  {
    key: '(c)', what: 'Node net CPU per message vs iomux epoll\'s', cells: cfgName(C100),
    limit: TARGETS.netVsEpoll, atMost: false, everyRound: true,
    ratio: (v) => v('node-net', C100).cpu / v('iomux-epoll', C100).cpu,
    detail: (v) => `${fmtCpu(v('node-net', C100).cpu)} against ${fmtCpu(v('iomux-epoll', C100).cpu)} µs per message`,
  },
  {
    key: '(d)', what: 'iomux epoll CPU per message vs C epoll\'s', cells: cfgName(C100),
    limit: TARGETS.epollVsC, atMost: true, everyRound: true,
    ratio: (v) => v('iomux-epoll', C100).cpu / v('c-epoll', C100).cpu,
    detail: (v) => `${fmtCpu(v('iomux-epoll', C100).cpu)} against ${fmtCpu(v('c-epoll', C100).cpu)} µs per message`,
  },
];

const clean = (r) => r.rc === 0 && r.errors === 0 && r.mismatches === 0;
const NONE = { rate: NaN, cpu: NaN };

/** The targets table: the ratio of the medians, each round's ratio, and whether the target holds. */
function targets(get, runs) {
  const medians = (s, cfg) => {
    const c = get(s, cfg);
    return c && !c.na ? { rate: c.rate, cpu: c.cpu ?? NaN } : NONE;
  };
  const rounds = runs.reduce((n, r) => Math.max(n, r.round + 1), 0);
  const perRound = Array.from({ length: rounds }, (_, k) => (s, cfg) => {
    const r = runs.find((x) => x.server === s && x.cfg === cfgKey(cfg) && x.round === k && clean(x));
    return r ? { rate: r.msgs_per_s, cpu: r.server_cpu_us_per_msg >= 0 ? r.server_cpu_us_per_msg : NaN } : NONE;
  });
  const holds = (t, v) => (t.atMost ? v <= t.limit : v >= t.limit);
  const lines = [
    `| target | cell | limit | medians | ${perRound.map((_, k) => `round ${k + 1}`).join(' | ')} | verdict |`,
    `|---|---|--:|--:|${perRound.map(() => '--:|').join('')}---|`,
  ];
  const details = [];
  for (const t of TARGET_ROWS) {
    const med = t.ratio(medians);
    const each = perRound.map((v) => t.ratio(v));
    let verdict;
    if (t.everyRound) {
      const missing = each.map((v, k) => (Number.isFinite(v) ? null : k + 1)).filter(Boolean);
      const missed = each.map((v, k) => (Number.isFinite(v) && !holds(t, v) ? k + 1 : null)).filter(Boolean);
      verdict = missed.length ? `**missed** in round ${missed.join(', ')}` : missing.length ? `**not measured** in round ${missing.join(', ')}` : rounds === 1 ? '**met** (1 round)' : `**met** in all ${rounds} rounds`;
    } else verdict = !Number.isFinite(med) ? '**not measured**' : holds(t, med) ? '**met**' : '**missed**';
    lines.push(`| ${t.key} ${t.what} | ${t.cells} | ${t.atMost ? '≤' : '≥'} ${t.limit}× | ${ratioText(med)} | ${each.map(ratioText).join(' | ')} | ${verdict} |`);
    details.push(`- ${t.key} ${t.detail(medians)} (medians).`);
  }
  const note = '(a) and (b) hold on the medians; (c) and (d) must hold in every round (each round runs every cell once, the servers taking turns).';
  return [...lines, '', ...details, '', note].join('\n');
}

/** The cells skipped for want of fds, and why (one line each), or ''. */
function skippedCells(runs) {
  const seen = new Map();
  for (const r of runs) if (r.skipped && !seen.has(r.cfg)) seen.set(r.cfg, r.skipped);
  return [...seen].map(([key, why]) => `- ${cfgName(CONFIGS.find((c) => cfgKey(c) === key))}: skipped (${why}).`).join('\n');
}

const machineBlock = (m) => machineMarkdown(m, [m.cc]);

const METHOD = [
  'Load: scripts/bench/echo-load.c (`cc -O2`), one thread on epoll. Every connection first sends one byte and waits for its echo',
  '(so the server has accepted and registered it); idle connections then stay silent. Each active connection keeps one',
  'message in flight: send it, wait for the whole echo, check every byte, send the next (payloads differ per connection',
  'and message). msgs/s = whole echoes per second of the measured window; p50/p99 = round-trip latency; CPU µs/msg =',
  'the server\'s utime+stime over the window (/proc/PID/stat, all threads, 10 ms ticks) / messages. The load generator',
  'runs on the same machine, so with only 2 cores it competes with the server: msgs/s is a closed-loop figure, and for',
  'the fastest servers partly the load generator\'s limit; CPU per message is the fairer cost comparison.',
  `iomux: \`node demos/bin/iomux.js echo --backend X --port 0 --json\` (the CLI as shipped, no --stats). Node net:`,
  'scripts/bench/net-echo-server.mjs (`socket.pipe(socket)`, noDelay). C epoll and C select: scripts/bench/echo-server-c.c',
  '`--mechanism epoll|select` (the same server on either: level-triggered, read then write, a per-connection buffer for',
  'partial writes, no reading while it drains; select closes fds >= FD_SETSIZE at once, as iomux\'s select refuses them).',
  'A fresh server process for every run of a cell. A round runs every cell once, the servers taking turns in a rotated',
  'order; the rounds are interleaved runs of the whole bench, figures are medians over them.',
  `select (iomux and C): "n/a (FD_SETSIZE)" where the connections would take fds past ${FD_SETSIZE} (the server would refuse`,
  'them), i.e. 1,000 active or 10,000 idle connections; 10 active + 900 idle fits and is measured. A cell needing more fds than',
  'RLIMIT_NOFILE allows (after trying to raise it) is "n/a (RLIMIT_NOFILE)", with the limit said under the table.',
].join('\n');

const READING = [
  'Reading the numbers: over loopback TCP most of an echo server\'s CPU time per message is the kernel\'s (send and',
  'receive, for both directions of the TCP exchange); the "user + kernel" table shows how much is the server\'s own code.',
  'Syscalls per message are the same in iomux as in C: one recv, one send, and a share of one select/poll/epoll_wait',
  'per batch of ready connections. The select-vs-epoll case is a closed loop: with 10 active connections each select(2)',
  'call returns about 10 of them, so select\'s scan of the idle fds is spread over about 10 messages, and epoll\'s rate is',
  'capped by what the load generator (sharing the machine) can drive. Hence target (a) compares iomux\'s epoll/select',
  'ratio with the C servers\' ratio in the same run rather than with a fixed number.',
].join('\n');

function report(runs, m) {
  const get = aggregate(runs);
  const skipped = skippedCells(runs);
  const tbl = skipped ? `${table(get)}\n\n${skipped}` : table(get);
  const tg = targets(get, runs);
  const md = [
    '# bench:echo — echo server throughput, latency and CPU per message',
    '',
    machineBlock(m),
    '',
    METHOD,
    '',
    tbl,
    '',
    'Targets:',
    '',
    tg,
    '',
    'Server CPU per message split into user time (the server\'s own code; for Node also V8\'s GC and compiler threads)',
    'and kernel time (syscalls, TCP): medians over the rounds; 10 ms tick resolution, so short runs are rough.',
    '',
    splitTable(get),
    '',
  ].join('\n');
  const readme = [
    '## Speed: echo server under load',
    '',
    'Run `npm run bench:echo` (add `-- --quick` for a short run). It compiles a load generator in C',
    '(`scripts/bench/echo-load.c`, one thread, epoll, every echoed byte checked) and a minimal C echo server on epoll and',
    'on select (`scripts/bench/echo-server-c.c`, the practical limit of each), then drives `iomux echo` on each backend,',
    'Node\'s own `net` echo server (`scripts/bench/net-echo-server.mjs`, what you would write without iomux) and the C',
    'servers with 1, 100 and 1,000 active connections × 64 B and 1 KiB messages, and with 10 active connections plus 10,',
    '100, 900 or 10,000 idle ones — the case where select(2) and poll(2) pay for every idle fd on every call and epoll',
    'does not. Three rounds by default, each running every cell once with the servers taking turns.',
    '',
    `Targets (ratios in one run): (a) with 10 active + 900 idle connections, iomux's epoll/select msgs/s is at least`,
    `${TARGETS.idleVsC} × the C servers' epoll/select msgs/s; (b) iomux epoll's CPU per message with 10,000 idle connections`,
    `is at most ${TARGETS.idleCpu} × that with 10 idle; at 100 connections × 64 B, (c) Node \`net\` spends at least`,
    `${TARGETS.netVsEpoll} × iomux epoll's CPU per message and (d) iomux epoll at most ${TARGETS.epollVsC} × the C epoll server's,`,
    '(c) and (d) in every round.',
    '',
    machineBlock(m),
    '',
    tbl,
    '',
    '![echo msgs/s and CPU per message per server](bench-results/echo.svg)',
    '',
    tg,
    '',
    METHOD,
    '',
    READING,
    '',
  ].join('\n');
  process.stdout.write(md + '\n');
  writeReport(cli, 'echo', { md, json: { machine: m, runs }, svg: chart(get, m), extra: { 'README-echo.md': readme } });
}

function chart(get, m) {
  const series = (pick, xOf, metric) =>
    SERVERS.map((s) => ({
      name: s.label, color: s.color, dash: s.dash, marker: s.marker,
      points: CONFIGS.filter(pick).map((c) => [xOf(c), get(s.id, c)?.[metric]]).filter(([, y]) => y !== undefined),
    })).filter((s) => s.points.length > 0);
  const panel = (title, xLabel, yLabel, pick, xOf, metric) => {
    const sr = series(pick, xOf, metric);
    if (sr.length === 0) return null;
    return lineChart({ title, xLabel, yLabel, xLog: true, yLog: true, width: 560, height: 460, legendColumns: 3, series: sr });
  };
  const active = (size) => (c) => c.idle === 0 && c.size === size;
  const svgs = [
    panel('64 B messages', 'active connections (log)', 'msgs/s (log)', active(64), (c) => c.conns, 'rate'),
    panel('1 KiB messages', 'active connections (log)', 'msgs/s (log)', active(1024), (c) => c.conns, 'rate'),
    panel('10 active + idle connections, 64 B', 'idle connections (log)', 'msgs/s (log)', (c) => c.idle > 0, (c) => c.idle, 'rate'),
    panel('Server CPU per message, 64 B', 'active connections (log)', 'server CPU µs per message (log)', active(64), (c) => c.conns, 'cpu'),
    panel('Server CPU per message, 10 active + idle, 64 B', 'idle connections (log)', 'server CPU µs per message (log)', (c) => c.idle > 0, (c) => c.idle, 'cpu'),
  ].filter(Boolean);
  return panels(svgs, {
    columns: 2,
    title: 'Echo servers: iomux (select / poll / epoll / io_uring) vs Node net vs C epoll and C select',
    footer: `${machineFooter(m)}${m.mode.startsWith('quick') ? ' (quick run)' : ''}; load ${m.load.split(' ')[0]} at start`,
  });
}

parent().catch((err) => {
  console.error(err);
  killAll();
  process.exit(1);
});
