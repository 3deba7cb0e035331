// Datagram sockets: UDP (127.0.0.1 and ::1) with Node's dgram and python3 as
// peers, and AF_UNIX datagrams between paths.
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AF_INET, AF_INET6, AF_UNIX, SOCK_DGRAM, Socket, socketpair } from '../src/ts/index';
import { catchError, expectSystemError, python, tempDir, until, waitReadable } from './socket-helpers';
import { itPython3, itUnixDgram } from './platform';

const opened: Socket[] = [];
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const s of opened.splice(0)) s.close();
  for (const c of cleanups.splice(0)) await c();
});
function track(s: Socket): Socket {
  opened.push(s);
  return s;
}

function nodeUdp(type: 'udp4' | 'udp6', host: string): Promise<[dgram.Socket, number, Array<[Buffer, dgram.RemoteInfo]>]> {
  return new Promise((resolve) => {
    const got: Array<[Buffer, dgram.RemoteInfo]> = [];
    const d = dgram.createSocket(type);
    d.on('message', (m, r) => got.push([m, r]));
    d.bind(0, host, () => {
      cleanups.push(() => new Promise<void>((r) => d.close(() => r())));
      resolve([d, d.address().port, got]);
    });
  });
}

describe.each([
  ['udp4', AF_INET, '127.0.0.1'],
  ['udp6', AF_INET6, '::1'],
] as const)('UDP (%s) with a dgram peer', (type, family, host) => {
  it('sendTo reaches dgram with our address; recvFrom returns [Buffer, [host, port]]; null when nothing is there', async () => {
    const [peer, peerPort, got] = await nodeUdp(type, host);
    const s = track(new Socket(family, SOCK_DGRAM));
    expect(s.type).toBe(SOCK_DGRAM);
    s.bind([host, 0]);
    const myPort = (s.getsockname() as [string, number])[1];
    expect(s.sendTo(Buffer.from('to node'), [host, peerPort])).toBe(7);
    await until(() => got.length === 1);
    expect(got[0][0].toString()).toBe('to node');
    expect(got[0][1].port).toBe(myPort);
    expect(got[0][1].address).toBe(host);

    s.setBlocking(false);
    expect(s.recvFrom(100)).toBeNull();
    peer.send('one', myPort, host);
    peer.send('two!', myPort, host);
    const [d1, a1] = await until(() => s.recvFrom(100));
    expect(Buffer.isBuffer(d1)).toBe(true);
    expect(d1.toString()).toBe('one');
    expect(a1).toEqual([host, peerPort]);
    // Message boundaries hold: the second datagram comes alone.
    const [d2, a2] = await until(() => s.recvFrom(100));
    expect(d2.toString()).toBe('two!');
    expect(a2).toEqual([host, peerPort]);
    expect(s.recvFrom(100)).toBeNull();
    expect(s.recv(100)).toBeNull();
  });

  it('a datagram longer than bufsize is truncated to bufsize (the rest is dropped, like Python)', async () => {
    const [peer] = await nodeUdp(type, host);
    const s = track(new Socket(family, SOCK_DGRAM));
    s.bind([host, 0]);
    s.setBlocking(false);
    const port = (s.getsockname() as [string, number])[1];
    peer.send('abcdefgh', port, host);
    peer.send('next', port, host);
    expect((await until(() => s.recv(3))).toString()).toBe('abc');
    expect((await until(() => s.recv(100))).toString()).toBe('next');
  });

  it('connected UDP: connect, send/recv, getpeername; an unconnected one has no peer (ENOTCONN)', async () => {
    const [peer, peerPort, got] = await nodeUdp(type, host);
    const s = track(new Socket(family, SOCK_DGRAM));
    expectSystemError(catchError(() => s.getpeername()), 'ENOTCONN', 'getpeername');
    expect(s.connect([host, peerPort])).toBe(true);
    expect(s.getpeername()).toEqual([host, peerPort]);
    expect(s.send(Buffer.from('hi'))).toBe(2);
    await until(() => got.length === 1);
    const [, me] = got[0];
    peer.send('reply', me.port, host);
    s.setBlocking(false);
    expect((await until(() => s.recv(100))).toString()).toBe('reply');
  });
});

