// Faults against the real `iomux echo` process, on each backend: clients that
// stop reading, clients that reset mid-write (SO_LINGER 0), half-closes, and
// many connect/close cycles; the server's fds and RSS must come back.
// Knobs: RELIABILITY_STALLED (clients that stop reading), RELIABILITY_RESETS,
// RELIABILITY_HALFCLOSES, RELIABILITY_CYCLES.
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { SHUT_WR, SO_LINGER, SO_RCVBUF, SOL_SOCKET, Socket } from 'iomux';
import { killServer, prng, rssKiB, sleep, startEcho, type EchoEvent, type ServerProcess } from '../fixtures/echo-harness';
import { BACKENDS, fdCount, knob, MiB, record, SEED } from './common';

const STALLED = knob('RELIABILITY_STALLED', 50, 20);
const RESETS = knob('RELIABILITY_RESETS', 500, 100);
const HALFCLOSES = knob('RELIABILITY_HALFCLOSES', 200, 50);
const CYCLES = knob('RELIABILITY_CYCLES', 10_000, 2_000);
// The echo server's defaults (demos/echo-server.ts): it stops reading a connection at 256 KiB queued, reads 64 KiB at a time.
const HWM = 256 * 1024;
const READ_SIZE = 64 * 1024;
// RSS may settle a little higher after a burst (V8 heap growth, malloc arenas): the tolerance we accept.
const RSS_TOLERANCE_KIB = 16 * 1024;

// The bytes of every client's stream are windows into this pattern, at a per-client start;
// its length is prime so windows never line up with buffer sizes.
const PATTERN = randomBytes(1_048_573);
const WRITE_BUF = Buffer.concat([PATTERN, PATTERN.subarray(0, 256 * 1024)]);

/** A raw non-blocking iomux client that sends a pattern stream and checks every byte echoed back. */
class PatternClient {
  readonly sock: Socket;
  sent = 0;
  received = 0;
  eof = false;
  error: Error | undefined;
  readonly start: number;
  #buf = Buffer.allocUnsafe(64 * 1024);

  constructor(port: number, rand: () => number, smallRcvbuf: boolean) {
    this.sock = new Socket();
    // A tiny receive buffer: a client that stops reading stalls the server's sends quickly.
    if (smallRcvbuf) this.sock.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096);
    this.sock.connect(['127.0.0.1', port]);
    this.sock.setBlocking(false);
    this.start = Math.floor(rand() * PATTERN.length);
  }

  /** Sends up to `limit` bytes in all; returns false once the socket is full. */
  pump(limit: number): boolean {
    while (this.sent < limit) {
      const off = (this.start + this.sent) % PATTERN.length;
      const n = this.sock.send(WRITE_BUF, off, Math.min(limit - this.sent, 256 * 1024));
      if (n === null) return false;
      this.sent += n;
    }
    return true;
  }

  /** Reads what is there and compares it with what was sent at those positions. */
  drain(): void {
    for (;;) {
      const n = this.sock.recvInto(this.#buf, 0, this.#buf.length);
      if (n === null) return;
      if (n === 0) {
        this.eof = true;
        return;
      }
      if (this.received + n > this.sent) throw new Error(`echoed ${this.received + n} bytes, only ${this.sent} sent`);
      for (let i = 0; i < n; i++) {
        if (this.#buf[i] !== PATTERN[(this.start + this.received + i) % PATTERN.length]) {
          throw new Error(`echoed byte ${this.received + i} differs`);
        }
      }
      this.received += n;
    }
  }
}

/** Turns pump/drain until every client is done or ms passed. */
async function spin(clients: PatternClient[], step: (c: PatternClient) => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    let pending = 0;
    for (const c of clients) if (!step(c)) pending++;
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error(`${what}: ${pending} of ${clients.length} clients not done after ${ms} ms`);
    await sleep(2);
  }
}

async function quiet(server: ServerProcess): Promise<EchoEvent> {
  return server.statsUntil((s) => s.connections === 0, 30_000);
}

