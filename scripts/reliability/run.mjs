#!/usr/bin/env node
// npm run test:reliability: everything of issue 7 in one command.
//   1. parser fuzzing (scripts/reliability/fuzz-parsers.mjs)
//   2. soak and fault tests against the real servers (test/reliability/*.soak.ts,
//      vitest.reliability.config.ts)
//   3. the sanitizer, valgrind and native-fuzz npm scripts, when package.json has them
// RELIABILITY_QUICK=1 shrinks every size knob to a CI-sized run (the ASan suite
// cannot shrink; the native fuzzer runs 15 s instead of 60). RELIABILITY_SKIP=a,b
// skips steps by name (fuzz-parsers, soak, test:asan, test:valgrind, fuzz:native).
// Figures of the run go to reliability.json and .md (reliability-quick.* for a
// quick run) in a temporary directory, in --out DIR, or with --write in the
// committed bench-results/ (scripts/lib/bench.mjs).
//
//   node scripts/reliability/run.mjs [--quick] [--out DIR | --write] [--report-only]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchCli, readResults, ROOT, writeReport } from '../lib/bench.mjs';

const cli = benchCli('reliability', {}, 'node scripts/reliability/run.mjs');
const QUICK = process.env.RELIABILITY_QUICK === '1' || cli.quick;
if (QUICK) process.env.RELIABILITY_QUICK = '1';
const NAME = QUICK ? 'reliability-quick' : 'reliability';
const SKIP = new Set((process.env.RELIABILITY_SKIP ?? '').split(',').filter(Boolean));
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-reliability-'));
const resultsFile = path.join(tmp, 'results.jsonl');
fs.writeFileSync(resultsFile, '');
const env = { ...process.env, RELIABILITY_RESULTS: resultsFile };

function run(name, cmd, args, { captureJson = false } = {}) {
  return new Promise((resolve) => {
    if (SKIP.has(name)) {
      process.stdout.write(`\n== ${name}: skipped (RELIABILITY_SKIP)\n`);
      return resolve({ name, status: 'skipped', seconds: 0 });
    }
    process.stdout.write(`\n== ${name}: ${cmd} ${args.join(' ')}\n`);
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', captureJson ? 'pipe' : 'inherit', 'inherit'] });
    let out = '';
    if (captureJson) {
      child.stdout.setEncoding('utf8').on('data', (d) => {
        out += d;
        process.stdout.write(d);
      });
    }
    // Ctrl-C reaches the child through the terminal; a SIGTERM to us is passed on.
    const onTerm = () => child.kill('SIGTERM');
    process.on('SIGTERM', onTerm);
    child.on('exit', (code, signal) => {
      process.off('SIGTERM', onTerm);
      if (captureJson) {
        for (const l of out.split('\n')) {
          if (l.startsWith('{')) fs.appendFileSync(resultsFile, `${JSON.stringify({ step: name, ...safeJson(l) })}\n`);
          const m = /sanitizer reports: (\d+)/.exec(l);
          if (m) fs.appendFileSync(resultsFile, `${JSON.stringify({ step: name, sanitizerReports: Number(m[1]) })}\n`);
        }
      }
      const seconds = Math.round((Date.now() - t0) / 100) / 10;
      resolve({ name, status: code === 0 ? 'passed' : `failed (${signal ?? `exit ${code}`})`, seconds });
    });
  });
}

// --report-only: rewrite the .md from the last run's .json (after a change to the layout below).
if (cli.reportOnly) {
  const last = readResults(cli, NAME);
  writeReport(cli, NAME, { md: markdown(last), json: last });
  fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(0);
}

