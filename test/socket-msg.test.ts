// recv/send flags, recvFromInto, sendMsg/recvMsg with ancillary data,
// sendFds/recvFds, raw getsockopt/setsockopt, dup/detach, module-level
// setBlocking/getBlocking, and Node's codes on argument errors. Ported from
// CPython's Lib/test/test_socket.py: SendrecvmsgTests (testSendmsg, testRecvmsg,
// testRecvmsgTrunc, testRecvmsgPeek), SCMRightsTest (testFDPassSimple,
// testFDPassCMSG_LEN, testFDPassSeparate, testCmsgTruncNoBufSize),
// SendRecvFdsTests.testSendAndRecvFds, GeneralModuleTests.test_dup / BasicTCPTest.testDup /
// testDetach, and Lib/test/test_os.py TestBlocking.test_blocking (pipes).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AF_INET, AF_UNIX, CMSG_LEN, CMSG_SPACE, IPPROTO_IP, IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP, IP_TTL, MSG_CTRUNC,
  MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, SCM_RIGHTS, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM, SOL_SOCKET,
  SO_PEERCRED, SO_TYPE, Socket, close, getBlocking, pipe, recvFds, sendFds, setBlocking, socketpair,
} from '../src/ts/index';
import { catchError, expectSystemError } from './socket-helpers';
import { HAS_AF_UNIX, LINUX, QEMU_USER, WINDOWS, itPipes, itUnixDgram, itUnless } from './platform';

/** sendMsg/recvMsg and so SCM_RIGHTS: ENOSYS on Windows (Winsock has no fd passing). */
const itMsg = itUnless(WINDOWS, 'sendMsg/recvMsg and SCM_RIGHTS: ENOSYS on Windows');

const opened: Socket[] = [];
const fdsToClose: number[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  for (const fd of fdsToClose.splice(0)) {
    try {
      close(fd);
    } catch {
      // already closed by the test
    }
  }
});
function pair(type = SOCK_STREAM): [Socket, Socket] {
  const p = socketpair(AF_UNIX, type);
  opened.push(...p);
  return p;
}
function code(fn: () => unknown): string | undefined {
  return (catchError(fn) as { code?: string }).code;
}

