// Socket constants, options, names, fromFd, the closed state and disposal,
// and the module functions socketpair/pipe/close.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as io from '../src/ts/index';
import {
  AF_INET, AF_INET6, AF_UNIX, IPPROTO_TCP, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_ERROR, SO_KEEPALIVE, SO_LINGER,
  SO_RCVBUF, SO_REUSEADDR, SO_SNDBUF, SO_TYPE, TCP_NODELAY, Socket, close, pipe, socketpair,
} from '../src/ts/index';
import { catchError, expectSystemError, tempDir } from './socket-helpers';
import { HAS_AF_UNIX, WINE, itPipes, itPython3, itUnixPairs, itUnixSockets } from './platform';

const opened: Socket[] = [];
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  for (const c of cleanups.splice(0)) c();
});
function track(s: Socket): Socket {
  opened.push(s);
  return s;
}

describe('constants', () => {
  itPython3('every socket constant of the contract is exported with the value python3 has on this machine', () => {
    const names = [
      'AF_INET', 'AF_INET6', 'AF_UNIX', 'SOCK_STREAM', 'SOCK_DGRAM', 'SOL_SOCKET', 'SO_REUSEADDR', 'SO_REUSEPORT',
      'SO_ERROR', 'SO_KEEPALIVE', 'SO_RCVBUF', 'SO_SNDBUF', 'IPPROTO_TCP', 'TCP_NODELAY', 'SHUT_RD', 'SHUT_WR',
      'SHUT_RDWR', 'SO_LINGER', 'SO_TYPE',
    ];
    const py = JSON.parse(execFileSync('python3', ['-c',
      `import socket, json; print(json.dumps({n: int(getattr(socket, n)) for n in ${JSON.stringify(names)}}))`],
    { encoding: 'utf8' }));
    const ours = Object.fromEntries(names.map((n) => [n, (io as unknown as Record<string, number>)[n]]));
    expect(ours).toEqual(py);
    for (const n of names) expect(Number.isInteger(ours[n])).toBe(true);
  });
});

describe('setsockopt/getsockopt', () => {
  it('boolean-ish options: SO_REUSEADDR, SO_KEEPALIVE, TCP_NODELAY switch on and off', () => {
    const s = track(new Socket());
    for (const [level, name] of [[SOL_SOCKET, SO_REUSEADDR], [SOL_SOCKET, SO_KEEPALIVE], [IPPROTO_TCP, TCP_NODELAY]]) {
      expect(s.getsockopt(level, name)).toBe(0);
      s.setsockopt(level, name, 1);
      expect(s.getsockopt(level, name)).not.toBe(0);
      s.setsockopt(level, name, 0);
      expect(s.getsockopt(level, name)).toBe(0);
      s.setsockopt(level, name, true);
      expect(s.getsockopt(level, name)).not.toBe(0);
    }
  });

  it('SO_RCVBUF/SO_SNDBUF: set values are honoured (the kernel may double them)', () => {
    const s = track(new Socket());
    for (const name of [SO_RCVBUF, SO_SNDBUF]) {
      const before = s.getsockopt(SOL_SOCKET, name);
      expect(before).toBeGreaterThan(0);
      s.setsockopt(SOL_SOCKET, name, 32768);
      const small = s.getsockopt(SOL_SOCKET, name);
      s.setsockopt(SOL_SOCKET, name, 262144);
      const large = s.getsockopt(SOL_SOCKET, name);
      expect(small).toBeGreaterThanOrEqual(32768);
      expect(large).toBeGreaterThan(small);
    }
  });

  it('SO_ERROR is 0 on a fresh socket; SO_TYPE reports the type', () => {
    const s = track(new Socket());
    expect(s.getsockopt(SOL_SOCKET, SO_ERROR)).toBe(0);
    expect(s.getsockopt(SOL_SOCKET, SO_TYPE)).toBe(SOCK_STREAM);
    const d = track(new Socket(AF_INET6, SOCK_DGRAM));
    expect(d.getsockopt(SOL_SOCKET, SO_TYPE)).toBe(SOCK_DGRAM);
  });

  it('SO_LINGER: -1 is off (the default), n >= 0 is on with n seconds', () => {
    const s = track(new Socket());
    expect(s.getsockopt(SOL_SOCKET, SO_LINGER)).toBe(-1);
    s.setsockopt(SOL_SOCKET, SO_LINGER, 5);
    expect(s.getsockopt(SOL_SOCKET, SO_LINGER)).toBe(5);
    s.setsockopt(SOL_SOCKET, SO_LINGER, 0);
    expect(s.getsockopt(SOL_SOCKET, SO_LINGER)).toBe(0);
    s.setsockopt(SOL_SOCKET, SO_LINGER, -1);
    expect(s.getsockopt(SOL_SOCKET, SO_LINGER)).toBe(-1);
  });

  it(`options the kernel does not know are system errors${WINE ? ' (wine: EINVAL accepted for TCP_NODELAY on UDP)' : ''}`, () => {
    const s = track(new Socket());
    expectSystemError(catchError(() => s.setsockopt(SOL_SOCKET, 9999, 1)), 'ENOPROTOOPT', 'setsockopt');
    expectSystemError(catchError(() => s.getsockopt(SOL_SOCKET, 9999)), 'ENOPROTOOPT', 'getsockopt');
    // A socket that is not TCP: AF_UNIX, or UDP where there is no AF_UNIX (wine).
    const u = track(HAS_AF_UNIX ? new Socket(AF_UNIX) : new Socket(AF_INET, SOCK_DGRAM));
    const e = catchError(() => u.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)) as NodeJS.ErrnoException;
    expect(e.syscall).toBe('setsockopt');
    // Windows documents WSAENOPROTOOPT for an option of another protocol; wine returns WSAEINVAL.
    expect(e.code).toMatch(WINE ? /^E(OPNOTSUPP|NOPROTOOPT|INVAL)$/ : /^E(OPNOTSUPP|NOPROTOOPT)$/);
  });
});

