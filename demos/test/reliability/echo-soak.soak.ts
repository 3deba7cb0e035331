// A million echoed messages per backend against the real `iomux echo`
// process: random sizes, random fragmentation, random windows, every byte
// checked by scripts/reliability/echo-soak.c, every connection half-closed at
// the end. Size knob: RELIABILITY_MESSAGES (quick: 100,000).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killServer, rssKiB, sleep, startEcho, type ServerProcess } from '../fixtures/echo-harness';
import { BACKENDS, buildC, fdCount, knob, record, runHelper, SEED } from './common';

const MESSAGES = knob('RELIABILITY_MESSAGES', 1_000_000, 100_000);
const CONNS = knob('RELIABILITY_SOAK_CONNS', 200, 100);
// Generous: about 11,000 messages/s on a busy two-core machine; the bound only stops a stuck run.
const LIMIT_MS = 60_000 + MESSAGES / 2;

let soak: ReturnType<typeof buildC>;
beforeAll(() => {
  soak = buildC('reliability/echo-soak.c');
});
afterAll(() => soak?.cleanup());

describe.each(BACKENDS)('echo soak on %s', (backend) => {
  it(`${MESSAGES} messages over ${CONNS} connections, every byte verified`, { timeout: LIMIT_MS + 30_000 }, async () => {
    let server: ServerProcess | undefined;
    try {
      const started = await startEcho(['--backend', backend, '--stats', '--stats-interval', '1s']);
      server = started.server;
      await sleep(200);
      const fdsBefore = fdCount(server.pid);
      const rssBefore = rssKiB(server.pid);
      const seed = SEED + backend.length;
      const t0 = Date.now();
      const run = await runHelper(soak.exe, ['--port', String(started.port), '--conns', String(CONNS), '--messages', String(MESSAGES), '--seed', String(seed), '--timeout-ms', String(LIMIT_MS)], LIMIT_MS + 10_000);
      const seconds = (Date.now() - t0) / 1000;
      const last = await server.statsUntil((s) => s.connections === 0, 10_000);
      await sleep(300);
      const fdsAfter = fdCount(server.pid);
      const rssAfter = rssKiB(server.pid);
      const r = run.result ?? {};
      record('echo-soak', {
        backend, seed, conns: CONNS, messages: MESSAGES, verified: r.verified, bytesVerified: r.bytes_verified, fragments: r.fragments,
        mismatches: r.mismatches, errors: r.errors, seconds: Number(seconds.toFixed(1)), msgsPerS: r.msgs_per_s,
        serverMaxBufferedBytes: last.maxBuffered, serverReadPauses: last.readPauses, serverRecvs: last.msgs,
        fdsBefore, fdsAfter, rssBeforeKiB: rssBefore, rssAfterKiB: rssAfter,
      });
      expect(run.code, `echo-soak failed (seed ${seed}):\n${run.stderr}`).toBe(0);
      expect(r.verified).toBe(MESSAGES);
      expect(r.mismatches).toBe(0);
      expect(last.errors).toBe(0);
      expect(fdsAfter).toBe(fdsBefore);
    } finally {
      await killServer(server);
    }
  });
});
