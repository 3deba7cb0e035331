// HTTPS for the crawler: node:tls over iomux's own non-blocking socket. The
// TLSSocket sits on a small Duplex that reads and writes the raw Socket only
// when the selector says it is ready; there is no net.Socket underneath. The
// two Duplexes differ only in who waits: the callback driver's selector, or
// EventLoop's sockRecv/sockSendAll.
import fs from 'node:fs';
import { isIP } from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { EventLoop } from 'iomux';
import { EVENT_READ, EVENT_WRITE, type BaseSelector } from 'iomux';
import type { Socket } from 'iomux';
import { FetchError, type ResponseParser } from './http';

const RECV_BYTES = 65536;
// Debian/Ubuntu, Fedora/RHEL, Alpine/openSUSE, macOS (via Homebrew openssl) bundles, in that order.
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

export interface TlsSettings {
  /** Extra CA certificates (PEM text), trusted besides the system store. */
  extraCa: string[];
  /** false: no certificate or host name check (--insecure). */
  verify: boolean;
}

/**
 * One secure context for the whole crawl: building one per connection would
 * parse the whole CA bundle every time.
 */
export class TlsContext {
  readonly verify: boolean;
  #ctx: tls.SecureContext | undefined;
  constructor(readonly settings: TlsSettings) {
    this.verify = settings.verify;
  }

  get secureContext(): tls.SecureContext {
    if (!this.#ctx) this.#ctx = tls.createSecureContext({ ca: [...systemCa(), ...this.settings.extraCa] });
    return this.#ctx;
  }
}

/** The system's CA bundle when there is one, else Node's built-in Mozilla roots. */
export function systemCa(): string[] {
  for (const f of SYSTEM_BUNDLES) {
    try {
      const pem = fs.readFileSync(f, 'utf8');
      if (pem.includes('BEGIN CERTIFICATE')) return [pem];
    } catch {
      /* not this system's layout */
    }
  }
  return [...tls.rootCertificates];
}

/** Callbacks style: waits are selector registrations whose data is the function to call. */
export class SelectorSocketStream extends Duplex {
  #reader: (() => void) | undefined;
  #writer: (() => void) | undefined;
  #registered = 0; // the events currently registered
  #pending: { chunk: Buffer; off: number; cb: (err?: Error | null) => void } | undefined;

  constructor(
    readonly sock: Socket,
    private readonly sel: BaseSelector<(mask: number) => void>,
  ) {
    super({ allowHalfOpen: false });
  }

  readonly #dispatch = (mask: number): void => {
    const r = this.#reader;
    const w = this.#writer;
    if (mask & EVENT_READ && r) {
      this.#reader = undefined;
      r();
    }
    if (mask & EVENT_WRITE && w) {
      this.#writer = undefined;
      w();
    }
    this.#sync();
  };

