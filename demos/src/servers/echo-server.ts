// The echo server behind `iomux echo`, as a module: tests, benchmarks and the
// Windows smoke test drive it in-process; echo.ts is only its CLI.
//
// One selector, level-triggered, on the demos' toolkit (../toolkit): the serve
// loop, the acceptor with its EMFILE back-off, the listener and the peer set.
// What is the echo server's own: echoing straight from the read buffer,
// back-pressure by water marks, half-close, the connection cap, idle timeouts.
import { BaseSelector, EVENT_READ, EVENT_WRITE, type Backend, type Ready } from 'iomux';
import { AF_UNIX, IPPROTO_TCP, Socket, TCP_NODELAY, type Address } from 'iomux';
import { Acceptor, type AcceptEvent } from '../toolkit/accept';
import { openSelector } from '../toolkit/backend';
import { formatAddress, listen, type Listener } from '../toolkit/listen';
import { ServeLoop, Sweep } from '../toolkit/loop';
import { Peer, PeerSet } from '../toolkit/peers';

export const ECHO_DEFAULT_HOST = '127.0.0.1';
export const ECHO_DEFAULT_PORT = 8801;

export interface EchoServerOptions {
  /** select | poll | epoll; default DefaultSelector (IOMUX_BACKEND applies). Ignored when `selector` is given. */
  backend?: string;
  /** A selector for the server to use; the server owns it from then on (close() closes it). */
  selector?: BaseSelector<EchoConn | null>;
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
  | AcceptEvent;

const KIB = 1024;

export class EchoServer {
  readonly selector: BaseSelector<EchoConn | null>;
  readonly #opts: Required<Omit<EchoServerOptions, 'selector' | 'backend' | 'unix' | 'onEvent'>> & { unix?: string };
  readonly #onEvent: (e: EchoEvent) => void;
  readonly #loop: ServeLoop<EchoConn | null>;
  readonly #peers: PeerSet<EchoConn>;
  readonly #sweep: Sweep;
  readonly #scratch: Buffer;
  #listener: Listener | undefined;
  #acceptor: Acceptor<EchoConn | null> | undefined;
  #started = performance.now();
  #closed = false;
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
    this.selector = o.selector ?? openSelector<EchoConn | null>(o.backend);
    this.#loop = new ServeLoop(this.selector, {
      onReady: (ready) => this.#dispatch(ready),
    });
    this.#peers = new PeerSet<EchoConn>(this.selector, () => this.counters.closed++);
    this.#sweep = new Sweep(this.#loop, (now) => this.#sweepIdle(now));
  }

  /** The bound address (the real port when 0 was asked); undefined before listen(). */
  get address(): Address | undefined {
    return this.#listener?.address;
  }

  /** The listening socket's fd (-1 before listen()). */
  get listenerFd(): number {
    return this.#listener?.sock.fileno() ?? -1;
  }

  /** Binds, listens and registers the listener. Throws the system error (bind EADDRINUSE 127.0.0.1:8801, ...) if it cannot. */
  listen(): Address {
    if (this.#listener) return this.#listener.address;
    const { unix, host, port } = this.#opts;
    const l = listen(unix !== undefined ? { unix } : { host, port }, this.#opts.backlog);
    try {
      this.#acceptor = new Acceptor(this.#loop, l.sock, null, (sock, peer) => this.#admit(sock, peer), {
        batch: this.#opts.acceptBatch,
        backoffMs: this.#opts.acceptBackoffMs,
        onEvent: (e) => this.#onEvent(e),
      });
    } catch (err) {
      l.close();
      throw err;
    }
    this.#listener = l;
    this.#started = performance.now();
    if (this.#opts.statsIntervalMs > 0) this.#loop.after(this.#opts.statsIntervalMs, () => this.#statsTick());
    if (this.#opts.idleTimeoutMs > 0) this.#sweep.soon(this.#started + this.#sweepEvery());
    return l.address;
  }

  /**
   * Runs until stop(). Waits with selectAsync(), so Node's event loop (signal
   * handlers, timers, other I/O) keeps running while the server is idle.
   */
  async serve(signal?: AbortSignal): Promise<void> {
    this.listen();
    await this.#loop.run(signal);
  }

  /** One synchronous round: wait up to timeoutMs, handle what is ready. For callers with their own loop. */
  runOnce(timeoutMs: number): number {
    this.listen();
    return this.#loop.runOnce(timeoutMs);
  }

  /** Makes serve() return promptly, even while it waits in the selector. */
  stop(): void {
    this.#loop.stop();
  }

  /** Closes every connection, the listener and the selector. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stop();
    this.#peers.dropAll();
    this.#listener?.close();
    this.selector.close();
  }

  stats(): EchoStats {
    let buffered = 0;
    let readPaused = 0;
    for (const c of this.#peers.all) {
      buffered += c.out.size;
      if (!c.reading && !c.peerClosed) readPaused++;
    }
    return {
      backend: this.selector.backend,
      connections: this.#peers.size,
      ...this.counters,
      acceptPauses: this.#acceptor?.pauses ?? 0,
      buffered,
      readPaused,
      uptimeMs: Math.round(performance.now() - this.#started),
    };
  }

  // ---- the loop's pieces ----

  #dispatch(ready: Ready<EchoConn | null>): void {
    for (const [key, mask] of ready) {
      if (key.data === null) this.#acceptor!.onReady();
      else this.#onConnectionReady(key.data, mask);
    }
  }

  #statsTick(): void {
    this.#onEvent({ event: 'stats', stats: this.stats() });
    this.#loop.after(this.#opts.statsIntervalMs, () => this.#statsTick());
  }

  #sweepEvery(): number {
    return Math.max(10, Math.min(1000, this.#opts.idleTimeoutMs / 4));
  }

  #sweepIdle(now: number): void {
    const limit = this.#opts.idleTimeoutMs;
    for (const conn of [...this.#peers.all]) {
      if (now - conn.lastActive >= limit) {
        this.counters.idleTimeouts++;
        this.#peers.drop(conn);
      }
    }
    this.#sweep.soon(now + this.#sweepEvery());
  }

  #admit(sock: Socket, peerAddress: Address): void {
    const peer = formatAddress(peerAddress);
    if (this.#peers.size >= this.#opts.maxConnections) {
      // Polite: a plain close sends FIN, the client sees EOF rather than a reset.
      const fd = sock.fileno();
      sock.close();
      this.counters.rejected++;
      this.#onEvent({
        event: 'refused', reason: 'max-connections', fd, peer,
        message: `connection from ${peer} closed: already ${this.#peers.size} connections (--max-connections)`,
      });
      return;
    }
    const conn = new EchoConn(sock, peer);
    const fd = sock.fileno();
    if (sock.family !== AF_UNIX) {
      try {
        sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      } catch {
        // reset already: the first read will say so
      }
    }
    const refused = this.#peers.add(conn, EVENT_READ);
    if (refused) {
      this.counters.refused++;
      this.#onEvent({
        event: 'refused', reason: 'selector', fd, peer,
        message: `connection from ${peer} closed: fd ${fd} refused by the ${this.selector.backend} selector: ${refused.message}`,
      });
      return;
    }
    this.counters.accepted++;
    if (this.#peers.size > this.counters.peakConnections) this.counters.peakConnections = this.#peers.size;
  }

  // ---- connection I/O ----

  #onConnectionReady(conn: EchoConn, mask: number): void {
    if (conn.gone) return; // dropped earlier in this same batch
    try {
      if (mask & EVENT_WRITE) this.#flush(conn);
      if (mask & EVENT_READ && conn.reading && !conn.peerClosed) this.#read(conn);
    } catch (err) {
      // ECONNRESET, EPIPE, ETIMEDOUT...: the peer is gone; so is what we owed it.
      this.counters.errors++;
      this.#peers.drop(conn);
      return;
    }
    this.#settle(conn);
  }

  #read(conn: EchoConn): void {
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

  #flush(conn: EchoConn): void {
    const before = conn.out.size;
    conn.out.flush(conn.sock); // errors: the caller drops the connection
    const sent = before - conn.out.size;
    if (sent > 0) {
      conn.lastActive = performance.now();
      this.counters.bytesOut += sent;
    }
    if (!conn.reading && conn.out.size <= this.#opts.lowWaterMark) conn.reading = true;
  }

  // Registers exactly the events the connection needs now, or closes it when done.
  #settle(conn: EchoConn): void {
    const want = (conn.reading && !conn.peerClosed ? EVENT_READ : 0) | (conn.out.size === 0 ? 0 : EVENT_WRITE);
    // Only reachable after the peer's EOF with nothing left to send.
    if (want === 0) this.#peers.drop(conn);
    else this.#peers.setEvents(conn, want);
  }
}

/** One client: its socket, what we still owe it, and whether we are reading from it. */
export class EchoConn extends Peer {
  reading = true;
  peerClosed = false;
  lastActive = performance.now();
}
