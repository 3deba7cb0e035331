// The `iomux` command line as a user meets it (the real bin, spawned): every
// flag of echo, chat, http and crawl with good and bad values, the units, the
// exit codes, help, version, IOMUX_BACKEND, bind errors, AF_UNIX stale sockets,
// and the same signal behaviour and summary layout for the servers.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CommandSpec } from '../src/toolkit/cli';
import { command as chat } from '../src/servers/chat';
import { command as echo } from '../src/servers/echo';
import { command as http } from '../src/servers/http';
import { command as crawl } from '../src/crawler/cli';
import { TIME_SCALE } from './fixtures/time-scale';
import { itUnless, stdioWithStop, stopGracefully, WINDOWS } from './fixtures/platform';

// The flag tests need one poll-style backend besides select: Windows has neither poll nor epoll.
const POLL = WINDOWS ? 'select' : 'poll';
const EPOLL = WINDOWS ? 'select' : 'epoll';
/** On Windows the stop is asked over the IPC channel (no signal can be sent there). */
const STOP_VIA = WINDOWS ? ' (Windows: asked over the IPC channel)' : '';

const BIN = path.resolve(__dirname, '../bin/iomux.js');
const COMMANDS: Record<string, CommandSpec> = { echo, chat, http, crawl };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-cli-'));
const live = new Set<ChildProcess>();
afterEach(() => {
  for (const p of live) p.kill('SIGKILL');
  live.clear();
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Result = { code: number | null; stdout: string; stderr: string };
function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  // Generous: on a loaded 2-core machine a node start alone can take seconds.
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }));
  });
}

/** Starts a server command, resolves with its first stdout line once printed. */
function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ proc: ChildProcess; first: string; out: () => string; stop(sig: NodeJS.Signals): Promise<Result> }> {
  const proc = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: stdioWithStop(['ignore', 'pipe', 'pipe']) });
  live.add(proc);
  let stdout = '';
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no first line from ${args.join(' ')}: ${stderr}`)), 15_000);
    proc.stdout!.setEncoding('utf8').on('data', (d) => {
      const had = stdout.includes('\n');
      stdout += d;
      if (had || !stdout.includes('\n')) return;
      clearTimeout(timer);
      resolve({
        proc,
        first: stdout.slice(0, stdout.indexOf('\n')),
        out: () => stdout,
        async stop(sig) {
          if (sig === 'SIGINT' || sig === 'SIGTERM') stopGracefully(proc, sig);
          else proc.kill(sig);
          const code = await exited;
          return { code, stdout, stderr };
        },
      });
    });
    proc.on('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited ${c} before its first line: ${stderr}`));
    });
  });
}

/** Exit 2; line 1 names the problem (and the flag), line 2 says see --help. */
function expectUsage(r: Result, cmd: string, text: string | RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(2);
  expect(lines[0].startsWith(`iomux ${cmd}: `), lines[0]).toBe(true);
  if (typeof text === 'string') expect(lines[0]).toContain(text);
  else expect(lines[0]).toMatch(text);
  expect(lines[1]).toBe(`iomux ${cmd}: see --help`);
  expect(r.stdout).toBe('');
}

