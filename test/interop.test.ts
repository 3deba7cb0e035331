// Sharing fds with Node's own code, as the README's "Working with net and
// child_process" recipes do, with real net servers/sockets and child processes;
// and what console.log shows for a Socket and a selector.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DefaultSelector, EVENT_READ, Socket, close, createConnection, createServer, getBlocking, pipe, setBlocking, socketpair,
} from '../src/ts/index';
import { waitReadable } from './socket-helpers';
import { LINUX, WINDOWS, itPipes, itProcFs, itUnless } from './platform';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function fdOpen(fd: number): boolean {
  return fs.existsSync(`/proc/self/fd/${fd}`);
}

describe('child_process', () => {
  itPipes("an iomux pipe() end as a child's stdout: the parent watches the read end with a selector", async () => {
    const [r, w] = pipe();
    cleanups.push(() => close(r));
    const child = spawn('sh', ['-c', 'printf one; sleep 0.05; printf two'], { stdio: ['ignore', w, 'inherit'] });
    // Listen now: the child's exit and the pipe's EOF come in the same loop turn, in
    // either order, and an 'exit' emitted before a late once() is never seen.
    const exited = new Promise((res) => child.once('exit', res));
    // The child has its own copy now; the parent's write end must go, or EOF never comes.
    close(w);
    setBlocking(r, false);
    const sel = new DefaultSelector();
    cleanups.push(() => sel.close());
    sel.register(r, EVENT_READ);
    let out = '';
    for (;;) {
      const ready = await sel.selectAsync(5000);
      expect(ready.length).toBe(1);
      const buf = Buffer.alloc(64);
      const n = fs.readSync(r, buf);
      if (n === 0) break;
      out += buf.toString('utf8', 0, n);
    }
    expect(out).toBe('onetwo');
    await exited;
  });

  itProcFs('fds iomux makes are close-on-exec: a child does not inherit a socket it was not given', async () => {
    const [a, b] = socketpair();
    cleanups.push(() => {
      a.close();
      b.close();
    });
    const child = spawn('sh', ['-c', 'ls /proc/self/fd'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await new Promise((res) => child.once('close', res));
    const fds = out.split(/\s+/);
    expect(fds).not.toContain(String(a.fileno()));
    expect(fds).not.toContain(String(b.fileno()));
  });
});

describe('net', () => {
  itUnless(WINDOWS, "Node's net on Windows takes no socket handle as fd (Unsupported fd type)")('new net.Socket({ fd: s.detach() }): an iomux-connected socket handed over to net', async () => {
    const srv = net.createServer((c) => c.pipe(c));
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
    cleanups.push(() => new Promise<void>((res) => srv.close(() => res())));
    const s = createConnection(['127.0.0.1', (srv.address() as net.AddressInfo).port]);
    const fd = s.detach();
    expect(s.closed).toBe(true);
    const ns = new net.Socket({ fd, readable: true, writable: true });
    const echoed = await new Promise<string>((res, rej) => {
      ns.once('data', (d) => res(d.toString()));
      ns.once('error', rej);
      ns.write('through net');
    });
    expect(echoed).toBe('through net');
    ns.destroy();
    await new Promise((res) => ns.once('close', res));
    expect(fdOpen(fd)).toBe(false); // net owned it and closed it; iomux did not close it twice
  });

  itUnless(WINDOWS, "Node documents listen({ fd }) as not supported on Windows")('net.Server#listen({ fd }): an iomux listener (createServer) served by net', async () => {
    const lst = createServer(['127.0.0.1', 0]);
    const [, port] = lst.getsockname() as [string, number];
    const srv = net.createServer((c) => c.end('served by net'));
    await new Promise<void>((res) => srv.listen({ fd: lst.detach() }, res));
    cleanups.push(() => new Promise<void>((res) => srv.close(() => res())));
    const got = await new Promise<string>((res, rej) => {
      let all = '';
      net.connect(port, '127.0.0.1').on('data', (d) => (all += d)).on('end', () => res(all)).on('error', rej);
    });
    expect(got).toBe('served by net');
  });

  itUnless(WINDOWS, 'libuv keeps no fd on a Windows net handle (_handle.fd is -1)')('taking a socket from net: Socket.fromFd + dup gives iomux its own fd, which outlives the net socket', async () => {
    let peer: net.Socket | undefined;
    const srv = net.createServer((c) => (peer = c));
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
    cleanups.push(() => new Promise<void>((res) => srv.close(() => res())));
    const ns = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((res) => ns.once('connect', res));
    // The fd of a net.Socket is not public API; libuv keeps it on the handle (POSIX).
    const netFd = (ns as unknown as { _handle: { fd: number } })._handle.fd;
    ns.pause();
    const borrowed = Socket.fromFd(netFd);
    const mine = borrowed.dup();
    borrowed.detach(); // net still owns netFd: iomux must never close it
    cleanups.push(() => mine.close());
    expect(mine.getTimeout()).toBe(0); // libuv's O_NONBLOCK is shared by the duplicate
    ns.destroy();
    await new Promise((res) => ns.once('close', res));
    mine.setBlocking(true);
    mine.sendAll(Buffer.from('after net let go'));
    await new Promise<void>((res) => setTimeout(res, 20));
    const got = await new Promise<string>((res) => peer!.once('data', (d) => res(d.toString())));
    expect(got).toBe('after net let go');
    peer!.end('bye');
    waitReadable(mine);
    expect(mine.recv(10)!.toString()).toBe('bye');
  });
});

describe('setBlocking(fd) on non-socket fds', () => {
  itProcFs('a pty master (tty-like) and a pipe: O_NONBLOCK switched and read back', () => {
    const ptm = fs.openSync('/dev/ptmx', fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    cleanups.push(() => fs.closeSync(ptm));
    expect(getBlocking(ptm)).toBe(true);
    setBlocking(ptm, false);
    expect(getBlocking(ptm)).toBe(false);
    expect(fs.readFileSync(`/proc/self/fdinfo/${ptm}`, 'utf8')).toMatch(/flags:\s+[0-7]*[4-7][0-7]{3}\n/);
    setBlocking(ptm, true);
    expect(getBlocking(ptm)).toBe(true);
  });
});

describe('util.inspect', () => {
  it('a Socket shows fd, family, type, blocking, timeout and its addresses; a closed one says so', () => {
    const srv = createServer(['127.0.0.1', 0]);
    cleanups.push(() => srv.close());
    const c = createConnection(srv.getsockname() as [string, number], { timeoutMs: 500 });
    cleanups.push(() => c.close());
    const text = inspect(c);
    expect(text).toMatch(/^Socket \{/);
    expect(text).toContain(`fd: ${c.fileno()}`);
    expect(text).toContain("family: 'AF_INET'");
    expect(text).toContain("type: 'SOCK_STREAM'");
    expect(text).toContain('blocking: true');
    expect(text).toContain('timeout: 500');
    expect(text).toMatch(/local: \[ '127\.0\.0\.1', \d+ \]/);
    expect(text).toContain(`remote: [ '127.0.0.1', ${(srv.getsockname() as [string, number])[1]} ]`);
    const d = c.dup();
    d.close();
    expect(inspect(d)).toContain('closed: true');
  });

  it('a selector shows its backend and key count, not its native results array', () => {
    const sel = new DefaultSelector();
    cleanups.push(() => sel.close());
    const [a, b] = socketpair();
    cleanups.push(() => {
      a.close();
      b.close();
    });
    sel.register(a, EVENT_READ);
    sel.register(b, EVENT_READ);
    const text = inspect(sel);
    // The platform's default: epoll on Linux, select() on Windows.
    const [cls, backend] = LINUX ? ['EpollSelector', 'epoll'] : WINDOWS ? ['SelectSelector', 'select'] : ['PollSelector', 'poll'];
    expect(text).toMatch(new RegExp(`^${cls} \\{`));
    expect(text).toContain(`backend: '${backend}'`);
    expect(text).toContain('keys: 2');
    expect(text).not.toContain('Int32Array');
    expect(text.length).toBeLessThan(200);
  });
});
