// `iomux http` as a child process against clients we did not write: Node's
// http module (keep-alive agent), curl, python3 sockets and raw net sockets for
// pipelining and every error status.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { killDemos, startDemo } from './fixtures/demo-proc';
import { TIME_SCALE } from './fixtures/time-scale';
import { eachBackend, itCurl, itPosixSignals, itPython3 } from './fixtures/platform';

const sockets: net.Socket[] = [];
const agents: http.Agent[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const a of agents.splice(0)) a.destroy();
  killDemos();
});

interface Raw {
  /** Everything received until the server closed (or the wait ended). */
  text: string;
  closed: boolean;
  ms: number;
}

/** Sends bytes (in pieces, with pauses, if asked), then collects the answer until the server closes. */
function raw(port: number, pieces: Array<string | Buffer>, opts: { waitMs?: number; pauseMs?: number } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const s = net.connect(port, '127.0.0.1');
    sockets.push(s);
    const chunks: Buffer[] = [];
    let closed = false;
    const done = () => resolve({ text: Buffer.concat(chunks).toString('latin1'), closed, ms: Date.now() - start });
    const timer = setTimeout(done, opts.waitMs ?? 5000);
    s.on('data', (d) => chunks.push(d));
    s.on('error', (err) => {
      // A reset after the answer counts as closed; before it, it is a failure.
      if (chunks.length === 0) reject(err);
    });
    s.on('close', () => {
      closed = true;
      clearTimeout(timer);
      done();
    });
    s.on('connect', async () => {
      for (const p of pieces) {
        if (s.destroyed) return;
        s.write(p);
        if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
      }
    });
  });
}

interface Resp {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits a byte stream of responses using each one's Content-Length (HEAD answers have no body). */
function responses(text: string, heads: boolean[] = []): Resp[] {
  const out: Resp[] = [];
  let pos = 0;
  while (pos < text.length) {
    const end = text.indexOf('\r\n\r\n', pos);
    if (end < 0) throw new Error(`incomplete response: ${JSON.stringify(text.slice(pos))}`);
    const [statusLine, ...lines] = text.slice(pos, end).split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3}) [A-Za-z ]+$/.exec(statusLine);
    if (!m) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const c = l.indexOf(':');
      headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
    }
    const len = heads[out.length] ? 0 : Number(headers['content-length']);
    out.push({ status: Number(m[1]), headers, body: text.slice(end + 4, end + 4 + len) });
    pos = end + 4 + len;
  }
  return out;
}

function curl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/curl', ['--max-time', '10', '-sS', ...args], (err, stdout, stderr) => (err ? reject(err) : resolve({ stdout, stderr })));
  });
}

