// The shared bookkeeping of every selector (CPython's _BaseSelectorImpl): keys by
// fd, argument checks, the result array, selectAsync. Each backend subclass
// only says which native interest set it talks to.
import { invalidArgType, outOfRange } from '../argerrors';
import { inspect } from 'node:util';
import { type AsyncCallback, type NativeSet, type Timeout } from '../binding';
import { AbortError, iomuxError } from '../errors';
import { toFd, type FileLike } from '../filelike';
import { ResultsBuffer } from '../interest';

/** Interest in, and readiness for, reading (or accepting, or EOF): a bit of `events` and of a ready mask. */
export const EVENT_READ = 1;
/** Interest in, and readiness for, writing (or a finished non-blocking connect): a bit of `events` and of a ready mask. */
export const EVENT_WRITE = 2;

/** The mechanism a selector waits with: `selector.backend`, and the names `IOMUX_BACKEND` takes. */
export type Backend = 'select' | 'poll' | 'epoll' | 'kqueue' | 'io_uring';

/** A registration: `fileobj` is what was registered (typed F), `data` undefined when none was given. */
export interface SelectorKey<T = unknown, F extends FileLike = FileLike> {
  /** What was registered, as it was given (an fd or an object with `fileno()`). */
  readonly fileobj: F;
  /** The fd number `fileobj` had when it was registered. */
  readonly fd: number;
  /** The registered interest: `EVENT_READ`, `EVENT_WRITE` or both. */
  readonly events: number;
  /** The data given to `register()` or `modify()` (often a callback); `undefined` when none was. */
  readonly data: T;
}

/** What select() returns: each ready key with the mask of its registered events that are ready. */
export type Ready<T = unknown, F extends FileLike = FileLike> = Array<[SelectorKey<T, F>, number]>;

/** The optional data argument: required when the selector's data type excludes undefined. */
export type DataArg<T> = undefined extends T ? [data?: T] : [data: T];

interface Pending<T, F extends FileLike> {
  seq: number;
  resolve(ready: Ready<T, F>): void;
  reject(err: unknown): void;
  timer?: NodeJS.Timeout;
  deadline: number;
  signal?: AbortSignal;
}

let nextSeq = 1;

const BY_FD_LIMIT = 1 << 16;

// Selectors with a selectAsync() pending, held strongly as a pending timer holds its
// callback. Native code holds only a weak callback (#weakWake), so a dropped idle
// selector is collected and frees its fds (and, for select/poll, its waiter thread).
const waiting = new Set<object>();

/** What every selector does, after Python's `selectors.BaseSelector`: keys by fd, `register`/`modify`/`unregister`, a blocking `select()` and a `selectAsync()` that never blocks Node's event loop. Each subclass is one backend; `DefaultSelector` picks the platform's best. */
export abstract class BaseSelector<T = unknown, F extends FileLike = FileLike> {
  /** Which mechanism this selector waits with. */
  abstract readonly backend: Backend;
  readonly #keys = new Map<number, SelectorKey<T, F>>();
  // The same keys indexed by fd (fds below BY_FD_LIMIT): select() looks each ready
  // fd up here, which is several times cheaper than a Map lookup.
  readonly #byFd: Array<SelectorKey<T, F> | undefined> = [];
  readonly #view = new KeyMapView<T, F>(this.#keys);
  /** @internal */
  protected readonly results = new ResultsBuffer();
  /** @internal */
  protected readonly native: NativeSet;
  #closed = false;
  #pending: Pending<T, F> | undefined;
  readonly #onWake = BaseSelector.#weakWake(new WeakRef(this));
  // The AbortSignal the abort listener is on. A serve loop passes the same
  // signal to every wait, so the listener stays between waits instead of an
  // addEventListener/removeEventListener pair per wait (microseconds each).
  #signal: AbortSignal | undefined;
  readonly #onSignalAbort = BaseSelector.#weakAbort(new WeakRef(this));

  constructor() {
    this.native = this.openNative(this.results.array);
  }

  /** @internal The backend's native interest set, in selector mode. */
  protected abstract openNative(results: Int32Array): NativeSet;

  /** @internal How the backend removes an fd whose key is gone (ignoring what a closed fd makes the kernel say). */
  protected removeNative(fd: number): void {
    this.native.remove(fd, true);
  }

