// The tutorial programs in examples/, compiled to dist/examples/ by
// `npm run build:ts`, run as a user would run them, against real peers.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  collect, connect, firstDifference, killServer, prng, randomPayload, ROOT, ServerProcess, spawnNode, writeFragmented,
} from './fixtures/echo-harness';
import { TIME_SCALE } from './fixtures/time-scale';
import { backendMissing, HAS_PYTHON3, itUnless, WHY_NO_PYTHON3 } from './fixtures/platform';

const DIST = path.join(ROOT, 'dist/examples');
const PY_CLIENT = path.join(ROOT, 'test/fixtures/echo_client.py');

beforeAll(() => {
  for (const f of ['01-blocking-client', '02-select-echo-server', '03-epoll-echo-server', '04-selector-echo-server']) {
    if (!fs.existsSync(path.join(DIST, `${f}.js`))) throw new Error(`dist/examples/${f}.js is missing: run npm run build:ts`);
  }
});

let servers: ServerProcess[] = [];
let cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  for (const s of servers.splice(0)) await killServer(s);
});

function runClient(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(DIST, '01-blocking-client.js'), ...args], { cwd: ROOT, timeout: 15_000 * TIME_SCALE }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

describe('examples/01-blocking-client', () => {
  it('echo mode against a Node net echo server', async () => {
    const server = net.createServer((s) => s.pipe(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => server.close());
    const port = (server.address() as net.AddressInfo).port;
    const message = `héllo ${'x'.repeat(10_000)} end`;
    const r = await runClient(['127.0.0.1', String(port), message]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`received: ${message}\n`);
  });

  it('--http: a blocking GET against a Node http server prints the whole response', async () => {
    const body = 'y'.repeat(50_000);
    const server = http.createServer((req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(req.url === '/hello' ? body : 'nope');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => server.close());
    const port = (server.address() as net.AddressInfo).port;
    const r = await runClient(['--http', '127.0.0.1', String(port), '/hello']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(r.stdout.endsWith(`\r\n\r\n${body}`)).toBe(true);
  });

  it('reports ECONNREFUSED with a non-zero exit', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r)); // nobody listens there now
    const r = await runClient(['127.0.0.1', String(port), 'x']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ECONNREFUSED/);
  });
});

const SERVERS = ['02-select-echo-server', '03-epoll-echo-server', '04-selector-echo-server'];
for (const name of SERVERS) {
  describe(`examples/${name}`, () => {
    const backend = /epoll/.test(name) ? 'epoll' : '';
    itUnless(backendMissing(backend) !== '', backendMissing(backend))(`echoes for 25 concurrent net clients (random sizes and fragments), ${HAS_PYTHON3 ? 'a python3 client' : `no python3 client (${WHY_NO_PYTHON3})`} and the blocking client`, async () => {
      const server = spawnNode([path.join(DIST, `${name}.js`), '0']);
      servers.push(server);
      const first = (await server.waitFor((l) => typeof l === 'string' && l.startsWith('listening on'))) as unknown as string;
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(first)![1]);

      const results = await Promise.all(
        Array.from({ length: 25 }, async (_, i) => {
          const rand = prng(500 + i);
          const payload = randomPayload(1 + Math.floor(rand() * 200_000));
          const sock = await connect(port);
          cleanups.push(() => sock.destroy());
          // These tutorial servers close at EOF: read everything back before closing.
          const got = collect(sock, payload.length);
          await writeFragmented(sock, payload, 1 + Math.floor(rand() * 5000), rand);
          const { data } = await got;
          sock.end();
          return data.length === payload.length && firstDifference(data, payload) === -1;
        }),
      );
      expect(results.every(Boolean)).toBe(true);

      if (HAS_PYTHON3) {
      const py = await new Promise<any>((resolve, reject) =>
        execFile('python3', [PY_CLIENT, `127.0.0.1:${port}`, '2000000', '9', 'no-half-close'], { timeout: 25_000 * TIME_SCALE }, (err, out, errOut) =>
          err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(JSON.parse(out))));
      expect(py).toMatchObject({ equal: true, sent: 2_000_000, received: 2_000_000 });
      }

      const r = await runClient(['127.0.0.1', String(port), `tutorial ${name}`]);
      expect(r.stdout).toBe(`received: tutorial ${name}\n`);

      server.kill('SIGTERM');
      expect((await server.exit).signal).toBe('SIGTERM');
    });
  });
}
