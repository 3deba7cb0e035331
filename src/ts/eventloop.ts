// EventLoop: async/await on top of a selector, in the shape of asyncio's
// selector loop. Socket operations try the syscall first and only wait on the
// selector when it would block; the waiting coroutine's promise is resolved from
// the loop, so its continuation runs as an ordinary microtask.
//
// The selector is driven with selectAsync(), never a blocking select(): Node's
// own loop keeps turning while run() is in progress, so Node timers, dns
// lookups, child processes and signal handlers (SIGINT included) keep working
// inside a loop program. When the loop is busy it still yields to Node's
// macrotask queue every YIELD_MS, so a flood of ready sockets cannot starve it.
import { invalidArgType } from './argerrors';
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { AbortError, iomuxError, systemError } from './errors';
import { EVENT_READ, EVENT_WRITE, type BaseSelector, type SelectorKey } from './selectors/base';
import { DefaultSelector } from './selectors/default';
import { toFd, type FileLike } from './filelike';
import { AF_INET6, AF_UNIX, type Address, type AddressInput, type Socket } from './socket';

const YIELD_MS = 10;
const WAKE = Symbol('wake');

/** Cancellation for the loop's socket waits and sleeps (an extension of the contract). */
export interface WaitOptions {
  /** Aborting it withdraws the wait: the promise rejects with an `AbortError` whose `cause` is the abort reason. */
  signal?: AbortSignal;
}

/** What `callLater()` returns. */
export interface TimerHandle {
  /** The callback will not run; idempotent, and harmless after it ran. */
  cancel(): void;
}

// What waits on one fd: at most one reader and one writer, as in asyncio. Each
// is either a coroutine's one-shot wake-up or an addReader/addWriter callback
// (kept until removed); both share the fd's one selector registration.
interface FdWaiters {
  sock: FileLike;
  reader: (() => void) | undefined;
  writer: (() => void) | undefined;
  readerIsHandle: boolean;
  writerIsHandle: boolean;
}

class Timer implements TimerHandle {
  cancelled = false;
  constructor(
    readonly when: number,
    readonly seq: number,
    public fn: (() => void) | undefined,
    private readonly loop: EventLoop,
  ) {}
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.fn = undefined;
    this.loop._timerCancelled();
  }
}

// Min-heap of timers ordered by (when, seq): equal deadlines fire in the order they were scheduled.
class TimerHeap {
  items: Timer[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): Timer | undefined {
    return this.items[0];
  }
  push(t: Timer): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i], a[parent])) break;
      [a[i], a[parent]] = [a[parent], a[i]];
      i = parent;
    }
  }
  pop(): Timer | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      this.#down(0);
    }
    return top;
  }
  // Drops cancelled timers in one pass (cheaper than popping them one by one).
  compact(): void {
    this.items = this.items.filter((t) => !t.cancelled);
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }
  #down(i: number): void {
    const a = this.items;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && before(a[l], a[m])) m = l;
      if (r < n && before(a[r], a[m])) m = r;
      if (m === i) return;
      [a[i], a[m]] = [a[m], a[i]];
      i = m;
    }
  }
}

function before(x: Timer, y: Timer): boolean {
  return x.when < y.when || (x.when === y.when && x.seq < y.seq);
}

/** Coroutines on a selector, after asyncio: `sockConnect`, `sockAccept`, `sockRecv`, `sockSendAll` try the system call first and wait on the selector only when it would block; `callSoon`, `callLater`, `sleep`; `run(main)`. It waits with `selectAsync()`, so Node's own event loop keeps running. */
export class EventLoop {
  readonly #sel: BaseSelector<FdWaiters>;
  #ready: Array<() => void> = [];
  readonly #timers = new TimerHeap();
  #cancelledTimers = 0;
  #timerSeq = 0;
  #running = false;
  #closed = false;
  // Aborts the selectAsync() in progress when work arrives from outside the
  // loop's own callbacks (callSoon from a Node callback, main settling).
  #wakeCtl: AbortController | undefined;
  #lastYield = 0;
  #woken = false;
  #stop: (() => void) | undefined;

