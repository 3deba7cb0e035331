// `iomux echo` at the edges: thousands of connections, running out of fds
// (EMFILE), and select's FD_SETSIZE, all against the spawned server.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, connect, cpuTicks, killServer, ServerProcess, sleep, startEcho, type SpawnOptions } from './fixtures/echo-harness';
import { TIME_SCALE } from './fixtures/time-scale';

let servers: ServerProcess[] = [];
let sockets: net.Socket[] = [];
let fds: number[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await killServer(s);
  for (const fd of fds.splice(0)) fs.closeSync(fd);
});

async function echo(args: string[], opts?: SpawnOptions) {
  const r = await startEcho(args, opts);
  servers.push(r.server);
  return r;
}

async function client(port: number): Promise<net.Socket> {
  const s = await connect(port);
  s.on('error', () => {}); // a refused or reset client is an expected outcome here; the test checks it explicitly
  sockets.push(s);
  return s;
}

/** Sends a unique line and resolves true if exactly it comes back within ms. */
async function pingOnce(s: net.Socket, tag: string, ms: number): Promise<boolean> {
  const msg = Buffer.from(`${tag}\n`);
  const got = collect(s, msg.length);
  s.write(msg);
  const r = await Promise.race([got, sleep(ms).then(() => null)]);
  if (r === null) return false;
  return r.data.equals(msg);
}

describe('iomux echo: many connections', () => {
  const cases = [
    ['poll', 2000],
    ['epoll', 2000],
    ['select', 900],
  ] as const;
  for (const [backend, count] of cases) {
    it(`${backend}: holds ${count} concurrent connections, each echoing its own message byte for byte`, async () => {
      const { server, port } = await echo(['--backend', backend, '--stats', '--stats-interval', '200']);
      // Connect in batches: the listen backlog is 1024 and the server accepts 64 per event.
      const socks: net.Socket[] = [];
      for (let i = 0; i < count; i += 200) {
        socks.push(...(await Promise.all(Array.from({ length: Math.min(200, count - i) }, () => client(port)))));
      }
      const held = await server.statsUntil((s) => s.connections === count, 20_000 * TIME_SCALE);
      expect(held.refused).toBe(0);
      // Every connection at once, each with a distinct message.
      const results = await Promise.all(
        socks.map(async (s, i) => {
          const msg = Buffer.from(`client ${i} of ${count} on ${backend}: ${'#'.repeat(i % 97)}\n`);
          const got = collect(s, msg.length);
          s.write(msg);
          const { data } = await got;
          return data.equals(msg);
        }),
      );
      expect(results.filter((ok) => !ok).length).toBe(0);
      for (const s of socks) s.end();
      const after = await server.statsUntil((s) => s.connections === 0, 20_000 * TIME_SCALE);
      expect(after.accepted).toBe(count);
      expect(after.peakConnections).toBe(count);
      expect(after.errors).toBe(0);
    }, 60_000 * TIME_SCALE);
  }
});

describe('iomux echo: EMFILE', () => {
  it('with ulimit -n 64 and 100 clients: serves the ones it holds, backs off instead of spinning, admits the rest as fds free up', async () => {
    const { server, port } = await echo(['--stats', '--stats-interval', '100'], { ulimit: 64 });
    const socks: net.Socket[] = [];
    for (let i = 0; i < 100; i++) socks.push(await client(port)); // the kernel completes all handshakes (backlog)
    const paused = await server.waitFor((e) => e.event === 'accept-paused');
    expect(paused.code).toBe('EMFILE');

    // Who is being served? Those accepted echo; the rest wait in the backlog.
    const served = await Promise.all(socks.map((s, i) => pingOnce(s, `first ${i}`, 1500)));
    const nServed = served.filter(Boolean).length;
    expect(nServed).toBeGreaterThan(10);
    expect(nServed).toBeLessThan(64);

    // Out of fds with clients waiting: the server must not spin. Measure its CPU over a second.
    const before = cpuTicks(server.pid);
    await sleep(1000);
    const used = cpuTicks(server.pid) - before; // clock ticks, normally 100 per second
    expect(used).toBeLessThan(20);
    // Retried about every 100 ms meanwhile, but logged once.
    expect(server.events().filter((e) => e.event === 'accept-paused').length).toBe(1);
    // ...and still serves the connections it has.
    const again = await Promise.all(socks.map((s, i) => (served[i] ? pingOnce(s, `again ${i}`, 3000 * TIME_SCALE) : Promise.resolve(true))));
    expect(again.every(Boolean)).toBe(true);

    // Free fds: the waiting clients get in and echo (their earlier message first).
    const waiting = socks.filter((_, i) => !served[i]);
    for (const [i, s] of socks.entries()) if (served[i]) s.destroy();
    // 100 clients minus the ones served first may still exceed 64 fds: at least as many as were freed get in.
    const want = Math.min(waiting.length, nServed);
    let admitted = 0;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`only ${admitted} of ${want} waiting clients were admitted`)), 10_000 * TIME_SCALE);
      for (const s of waiting) {
        collect(s, 1).then((r) => {
          if (r.data.length > 0 && ++admitted === want) {
            clearTimeout(t);
            resolve();
          }
        });
      }
    });
    console.log(`EMFILE: ${nServed} served at first, ${used} CPU ticks in 1 s while out of fds, ${admitted} admitted later`);
    const s = server.events().filter((e) => e.event === 'stats').pop()!;
    expect(s.acceptPauses).toBeGreaterThan(5); // retried about every 100 ms while out of fds...
    await server.waitFor((e) => e.event === 'accept-resumed');
  }, 40_000 * TIME_SCALE);
});

describe('iomux echo: select and FD_SETSIZE', () => {
  it('select: connections whose fd is >= FD_SETSIZE are closed and logged; the others keep echoing (poll, same fds: all served)', async () => {
    // The parent hands the child ~1000 open fds (stdio inheritance), so the
    // server's own sockets land just below 1024 and new ones cross it.
    const devnull = fs.openSync('/dev/null', 'r');
    fds.push(devnull);
    const extraStdio = Array<number>(997).fill(devnull); // child fds 3..999
    for (const backend of ['select', 'poll'] as const) {
      const { server, port, listening } = await echo(['--backend', backend], { extraStdio });
      expect(listening.fd).toBeGreaterThan(999);
      expect(listening.fd).toBeLessThan(1020); // room for a few connections under 1024
      const socks: net.Socket[] = [];
      for (let i = 0; i < 30; i++) socks.push(await client(port));
      const ok = await Promise.all(socks.map((s, i) => pingOnce(s, `fd test ${i}`, 3000 * TIME_SCALE)));
      const refused = server.events().filter((e) => e.event === 'refused');
      if (backend === 'select') {
        const nOk = ok.filter(Boolean).length;
        expect(nOk).toBeGreaterThan(0);
        expect(nOk).toBeLessThan(30);
        expect(refused.length).toBe(30 - nOk);
        for (const r of refused) {
          expect(r.reason).toBe('selector');
          expect(r.fd).toBeGreaterThanOrEqual(1024);
          expect(r.message).toMatch(/FD_SETSIZE/);
        }
        // The refused clients were closed, not left hanging.
        for (const [i, s] of socks.entries()) if (!ok[i]) expect((await collect(s)).ended).toBe(true);
      } else {
        expect(ok.every(Boolean)).toBe(true);
        expect(refused.length).toBe(0);
      }
      for (const s of socks) s.destroy();
      await killServer(server);
    }
  }, 40_000 * TIME_SCALE);
});
