// The echo server behind `iomux echo`, as a module: tests, benchmarks and the
// Windows smoke test drive it in-process; demos/echo.ts is only its CLI.
//
// One selector, level-triggered, one handler object per registered fd (the
// listener or a connection) kept in key.data. Everything a real server meets
// is handled here: partial writes, back-pressure, half-close, resets, accept
// storms, EMFILE, select's FD_SETSIZE and a connection cap.
import { unlinkSync } from 'node:fs';
import { BaseSelector, EVENT_READ, EVENT_WRITE, type Backend, type Ready } from 'iomux';
import {
  AF_INET, AF_INET6, AF_UNIX, IPPROTO_TCP, SO_REUSEADDR, SOL_SOCKET, Socket, TCP_NODELAY, type Address,
} from 'iomux';
import { SendQueue } from '../common/send-queue';
import { acceptBurst, formatAddress, openSelector, selectOrStop } from '../common/serve';

export const ECHO_DEFAULT_HOST = '127.0.0.1';
export const ECHO_DEFAULT_PORT = 8801;

/** What every registered fd carries as key.data. */
export interface EchoHandler {
  onReady(mask: number): void;
}

export interface EchoServerOptions {
  /** select | poll | epoll; default DefaultSelector (IOMUX_BACKEND applies). Ignored when `selector` is given. */
  backend?: string;
  /** A selector for the server to use; the server owns it from then on (close() closes it). */
  selector?: BaseSelector<EchoHandler>;
  host?: string;
  /** 0: an ephemeral port (read it back from `address`). */
  port?: number;
  /** Listen on this AF_UNIX path instead of TCP; it is unlinked on close(). */
  unix?: string;
  backlog?: number;
  /** Connections beyond this are accepted and closed at once (FIN, no data). Default: no limit. */
  maxConnections?: number;
  /** Close a connection with no read or write progress for this long (ms). 0: never. */
  idleTimeoutMs?: number;
  /** Stop reading from a connection once this many bytes wait to be sent to it. */
  highWaterMark?: number;
  /** ...and read again once its queue is down to this. */
  lowWaterMark?: number;
  /** Bytes asked of recv() per readable event. */
  readSize?: number;
  /** Accepts per listener event, so an accept storm cannot starve established connections. */
  acceptBatch?: number;
  /** How long to stop accepting after EMFILE/ENFILE (the listener is unregistered meanwhile). */
  acceptBackoffMs?: number;
  /** 0: no periodic stats events. */
  statsIntervalMs?: number;
  /** Notable events (stats, refusals, accept pauses) for the caller to log. */
  onEvent?: (event: EchoEvent) => void;
}

export interface EchoStats {
  backend: Backend;
  connections: number;
  peakConnections: number;
  accepted: number;
  closed: number;
  /** Closed at once because of maxConnections. */
  rejected: number;
  /** Closed at once because the selector refused the fd (select: fd >= FD_SETSIZE). */
  refused: number;
  idleTimeouts: number;
  /** Connections dropped on ECONNRESET, EPIPE or another socket error. */
  errors: number;
  /** recv() calls that returned data. */
  msgs: number;
  bytesIn: number;
  bytesOut: number;
  /** Bytes queued for all connections right now. */
  buffered: number;
  /** The most any one connection ever had queued. */
  maxBuffered: number;
  /** Connections whose reading is paused by back-pressure right now. */
  readPaused: number;
  /** Times back-pressure paused a connection. */
  readPauses: number;
  /** Times EMFILE/ENFILE made the server stop accepting for a while. */
  acceptPauses: number;
  uptimeMs: number;
}

export type EchoEvent =
  | { event: 'stats'; stats: EchoStats }
  | { event: 'refused'; reason: 'max-connections' | 'selector'; fd: number; peer: string; message: string }
  /** First pause of a streak only: while fds stay short, retries every acceptBackoffMs are not logged again. */
  | { event: 'accept-paused'; code: string; ms: number }
  /** The first successful accept after a streak of pauses. */
  | { event: 'accept-resumed'; pauses: number }
  | { event: 'accept-error'; code: string; message: string };

const KIB = 1024;

