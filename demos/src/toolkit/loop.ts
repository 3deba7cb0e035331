// The one serve loop of the demos (echo, chat, http and the crawler's
// callbacks driver): wait in selectAsync() so Node's own loop (signals, timers,
// dns) keeps turning, hand the ready keys to the owner, run due timers, repeat.
//
// Yield policy: selectAsync() resolves through a microtask when something is
// ready at once, so a busy loop would never let Node's macrotasks run. Every
// YIELD_MS of work the loop gives them a turn with setImmediate().
import { AbortError, type BaseSelector, type Ready } from 'iomux';

export const YIELD_MS = 10;
const WAKE = Symbol('wake');

export interface Timer {
  cancel(): void;
}

interface Deadline {
  when: number;
  fn: () => void;
}

export interface LoopOptions<T> {
  /** Called with every batch of ready keys. */
  onReady: (ready: Ready<T>) => void;
  /** Called after each batch and its timers (flush queued output, say). */
  afterBatch?: () => void;
}

export class ServeLoop<T> {
  readonly sel: BaseSelector<T>;
  readonly #onReady: (ready: Ready<T>) => void;
  readonly #afterBatch: (() => void) | undefined;
  // A handful at a time: accept back-off, one sweep per server, about two per crawler fetch.
  readonly #deadlines = new Set<Deadline>();
  #stopped = false;
  #wakeCtl: AbortController | undefined;
  #woken = false;
  #waiting = false; // inside selectAsync(): only then does wake() abort
  #waitUntil = -Infinity;

  constructor(sel: BaseSelector<T>, opts: LoopOptions<T>) {
    this.sel = sel;
    this.#onReady = opts.onReady;
    this.#afterBatch = opts.afterBatch;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Calls fn after ms unless cancelled. */
  after(ms: number, fn: () => void): Timer {
    const d: Deadline = { when: performance.now() + ms, fn };
    this.#deadlines.add(d);
    // Only a deadline before the end of the wait in progress needs to cut it short.
    if (d.when < this.#waitUntil) this.wake();
    return { cancel: () => this.#deadlines.delete(d) };
  }

  /** Work arrived from outside the loop (a dns answer, a finished fetch): re-check at once. */
  wake(): void {
    this.#woken = true;
    // A fixed reason: abort() without one builds a DOMException each time.
    if (this.#waiting) this.#wakeCtl?.abort(WAKE);
  }

  /** Makes run() return promptly, even from inside a wait. */
  stop(): void {
    this.#stopped = true;
    this.wake();
  }

  /** Runs until stop() or until `signal` aborts. */
  async run(signal?: AbortSignal): Promise<void> {
    const onAbort = () => this.stop();
    if (signal?.aborted) this.stop();
    signal?.addEventListener('abort', onAbort);
    let lastYield = performance.now();
    try {
      while (!this.#stopped) {
        if (performance.now() - lastYield >= YIELD_MS) {
          await new Promise<void>((r) => setImmediate(r));
          lastYield = performance.now();
          if (this.#stopped) break;
        }
        const timeout = this.#timeout();
        let ready: Ready<T> = [];
        if (timeout === 0) ready = this.sel.select(0);
        else {
          // One controller serves every wait until a wake() uses it up: no allocation per wait.
          const ctl = (this.#wakeCtl = this.#wakeCtl?.signal.aborted === false ? this.#wakeCtl : new AbortController());
          this.#waitUntil = timeout === null ? Infinity : performance.now() + timeout;
          this.#waiting = true;
          try {
            ready = await this.sel.selectAsync(timeout, { signal: ctl.signal });
          } catch (err) {
            if (!(err instanceof AbortError)) throw err;
          } finally {
            this.#waiting = false;
            this.#waitUntil = -Infinity; // not waiting: after() need not abort anything
          }
        }
        if (this.#stopped) break;
        if (ready.length > 0) this.#onReady(ready);
        this.#runTimers();
        this.#afterBatch?.();
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** One synchronous round for callers with their own loop: wait up to timeoutMs, handle what is ready. */
  runOnce(timeoutMs: number): number {
    const t = this.#timeout();
    const ready = this.sel.select(t === null ? timeoutMs : Math.min(timeoutMs, t));
    if (ready.length > 0) this.#onReady(ready);
    this.#runTimers();
    this.#afterBatch?.();
    return ready.length;
  }

  #timeout(): number | null {
    if (this.#woken) {
      this.#woken = false;
      return 0;
    }
    let when = Infinity;
    for (const d of this.#deadlines) if (d.when < when) when = d.when;
    return when === Infinity ? null : Math.max(0, when - performance.now());
  }

  #runTimers(): void {
    if (this.#deadlines.size === 0) return;
    const now = performance.now();
    for (const d of this.#deadlines) {
      if (d.when <= now) {
        this.#deadlines.delete(d);
        d.fn();
      }
    }
  }
}

/**
 * A deadline sweep: one timer, always set for the earliest time anyone asked
 * for. Servers call soon(at) whenever a connection gets a deadline, and sweep
 * all connections when it fires (the sweep asks again for what is left).
 */
export class Sweep {
  #timer: Timer | undefined;
  #at = Infinity;

  constructor(
    private readonly loop: { after(ms: number, fn: () => void): Timer },
    private readonly sweep: (now: number) => void,
  ) {}

  /** Makes sure the sweep runs no later than `at` (a performance.now() time). */
  soon(at: number): void {
    if (at >= this.#at) return;
    this.#timer?.cancel();
    this.#at = at;
    this.#timer = this.loop.after(Math.max(0, at - performance.now()), () => {
      this.#timer = undefined;
      this.#at = Infinity;
      this.sweep(performance.now());
    });
  }

  cancel(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#at = Infinity;
  }
}
