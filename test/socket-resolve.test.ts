// getaddrinfo/getnameinfo (Sockets, part 2), ported from CPython's
// Lib/test/test_socket.py GeneralModuleTests.test_getaddrinfo / test_getnameinfo /
// test_getnameinfo_ipv6_scopeid / test_getaddrinfo_ipv6_scopeid_symbolic, checked
// against python3's own socket module on this machine where the answer is the system's.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AF_INET, AF_INET6, AF_UNSPEC, AI_CANONNAME, AI_NUMERICHOST, AI_NUMERICSERV, AI_PASSIVE, NI_NUMERICHOST,
  NI_NUMERICSERV, NI_NAMEREQD, NI_DGRAM, SOCK_DGRAM, SOCK_STREAM, IPPROTO_TCP, getaddrinfo, getnameinfo,
} from '../src/ts/index';
import { catchError } from './socket-helpers';
import { itPython3 } from './platform';

// Asynchronous, so a slow python3 (e.g. under the ASan preload) never starves the vitest worker.
async function py(code: string): Promise<unknown> {
  const { stdout } = await promisify(execFile)('python3', ['-c', `import socket, json\n${code}`], { encoding: 'utf8' });
  return JSON.parse(stdout);
}

describe('getaddrinfo', () => {
  itPython3('numeric hosts and ports: family, type, proto and address as Python gives them (test_getaddrinfo)', async () => {
    const ours = getaddrinfo('127.0.0.1', 80, { type: SOCK_STREAM });
    expect(ours).toEqual([{ family: AF_INET, type: SOCK_STREAM, proto: IPPROTO_TCP, canonname: '', address: ['127.0.0.1', 80] }]);
    const theirs = await py(`print(json.dumps([[f, t, p, c, list(a)] for f, t, p, c, a in socket.getaddrinfo('127.0.0.1', 80, 0, socket.SOCK_STREAM)]))`);
    expect(ours.map((a) => [a.family, a.type, a.proto, a.canonname, a.address])).toEqual(theirs);
    // A service given by name, and a null host with AI_PASSIVE: the wildcard address.
    expect(getaddrinfo('127.0.0.1', 'http', { type: SOCK_STREAM })[0].address).toEqual(['127.0.0.1', 80]);
    expect(getaddrinfo(null, 0, { family: AF_INET, type: SOCK_STREAM, flags: AI_PASSIVE })[0].address).toEqual(['0.0.0.0', 0]);
    expect(getaddrinfo(null, 0, { family: AF_INET, type: SOCK_STREAM })[0].address).toEqual(['127.0.0.1', 0]);
    const v6 = getaddrinfo('::1', 8080, { family: AF_INET6, type: SOCK_DGRAM });
    expect(v6[0]).toMatchObject({ family: AF_INET6, type: SOCK_DGRAM, address: ['::1', 8080] });
  });

  itPython3('localhost resolves with the same addresses python3 gets, and AI_CANONNAME fills canonname', async () => {
    const ours = getaddrinfo('localhost', 80, { type: SOCK_STREAM }).map((a) => a.address);
    const theirs = await py(`print(json.dumps([list(a[4][:2]) for a in socket.getaddrinfo('localhost', 80, 0, socket.SOCK_STREAM)]))`);
    expect(ours).toEqual(theirs);
    const canon = getaddrinfo('localhost', null, { family: AF_INET, type: SOCK_STREAM, flags: AI_CANONNAME });
    expect(canon[0].canonname).not.toBe('');
  });

  it('every family/type filter combination returns only what was asked for (test_getaddrinfo)', async () => {
    for (const family of [AF_UNSPEC, AF_INET, AF_INET6]) {
      for (const type of [0, SOCK_STREAM, SOCK_DGRAM]) {
        const host = family === AF_INET6 ? '::1' : family === AF_INET ? '127.0.0.1' : 'localhost';
        for (const a of getaddrinfo(host, 80, { family, type })) {
          if (family !== AF_UNSPEC) expect(a.family).toBe(family);
          if (type !== 0) expect(a.type).toBe(type);
        }
      }
    }
  });

  it('failed look-ups are shaped like Node dns errors (ENOTFOUND, syscall, hostname, errno as libuv)', async () => {
    const err = catchError(() => getaddrinfo('no-such-host.invalid', 80)) as NodeJS.ErrnoException & { hostname: string };
    expect(err.code).toBe('ENOTFOUND');
    expect(err.syscall).toBe('getaddrinfo');
    expect(err.hostname).toBe('no-such-host.invalid');
    expect(err.errno).toBe(-3008);
    expect(err.message).toMatch(/^getaddrinfo ENOTFOUND no-such-host\.invalid/);
    // A name where only a number will do (AI_NUMERICHOST) and an unknown service name.
    expect((catchError(() => getaddrinfo('localhost', 80, { flags: AI_NUMERICHOST })) as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
    const svc = catchError(() => getaddrinfo('127.0.0.1', 'no-such-service', { flags: AI_NUMERICSERV })) as NodeJS.ErrnoException;
    expect(svc.code).toMatch(/^E/);
    expect(svc.syscall).toBe('getaddrinfo');
    expect((catchError(() => getaddrinfo(null, null)) as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
  });

  it('IPv6 scope ids are kept: fe80::1%lo comes back with its scope (test_getaddrinfo_ipv6_scopeid_symbolic)', async () => {
    const r = getaddrinfo('fe80::1%lo', 80, { family: AF_INET6, type: SOCK_STREAM, flags: AI_NUMERICHOST });
    expect(r[0].address).toEqual(['fe80::1%lo', 80]);
  });

  it('bad input: TypeError ERR_INVALID_ARG_TYPE / RangeError ERR_OUT_OF_RANGE, never a crash', async () => {
    const bad: Array<[() => unknown, string, string]> = [
      [() => getaddrinfo(5 as unknown as string, 80), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [() => getaddrinfo('localhost', {} as unknown as number), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [() => getaddrinfo('localhost', 1.5), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [() => getaddrinfo('localhost', -1), 'RangeError', 'ERR_OUT_OF_RANGE'],
      [() => getaddrinfo('localhost', 65536), 'RangeError', 'ERR_OUT_OF_RANGE'],
      [() => getaddrinfo('localhost', 80, { family: NaN }), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [() => getaddrinfo('localhost', 80, { flags: 'x' as unknown as number }), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [() => getaddrinfo('localhost', 80, 5 as unknown as object), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [() => getaddrinfo('local\0host', 80), 'TypeError', 'ERR_INVALID_ARG_VALUE'],
    ];
    for (const [fn, name, code] of bad) {
      const err = catchError(fn) as Error & { code?: string };
      expect(err.name, String(fn)).toBe(name);
      expect(err.code, String(fn)).toBe(code);
    }
  });
});

describe('getnameinfo', () => {
  itPython3('numeric answers for numeric flags, and the same names python3 finds (test_getnameinfo)', async () => {
    expect(getnameinfo(['127.0.0.1', 80], NI_NUMERICHOST | NI_NUMERICSERV)).toEqual(['127.0.0.1', '80']);
    expect(getnameinfo(['::1', 443], NI_NUMERICHOST | NI_NUMERICSERV)).toEqual(['::1', '443']);
    const ours = getnameinfo(['127.0.0.1', 80]);
    expect(ours).toEqual(await py(`print(json.dumps(socket.getnameinfo(('127.0.0.1', 80), 0)))`));
    expect(getnameinfo(['127.0.0.1', 53], NI_NUMERICHOST | NI_DGRAM)[1]).toBe(await py(`print(json.dumps(socket.getnameinfo(('127.0.0.1', 53), socket.NI_NUMERICHOST | socket.NI_DGRAM)[1]))`));
  });

  it('a scoped IPv6 address keeps its scope; the 4-tuple form is accepted (test_getnameinfo_ipv6_scopeid)', async () => {
    expect(getnameinfo(['fe80::1%lo', 80], NI_NUMERICHOST | NI_NUMERICSERV)).toEqual(['fe80::1%lo', '80']);
    expect(getnameinfo(['fe80::1', 80, 0, 1], NI_NUMERICHOST | NI_NUMERICSERV)).toEqual(['fe80::1%lo', '80']);
  });

  it('a host name is not looked up (as Python); NI_NAMEREQD for an address without a name fails dns-shaped', async () => {
    expect((catchError(() => getnameinfo(['localhost', 80])) as NodeJS.ErrnoException).syscall).toBe('getnameinfo');
    const err = catchError(() => getnameinfo(['192.0.2.1', 80], NI_NAMEREQD)) as NodeJS.ErrnoException;
    expect(err.syscall).toBe('getnameinfo');
    expect(err.code).toMatch(/^(ENOTFOUND|EAI_AGAIN|EAI_FAIL)$/);
  });

  it('bad input', async () => {
    const bad: Array<[() => unknown, string]> = [
      [() => getnameinfo('127.0.0.1' as unknown as [string, number]), 'TypeError'],
      [() => getnameinfo(['127.0.0.1'] as unknown as [string, number]), 'TypeError'],
      [() => getnameinfo(['127.0.0.1', 'x'] as unknown as [string, number]), 'TypeError'],
      [() => getnameinfo(['127.0.0.1', 70000]), 'RangeError'],
      [() => getnameinfo(['127.0.0.1', 80, 0, 0]), 'TypeError'],
      [() => getnameinfo(['::1', 80, -1, 0]), 'RangeError'],
      [() => getnameinfo(['127.0.0.1', 80], 1.5), 'TypeError'],
    ];
    for (const [fn, name] of bad) expect((catchError(fn) as Error).name, String(fn)).toBe(name);
  });
});

describe('part 2 constants', () => {
  itPython3('every constant of the contract is exported with the value python3 has on this machine', async () => {
    const io = (await import('../src/ts/index')) as unknown as Record<string, number>;
    const names = [
      'AF_UNSPEC', 'AI_PASSIVE', 'AI_CANONNAME', 'AI_NUMERICHOST', 'AI_NUMERICSERV', 'AI_ADDRCONFIG', 'NI_NUMERICHOST',
      'NI_NUMERICSERV', 'NI_NAMEREQD', 'NI_DGRAM', 'MSG_PEEK', 'MSG_DONTWAIT', 'MSG_WAITALL', 'MSG_OOB', 'MSG_TRUNC',
      'MSG_CTRUNC', 'MSG_NOSIGNAL', 'MSG_CMSG_CLOEXEC', 'SCM_RIGHTS', 'SCM_CREDENTIALS', 'SO_PEERCRED', 'SO_PASSCRED',
      'SO_BROADCAST', 'SO_RCVTIMEO', 'SO_SNDTIMEO', 'SOMAXCONN', 'SOCK_SEQPACKET', 'SOCK_RAW', 'TCP_KEEPIDLE',
      'TCP_KEEPINTVL', 'TCP_KEEPCNT', 'IPPROTO_IP', 'IPPROTO_UDP', 'IP_TTL', 'IP_MULTICAST_TTL', 'IP_MULTICAST_LOOP',
      'IP_MULTICAST_IF', 'IP_ADD_MEMBERSHIP', 'IP_DROP_MEMBERSHIP', 'IPV6_JOIN_GROUP', 'IPV6_LEAVE_GROUP',
      'IPV6_MULTICAST_HOPS',
    ];
    const theirs = await py(`print(json.dumps({n: int(getattr(socket, n)) for n in ${JSON.stringify(names)}}))`);
    expect(Object.fromEntries(names.map((n) => [n, io[n]]))).toEqual(theirs);
  });
});