  // Keeps the registration equal to the waits that are pending.
  #sync(): void {
    if (this.sock.closed) return;
    const want = (this.#reader ? EVENT_READ : 0) | (this.#writer ? EVENT_WRITE : 0);
    if (want === this.#registered) return;
    if (want === 0) this.sel.unregister(this.sock);
    else if (this.#registered === 0) this.sel.register(this.sock, want, this.#dispatch);
    else this.sel.modify(this.sock, want, this.#dispatch);
    this.#registered = want;
  }

  override _read(): void {
    try {
      for (;;) {
        const data = this.sock.recv(RECV_BYTES);
        if (data === null) {
          this.#reader = () => this._read();
          return this.#sync();
        }
        if (data.length === 0) return void this.push(null);
        if (!this.push(data)) return;
      }
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#pending = { chunk, off: 0, cb };
    this.#flush();
  }

  #flush(): void {
    const p = this.#pending!;
    try {
      while (p.off < p.chunk.length) {
        const n = this.sock.send(p.chunk, p.off, p.chunk.length - p.off);
        if (n === null) {
          this.#writer = () => this.#flush();
          return this.#sync();
        }
        p.off += n;
      }
    } catch (err) {
      this.#pending = undefined;
      return p.cb(err as Error);
    }
    this.#pending = undefined;
    p.cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#reader = this.#writer = undefined;
    if (this.#registered && !this.sock.closed) this.sel.unregister(this.sock);
    this.#registered = 0;
    this.sock.close();
    cb(err);
  }
}

/** Async style: EventLoop's sockRecv/sockSendAll, cancelled through one AbortSignal on destroy. */
export class LoopSocketStream extends Duplex {
  readonly #ac = new AbortController();
  #reading = false;

  constructor(
    readonly sock: Socket,
    private readonly loop: EventLoop,
  ) {
    super({ allowHalfOpen: false });
  }

  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    void (async () => {
      try {
        for (;;) {
          const data = await this.loop.sockRecv(this.sock, RECV_BYTES, { signal: this.#ac.signal });
          if (data.length === 0) return void this.push(null);
          if (!this.push(data)) return;
        }
      } catch (err) {
        if (!this.#ac.signal.aborted) this.destroy(err as Error);
      } finally {
        this.#reading = false;
      }
    })();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.loop.sockSendAll(this.sock, chunk, { signal: this.#ac.signal }).then(
      () => cb(),
      (err: Error) => cb(err),
    );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#ac.abort();
    this.sock.close();
    cb(err);
  }
}

/** Why a TLS connection failed, as the summary shows it. */
export function tlsError(err: unknown): FetchError {
  if (err instanceof FetchError) return err;
  const code = (err as { code?: string })?.code ?? '';
  const msg = err instanceof Error ? err.message : String(err);
  if (code === 'ECONNREFUSED') return new FetchError('refused', msg);
  if (code === 'ECONNRESET' || code === 'EPIPE') return new FetchError('reset', msg);
  return new FetchError('tls', msg);
}

/**
 * A TLS connection that carries HTTP/1.1 requests one after another. Its
 * listeners stay on for its whole life and forward to whatever is using it
 * now: an exchange, or the pool's watch for the server closing it.
 */
export class TlsConn {
  readonly tls: tls.TLSSocket;
  #onData: ((d: Buffer) => void) | undefined;
  #onEnd: ((err: FetchError | null) => void) | undefined;
  closed = false;

  private constructor(stream: Duplex, url: URL, ctx: TlsContext) {
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.tls = tls.connect({
      socket: stream,
      // SNI carries names only, never addresses (RFC 6066 3).
      servername: isIP(host) ? undefined : host,
      host,
      secureContext: ctx.secureContext,
      rejectUnauthorized: ctx.verify,
      ALPNProtocols: ['http/1.1'],
    });
    this.tls.on('data', (d: Buffer) => this.#onData?.(d));
    this.tls.on('end', () => this.#ended(null));
    this.tls.on('close', () => this.#ended(null));
    this.tls.on('error', (err: Error) => this.#ended(tlsError(err)));
  }

  /** Starts the handshake; done once, with the connection or the reason it failed. */
  static connect(stream: Duplex, url: URL, ctx: TlsContext, done: (err: FetchError | null, conn?: TlsConn) => void): TlsConn {
    const c = new TlsConn(stream, url, ctx);
    let settled = false;
    c.#onEnd = (err) => {
      if (settled) return;
      settled = true;
      done(err ?? new FetchError('tls', `${url.host} closed the connection during the TLS handshake`));
    };
    c.tls.once('secureConnect', () => {
      if (settled) return;
      settled = true;
      c.#onEnd = undefined;
      done(null, c);
    });
    return c;
  }

  #ended(err: FetchError | null): void {
    const first = !this.closed;
    this.closed = true;
    const cb = this.#onEnd;
    if (first || err) cb?.(err);
  }

  /**
   * Sends one request and feeds the answer to parser; done(null) once the
   * parser has the whole response, done(err) on failure.
   */
  exchange(request: Buffer, parser: ResponseParser, done: (err: FetchError | null) => void): void {
    let settled = false;
    const settle = (err: FetchError | null): void => {
      if (settled) return;
      settled = true;
      this.#onData = this.#onEnd = undefined;
      done(err);
    };
    this.#onData = (d) => {
      try {
        parser.feed(d);
        if (parser.done) settle(null);
      } catch (err) {
        settle(err as FetchError);
      }
    };
    this.#onEnd = (err) => {
      if (err) return settle(err);
      try {
        parser.end();
        settle(null);
      } catch (e) {
        settle(e as FetchError);
      }
    };
    if (this.closed) return this.#onEnd(null);
    this.tls.write(request);
  }

  /** While idle in the pool: call onGone if the server closes the connection. */
  watchIdle(onGone: () => void): void {
    this.#onData = () => onGone(); // bytes nobody asked for: out of step, drop it
    this.#onEnd = () => onGone();
    if (this.closed) onGone();
  }

  close(): void {
    this.closed = true;
    this.#onData = this.#onEnd = undefined;
    this.tls.destroy();
  }
}
