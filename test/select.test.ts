// select(2) through select(): pipes and socketpairs on the real kernel.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { AF_INET, FD_SETSIZE, Socket, pipe, select, socketpair } from '../src/ts/index';
import { FdBag, readFd, timed, writeFd } from './fixtures/lowlevel';
import { itFdNumberLimit, itPipes, itProcFs, itPython3 } from './platform';
import { TIME_SCALE } from './time-scale';

const bag = new FdBag();
afterEach(() => bag.closeAll());

function pair(): [Socket, Socket] {
  const [a, b] = socketpair();
  bag.obj(a);
  bag.obj(b);
  return [a, b];
}

describe('select() readiness', () => {
  itPipes('an empty pipe is not readable, its write end is writable', () => {
    const [r, w] = bag.add(...pipe());
    expect(select([r], [w], [], 0)).toEqual([[], [w], []]);
  });

  itPipes('the read end of a pipe becomes readable after a write', () => {
    const [r, w] = bag.add(...pipe());
    writeFd(w, 'hello');
    expect(select([r], [], [], 0)).toEqual([[r], [], []]);
    expect(readFd(r)).toBe('hello');
    // Drained: no longer readable.
    expect(select([r], [], [], 0)).toEqual([[], [], []]);
  });

  itPipes('the read end of a pipe is readable (EOF) once the write end is closed', () => {
    const [r, w] = bag.add(...pipe());
    bag.close(w);
    expect(select([r], [], [], 0)).toEqual([[r], [], []]);
    expect(readFd(r)).toBe('');
  });

  itProcFs('a full pipe is not writable', () => {
    const [r, w] = bag.add(...pipe());
    const [s] = pair();
    // Fill the pipe through a non-blocking write end: the socket pair's write
    // readiness stays as a control.
    const fd = fs.openSync(`/proc/self/fd/${w}`, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    bag.add(fd);
    const chunk = Buffer.alloc(65536, 1);
    for (;;) {
      try {
        fs.writeSync(fd, chunk);
      } catch (e) {
        expect((e as NodeJS.ErrnoException).code).toBe('EAGAIN');
        break;
      }
    }
    expect(select([], [w, s, fd], [], 0)).toEqual([[], [s], []]);
    readFd(r, 65536 * 4);
    expect(select([], [w], [], 0)[1]).toEqual([w]);
  });

  it('a socketpair end is readable after the peer sends, and both ends are writable', () => {
    const [a, b] = pair();
    expect(select([a, b], [a, b], [], 0)).toEqual([[], [a, b], []]);
    b.send(Buffer.from('ping'));
    expect(select([a, b], [a, b], [], 0)).toEqual([[a], [a, b], []]);
    expect(a.recv(16)!.toString()).toBe('ping');
    expect(select([a, b], [], [], 0)).toEqual([[], [], []]);
  });

  it('a socket whose peer closed is readable, and recv() says EOF', () => {
    const [a, b] = pair();
    b.close();
    const [rd] = select([a], [], [], 0);
    expect(rd).toEqual([a]);
    expect(a.recv(16)!.length).toBe(0);
  });

  itPipes('returns each ready subset in the order given, not in fd order', () => {
    const fds: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [r, w] = bag.add(...pipe());
      writeFd(w, 'x');
      fds.push(r);
    }
    const [e] = bag.add(...pipe()); // never readable
    const order = [fds[2], e, fds[0], fds[3], fds[1]];
    expect(select(order, [], [], 0)[0]).toEqual([fds[2], fds[0], fds[3], fds[1]]);
    expect(select([...order].reverse(), [], [], 0)[0]).toEqual([fds[1], fds[3], fds[0], fds[2]]);
  });

  itPipes('an fd listed twice is reported twice, as Python does', () => {
    const [r, w] = bag.add(...pipe());
    writeFd(w, 'x');
    expect(select([r, r], [], [], 0)[0]).toEqual([r, r]);
  });

  it('returns the very FileLike objects it was given', () => {
    const [a, b] = pair();
    const wrapper = { fileno: () => b.fileno(), name: 'wrapper' };
    a.send(Buffer.from('x'));
    const [rd, wr] = select([a, wrapper], [wrapper, a], [], 0);
    expect(rd).toHaveLength(1);
    expect(rd[0]).toBe(wrapper);
    expect(wr).toHaveLength(2);
    expect(wr[0]).toBe(wrapper);
    expect(wr[1]).toBe(a);
    // Mixed numbers and objects keep their identity too.
    const [r2] = select([b.fileno(), a], [], [], 0);
    expect(r2).toEqual([b.fileno()]);
  });

  itPipes('returns fresh arrays and leaves its inputs alone', () => {
    const [r, w] = bag.add(...pipe());
    const rl = [r];
    const wl = [w];
    const res = select(rl, wl, [], 0);
    expect(res[1]).not.toBe(wl);
    expect(rl).toEqual([r]);
    expect(wl).toEqual([w]);
  });
});