describe('flags', () => {
  itUnless(WINDOWS, 'MSG_DONTWAIT: Winsock has no such flag')('MSG_PEEK leaves the data; MSG_DONTWAIT returns null on a blocking socket; MSG_WAITALL waits for all (testRecvmsgPeek)', () => {
    const [a, b] = pair();
    a.sendAll(Buffer.from('hello'));
    expect(b.recv(5, MSG_PEEK)!.toString()).toBe('hello');
    const buf = Buffer.alloc(5);
    expect(b.recvInto(buf, 0, 5, MSG_PEEK)).toBe(5);
    expect(b.recv(5)!.toString()).toBe('hello');
    expect(b.getBlocking()).toBe(true);
    expect(b.recv(5, MSG_DONTWAIT)).toBeNull();
    expect(b.recvInto(buf, 0, 5, MSG_DONTWAIT)).toBeNull();
    a.send(Buffer.from('ab'), 0, 2, 0);
    spawnSync('sleep', ['0.05']);
    a.send(Buffer.from('cde'));
    // Without MSG_WAITALL one recv may return only 'ab'; with it, all five.
    expect(b.recv(5, MSG_WAITALL)!.toString()).toBe('abcde');
  });

  itUnless(!WINDOWS, 'Winsock flags: Windows-only')('Windows: MSG_DONTWAIT is -1, and flags Winsock does not know fail EOPNOTSUPP at once instead of blocking', () => {
    expect(MSG_DONTWAIT).toBe(-1);
    const [a, b] = pair();
    for (const call of [() => b.recv(5, MSG_DONTWAIT), () => b.recvInto(Buffer.alloc(5), 0, 5, MSG_DONTWAIT),
      () => b.recvFrom(5, MSG_DONTWAIT), () => a.send(Buffer.from('x'), 0, 1, MSG_DONTWAIT), () => b.recv(5, 0x40)]) {
      expect(code(call), String(call)).toBe('EOPNOTSUPP');
    }
    // Known flags still work: MSG_PEEK leaves the data, MSG_WAITALL waits for all of it.
    a.sendAll(Buffer.from('hello'));
    expect(b.recv(5, MSG_PEEK)!.toString()).toBe('hello');
    expect(b.recv(5, MSG_WAITALL)!.toString()).toBe('hello');
  });

  itMsg('MSG_TRUNC: a datagram longer than the buffer is truncated as the kernel does (testRecvmsgTrunc)', () => {
    const [a, b] = pair(SOCK_DGRAM);
    a.send(Buffer.from('0123456789'));
    expect(b.recv(4)!.toString()).toBe('0123');
    a.send(Buffer.from('0123456789'));
    // Linux reports the real length with MSG_TRUNC; the Buffer holds what fitted.
    expect(b.recv(4, MSG_TRUNC)!.toString()).toBe('0123');
    a.send(Buffer.from('0123456789'));
    const m = b.recvMsg(4)!;
    expect(m[0].toString()).toBe('0123');
    expect(m[2] & MSG_TRUNC).toBe(MSG_TRUNC);
  });

  itUnixDgram('recvFromInto: bytes and sender address into a window of a buffer', () => {
    const u = new Socket(AF_INET, SOCK_DGRAM);
    const v = new Socket(AF_INET, SOCK_DGRAM);
    opened.push(u, v);
    u.bind(['127.0.0.1', 0]);
    v.bind(['127.0.0.1', 0]);
    v.sendTo(Buffer.from('data'), u.getsockname());
    const buf = Buffer.alloc(10, 0x2e);
    expect(u.recvFromInto(buf, 3, 5)).toEqual([4, v.getsockname()]);
    expect(buf.toString()).toBe('...data...');
    u.setBlocking(false);
    expect(u.recvFromInto(buf)).toBeNull();
    const [a, b] = pair(SOCK_DGRAM);
    a.send(Buffer.from('x'));
    expect(b.recvFromInto(buf)).toEqual([1, null]);
    expect(code(() => u.recvFromInto(buf, 8, 5))).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => u.recvFromInto('x' as unknown as Buffer))).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe('sendMsg/recvMsg (SendrecvmsgTests)', () => {
  itMsg('testSendmsg/testRecvmsg: several buffers make one message; recvMsg gives data, no ancdata, flags, address', () => {
    const [a, b] = pair(SOCK_DGRAM);
    expect(a.sendMsg([Buffer.from('ab'), new Uint8Array([0x63]), Buffer.from('')])).toBe(3);
    const [data, anc, flags, addr] = b.recvMsg(10)!;
    expect(data.toString()).toBe('abc');
    expect(anc).toEqual([]);
    expect(flags).toBe(0);
    expect(addr === null || addr === '').toBe(true);
  });

  itMsg('sendMsg to an address (UDP), and would-block as null', () => {
    const u = new Socket(AF_INET, SOCK_DGRAM);
    const v = new Socket(AF_INET, SOCK_DGRAM);
    opened.push(u, v);
    u.bind(['127.0.0.1', 0]);
    v.bind(['127.0.0.1', 0]);
    expect(v.sendMsg([Buffer.from('hi')], [], 0, u.getsockname())).toBe(2);
    const r = u.recvMsg(10)!;
    expect(r[0].toString()).toBe('hi');
    expect(r[3]).toEqual(v.getsockname());
    u.setBlocking(false);
    expect(u.recvMsg(10)).toBeNull();
  });

  itMsg('testFDPassSimple: SCM_RIGHTS carries a pipe end; the received fd works and is close-on-exec', () => {
    const [a, b] = pair();
    const [r, w] = pipe();
    fdsToClose.push(r, w);
    const fdBytes = new Uint8Array(new Int32Array([w]).buffer);
    expect(a.sendMsg([Buffer.from('x')], [[SOL_SOCKET, SCM_RIGHTS, fdBytes]])).toBe(1);
    const [data, anc, flags] = b.recvMsg(1, CMSG_SPACE(4))!;
    expect(data.toString()).toBe('x');
    expect(flags).toBe(0);
    expect(anc.length).toBe(1);
    expect(anc[0][0]).toBe(SOL_SOCKET);
    expect(anc[0][1]).toBe(SCM_RIGHTS);
    const got = new Int32Array(anc[0][2].buffer.slice(anc[0][2].byteOffset, anc[0][2].byteOffset + 4))[0];
    fdsToClose.push(got);
    expect(got).not.toBe(w);
    fs.writeSync(got, 'via passed fd');
    const out = Buffer.alloc(32);
    expect(out.toString('utf8', 0, fs.readSync(r, out))).toBe('via passed fd');
    expect(fs.readlinkSync(`/proc/self/fd/${got}`)).toBe(fs.readlinkSync(`/proc/self/fd/${w}`));
    expect(cloexec(got)).toBe(true);
  });

  // qemu-user receives the ancillary data into its own, larger buffer and converts it: the kernel sets no MSG_CTRUNC there.
  itUnless(QEMU_USER || WINDOWS, WINDOWS ? 'sendMsg/recvMsg and SCM_RIGHTS: ENOSYS on Windows' : 'qemu-user converts ancillary data through its own buffer: no MSG_CTRUNC')('testCmsgTruncNoBufSize / testFDPassCMSG_LEN: too small an ancillary buffer sets MSG_CTRUNC, nothing leaks past it', () => {
    const [a, b] = pair();
    const [r, w] = pipe();
    fdsToClose.push(r, w);
    const three = new Uint8Array(new Int32Array([r, w, r]).buffer);
    a.sendMsg([Buffer.from('y')], [[SOL_SOCKET, SCM_RIGHTS, three]]);
    const [, anc, flags] = b.recvMsg(1, CMSG_LEN(4))!;
    expect(flags & MSG_CTRUNC).toBe(MSG_CTRUNC);
    for (const [, , d] of anc) {
      expect(d.length).toBeLessThanOrEqual(4);
      for (let i = 0; i + 4 <= d.length; i += 4) fdsToClose.push(d.readInt32LE(i));
    }
    a.sendMsg([Buffer.from('z')], [[SOL_SOCKET, SCM_RIGHTS, three]]);
    const [, none, f0] = b.recvMsg(1)!;
    expect(none).toEqual([]);
    expect(f0 & MSG_CTRUNC).toBe(MSG_CTRUNC);
  });

  itMsg('bad input: wrong types, too many buffers, malformed ancdata, closed fds', () => {
    const [a, b] = pair();
    const bad: Array<[() => unknown, string]> = [
      [() => a.sendMsg('x' as unknown as Uint8Array[]), 'ERR_INVALID_ARG_TYPE'],
      [() => a.sendMsg([5 as unknown as Uint8Array]), 'ERR_INVALID_ARG_TYPE'],
      [() => a.sendMsg(new Array(1025).fill(Buffer.from('x'))), 'ERR_OUT_OF_RANGE'],
      [() => a.sendMsg([Buffer.from('x')], 'x' as unknown as []), 'ERR_INVALID_ARG_TYPE'],
      [() => a.sendMsg([Buffer.from('x')], [[1, 2] as unknown as [number, number, Uint8Array]]), 'ERR_INVALID_ARG_TYPE'],
      [() => a.sendMsg([Buffer.from('x')], [[1.5, 1, Buffer.alloc(4)]]), 'ERR_INVALID_ARG_TYPE'],
      [() => a.sendMsg([Buffer.from('x')], [[SOL_SOCKET, SCM_RIGHTS, 'x' as unknown as Uint8Array]]), 'ERR_INVALID_ARG_TYPE'],
      [() => a.sendMsg([Buffer.from('x')], [[SOL_SOCKET, SCM_RIGHTS, Buffer.alloc(2 << 20)]]), 'ERR_OUT_OF_RANGE'],
      [() => a.sendMsg([Buffer.from('x')], [], 1.5), 'ERR_INVALID_ARG_TYPE'],
      [() => b.recvMsg(-1), 'ERR_OUT_OF_RANGE'],
      [() => b.recvMsg(1, -1), 'ERR_OUT_OF_RANGE'],
      [() => b.recvMsg(1, 2 ** 40), 'ERR_OUT_OF_RANGE'],
      [() => b.recvMsg(1, 4, NaN), 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [fn, c] of bad) expect(code(fn), String(fn)).toBe(c);
    // A closed fd in SCM_RIGHTS: the kernel's EBADF.
    const [r, w] = pipe();
    close(r);
    close(w);
    expectSystemError(catchError(() => a.sendMsg([Buffer.from('x')], [[SOL_SOCKET, SCM_RIGHTS, new Uint8Array(new Int32Array([r]).buffer)]])), 'EBADF', 'sendmsg');
    a.close();
    expectSystemError(catchError(() => a.sendMsg([Buffer.from('x')])), 'EBADF');
    expectSystemError(catchError(() => a.recvMsg(1)), 'EBADF');
  });
});

describe('sendFds/recvFds (SendRecvFdsTests.testSendAndRecvFds)', () => {
  itMsg('several fds and data in one message; the fds refer to the same files and are close-on-exec', () => {
    const [a, b] = pair();
    const pipes = [pipe(), pipe()];
    for (const p of pipes) fdsToClose.push(...p);
    const writeEnds = pipes.map((p) => p[1]);
    expect(sendFds(a, [Buffer.from('data')], writeEnds)).toBe(4);
    const [data, fds, flags, addr] = recvFds(b, 100, 10)!;
    fdsToClose.push(...fds);
    expect(data.toString()).toBe('data');
    expect(fds.length).toBe(2);
    expect(flags).toBe(0);
    expect(addr === null || addr === '').toBe(true);
    fds.forEach((fd, i) => {
      fs.writeSync(fd, `pipe${i}`);
      const out = Buffer.alloc(16);
      expect(out.toString('utf8', 0, fs.readSync(pipes[i][0], out))).toBe(`pipe${i}`);
      expect(cloexec(fd)).toBe(true);
    });
  });

  itMsg('the fds survive an exec only where the receiver asks: a child process does not inherit them', () => {
    const [a, b] = pair();
    const [r, w] = pipe();
    fdsToClose.push(r, w);
    sendFds(a, [Buffer.from('.')], [w]);
    const [, [got]] = recvFds(b, 1, 1)!;
    fdsToClose.push(got);
    const out = execFileSync('sh', ['-c', `ls /proc/self/fd`], { encoding: 'utf8' }).split(/\s+/);
    expect(out).not.toContain(String(got));
  });

  itMsg('SOCK_SEQPACKET, no fds at all, non-blocking recvFds is null', () => {
    const [a, b] = pair(SOCK_SEQPACKET);
    expect(sendFds(a, [Buffer.from('m')], [])).toBe(1);
    expect(recvFds(b, 10, 4)).toEqual([Buffer.from('m'), [], 0, null]);
    b.setBlocking(false);
    expect(recvFds(b, 10, 4)).toBeNull();
  });

  itMsg('bad input: not a Socket, bad fds, 10,000 fds (the kernel refuses), closed sockets, non-AF_UNIX sockets', () => {
    const [a, b] = pair();
    const fd = a.fileno();
    expect(code(() => sendFds(fd as unknown as Socket, [Buffer.from('x')], [0]))).toBe('ERR_INVALID_ARG_TYPE');
    expect(code(() => recvFds({ fileno: () => fd } as unknown as Socket, 1, 1))).toBe('ERR_INVALID_ARG_TYPE');
    expect(code(() => sendFds(a, [Buffer.from('x')], 'x' as unknown as number[]))).toBe('ERR_INVALID_ARG_TYPE');
    expect(code(() => sendFds(a, [Buffer.from('x')], [1.5]))).toBe('ERR_INVALID_ARG_TYPE');
    expect(code(() => sendFds(a, [Buffer.from('x')], [-1]))).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => recvFds(b, 1, -1))).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => recvFds(b, 1, 1.5))).toBe('ERR_INVALID_ARG_TYPE');
    expect(code(() => recvFds(b, -1, 1))).toBe('ERR_OUT_OF_RANGE');
    const many = new Array(10000).fill(0);
    const e = catchError(() => sendFds(a, [Buffer.from('x')], many)) as NodeJS.ErrnoException;
    expect(['EINVAL', 'ETOOMANYREFS', 'ENOBUFS', 'ENOMEM']).toContain(e.code);
    expect(e.syscall).toBe('sendmsg');
    // The stream is still usable afterwards.
    expect(sendFds(a, [Buffer.from('k')], [0])).toBe(1);
    const [, got] = recvFds(b, 1, 1)!;
    fdsToClose.push(...got);
    const tcp = new Socket(AF_INET, SOCK_STREAM);
    opened.push(tcp);
    expect(catchError(() => sendFds(tcp, [Buffer.from('x')], [0]))).toHaveProperty('syscall', 'sendmsg');
    a.close();
    expectSystemError(catchError(() => sendFds(a, [Buffer.from('x')], [0])), 'EBADF');
    expectSystemError(catchError(() => recvFds(a, 1, 1)), 'EBADF');
  });
});