describe('getsockname/getpeername', () => {
  itUnixSockets('unbound sockets of each family, and ENOTCONN for a peer that does not exist', () => {
    const v4 = track(new Socket(AF_INET));
    const v6 = track(new Socket(AF_INET6));
    const un = track(new Socket(AF_UNIX));
    expect(v4.getsockname()).toEqual(['0.0.0.0', 0]);
    expect(v6.getsockname()).toEqual(['::', 0]);
    expect(un.getsockname()).toBe('');
    for (const s of [v4, v6, un, track(new Socket(AF_INET, SOCK_DGRAM))]) {
      expectSystemError(catchError(() => s.getpeername()), 'ENOTCONN', 'getpeername');
    }
  });

  itUnixSockets('bound sockets of each family report what they were bound to', () => {
    const v4 = track(new Socket(AF_INET, SOCK_DGRAM));
    v4.bind(['127.0.0.1', 0]);
    const [h4, p4] = v4.getsockname() as [string, number];
    expect(h4).toBe('127.0.0.1');
    expect(p4).toBeGreaterThan(0);
    const v6 = track(new Socket(AF_INET6));
    v6.bind(['::1', 0]);
    expect((v6.getsockname() as [string, number])[0]).toBe('::1');
    const any = track(new Socket(AF_INET6));
    any.bind(['', 0]);
    expect((any.getsockname() as [string, number])[0]).toBe('::');
    const dir = tempDir();
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const un = track(new Socket(AF_UNIX));
    un.bind(path.join(dir, 's'));
    expect(un.getsockname()).toBe(path.join(dir, 's'));
  });

  itUnixPairs('socketpair ends name each other (unnamed AF_UNIX)', () => {
    const [a, b] = socketpair();
    track(a);
    track(b);
    expect(a.getsockname()).toBe('');
    expect(b.getpeername()).toBe('');
  });
});