describe('select() xlist', () => {
  itPipes('reports nothing exceptional on pipes and sockets without urgent data', () => {
    const [r, w] = bag.add(...pipe());
    const [a, b] = pair();
    writeFd(w, 'x');
    b.send(Buffer.from('x'));
    expect(select([], [], [r, w, a, b], 0)).toEqual([[], [], []]);
  });

  itPython3('reports TCP urgent (out-of-band) data in xlist', () => {
    const srv = bag.obj(new Socket(AF_INET));
    srv.bind(['127.0.0.1', 0]);
    srv.listen(1);
    const [, port] = srv.getsockname() as [string, number];
    // Python's socket module can send MSG_OOB; iomux's send() has no flags.
    const py = spawnSync('python3', ['-c', `
import socket
s = socket.create_connection(('127.0.0.1', ${port}))
s.send(b'a')
s.send(b'!', socket.MSG_OOB)
s.close()
`], { encoding: 'utf8', timeout: 10000 * TIME_SCALE });
    expect(py.error, String(py.error)).toBeUndefined();
    expect(py.status, py.stderr).toBe(0);
    const [conn] = srv.accept()!;
    bag.obj(conn);
    const [rd, , xl] = select([conn], [], [conn], 1000);
    expect(xl).toEqual([conn]);
    expect(rd).toEqual([conn]);
    // A plain socket pair next to it stays out of xlist.
    const [a] = pair();
    expect(select([], [], [a, conn], 0)[2]).toEqual([conn]);
  });
});

describe('select() timeouts', () => {
  itPipes('0 polls and returns at once', () => {
    const [r] = bag.add(...pipe());
    const [res, ms] = timed(() => select([r], [], [], 0));
    expect(res).toEqual([[], [], []]);
    expect(ms).toBeLessThan(100);
  });

  itPipes.each([-1, -0.5, -1000, -Infinity])('negative timeout %s polls and returns at once', (t) => {
    const [r, w] = bag.add(...pipe());
    const [res, ms] = timed(() => select([r], [], [], t));
    expect(res).toEqual([[], [], []]);
    expect(ms).toBeLessThan(100);
    writeFd(w, 'x');
    expect(select([r], [], [], t)[0]).toEqual([r]);
  });

  itPipes('waits out a positive timeout when nothing is ready', () => {
    const [r] = bag.add(...pipe());
    const [res, ms] = timed(() => select([r], [], [], 120));
    expect(res).toEqual([[], [], []]);
    expect(ms).toBeGreaterThanOrEqual(120);
    expect(ms).toBeLessThan(2000);
  });

  itPipes('rounds a fractional timeout up, never returning early', () => {
    const [r] = bag.add(...pipe());
    const [, ms] = timed(() => select([r], [], [], 60.7));
    expect(ms).toBeGreaterThanOrEqual(60.7);
    // Below a millisecond is still a wait, not a poll.
    const [, small] = timed(() => select([r], [], [], 0.4));
    expect(small).toBeGreaterThanOrEqual(0.4);
  });

  it('with empty lists, sleeps for the timeout', () => {
    const [res, ms] = timed(() => select([], [], [], 80));
    expect(res).toEqual([[], [], []]);
    expect(ms).toBeGreaterThanOrEqual(80);
    expect(ms).toBeLessThan(2000);
  });

  it.each([60000, 2 ** 31, 2 ** 32 + 5, 2 ** 53, 1e15 + 1])(
    'returns at once when something is ready, however long the timeout (%s: never an error)',
    (t) => {
      const [a] = pair();
      const [res, ms] = timed(() => select([], [a], [], t));
      expect(res[1]).toEqual([a]);
      expect(ms).toBeLessThan(1000);
    },
  );

  itPipes.each([
    ['null', null],
    ['undefined', undefined],
    ['Infinity', Infinity],
    ['a huge number', 1e300],
    ['omitted', 'omitted'],
  ] as const)('%s blocks until a child process writes', async (_name, t) => {
    const [r, w] = bag.add(...pipe());
    // select() blocks this thread, so the writer must be another process. If it
    // dies without writing, the pipe reaches EOF and select still returns.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => require("fs").writeSync(1, "late"), 250)'], {
      stdio: ['ignore', w, 'ignore'],
    });
    const exited = new Promise((res) => child.once('exit', res));
    bag.close(w);
    const [res, ms] = timed(() => (t === 'omitted' ? select([r], [], []) : select([r], [], [], t)));
    expect(res).toEqual([[r], [], []]);
    expect(readFd(r)).toBe('late');
    expect(ms).toBeGreaterThanOrEqual(150);
    await exited;
  });
});

describe('select() limits', () => {
  it('FD_SETSIZE is the platform value', () => {
    expect(FD_SETSIZE).toBe(1024);
  });

  itFdNumberLimit('a real open fd at or above FD_SETSIZE is a RangeError, checked before anything else', () => {
    const socks: Socket[] = [];
    try {
      let high: Socket | undefined;
      while (!high) {
        for (const s of socketpair()) {
          socks.push(s);
          if (s.fileno() >= FD_SETSIZE) high = s;
        }
      }
      const low = socks[0];
      expect(() => select([low, high], [], [], 0)).toThrow(RangeError);
      expect(() => select([], [high], [], 0)).toThrow(RangeError);
      expect(() => select([], [], [high], 0)).toThrow(RangeError);
      expect(() => select([], [], [], 0)).not.toThrow();
      // The highest allowed fd works.
      const top = socks.find((s) => s.fileno() === FD_SETSIZE - 1) ?? socks.find((s) => s.fileno() < FD_SETSIZE && s.fileno() > 1000)!;
      expect(select([], [top], [], 0)[1]).toEqual([top]);
    } finally {
      for (const s of socks) s.close();
    }
  });
});