  /** Starts watching `fileobj` for `events` (`EVENT_READ`, `EVENT_WRITE` or both) and returns its new key, which carries `data`. Throws `ERR_IOMUX_ALREADY_REGISTERED` when the fd is registered already, a `RangeError` for bad event bits, and what the kernel refuses (`EPERM`, `EBADF`). */
  register(fileobj: F, events: number, ...data: DataArg<T>): SelectorKey<T, F> {
    this.#checkOpen();
    const fd = toFd(fileobj);
    checkEvents(events);
    if (this.#keys.has(fd)) {
      throw iomuxError('ERR_IOMUX_ALREADY_REGISTERED', `${describe(fileobj, fd)} is already registered`);
    }
    // The kernel may refuse (EPERM for a regular file in epoll, EBADF): no key is left behind.
    this.native.add(fd, events);
    const key = makeKey<T, F>(fileobj, fd, events, data[0] as T);
    this.#store(key);
    this.results.ensure(this.native, this.#keys.size);
    return key;
  }

  /** Works after the fd was closed (and after its number was reused). */
  unregister(fileobj: FileLike): SelectorKey<T, F> {
    this.#checkOpen();
    const key = this.#find(fileobj);
    this.#forget(key.fd);
    this.removeNative(key.fd);
    return key;
  }

  /** Without data, the key's data becomes undefined (Python resets it to None). */
  modify(fileobj: FileLike, events: number, ...data: DataArg<T>): SelectorKey<T, F> {
    this.#checkOpen();
    const old = this.#find(fileobj);
    checkEvents(events);
    if (events !== old.events) {
      try {
        this.native.modify(old.fd, events);
      } catch (err) {
        // Like CPython: a key the kernel no longer accepts is dropped.
        this.#forget(old.fd);
        this.removeNative(old.fd);
        throw err;
      }
    }
    const key = makeKey<T, F>(old.fileobj, old.fd, events, data[0] as T);
    this.#store(key);
    return key;
  }

  /** Waits, blocking this thread, until a registered fd is ready or `timeoutMs` passes (none: forever; 0: just look), and returns each ready key with the mask of its ready events; `[]` on timeout. */
  select(timeoutMs?: Timeout): Ready<T, F> {
    this.#checkOpen();
    return this.#collect(this.native.wait(timeoutMs));
  }

  // The ready keys of the first n pairs in the results array.
  #collect(n: number): Ready<T, F> {
    const a = this.results.array;
    const byFd = this.#byFd;
    // Sized up front (almost every pair becomes an entry): no growth on the way.
    const ready: Ready<T, F> = new Array(n);
    let j = 0;
    for (let i = 0; i < n; i++) {
      const fd = a[2 * i];
      const key = fd < byFd.length ? byFd[fd] : this.#keys.get(fd);
      if (key === undefined) continue;
      const mask = a[2 * i + 1] & key.events;
      if (mask !== 0) ready[j++] = [key, mask];
    }
    if (j !== n) ready.length = j;
    return ready;
  }

