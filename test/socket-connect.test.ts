// createConnection/createServer/hasDualstackIpv6, connect/bind errors that name
// the address, wrong-family literals, IPv6 scope ids, listen backlog and
// Python's settimeout semantics. Ported from CPython's Lib/test/test_socket.py:
// NetworkConnectionAttemptsTest (test_connect, test_create_connection,
// test_create_connection_timeout), CreateServerTest / CreateServerFunctionalTest,
// GeneralModuleTests.test_listen_backlog, TCPTimeoutTest, UDPTimeoutTest.
import { execFileSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AF_INET, AF_INET6, AF_UNIX, IPPROTO_IPV6, IPV6_V6ONLY, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SOMAXCONN, SO_REUSEADDR,
  SO_RCVBUF, SO_REUSEPORT, SO_SNDBUF, Socket, createConnection, createServer, hasDualstackIpv6, socketpair,
} from '../src/ts/index';
import { catchError, expectSystemError, tempDir } from './socket-helpers';
import { WINDOWS, itPosixProcess, itPython3AndSs, itUnixSockets } from './platform';

const opened: Socket[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});
function track<S extends Socket>(s: S): S {
  opened.push(s);
  return s;
}
function freePort(): number {
  const s = new Socket();
  s.bind(['127.0.0.1', 0]);
  const port = (s.getsockname() as [string, number])[1];
  s.close();
  return port;
}