// Every flag with bad values: [flag, value or null for "no value", what the message says].
const BAD: Record<string, Array<[string, string | null, string]>> = {
  echo: [
    ['--backend', 'kqueux', '--backend must be one of select, poll, epoll'],
    ['--host', '', '--host must not be empty'],
    ['--port', '70000', '--port must be an integer from 0 to 65535'],
    ['--port', '-1', '--port needs a value'],
    ['--unix', null, '--unix needs a value'],
    ['--max-connections', '0', '--max-connections must be an integer >= 1'],
    ['--max-connections', '1.5', '--max-connections must be an integer'],
    ['--idle-timeout', '3x', '--idle-timeout must be a duration'],
    ['--idle-timeout', '0', '--idle-timeout must be a duration'],
    ['--stats', '=yes', '--stats takes no value'],
    ['--stats-interval', 'often', '--stats-interval must be a duration'],
    ['--json', '=1', '--json takes no value'],
  ],
  chat: [
    ['--host', null, '--host needs a value'],
    ['--port', 'http', '--port must be an integer from 0 to 65535'],
    ['--backend', 'kqueue2', '--backend must be one of'],
    ['--max-line', 'ten', '--max-line must be a size such as 512, 1k or 2MiB'],
    ['--max-line', '0', '--max-line must be a size'],
    ['--max-clients', '0', '--max-clients must be an integer >= 1'],
    ['--max-backlog', '2XB', '--max-backlog must be a size'],
    ['--json', '=no', '--json takes no value'],
  ],
  http: [
    ['--host', '', '--host must not be empty'],
    ['--port', '65536', '--port must be an integer from 0 to 65535'],
    ['--backend', 'io_urinh', '--backend must be one of'],
    ['--name', null, '--name needs a value'],
    ['--max-connections', 'many', '--max-connections must be an integer >= 1'],
    ['--request-timeout', 'soon', '--request-timeout must be a duration such as 500ms, 5s or 2m'],
    ['--keepalive-timeout', '5 years', '--keepalive-timeout must be a duration'],
    ['--max-header-size', '8 KB please', '--max-header-size must be a size'],
    ['--log', '=all', '--log takes no value'],
    ['--json', '=1', '--json takes no value'],
  ],
  crawl: [
    ['--concurrency', 'lots', '--concurrency must be an integer >= 1'],
    ['--per-host', '0', '--per-host must be an integer >= 1'],
    ['--connect-timeout', '1y', '--connect-timeout must be a duration'],
    ['--timeout', 'x', '--timeout must be a duration'],
    ['--retries', '-2', '--retries needs a value'],
    ['--backend', 'kqueue', '--backend must be one of'],
    ['--style', 'threads', '--style must be one of callbacks, async'],
    ['--out', null, '--out needs a value'],
    ['--no-save', '=1', '--no-save takes no value'],
    ['--json', '=1', '--json takes no value'],
    ['--no-keepalive', '=1', '--no-keepalive takes no value'],
    ['--follow-external', '=1', '--follow-external takes no value'],
    ['--max-pages', '0', '--max-pages must be an integer >= 1'],
    ['--max-depth', 'deep', '--max-depth must be an integer >= 0'],
    ['--max-body', '1 GB!', '--max-body must be a size'],
    ['--ca', '/nonexistent/ca.pem', '--ca /nonexistent/ca.pem: ENOENT'],
    ['--insecure', '=1', '--insecure takes no value'],
    ['--user-agent', '', '--user-agent must not be empty'],
    ['--ignore-robots', '=1', '--ignore-robots takes no value'],
    ['--delay', 'later', '--delay must be a duration'],
    ['--no-assets', '=1', '--no-assets takes no value'],
    ['--layout', 'tree', '--layout must be one of flat, mirror'],
  ],
};

