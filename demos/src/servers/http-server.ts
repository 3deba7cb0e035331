// The tutorial's tiny HTTP server ("/" → hello world, "/name" → a name,
// anything else → 404) on one selector, but speaking correct HTTP/1.1:
// persistent connections, pipelining (answers in request order, with
// back-pressure: a client that does not read its answers stops being read),
// HEAD, Content-Length always, error statuses from the parser, a request
// timeout, and a connection cap.
//
// Closing is "lingering": after the last answer the server shuts down its
// write side and reads (discarding) until the client closes or a short
// deadline passes. Closing with unread request bytes would make the kernel
// send a reset that can destroy the answer before the client reads it.
import { EVENT_READ, EVENT_WRITE, type BaseSelector } from 'iomux';
import { SHUT_WR, type Socket } from 'iomux';
import { SendQueue } from '../common/send-queue';
import { acceptBurst, formatAddress, selectOrStop, isPeerGone, listenOn, openSelector } from '../common/serve';
import { RequestParser, type HttpRequest } from './http-parser';

export interface HttpOptions {
  host?: string;
  port?: number;
  backend?: string;
  /** What GET /name answers when the query has no name=... (default "iomux"). */
  name?: string;
  /** Open connections served at once (default 1000). Extra ones get 503 and are closed. */
  maxConnections?: number;
  /** From a request's first byte to its last (default 10000 ms). Over it: 408 and close. */
  requestTimeoutMs?: number;
  /** An idle persistent connection is closed after this (default 5000 ms). */
  keepAliveTimeoutMs?: number;
  /** Request line plus headers (default 8192 bytes). Over it: 431. */
  maxHeaderBytes?: number;
  log?: (event: HttpEvent) => void;
}

export type HttpEvent =
  | { event: 'error-response'; peer: string; status: number; reason: string }
  | { event: 'refused'; peer: string; reason: string }
  | { event: 'accept-paused'; code: string };

export interface HttpSummary {
  connections: number;
  peakConnections: number;
  refused: number;
  requests: number;
  statuses: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

const RECV_SIZE = 64 * 1024;
const ACCEPT_BURST = 64;
/** Queued answer bytes above which a connection's further pipelined requests wait (and it is not read). */
const HIGH_WATER = 64 * 1024;
/** How long a closing connection is read (and discarded) before it is closed anyway. */
const LINGER_MS = 2000;
/** Over-cap connections kept at once just to tell them 503; beyond this they are closed at once. */
const MAX_REFUSING = 64;
const SERVER = 'iomux';

const enum Phase {
  /** Reading and answering requests. */
  Open,
  /** No more requests: send what is queued, then linger. */
  Closing,
  /** Write side shut down: read and discard until EOF or the deadline. */
  Lingering,
}

class Conn {
  readonly sock: Socket;
  readonly peer: string;
  readonly parser: RequestParser;
  readonly out = new SendQueue();
  readonly counted: boolean; // inside the connection cap (false: an over-cap connection being told 503)
  phase = Phase.Open;
  events = EVENT_READ;
  /** When the first byte of the request being received arrived (0: none in progress). */
  requestSince = 0;
  /** Since when nothing is in progress (for the keep-alive timeout). */
  idleSince: number;
  /** When sending last made progress while bytes were queued. */
  sendProgress: number;
  lingerUntil = 0;
  gone = false;

  constructor(sock: Socket, peer: string, counted: boolean, maxHeaderBytes: number, now: number) {
    this.sock = sock;
    this.peer = peer;
    this.counted = counted;
    this.parser = new RequestParser({ maxHeaderBytes });
    this.idleSince = now;
    this.sendProgress = now;
  }
}

export class HttpServer {
  readonly backend: string;
  readonly address: [string, number];
  readonly name: string;
  readonly maxConnections: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxHeaderBytes: number;
  readonly #sel: BaseSelector<Conn | null>;
  readonly #listener: Socket;
  readonly #log: (e: HttpEvent) => void;
  readonly #conns = new Set<Conn>();
  readonly #dirty = new Set<Conn>();
  #open = 0; // counted connections
  #refusing = 0;
  #acceptPausedUntil = 0;
  #nextCheck = Infinity;
  #recvBuf = Buffer.allocUnsafe(RECV_SIZE);
  #dateSecond = -1;
  #date = '';
  readonly stats: HttpSummary = { connections: 0, peakConnections: 0, refused: 0, requests: 0, statuses: {}, bytesIn: 0, bytesOut: 0 };

