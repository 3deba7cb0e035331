// EventLoop against real sockets: an echo server written on the loop, a client
// to Node's own net servers, timers, callSoon, run()'s outcome, close(), and
// Ctrl-C reaching a program that runs the loop.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AF_INET, EventLoop, PollSelector, SelectSelector, Socket, socketpair, SOCK_STREAM } from '../src/ts/index';
import { backendMissing, itPosixProcess, itUnless } from './platform';
import { TIME_SCALE } from './time-scale';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function newLoop(opts?: ConstructorParameters<typeof EventLoop>[0]): EventLoop {
  const loop = new EventLoop(opts);
  cleanups.push(() => loop.close());
  return loop;
}

function listener(): [Socket, number] {
  const s = new Socket(AF_INET, SOCK_STREAM);
  cleanups.push(() => s.close());
  s.bind(['127.0.0.1', 0]);
  s.listen(64);
  return [s, (s.getsockname() as [string, number])[1]];
}

async function nodeServer(onConn: (c: net.Socket) => void): Promise<number> {
  const srv = net.createServer(onConn);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
  return (srv.address() as net.AddressInfo).port;
}

// A Node client that sends `msg`, half-closes and collects everything echoed back.
function nodeEchoClient(port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const c = net.connect(port, '127.0.0.1', () => c.end(msg));
    c.on('data', (d) => chunks.push(d));
    c.on('end', () => resolve(Buffer.concat(chunks)));
    c.on('error', reject);
  });
}