describe('iomux CLI: the flag table of every command', () => {
  for (const [name, spec] of Object.entries(COMMANDS)) {
    it(`${name}: every flag has bad-value cases, each exits 2 with one line naming the flag and "see --help"`, async () => {
      const covered = new Set(BAD[name].map(([f]) => f));
      expect([...covered].sort()).toEqual(Object.keys(spec.flags).map((f) => `--${f}`).sort());
      const url = name === 'crawl' ? ['http://127.0.0.1:1/'] : [];
      // Two at a time: a burst of node starts on a loaded 2-core machine would only test the machine.
      const results: Result[] = [];
      const cases = BAD[name].map(([flag, value]) => [name, ...url, ...(value === null ? [flag] : value.startsWith('=') ? [`${flag}${value}`] : [flag, value])]);
      for (let i = 0; i < cases.length; i += 2) results.push(...(await Promise.all(cases.slice(i, i + 2).map((args) => run(args)))));
      results.forEach((r, i) => expectUsage(r, name, BAD[name][i][2]));
      expectUsage(await run([name, '--bogus', ...url]), name, 'unknown option --bogus');
      expectUsage(await run([name, '-x', ...url]), name, 'unknown option -x');
    }, 240_000);

    it(`${name}: --help lists every flag, -h is the same, --version names both packages; exit 0`, async () => {
      const help = await run([name, '--help']);
      expect(help.code).toBe(0);
      for (const flag of Object.keys(spec.flags)) expect(help.stdout).toContain(`--${flag}`);
      expect(help.stdout).toMatch(/Exit codes: 0 done/);
      expect(help.stdout).toMatch(/TIME: a bare number is milliseconds, or 500ms, 5s, 2m\. BYTES: .*1k, 64KiB, 2MiB/);
      expect((await run([name, '-h'])).stdout).toBe(help.stdout);
      expect((await run(['help', name])).stdout).toBe(help.stdout);
      const v = await run([name, '--version']);
      expect(v.code).toBe(0);
      expect(v.stdout).toMatch(/^iomux-demos \d+\.\d+\.\d+ \(iomux \d+\.\d+\.\d+, node v\d+/);
    });

    it(`${name}: IOMUX_BACKEND=bogus is one clean line and exit 2, never a stack trace`, async () => {
      const r = await run([name, ...(name === 'crawl' ? ['http://127.0.0.1:1/', '--no-save'] : ['--port', '0'])], { IOMUX_BACKEND: 'bogus' });
      expectUsage(r, name, 'IOMUX_BACKEND=bogus: IOMUX_BACKEND must be one of select, poll, epoll');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('iomux help, iomux --version, unknown commands', async () => {
    const top = await run(['help']);
    expect(top.code).toBe(0);
    for (const c of ['echo', 'chat', 'http', 'crawl']) expect(top.stdout).toContain(`  ${c} `);
    expect(top.stdout).toMatch(/Exit codes, the same for every command:\n  0 .*\n  1 .*\n[\s\S]*  2 .*bad usage[\s\S]*  130 /);
    expect((await run(['--help'])).stdout).toBe(top.stdout);
    expect((await run(['--version'])).stdout).toMatch(/^iomux-demos /);
    expectUsage(await run(['help', 'bogus']), 'help', 'unknown command "bogus"');
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('usage: iomux <command>');
    const unknown = await run(['serve']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^iomux: unknown command "serve"/);
  });

  it('crawl: no URL is a usage error', async () => {
    expectUsage(await run(['crawl']), 'crawl', 'give at least one URL');
  });
});

describe('iomux CLI: good values and units reach the servers', () => {
  it(`chat: --max-line 1k, --max-backlog 2MiB, --max-clients 3, --backend ${POLL}`, async () => {
    const s = await serve(['chat', '--json', '--host', '127.0.0.1', '--port', '0', '--backend', POLL, '--max-line', '1k', '--max-backlog', '2MiB', '--max-clients', '3']);
    expect(JSON.parse(s.first)).toMatchObject({ event: 'listening', host: '127.0.0.1', backend: POLL, maxLine: 1024, maxBacklog: 2 * 1024 * 1024, maxClients: 3 });
    expect((await s.stop('SIGTERM')).code).toBe(0);
  });

  it('http: --request-timeout 5s and a bare 1500 (ms), --keepalive-timeout 500ms, --max-header-size 16k, --name, --log', async () => {
    const a = await serve(['http', '--json', '--port', '0', '--request-timeout', '5s', '--keepalive-timeout', '500ms', '--max-header-size', '16k', '--max-connections', '7', '--name', 'cli', '--log', '--backend', 'select']);
    const first = JSON.parse(a.first);
    expect(first).toMatchObject({ event: 'listening', backend: 'select', maxConnections: 7, requestTimeoutMs: 5000 });
    // 10,000 bytes of header: over the default 8 KiB, under 16k.
    const answer = await new Promise<string>((resolve) => {
      const c = net.connect(first.port, '127.0.0.1', () => c.write(`GET /name HTTP/1.1\r\nHost: a\r\nX-Pad: ${'p'.repeat(10_000)}\r\nConnection: close\r\n\r\n`));
      let got = '';
      c.setEncoding('latin1').on('data', (d) => (got += d)).on('close', () => resolve(got));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\ncli\n$/);
    expect((await a.stop('SIGTERM')).code).toBe(0);
    const b = await serve(['http', '--json', '--port', '0', '--request-timeout', '1500']);
    expect(JSON.parse(b.first).requestTimeoutMs).toBe(1500);
    expect((await b.stop('SIGTERM')).code).toBe(0);
  });

  it(`echo: --idle-timeout 300ms closes an idle client; --stats --stats-interval 100ms prints stats; --max-connections 2, --backend ${EPOLL}`, async () => {
    const s = await serve(['echo', '--json', '--port', '0', '--idle-timeout', '300ms', '--stats', '--stats-interval', '100ms', '--max-connections', '2', '--backend', EPOLL]);
    const { port } = JSON.parse(s.first);
    const t0 = performance.now();
    await new Promise<void>((resolve) => net.connect(port, '127.0.0.1').on('close', () => resolve()).on('error', () => {}));
    const idle = performance.now() - t0;
    expect(idle).toBeGreaterThanOrEqual(250);
    expect(idle).toBeLessThan(3000);
    const r = await s.stop('SIGINT');
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.event === 'stats').length).toBeGreaterThanOrEqual(2);
    expect(events.at(-1)).toMatchObject({ event: 'stopped', signal: 'SIGINT', idleTimeouts: 1 });
  });
});

describe('iomux CLI: signals and summaries', () => {
  for (const [name, port] of [['echo', '0'], ['chat', '0'], ['http', '0']] as const) {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      it(`${name}: ${sig} stops it with "stopped by ${sig}: ..." and "  key: value" rows, exit 0${STOP_VIA}`, async () => {
        const s = await serve([name, '--port', port]);
        expect(s.first).toMatch(/^listening on /);
        const r = await s.stop(sig);
        expect(r.code).toBe(0);
        const lines = r.stdout.trimEnd().split('\n');
        const head = lines.findIndex((l) => l.startsWith('stopped by '));
        expect(lines[head]).toMatch(new RegExp(`^stopped by ${sig}: \\d+ `));
        expect(lines.slice(head + 1).length).toBeGreaterThanOrEqual(1);
        for (const row of lines.slice(head + 1)) expect(row).toMatch(/^ {2}[a-z][a-z ]*: \S/);
        expect(r.stderr).toBe('');
      });
    }
  }

  it('a stop asked over an IPC channel (the Windows way) is the same stop; other messages are ignored; the channel keeps nothing alive', async () => {
    const proc = spawn(process.execPath, [BIN, 'echo', '--json', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    live.add(proc);
    let out = '';
    const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('echo did not start')), 15_000 * TIME_SCALE);
      proc.stdout!.setEncoding('utf8').on('data', (d) => {
        out += d;
        if (out.includes('\n')) { clearTimeout(t); resolve(); }
      });
    });
    proc.send('SIGTERM');
    proc.send({ signal: 'SIGKILL' });
    proc.send({ hello: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(proc.exitCode).toBeNull(); // still serving
    proc.send({ signal: 'SIGINT' });
    expect(await exited).toBe(0);
    const events = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ event: 'stopped', signal: 'SIGINT' });
  });
});