  /**
   * Waits without blocking Node's event loop. Rejects (never throws) on error;
   * AbortError when the signal aborts; resolves [] if the selector is closed meanwhile.
   */
  selectAsync(timeoutMs?: Timeout, opts?: { signal?: AbortSignal }): Promise<Ready<T, F>> {
    return new Promise<Ready<T, F>>((resolve, reject) => {
      try {
        this.#checkOpen();
        checkTimeout(timeoutMs);
        const signal = opts?.signal;
        if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidArgType('opts.signal must be an AbortSignal');
        if (this.#pending) throw iomuxError('ERR_IOMUX_BUSY', 'a selectAsync() is already pending on this selector');
        if (signal?.aborted) throw new AbortError(signal.reason);
        const finite = timeoutMs !== undefined && timeoutMs !== null && timeoutMs !== Infinity;
        if (finite && (timeoutMs as number) <= 0) return resolve(this.select(0));
        const p: Pending<T, F> = { seq: 0, resolve, reject, signal, deadline: finite ? performance.now() + (timeoutMs as number) : Infinity };
        // One crossing: native looks first (a zero-timeout wait) and arms only if nothing is ready.
        const now = this.#arm(p, true);
        if (now !== undefined) return resolve(now);
        this.#pending = p;
        waiting.add(this);
        if (finite) this.#startTimer(p);
        if (signal) this.#watchSignal(signal);
      } catch (err) {
        // Undo only a wait this call started: a BUSY error must not orphan the pending one.
        if (this.#pending?.resolve === resolve) this.#settle((q) => q.reject(err));
        else reject(err);
      }
    });
  }

  /** The key of a registered fd or file object; `ERR_IOMUX_NOT_REGISTERED` if it is not registered. */
  getKey(fileobj: FileLike): SelectorKey<T, F> {
    this.#checkOpen();
    return this.#find(fileobj);
  }

  /** A live read-only view keyed by fd; empty once the selector is closed. */
  getMap(): ReadonlyMap<number, SelectorKey<T, F>> {
    this.#checkOpen();
    return this.#view;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Idempotent. A pending selectAsync() resolves with []. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#settle((p) => p.resolve([]));
    this.#unwatchSignal();
    this.#keys.clear();
    this.#byFd.length = 0;
    this.native.close();
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** console.log(selector): backend, key count, closed; not the native results array. */
  [inspect.custom](depth: number, options: object): string {
    const info = { backend: this.backend, keys: this.#keys.size, closed: this.#closed, waiting: this.#pending !== undefined };
    return `${this.constructor.name} ${inspect(info, { ...options, depth: depth < 0 ? 0 : 1 })}`;
  }

  // Static, so the callback closes over the WeakRef only, never over `this`.
  static #weakWake(ref: WeakRef<BaseSelector<unknown, FileLike>>): AsyncCallback {
    return (seq, count, error) => {
      const sel = ref.deref();
      if (sel !== undefined) sel.#wake(seq, count, error);
    };
  }

  // Arms the native wait for p; with `check`, what is ready already is
  // returned instead (and nothing is armed).
  // Static for the same reason: the signal may outlive the selector.
  static #weakAbort(ref: WeakRef<BaseSelector<unknown, FileLike>>): () => void {
    return () => {
      const sel = ref.deref();
      if (sel === undefined) return;
      const p = sel.#pending;
      const signal = sel.#signal;
      sel.#signal = undefined; // an aborted signal never fires again
      if (p !== undefined && signal !== undefined && p.signal === signal) sel.#settle((q) => q.reject(new AbortError(signal.reason)));
    };
  }

  #watchSignal(signal: AbortSignal): void {
    if (this.#signal === signal) return;
    this.#unwatchSignal();
    signal.addEventListener('abort', this.#onSignalAbort, { once: true });
    this.#signal = signal;
  }

  #unwatchSignal(): void {
    this.#signal?.removeEventListener('abort', this.#onSignalAbort);
    this.#signal = undefined;
  }

  #arm(p: Pending<T, F>, check: boolean): Ready<T, F> | undefined {
    p.seq = nextSeq = (nextSeq + 1) >>> 0 || 1;
    if (check) {
      const n = this.native.arm(this.#onWake, p.seq, true);
      if (n === 0) return undefined;
      const ready = this.#collect(n);
      if (ready.length > 0) return ready;
      // Only pairs of fds no key has (or masks no key asked for): wait for real.
    }
    this.native.arm(this.#onWake, p.seq, false);
    return undefined;
  }

  // Native collected `count` pairs into the results array (and is disarmed).
  #wake(seq: number, count: number, error: Error | undefined): void {
    const p = this.#pending;
    if (!p || p.seq !== seq) return;
    if (error !== undefined) return this.#settle((q) => q.reject(error), true);
    const ready = this.#collect(count);
    // Pairs of fds unregistered meanwhile are dropped; if none is left, wait again.
    if (ready.length > 0) return this.#settle((q) => q.resolve(ready), true);
    try {
      this.#arm(p, false);
    } catch (err) {
      // Called from Node's loop: an arm that fails (a limit met) fails the wait, never throws there.
      this.#settle((q) => q.reject(err), true);
    }
  }

  #startTimer(p: Pending<T, F>): void {
    const left = p.deadline - performance.now();
    p.timer = setTimeout(() => {
      // Timers may fire a fraction of a millisecond early; never return early.
      if (performance.now() < p.deadline) return this.#startTimer(p);
      let ready: Ready<T, F> = [];
      try {
        ready = this.select(0);
      } catch (err) {
        return this.#settle((q) => q.reject(err));
      }
      this.#settle((q) => q.resolve(ready));
    }, Math.max(0, Math.min(Math.ceil(left), 0x7fffffff)));
  }

  // disarmed: native already stopped (it called back), so no cancel() crossing.
  #settle(fn: (p: Pending<T, F>) => void, disarmed = false): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    waiting.delete(this);
    if (!disarmed) this.native.cancel();
    if (p.timer) clearTimeout(p.timer);
    fn(p);
  }