describe('UDP with python3', () => {
  itPython3('python3 sends to an iomux UDP socket and gets the reply from the address recvFrom reported', async () => {
    const s = track(new Socket(AF_INET, SOCK_DGRAM));
    s.bind(['127.0.0.1', 0]);
    const port = (s.getsockname() as [string, number])[1];
    const child = python(`
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(10)
u.sendto(b'py datagram', ('127.0.0.1', ${port}))
data, addr = u.recvfrom(100)
print(data.decode(), addr[0], addr[1], u.getsockname()[1])
`);
    waitReadable(s, 10000);
    const [data, from] = s.recvFrom(100)!;
    expect(data.toString()).toBe('py datagram');
    expect(s.sendTo(Buffer.from('iomux reply'), from)).toBe(11);
    const r = await child.done;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`iomux reply 127.0.0.1 ${port} ${(from as [string, number])[1]}`);
  });
});

describe('AF_UNIX datagram', () => {
  itUnixDgram('sendTo a path; recvFrom returns the sender path; boundaries hold', () => {
    const dir = tempDir();
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const pa = path.join(dir, 'a.sock');
    const pb = path.join(dir, 'b.sock');
    const a = track(new Socket(AF_UNIX, SOCK_DGRAM));
    const b = track(new Socket(AF_UNIX, SOCK_DGRAM));
    a.bind(pa);
    b.bind(pb);
    expect(a.getsockname()).toBe(pa);
    expect(a.sendTo(Buffer.from('first'), pb)).toBe(5);
    expect(a.sendTo(Buffer.from('second'), pb)).toBe(6);
    b.setBlocking(false);
    expect(b.recvFrom(100)).toEqual([Buffer.from('first'), pa]);
    expect(b.recvFrom(100)).toEqual([Buffer.from('second'), pa]);
    expect(b.recvFrom(100)).toBeNull();
    expect(b.sendTo(Buffer.from('back'), pa)).toBe(4);
    expect(a.recvFrom(100)).toEqual([Buffer.from('back'), pb]);
  });

  itUnixDgram('an unbound sender has no address: null, as Python reports None', () => {
    const dir = tempDir();
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const p = path.join(dir, 'r.sock');
    const r = track(new Socket(AF_UNIX, SOCK_DGRAM));
    r.bind(p);
    const u = track(new Socket(AF_UNIX, SOCK_DGRAM));
    u.sendTo(Buffer.from('anon'), p);
    const [data, addr] = r.recvFrom(100)!;
    expect(data.toString()).toBe('anon');
    expect(addr).toBeNull();
  });

  itUnixDgram('sendTo a path nobody bound: ENOENT (or ECONNREFUSED for a stale socket file)', () => {
    const dir = tempDir();
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const s = track(new Socket(AF_UNIX, SOCK_DGRAM));
    expectSystemError(catchError(() => s.sendTo(Buffer.from('x'), path.join(dir, 'none'))), 'ENOENT', 'sendto');
    const stale = path.join(dir, 'stale.sock');
    const gone = new Socket(AF_UNIX, SOCK_DGRAM);
    gone.bind(stale);
    gone.close();
    expectSystemError(catchError(() => s.sendTo(Buffer.from('x'), stale)), 'ECONNREFUSED', 'sendto');
  });

  itUnixDgram('Linux abstract namespace addresses (leading NUL) round-trip', () => {
    const name = `\0iomux-test-${process.pid}-${Date.now()}`;
    const r = track(new Socket(AF_UNIX, SOCK_DGRAM));
    r.bind(name);
    expect(r.getsockname()).toBe(name);
    const s = track(new Socket(AF_UNIX, SOCK_DGRAM));
    s.sendTo(Buffer.from('abstract'), name);
    expect(r.recv(100)!.toString()).toBe('abstract');
  });

  itUnixDgram('socketpair(AF_UNIX, SOCK_DGRAM): boundaries hold, empty datagrams exist', () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM);
    track(a);
    track(b);
    expect(a.type).toBe(SOCK_DGRAM);
    expect(a.family).toBe(AF_UNIX);
    a.send(Buffer.from('x'));
    a.send(Buffer.from('yz'));
    a.send(Buffer.alloc(0));
    expect(b.recv(100)!.toString()).toBe('x');
    expect(b.recvFrom(100)).toEqual([Buffer.from('yz'), null]);
    expect(b.recv(100)!.length).toBe(0);
    b.setBlocking(false);
    expect(b.recv(100)).toBeNull();
  });
});
