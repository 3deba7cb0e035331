// The connections of a server: each with its socket, a send queue and the
// events it is registered for. PeerSet registers them (refusing what the
// selector cannot watch), keeps the events in step with what each needs,
// flushes queued output with back-pressure accounting, and drops them.
import type { BaseSelector, Socket } from 'iomux';
import { SendQueue } from './send-queue';

/** A connection closed at once: over a cap, or refused by the selector (select: fd >= FD_SETSIZE). */
export type RefusedEvent = { event: 'refused'; peer: string; reason: string };

export class Peer {
  readonly out = new SendQueue();
  /** The events registered for it now. */
  events = 0;
  gone = false;
  constructor(
    readonly sock: Socket,
    /** The peer's address as text, for logs. */
    readonly peer: string,
  ) {}
}

/** Error codes that mean "the peer went away", not a server fault. */
export function isPeerGone(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT' || code === 'ENOTCONN' || code === 'EHOSTUNREACH';
}

/** Bytes received into buf (0: the peer's EOF), null: nothing yet, 'gone': reset or the like. */
export function receive(sock: Socket, buf: Buffer): number | null | 'gone' {
  try {
    return sock.recvInto(buf);
  } catch (err) {
    if (!isPeerGone(err)) throw err;
    return 'gone';
  }
}

export class PeerSet<C extends Peer> {
  readonly all = new Set<C>();
  /** Peers with output queued since the last flushDirty(). */
  readonly #dirty = new Set<C>();
  bytesOut = 0;
  /** The most one peer ever had queued. */
  maxQueued = 0;

  constructor(
    private readonly sel: BaseSelector<C | null>,
    /** Called once for each dropped peer, after its socket is closed. */
    private readonly onDrop: (c: C) => void = () => {},
  ) {}

  get size(): number {
    return this.all.size;
  }

  /**
   * Makes the socket non-blocking and registers it for `events`. When the
   * selector refuses it (select: fd >= FD_SETSIZE; ENOMEM/ENOSPC from epoll)
   * the socket is closed and the error returned: it costs that connection,
   * not the server.
   */
  add(c: C, events: number): Error | undefined {
    try {
      c.sock.setBlocking(false);
      this.sel.register(c.sock, events, c);
    } catch (err) {
      c.gone = true;
      c.sock.close();
      return err as Error;
    }
    c.events = events;
    this.all.add(c);
    return undefined;
  }

  setEvents(c: C, events: number): void {
    if (c.gone || c.events === events) return;
    this.sel.modify(c.sock, events, c);
    c.events = events;
  }

  /** Queues bytes for c; sent by the next flushDirty(). */
  queue(c: C, data: Buffer): void {
    if (c.gone) return;
    c.out.push(data);
    if (c.out.size > this.maxQueued) this.maxQueued = c.out.size;
    this.#dirty.add(c);
  }

  markDirty(c: C): void {
    if (!c.gone) this.#dirty.add(c);
  }

  /**
   * Sends what the kernel takes now. true: all sent; false: bytes remain;
   * null: the peer is gone (reset, broken pipe): the caller drops it (after
   * whatever it owes others, such as telling a room).
   */
  flush(c: C): boolean | null {
    const before = c.out.size;
    try {
      const done = c.out.flush(c.sock);
      this.bytesOut += before - c.out.size;
      return done;
    } catch (err) {
      this.bytesOut += before - c.out.size;
      if (!isPeerGone(err)) throw err;
      return null;
    }
  }

  /** Flushes every peer with output queued; `then` sees each one's outcome (as flush()). */
  flushDirty(then: (c: C, done: boolean | null, sent: number) => void): void {
    for (const c of this.#dirty) {
      this.#dirty.delete(c);
      if (c.gone) continue;
      const before = c.out.size;
      const done = this.flush(c);
      then(c, done, before - c.out.size);
    }
  }

  /** Unregisters and closes; what was queued for it is discarded. Idempotent. */
  drop(c: C): void {
    if (c.gone) return;
    c.gone = true;
    this.all.delete(c);
    this.#dirty.delete(c);
    c.out.clear();
    if (!this.sel.closed) {
      try {
        this.sel.unregister(c.sock);
      } catch {
        // not registered: nothing to undo
      }
    }
    c.sock.close();
    this.onDrop(c);
  }

  dropAll(): void {
    for (const c of [...this.all]) this.drop(c);
  }
}