describe('errors name the address (as Node does)', () => {
  it('connect ECONNREFUSED 127.0.0.1:<port>, with address and port properties (NetworkConnectionAttemptsTest.test_connect)', () => {
    const port = freePort();
    const err = catchError(() => track(new Socket()).connect(['127.0.0.1', port])) as NodeJS.ErrnoException & { address: string; port: number };
    expectSystemError(err, 'ECONNREFUSED', 'connect');
    expect(err.message).toContain(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(err.address).toBe('127.0.0.1');
    expect(err.port).toBe(port);
  });

  it('bind EADDRINUSE names the address', () => {
    const a = track(new Socket());
    a.bind(['127.0.0.1', 0]);
    a.listen();
    const port = (a.getsockname() as [string, number])[1];
    const err = catchError(() => track(new Socket()).bind(['127.0.0.1', port])) as NodeJS.ErrnoException & { port: number };
    expectSystemError(err, 'EADDRINUSE', 'bind');
    expect(err.message).toContain(`bind EADDRINUSE 127.0.0.1:${port}`);
    expect(err.port).toBe(port);
  });

  itUnixSockets('AF_UNIX errors carry path', () => {
    const p = path.join(tempDir(), 'missing', 'sock');
    const u = catchError(() => track(new Socket(AF_UNIX)).connect(p)) as NodeJS.ErrnoException;
    expectSystemError(u, 'ENOENT', 'connect');
    expect(u.path).toBe(p);
    expect(u.message).toContain(`connect ENOENT ${p}`);
  });

  it('sendTo errors name the address; connectError() after a non-blocking connect names it too', async () => {
    const u = track(new Socket(AF_INET, SOCK_DGRAM));
    const err = catchError(() => u.sendTo(Buffer.alloc(70000), ['127.0.0.1', 9])) as NodeJS.ErrnoException & { address: string };
    expectSystemError(err, 'EMSGSIZE', 'sendto');
    expect(err.message).toContain('sendto EMSGSIZE 127.0.0.1:9');
    expect(err.address).toBe('127.0.0.1');
    const port = freePort();
    const s = track(new Socket());
    s.setBlocking(false);
    expect(s.connect(['127.0.0.1', port])).toBe(false);
    let e: NodeJS.ErrnoException | null = null;
    for (let i = 0; i < 500 && e === null; i++) {
      await new Promise((r) => setTimeout(r, 2));
      e = s.connectError();
    }
    expect(e).not.toBeNull();
    expectSystemError(e, 'ECONNREFUSED', 'connect');
    expect(e!.message).toContain(`connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('an IP literal of the wrong family is EAFNOSUPPORT, never a look-up error', () => {
    for (const [family, host] of [[AF_INET, '::1'], [AF_INET6, '127.0.0.1'], [AF_INET, 'fe80::1%lo']] as const) {
      const s = track(new Socket(family));
      for (const op of [() => s.connect([host, 80]), () => s.bind([host, 0])]) {
        const err = catchError(op) as NodeJS.ErrnoException;
        expect(err.code).toBe('EAFNOSUPPORT');
        expect(err.syscall).not.toBe('getaddrinfo');
      }
    }
    const d = track(new Socket(AF_INET, SOCK_DGRAM));
    expect((catchError(() => d.sendTo(Buffer.from('x'), ['::1', 9])) as NodeJS.ErrnoException).code).toBe('EAFNOSUPPORT');
  });
});

describe('IPv6 scope ids', () => {
  it("['fe80::1%lo', port] is accepted by bind and returned by getsockname; the Python 4-tuple too", () => {
    const s = track(new Socket(AF_INET6, SOCK_DGRAM));
    try {
      s.bind(['fe80::1%lo', 0]);
    } catch (err) {
      // lo has no link-local address on most machines: the kernel's own answer, not a parse error.
      expect((err as NodeJS.ErrnoException).code).toBe('EADDRNOTAVAIL');
      const t = track(new Socket(AF_INET6, SOCK_DGRAM));
      t.bind(['::1', 0, 0, 0]);
      expect(t.getsockname()).toEqual(['::1', expect.any(Number)]);
      return;
    }
    expect((s.getsockname() as [string, number])[0]).toBe('fe80::1%lo');
  });

  it('sendTo a scoped link-local address: the interface name is mapped, an unknown one is an error', () => {
    const s = track(new Socket(AF_INET6, SOCK_DGRAM));
    // An interface that does not exist is the resolver's error for the scoped literal.
    const bad = catchError(() => s.sendTo(Buffer.from('x'), ['fe80::1%nosuchif0', 9])) as NodeJS.ErrnoException;
    expect(bad.syscall).toBe('getaddrinfo');
    // With the scope the kernel routes it out of lo (sent, or refused for its own reasons, never EINVAL).
    try {
      expect(s.sendTo(Buffer.from('x'), ['fe80::1%lo', 9])).toBe(1);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).not.toBe('EINVAL');
    }
  });

  it('bad 4-tuples: flowinfo/scopeId out of range, 4-tuples for AF_INET', () => {
    const s = track(new Socket(AF_INET6, SOCK_DGRAM));
    expect((catchError(() => s.bind(['::1', 0, -1, 0])) as Error).name).toBe('RangeError');
    expect((catchError(() => s.bind(['::1', 0, 0x100000, 0])) as Error).name).toBe('RangeError');
    expect((catchError(() => s.bind(['::1', 0, 0, 2 ** 32])) as Error).name).toBe('RangeError');
    expect((catchError(() => s.bind(['::1', 0, 0, 'x'] as unknown as [string, number])) as Error).name).toBe('TypeError');
    const v4 = track(new Socket(AF_INET, SOCK_DGRAM));
    expect((catchError(() => v4.bind(['127.0.0.1', 0, 0, 0])) as Error & { code: string }).code).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe('listen backlog (GeneralModuleTests.test_listen_backlog)', () => {
  itPython3AndSs('negative is 0, default min(SOMAXCONN, 128): python3 agrees on what the kernel reports', () => {
    // ss shows a listener's backlog as Send-Q; read it back through /proc-free means: python's own listen(-1) works too.
    const s = track(new Socket());
    s.bind(['127.0.0.1', 0]);
    s.listen(-1);
    const c = track(new Socket());
    c.connect(s.getsockname());
    expect(SOMAXCONN).toBeGreaterThan(0);
    const t = track(new Socket());
    t.bind(['127.0.0.1', 0]);
    t.listen();
    const port = (t.getsockname() as [string, number])[1];
    const ss = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
    expect(Number(ss.trim().split(/\s+/)[2])).toBe(Math.min(SOMAXCONN, 128));
    const u = track(new Socket());
    u.bind(['127.0.0.1', 0]);
    u.listen(-5);
    const port2 = (u.getsockname() as [string, number])[1];
    expect(Number(execFileSync('ss', ['-ltnH', `sport = :${port2}`], { encoding: 'utf8' }).trim().split(/\s+/)[2])).toBe(0);
    expect((catchError(() => u.listen(1.5)) as Error & { code: string }).code).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe('createServer (CreateServerTest)', () => {
  it(`test_address / test_family_and_type: a listening TCP socket with SO_REUSEADDR, connectable from net${WINDOWS ? " (Windows: without SO_REUSEADDR, as Python's create_server: there it lets another socket take the port)" : ''}`, async () => {
    const srv = track(createServer(['127.0.0.1', 0]));
    expect(srv.family).toBe(AF_INET);
    expect(srv.type).toBe(SOCK_STREAM);
    if (WINDOWS) expect(srv.getsockopt(SOL_SOCKET, SO_REUSEADDR)).toBe(0);
    else expect(srv.getsockopt(SOL_SOCKET, SO_REUSEADDR)).not.toBe(0);
    const [, port] = srv.getsockname() as [string, number];
    const c = net.connect(port, '127.0.0.1');
    await new Promise<void>((res, rej) => c.once('connect', res).once('error', rej));
    const [conn] = srv.accept()!;
    track(conn);
    c.end('hi');
    expect(conn.recv(10)!.toString()).toBe('hi');
    c.destroy();
  });

  it(`test_reuse_port, backlog${WINDOWS ? ' (Windows has no SO_REUSEPORT: reusePort is refused, as in Python)' : ''}`, () => {
    if (WINDOWS) {
      expect(() => createServer(['127.0.0.1', 0], { reusePort: true })).toThrow(/SO_REUSEPORT is not supported/);
      const srv = track(createServer(['127.0.0.1', 0], { backlog: 3 }));
      expect(srv.getsockname()).toEqual(['127.0.0.1', expect.any(Number)]);
      return;
    }
    const srv = track(createServer(['127.0.0.1', 0], { reusePort: true, backlog: 3 }));
    expect(srv.getsockopt(SOL_SOCKET, SO_REUSEPORT)).not.toBe(0);
  });

  itUnixSockets('AF_UNIX paths', () => {
    const p = path.join(tempDir(), 's');
    const u = track(createServer(p));
    expect(u.family).toBe(AF_UNIX);
    const c = track(new Socket(AF_UNIX));
    c.connect(p);
    expect(u.accept()).not.toBeNull();
  });

  it('test_ipv6_only_default / test_dualstack_ipv6_family: V6ONLY unless dual-stack, which takes IPv4 peers', async () => {
    const v6 = track(createServer(['::1', 0], { family: AF_INET6 }));
    expect(v6.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY)).not.toBe(0);
    expect(hasDualstackIpv6()).toBe(true);
    const dual = track(createServer(['', 0], { dualstackIpv6: true }));
    expect(dual.family).toBe(AF_INET6);
    expect(dual.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY)).toBe(0);
    const [, port] = dual.getsockname() as [string, number];
    const c4 = track(createConnection(['127.0.0.1', port]));
    const [conn, peer] = dual.accept()!;
    track(conn);
    expect((peer as [string, number])[0]).toBe('::ffff:127.0.0.1');
    expect(c4.family).toBe(AF_INET);
  });

  it('errors: bind failures name the address and close the socket; bad options', () => {
    const a = track(createServer(['127.0.0.1', 0]));
    const [, port] = a.getsockname() as [string, number];
    const err = catchError(() => createServer(['127.0.0.1', port])) as NodeJS.ErrnoException;
    expectSystemError(err, 'EADDRINUSE', 'bind');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect((catchError(() => createServer(['127.0.0.1', 0], { dualstackIpv6: true, family: AF_INET })) as Error & { code: string }).code).toBe('ERR_INVALID_ARG_VALUE');
    expect((catchError(() => createServer(['127.0.0.1', 0], 5 as unknown as object)) as Error).name).toBe('TypeError');
    expect((catchError(() => createServer(['127.0.0.1', -1])) as Error).name).toBe('RangeError');
  });
});

describe('createConnection (NetworkConnectionAttemptsTest)', () => {
  it('connects to a host name, trying each address in order (test_create_connection)', () => {
    // A server on 127.0.0.1 only: "localhost" may list ::1 first, which is refused; the next address works.
    const srv = track(createServer(['127.0.0.1', 0]));
    const [, port] = srv.getsockname() as [string, number];
    const c = track(createConnection(['localhost', port]));
    expect(c.getpeername()).toEqual(['127.0.0.1', port]);
    expect(c.getTimeout()).toBeNull();
    expect(c.getBlocking()).toBe(true);
  });

  it('every address refused: the last error is thrown with all of them on err.errors, each naming its address', () => {
    const port = freePort();
    const err = catchError(() => createConnection(['localhost', port])) as NodeJS.ErrnoException & { errors: NodeJS.ErrnoException[] };
    expectSystemError(err, 'ECONNREFUSED', 'connect');
    expect(Array.isArray(err.errors)).toBe(true);
    expect(err.errors.length).toBeGreaterThanOrEqual(1);
    expect(err.errors[err.errors.length - 1]).toBe(err);
    for (const e of err.errors) expect(e.message).toMatch(new RegExp(`connect ECONNREFUSED .*:${port}`));
  });

  it('test_create_connection_timeout: the timeout applies per attempt and stays on the socket; ETIMEDOUT when it runs out', () => {
    const srv = track(createServer(['127.0.0.1', 0]));
    const [, port] = srv.getsockname() as [string, number];
    const c = track(createConnection(['127.0.0.1', port], { timeoutMs: 2000 }));
    expect(c.getTimeout()).toBe(2000);
    // A listener whose accept queue is full: Linux drops the SYN, so the connect hangs until the timeout.
    const full = track(new Socket());
    full.bind(['127.0.0.1', 0]);
    full.listen(0);
    const fillers: Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const f = track(new Socket());
      f.setBlocking(false);
      f.connect(full.getsockname());
      fillers.push(f);
    }
    const t0 = performance.now();
    const err = catchError(() => createConnection(['127.0.0.1', (full.getsockname() as [string, number])[1]], { timeoutMs: 150 })) as NodeJS.ErrnoException & { errors: unknown[] };
    expectSystemError(err, 'ETIMEDOUT', 'connect');
    expect(err.message).toContain('connect ETIMEDOUT 127.0.0.1:');
    expect(err.errors).toEqual([err]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(149);
    expect(performance.now() - t0).toBeLessThan(900);
  });

  it('sourceAddress binds before connecting; a dns failure is the dns error', () => {
    const srv = track(createServer(['127.0.0.1', 0]));
    const [, port] = srv.getsockname() as [string, number];
    const c = track(createConnection(['127.0.0.1', port], { sourceAddress: ['127.0.0.1', 0] }));
    expect((c.getsockname() as [string, number])[0]).toBe('127.0.0.1');
    const err = catchError(() => createConnection(['no-such-host.invalid', 80])) as NodeJS.ErrnoException;
    expect(err.code).toBe('ENOTFOUND');
  });

  it('bad input', () => {
    for (const fn of [
      () => createConnection('127.0.0.1' as unknown as [string, number]),
      () => createConnection([1, 2] as unknown as [string, number]),
      () => createConnection(['127.0.0.1', 80], { timeoutMs: NaN }),
      () => createConnection(['127.0.0.1', 80], { timeoutMs: 'x' as unknown as number }),
    ]) expect((catchError(fn) as Error & { code: string }).code).toBe('ERR_INVALID_ARG_TYPE');
    expect((catchError(() => createConnection(['127.0.0.1', 70000])) as Error & { code: string }).code).toBe('ERR_OUT_OF_RANGE');
  });
});

describe('setTimeout/getTimeout (TCPTimeoutTest, UDPTimeoutTest)', () => {
  it('null blocks, 0 is non-blocking, > 0 is blocking with a timeout; setBlocking maps onto it as in Python', () => {
    const s = track(new Socket());
    expect(s.getTimeout()).toBeNull();
    s.setTimeout(0);
    expect(s.getTimeout()).toBe(0);
    expect(s.getBlocking()).toBe(false);
    s.setTimeout(250);
    expect(s.getTimeout()).toBe(250);
    expect(s.getBlocking()).toBe(true);
    s.setBlocking(false);
    expect(s.getTimeout()).toBe(0);
    s.setBlocking(true);
    expect(s.getTimeout()).toBeNull();
    s.setTimeout(-5); // <= 0 polls (the contract's rule for every timeout)
    expect(s.getTimeout()).toBe(0);
    s.setTimeout(Infinity);
    expect(s.getTimeout()).toBeNull();
    for (const v of [NaN, '1', {}]) expect((catchError(() => s.setTimeout(v as number)) as Error & { code: string }).code).toBe('ERR_INVALID_ARG_TYPE');
    s.close();
    expectSystemError(catchError(() => s.setTimeout(1)), 'EBADF');
    expect(s.getTimeout()).toBeNull();
  });

  it('testTCPTimeout: accept() on a listener with a timeout throws ETIMEDOUT after it', () => {
    const srv = track(createServer(['127.0.0.1', 0]));
    srv.setTimeout(100);
    const t0 = performance.now();
    expectSystemError(catchError(() => srv.accept()), 'ETIMEDOUT', 'accept');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(99);
  });

  it(`testUDPTimeout: recv/recvFrom/recvInto/recvMsg time out; data within the timeout is returned${WINDOWS ? ' (recvMsg left out: ENOSYS on Windows)' : ''}`, () => {
    const u = track(new Socket(AF_INET, SOCK_DGRAM));
    u.bind(['127.0.0.1', 0]);
    u.setTimeout(60);
    for (const [name, op] of [
      ['recv', () => u.recv(10)], ['recvfrom', () => u.recvFrom(10)], ['recv', () => u.recvInto(Buffer.alloc(4))],
      ['recvfrom', () => u.recvFromInto(Buffer.alloc(4))], ...(WINDOWS ? [] : [['recvmsg', () => u.recvMsg(10)]]),
    ] as Array<readonly [string, () => unknown]>) {
      const t0 = performance.now();
      expectSystemError(catchError(op), 'ETIMEDOUT', name);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(59);
    }
    const v = track(new Socket(AF_INET, SOCK_DGRAM));
    v.sendTo(Buffer.from('ping'), u.getsockname());
    expect(u.recvFrom(10)![0].toString()).toBe('ping');
  });

  it('send/sendAll with a timeout: ETIMEDOUT once the peer stops reading, with bytesSent', () => {
    const [a, b] = socketpair();
    track(a);
    track(b);
    a.setTimeout(80);
    // Fixed buffers: on Windows the pair is TCP loopback, whose auto-tuned buffers can take all 8 MiB.
    a.setsockopt(SOL_SOCKET, SO_SNDBUF, 1 << 16);
    b.setsockopt(SOL_SOCKET, SO_RCVBUF, 1 << 16);
    const big = Buffer.alloc(8 << 20);
    const err = catchError(() => a.sendAll(big)) as NodeJS.ErrnoException & { bytesSent: number };
    expectSystemError(err, 'ETIMEDOUT', 'send');
    expect(err.bytesSent).toBeGreaterThan(0);
    expect(err.bytesSent).toBeLessThan(big.length);
    expectSystemError(catchError(() => a.send(big)), 'ETIMEDOUT', 'send');
  });

  itPosixProcess('EINTR-safe: a signal arriving during a timed wait neither ends it early nor surfaces (python3 signals us)', () => {
    const u = track(new Socket(AF_INET, SOCK_DGRAM));
    u.bind(['127.0.0.1', 0]);
    u.setTimeout(400);
    const onSig = () => {};
    process.on('SIGUSR2', onSig);
    try {
      execFileSync('sh', ['-c', `(sleep 0.1; kill -USR2 ${process.pid}) >/dev/null 2>&1 &`]);
      const t0 = performance.now();
      expectSystemError(catchError(() => u.recv(10)), 'ETIMEDOUT', 'recv');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(399);
    } finally {
      process.off('SIGUSR2', onSig);
    }
  });

  it('connect with a timeout connects (blocking outcome), and a refused one still throws ECONNREFUSED naming the address', () => {
    const srv = track(createServer(['127.0.0.1', 0]));
    const s = track(new Socket());
    s.setTimeout(1000);
    expect(s.connect(srv.getsockname())).toBe(true);
    const port = freePort();
    const t = track(new Socket());
    t.setTimeout(1000);
    const err = catchError(() => t.connect(['127.0.0.1', port])) as NodeJS.ErrnoException;
    expectSystemError(err, 'ECONNREFUSED', 'connect');
    expect(err.message).toContain(`127.0.0.1:${port}`);
  });
});
