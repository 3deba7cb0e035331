// poll(2) through Poll: real pipes and socketpairs.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FD_SETSIZE,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  POLLPRI,
  POLLRDHUP,
  Poll,
  SHUT_WR,
  Socket,
  pipe,
  socketpair,
} from '../src/ts/index';
import { FdBag, readFd, timed, writeFd } from './fixtures/lowlevel';
import { WINDOWS, itPipes } from './platform';

const bag = new FdBag();
afterEach(() => bag.closeAll());

function pair(): [Socket, Socket] {
  const [a, b] = socketpair();
  return [bag.obj(a), bag.obj(b)];
}

function sorted(r: Array<[number, number]>): Array<[number, number]> {
  return [...r].sort((x, y) => x[0] - y[0]);
}

describe.skipIf(WINDOWS)('Poll constants (no poll(2) on Windows: Poll throws ENOSYS)', () => {
  it('are the Linux values', () => {
    expect({ POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDHUP }).toEqual({
      POLLIN: 0x1,
      POLLPRI: 0x2,
      POLLOUT: 0x4,
      POLLERR: 0x8,
      POLLHUP: 0x10,
      POLLNVAL: 0x20,
      POLLRDHUP: 0x2000,
    });
  });
});

describe.skipIf(WINDOWS)('Poll registration (no poll(2) on Windows: Poll throws ENOSYS)', () => {
  it('registers POLLIN | POLLPRI | POLLOUT by default', () => {
    const [a, b] = pair();
    const p = new Poll();
    p.register(a);
    expect(p.poll(0)).toEqual([[a.fileno(), POLLOUT]]);
    b.send(Buffer.from('x'));
    expect(p.poll(0)).toEqual([[a.fileno(), POLLIN | POLLOUT]]);
  });

  it('re-registering modifies the mask and keeps one entry', () => {
    const [a, b] = pair();
    b.send(Buffer.from('x'));
    const p = new Poll();
    p.register(a, POLLIN);
    expect(p.poll(0)).toEqual([[a.fileno(), POLLIN]]);
    p.register(a, POLLOUT);
    expect(p.poll(0)).toEqual([[a.fileno(), POLLOUT]]);
    p.register(a.fileno(), POLLIN | POLLOUT);
    expect(p.poll(0)).toEqual([[a.fileno(), POLLIN | POLLOUT]]);
  });

  itPipes('modify() changes the mask of a registered fd', () => {
    const [r, w] = bag.add(...pipe());
    const p = new Poll();
    p.register(w, POLLIN);
    expect(p.poll(0)).toEqual([]);
    p.modify(w, POLLOUT);
    expect(p.poll(0)).toEqual([[w, POLLOUT]]);
    p.register(r, POLLIN);
    writeFd(w, 'x');
    expect(sorted(p.poll(0))).toEqual(sorted([[r, POLLIN], [w, POLLOUT]]));
  });

  it('unregister() stops reporting the fd', () => {
    const [a, b] = pair();
    const p = new Poll();
    p.register(a);
    p.register(b);
    expect(p.poll(0)).toHaveLength(2);
    p.unregister(a);
    expect(p.poll(0)).toEqual([[b.fileno(), POLLOUT]]);
    p.unregister(b);
    expect(p.poll(0)).toEqual([]);
  });

  it('accepts FileLike objects and reports fd numbers', () => {
    const [a] = pair();
    const p = new Poll();
    p.register({ fileno: () => a.fileno() }, POLLOUT);
    expect(p.poll(0)).toEqual([[a.fileno(), POLLOUT]]);
    p.unregister(a);
    expect(p.poll(0)).toEqual([]);
  });

  it.each(['modify', 'unregister'] as const)('%s() of an fd that is not registered throws ENOENT', (method) => {
    const [a] = pair();
    const p = new Poll();
    const call = () => (method === 'modify' ? p.modify(a, POLLIN) : p.unregister(a));
    expect(call).toThrow(expect.objectContaining({ code: 'ENOENT', errno: -2 }));
    // Also once it was registered and then removed.
    p.register(a);
    p.unregister(a);
    let err: (Error & { syscall?: string }) | undefined;
    try {
      call();
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'ENOENT', errno: -2 });
    expect(typeof err!.syscall).toBe('string');
    expect(err!.message).toContain('ENOENT');
  });

  itPipes('handles many fds (the results buffer grows)', () => {
    const p = new Poll();
    const reads: number[] = [];
    for (let i = 0; i < 150; i++) {
      const [r, w] = bag.add(...pipe());
      writeFd(w, 'x');
      p.register(r, POLLIN);
      reads.push(r);
    }
    const res = p.poll(0);
    expect(res.map(([fd]) => fd).sort((x, y) => x - y)).toEqual([...reads].sort((x, y) => x - y));
    expect(res.every(([, ev]) => ev === POLLIN)).toBe(true);
  });

  it('has no FD_SETSIZE limit', () => {
    const socks: Socket[] = [];
    try {
      let high: Socket | undefined;
      while (!high) {
        const [a, b] = socketpair();
        socks.push(a, b);
        if (b.fileno() >= FD_SETSIZE + 10) high = b;
      }
      const p = new Poll();
      p.register(high, POLLOUT);
      expect(p.poll(0)).toEqual([[high.fileno(), POLLOUT]]);
    } finally {
      for (const s of socks) s.close();
    }
  });
});