describe('getsockopt with buflen / setsockopt with bytes', () => {
  itUnless(!LINUX, 'SO_PEERCRED is Linux-only')('SO_PEERCRED over a socketpair is our own pid/uid/gid (struct ucred)', () => {
    const [a] = pair();
    const cred = a.getsockopt(SOL_SOCKET, SO_PEERCRED, 12);
    expect(Buffer.isBuffer(cred)).toBe(true);
    expect(cred.length).toBe(12);
    expect(cred.readInt32LE(0)).toBe(process.pid);
    expect(cred.readUInt32LE(4)).toBe(process.getuid!());
    expect(cred.readUInt32LE(8)).toBe(process.getgid!());
    expect(a.getsockopt(SOL_SOCKET, SO_TYPE, 4).readInt32LE(0)).toBe(SOCK_STREAM);
    // Without buflen the integer, as before.
    expect(a.getsockopt(SOL_SOCKET, SO_TYPE)).toBe(SOCK_STREAM);
  });

  it('IP_ADD_MEMBERSHIP with a raw ip_mreq joins a group; dropping it twice is the kernel error', () => {
    const u = new Socket(AF_INET, SOCK_DGRAM);
    opened.push(u);
    const mreq = Buffer.from([239, 1, 2, 3, 127, 0, 0, 1]);
    u.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq);
    u.setsockopt(IPPROTO_IP, IP_DROP_MEMBERSHIP, mreq);
    expect((catchError(() => u.setsockopt(IPPROTO_IP, IP_DROP_MEMBERSHIP, mreq)) as NodeJS.ErrnoException).syscall).toBe('setsockopt');
    u.setsockopt(IPPROTO_IP, IP_TTL, new Uint8Array(new Int32Array([7]).buffer));
    expect(u.getsockopt(IPPROTO_IP, IP_TTL)).toBe(7);
  });

  it('bad buflen', () => {
    const [a] = pair();
    expect(code(() => a.getsockopt(SOL_SOCKET, SO_TYPE, 0))).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => a.getsockopt(SOL_SOCKET, SO_TYPE, 1025))).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => a.getsockopt(SOL_SOCKET, SO_TYPE, 'x' as unknown as number))).toBe('ERR_INVALID_ARG_TYPE');
    expect(code(() => a.setsockopt(SOL_SOCKET, SO_TYPE, 'x' as unknown as number))).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe('dup/detach (GeneralModuleTests.test_dup, BasicTCPTest.testDup/testDetach)', () => {
  it(`dup: a new close-on-exec fd for the same socket, same family/type/timeout; closing one leaves the other working${LINUX ? '' : ' (close-on-exec read from /proc/self: Linux-only)'}`, () => {
    const [a, b] = pair();
    a.setTimeout(300);
    const d = a.dup();
    opened.push(d);
    expect(d.fileno()).not.toBe(a.fileno());
    expect(d.family).toBe(a.family);
    expect(d.type).toBe(a.type);
    expect(d.getTimeout()).toBe(300);
    if (LINUX) expect(cloexec(d.fileno())).toBe(true);
    a.close();
    d.sendAll(Buffer.from('dup'));
    expect(b.recv(3)!.toString()).toBe('dup');
    expectSystemError(catchError(() => a.dup()), 'EBADF', 'dup');
  });

  it('detach: the Socket reads as closed, the fd stays open and usable (Socket.fromFd takes it back)', () => {
    const [a, b] = pair();
    const fd = a.detach();
    expect(a.closed).toBe(true);
    expect(a.fileno()).toBe(-1);
    expect(a.detach()).toBe(-1);
    a.close(); // does not close the fd
    const again = Socket.fromFd(fd);
    opened.push(again);
    again.sendAll(Buffer.from('ok'));
    expect(b.recv(2)!.toString()).toBe('ok');
    expectSystemError(catchError(() => a.send(Buffer.from('x'))), 'EBADF');
  });
});

