// What every benchmark (and the reliability run) shares: flags, where the
// reports go, statistics, the machine description and writing the reports.
//
//   import { benchCli, median, percentile, describeMachine, machineMarkdown, writeReport } from '../lib/bench.mjs';
//
//   const cli = benchCli('notify', { rounds: { type: 'string' } }, 'node scripts/bench/notify.mjs [--rounds R]');
//   // cli.values: parsed flags (node:util parseArgs); cli.quick: --quick;
//   // cli.outDir: where to write (see below); cli.write: --write given.
//   const m = describeMachine({ mode: 'quick: 3 rounds' });   // date, cpu, cores, kernel, node, load, + extra fields
//   writeReport(cli, 'notify', { md, json: { machine: m, results }, svg, extra: { 'README-notify.md': text } });
//
// Output directory: `--out DIR` writes there; `--write` overwrites the committed
// bench-results/; with neither, a fresh temporary directory (printed at the end),
// so a trial run never dirties the checkout. `--report-only` scripts re-render
// from `readResults(cli, name)`: <--out DIR or bench-results>/<name>.json.
// Bad flags exit 2 with one line naming the problem.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const COMMITTED = path.join(ROOT, 'bench-results');

const COMMON = {
  out: { type: 'string' },
  write: { type: 'boolean', default: false },
  quick: { type: 'boolean', default: false },
  'report-only': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

/**
 * Parses argv with the script's own options plus --out, --write, --quick,
 * --report-only and --help. Returns { values, quick, write, reportOnly, outDir }.
 * The temporary directory is created lazily by writeReport().
 */
export function benchCli(name, options = {}, usage = `node scripts/bench/${name}.mjs`, argv = process.argv.slice(2)) {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { ...COMMON, ...options }, strict: true, allowPositionals: false }));
  } catch (err) {
    fail(name, err.message.split('\n')[0]);
  }
  if (values.help) {
    process.stdout.write(`usage: ${usage} [--quick] [--out DIR | --write] [--report-only]\n` +
      '  --out DIR   write the reports to DIR\n  --write     overwrite the committed bench-results/\n' +
      '  (neither: a new temporary directory)\n');
    process.exit(0);
  }
  if (values.write && values.out !== undefined) fail(name, '--out and --write are exclusive');
  if (values.out === '') fail(name, '--out needs a directory');
  const outDir = values.write ? COMMITTED : values.out !== undefined ? path.resolve(values.out) : null;
  return { name, values, quick: values.quick, write: values.write, reportOnly: values['report-only'], outDir };
}

/** A numeric flag (string from parseArgs) or the default; exits 2 when not a finite number >= min. */
export function numberFlag(cli, flag, def, min = 0) {
  const raw = cli.values[flag];
  if (raw === undefined) return def;
  const v = Number(raw);
  if (raw === '' || !Number.isFinite(v) || v < min) fail(cli.name, `--${flag}: expected a number >= ${min}, got ${JSON.stringify(raw)}`);
  return v;
}

function fail(name, msg) {
  process.stderr.write(`bench:${name}: ${msg} (see --help)\n`);
  process.exit(2);
}

/** Where the reports go, creating it (a temporary directory when neither --out nor --write). */
export function outputDir(cli) {
  if (!cli.outDir) cli.outDir = fs.mkdtempSync(path.join(os.tmpdir(), `iomux-bench-${cli.name}-`));
  fs.mkdirSync(cli.outDir, { recursive: true });
  return cli.outDir;
}

/** The saved results of a previous run: <--out DIR, else bench-results>/<name>.json. */
export function readResults(cli, name) {
  const file = path.join(cli.outDir ?? COMMITTED, `${name}.json`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    process.stderr.write(`bench:${cli.name}: --report-only: cannot read ${file}: ${err.code ?? err.message}\n`);
    process.exit(1);
  }
}

// ---- statistics -------------------------------------------------------------

/** The finite values, sorted. */
function sorted(xs) {
  return xs.filter((v) => Number.isFinite(v)).sort((p, q) => p - q);
}

/** Median of the finite values (upper middle for an even count); undefined when none. */
export function median(xs) {
  const s = sorted(xs);
  return s.length ? s[Math.floor(s.length / 2)] : undefined;
}

/** Nearest-rank percentile (p in 0..100) of the finite values; undefined when none. */
export function percentile(xs, p) {
  const s = sorted(xs);
  if (!s.length) return undefined;
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

// ---- the machine ------------------------------------------------------------

/** A tool's --version line (or the given args' output), or null when it is not there or fails. */
export function have(cmd, args = ['--version']) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout || r.stderr).trim() : null;
}

/** RLIMIT_NOFILE of this process, from /proc/self/limits (Linux). */
export function nofileLimits() {
  const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const [soft, hard] = line.split(/\s{2,}/).slice(1, 3).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
  return { soft, hard };
}

/** CPU model, cores, kernel, Node, date and load average, plus the caller's fields (mode, cc, python...). */
export function describeMachine(extra = {}) {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {}
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpu,
    cores: os.cpus().length,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    load: os.loadavg().map((v) => v.toFixed(2)).join(' '),
    ...extra,
  };
}

/**
 * The machine as markdown bullets. `tools` names other runtimes/compilers on the
 * Node line (e.g. [m.python, m.cc]); m.mode, when set, describes the run. A busy
 * machine (load > cores / 2) is said so next to the figures.
 */
export function machineMarkdown(m, tools = []) {
  const lines = [
    `- Date: ${m.date}`,
    `- CPU: ${m.cpu}, ${m.cores} cores`,
    `- Kernel: ${m.kernel}`,
    `- ${[`Node ${m.node}`, ...tools.filter(Boolean)].join(', ')}`,
  ];
  lines.push(m.mode ? `- Run: ${m.mode}; load average at start ${m.load}` : `- Load average at start: ${m.load}`);
  const load1 = Number(String(m.load).split(' ')[0]);
  if (load1 > m.cores / 2) lines.push(`- **Busy machine** (load ${load1} on ${m.cores} cores): figures are noisy; rerun on a quiet machine for the record.`);
  return lines.join('\n');
}

/** One line for a chart footer; `tools` as in machineMarkdown. */
export function machineFooter(m, tools = []) {
  return [`${m.cpu}, ${m.cores} cores, ${m.kernel}, Node ${m.node}`, ...tools.filter(Boolean), m.date].join(', ');
}

// ---- reports ----------------------------------------------------------------

/**
 * Writes <name>.md, <name>.json (an object, pretty-printed) and <name>.svg
 * (each only when given) plus `extra` files { filename: text } into the output
 * directory, then says where on stderr. Returns the directory.
 */
export function writeReport(cli, name, { md, json, svg, extra = {} }) {
  const dir = outputDir(cli);
  const files = [];
  const put = (file, text) => {
    fs.writeFileSync(path.join(dir, file), text.endsWith('\n') ? text : text + '\n');
    files.push(file);
  };
  if (md !== undefined) put(`${name}.md`, md);
  if (json !== undefined) put(`${name}.json`, JSON.stringify(json, null, 1));
  if (svg !== undefined) put(`${name}.svg`, svg);
  for (const [file, text] of Object.entries(extra)) put(file, text);
  const where = path.relative(process.cwd(), dir) || '.';
  process.stderr.write(`bench:${cli.name}: wrote ${files.join(', ')} to ${where.startsWith('..') ? dir : where}` +
    `${cli.write ? '' : ' (the committed bench-results/ is only overwritten with --write)'}\n`);
  return dir;
}
