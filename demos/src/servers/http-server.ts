// The tutorial's tiny HTTP server ("/" → hello world, "/name" → a name,
// anything else → 404) on one selector, but speaking correct HTTP/1.1:
// persistent connections, pipelining (answers in request order, with
// back-pressure: a client that does not read its answers stops being read),
// HEAD, Content-Length always, error statuses from the parser, a request
// timeout, and a connection cap: when the table is full, the oldest
// connection that has not completed a request yet is closed to make room (so
// slow clients cannot lock everyone out); only when every connection has
// completed one does a newcomer get 503. Expect: 100-continue is answered
// before the body is read; --log writes an access log (common log format).
//
// Closing is "lingering": after the last answer the server shuts down its
// write side and reads (discarding) until the client closes or a short
// deadline passes. Closing with unread request bytes would make the kernel
// send a reset that can destroy the answer before the client reads it.
import { EVENT_READ, EVENT_WRITE } from 'iomux';
import { SHUT_WR, type Address, type Socket } from 'iomux';
import type { AcceptEvent } from '../toolkit/accept';
import { formatAddress } from '../toolkit/listen';
import { Sweep } from '../toolkit/loop';
import { Peer, receive, type RefusedEvent } from '../toolkit/peers';
import { ServerFrame } from '../toolkit/server';
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
  /** Request line plus headers (default 8192 bytes). Over it: 431 (414 for a long target). */
  maxHeaderBytes?: number;
  log?: (event: HttpEvent) => void;
  /** Called with one common-log-format line per answered request (--log). */
  accessLog?: (line: string) => void;
}

export type HttpEvent =
  | { event: 'error-response'; peer: string; status: number; reason: string }
  | RefusedEvent
  | { event: 'evicted'; peer: string; reason: string }
  | AcceptEvent;

export interface HttpSummary {
  connections: number;
  peakConnections: number;
  refused: number;
  /** Connections closed to make room before they completed a request. */
  evicted: number;
  requests: number;
  statuses: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
}

const REASONS: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

const RECV_SIZE = 64 * 1024;
/** Methods this server knows (RFC 9110 9.3 + PATCH): others get 501, a known one the path does not take 405. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
const ALLOW = 'GET, HEAD, OPTIONS';
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
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

class Conn extends Peer {
  readonly parser: RequestParser;
  readonly counted: boolean; // inside the connection cap (false: an over-cap connection being told 503)
  /** Requests answered on it (0: a candidate for eviction when the table is full). */
  requests = 0;
  phase = Phase.Open;
  /** When the first byte of the request being received arrived (0: none in progress). */
  requestSince = 0;
  /** Since when nothing is in progress (for the keep-alive timeout). */
  idleSince: number;
  /** When sending last made progress while bytes were queued. */
  sendProgress: number;
  lingerUntil = 0;

  constructor(sock: Socket, peer: string, counted: boolean, maxHeaderBytes: number, now: number) {
    super(sock, peer);
    this.counted = counted;
    this.parser = new RequestParser({ maxHeaderBytes });
    this.idleSince = now;
    this.sendProgress = now;
  }
}

export class HttpServer extends ServerFrame<Conn> {
  readonly name: string;
  readonly maxConnections: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxHeaderBytes: number;
  readonly #sweep: Sweep;
  readonly #log: (e: HttpEvent) => void;
  readonly #accessLog: ((line: string) => void) | undefined;
  #open = 0; // counted connections
  #refusing = 0;
  #recvBuf = Buffer.allocUnsafe(RECV_SIZE);
  #dateSecond = -1;
  #date = '';
  readonly stats: HttpSummary = { connections: 0, peakConnections: 0, refused: 0, evicted: 0, requests: 0, statuses: {}, bytesIn: 0, bytesOut: 0 };

  constructor(opts: HttpOptions = {}) {
    const log = opts.log ?? (() => {});
    super({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 8803, backend: opts.backend, onAcceptEvent: log });
    this.name = opts.name ?? 'iomux';
    this.maxConnections = opts.maxConnections ?? 1000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10000;
    this.keepAliveTimeoutMs = opts.keepAliveTimeoutMs ?? 5000;
    this.maxHeaderBytes = opts.maxHeaderBytes ?? 8192;
    this.#log = log;
    this.#accessLog = opts.accessLog;
    this.#sweep = new Sweep(this.loop, () => this.#checkTimers());
  }

  protected onDrop(c: Conn): void {
    if (c.counted) this.#open--;
    else this.#refusing--;
  }

  /** Runs until the signal aborts, then closes everything and returns the totals. */
  async serve(signal?: AbortSignal): Promise<HttpSummary> {
    try {
      await this.loop.run(signal);
    } finally {
      this.close();
    }
    this.stats.bytesOut = this.peers.bytesOut;
    return { ...this.stats, statuses: { ...this.stats.statuses } };
  }

  protected onPeerReady(c: Conn, mask: number): void {
    if (!c.gone && (mask & EVENT_READ) !== 0) this.#readFrom(c);
    if ((mask & EVENT_WRITE) !== 0) this.peers.markDirty(c);
  }

