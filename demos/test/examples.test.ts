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
import { backendMissing, HAS_PYTHON3, itUnless, WHY_NO_PYTHON3, WINDOWS } from './fixtures/platform';

const DIST = path.join(ROOT, 'dist/examples');
const PY_CLIENT = path.join(ROOT, 'test/fixtures/echo_client.py');

beforeAll(() => {
  for (const f of ['01-blocking-client', '02-select-echo-server', '03-epoll-echo-server', '04-selector-echo-server',
    '05-nonblocking-connect', '06-crawler-callbacks', '07-crawler-generators', '08-crawler-async', '09-switch-on-io']) {
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

type Run = { code: number; stdout: string; stderr: string };
function runExample(name: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(DIST, `${name}.js`), ...args], { cwd: ROOT, timeout: 30_000 * TIME_SCALE }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}
/** Bad input: exactly one line on stderr, naming the error, and a non-zero exit; no stack trace. */
function expectOneLineError(r: Run, code: RegExp): void {
  expect(r.code, r.stdout + r.stderr).not.toBe(0);
  expect(r.stderr).toMatch(/^error: [^\n]+\n$/);
  expect(r.stderr).toMatch(code);
  expect(r.stderr + r.stdout).not.toMatch(/^\s+at /m);
}
/** A port some other server holds for the whole test. */
async function takenPort(): Promise<number> {
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  cleanups.push(() => holder.close());
  return (holder.address() as net.AddressInfo).port;
}
const NO_SUCH_HOST = 'no-such-host.invalid'; // .invalid never resolves (RFC 6761)
const UNRESOLVED = /ENOTFOUND|EAI_AGAIN/;

describe('examples 01-04 given bad input', () => {
  it('01: a host that does not resolve is one line and exit 1', async () => {
    expectOneLineError(await runClient([NO_SUCH_HOST, '8801', 'x']), UNRESOLVED);
  });
  for (const name of SERVERS) {
    const backend = /epoll/.test(name) ? 'epoll' : '';
    const skip = WINDOWS ? 'win32: SO_REUSEADDR lets a second socket bind a port in use' : backendMissing(backend);
    itUnless(skip !== '', skip)(`${name}: a port that is taken is one line and exit 1`, async () => {
      expectOneLineError(await runExample(name, [String(await takenPort())]), /EADDRINUSE/);
    });
  }
});

describe('examples/05-nonblocking-connect', () => {
  it('connects to three local servers at once and reads their answers in the order they come (0, 150, 300 ms)', async () => {
    const r = await runExample('05-nonblocking-connect', []);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/in progress \(EINPROGRESS\)|connected at once/g)).toHaveLength(3);
    expect(r.stdout.match(/connected; asking for/g)).toHaveLength(3);
    const answers = [...r.stdout.matchAll(/(\d+) ms: port \d+ answered: HTTP\/1\.1 200 OK, answered after (\d+) ms/g)];
    expect(answers.map((m) => m[2])).toEqual(['0', '150', '300']);
    expect(Number(answers[2][1])).toBeGreaterThanOrEqual(300);
  });
  it('a host that does not resolve, a port that is taken: one line and exit 1', async () => {
    expectOneLineError(await runExample('05-nonblocking-connect', ['--host', NO_SUCH_HOST]), UNRESOLVED);
    expectOneLineError(await runExample('05-nonblocking-connect', ['--port', String(await takenPort())]), /EADDRINUSE/);
  });
});

// A site with faults, on a real Node http server in this process: a 404, a
// response cut off mid-body, and a connection reset before any byte.
async function faultySite(): Promise<number> {
  const server = http.createServer((req, res) => {
    const links = (...to: string[]) => to.map((p) => `<a href="${p}">${p}</a>`).join(' ');
    if (req.url === '/') return res.end(links('/a', '/missing', '/broken', '/reset', '/b', 'http://elsewhere.invalid/x'));
    if (req.url === '/a') return res.end(links('/', '/c', '/b'));
    if (req.url === '/b' || req.url === '/c') return res.end(`page ${req.url}`);
    if (req.url === '/broken') {
      res.writeHead(200, { 'content-length': 1000 });
      res.write('x'.repeat(100));
      return setTimeout(() => res.socket!.destroy(), 50);
    }
    if (req.url === '/reset') return (req.socket as net.Socket).resetAndDestroy();
    res.statusCode = 404;
    res.end('not here');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

const CRAWLERS: Array<[string, string[]]> = [
  ['06-crawler-callbacks', []], ['07-crawler-generators', []], ['08-crawler-async', []], ['09-switch-on-io', []], ['09-switch-on-io', ['--blocking']],
];
for (const [name, extra] of CRAWLERS) {
  describe(`examples/${name} ${extra.join(' ')}`.trim(), () => {
    it('crawls the whole local site it starts itself, every page once', async () => {
      const r = await runExample(name, [...extra, '--pages', '40']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const fetched = [...r.stdout.matchAll(/^fetched (\S+) \(\d+ bytes\)$/gm)].map((m) => m[1]).sort();
      expect(fetched).toEqual(['/', ...Array.from({ length: 39 }, (_, i) => `/page/${i + 1}`)].sort());
      expect(r.stdout).toMatch(/^40 fetched, 0 failed in [\d.]+ ms, CPU [\d.]+ ms$/m);
    });

    it('against a server that answers 404, cuts a response short or resets: those URLs fail, the rest finish', async () => {
      const port = await faultySite();
      const r = await runExample(name, [...extra, `http://127.0.0.1:${port}/`]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^failed \/missing: 404 Not Found$/m);
      expect(r.stdout).toMatch(/^failed \/broken: connection closed mid-response: 100 of 1000 body bytes$/m);
      expect(r.stdout).toMatch(/^failed \/reset: (.*ECONNRESET.*|connection closed with no response)$/m);
      const fetched = [...r.stdout.matchAll(/^fetched (\S+) /gm)].map((m) => m[1]).sort();
      expect(fetched).toEqual(['/', '/a', '/b', '/c']);
      expect(r.stdout).toMatch(/^4 fetched, 3 failed in /m);
    });

    it('a host that does not resolve, a port that is taken, nothing listening: one line or a failed crawl, exit 1', async () => {
      expectOneLineError(await runExample(name, [...extra, `http://${NO_SUCH_HOST}:8080/`]), UNRESOLVED);
      expectOneLineError(await runExample(name, [...extra, '--port', String(await takenPort())]), /EADDRINUSE/);
      const probe = await takenPort();
      for (const c of cleanups.splice(0)) c(); // nobody listens there now
      const r = await runExample(name, [...extra, `http://127.0.0.1:${probe}/`]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^failed \/: .*ECONNREFUSED/m);
      expect(r.stdout).toMatch(/^0 fetched, 1 failed in /m);
    });
  });
}