function get(agent: http.Agent, port: number, path: string, method = 'GET', body?: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; socket: net.Socket }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent, headers }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: data, socket: req.socket! }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('iomux http with real clients', () => {
  it('Node http keep-alive agent: many requests, one connection, correct headers', async () => {
    const demo = await startDemo('http');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    const seen = new Set<net.Socket>();
    for (let i = 0; i < 60; i++) {
      const path = ['/', '/name', `/name?name=n${i}`][i % 3];
      const r = await get(agent, demo.port, path);
      seen.add(r.socket);
      expect(r.status).toBe(200);
      expect(r.body).toBe(['Hello, world!\n', 'iomux\n', `n${i}\n`][i % 3]);
      expect(r.headers['content-length']).toBe(String(Buffer.byteLength(r.body)));
      expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(r.headers.server).toBe('iomux');
      expect(Math.abs(Date.parse(r.headers.date!) - Date.now())).toBeLessThan(5000);
      expect(r.headers.connection).not.toBe('close');
    }
    expect(seen.size).toBe(1);
    agent.destroy();
    const { code, summary } = await demo.stop();
    expect(code).toBe(0);
    expect(summary).toMatchObject({ connections: 1, requests: 60, statuses: { 200: 60 } });
  });

  it('request bodies (Content-Length and chunked) are read and discarded; the connection stays usable', async () => {
    const demo = await startDemo('http');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    const post = await get(agent, demo.port, '/', 'POST', 'x'.repeat(100_000), { 'Content-Length': '100000' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    // No Content-Length: Node's client sends the body chunked.
    const chunked = await get(agent, demo.port, '/nowhere', 'PUT', 'y'.repeat(70_000));
    expect(chunked.status).toBe(404);
    const after = await get(agent, demo.port, '/');
    expect(after.body).toBe('Hello, world!\n');
    expect(new Set([post.socket, chunked.socket, after.socket]).size).toBe(1);
    agent.destroy();
    const { summary } = await demo.stop();
    expect(summary).toMatchObject({ connections: 1, requests: 3 });
    expect(summary!.bytesIn).toBeGreaterThan(170_000);
  });

  itCurl('curl: GET, HEAD (-I), --http1.0, and several URLs on one reused connection', async () => {
    const demo = await startDemo('http', ['--name', 'Grace']);
    const base = `http://127.0.0.1:${demo.port}`;
    expect((await curl([`${base}/`])).stdout).toBe('Hello, world!\n');
    expect((await curl([`${base}/name`])).stdout).toBe('Grace\n');
    expect((await curl([`${base}/name?name=Ada%20Lovelace`])).stdout).toBe('Ada Lovelace\n');

    const head = await curl(['-I', `${base}/name`]);
    expect(head.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head.stdout).toMatch(/\r\nContent-Length: 6\r\n/);
    expect(head.stdout.endsWith('\r\n\r\n')).toBe(true); // headers only

    const old = await curl(['-i', '--http1.0', `${base}/`]);
    expect(old.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(old.stdout).toMatch(/\r\nConnection: close\r\n/);
    expect(old.stdout.endsWith('\r\n\r\nHello, world!\n')).toBe(true);

    const missing = await curl(['-i', `${base}/missing`]);
    expect(missing.stdout).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);

    const before = (await demo.stop()).summary!;
    expect(before.connections).toBe(6);

    const demo2 = await startDemo('http');
    const base2 = `http://127.0.0.1:${demo2.port}`;
    const many = await curl(['-v', `${base2}/`, `${base2}/name`, `${base2}/nope`, `${base2}/`]);
    expect(many.stdout).toBe('Hello, world!\niomux\nNot Found: /nope\nHello, world!\n');
    expect(many.stderr.match(/Re-using existing connection/g)?.length).toBe(3);
    const { summary } = await demo2.stop();
    expect(summary).toMatchObject({ connections: 1, requests: 4, statuses: { 200: 3, 404: 1 } });
  });

  itPython3('pipelining from python3: several requests in one write are answered in order', async () => {
    const demo = await startDemo('http');
    const script = `
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n"
          b"HEAD /name HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n"
          b"GET /name?name=Zo%C3%AB HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n"
          b"POST /name HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 5\\r\\n\\r\\nhello"
          b"GET /missing HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n"
          b"GET /name HTTP/1.0\\r\\n\\r\\n"
          b"GET /never-answered HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n")
data = b""
s.settimeout(10)
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
sys.stdout.write(data.decode("latin1"))
`;
    const out = await new Promise<string>((resolve, reject) => {
      execFile('python3', ['-c', script, String(demo.port)], { timeout: 15_000 * TIME_SCALE }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    const rs = responses(out, [false, true, false, false, false, false]);
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 405, 404, 200]);
    expect(rs.map((r) => r.body)).toEqual(['Hello, world!\n', '', Buffer.from('Zoë\n').toString('latin1'), 'Method Not Allowed: POST\n', 'Not Found: /missing\n', 'iomux\n']);
    expect(rs[1].headers['content-length']).toBe('6');
    // The HTTP/1.0 request without keep-alive was the last one answered.
    expect(rs[5].headers.connection).toBe('close');
    expect(rs.slice(0, 5).every((r) => r.headers.connection === undefined)).toBe(true);
    await demo.stop();
  });

  it('HTTP/1.0 with Connection: keep-alive stays open; Connection: close is honoured', async () => {
    const demo = await startDemo('http');
    const r = await raw(demo.port, [
      'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
      'GET /name HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    ], { pauseMs: 100 });
    expect(r.closed).toBe(true);
    const rs = responses(r.text);
    expect(rs.map((x) => [x.status, x.headers.connection])).toEqual([[200, 'keep-alive'], [200, 'close']]);
    await demo.stop();
  });
});

describe('iomux http error statuses', () => {
  it.each([
    ['a bad request line', 'GET /index.html\r\n\r\n'],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: a\r\nthis is not a header\r\n\r\n'],
    ['a bad Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12abc\r\n\r\n'],
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['a missing Host', 'GET / HTTP/1.1\r\n\r\n'],
    ['a TLS ClientHello', Buffer.from('16030100f4010000f00303' + 'ab'.repeat(200), 'hex')],
  ])('400 and close for %s', async (_what, req) => {
    const demo = await startDemo('http');
    const r = await raw(demo.port, [req]);
    expect(r.closed).toBe(true);
    const [resp] = responses(r.text);
    expect(resp.status).toBe(400);
    expect(resp.headers.connection).toBe('close');
    expect(resp.body).toMatch(/^Bad Request: /);
    await demo.stop();
  });

  it('answers the good requests before a malformed one, then 400 and close', async () => {
    const demo = await startDemo('http');
    const r = await raw(demo.port, ['GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost : a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n']);
    expect(responses(r.text).map((x) => x.status)).toEqual([200, 400]);
    expect(r.closed).toBe(true);
    await demo.stop();
  });

  it('431 and close for oversized headers (--max-header-size), the client still sending', async () => {
    const demo = await startDemo('http', ['--max-header-size', '4096']);
    const r = await raw(demo.port, [`GET / HTTP/1.1\r\nHost: a\r\nCookie: ${'c'.repeat(5000)}\r\n`, `X-More: ${'m'.repeat(100_000)}\r\n\r\n`]);
    const [resp] = responses(r.text);
    expect(resp.status).toBe(431);
    expect(resp.headers.connection).toBe('close');
    expect(r.closed).toBe(true);
    const ok = await raw(demo.port, [`GET / HTTP/1.1\r\nHost: a\r\nCookie: ${'c'.repeat(3000)}\r\nConnection: close\r\n\r\n`]);
    expect(responses(ok.text)[0].status).toBe(200);
    await demo.stop();
  });

  it('404, 405 and 505', async () => {
    const demo = await startDemo('http');
    const r = await raw(demo.port, ['GET /nope HTTP/1.1\r\nHost: a\r\n\r\nDELETE / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/2.0\r\n\r\n']);
    const rs = responses(r.text);
    expect(rs.map((x) => x.status)).toEqual([404, 405, 505]);
    expect(rs[1].headers.allow).toBe('GET, HEAD');
    expect(r.closed).toBe(true);
    await demo.stop();
  });

  it('408 and close for a client too slow to send its request (--request-timeout)', async () => {
    const demo = await startDemo('http', ['--request-timeout', '600']);
    // Half a request, then silence; and a request dribbled too slowly to finish in time.
    const [half, dribble] = await Promise.all([
      raw(demo.port, ['GET / HTTP/1.1\r\nHost: a\r\n'], { waitMs: 8000 }),
      raw(demo.port, 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: 1234567890\r\n\r\n'.split(''), { waitMs: 8000, pauseMs: 50 }),
    ]);
    for (const r of [half, dribble]) {
      expect(r.closed).toBe(true);
      const [resp] = responses(r.text);
      expect(resp.status).toBe(408);
      expect(resp.headers.connection).toBe('close');
      expect(r.ms).toBeGreaterThanOrEqual(550);
      expect(r.ms).toBeLessThan(5000);
    }
    // A whole request followed by half of the next: the first is answered, the second times out.
    const pipelined = await raw(demo.port, ['GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /name HTTP/1.1\r\nHo'], { waitMs: 8000 });
    expect(responses(pipelined.text).map((x) => x.status)).toEqual([200, 408]);
    expect(pipelined.closed).toBe(true);
    // A prompt client on the same server is unaffected.
    const ok = await raw(demo.port, ['GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);
    expect(responses(ok.text)[0].status).toBe(200);
    const { summary } = await demo.stop();
    expect(summary!.statuses['408']).toBe(3);
  });

  it('an idle persistent connection is closed quietly after --keepalive-timeout', async () => {
    const demo = await startDemo('http', ['--keepalive-timeout', '0.3s']);
    const r = await raw(demo.port, ['GET / HTTP/1.1\r\nHost: a\r\n\r\n'], { waitMs: 8000 });
    expect(r.closed).toBe(true);
    expect(responses(r.text).map((x) => x.status)).toEqual([200]);
    expect(r.ms).toBeGreaterThanOrEqual(250);
    expect(r.ms).toBeLessThan(5000);
    await demo.stop();
  });

  it('--max-connections: an extra connection gets 503 and is closed; a freed slot serves again', async () => {
    const demo = await startDemo('http', ['--max-connections', '2']);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    agents.push(agent);
    const held = await Promise.all([get(agent, demo.port, '/'), get(agent, demo.port, '/name')]);
    expect(held.map((h) => h.status)).toEqual([200, 200]);
    expect(new Set(held.map((h) => h.socket)).size).toBe(2);

    const extra = await raw(demo.port, ['GET / HTTP/1.1\r\nHost: a\r\n\r\n']);
    const [resp] = responses(extra.text);
    expect(resp.status).toBe(503);
    expect(resp.headers['retry-after']).toBe('1');
    expect(resp.headers.connection).toBe('close');
    expect(extra.closed).toBe(true);

    agent.destroy(); // frees both slots
    await new Promise((r) => setTimeout(r, 200));
    const again = await raw(demo.port, ['GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);
    expect(responses(again.text)[0].status).toBe(200);
    const { summary } = await demo.stop();
    expect(summary).toMatchObject({ refused: 1, peakConnections: 2, statuses: { 503: 1 } });
  });

  it('random garbage on many connections never stops the server from serving others', async () => {
    // Junk that happens to start like a method ("Xy7 ...") and has no line end is
    // a slow request: the short timeout makes it a prompt 408.
    const demo = await startDemo('http', ['--request-timeout', '2s']);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    const garbage = Array.from({ length: 30 }, (_, i) => {
      const junk = randomBytes(100 + i * 211);
      const pieces = [junk.subarray(0, 50), junk.subarray(50)];
      return raw(demo.port, i % 3 === 0 ? [Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), junk])] : pieces, { waitMs: 8000 });
    });
    const good = (async () => {
      for (let i = 0; i < 20; i++) expect((await get(agent, demo.port, '/')).status).toBe(200);
    })();
    const results = await Promise.all(garbage);
    await good;
    for (const r of results) {
      expect(r.closed).toBe(true);
      // Whatever came back is well-formed HTTP; the last answer is an error status.
      const rs = responses(r.text);
      if (rs.length > 0) expect(rs[rs.length - 1].status).toBeGreaterThanOrEqual(400);
    }
    const { code } = await demo.stop();
    expect(code).toBe(0);
  });

  eachBackend(['select', 'poll', 'epoll'], 'keep-alive and pipelining on the %s backend', async (backend) => {
    const demo = await startDemo('http', ['--backend', backend]);
    expect(demo.events[0]).toMatchObject({ event: 'listening', backend });
    const many = Array.from({ length: 50 }, (_, i) => `GET /name?name=r${i} HTTP/1.1\r\nHost: a\r\n\r\n`).join('');
    const r = await raw(demo.port, [many, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);
    const rs = responses(r.text);
    expect(rs.length).toBe(51);
    expect(rs.slice(0, 50).map((x) => x.body)).toEqual(Array.from({ length: 50 }, (_, i) => `r${i}\n`));
    const { summary } = await demo.stop();
    expect(summary).toMatchObject({ connections: 1, requests: 51 });
  });

  it('a client that pipelines thousands of requests without reading is read no further until it reads; all answers arrive in order', async () => {
    const demo = await startDemo('http');
    const N = 5000;
    const s = net.connect(demo.port, '127.0.0.1');
    sockets.push(s);
    s.pause();
    await new Promise((r) => s.once('connect', r));
    const reqs = Array.from({ length: N }, (_, i) => `GET /name?name=${i} HTTP/1.1\r\nHost: a\r\n\r\n`).join('');
    s.write(reqs + 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    await new Promise((r) => setTimeout(r, 500)); // the server fills its buffers and stops reading
    const chunks: Buffer[] = [];
    s.on('data', (d) => chunks.push(d));
    s.resume();
    await new Promise((r) => s.once('close', r));
    const rs = responses(Buffer.concat(chunks).toString('latin1'));
    expect(rs.length).toBe(N + 1);
    for (let i = 0; i < N; i++) if (rs[i].body !== `${i}\n`) throw new Error(`answer ${i} is ${JSON.stringify(rs[i].body)}`);
    const { summary } = await demo.stop();
    expect(summary).toMatchObject({ connections: 1, requests: N + 1 });
  });

  it('bad options exit with status 2', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        execFile(process.execPath, [require.resolve('../bin/iomux.js'), 'http', ...args], (err, _out, stderr) =>
          resolve({ code: err ? (err as { code?: number }).code ?? null : 0, err: stderr }),
        );
      });
    expect(await run(['--request-timeout', 'soon'])).toMatchObject({ code: 2, err: expect.stringContaining('--request-timeout') });
    expect(await run(['--max-connections', '0'])).toMatchObject({ code: 2, err: expect.stringContaining('--max-connections') });
    expect(await run(['--port', '70000'])).toMatchObject({ code: 2 });
  });

  itPosixSignals('SIGINT stops a server that is waiting in the selector, with a summary', async () => {
    const demo = await startDemo('http');
    const exited = new Promise<number | null>((resolve) => demo.proc.on('exit', resolve));
    const start = Date.now();
    demo.proc.kill('SIGINT');
    const code = await exited;
    expect(code).toBe(0);
    expect(Date.now() - start).toBeLessThan(3000);
    expect(demo.events.at(-1)).toMatchObject({ event: 'stopped', signal: 'SIGINT', connections: 0 });
  });
});