const steps = [];
const t0 = Date.now();
steps.push(await run('fuzz-parsers', process.execPath, ['scripts/reliability/fuzz-parsers.mjs'], { captureJson: true }));
steps.push(await run('soak', process.execPath, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--root', path.join(ROOT, 'demos'), '-c', path.join(ROOT, 'demos', 'vitest.reliability.config.ts')]));
for (const script of ['test:asan', 'test:valgrind', 'fuzz:native']) {
  if (!pkg.scripts?.[script]) {
    process.stdout.write(`\n== ${script}: skipped: package.json has no "${script}" script yet\n`);
    steps.push({ name: script, status: 'absent', seconds: 0 });
    continue;
  }
  // The native fuzzer is time-bounded by --seconds (60 by default): shorter in the quick run.
  const extra = script === 'fuzz:native' ? ['--', '--seconds', String(process.env.RELIABILITY_NATIVE_FUZZ_SECONDS ?? (QUICK ? 15 : 60))] : [];
  steps.push(await run(script, 'npm', ['run', '--silent', script, ...extra], { captureJson: true }));
}
const seconds = Math.round((Date.now() - t0) / 1000);
const figures = fs.readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
fs.rmSync(tmp, { recursive: true, force: true });

const report = { at: new Date().toISOString(), quick: QUICK, seconds, host: `${os.cpus().length} cpu, ${os.release()}, node ${process.version}`, steps, figures };
writeReport(cli, NAME, { md: markdown(report), json: report });

process.stdout.write(`\n== test:reliability${QUICK ? ' (quick)' : ''}: ${seconds} s\n`);
for (const s of steps) process.stdout.write(`  ${s.name.padEnd(14)} ${s.status}${s.seconds ? ` in ${s.seconds} s` : ''}\n`);
process.exitCode = steps.some((s) => s.status.startsWith('failed')) ? 1 : 0;

function safeJson(l) {
  try {
    return JSON.parse(l);
  } catch {
    return { line: l };
  }
}

function markdown(r) {
  const by = (t) => r.figures.filter((f) => f.test === t);
  const kib = (k) => (k === undefined ? '?' : `${(k / 1024).toFixed(1)} MiB`);
  const lines = [`# Reliability run ${r.at.slice(0, 16).replace('T', ' ')} UTC${r.quick ? ' (RELIABILITY_QUICK=1)' : ''}`, '', `${r.host}; ${r.seconds} s in all.`, '', '| step | result | seconds |', '|---|---|---|'];
  for (const s of r.steps) lines.push(`| ${s.name} | ${s.status} | ${s.seconds} |`);
  const fuzz = by('parser-fuzz')[0];
  if (fuzz) {
    lines.push('', '## Parser fuzzing', '', `seed ${fuzz.seed}, ${fuzz.msPerParser / 1000} s per parser`, '', '| parser | inputs | MB fed | ok / error / incomplete | slowest input | peak heap | finding |', '|---|---|---|---|---|---|---|');
    for (const x of fuzz.results) lines.push(`| ${x.target} | ${x.inputs ?? '?'} | ${x.bytes ? (x.bytes / 1e6).toFixed(0) : '?'} | ${x.outcomes ? `${x.outcomes.ok} / ${x.outcomes.error} / ${x.outcomes.incomplete}` : '?'} | ${x.slowestMs ?? '?'} ms | ${x.peakHeapMiB ?? '?'} MiB | ${x.finding ? `input ${x.finding.index}: ${x.finding.message.split('\n')[0]}` : 'none'} |`);
  }
  const soak = by('echo-soak');
  if (soak.length) {
    lines.push('', '## Echo soak (every byte verified)', '', '| backend | messages verified | MB verified | fragments sent | conns | seconds | msgs/s | mismatches | server fds before/after | server RSS before/after |', '|---|---|---|---|---|---|---|---|---|---|');
    for (const x of soak) lines.push(`| ${x.backend} | ${x.verified} | ${(x.bytesVerified / 1e6).toFixed(0)} | ${x.fragments} | ${x.conns} | ${x.seconds} | ${Math.round(x.msgsPerS)} | ${x.mismatches} | ${x.fdsBefore}/${x.fdsAfter} | ${kib(x.rssBeforeKiB)}/${kib(x.rssAfterKiB)} |`);
  }
  const faults = [...by('echo-stalled-readers'), ...by('echo-resets'), ...by('echo-half-close'), ...by('echo-cycles')];
  if (faults.length) {
    lines.push('', '## Echo faults', '', '| backend | fault | count | figures |', '|---|---|---|---|');
    for (const x of faults) {
      if (x.test === 'echo-stalled-readers') lines.push(`| ${x.backend} | clients stop reading | ${x.clients} | server queue ${kib(x.serverBufferedAfter1s / 1024)} in all (bound ${kib((x.clients * x.boundPerConn) / 1024)}), max ${x.serverMaxBufferedPerConn} B per conn; RSS ${kib(x.rssBeforeKiB)} -> max ${kib(x.rssMaxKiB)}; then ${(x.bytesVerified / 1e6).toFixed(0)} MB verified |`);
      if (x.test === 'echo-resets') lines.push(`| ${x.backend} | RST mid-write (SO_LINGER 0) | ${x.resets} | ${x.resetsAfterMoreThanHwmSent} after >256 KiB sent; server errors ${x.serverErrors}, accepted ${x.serverAccepted} = closed ${x.serverClosed}; fds ${x.fdsBefore}/${x.fdsAfter}; healthy clients ${(x.healthyBytesVerified / 1e6).toFixed(0)} MB verified |`);
      if (x.test === 'echo-half-close') lines.push(`| ${x.backend} | half-close | ${x.clients} | ${(x.bytesVerified / 1e6).toFixed(0)} MB echoed after FIN, verified; server errors ${x.serverErrors} |`);
      if (x.test === 'echo-cycles') lines.push(`| ${x.backend} | connect/close cycles | ${x.cycles} | ${JSON.stringify(x.kinds)} in ${x.seconds} s; fds ${x.fdsBefore}/${x.fdsAfter}; RSS ${kib(x.rssBeforeKiB)} -> ${kib(x.rssAfterKiB)} (max ${kib(x.rssMaxKiB)}, tolerance ${kib(x.rssToleranceKiB)}) |`);
    }
  }
  for (const x of by('echo-idle')) {
    const list = (a) => [a].flat().join(', ');
    lines.push('', '## Idle connections (epoll)', '', `${x.heldConnections} connections held (${x.idle} idle + ${x.active} active; server ${x.heldFds} fds, RSS ${kib(x.heldRssKiB)}). ${x.active} active connections, ${x.size}-byte messages, ${x.rounds ?? 1} alternating rounds of ${x.durationMs / 1000} s:`, '',
      '| | msgs/s | server CPU µs/msg | p99 µs |', '|---|---|---|---|',
      `| ${x.active} active alone | ${list(x.aloneMsgsPerS)} | ${list(x.aloneServerCpuUsPerMsg ?? '?')} | ${list(x.aloneP99us)} |`,
      `| with ${x.idle} idle | ${list(x.withIdleMsgsPerS)} | ${list(x.withIdleServerCpuUsPerMsg ?? '?')} | ${list(x.withIdleP99us)} |`, '',
      `Best with idle / best alone: **${x.ratio}**. Server fds ${x.fdsBefore} before, ${x.fdsAfter} after.`);
  }
  const crawl = by('crawl-faults');
  if (crawl.length) {
    lines.push('', '## Crawler against faulty servers', '', '| backend | style | pages | faults | seconds | crawler max RSS | endless bytes served |', '|---|---|---|---|---|---|---|');
    for (const x of crawl) lines.push(`| ${x.backend} | ${x.style} | ${x.pages} | ${x.faults} | ${x.seconds} | ${kib(x.crawlerMaxRssKiB)} | ${(x.endlessBytesServed / 1e6).toFixed(1)} MB |`);
    lines.push('', `Kinds: ${Object.entries(crawl[0].kinds).map(([p, k]) => `${p} ${k}`).join(', ')}.`);
  }
  const native = r.figures.filter((f) => ['test:asan', 'test:valgrind', 'fuzz:native'].includes(f.step));
  if (native.length) {
    lines.push('', '## Sanitizers, valgrind, native fuzzing (docs/RELIABILITY.md)', '');
    for (const f of native) lines.push(`- ${f.step}: ${Object.entries(f).filter(([k]) => k !== 'step').map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}