  constructor(opts: HttpOptions = {}) {
    this.name = opts.name ?? 'iomux';
    this.maxConnections = opts.maxConnections ?? 1000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10000;
    this.keepAliveTimeoutMs = opts.keepAliveTimeoutMs ?? 5000;
    this.maxHeaderBytes = opts.maxHeaderBytes ?? 8192;
    this.#log = opts.log ?? (() => {});
    this.#sel = openSelector<Conn | null>(opts.backend);
    this.backend = this.#sel.backend;
    try {
      this.#listener = listenOn(opts.host ?? '127.0.0.1', opts.port ?? 8803);
      this.#sel.register(this.#listener, EVENT_READ, null);
    } catch (err) {
      this.#sel.close();
      throw err;
    }
    this.address = this.#listener.getsockname() as [string, number];
  }

  /** Runs until the signal aborts, then closes everything and returns the totals. */
  async serve(signal?: AbortSignal): Promise<HttpSummary> {
    try {
      while (!signal?.aborted) {
        const ready = await selectOrStop(this.#sel, this.#timeout(), signal);
        if (ready === null) break;
        for (const [key, mask] of ready) {
          const c = key.data;
          if (c === null) {
            this.#acceptSome();
            continue;
          }
          if (!c.gone && (mask & EVENT_READ) !== 0) this.#readFrom(c);
          if (!c.gone && (mask & EVENT_WRITE) !== 0) this.#dirty.add(c);
        }
        this.#flushAll();
        if (performance.now() >= this.#nextCheck) this.#checkTimers();
      }
    } finally {
      this.close();
    }
    return { ...this.stats, statuses: { ...this.stats.statuses } };
  }

  /** Closes every socket and the selector. Idempotent. */
  close(): void {
    for (const c of this.#conns) this.#drop(c);
    this.#listener.close();
    this.#sel.close();
  }

  #timeout(): number | null {
    let t = this.#nextCheck;
    if (this.#acceptPausedUntil > 0) t = Math.min(t, this.#acceptPausedUntil);
    return t === Infinity ? null : Math.max(0, t - performance.now());
  }

  #deadline(at: number): void {
    if (at < this.#nextCheck) this.#nextCheck = at;
  }

  #acceptSome(): void {
    const failed = acceptBurst(this.#listener, ACCEPT_BURST, (sock, peer) => this.#admit(sock, formatAddress(peer)));
    if (!failed) return;
    if (!failed.outOfFds) throw failed.error;
    this.#sel.unregister(this.#listener);
    this.#acceptPausedUntil = performance.now() + 100;
    this.#log({ event: 'accept-paused', code: failed.code });
  }


  #admit(sock: Socket, peer: string): void {
    sock.setBlocking(false);
    const now = performance.now();
    const counted = this.#open < this.maxConnections;
    if (!counted && this.#refusing >= MAX_REFUSING) {
      sock.close();
      this.stats.refused++;
      this.#log({ event: 'refused', peer, reason: 'connection cap (closed at once)' });
      return;
    }
    const c = new Conn(sock, peer, counted, this.maxHeaderBytes, now);
    try {
      this.#sel.register(sock, EVENT_READ, c);
    } catch (err) {
      // select() cannot watch fds >= FD_SETSIZE: refuse this one, keep serving.
      sock.close();
      this.stats.refused++;
      this.#log({ event: 'refused', peer, reason: (err as Error).message });
      return;
    }
    this.#conns.add(c);
    if (counted) {
      this.#open++;
      this.stats.connections++;
      this.stats.peakConnections = Math.max(this.stats.peakConnections, this.#open);
      this.#deadline(now + this.keepAliveTimeoutMs);
    } else {
      this.#refusing++;
      this.stats.refused++;
      this.#log({ event: 'refused', peer, reason: 'connection cap (503)' });
      this.#respond(c, undefined, 503, 'too many connections; try again later\n', true, [['Retry-After', '1']]);
    }
  }

  #readFrom(c: Conn): void {
    let n: number | null;
    try {
      n = c.sock.recvInto(this.#recvBuf);
    } catch (err) {
      if (!isPeerGone(err)) throw err;
      return this.#drop(c);
    }
    if (n === null) return;
    if (n === 0) {
      // The client finished sending. Answers already queued still go out (a
      // half-closed client may wait for them); a partial request is abandoned.
      if (c.phase === Phase.Lingering || c.out.size === 0) return this.#drop(c);
      c.phase = Phase.Closing;
      this.#setEvents(c, EVENT_WRITE);
      return;
    }
    this.stats.bytesIn += n;
    if (c.phase !== Phase.Open) return; // discarded: no more requests are answered
    c.parser.feed(this.#recvBuf.subarray(0, n));
    this.#pump(c);
  }

  // Answers the complete requests buffered, in order, until the answers queued pass HIGH_WATER.
  #pump(c: Conn): void {
    while (c.phase === Phase.Open && c.out.size < HIGH_WATER) {
      const r = c.parser.next();
      if (r === null) break;
      if (r.error) {
        this.#log({ event: 'error-response', peer: c.peer, status: r.error.status, reason: r.error.reason });
        this.#respond(c, undefined, r.error.status, `${REASONS[r.error.status]}: ${r.error.reason}\n`, true);
        break;
      }
      this.stats.requests++;
      this.#answer(c, r.request);
    }
    const now = performance.now();
    if (c.phase === Phase.Open) {
      if (c.parser.inProgress) {
        if (c.requestSince === 0) {
          c.requestSince = now;
          this.#deadline(now + this.requestTimeoutMs);
        }
      } else {
        c.requestSince = 0;
        c.idleSince = now;
        this.#deadline(now + this.keepAliveTimeoutMs);
      }
      // Back-pressure: while answers pile up, leave further requests in the kernel.
      // (EVENT_WRITE is added by the flush only if the kernel does not take everything.)
      this.#setEvents(c, c.out.size < HIGH_WATER ? c.events | EVENT_READ : EVENT_WRITE);
    }
  }

  #answer(c: Conn, req: HttpRequest): void {
    let target = req.target;
    if (!target.startsWith('/')) {
      // absolute-form: only the path and query route.
      const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*(.*)$/.exec(target);
      target = m && m[1] !== '' ? m[1] : '/';
    }
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const query = q < 0 ? '' : target.slice(q + 1);
    let body: string;
    if (path === '/') {
      body = 'Hello, world!\n';
    } else if (path === '/name') {
      const asked = new URLSearchParams(query).get('name');
      body = `${asked !== null && asked !== '' ? asked : this.name}\n`;
    } else {
      return this.#respond(c, req, 404, `Not Found: ${path}\n`, !req.keepAlive);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return this.#respond(c, req, 405, `Method Not Allowed: ${req.method}\n`, !req.keepAlive, [['Allow', 'GET, HEAD']]);
    }
    this.#respond(c, req, 200, body, !req.keepAlive);
  }

  // Queues one answer. `close`: it is the connection's last one.
  #respond(c: Conn, req: HttpRequest | undefined, status: number, body: string, close: boolean, extra: Array<[string, string]> = []): void {
    const payload = Buffer.from(body, 'utf8');
    if (c.out.size === 0) c.sendProgress = performance.now(); // the send timeout counts from the first queued byte
    let head =
      `HTTP/1.1 ${status} ${REASONS[status]}\r\n` +
      `Date: ${this.#httpDate()}\r\n` +
      `Server: ${SERVER}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${payload.length}\r\n`;
    for (const [k, v] of extra) head += `${k}: ${v}\r\n`;
    if (close) head += 'Connection: close\r\n';
    else if (req !== undefined && req.minor === 0) head += 'Connection: keep-alive\r\n';
    head += '\r\n';
    c.out.push(Buffer.from(head, 'latin1'));
    if (req?.method !== 'HEAD') c.out.push(payload);
    this.stats.statuses[status] = (this.stats.statuses[status] ?? 0) + 1;
    this.#dirty.add(c);
    if (close) {
      c.phase = Phase.Closing;
      this.#setEvents(c, EVENT_WRITE);
    }
  }

  #flushAll(): void {
    for (const c of this.#dirty) {
      this.#dirty.delete(c);
      if (c.gone) continue;
      const before = c.out.size;
      let done: boolean;
      try {
        done = c.out.flush(c.sock);
      } catch (err) {
        this.stats.bytesOut += before - c.out.size;
        if (!isPeerGone(err)) throw err;
        this.#drop(c);
        continue;
      }
      this.stats.bytesOut += before - c.out.size;
      const now = performance.now();
      if (c.out.size < before) c.sendProgress = now;
      if (!done) {
        this.#deadline(c.sendProgress + this.requestTimeoutMs);
        this.#setEvents(c, c.phase === Phase.Open ? c.events | EVENT_WRITE : EVENT_WRITE);
        continue;
      }
      if (c.phase === Phase.Closing) {
        this.#linger(c);
      } else if (c.phase === Phase.Open) {
        this.#setEvents(c, EVENT_READ);
        // Drained: requests held back by back-pressure can be answered now (re-queued in #dirty if any).
        if (c.parser.buffered > 0) {
          this.#pump(c);
        } else if (c.requestSince === 0) {
          // The keep-alive wait starts when the last answer is out, not when it was queued.
          c.idleSince = now;
          this.#deadline(now + this.keepAliveTimeoutMs);
        }
      }
    }
  }