describe('EventLoop sockets', () => {
  it('serves an echo server written with sockAccept/sockRecv/sockSendAll to Node clients', async () => {
    const loop = newLoop();
    const [lsock, port] = listener();
    const clients = 5;
    const msgs = Array.from({ length: clients }, (_, i) => Buffer.alloc(100_000 + i * 7919, `client ${i};`));
    const served = await loop.run(async () => {
      const handle = async (conn: Socket) => {
        try {
          for (;;) {
            const data = await loop.sockRecv(conn, 65536);
            if (data.length === 0) return;
            await loop.sockSendAll(conn, data);
          }
        } finally {
          conn.close();
        }
      };
      const handlers: Promise<void>[] = [];
      const answers = Promise.all(msgs.map((m) => nodeEchoClient(port, m)));
      for (let i = 0; i < clients; i++) {
        const [conn, addr] = await loop.sockAccept(lsock);
        expect(conn.getBlocking()).toBe(false);
        expect((addr as [string, number])[0]).toBe('127.0.0.1');
        handlers.push(handle(conn));
      }
      await Promise.all(handlers);
      return answers;
    });
    expect(lsock.getBlocking()).toBe(false);
    served.forEach((b, i) => expect(b.equals(msgs[i])).toBe(true));
  });

  it('connects to a Node net server, sends and receives', async () => {
    const port = await nodeServer((c) => c.pipe(c));
    const loop = newLoop();
    const got = await loop.run(async () => {
      const s = new Socket();
      try {
        await loop.sockConnect(s, ['127.0.0.1', port]);
        expect(s.getBlocking()).toBe(false);
        const big = Buffer.alloc(3 * 1024 * 1024, 'xyz');
        const reading = (async () => {
          let n = 0;
          while (n < big.length) n += (await loop.sockRecv(s, 1 << 16)).length;
          return n;
        })();
        await loop.sockSendAll(s, big);
        return await reading;
      } finally {
        s.close();
      }
    });
    expect(got).toBe(3 * 1024 * 1024);
  });

  it('resolves a host name without blocking (localhost)', async () => {
    const port = await nodeServer((c) => c.end('hi'));
    const loop = newLoop();
    const got = await loop.run(async () => {
      const s = new Socket();
      try {
        await loop.sockConnect(s, ['localhost', port]);
        const out: Buffer[] = [];
        for (let b = await loop.sockRecv(s, 10); b.length > 0; b = await loop.sockRecv(s, 10)) out.push(b);
        return Buffer.concat(out).toString();
      } finally {
        s.close();
      }
    });
    expect(got).toBe('hi');
  });

  it('rejects a refused connect with ECONNREFUSED', async () => {
    const probe = new Socket();
    probe.bind(['127.0.0.1', 0]);
    const port = (probe.getsockname() as [string, number])[1];
    probe.close(); // nothing listens on this port now
    const loop = newLoop();
    const s = new Socket();
    cleanups.push(() => s.close());
    await expect(loop.run(() => loop.sockConnect(s, ['127.0.0.1', port]))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(loop.selector.getMap().size).toBe(0);
  });

  it('sockRecv returns an empty Buffer when the peer closes', async () => {
    const [a, b] = socketpair();
    cleanups.push(() => a.close(), () => b.close());
    const loop = newLoop();
    const got = await loop.run(async () => {
      loop.callLater(20, () => b.close());
      return loop.sockRecv(a, 100);
    });
    expect(got.length).toBe(0);
  });

  it('a second reader on the same socket is refused; an aborted wait leaves no registration', async () => {
    const [a, b] = socketpair();
    cleanups.push(() => a.close(), () => b.close());
    const loop = newLoop();
    await loop.run(async () => {
      const ac = new AbortController();
      const first = loop.sockRecv(a, 10, { signal: ac.signal });
      await loop.sleep(5);
      await expect(loop.sockRecv(a, 10)).rejects.toMatchObject({ code: 'ERR_IOMUX_BUSY' });
      ac.abort();
      await expect(first).rejects.toMatchObject({ name: 'AbortError' });
      expect(loop.selector.getMap().size).toBe(0);
    });
  });

  itUnless(!!backendMissing('poll'), backendMissing('poll'))('works on the select and poll backends too', async () => {
    for (const Sel of [SelectSelector, PollSelector]) {
      const [a, b] = socketpair();
      cleanups.push(() => a.close(), () => b.close());
      const loop = newLoop({ selector: new Sel() });
      const got = await loop.run(async () => {
        const r = loop.sockRecv(a, 100);
        await loop.sleep(5);
        await loop.sockSendAll(b, Buffer.from('ping'));
        return (await r).toString();
      });
      expect(got).toBe('ping');
    }
  });
});

describe('EventLoop timers and callbacks', () => {
  it('callLater fires by deadline, equal delays in scheduling order, cancelled ones never', async () => {
    const loop = newLoop();
    const order: string[] = [];
    await loop.run(async () => {
      // The unit is longer under emulation, where scheduling these seven can
      // itself take longer than 10 ms (and so legitimately reorder them).
      const u = 10 * TIME_SCALE;
      loop.callLater(3 * u, () => order.push('30a'));
      loop.callLater(u, () => order.push('10a'));
      const c = loop.callLater(2 * u, () => order.push('cancelled'));
      loop.callLater(3 * u, () => order.push('30b'));
      loop.callLater(u, () => order.push('10b'));
      loop.callLater(0, () => order.push('0'));
      loop.callLater(-5, () => order.push('neg'));
      c.cancel();
      c.cancel(); // idempotent
      await loop.sleep(6 * u);
    });
    expect(order).toEqual(['0', 'neg', '10a', '10b', '30a', '30b']);
  });

  it('does not fire a timer early', async () => {
    const loop = newLoop();
    const delays = await loop.run(async () => {
      const t0 = performance.now();
      const waits = [1, 5, 15, 40].map((ms) => new Promise<number>((r) => loop.callLater(ms, () => r(performance.now() - t0 - ms))));
      return Promise.all(waits);
    });
    for (const late of delays) {
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(500);
    }
  });

  it('keeps many cancelled timers from piling up and still fires the live ones', async () => {
    const loop = newLoop();
    let fired = 0;
    await loop.run(async () => {
      for (let i = 0; i < 10_000; i++) loop.callLater(1000 + i, () => fired--).cancel();
      for (let i = 0; i < 10; i++) loop.callLater(i, () => fired++);
      await loop.sleep(30);
    });
    expect(fired).toBe(10);
  });

  it('callSoon runs in order, and callbacks queued by callbacks run on the next pass', async () => {
    const loop = newLoop();
    const order: string[] = [];
    await loop.run(async () => {
      loop.callSoon(() => {
        order.push('a');
        loop.callSoon(() => order.push('c'));
      });
      loop.callSoon(() => order.push('b'));
      await loop.sleep(0);
      await loop.sleep(5);
    });
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('a throwing callback is reported and the loop goes on', async () => {
    const loop = newLoop();
    const warnings: string[] = [];
    const onWarn = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarn);
    try {
      const v = await loop.run(async () => {
        loop.callSoon(() => {
          throw new Error('boom');
        });
        await loop.sleep(10);
        return 7;
      });
      expect(v).toBe(7);
      await new Promise((r) => setImmediate(r));
      expect(warnings.some((m) => m.includes('boom'))).toBe(true);
    } finally {
      process.off('warning', onWarn);
    }
  });

  it('sleep waits at least its time and callSoon from a Node callback wakes a waiting loop', async () => {
    const loop = newLoop();
    const r = await loop.run(async () => {
      const t0 = performance.now();
      await loop.sleep(50);
      const slept = performance.now() - t0;
      // Nothing on the loop: it waits in selectAsync until a Node timer calls callSoon.
      const t1 = performance.now();
      await new Promise<void>((res) => setTimeout(() => loop.callSoon(res), 30));
      return { slept, woke: performance.now() - t1 };
    });
    expect(r.slept).toBeGreaterThanOrEqual(49.5);
    expect(r.slept).toBeLessThan(1000);
    expect(r.woke).toBeLessThan(1000);
  });

  it('does not block Node: Node timers keep firing while run() waits', async () => {
    const loop = newLoop();
    let ticks = 0;
    const iv = setInterval(() => ticks++, 5);
    try {
      await loop.run(() => loop.sleep(120));
    } finally {
      clearInterval(iv);
    }
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it('does not starve Node even when always busy with callSoon', async () => {
    const loop = newLoop();
    let nodeTimerFired = false;
    await loop.run(async () => {
      setTimeout(() => (nodeTimerFired = true), 10);
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const spin = () => {
          if (nodeTimerFired || performance.now() - t0 > 3000) resolve();
          else loop.callSoon(spin);
        };
        loop.callSoon(spin);
      });
    });
    expect(nodeTimerFired).toBe(true);
  });
});

describe('EventLoop.run and close', () => {
  it('returns main’s value and propagates its error, sync throws included', async () => {
    const loop = newLoop();
    expect(await loop.run(async () => 42)).toBe(42);
    await expect(
      loop.run(async () => {
        await loop.sleep(1);
        throw new Error('main failed');
      }),
    ).rejects.toThrow('main failed');
    await expect(
      loop.run((() => {
        throw new RangeError('sync');
      }) as () => Promise<void>),
    ).rejects.toThrow(RangeError);
    // A second concurrent run is refused.
    const first = loop.run(() => loop.sleep(20));
    await expect(loop.run(async () => 1)).rejects.toThrow(/already running/);
    await first;
  });

  it('close() rejects pending waits, is idempotent and makes later calls fail', async () => {
    const [a, b] = socketpair();
    cleanups.push(() => a.close(), () => b.close());
    const loop = new EventLoop();
    const outcome = await loop
      .run(async () => {
        const pending = loop.sockRecv(a, 10);
        loop.callLater(10, () => loop.close());
        await pending;
      })
      .then(
        () => 'resolved',
        (e: { code?: string }) => e.code,
      );
    expect(outcome).toBe('ERR_IOMUX_CLOSED');
    loop.close();
    expect(loop.closed).toBe(true);
    expect(loop.selector.closed).toBe(true);
    expect(() => loop.callSoon(() => {})).toThrow(expect.objectContaining({ code: 'ERR_IOMUX_CLOSED' }));
    await expect(loop.run(async () => 1)).rejects.toMatchObject({ code: 'ERR_IOMUX_CLOSED' });
    await expect(loop.sockRecv(a, 1)).rejects.toMatchObject({ code: 'ERR_IOMUX_CLOSED' });
  });

  itPosixProcess('Ctrl-C (SIGINT) reaches a program running the loop: default exit, and a handler', async () => {
    const dist = path.resolve(__dirname, '../dist/index.js');
    const script = (withHandler: boolean) => `
      const { EventLoop, Socket, socketpair } = require(${JSON.stringify(dist)});
      const loop = new EventLoop();
      const [a, b] = socketpair();
      ${withHandler ? `process.on('SIGINT', () => { console.log('handler'); loop.close(); });` : ''}
      loop.run(async () => {
        loop.callLater(50, () => console.log('ready'));
        await loop.sockRecv(a, 10);   // never arrives
      }).catch((e) => { console.log('run ended: ' + e.code); process.exitCode = 3; });
    `;
    for (const withHandler of [false, true]) {
      const child = spawn(process.execPath, ['-e', script(withHandler)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('exit', (c, s) => r([c, s])));
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000 * TIME_SCALE);
      try {
        // 'ready', or the child's end (a crash, the killer) fails the test at once.
        const ready = await Promise.race([
          new Promise<true>((r) =>
            child.stdout.on('data', (d) => {
              out += d;
              if (out.includes('ready')) r(true);
            }),
          ),
          exited.then(() => false as const),
        ]);
        expect(ready, `the child ended before it was ready: ${out}`).toBe(true);
        const t0 = performance.now();
        child.kill('SIGINT');
        const [code, signal] = await exited;
        expect(performance.now() - t0).toBeLessThan(3000);
        if (withHandler) {
          expect(out).toContain('handler');
          expect(out).toContain('run ended: ERR_IOMUX_CLOSED');
          expect(code).toBe(3);
        } else {
          expect(signal).toBe('SIGINT');
        }
      } finally {
        clearTimeout(killer);
        child.kill('SIGKILL');
      }
    }
  });
});