describe('module setBlocking/getBlocking (test_os TestBlocking.test_blocking)', () => {
  itPipes('pipes: O_NONBLOCK on and off, as fcntl sees it', () => {
    const [r, w] = pipe();
    fdsToClose.push(r, w);
    expect(getBlocking(r)).toBe(true);
    setBlocking(r, false);
    expect(getBlocking(r)).toBe(false);
    expect(() => fs.readSync(r, Buffer.alloc(1))).toThrow(/EAGAIN/);
    setBlocking(r, true);
    expect(getBlocking(r)).toBe(true);
    // An object with fileno() works; a Socket keeps its timeout in step.
    setBlocking({ fileno: () => w }, false);
    expect(getBlocking(w)).toBe(false);
    const [a] = pair();
    setBlocking(a, false);
    expect(a.getTimeout()).toBe(0);
    expect(getBlocking(a)).toBe(false);
  });

  itPipes('bad input: closed fds are EBADF, wrong types TypeError, negative fds RangeError', () => {
    const [r, w] = pipe();
    close(r);
    close(w);
    expectSystemError(catchError(() => setBlocking(r, false)), 'EBADF', 'fcntl');
    expectSystemError(catchError(() => getBlocking(r)), 'EBADF', 'fcntl');
    expect(code(() => setBlocking('0' as unknown as number, true))).toBe('ERR_INVALID_ARG_TYPE');
    expect(code(() => setBlocking(0, 1 as unknown as boolean))).toBe('ERR_INVALID_ARG_TYPE');
    expect(code(() => setBlocking(-1, true))).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => getBlocking(1.5))).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe("argument errors carry Node's codes everywhere (native and TS)", () => {
  it(`a sample of the old checks: TypeError ERR_INVALID_ARG_TYPE, RangeError ERR_OUT_OF_RANGE${WINDOWS ? ' (Poll left out: ENOSYS on Windows)' : ''}${HAS_AF_UNIX ? '' : ' (AF_UNIX left out: none here)'}`, async () => {
    const io = await import('../src/ts/index');
    const [a] = pair();
    const cases: Array<[() => unknown, string, string]> = [
      [() => a.send('x' as unknown as Buffer), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [() => a.recv(-1), 'RangeError', 'ERR_OUT_OF_RANGE'],
      [() => io.select([-1], [], []), 'RangeError', 'ERR_OUT_OF_RANGE'],
      [() => io.select('x' as unknown as [], [], []), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [() => io.select([], [], [], NaN), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [() => new io.DefaultSelector().register(a, 4), 'RangeError', 'ERR_OUT_OF_RANGE'],
      [() => new io.DefaultSelector().register('x' as unknown as number, 1), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      ...(WINDOWS ? [] : [[() => new io.Poll().register(0, 1.5), 'TypeError', 'ERR_INVALID_ARG_TYPE']] as Array<[() => unknown, string, string]>),
      [() => new io.Socket(AF_INET).bind(['127.0.0.1', 1e6]), 'RangeError', 'ERR_OUT_OF_RANGE'],
      ...(HAS_AF_UNIX ? [[() => new io.Socket(AF_UNIX).bind('a\0b'), 'TypeError', 'ERR_INVALID_ARG_VALUE']] as Array<[() => unknown, string, string]> : []),
      [() => new io.EventLoop().callSoon(5 as unknown as () => void), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [() => io.Socket.fromFd('3' as unknown as number), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [fn, name, c] of cases) {
      const err = catchError(fn) as Error & { code?: string };
      expect(err.name, String(fn)).toBe(name);
      expect(err.code, String(fn)).toBe(c);
    }
  });
});

// FD_CLOEXEC, read from /proc/self/fdinfo (flags are octal; O_CLOEXEC is 02000000).
function cloexec(fd: number): boolean {
  const m = /flags:\s+([0-7]+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  return m !== null && (parseInt(m[1], 8) & 0o2000000) !== 0;
}