describe('Socket.fromFd', () => {
  itUnixSockets('adopts an fd: family and type are detected, it works, close() closes the fd', () => {
    for (const [family, type] of [[AF_INET, SOCK_STREAM], [AF_INET6, SOCK_DGRAM], [AF_UNIX, SOCK_DGRAM]]) {
      // The original wrapper is dropped without close(): the adopter owns the fd now.
      const fd = new Socket(family, type).fileno();
      const s = Socket.fromFd(fd);
      expect(s.family).toBe(family);
      expect(s.type).toBe(type);
      expect(s.fileno()).toBe(fd);
      expect(s.closed).toBe(false);
      s.close();
      expect(s.closed).toBe(true);
      expect(() => fs.fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    }
  });

  itUnixPairs('an adopted socketpair end still talks to its peer', () => {
    const [a, b] = socketpair();
    track(b);
    const s = track(Socket.fromFd(a.fileno()));
    expect(s.family).toBe(AF_UNIX);
    expect(s.type).toBe(SOCK_STREAM);
    s.send(Buffer.from('adopted'));
    expect(b.recv(20)!.toString()).toBe('adopted');
  });

  itPipes('a non-socket fd is ENOTSOCK; a closed fd is EBADF', () => {
    const [r, w] = pipe();
    try {
      expectSystemError(catchError(() => Socket.fromFd(r)), 'ENOTSOCK');
    } finally {
      close(r);
      close(w);
    }
    expectSystemError(catchError(() => Socket.fromFd(r)), 'EBADF');
  });
});

describe('closed sockets', () => {
  it('fileno() is -1, closed is true, close() is idempotent, every other operation is EBADF', () => {
    const s = new Socket();
    const fd = s.fileno();
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(s.closed).toBe(false);
    s.close();
    expect(s.closed).toBe(true);
    expect(s.fileno()).toBe(-1);
    expect(() => fs.fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    s.close();
    s.close();
    const buf = Buffer.alloc(4);
    const ops: Array<[string, () => unknown]> = [
      ['setBlocking', () => s.setBlocking(false)],
      ['getBlocking', () => s.getBlocking()],
      ['bind', () => s.bind(['127.0.0.1', 0])],
      ['listen', () => s.listen()],
      ['accept', () => s.accept()],
      ['connect', () => s.connect(['127.0.0.1', 1])],
      ['connectError', () => s.connectError()],
      ['send', () => s.send(buf)],
      ['sendAll', () => s.sendAll(buf)],
      ['recv', () => s.recv(4)],
      ['recvInto', () => s.recvInto(buf)],
      ['sendTo', () => s.sendTo(buf, ['127.0.0.1', 1])],
      ['recvFrom', () => s.recvFrom(4)],
      ['shutdown', () => s.shutdown(io.SHUT_RDWR)],
      ['setsockopt', () => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)],
      ['getsockopt', () => s.getsockopt(SOL_SOCKET, SO_REUSEADDR)],
      ['getsockname', () => s.getsockname()],
      ['getpeername', () => s.getpeername()],
    ];
    for (const [name, op] of ops) {
      const e = catchError(op) as NodeJS.ErrnoException;
      expect(e.code, name).toBe('EBADF');
      expect(e.errno, name).toBe(-9);
      expect(typeof e.syscall, name).toBe('string');
    }
  });

  it('Symbol.dispose closes, through `using` and called directly', () => {
    let fd: number;
    let outer: Socket;
    {
      using s = new Socket(AF_INET6);
      outer = s;
      fd = s.fileno();
      expect(s.closed).toBe(false);
    }
    expect(outer.closed).toBe(true);
    expect(() => fs.fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    const t = new Socket();
    t[Symbol.dispose]();
    expect(t.fileno()).toBe(-1);
    t[Symbol.dispose]();
  });
});

describe('socketpair, pipe, close', () => {
  it('socketpair() defaults to AF_UNIX SOCK_STREAM and the ends are connected both ways', () => {
    const [a, b] = socketpair();
    track(a);
    track(b);
    expect([a.family, a.type, b.family, b.type]).toEqual([AF_UNIX, SOCK_STREAM, AF_UNIX, SOCK_STREAM]);
    expect(a.fileno()).not.toBe(b.fileno());
    a.sendAll(Buffer.from('ab'));
    b.sendAll(Buffer.from('ba'));
    expect(b.recv(2)!.toString()).toBe('ab');
    expect(a.recv(2)!.toString()).toBe('ba');
  });

  it('socketpair of a family that has no pairs is a system error', () => {
    expectSystemError(catchError(() => socketpair(AF_INET)), 'EOPNOTSUPP', 'socketpair');
  });

  itPipes('pipe() gives [readFd, writeFd] that carry bytes one way; close() closes them, twice is EBADF', () => {
    const [r, w] = pipe();
    expect(Number.isInteger(r) && Number.isInteger(w)).toBe(true);
    expect(r).not.toBe(w);
    expect(fs.writeSync(w, 'through the pipe')).toBe(16);
    const buf = Buffer.alloc(32);
    expect(fs.readSync(r, buf)).toBe(16);
    expect(buf.subarray(0, 16).toString()).toBe('through the pipe');
    expect(() => fs.writeSync(r, 'x')).toThrow();
    close(w);
    expect(fs.readSync(r, buf)).toBe(0);
    close(r);
    expectSystemError(catchError(() => close(r)), 'EBADF', 'close');
    expectSystemError(catchError(() => close(w)), 'EBADF', 'close');
  });

  it('close() on a raw socket fd closes it', () => {
    const fd = new Socket(AF_INET, SOCK_DGRAM).fileno();
    close(fd);
    expect(() => fs.fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});

describe('constructor', () => {
  itUnixSockets('defaults to AF_INET SOCK_STREAM; accepts each family and type', () => {
    const d = track(new Socket());
    expect([d.family, d.type]).toEqual([AF_INET, SOCK_STREAM]);
    for (const f of [AF_INET, AF_INET6, AF_UNIX]) {
      for (const t of [SOCK_STREAM, SOCK_DGRAM]) {
        const s = track(new Socket(f, t, 0));
        expect([s.family, s.type]).toEqual([f, t]);
        expect(s.getsockopt(SOL_SOCKET, SO_TYPE)).toBe(t);
      }
    }
  });
});
