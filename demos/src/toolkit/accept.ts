// Accepting for every demo server: bursts of at most `batch` connections per
// readable event (an accept storm cannot starve established connections), and
// one back-off policy when accept(2) fails: the listener is unwatched for
// `backoffMs`, then watched again (EMFILE would otherwise make a readable
// listener spin the loop). Only the first pause of a streak is reported.
import { EVENT_READ, type Address, type Socket } from 'iomux';
import type { ServeLoop } from './loop';

export const ACCEPT_BATCH = 64;
export const ACCEPT_BACKOFF_MS = 100;

export type AcceptEvent =
  /** First pause of a streak only: while fds stay short, retries every backoffMs are not reported again. */
  | { event: 'accept-paused'; code: string; ms: number }
  /** The first successful accept after a streak of pauses. */
  | { event: 'accept-resumed'; pauses: number }
  /** A failure other than running out of fds (it pauses accepting too). */
  | { event: 'accept-error'; code: string; message: string };

export interface AcceptOptions {
  batch?: number;
  backoffMs?: number;
  onEvent?: (e: AcceptEvent) => void;
}

/** accept(2) ran out of descriptors or memory: expected under load, not a server fault. */
export function isOutOfFds(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'EMFILE' || code === 'ENFILE' || code === 'ENOBUFS' || code === 'ENOMEM';
}

export class Acceptor<T> {
  readonly batch: number;
  readonly backoffMs: number;
  /** Times accepting was paused. */
  pauses = 0;
  #streak = 0;
  #paused = false;
  readonly #onEvent: (e: AcceptEvent) => void;

  /** Registers `listener` with `data` as its key's data; the owner calls onReady() for it. */
  constructor(
    private readonly loop: ServeLoop<T>,
    private readonly listener: Socket,
    private readonly data: T,
    private readonly admit: (sock: Socket, peer: Address) => void,
    opts: AcceptOptions = {},
  ) {
    this.batch = opts.batch ?? ACCEPT_BATCH;
    this.backoffMs = opts.backoffMs ?? ACCEPT_BACKOFF_MS;
    this.#onEvent = opts.onEvent ?? (() => {});
    loop.sel.register(listener, EVENT_READ, data);
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** The listener is readable: accept a burst. */
  onReady(): void {
    for (let i = 0; i < this.batch; i++) {
      let accepted: [Socket, Address] | null;
      try {
        accepted = this.listener.accept();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'UNKNOWN';
        // A peer that gave up between SYN and accept: skip it.
        if (code === 'ECONNABORTED' || code === 'EPROTO' || code === 'EPERM') continue;
        if (!isOutOfFds(err)) this.#onEvent({ event: 'accept-error', code, message: (err as Error).message });
        return this.#pause(code);
      }
      if (accepted === null) return;
      if (this.#streak > 0) {
        this.#onEvent({ event: 'accept-resumed', pauses: this.#streak });
        this.#streak = 0;
      }
      this.admit(accepted[0], accepted[1]);
    }
  }

  // The failed connection stays pending, so the listener stays readable: stop watching it a while.
  #pause(code: string): void {
    if (this.#paused) return;
    this.#paused = true;
    this.loop.sel.unregister(this.listener);
    this.pauses++;
    if (this.#streak++ === 0) this.#onEvent({ event: 'accept-paused', code, ms: this.backoffMs });
    this.loop.after(this.backoffMs, () => {
      this.#paused = false;
      if (!this.loop.sel.closed) this.loop.sel.register(this.listener, EVENT_READ, this.data);
    });
  }
}

/** An accept event as one log line (text mode). */
export function describeAccept(e: AcceptEvent): string {
  switch (e.event) {
    case 'accept-paused':
      return `accept paused: ${e.code}; retrying every ${e.ms}ms`;
    case 'accept-resumed':
      return `accept resumed after ${e.pauses} pause${e.pauses === 1 ? '' : 's'}`;
    case 'accept-error':
      return `accept error: ${e.message}`;
  }
}