describe.each(BACKENDS)('echo faults on %s', (backend) => {
  const args = ['--backend', backend, '--stats', '--stats-interval', '200ms'];

  it(`${STALLED} clients stop reading: the server stops reading them, its memory stays bounded, then every byte arrives`, async () => {
    const { server, port } = await startEcho(args);
    const clients: PatternClient[] = [];
    try {
      await sleep(300);
      const rssBefore = rssKiB(server.pid);
      const rand = prng(SEED + 1);
      for (let i = 0; i < STALLED; i++) clients.push(new PatternClient(port, rand, true));
      // Write without reading until every connection is paused by the server's back-pressure.
      let stats: EchoEvent | undefined;
      const deadline = Date.now() + 30_000;
      let maxRss = 0;
      for (;;) {
        for (const c of clients) c.pump(c.sent + 8 * MiB);
        stats = await server.nextStats();
        maxRss = Math.max(maxRss, rssKiB(server.pid));
        if (stats.readPaused === STALLED) break;
        if (Date.now() > deadline) throw new Error(`only ${stats.readPaused} of ${STALLED} connections paused: ${JSON.stringify(stats)}`);
      }
      // Keep pushing for a second: nothing more may pile up in the server.
      const pausedAt = stats.buffered;
      const t1 = Date.now();
      while (Date.now() - t1 < 1000) {
        for (const c of clients) c.pump(c.sent + MiB);
        await sleep(50);
      }
      const held = await server.nextStats();
      maxRss = Math.max(maxRss, rssKiB(server.pid));
      const sentWhileStalled = clients.reduce((a, c) => a + c.sent, 0);
      expect(held.readPaused).toBe(STALLED);
      expect(held.buffered).toBeLessThanOrEqual(STALLED * (HWM + READ_SIZE));
      expect(held.maxBuffered).toBeLessThanOrEqual(HWM + READ_SIZE);
      expect(maxRss - rssBefore).toBeLessThan(64 * 1024 + (STALLED * (HWM + READ_SIZE)) / 1024);
      // Now they read again: the whole stream must come back, then half-close and EOF.
      const target = clients.map((c) => c.sent + 256 * 1024);
      await spin(clients, (c) => {
        c.drain();
        const i = clients.indexOf(c);
        if (c.pump(target[i]) && c.sent === target[i] && !c.eof) {
          if (c.received === c.sent && (c as any).shut !== true) {
            c.sock.shutdown(SHUT_WR);
            (c as any).shut = true;
          }
        }
        return c.eof;
      }, 60_000, 'resume');
      for (const [i, c] of clients.entries()) expect(c.received).toBe(target[i]);
      const end = await quiet(server);
      record('echo-stalled-readers', {
        backend, clients: STALLED, bytesSentWhileStalled: sentWhileStalled, serverBufferedWhenPaused: pausedAt, serverBufferedAfter1s: held.buffered,
        serverMaxBufferedPerConn: held.maxBuffered, boundPerConn: HWM + READ_SIZE, rssBeforeKiB: rssBefore, rssMaxKiB: maxRss,
        bytesVerified: clients.reduce((a, c) => a + c.received, 0), readPauses: end.readPauses, errors: end.errors,
      });
      expect(end.errors).toBe(0);
    } finally {
      for (const c of clients) c.sock.close();
      await killServer(server);
    }
  });

  it(`${RESETS} clients reset mid-write (SO_LINGER 0) while healthy ones keep echoing`, async () => {
    const { server, port } = await startEcho(args);
    const healthy: PatternClient[] = [];
    try {
      await sleep(300);
      const fdsBefore = fdCount(server.pid);
      const rssBefore = rssKiB(server.pid);
      const rand = prng(SEED + 2);
      for (let i = 0; i < 5; i++) healthy.push(new PatternClient(port, rand, false));
      const healthyTarget = 4 * MiB;
      let resets = 0;
      let stalledResets = 0;
      const batch = 25;
      for (let b = 0; b < RESETS; b += batch) {
        const doomed: PatternClient[] = [];
        for (let i = b; i < Math.min(RESETS, b + batch); i++) doomed.push(new PatternClient(port, rand, rand() < 0.5));
        // Each writes for a random while without reading (some until the server is stuck sending to it), then resets.
        const until = Date.now() + 20 + rand() * 200;
        while (Date.now() < until) {
          for (const d of doomed) d.pump(d.sent + 512 * 1024);
          for (const h of healthy) {
            h.drain();
            h.pump(Math.min(healthyTarget, h.received + 512 * 1024));
          }
          await sleep(5);
        }
        for (const d of doomed) {
          if (d.sent > HWM) stalledResets++;
          d.sock.setsockopt(SOL_SOCKET, SO_LINGER, 0);
          d.sock.close();
          resets++;
        }
      }
      await spin(healthy, (h) => {
        h.drain();
        h.pump(Math.min(healthyTarget, h.received + 512 * 1024));
        return h.received === healthyTarget;
      }, 60_000, 'healthy clients');
      for (const h of healthy) h.sock.close();
      const end = await quiet(server);
      await sleep(300);
      const fdsAfter = fdCount(server.pid);
      const rssAfter = rssKiB(server.pid);
      record('echo-resets', {
        backend, resets, resetsAfterMoreThanHwmSent: stalledResets, serverErrors: end.errors, serverAccepted: end.accepted, serverClosed: end.closed,
        healthyBytesVerified: healthy.length * healthyTarget, fdsBefore, fdsAfter, rssBeforeKiB: rssBefore, rssAfterKiB: rssAfter,
      });
      expect(end.accepted).toBe(RESETS + healthy.length);
      expect(end.closed).toBe(end.accepted);
      expect(fdsAfter).toBe(fdsBefore);
    } finally {
      for (const h of healthy) h.sock.close();
      await killServer(server);
    }
  });

  it(`${HALFCLOSES} half-closes: everything sent before the FIN comes back, then EOF`, async () => {
    const { server, port } = await startEcho(args);
    const clients: PatternClient[] = [];
    try {
      const rand = prng(SEED + 3);
      const sizes: number[] = [];
      for (let i = 0; i < HALFCLOSES; i++) {
        clients.push(new PatternClient(port, rand, rand() < 0.3));
        sizes.push(Math.floor(rand() < 0.5 ? rand() * 4096 : rand() * 1024 * 1024));
      }
      const shut = new Set<PatternClient>();
      await spin(clients, (c) => {
        const i = clients.indexOf(c);
        if (!shut.has(c) && c.pump(sizes[i])) {
          c.sock.shutdown(SHUT_WR);
          shut.add(c);
        }
        c.drain();
        return c.eof;
      }, 60_000, 'half-close');
      for (const [i, c] of clients.entries()) expect(c.received, `client ${i}`).toBe(sizes[i]);
      const end = await quiet(server);
      record('echo-half-close', { backend, clients: HALFCLOSES, bytesVerified: sizes.reduce((a, b) => a + b, 0), serverErrors: end.errors });
      expect(end.errors).toBe(0);
    } finally {
      for (const c of clients) c.sock.close();
      await killServer(server);
    }
  });

  it(`${CYCLES} connect/close cycles: fds and RSS come back to the baseline`, { timeout: 600_000 }, async () => {
    const { server, port } = await startEcho(args);
    try {
      const rand = prng(SEED + 4);
      const kinds = { close: 0, echo: 0, reset: 0, halfClose: 0 };
      const cycle = async (): Promise<void> => {
        const sock = net.connect(port, '127.0.0.1');
        await new Promise<void>((resolve, reject) => {
          sock.once('connect', resolve);
          sock.once('error', reject);
        });
        const r = rand();
        if (r < 0.25) {
          kinds.close++;
          sock.destroy();
          return;
        }
        const msg = randomBytes(1 + Math.floor(rand() * 2000));
        if (r < 0.5) {
          kinds.reset++;
          sock.on('error', () => {});
          sock.write(msg);
          await sleep(rand() * 3);
          sock.resetAndDestroy();
          return;
        }
        const got: Buffer[] = [];
        let n = 0;
        const done = new Promise<void>((resolve, reject) => {
          sock.on('data', (d: Buffer) => {
            got.push(d);
            n += d.length;
            if (n >= msg.length && r < 0.75) resolve();
          });
          sock.once('end', resolve);
          sock.once('error', reject);
        });
        if (r < 0.75) {
          kinds.echo++;
          sock.write(msg);
        } else {
          kinds.halfClose++;
          sock.end(msg);
        }
        await done;
        if (!Buffer.concat(got).equals(msg)) throw new Error('echo differs');
        sock.destroy();
      };
      const run = async (count: number) => {
        let next = 0;
        await Promise.all(Array.from({ length: 20 }, async () => {
          while (next < count) {
            next++;
            await cycle();
          }
        }));
      };
      // Warm-up: JIT, V8 heap and malloc arenas settle before the baseline is taken.
      await run(Math.min(1000, CYCLES / 5));
      await quiet(server);
      await sleep(500);
      const fdsBefore = fdCount(server.pid);
      const rssBefore = rssKiB(server.pid);
      const t0 = Date.now();
      let maxRss = rssBefore;
      for (let done = 0; done < CYCLES; done += 1000) {
        await run(Math.min(1000, CYCLES - done));
        maxRss = Math.max(maxRss, rssKiB(server.pid));
      }
      const seconds = (Date.now() - t0) / 1000;
      const end = await quiet(server);
      await sleep(500);
      const fdsAfter = fdCount(server.pid);
      const rssAfter = rssKiB(server.pid);
      record('echo-cycles', {
        backend, cycles: CYCLES, kinds, seconds: Number(seconds.toFixed(1)), fdsBefore, fdsAfter, rssBeforeKiB: rssBefore, rssMaxKiB: maxRss, rssAfterKiB: rssAfter,
        rssToleranceKiB: RSS_TOLERANCE_KIB, serverAccepted: end.accepted, serverErrors: end.errors,
      });
      expect(fdsAfter).toBe(fdsBefore);
      expect(rssAfter - rssBefore).toBeLessThan(RSS_TOLERANCE_KIB);
    } finally {
      await killServer(server);
    }
  });
});
