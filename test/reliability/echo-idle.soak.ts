// 10,000 idle connections on the epoll echo server, held by a load generator
// in another process (scripts/echo-load.c), while 10 active connections keep
// their throughput. Knob: RELIABILITY_IDLE (quick: 2,000).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killServer, rssKiB, sleep, startEcho, type ServerProcess } from '../fixtures/echo-harness';
import { buildC, fdCount, hardNofile, knob, record, runHelper } from './common';

const IDLE = knob('RELIABILITY_IDLE', 10_000, 2_000);
const ACTIVE = 10;
const DURATION_MS = knob('RELIABILITY_IDLE_MS', 5_000, 2_000);
// The idle run may not fall below this share of the active-only rate (the mean of a run before and after it).
const MIN_RATIO = 0.7;

let load: ReturnType<typeof buildC>;
beforeAll(() => {
  load = buildC('echo-load.c');
});
afterAll(() => load?.cleanup());

it(`epoll: ${IDLE} idle connections held while ${ACTIVE} active ones keep their throughput`, { timeout: 300_000 }, async () => {
  const need = IDLE + ACTIVE + 100;
  const hard = hardNofile();
  expect(hard, `RLIMIT_NOFILE hard limit ${hard} is below the ${need} fds this needs`).toBeGreaterThanOrEqual(need);
  let server: ServerProcess | undefined;
  try {
    const started = await startEcho(['--backend', 'epoll', '--stats', '--stats-interval', '500ms'], { ulimit: need });
    server = started.server;
    const pid = server.pid;
    const rssBefore = rssKiB(pid);
    const fdsBefore = fdCount(pid);
    const common = ['--port', String(started.port), '--conns', String(ACTIVE), '--size', '1024', '--warmup-ms', '500', '--duration-ms', String(DURATION_MS), '--server-pid', String(pid)];
    const alone1 = await runHelper(load.exe, common, 60_000);
    expect(alone1.code, alone1.stderr).toBe(0);
    await server.statsUntil((s) => s.connections === 0);

    // While the loaded run measures, sample what the server holds.
    let heldConns = 0;
    let heldFds = 0;
    let heldRss = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await server!.nextStats().catch(() => undefined);
        if (s && s.connections > heldConns) {
          heldConns = s.connections;
          heldFds = fdCount(pid);
          heldRss = rssKiB(pid);
        }
      }
    })();
    const t0 = Date.now();
    const loaded = await runHelper(load.exe, [...common, '--idle', String(IDLE), '--timeout-ms', '120000'], 180_000, need);
    const loadedSeconds = (Date.now() - t0) / 1000;
    sampling = false;
    await sampler;
    expect(loaded.code, loaded.stderr).toBe(0);
    await server.statsUntil((s) => s.connections === 0, 30_000);

    const alone2 = await runHelper(load.exe, common, 60_000);
    expect(alone2.code, alone2.stderr).toBe(0);
    const end = await server.statsUntil((s) => s.connections === 0);
    await sleep(300);
    const aloneRate = (alone1.result.msgs_per_s + alone2.result.msgs_per_s) / 2;
    const ratio = loaded.result.msgs_per_s / aloneRate;
    record('echo-idle', {
      backend: 'epoll', idle: IDLE, active: ACTIVE, size: 1024, durationMs: DURATION_MS,
      aloneMsgsPerS: [alone1.result.msgs_per_s, alone2.result.msgs_per_s], withIdleMsgsPerS: loaded.result.msgs_per_s, ratio: Number(ratio.toFixed(3)),
      withIdleP99us: loaded.result.p99_us, aloneP99us: alone1.result.p99_us, heldConnections: heldConns, heldFds, heldRssKiB: heldRss,
      fdsBefore, fdsAfter: fdCount(pid), rssBeforeKiB: rssBefore, rssAfterKiB: rssKiB(pid), loadedRunSeconds: loadedSeconds,
      mismatches: alone1.result.mismatches + loaded.result.mismatches + alone2.result.mismatches, serverErrors: end.errors,
    });
    expect(heldConns).toBeGreaterThanOrEqual(IDLE + ACTIVE);
    expect(loaded.result.mismatches).toBe(0);
    expect(ratio).toBeGreaterThanOrEqual(MIN_RATIO);
    expect(fdCount(pid)).toBe(fdsBefore);
  } finally {
    await killServer(server);
  }
});