  #deadline(at: number): void {
    this.#sweep.soon(at);
  }

  // The table is full: close the oldest connection that has not completed a request (in
  // admission order, which the peer set keeps), so slow or idle newcomers cannot hold every slot.
  #evictOne(): boolean {
    for (const c of this.peers.all) {
      if (c.counted && c.requests === 0 && c.phase === Phase.Open && c.out.size === 0) {
        this.stats.evicted++;
        this.#log({ event: 'evicted', peer: c.peer, reason: 'connection table full; no request completed yet' });
        this.#drop(c);
        return true;
      }
    }
    return false;
  }

  protected admit(sock: Socket, address: Address): void {
    const peer = formatAddress(address);
    const now = performance.now();
    if (this.#open >= this.maxConnections) this.#evictOne();
    const counted = this.#open < this.maxConnections;
    if (!counted && this.#refusing >= MAX_REFUSING) {
      sock.close();
      this.stats.refused++;
      this.#log({ event: 'refused', peer, reason: 'connection cap (closed at once)' });
      return;
    }
    const c = new Conn(sock, peer, counted, this.maxHeaderBytes, now);
    const refused = this.peers.add(c, EVENT_READ);
    if (refused) {
      this.stats.refused++;
      this.#log({ event: 'refused', peer, reason: refused.message });
      return;
    }
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
    const n = receive(c.sock, this.#recvBuf);
    if (n === 'gone') return this.#drop(c);
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
      c.requests++;
      this.#answer(c, r.request);
    }
    const waiting = c.phase === Phase.Open ? c.parser.awaitingContinue : undefined;
    if (waiting) this.#answerExpect(c, waiting);
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

  // Expect: 100-continue (RFC 9110 10.1.1): the final status when the head alone decides it
  // (then the body is never read: the connection closes after it), else 100 Continue at once.
  #answerExpect(c: Conn, req: HttpRequest): void {
    c.parser.continued();
    const { status } = this.#route(req);
    if (status !== 200) {
      this.stats.requests++;
      c.requests++;
      this.#answer(c, { ...req, keepAlive: false });
      return;
    }
    this.peers.queue(c, CONTINUE);
  }

  /** Status, body and extra headers for a request, from its method and target alone. */
  #route(req: HttpRequest): { status: number; body: string; extra?: Array<[string, string]> } {
    if (!KNOWN_METHODS.has(req.method)) return { status: 501, body: `Not Implemented: ${req.method}\n` };
    if (req.target === '*') {
      return req.method === 'OPTIONS'
        ? { status: 200, body: '', extra: [['Allow', ALLOW]] }
        : { status: 400, body: 'Bad Request: * is only for OPTIONS\n' };
    }
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
      return { status: 404, body: `Not Found: ${path}\n` };
    }
    if (req.method === 'OPTIONS') return { status: 200, body: '', extra: [['Allow', ALLOW]] };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // (OPTIONS is answered too, but listed only where it is asked about: in OPTIONS answers.)
      return { status: 405, body: `Method Not Allowed: ${req.method}\n`, extra: [['Allow', 'GET, HEAD']] };
    }
    return { status: 200, body };
  }

  #answer(c: Conn, req: HttpRequest): void {
    const r = this.#route(req);
    // 501: the server cannot know how such a request is framed beyond its head: close after it.
    this.#respond(c, req, r.status, r.body, !req.keepAlive || r.status === 501, r.extra);
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
    this.peers.queue(c, Buffer.from(head, 'latin1'));
    if (req?.method !== 'HEAD') this.peers.queue(c, payload);
    this.stats.statuses[status] = (this.stats.statuses[status] ?? 0) + 1;
    this.#accessLog?.(this.#logLine(c, req, status, req?.method === 'HEAD' ? 0 : payload.length));
    if (close) {
      c.phase = Phase.Closing;
      this.#setEvents(c, EVENT_WRITE);
    }
  }

  protected afterBatch(): void {
    this.peers.flushDirty((c, done, sent) => {
      if (done === null) return this.#drop(c);
      const now = performance.now();
      if (sent > 0) c.sendProgress = now;
      if (!done) {
        this.#deadline(c.sendProgress + this.requestTimeoutMs);
        this.#setEvents(c, c.phase === Phase.Open ? c.events | EVENT_WRITE : EVENT_WRITE);
        return;
      }
      if (c.phase === Phase.Closing) {
        this.#linger(c);
      } else if (c.phase === Phase.Open) {
        this.#setEvents(c, EVENT_READ);
        // Drained: requests held back by back-pressure can be answered now (re-queued if any).
        if (c.parser.buffered > 0) {
          this.#pump(c);
        } else if (c.requestSince === 0) {
          // The keep-alive wait starts when the last answer is out, not when it was queued.
          c.idleSince = now;
          this.#deadline(now + this.keepAliveTimeoutMs);
        }
      }
    });
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
    this.peers.setEvents(c, events);
  }

  // The deadline sweep: request, send, keep-alive and linger timeouts.
  #checkTimers(): void {
    const now = performance.now();
    for (const c of [...this.peers.all]) {
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
  }

  #drop(c: Conn): void {
    this.peers.drop(c);
  }

  // Common log format: host ident authuser [date] "request line" status bytes.
  #logLine(c: Conn, req: HttpRequest | undefined, status: number, bytes: number): string {
    const d = new Date();
    const mon = d.toUTCString().slice(8, 11);
    const p2 = (n: number) => String(n).padStart(2, '0');
    const when = `${p2(d.getUTCDate())}/${mon}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
    const host = c.peer.replace(/^\[(.*)\]:\d+$/, '$1').replace(/:\d+$/, '');
    const line = req ? `${req.method} ${req.target} HTTP/1.${req.minor}` : '-';
    return `${host} - - [${when}] "${line.replace(/["\\]/g, '\\$&')}" ${status} ${bytes}`;
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
