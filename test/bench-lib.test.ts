// scripts/lib/bench.mjs: the statistics, and where the bench scripts write
// (a temporary directory by default, --out DIR, bench-results/ only with --write),
// through the real scripts in --report-only mode (no measuring).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');

describe('scripts/lib/bench.mjs', () => {
  it('median and nearest-rank percentiles ignore non-finite values', async () => {
    const { median, percentile } = await import(path.join(ROOT, 'scripts/lib/bench.mjs'));
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(median([NaN, undefined, 5])).toBe(5);
    expect(median([])).toBeUndefined();
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, unsorted
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([], 99)).toBeUndefined();
  });

  it('describeMachine and machineMarkdown name CPU, cores, kernel, Node and date', async () => {
    const { describeMachine, machineMarkdown } = await import(path.join(ROOT, 'scripts/lib/bench.mjs'));
    const m = describeMachine({ mode: 'test', cc: 'cc 1' });
    expect(m.cores).toBe(os.cpus().length);
    expect(m.node).toBe(process.version);
    expect(m.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const md = machineMarkdown(m, [m.cc]);
    expect(md).toContain(`- CPU: ${m.cpu}, ${m.cores} cores`);
    expect(md).toContain(`- Node ${process.version}, cc 1`);
    expect(md).toContain('- Run: test; load average at start');
  });

  const echoScript = path.join(ROOT, 'scripts/bench/echo.mjs');
  const run = (args: string[]) => spawnSync(process.execPath, [echoScript, ...args], { encoding: 'utf8', cwd: ROOT });

  it('--report-only --out DIR writes every report into DIR and leaves bench-results/ alone', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-bench-lib-'));
    try {
      fs.copyFileSync(path.join(ROOT, 'bench-results/echo.json'), path.join(dir, 'echo.json'));
      const before = fs.statSync(path.join(ROOT, 'bench-results/echo.md')).mtimeMs;
      const r = run(['--report-only', '--out', dir]);
      expect(r.status, r.stderr).toBe(0);
      expect(fs.readdirSync(dir).sort()).toEqual(['README-echo.md', 'echo.json', 'echo.md', 'echo.svg']);
      expect(fs.readFileSync(path.join(dir, 'echo.svg'), 'utf8')).toMatch(/^<svg/);
      expect(r.stderr).toContain(`to ${dir}`);
      expect(fs.statSync(path.join(ROOT, 'bench-results/echo.md')).mtimeMs).toBe(before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without --out or --write the reports go to a new temporary directory', () => {
    const r = run(['--report-only']);
    expect(r.status, r.stderr).toBe(0);
    const m = /to (\S*iomux-bench-echo-\w+)/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const dir = m![1];
    try {
      expect(dir.startsWith(os.tmpdir())).toBe(true);
      expect(fs.existsSync(path.join(dir, 'echo.md'))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad flags exit 2 with one line naming the flag', () => {
    for (const [args, text] of [
      [['--bogus'], "'--bogus'"],
      [['--write', '--out', '/tmp/x'], '--out and --write are exclusive'],
      [['--rounds', 'many'], '--rounds'],
      [['--duration-ms', '-5'], '--duration-ms'],
      [['--duration-ms=-5'], '--duration-ms: expected a number >= 1'],
    ] as const) {
      const r = run([...args]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(text);
      expect(r.stderr).toContain('see --help');
    }
  });

  it('--report-only with no saved results fails with one line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-bench-lib-'));
    try {
      const r = run(['--report-only', '--out', dir]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('echo.json');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