export class EchoServer {
  readonly selector: BaseSelector<EchoHandler>;
  readonly #opts: Required<Omit<EchoServerOptions, 'selector' | 'backend' | 'unix' | 'onEvent'>> & { unix?: string };
  readonly #onEvent: (e: EchoEvent) => void;
  readonly #conns = new Set<Connection>();
  readonly #scratch: Buffer;
  #listener: Socket | undefined;
  #address: Address | undefined;
  #acceptPausedUntil = 0; // performance.now() deadline; 0 when accepting
  #pauseStreak = 0; // pauses since the last successful accept
  #started = performance.now();
  #nextStats = Infinity;
  #nextSweep = Infinity;
  #stopping = false;
  #abort: AbortController | undefined;
  #closed = false;
  readonly #acceptor: EchoHandler = { onReady: () => this.#acceptSome() };
  readonly counters = {
    peakConnections: 0, accepted: 0, closed: 0, rejected: 0, refused: 0, idleTimeouts: 0, errors: 0,
    msgs: 0, bytesIn: 0, bytesOut: 0, maxBuffered: 0, readPauses: 0, acceptPauses: 0,
  };

  constructor(options: EchoServerOptions = {}) {
    const o = options;
    this.#opts = {
      host: o.host ?? ECHO_DEFAULT_HOST,
      port: o.port ?? ECHO_DEFAULT_PORT,
      unix: o.unix,
      backlog: o.backlog ?? 1024,
      maxConnections: o.maxConnections ?? Infinity,
      idleTimeoutMs: o.idleTimeoutMs ?? 0,
      highWaterMark: o.highWaterMark ?? 256 * KIB,
      lowWaterMark: o.lowWaterMark ?? 64 * KIB,
      readSize: o.readSize ?? 64 * KIB,
      acceptBatch: o.acceptBatch ?? 64,
      acceptBackoffMs: o.acceptBackoffMs ?? 100,
      statsIntervalMs: o.statsIntervalMs ?? 0,
    };
    this.#onEvent = o.onEvent ?? (() => {});
    this.#scratch = Buffer.allocUnsafe(this.#opts.readSize);
    this.selector = o.selector ?? openSelector<EchoHandler>(o.backend);
  }

  /** The bound address (the real port when 0 was asked); undefined before listen(). */
  get address(): Address | undefined {
    return this.#address;
  }

  /** The listening socket's fd (-1 before listen()). */
  get listenerFd(): number {
    return this.#listener?.fileno() ?? -1;
  }

  /** Binds, listens and registers the listener. Throws the system error (EADDRINUSE, ...) if it cannot. */
  listen(): Address {
    if (this.#listener) return this.#address!;
    const { unix, host, port } = this.#opts;
    const family = unix !== undefined ? AF_UNIX : host.includes(':') ? AF_INET6 : AF_INET;
    const sock = new Socket(family);
    try {
      if (family !== AF_UNIX) sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
      sock.bind(unix ?? [host, port]);
      sock.listen(this.#opts.backlog);
      sock.setBlocking(false);
      this.selector.register(sock, EVENT_READ, this.#acceptor);
    } catch (err) {
      sock.close();
      throw err;
    }
    this.#listener = sock;
    this.#address = unix ?? sock.getsockname();
    this.#started = performance.now();
    if (this.#opts.statsIntervalMs > 0) this.#nextStats = this.#started + this.#opts.statsIntervalMs;
    if (this.#opts.idleTimeoutMs > 0) this.#nextSweep = this.#started + this.#sweepEvery();
    return this.#address;
  }

  /**
   * Runs until stop(). Waits with selectAsync(), so Node's event loop (signal
   * handlers, timers, other I/O) keeps running while the server is idle.
   */
  async serve(): Promise<void> {
    this.listen();
    this.#stopping = false;
    const abort = (this.#abort = new AbortController());
    let lastYield = performance.now();
    try {
      while (!this.#stopping) {
        const ready = await selectOrStop(this.selector, this.#timeout(), abort.signal);
        if (ready === null) break;
        this.#dispatch(ready);
        const now = performance.now();
        this.#timers(now);
        // selectAsync resolves through a microtask when something is ready at
        // once, so a busy server would never let Node's macrotasks (signals,
        // timers) run. Give them a turn now and then.
        if (now - lastYield >= 20) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
      }
    } finally {
      this.#abort = undefined;
    }
  }

  /** One synchronous round: wait up to timeoutMs, handle what is ready. For callers with their own loop. */
  runOnce(timeoutMs: number): number {
    this.listen();
    const ready = this.selector.select(Math.min(timeoutMs, this.#timeout() ?? Infinity));
    this.#dispatch(ready);
    this.#timers(performance.now());
    return ready.length;
  }

  /** Makes serve() return promptly, even while it waits in the selector. */
  stop(): void {
    this.#stopping = true;
    this.#abort?.abort();
  }

  /** Closes every connection, the listener and the selector. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stop();
    for (const conn of [...this.#conns]) this.#drop(conn);
    if (this.#listener) {
      this.#listener.close();
      if (this.#opts.unix !== undefined) {
        try {
          unlinkSync(this.#opts.unix);
        } catch {
          // Already gone: nothing to clean.
        }
      }
    }
    this.selector.close();
  }

  stats(): EchoStats {
    let buffered = 0;
    let readPaused = 0;
    for (const c of this.#conns) {
      buffered += c.out.size;
      if (!c.reading && !c.peerClosed) readPaused++;
    }
    return {
      backend: this.selector.backend,
      connections: this.#conns.size,
      ...this.counters,
      buffered,
      readPaused,
      uptimeMs: Math.round(performance.now() - this.#started),
    };
  }

  // ---- the loop's pieces ----

  #dispatch(ready: Ready<EchoHandler>): void {
    for (const [key, mask] of ready) key.data.onReady(mask);
  }

  // The wait ends in time for the next stats line, idle sweep or accept resume.
  #timeout(): number | null {
    const next = Math.min(this.#nextStats, this.#nextSweep, this.#acceptPausedUntil || Infinity);
    return next === Infinity ? null : Math.max(0, next - performance.now());
  }

  #timers(now: number): void {
    if (this.#acceptPausedUntil !== 0 && now >= this.#acceptPausedUntil) this.#resumeAccepting();
    if (now >= this.#nextSweep) {
      this.#sweepIdle(now);
      this.#nextSweep = now + this.#sweepEvery();
    }
    if (now >= this.#nextStats) {
      this.#onEvent({ event: 'stats', stats: this.stats() });
      this.#nextStats = now + this.#opts.statsIntervalMs;
    }
  }

  #sweepEvery(): number {
    return Math.max(10, Math.min(1000, this.#opts.idleTimeoutMs / 4));
  }

  #sweepIdle(now: number): void {
    const limit = this.#opts.idleTimeoutMs;
    for (const conn of [...this.#conns]) {
      if (now - conn.lastActive >= limit) {
        this.counters.idleTimeouts++;
        this.#drop(conn);
      }
    }
  }

  #acceptSome(): void {
    const failed = acceptBurst(this.#listener!, this.#opts.acceptBatch, (sock, peer) => {
      if (this.#pauseStreak > 0) {
        this.#onEvent({ event: 'accept-resumed', pauses: this.#pauseStreak });
        this.#pauseStreak = 0;
      }
      this.#admit(sock, peer);
    });
    if (!failed) return;
    if (!failed.outOfFds) this.#onEvent({ event: 'accept-error', code: failed.code, message: failed.error.message });
    this.#pauseAccepting(failed.code);
  }


  #admit(sock: Socket, peerAddress: Address): void {
    const peer = formatAddress(peerAddress === '' ? 'unix' : peerAddress);
    if (this.#conns.size >= this.#opts.maxConnections) {
      // Polite: a plain close sends FIN, the client sees EOF rather than a reset.
      const fd = sock.fileno();
      sock.close();
      this.counters.rejected++;
      this.#onEvent({
        event: 'refused', reason: 'max-connections', fd, peer,
        message: `connection from ${peer} closed: already ${this.#conns.size} connections (--max-connections)`,
      });
      return;
    }
    const conn = new Connection(this, sock);
    try {
      sock.setBlocking(false);
      if (sock.family !== AF_UNIX) sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      this.selector.register(sock, EVENT_READ, conn);
    } catch (err) {
      // select: RangeError for fd >= FD_SETSIZE. Anything else the kernel says
      // (ENOMEM, ENOSPC from epoll) costs this connection, not the server.
      const fd = sock.fileno();
      sock.close();
      this.counters.refused++;
      this.#onEvent({
        event: 'refused', reason: 'selector', fd, peer,
        message: `connection from ${peer} closed: fd ${fd} refused by the ${this.selector.backend} selector: ${(err as Error).message}`,
      });
      return;
    }
    conn.registered = EVENT_READ;
    this.#conns.add(conn);
    this.counters.accepted++;
    if (this.#conns.size > this.counters.peakConnections) this.counters.peakConnections = this.#conns.size;
  }

  #pauseAccepting(code: string): void {
    if (this.#acceptPausedUntil !== 0) return;
    this.selector.unregister(this.#listener!);
    this.#acceptPausedUntil = performance.now() + this.#opts.acceptBackoffMs;
    this.counters.acceptPauses++;
    if (this.#pauseStreak++ === 0) this.#onEvent({ event: 'accept-paused', code, ms: this.#opts.acceptBackoffMs });
  }

  #resumeAccepting(): void {
    this.#acceptPausedUntil = 0;
    this.selector.register(this.#listener!, EVENT_READ, this.#acceptor);
  }

  // ---- connection I/O (called by Connection) ----

  /** @internal */
  onConnectionReady(conn: Connection, mask: number): void {
    if (conn.closed) return; // dropped earlier in this same batch
    try {
      if (mask & EVENT_WRITE) this.#flush(conn);
      if (mask & EVENT_READ && conn.reading && !conn.peerClosed) this.#read(conn);
    } catch (err) {
      // ECONNRESET, EPIPE, ETIMEDOUT...: the peer is gone; so is what we owed it.
      this.counters.errors++;
      this.#drop(conn);
      return;
    }
    this.#settle(conn);
  }

  #read(conn: Connection): void {
    const buf = this.#scratch;
    const n = conn.sock.recvInto(buf);
    if (n === null) return;
    if (n === 0) {
      // Half-close: the client is done sending; finish sending what we owe, then close.
      conn.peerClosed = true;
      return;
    }
    // Only idle timeouts need the clock: keep it off the per-message path otherwise.
    if (this.#opts.idleTimeoutMs > 0) conn.lastActive = performance.now();
    this.counters.msgs++;
    this.counters.bytesIn += n;
    let sent = 0;
    if (conn.out.size === 0) {
      // The common case: echo straight from the scratch buffer, copy only the rest.
      sent = conn.sock.send(buf, 0, n) ?? 0;
      this.counters.bytesOut += sent;
    }
    if (sent < n) {
      conn.out.push(Buffer.from(buf.subarray(sent, n)));
      if (conn.out.size > this.counters.maxBuffered) this.counters.maxBuffered = conn.out.size;
      if (conn.out.size >= this.#opts.highWaterMark) {
        // Back-pressure: the client is not reading; stop reading from it so our memory stays bounded.
        conn.reading = false;
        this.counters.readPauses++;
      }
    }
  }

  #flush(conn: Connection): void {
    const before = conn.out.size;
    conn.out.flush(conn.sock);
    const sent = before - conn.out.size;
    if (sent > 0) {
      conn.lastActive = performance.now();
      this.counters.bytesOut += sent;
    }
    if (!conn.reading && conn.out.size <= this.#opts.lowWaterMark) conn.reading = true;
  }

  // Registers exactly the events the connection needs now, or closes it when done.
  #settle(conn: Connection): void {
    const want = (conn.reading && !conn.peerClosed ? EVENT_READ : 0) | (conn.out.size === 0 ? 0 : EVENT_WRITE);
    if (want === 0) {
      // Only reachable after the peer's EOF with nothing left to send.
      this.#drop(conn);
      return;
    }
    if (want !== conn.registered) {
      this.selector.modify(conn.sock, want, conn);
      conn.registered = want;
    }
  }

  #drop(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    this.#conns.delete(conn);
    if (!this.selector.closed) {
      try {
        this.selector.unregister(conn.sock);
      } catch {
        // Not registered (refused or already gone): nothing to undo.
      }
    }
    conn.out.clear();
    conn.sock.close();
    this.counters.closed++;
  }
}

/** One client: its socket, what we still owe it, and whether we are reading from it. */
class Connection implements EchoHandler {
  readonly out = new SendQueue();
  reading = true;
  peerClosed = false;
  closed = false;
  registered = 0;
  lastActive = performance.now();
  constructor(
    readonly server: EchoServer,
    readonly sock: Socket,
  ) {}
  onReady(mask: number): void {
    this.server.onConnectionReady(this, mask);
  }
}