  constructor(opts?: { selector?: BaseSelector }) {
    this.#sel = (opts?.selector as BaseSelector<FdWaiters> | undefined) ?? new DefaultSelector<FdWaiters>();
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether a `run()` is in progress. */
  get running(): boolean {
    return this.#running;
  }

  /** The selector the loop drives. */
  get selector(): BaseSelector {
    return this.#sel;
  }

  /** Monotonic milliseconds, the clock timers use. */
  time(): number {
    return performance.now();
  }

  /**
   * Drives the selector until main() settles and settles the same way. Does not
   * block Node's event loop (see the file comment). One run() at a time.
   */
  async run<T>(main: () => Promise<T>): Promise<T> {
    this.#checkOpen();
    if (typeof main !== 'function') throw invalidArgType('run(main): main must be a function returning a promise');
    if (this.#running) throw new Error('the loop is already running');
    this.#running = true;
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    this.#stop = undefined;
    try {
      // main's first synchronous part runs inside the loop, as a task would.
      Promise.resolve()
        .then(main)
        .then(
          (value) => {
            outcome = { ok: true, value };
            this.#wake();
          },
          (error: unknown) => {
            outcome = { ok: false, error };
            this.#wake();
          },
        );
      this.#lastYield = performance.now();
      while (outcome === undefined) {
        if (this.#closed) throw iomuxError('ERR_IOMUX_CLOSED', 'the event loop was closed while running');
        await this.#runOnce();
      }
    } finally {
      this.#running = false;
      this.#wakeCtl = undefined;
    }
    if (outcome.ok) return outcome.value;
    throw outcome.error;
  }

  /** Runs fn on the next loop iteration; callbacks run in the order they were scheduled. */
  callSoon(fn: () => void): void {
    this.#checkOpen();
    if (typeof fn !== 'function') throw invalidArgType('callSoon(fn): fn must be a function');
    this.#ready.push(fn);
    this.#wake();
  }

  /** Runs fn after ms milliseconds (equal delays: in scheduling order). */
  callLater(ms: number, fn: () => void): TimerHandle {
    this.#checkOpen();
    checkDelay(ms, 'callLater');
    if (typeof fn !== 'function') throw invalidArgType('callLater(ms, fn): fn must be a function');
    const t = new Timer(performance.now() + Math.max(0, ms), this.#timerSeq++, fn, this);
    const wasFirst = this.#timers.peek();
    this.#timers.push(t);
    // A new earliest deadline must shorten the wait in progress.
    if (wasFirst === undefined || before(t, wasFirst)) this.#wake();
    return t;
  }

  /** Resolves after `ms` milliseconds (never early). */
  sleep(ms: number, opts?: WaitOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#checkOpen();
      checkDelay(ms, 'sleep');
      const signal = opts?.signal;
      if (signal?.aborted) return reject(new AbortError(signal.reason));
      const onAbort = () => {
        t.cancel();
        reject(new AbortError(signal?.reason));
      };
      const t = this.callLater(ms, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Connects without blocking; host names are resolved with dns.promises.lookup. */
  sockConnect(sock: Socket, address: Address, opts?: WaitOptions): Promise<void> {
    return (async () => {
      this.#checkOpen();
      this.#nonBlocking(sock);
      let addr = address;
      if (Array.isArray(address) && sock.family !== AF_UNIX && isIP(address[0]) === 0) {
        const found = await lookup(address[0], { family: sock.family === AF_INET6 ? 6 : 4 });
        addr = [found.address, address[1]];
      }
      if (sock.connect(addr)) return;
      await this.#waitFor(sock, EVENT_WRITE, opts?.signal);
      const err = sock.connectError();
      if (err) throw err;
    })();
  }

  /** Accepts a connection; the new socket is non-blocking too. */
  sockAccept(sock: Socket, opts?: WaitOptions): Promise<[Socket, Address]> {
    return this.#retry(sock, EVENT_READ, opts?.signal, () => {
      const r = sock.accept();
      if (r) this.#nonBlocking(r[0]);
      return r;
    });
  }

  /** Up to n bytes; an empty Buffer when the peer closed. */
  sockRecv(sock: Socket, n: number, opts?: WaitOptions): Promise<Buffer> {
    return this.#retry(sock, EVENT_READ, opts?.signal, () => sock.recv(n));
  }

  /** Reads into buf; resolves with the byte count (0 when the peer closed). */
  sockRecvInto(sock: Socket, buf: Uint8Array, opts?: WaitOptions): Promise<number> {
    return this.#retry(sock, EVENT_READ, opts?.signal, () => sock.recvInto(buf));
  }

  /** One datagram to address; resolves with the bytes sent. */
  sockSendTo(sock: Socket, data: Uint8Array, address: AddressInput, opts?: WaitOptions): Promise<number> {
    return this.#retry(sock, EVENT_WRITE, opts?.signal, () => sock.sendTo(data, address));
  }

  /** Up to n bytes and the sender's address (null when the socket is connected or the sender unnamed). */
  sockRecvFrom(sock: Socket, n: number, opts?: WaitOptions): Promise<[Buffer, Address | null]> {
    return this.#retry(sock, EVENT_READ, opts?.signal, () => sock.recvFrom(n));
  }

  /**
   * asyncio's add_reader: calls callback whenever fd is readable, until
   * removeReader(fd); replaces an earlier reader of that fd. The fd is not made
   * non-blocking. ERR_IOMUX_BUSY while a coroutine of the loop waits to read it.
   */
  addReader(fd: FileLike, callback: () => void): void {
    this.#addHandle(fd, 'reader', callback);
  }

  /** Stops the reader of fd; false when it had none (or the loop is closed). */
  removeReader(fd: FileLike): boolean {
    return this.#removeHandle(fd, 'reader');
  }

  /** asyncio's add_writer: as addReader, for writability. */
  addWriter(fd: FileLike, callback: () => void): void {
    this.#addHandle(fd, 'writer', callback);
  }

  /** Stops the writer of fd; false when it had none (or the loop is closed). */
  removeWriter(fd: FileLike): boolean {
    return this.#removeHandle(fd, 'writer');
  }

  /** Sends everything, waiting for room as often as needed. */
  sockSendAll(sock: Socket, data: Uint8Array, opts?: WaitOptions): Promise<void> {
    return (async () => {
      this.#checkOpen();
      this.#nonBlocking(sock);
      let off = 0;
      while (off < data.length) {
        const n = sock.send(data, off, data.length - off);
        if (n === null) await this.#waitFor(sock, EVENT_WRITE, opts?.signal);
        else off += n;
      }
    })();
  }

  /**
   * Idempotent. Pending socket waits reject with ERR_IOMUX_CLOSED, timers are
   * dropped and the selector is closed; a run() in progress rejects the same way.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const err = iomuxError('ERR_IOMUX_CLOSED', 'the event loop was closed');
    const waiters = [...this.#sel.getMap().values()].map((k) => k.data);
    this.#ready = [];
    this.#timers.items = [];
    this.#sel.close();
    this.#closedError = err;
    // Coroutines waiting on an fd are woken to reject; reader/writer callbacks are just dropped.
    for (const w of waiters) {
      if (!w.readerIsHandle) w.reader?.();
      if (!w.writerIsHandle) w.writer?.();
    }
    this.#wake();
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal */
  _timerCancelled(): void {
    // Compact once cancelled timers are the majority (asyncio does the same), so
    // a crawl that cancels a timeout per request does not grow the heap forever.
    if (++this.#cancelledTimers > 64 && this.#cancelledTimers * 2 > this.#timers.size) {
      this.#timers.compact();
      this.#cancelledTimers = 0;
    }
  }

  #closedError: Error | undefined;

  // One pass: wait for I/O (no longer than the next timer), dispatch it, run
  // what is due, then the ready callbacks that were queued before this pass.
  async #runOnce(): Promise<void> {
    if (performance.now() - this.#lastYield >= YIELD_MS) {
      // Busy for a while: let Node's loop run its timers, I/O and signal handlers.
      await new Promise<void>((r) => setImmediate(r));
      this.#lastYield = performance.now();
      if (this.#closed) return;
    }
    // A wake that came while no wait was in progress (e.g. main settled during
    // the yield above) must not be lost: poll instead of waiting.
    const woken = this.#woken;
    this.#woken = false;
    let timeout: number | null = null;
    if (this.#ready.length > 0 || woken) timeout = 0;
    else {
      const first = this.#firstTimer();
      if (first) timeout = Math.max(0, first.when - performance.now());
    }
    let events: Array<[SelectorKey<FdWaiters>, number]> = [];
    if (timeout !== 0) {
      const ctl = (this.#wakeCtl = new AbortController());
      try {
        events = await this.#sel.selectAsync(timeout, { signal: ctl.signal });
      } catch (err) {
        if (!(err instanceof AbortError)) throw err;
      } finally {
        this.#wakeCtl = undefined;
      }
    } else {
      events = this.#sel.select(0);
    }
    if (this.#closed) return;
    // The answer may predate microtasks that changed registrations: use the keys as they are now.
    const map = this.#sel.getMap();
    for (const [key, mask] of events) {
      const w = map.get(key.fd)?.data;
      if (w === undefined) continue;
      if (mask & EVENT_READ && w.reader) w.reader();
      if (mask & EVENT_WRITE && w.writer) w.writer();
    }
    const end = performance.now();
    for (let t = this.#firstTimer(); t && t.when <= end; t = this.#firstTimer()) {
      this.#timers.pop();
      if (t.fn) this.#ready.push(t.fn);
    }
    const todo = this.#ready;
    this.#ready = [];
    for (let i = 0; i < todo.length; i++) {
      try {
        todo[i]();
      } catch (err) {
        // As asyncio: a failing callback is reported and the loop goes on.
        process.emitWarning(`EventLoop callback threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
      if (this.#closed) return;
    }
  }

  #firstTimer(): Timer | undefined {
    let t = this.#timers.peek();
    while (t && t.cancelled) {
      this.#timers.pop();
      this.#cancelledTimers = Math.max(0, this.#cancelledTimers - 1);
      t = this.#timers.peek();
    }
    return t;
  }

  #wake(): void {
    this.#woken = true;
    // A fixed reason: abort() without one builds a DOMException each time.
    this.#wakeCtl?.abort(WAKE);
  }

  // Try op; while it would block, wait for the event and try again.
  #retry<R>(sock: Socket, event: number, signal: AbortSignal | undefined, op: () => R | null): Promise<R> {
    return (async () => {
      this.#checkOpen();
      this.#nonBlocking(sock);
      for (;;) {
        const r = op();
        if (r !== null) return r;
        await this.#waitFor(sock, event, signal);
      }
    })();
  }

  // Registers one waiter for (sock, event) and resolves when the selector says so.
  #waitFor(sock: Socket, event: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#checkOpen();
      if (signal?.aborted) return reject(new AbortError(signal.reason));
      const fd = sock.fileno();
      if (fd < 0) return reject(systemError('EBADF', 'epoll_ctl'));
      const map = this.#sel.getMap();
      let key = map.get(fd);
      if (key && key.data.sock !== sock && !key.data.readerIsHandle && !key.data.writerIsHandle) {
        // The fd number was reused by a new socket after the old one closed with a wait pending.
        this.#sel.unregister(fd);
        key = undefined;
      }
      const slot = event === EVENT_READ ? 'reader' : 'writer';
      if (key && key.data[slot]) {
        return reject(iomuxError('ERR_IOMUX_BUSY', `another coroutine is already waiting to ${slot === 'reader' ? 'read' : 'write'} fd ${fd}`));
      }
      const w: FdWaiters = key ? key.data : { sock, reader: undefined, writer: undefined, readerIsHandle: false, writerIsHandle: false };
      const onAbort = () => {
        this.#removeWaiter(fd, w, slot);
        reject(new AbortError(signal?.reason));
      };
      w[slot] = () => {
        signal?.removeEventListener('abort', onAbort);
        this.#removeWaiter(fd, w, slot);
        if (this.#closedError) reject(this.#closedError);
        else resolve();
      };
      const events = (w.reader ? EVENT_READ : 0) | (w.writer ? EVENT_WRITE : 0);
      if (key) this.#sel.modify(fd, events, w);
      else this.#sel.register(fd, events, w);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #addHandle(fileobj: FileLike, slot: 'reader' | 'writer', callback: () => void): void {
    this.#checkOpen();
    const fd = toFd(fileobj);
    if (typeof callback !== 'function') throw invalidArgType(`add${slot === 'reader' ? 'Reader' : 'Writer'}(fd, callback): callback must be a function`);
    const key = this.#sel.getMap().get(fd);
    const flag = slot === 'reader' ? 'readerIsHandle' : 'writerIsHandle';
    if (key && key.data[slot] && !key.data[flag]) {
      throw iomuxError('ERR_IOMUX_BUSY', `a coroutine of the loop is waiting to ${slot === 'reader' ? 'read' : 'write'} fd ${fd}`);
    }
    const w: FdWaiters = key ? key.data : { sock: fileobj, reader: undefined, writer: undefined, readerIsHandle: false, writerIsHandle: false };
    w[slot] = () => {
      try {
        callback();
      } catch (err) {
        // As asyncio: a failing callback is reported and the loop goes on.
        process.emitWarning(`EventLoop ${slot} callback threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    };
    w[flag] = true;
    const events = (w.reader ? EVENT_READ : 0) | (w.writer ? EVENT_WRITE : 0);
    if (key) this.#sel.modify(fd, events, w);
    else this.#sel.register(fd, events, w);
    this.#wake();
  }

  #removeHandle(fileobj: FileLike, slot: 'reader' | 'writer'): boolean {
    if (this.#closed) return false;
    const fd = toFd(fileobj);
    const key = this.#sel.getMap().get(fd);
    const flag = slot === 'reader' ? 'readerIsHandle' : 'writerIsHandle';
    if (!key || !key.data[flag]) return false;
    key.data[flag] = false;
    this.#removeWaiter(fd, key.data, slot);
    return true;
  }

  #removeWaiter(fd: number, w: FdWaiters, slot: 'reader' | 'writer'): void {
    w[slot] = undefined;
    if (this.#sel.closed) return;
    const key = this.#sel.getMap().get(fd);
    if (!key || key.data !== w) return;
    const events = (w.reader ? EVENT_READ : 0) | (w.writer ? EVENT_WRITE : 0);
    if (events === 0) this.#sel.unregister(fd);
    else this.#sel.modify(fd, events, w);
  }

  // fcntl once per socket, not once per call (two syscalls saved on every recv/send).
  // A socket the program switches back to blocking after the loop saw it is its own doing.
  #nonBlocking(sock: Socket): void {
    if (sock.closed || !this.#madeNonBlocking.has(sock)) {
      sock.setBlocking(false); // a closed socket throws EBADF here, as any operation would
      this.#madeNonBlocking.add(sock);
    }
  }

  readonly #madeNonBlocking = new WeakSet<Socket>();

  #checkOpen(): void {
    if (this.#closed) throw iomuxError('ERR_IOMUX_CLOSED', 'the event loop is closed');
  }
}

function checkDelay(ms: unknown, what: string): asserts ms is number {
  if (typeof ms !== 'number' || Number.isNaN(ms)) throw invalidArgType(`${what}: ms must be a number of milliseconds`);
}