describe.skipIf(WINDOWS)('Poll revents (no poll(2) on Windows: Poll throws ENOSYS)', () => {
  itPipes('POLLHUP on the read end of a pipe whose write end is closed', () => {
    const [r, w] = bag.add(...pipe());
    const p = new Poll();
    p.register(r, POLLIN);
    bag.close(w);
    const [[fd, ev]] = p.poll(0);
    expect(fd).toBe(r);
    expect(ev & POLLHUP).toBe(POLLHUP);
    expect(readFd(r)).toBe('');
  });

  itPipes('POLLIN and POLLHUP together while data is still buffered', () => {
    const [r, w] = bag.add(...pipe());
    writeFd(w, 'tail');
    bag.close(w);
    const p = new Poll();
    p.register(r, POLLIN);
    expect(p.poll(0)).toEqual([[r, POLLIN | POLLHUP]]);
  });

  itPipes('POLLERR on the write end of a pipe whose read end is closed (reported even if not asked for)', () => {
    const [r, w] = bag.add(...pipe());
    const p = new Poll();
    p.register(w, POLLIN);
    bag.close(r);
    const [[fd, ev]] = p.poll(0);
    expect(fd).toBe(w);
    expect(ev & POLLERR).toBe(POLLERR);
  });

  itPipes('POLLNVAL for a registered fd that was closed', () => {
    const [a] = pair();
    const [r, w] = bag.add(...pipe());
    const p = new Poll();
    p.register(r);
    p.register(a, POLLOUT);
    bag.close(r);
    bag.close(w);
    expect(sorted(p.poll(0))).toEqual(sorted([[r, POLLNVAL], [a.fileno(), POLLOUT]]));
    // An fd number that was never open is the same.
    p.register(FD_SETSIZE * 8, POLLIN);
    expect(p.poll(0)).toContainEqual([FD_SETSIZE * 8, POLLNVAL]);
  });

  it('POLLRDHUP when the peer shuts down its write side', () => {
    const [a, b] = pair();
    const p = new Poll();
    p.register(a, POLLIN | POLLRDHUP);
    expect(p.poll(0)).toEqual([]);
    b.shutdown(SHUT_WR);
    expect(p.poll(0)).toEqual([[a.fileno(), POLLIN | POLLRDHUP]]);
    // Without POLLRDHUP in the mask it is not reported.
    p.modify(a, POLLIN);
    expect(p.poll(0)).toEqual([[a.fileno(), POLLIN]]);
  });

  it('POLLHUP on a socket whose peer closed', () => {
    const [a, b] = pair();
    const p = new Poll();
    p.register(a, POLLIN);
    b.close();
    const [[, ev]] = p.poll(0);
    expect(ev & (POLLIN | POLLHUP)).toBe(POLLIN | POLLHUP);
  });
});

describe.skipIf(WINDOWS)('Poll timeouts (no poll(2) on Windows: Poll throws ENOSYS)', () => {
  itPipes('0 and negative timeouts return at once', () => {
    const [r] = bag.add(...pipe());
    const p = new Poll();
    p.register(r, POLLIN);
    for (const t of [0, -1, -0.1, -5000, -Infinity]) {
      const [res, ms] = timed(() => p.poll(t));
      expect(res).toEqual([]);
      expect(ms).toBeLessThan(100);
    }
  });

  itPipes('waits a positive timeout out, rounding fractions up', () => {
    const [r] = bag.add(...pipe());
    const p = new Poll();
    p.register(r, POLLIN);
    const [res, ms] = timed(() => p.poll(100));
    expect(res).toEqual([]);
    expect(ms).toBeGreaterThanOrEqual(100);
    expect(ms).toBeLessThan(2000);
    // poll(2) counts whole milliseconds: 0.2 must not become a 0 (a poll).
    for (let i = 0; i < 5; i++) {
      const [, small] = timed(() => p.poll(0.2));
      expect(small).toBeGreaterThanOrEqual(0.2);
    }
    const [, frac] = timed(() => p.poll(30.5));
    expect(frac).toBeGreaterThanOrEqual(30.5);
  });

  it.each([60000, 2 ** 31, 2 ** 32 + 5, 2 ** 53, 1e15 + 1])('a timeout of %s beyond what poll(2) takes is no error', (t) => {
    const [a] = pair();
    const p = new Poll();
    p.register(a, POLLOUT);
    const [res, ms] = timed(() => p.poll(t));
    expect(res).toEqual([[a.fileno(), POLLOUT]]);
    expect(ms).toBeLessThan(1000);
  });

  it('with nothing registered, sleeps for the timeout', () => {
    const [res, ms] = timed(() => new Poll().poll(60));
    expect(res).toEqual([]);
    expect(ms).toBeGreaterThanOrEqual(60);
  });

  itPipes.each([null, undefined, Infinity])('%s blocks until a child process writes', async (t) => {
    const [r, w] = bag.add(...pipe());
    const p = new Poll();
    p.register(r, POLLIN);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => require("fs").writeSync(1, "x"), 250)'], {
      stdio: ['ignore', w, 'ignore'],
    });
    const exited = new Promise((res) => child.once('exit', res));
    bag.close(w);
    const [res, ms] = timed(() => p.poll(t));
    expect(res[0]).toEqual([r, POLLIN]);
    expect(ms).toBeGreaterThanOrEqual(150);
    await exited;
  });
});
