// EventLoop, part 2: asyncio's add_reader/remove_reader/add_writer/remove_writer
// (on the same selector registration as the loop's own waits), sockSendTo and
// sockRecvFrom, against real sockets and pipes.
import * as fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { AF_INET, EventLoop, SOCK_DGRAM, Socket, close, pipe, setBlocking, socketpair } from '../src/ts/index';
import { catchError } from './socket-helpers';
import { itPipes } from './platform';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function newLoop(): EventLoop {
  const loop = new EventLoop();
  cleanups.push(() => loop.close());
  return loop;
}
function newPipe(): [number, number] {
  const p = pipe();
  cleanups.push(() => {
    close(p[0]);
    close(p[1]);
  });
  return p;
}

describe('addReader/removeReader/addWriter/removeWriter', () => {
  itPipes('a reader on a pipe is called each time it is readable, until removed (asyncio test_add_reader)', async () => {
    const loop = newLoop();
    const [r, w] = newPipe();
    setBlocking(r, false);
    const got: string[] = [];
    await loop.run(async () => {
      await new Promise<void>((done) => {
        loop.addReader(r, () => {
          const b = Buffer.alloc(16);
          got.push(b.toString('utf8', 0, fs.readSync(r, b)));
          if (got.length === 3) done();
          else loop.callLater(5, () => fs.writeSync(w, `m${got.length}`));
        });
        fs.writeSync(w, 'm0');
      });
      expect(loop.removeReader(r)).toBe(true);
      expect(loop.removeReader(r)).toBe(false);
      fs.writeSync(w, 'late');
      await loop.sleep(30);
    });
    expect(got).toEqual(['m0', 'm1', 'm2']);
    expect(loop.selector.getMap().size).toBe(0);
  });

  it('addReader replaces the earlier reader; a writer on the same fd shares its registration', async () => {
    const loop = newLoop();
    const [a, b] = socketpair();
    cleanups.push(() => {
      a.close();
      b.close();
    });
    b.setBlocking(false);
    const calls: string[] = [];
    await loop.run(async () => {
      loop.addReader(b, () => calls.push('first'));
      loop.addReader(b, () => {
        calls.push('second');
        b.recv(100);
      });
      let writes = 0;
      loop.addWriter(b, () => {
        writes++;
        if (writes === 2) loop.removeWriter(b);
      });
      const key = loop.selector.getKey(b);
      expect(key.events).toBe(3);
      a.send(Buffer.from('x'));
      // Bounded: each loop pass calls the writer once, and a loaded machine makes passes slow.
      for (let i = 0; i < 400 && (writes < 2 || calls.length === 0); i++) await loop.sleep(5);
      await loop.sleep(10);
      expect(writes).toBe(2);
      expect(loop.selector.getKey(b).events).toBe(1);
      expect(loop.removeWriter(b)).toBe(false);
      loop.removeReader(b);
    });
    expect(calls).toEqual(['second']);
  });

  it('a coroutine waiting to read the fd: addReader is ERR_IOMUX_BUSY; a waiting writer coexists with a reader callback', async () => {
    const loop = newLoop();
    const [a, b] = socketpair();
    cleanups.push(() => {
      a.close();
      b.close();
    });
    await loop.run(async () => {
      const pending = loop.sockRecv(b, 10);
      await loop.sleep(5);
      expect((catchError(() => loop.addReader(b, () => {})) as { code: string }).code).toBe('ERR_IOMUX_BUSY');
      let readable = 0;
      loop.addReader(a, () => {
        readable++;
        a.recv(10);
      });
      await loop.sockSendAll(a, Buffer.from('to b'));
      expect((await pending).toString()).toBe('to b');
      await loop.sockSendAll(b, Buffer.from('to a'));
      await loop.sleep(20);
      expect(readable).toBe(1);
      expect(loop.removeReader(a)).toBe(true);
    });
  });

  itPipes('a throwing callback is reported as a warning and the loop goes on; close() drops callbacks without calling them', async () => {
    const loop = newLoop();
    const [r, w] = newPipe();
    const warnings: string[] = [];
    const onWarn = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarn);
    try {
      let n = 0;
      await loop.run(async () => {
        loop.addReader(r, () => {
          n++;
          fs.readSync(r, Buffer.alloc(8));
          throw new Error('reader boom');
        });
        fs.writeSync(w, 'x');
        await loop.sleep(30);
      });
      expect(n).toBe(1);
      await new Promise((res) => setImmediate(res));
      expect(warnings.some((m) => m.includes('reader boom'))).toBe(true);
      fs.writeSync(w, 'y');
      loop.close();
      expect(n).toBe(1);
      expect(loop.removeReader(r)).toBe(false);
    } finally {
      process.off('warning', onWarn);
    }
  });

  itPipes('bad input: wrong fd types, negative fds, non-function callbacks, a closed loop', () => {
    const loop = newLoop();
    const code = (fn: () => unknown) => (catchError(fn) as { code?: string }).code;
    expect(code(() => loop.addReader('x' as unknown as number, () => {}))).toBe('ERR_INVALID_ARG_TYPE');
    expect(code(() => loop.addReader(-1, () => {}))).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => loop.addWriter(0, 5 as unknown as () => void))).toBe('ERR_INVALID_ARG_TYPE');
    expect(code(() => loop.removeReader(1.5))).toBe('ERR_INVALID_ARG_TYPE');
    const [r, w] = pipe();
    close(r);
    close(w);
    expect(code(() => loop.addReader(r, () => {}))).toBe('EBADF');
    expect(loop.selector.getMap().size).toBe(0);
    loop.close();
    expect(code(() => loop.addReader(0, () => {}))).toBe('ERR_IOMUX_CLOSED');
    expect(loop.removeWriter(0)).toBe(false);
  });
});

