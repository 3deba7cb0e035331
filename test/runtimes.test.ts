// The runtime-neutral conformance script (test/runtimes/conformance.mjs, which
// CI also runs under Bun and Deno) under this node, against the built package:
// once as Node runs it (selectAsync on epoll/io_uring watched by Node's libuv
// loop), once with IOMUX_FD_WATCH=0, the waiter-thread wait that Bun and Deno
// get (src/ts/binding.ts), so that Node's suite covers that path too.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect } from 'vitest';
import { TIME_SCALE } from './time-scale';
import { itUnless, WINDOWS } from './platform';

const script = path.join(__dirname, 'runtimes', 'conformance.mjs');

function run(env: NodeJS.ProcessEnv): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script], { env: { ...process.env, ...env }, timeout: 120000 * TIME_SCALE, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: string }) | null;
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, signal: e?.signal ?? null, out: stdout + stderr });
      });
  });
}

// The script's own skips (a backend this machine lacks) carry their reason in its output.
const itConformance = itUnless(WINDOWS, 'the conformance script is for the Linux runtimes (Bun, Deno, musl); Windows runs this suite');

describe('test/runtimes/conformance.mjs under node', () => {
  for (const [title, env, mode] of [
    ["as Node runs it (selectAsync on epoll/io_uring watched in Node's loop)", { IOMUX_FD_WATCH: '' }, "in the runtime's loop"],
    ['with IOMUX_FD_WATCH=0 (the waiter-thread wait of Bun and Deno)', { IOMUX_FD_WATCH: '0' }, 'on a waiter thread'],
  ] as const) {
    itConformance(`passes ${title}`, async () => {
      const r = await run(env);
      expect(r.signal, r.out).toBeNull();
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain(`selectAsync on epoll/io_uring waits ${mode}`);
      const last = r.out.trim().split('\n').pop()!;
      expect(last, r.out).toMatch(/^\d+ passed, 0 failed(, \d+ skipped)?$/);
      expect(Number(/^(\d+) passed/.exec(last)![1])).toBeGreaterThan(30);
    }, 150000 * TIME_SCALE);
  }
});
