// scripts/bench/echo-server-c.c, the C baseline of bench:echo, on both of its
// mechanisms: it must echo every byte, hold back (stop reading) while a client
// does not read, and on select close the connections whose fds do not fit an
// fd_set, as iomux's select backend refuses them. Real sockets from Node's net.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const FD_SETSIZE = 1024;
let dir: string | undefined;
let exe: string;
const servers: ChildProcess[] = [];

const linux = process.platform === 'linux';

beforeAll(() => {
  if (!linux) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-echo-server-c-'));
  exe = path.join(dir, 'echo-server-c');
  const cc = process.env.CC || 'cc';
  const r = spawnSync(cc, ['-O2', '-Wall', '-Werror', '-o', exe, path.join(ROOT, 'scripts/bench/echo-server-c.c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cc} scripts/bench/echo-server-c.c failed:\n${r.stderr}`);
});

afterAll(() => {
  for (const s of servers) s.kill('SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts the server; resolves with its port and pid once it prints where it listens. */
function start(mechanism: string): Promise<{ port: number; pid: number }> {
  const child = spawn(exe, ['--mechanism', mechanism, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`echo-server-c exited (${code}) before listening`)));
    child.stdout!.setEncoding('utf8').once('data', (line: string) => resolve(JSON.parse(line.split('\n')[0])));
  });
}

/** Sends one byte; resolves 'echoed' when it comes back, 'closed' when the server closes instead. */
function ping(port: number): Promise<{ sock: net.Socket; outcome: 'echoed' | 'closed' }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write('x'));
    sock.once('data', (d) => resolve({ sock, outcome: d.toString() === 'x' ? 'echoed' : 'closed' }));
    sock.once('end', () => resolve({ sock, outcome: 'closed' }));
    sock.once('error', () => resolve({ sock, outcome: 'closed' })); // ECONNRESET: closed with our byte unread
  });
}

// Read where the tests run (Linux); at load elsewhere there may be no /bin/sh (Windows).
const hardNofile = linux ? Number(spawnSync('/bin/sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim().replace('unlimited', 'Infinity')) : Infinity;

describe.skipIf(!linux).each(['epoll', 'select'])('echo-server-c --mechanism %s (the bench is Linux-only: epoll, /proc)', (mechanism) => {
  it('echoes 16 MiB sent while the client does not read, every byte in order', async () => {
    const { port } = await start(mechanism);
    const data = crypto.randomBytes(16 << 20);
    const sock = net.connect(port, '127.0.0.1');
    sock.pause(); // the server's sends must fill up and be kept (partial writes) while we do not read
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    sock.write(data);
    await new Promise((r) => setTimeout(r, 300));
    const chunks: Buffer[] = [];
    let got = 0;
    await new Promise<void>((resolve, reject) => {
      sock.on('data', (d: Buffer) => {
        chunks.push(d);
        got += d.length;
        if (got >= data.length) resolve();
      });
      sock.once('error', reject);
      sock.resume();
    });
    sock.destroy();
    expect(got).toBe(data.length);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it.skipIf(hardNofile < 1300)(`holds 1,100 connections on epoll; on select closes those with fds >= FD_SETSIZE (needs RLIMIT_NOFILE >= 1300)`, async () => {
    const { port, pid } = await start(mechanism);
    // fds the server holds before any connection (stdio, the listener, anything inherited):
    // connections take the lowest free fds, so FD_SETSIZE minus these fit an fd_set.
    const held = fs.readdirSync(`/proc/${pid}/fd`).length;
    const results: { sock: net.Socket; outcome: string }[] = [];
    // In batches, so the listen backlog never overflows into SYN retransmits.
    for (let i = 0; i < 1100; i += 100) results.push(...(await Promise.all(Array.from({ length: 100 }, () => ping(port)))));
    const echoed = results.filter((r) => r.outcome === 'echoed').length;
    for (const r of results) r.sock.destroy();
    expect(echoed).toBe(mechanism === 'select' ? FD_SETSIZE - held : 1100);
  });
});

it.skipIf(!linux)('echo-server-c (Linux-only, as the bench) refuses an unknown mechanism and a flag without a value (exit 2)', () => {
  for (const args of [['--mechanism', 'kqueue'], ['--port']]) {
    const r = spawnSync(exe, args, { encoding: 'utf8', timeout: 5000 });
    expect(r.status, args.join(' ')).toBe(2);
    expect(r.stderr).toMatch(/^echo-server-c: /);
  }
});