describe('sockSendTo/sockRecvFrom', () => {
  it('a UDP ping-pong between two loop coroutines, with the sender addresses', async () => {
    const loop = newLoop();
    const u = new Socket(AF_INET, SOCK_DGRAM);
    const v = new Socket(AF_INET, SOCK_DGRAM);
    cleanups.push(() => {
      u.close();
      v.close();
    });
    u.bind(['127.0.0.1', 0]);
    v.bind(['127.0.0.1', 0]);
    const out = await loop.run(async () => {
      const server = (async () => {
        const [data, from] = await loop.sockRecvFrom(u, 100);
        await loop.sockSendTo(u, Buffer.concat([Buffer.from('pong:'), data]), from!);
        return from;
      })();
      await loop.sleep(10);
      expect(await loop.sockSendTo(v, Buffer.from('ping'), u.getsockname())).toBe(4);
      const [reply, replyFrom] = await loop.sockRecvFrom(v, 100);
      return [reply.toString(), replyFrom, await server];
    });
    expect(out).toEqual(['pong:ping', u.getsockname(), v.getsockname()]);
    expect(u.getBlocking()).toBe(false);
  });

  it('errors reject: a closed socket (EBADF), a message too long (EMSGSIZE naming the address), an abort', async () => {
    const loop = newLoop();
    const u = new Socket(AF_INET, SOCK_DGRAM);
    cleanups.push(() => u.close());
    u.bind(['127.0.0.1', 0]);
    await loop.run(async () => {
      await expect(loop.sockSendTo(u, Buffer.alloc(70000), ['127.0.0.1', 9])).rejects.toMatchObject({ code: 'EMSGSIZE', address: '127.0.0.1', port: 9 });
      const ctl = new AbortController();
      const p = loop.sockRecvFrom(u, 10, { signal: ctl.signal });
      ctl.abort();
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      const c = new Socket(AF_INET, SOCK_DGRAM);
      c.close();
      await expect(loop.sockRecvFrom(c, 10)).rejects.toMatchObject({ code: 'EBADF' });
    });
  });
});
