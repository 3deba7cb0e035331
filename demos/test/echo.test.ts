// `iomux echo` under real traffic: Node net clients and a python3 socket client
// against the spawned server, on every backend, every byte checked.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EchoServer } from '../src/servers/echo-server';
import {
  BIN, collect, connect, firstDifference, killServer, prng, randomPayload, rssKiB, ServerProcess, sleep, spawnNode,
  startEcho, writeFragmented, ROOT,
} from './fixtures/echo-harness';
import { TIME_SCALE } from './fixtures/time-scale';

const BACKENDS = ['select', 'poll', 'epoll'] as const;
const PY_CLIENT = path.join(ROOT, 'test/fixtures/echo_client.py');

let servers: ServerProcess[] = [];
let sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await killServer(s);
});

async function echo(args: string[] = []) {
  const r = await startEcho(args);
  servers.push(r.server);
  return r;
}

async function client(target: number | string): Promise<net.Socket> {
  const s = await connect(target);
  sockets.push(s);
  return s;
}

function python(target: string, size: number, seed: number): Promise<{ sent: number; received: number; equal: boolean; first_diff: number }> {
  return new Promise((resolve, reject) => {
    execFile('python3', [PY_CLIENT, target, String(size), String(seed)], { timeout: 25_000 * TIME_SCALE }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

// One client: random size, random fragments, reads concurrently, half-closes, expects EOF.
async function roundTrip(port: number | string, seed: number, maxSize: number): Promise<number> {
  const rand = prng(seed);
  const size = 1 + Math.floor(rand() * maxSize);
  const payload = randomPayload(size);
  const sock = await client(port);
  const received = collect(sock);
  await writeFragmented(sock, payload, 1 + Math.floor(rand() * 9000), rand);
  sock.end(); // half-close: the server must send everything back, then close
  const { data, ended, error } = await received;
  expect(error).toBeUndefined();
  expect(ended).toBe(true);
  expect(data.length, `seed ${seed}`).toBe(size);
  expect(firstDifference(data, payload), `seed ${seed}`).toBe(-1);
  return size;
}

describe('iomux echo: data integrity', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: 40 concurrent clients, random sizes and fragmentation, every byte back, then EOF`, async () => {
      const { server, port, listening } = await echo(['--backend', backend, '--stats', '--stats-interval', '100']);
      expect(listening.backend).toBe(backend);
      const base = 1000 * BACKENDS.indexOf(backend);
      const sizes = await Promise.all(Array.from({ length: 40 }, (_, i) => roundTrip(port, base + i, 300_000)));
      const total = sizes.reduce((a, b) => a + b, 0);
      const s = await server.statsUntil((e) => e.connections === 0 && e.bytesOut === total);
      expect(s.bytesIn).toBe(total);
      expect(s.accepted).toBe(40);
      expect(s.errors).toBe(0);
    });
  }

  it('python3 socket client over TCP (threaded writer, SHUT_WR, recv to EOF), on each backend', async () => {
    for (const backend of BACKENDS) {
      const { port } = await echo(['--backend', backend]);
      const results = await Promise.all([1, 2, 3].map((seed) => python(`127.0.0.1:${port}`, 400_000 * seed, seed)));
      for (const r of results) {
        expect(r.equal).toBe(true);
        expect(r.received).toBe(r.sent);
      }
    }
    // Four servers, three python3 clients each: past vitest's 30 s on a loaded machine.
  }, 60_000 * TIME_SCALE);

  it('--unix: AF_UNIX socket with net and python3 clients; the path is removed on exit', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-echo-'));
    const sockPath = path.join(dir, 'echo.sock');
    try {
      const { server, listening } = await echo(['--unix', sockPath]);
      expect(listening.unix).toBe(sockPath);
      await roundTrip(sockPath, 77, 200_000);
      const r = await python(`unix:${sockPath}`, 1_000_000, 5);
      expect(r).toMatchObject({ equal: true, sent: 1_000_000, received: 1_000_000 });
      server.kill('SIGTERM');
      expect((await server.exit).code).toBe(0);
      expect(fs.existsSync(sockPath)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('iomux echo: back-pressure, half-close, resets', () => {
  it('a client that never reads: the server stops reading it, its buffer and RSS stay bounded, others are served; then all 48 MiB come back intact', async () => {
    const { server, port } = await echo(['--stats', '--stats-interval', '100']);
    const idleRss = rssKiB(server.pid);
    const hog = await client(port);
    hog.pause(); // never read (yet): the kernel buffers fill, then the server's queue
    const payload = randomPayload(48 * 1024 * 1024);
    hog.write(payload);
    const paused = await server.statsUntil((s) => s.readPaused === 1);
    // Give the hog time to push more if the server were still reading.
    await sleep(500);
    const s = await server.nextStats();
    expect(s.readPaused).toBe(1);
    expect(s.buffered).toBeLessThanOrEqual(256 * 1024 + 64 * 1024);
    expect(s.maxBuffered).toBeLessThanOrEqual(256 * 1024 + 64 * 1024);
    expect(s.bytesIn - paused.bytesIn).toBeLessThan(1024 * 1024);
    expect(s.bytesIn).toBeLessThan(payload.length / 2);
    // Without back-pressure the server would hold most of the 48 MiB.
    expect(rssKiB(server.pid) - idleRss).toBeLessThan(24 * 1024);

    // Another client is not stalled by the hog.
    await roundTrip(port, 4242, 100_000);

    // Now read: everything must arrive, in order.
    const received = collect(hog, payload.length);
    hog.resume();
    const { data } = await received;
    expect(data.length).toBe(payload.length);
    expect(firstDifference(data, payload)).toBe(-1);
    const after = await server.statsUntil((e) => e.bytesOut >= payload.length);
    expect(after.maxBuffered).toBeLessThanOrEqual(256 * 1024 + 64 * 1024);
  });

  it('half-close with a large backlog: the server finishes sending 8 MiB after the client FIN, then closes', async () => {
    const { port } = await echo();
    const sock = await client(port);
    const payload = randomPayload(8 * 1024 * 1024);
    sock.pause();
    sock.end(payload); // FIN right behind the data, nothing read yet
    await sleep(300);
    const received = collect(sock);
    sock.resume();
    const { data, ended } = await received;
    expect(ended).toBe(true);
    expect(data.length).toBe(payload.length);
    expect(firstDifference(data, payload)).toBe(-1);
  });

  it('a reset mid-write (RST while the server has data queued) is cleaned up and the server keeps serving', async () => {
    const { server, port } = await echo(['--stats', '--stats-interval', '100']);
    for (let round = 0; round < 3; round++) {
      const sock = await client(port);
      sock.pause();
      sock.write(randomPayload(32 * 1024 * 1024)); // more than loopback's socket buffers hold
      await server.statsUntil((s) => s.readPaused === 1);
      sock.resetAndDestroy();
      await server.statsUntil((s) => s.connections === 0 && s.closed === round + 1);
    }
    // Abrupt close of a client in the middle of echoing, without RST-forcing.
    const s2 = await client(port);
    s2.write(randomPayload(1024 * 1024));
    s2.destroy();
    const s = await server.statsUntil((e) => e.connections === 0 && e.closed === 4);
    expect(s.errors).toBeGreaterThanOrEqual(3);
    await roundTrip(port, 99, 50_000);
  });
});

describe('iomux echo: options', () => {
  it('--max-connections: extra connections get a clean EOF without data; the admitted ones keep working', async () => {
    const { server, port } = await echo(['--max-connections', '3']);
    const admitted = await Promise.all([0, 1, 2].map(() => client(port)));
    // Make sure the server has accepted all three before the extra ones arrive.
    for (const [i, s] of admitted.entries()) {
      const got = collect(s, 6);
      s.write(`hello${i}`);
      expect((await got).data.toString()).toBe(`hello${i}`);
    }
    const extra = await Promise.all([0, 1].map(() => client(port)));
    for (const s of extra) {
      const { data, ended, error } = await collect(s);
      expect(ended).toBe(true);
      expect(error).toBeUndefined(); // FIN, not RST
      expect(data.length).toBe(0);
    }
    // The log line may trail the FIN the client already saw.
    const refusedEvents = () => server.events().filter((e) => e.event === 'refused');
    await server.until(() => refusedEvents().length >= 2);
    const refused = refusedEvents();
    expect(refused.length).toBe(2);
    expect(refused.every((e) => e.reason === 'max-connections')).toBe(true);
    const got = collect(admitted[2], 5);
    admitted[2].write('still');
    expect((await got).data.toString()).toBe('still');
  });

  it('--idle-timeout 300ms closes an idle connection, not a busy one', async () => {
    const { port } = await echo(['--idle-timeout', '300ms']);
    const idle = await client(port);
    const busy = await client(port);
    const t0 = Date.now();
    const idleDone = collect(idle);
    const busyDone = collect(busy);
    const ticker = setInterval(() => busy.write('x'), 50);
    try {
      const r = await idleDone;
      expect(r.ended).toBe(true);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(busy.destroyed).toBe(false);
    } finally {
      clearInterval(ticker);
    }
    busy.end();
    expect((await busyDone).data.toString()).toMatch(/^x+$/);
  });

  it('--help exits 0; a bad option, backend or duration exits 2 with a message', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        execFile(process.execPath, [BIN, 'echo', ...args], { cwd: ROOT, timeout: 10_000 * TIME_SCALE }, (e, out, err) =>
          resolve({ code: e ? (e.code as number) : 0, out, err }));
      });
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('--max-connections');
    for (const bad of [['--bogus'], ['--backend', 'kqueux'], ['--idle-timeout', '3x'], ['--port', '70000'], ['--unix', '/tmp/x', '--port', '1']]) {
      const r = await run(bad);
      expect(r.code, bad.join(' ')).toBe(2);
      expect(r.err).toMatch(/iomux echo: /);
    }
  });

  it('text mode prints "listening on HOST:PORT" first and a stats line with connections, msgs, bytes', async () => {
    const server = spawnNode([BIN, 'echo', '--port', '0', '--stats', '--stats-interval', '100']);
    servers.push(server);
    const first = await server.waitFor((l) => typeof l === 'string');
    const m = /^listening on 127\.0\.0\.1:(\d+) \(backend (\w+)/.exec(first as unknown as string);
    expect(m).not.toBeNull();
    await roundTrip(Number(m![1]), 3, 10_000);
    const line = await server.waitFor((l) => typeof l === 'string' && /^stats: connections=0 msgs=[1-9]\d* bytes_in=\d+ bytes_out=\d+/.test(l));
    expect(line).toBeTruthy();
  });
});

describe('iomux echo: signals', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} stops it within a second with a summary, while idle in the selector and while under load`, async () => {
      // Idle: blocked in selectAsync with one quiet connection.
      {
        const { server, port } = await echo();
        const c = await client(port);
        await sleep(100);
        const closed = collect(c);
        const t0 = Date.now();
        server.kill(signal);
        const { code } = await server.exit;
        // Within a second natively; an emulated (qemu, wine) node is scaled.
        expect(Date.now() - t0).toBeLessThan(1000 * TIME_SCALE);
        expect(code).toBe(0);
        const summary = server.events().find((e) => e.event === 'stopped')!;
        expect(summary).toMatchObject({ signal, accepted: 1, peakConnections: 1 });
        expect((await closed).ended).toBe(true); // the server closed it
      }
      // Busy: 20 clients streaming as fast as they can.
      {
        const { server, port } = await echo();
        const socks = await Promise.all(Array.from({ length: 20 }, () => client(port)));
        const chunk = randomPayload(16 * 1024);
        for (const s of socks) {
          s.on('data', () => {});
          s.on('error', () => {});
          const pump = () => {
            while (!s.destroyed && s.write(chunk));
          };
          s.on('drain', pump);
          pump();
        }
        await sleep(500);
        const t0 = Date.now();
        server.kill(signal);
        const { code } = await server.exit;
        // Within a second natively; an emulated (qemu, wine) node is scaled.
        expect(Date.now() - t0).toBeLessThan(1000 * TIME_SCALE);
        expect(code).toBe(0);
        const summary = server.events().find((e) => e.event === 'stopped')!;
        expect(summary.signal).toBe(signal);
        expect(summary.bytesIn).toBeGreaterThan(1024 * 1024);
      }
    });
  }
});

describe('EchoServer in-process (the module the CLI, benchmarks and smoke tests share)', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: serve() with selectAsync leaves Node's loop free for net clients in the same process; stop() ends it`, async () => {
      const server = new EchoServer({ backend, port: 0 });
      const [, port] = server.listen() as [string, number];
      const serving = server.serve();
      try {
        const sizes = await Promise.all([11, 12, 13, 14, 15].map((seed) => roundTrip(port, seed, 200_000)));
        const s = server.stats();
        expect(s.backend).toBe(backend);
        expect(s.bytesIn).toBe(sizes.reduce((a, b) => a + b, 0));
        expect(s.accepted).toBe(5);
      } finally {
        server.stop();
        await serving;
        server.close();
      }
      expect(server.selector.closed).toBe(true);
    });
  }
});
