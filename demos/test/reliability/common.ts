// Shared pieces of the reliability soaks (npm run test:reliability): size
// knobs, figures recording, /proc readings and the C helpers' build.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../fixtures/echo-harness';

/** RELIABILITY_QUICK=1: the CI-sized run (a few minutes in all). */
export const QUICK = process.env.RELIABILITY_QUICK === '1';

/** A size knob: its env var wins, else the quick or the full default. */
export function knob(name: string, full: number, quick: number): number {
  const v = process.env[name];
  if (v !== undefined && v !== '') {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number, got ${JSON.stringify(v)}`);
    return n;
  }
  return QUICK ? quick : full;
}

export const BACKENDS = (process.env.RELIABILITY_BACKENDS ?? 'select,poll,epoll').split(',').filter(Boolean);
export const SEED = Number(process.env.RELIABILITY_SEED ?? 20261122);

/** Figures go to one JSON line each; scripts/reliability/run.mjs collects them for the report. */
export function record(test: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ test, at: new Date().toISOString(), quick: QUICK, ...figures });
  const file = process.env.RELIABILITY_RESULTS;
  if (file) fs.appendFileSync(file, `${line}\n`);
  process.stdout.write(`[reliability] ${line}\n`);
}

export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

export function hardNofile(): number {
  const r = spawnSync('/bin/sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const t = r.stdout.trim();
  return t === 'unlimited' ? Infinity : Number(t);
}

/** Compiles the repository's scripts/<src> with cc -O2 into a temporary directory; returns the executable and a cleanup. */
export function buildC(src: string): { exe: string; cleanup(): void } {
  const cc = process.env.CC || 'cc';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-rel-'));
  const exe = path.join(dir, path.basename(src, '.c'));
  const r = spawnSync(cc, ['-O2', '-o', exe, path.join(ROOT, '..', 'scripts', src)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cc} -O2 scripts/${src} failed:\n${r.stderr}`);
  return { exe, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a helper to completion (killed after ms), with an optional `ulimit -n`; stdout's last JSON line is its result. */
export function runHelper(exe: string, args: string[], ms: number, ulimit?: number): Promise<{ code: number | null; result: any; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child =
      ulimit === undefined
        ? spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('/bin/sh', ['-c', `ulimit -n ${ulimit} && exec "$0" "$@"`, exe, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      resolve({ code, result: last ? JSON.parse(last) : undefined, stderr: err });
    });
  });
}

export const MiB = 1024 * 1024;