  #store(key: SelectorKey<T, F>): void {
    this.#keys.set(key.fd, key);
    if (key.fd < BY_FD_LIMIT) {
      const byFd = this.#byFd;
      // Filled with undefined, never left with holes, so the array stays packed.
      while (byFd.length <= key.fd) byFd.push(undefined);
      byFd[key.fd] = key;
    }
  }

  #forget(fd: number): void {
    this.#keys.delete(fd);
    if (fd < this.#byFd.length) this.#byFd[fd] = undefined;
  }

  #find(fileobj: FileLike): SelectorKey<T, F> {
    let fd: number;
    try {
      fd = toFd(fileobj);
    } catch (err) {
      // Like CPython's _fileobj_lookup: a closed object (a Socket's fileno() is then -1)
      // is still found by identity, so it can be unregistered.
      if (typeof fileobj === 'object' && fileobj !== null) {
        for (const key of this.#keys.values()) if (key.fileobj === fileobj) return key;
      }
      throw err;
    }
    const key = this.#keys.get(fd);
    if (key === undefined) throw iomuxError('ERR_IOMUX_NOT_REGISTERED', `${describe(fileobj, fd)} is not registered`);
    return key;
  }

  #checkOpen(): void {
    if (this.#closed) throw iomuxError('ERR_IOMUX_CLOSED', 'I/O operation on a closed selector');
  }
}

function makeKey<T, F extends FileLike>(fileobj: F, fd: number, events: number, data: T): SelectorKey<T, F> {
  return Object.freeze({ fileobj, fd, events, data });
}

function checkEvents(events: unknown): asserts events is number {
  if (typeof events !== 'number' || !Number.isInteger(events)) throw invalidArgType('events must be an integer');
  if (events === 0 || (events & ~(EVENT_READ | EVENT_WRITE)) !== 0 || events < 0) {
    throw outOfRange(`events must be a non-empty combination of EVENT_READ and EVENT_WRITE, got ${events}`);
  }
}

function checkTimeout(t: unknown): void {
  if (t === undefined || t === null) return;
  if (typeof t !== 'number') throw invalidArgType('timeout must be a number of milliseconds, null or undefined');
  if (Number.isNaN(t)) throw invalidArgType('timeout must not be NaN');
}

function describe(fileobj: FileLike, fd: number): string {
  return typeof fileobj === 'number' ? `fd ${fd}` : `${fileobj.constructor?.name ?? 'object'} (fd ${fd})`;
}

// What getMap() returns: reads through to the selector's keys, so it is live,
// and has no way to change them.
class KeyMapView<T, F extends FileLike> implements ReadonlyMap<number, SelectorKey<T, F>> {
  readonly #keys: Map<number, SelectorKey<T, F>>;
  constructor(keys: Map<number, SelectorKey<T, F>>) {
    this.#keys = keys;
  }
  get size(): number {
    return this.#keys.size;
  }
  get(fd: number): SelectorKey<T, F> | undefined {
    return this.#keys.get(fd);
  }
  has(fd: number): boolean {
    return this.#keys.has(fd);
  }
  forEach(cb: (value: SelectorKey<T, F>, key: number, map: ReadonlyMap<number, SelectorKey<T, F>>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.#keys) cb.call(thisArg, v, k, this);
  }
  keys(): MapIterator<number> {
    return this.#keys.keys();
  }
  values(): MapIterator<SelectorKey<T, F>> {
    return this.#keys.values();
  }
  entries(): MapIterator<[number, SelectorKey<T, F>]> {
    return this.#keys.entries();
  }
  [Symbol.iterator](): MapIterator<[number, SelectorKey<T, F>]> {
    return this.#keys.entries();
  }
  get [Symbol.toStringTag](): string {
    return 'SelectorMap';
  }
}