  #linger(c: Conn): void {
    try {
      c.sock.shutdown(SHUT_WR);
    } catch {
      return this.#drop(c);
    }
    c.phase = Phase.Lingering;
    c.lingerUntil = performance.now() + LINGER_MS;
    this.#deadline(c.lingerUntil);
    this.#setEvents(c, EVENT_READ);
  }

  #setEvents(c: Conn, events: number): void {
    if (c.gone || c.events === events) return;
    this.#sel.modify(c.sock, events, c);
    c.events = events;
  }

  #checkTimers(): void {
    const now = performance.now();
    this.#nextCheck = Infinity;
    if (this.#acceptPausedUntil > 0 && now >= this.#acceptPausedUntil) {
      this.#acceptPausedUntil = 0;
      this.#sel.register(this.#listener, EVENT_READ, null);
    }
    for (const c of this.#conns) {
      if (c.phase === Phase.Lingering) {
        if (now >= c.lingerUntil) this.#drop(c);
        else this.#deadline(c.lingerUntil);
        continue;
      }
      if (c.out.size > 0) {
        // A client that does not read its answers is not waited for forever.
        const until = c.sendProgress + this.requestTimeoutMs;
        if (now >= until) {
          this.#drop(c);
          continue;
        }
        this.#deadline(until);
      }
      if (c.phase !== Phase.Open) continue;
      // A pipelined partial request has its own deadline, answers pending or not.
      if (c.requestSince > 0) {
        const until = c.requestSince + this.requestTimeoutMs;
        if (now >= until) {
          this.#log({ event: 'error-response', peer: c.peer, status: 408, reason: 'request not complete in time' });
          this.#respond(c, undefined, 408, 'Request Timeout\n', true);
        } else {
          this.#deadline(until);
        }
      } else if (c.out.size === 0) {
        const until = c.idleSince + this.keepAliveTimeoutMs;
        if (now >= until) this.#drop(c); // idle between requests: nothing is owed, a plain close
        else this.#deadline(until);
      }
    }
    this.#flushAll();
  }

  #drop(c: Conn): void {
    if (c.gone) return;
    c.gone = true;
    this.#conns.delete(c);
    this.#dirty.delete(c);
    if (c.counted) this.#open--;
    else this.#refusing--;
    c.out.clear();
    try {
      this.#sel.unregister(c.sock);
    } catch {
      // selector already closed
    }
    c.sock.close();
  }

  #httpDate(): string {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== this.#dateSecond) {
      this.#dateSecond = second;
      this.#date = new Date(second * 1000).toUTCString();
    }
    return this.#date;
  }
}