describe('iomux CLI: listening errors name the address', () => {
  for (const name of ['echo', 'chat', 'http']) {
    it(`${name}: a taken port is "bind EADDRINUSE 127.0.0.1:PORT", exit 1`, async () => {
      const holder = net.createServer();
      await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
      const { port } = holder.address() as net.AddressInfo;
      try {
        const r = await run([name, '--port', String(port)]);
        expect(r.code).toBe(1);
        expect(r.stderr).toBe(`iomux ${name}: bind EADDRINUSE 127.0.0.1:${port}\n`);
      } finally {
        holder.close();
      }
    });
  }

  itUnless(WINDOWS, 'AF_UNIX socket files and a python3 peer: POSIX only')('echo --unix: a stale socket file is replaced; a live one or a regular file is refused and left alone', async () => {
    const stale = path.join(tmp, 'stale.sock');
    // python3 binds and exits without unlinking: the file stays, nobody accepts.
    execFileSync('python3', ['-c', `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(stale)}); s.listen(1)`]);
    expect(fs.lstatSync(stale).isSocket()).toBe(true);
    const s = await serve(['echo', '--unix', stale]);
    expect(s.first).toMatch(new RegExp(`^listening on ${stale.replace(/[.]/g, '\\.')} `));
    // While it runs, a second server on the same path is refused: somebody accepts there.
    const second = await run(['echo', '--unix', stale]);
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(`iomux echo: bind EADDRINUSE ${stale} (another server accepts on it)\n`);
    expect((await s.stop('SIGTERM')).code).toBe(0);
    expect(fs.existsSync(stale)).toBe(false); // removed on exit

    const file = path.join(tmp, 'not-a-socket');
    fs.writeFileSync(file, 'precious');
    const r = await run(['echo', '--unix', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`iomux echo: bind EADDRINUSE ${file} (exists and is not a socket)\n`);
    expect(fs.readFileSync(file, 'utf8')).toBe('precious');
  });
});
