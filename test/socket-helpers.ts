// Shared helpers for the socket tests: bounded waits (no test may hang) and
// child-process peers (python3, node) that run outside this process, so a
// blocking iomux call here cannot starve them.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'vitest';
import { select, type Socket } from '../src/ts/index';
import { TIME_SCALE } from './time-scale';

/**
 * Polls fn until it returns something other than null/undefined/false, yielding
 * to Node's event loop between tries (in-process Node peers need it to run).
 */
export async function until<T>(fn: () => T | null | undefined | false, limit = 5000, what = 'condition'): Promise<T> {
  const ms = limit * TIME_SCALE; // a limit on waiting: longer under emulation
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== null && v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Blocks (bounded) until sock is readable; for peers in other processes or the kernel. */
export function waitReadable(sock: Socket, limit = 5000): void {
  const ms = limit * TIME_SCALE;
  const [r] = select([sock], [], [], ms);
  if (r.length === 0) throw new Error(`socket not readable within ${ms} ms`);
}

export async function writable(sock: Socket, ms = 5000): Promise<void> {
  await until(() => select([], [sock], [], 0)[1].length > 0, ms, 'writable');
}

/** Reads from a non-blocking socket everything that is there now. */
export function drain(sock: Socket): Buffer {
  const parts: Buffer[] = [];
  for (;;) {
    const b = sock.recv(65536);
    if (b === null || b.length === 0) break;
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** Reads exactly n bytes from a non-blocking socket, letting the event loop run between reads. */
export async function readN(sock: Socket, n: number, limit = 5000): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  const end = Date.now() + limit * TIME_SCALE;
  while (got < n) {
    const b = sock.recv(n - got);
    if (b !== null && b.length === 0) throw new Error(`EOF after ${got} of ${n} bytes`);
    if (b !== null) {
      parts.push(b);
      got += b.length;
      continue;
    }
    if (Date.now() > end) throw new Error(`timed out after ${got} of ${n} bytes`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return Buffer.concat(parts);
}

/** Asserts the Node-style system error shape the contract requires. */
export function expectSystemError(err: unknown, code: string, syscall?: string): void {
  expect(err).toBeInstanceOf(Error);
  const e = err as NodeJS.ErrnoException;
  expect(e.code).toBe(code);
  const n = (os.constants.errno as Record<string, number>)[code];
  if (n !== undefined) expect(e.errno).toBe(-n);
  if (syscall !== undefined) expect(e.syscall).toBe(syscall);
  expect(e.message).toContain(code);
  expect(e.message).toContain(e.syscall as string);
}

export function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to throw');
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-sock-'));
}

export interface Child {
  proc: ChildProcess;
  /** Resolves with the first line the child prints. */
  firstLine: Promise<string>;
  /** Resolves when it exits: code, signal, stdout, stderr. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Runs a child with a hard kill after ms, so that a stuck peer cannot hang the test. */
export function runChild(cmd: string, args: string[], limit = 15000): Child {
  const ms = limit * TIME_SCALE; // emulated children start in seconds
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let lineResolve!: (s: string) => void;
  const firstLine = new Promise<string>((r) => (lineResolve = r));
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    const i = stdout.indexOf('\n');
    if (i >= 0) lineResolve(stdout.slice(0, i));
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => proc.kill('SIGKILL'), ms);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => {
      proc.on('close', (code, signal) => {
        clearTimeout(timer);
        lineResolve(stdout);
        resolve({ code, signal, stdout, stderr });
      });
    },
  );
  return { proc, firstLine, done };
}

export function python(script: string, ms?: number): Child {
  return runChild('python3', ['-c', script], ms);
}
