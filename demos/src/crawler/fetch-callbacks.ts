// --style callbacks: the tutorial's shape. Each registration's data is the
// method to call when the fd is ready (connected -> sendRequest -> readResponse),
// and a bare driver loop calls key.data(mask) for every ready key. https://
// hands the connected socket to TLS over a SelectorSocketStream (tls.ts) on
// the same selector.
import { AbortError } from 'iomux';
import { EVENT_READ, EVENT_WRITE, type BaseSelector, type SelectorKey } from 'iomux';
import { Socket, SOCK_STREAM } from 'iomux';
import { buildRequest, FetchError, ResponseParser, type SinkFor } from './http';
import { SelectorSocketStream, TlsConn } from './tls';
import { originKey, poolTls, port, staleConnection, toFetchError, type FetchedResponse, type FetchSettings } from './conn';
import { ServeLoop } from '../toolkit/loop';

type Callback = (mask: number) => void;

/**
 * The demos' serve loop (../toolkit/loop.ts: selectAsync, deadlines, wake,
 * the yield policy) with the callbacks dispatch: key.data(mask) for every
 * ready key.
 */
export class CallbackDriver extends ServeLoop<Callback> {
  /**
   * Every fetch reads into this one buffer: a read is fed to its parser at once
   * (which copies what it keeps), so no fetch needs it past its own callback.
   */
  readonly recvBuffer = Buffer.allocUnsafe(65536);

  constructor(sel: BaseSelector<Callback>) {
    super(sel, {
      // selectAsync's answer was taken before the microtasks that ran since (a fetch
      // taking over a pooled socket, say): dispatch to the key as it is now.
      onReady: (events) => {
        const map = sel.getMap();
        for (const [key, mask] of events) {
          const cur = map.get(key.fd);
          if (cur !== undefined && (mask & cur.events) !== 0) cur.data(mask & cur.events);
        }
      },
    });
  }
}

/** One request/response on one connection, driven entirely by selector callbacks. */
export class CallbackFetch {
  #sock: Socket | undefined;
  #tls: TlsConn | undefined;
  #registered = false;
  #reused = false;
  #triedFresh = false;
  #finished = false;
  #timer: { cancel(): void } | undefined;
  #request: Buffer;
  #sent = 0;
  #parser: ResponseParser;

  constructor(
    private readonly driver: CallbackDriver,
    private readonly settings: FetchSettings,
    private readonly url: URL,
    private readonly done: (err: FetchError | null, res?: FetchedResponse) => void,
    /** Where the body goes as it arrives (see http.ts BodySink); without it the body is kept in memory. */
    private readonly sinkFor?: SinkFor,
  ) {
    this.#request = buildRequest(url, { keepAlive: settings.keepAlive, userAgent: settings.userAgent });
    this.#parser = new ResponseParser('GET', settings.limits, sinkFor);
  }

  start(): void {
    if (this.url.protocol === 'https:') {
      const conn = this.settings.keepAlive ? this.settings.tlsPool.take(originKey(this.url)) : undefined;
      if (!conn) return this.#connect();
      this.#reused = true;
      this.#tls = conn;
      return this.#tlsExchange();
    }
    const pooled = this.settings.keepAlive ? this.settings.pool.take(originKey(this.url)) : undefined;
    if (pooled) {
      this.#reused = true;
      this.#sock = pooled;
      // Idle pooled sockets stay registered (see #finish): take the registration over.
      this.#registered = this.driver.sel.getMap().get(pooled.fileno())?.fileobj === pooled;
      this.#sendRequest();
    } else this.#connect();
  }

  #connect(): void {
    this.#reused = false;
    this.#timer = this.driver.after(this.settings.connectTimeoutMs, () =>
      this.#fail(new FetchError('connect-timeout', `connect to ${this.url.host} took longer than ${this.settings.connectTimeoutMs} ms`)),
    );
    this.settings.resolver.resolve(this.url.hostname).then(
      ({ address, family }) => {
        if (this.#finished) return;
        try {
          const sock = (this.#sock = new Socket(family, SOCK_STREAM));
          sock.setBlocking(false);
          if (sock.connect([address, port(this.url)])) this.#connected();
          else this.#want(EVENT_WRITE, this.#connected);
        } catch (err) {
          this.#fail(toFetchError(err));
        }
        // No wake needed: a wait in progress sees new registrations (selectAsync's contract).
      },
      (err: unknown) => this.#fail(toFetchError(err)),
    );
  }

  // Selector callback: the non-blocking connect finished, one way or the other.
  readonly #connected = (): void => {
    const err = this.#sock!.connectError();
    if (err) return this.#fail(toFetchError(err));
    if (this.url.protocol === 'https:') return this.#handshake();
    this.#timer?.cancel();
    this.#sendRequest();
  };

  // https: the stream takes the socket (and its registration) over; the connect timer still runs.
  #handshake(): void {
    this.#unwatch();
    const stream = new SelectorSocketStream(this.#sock!, this.driver.sel);
    this.#sock = undefined;
    this.#tls = TlsConn.connect(stream, this.url, this.settings.tls, (err) => {
      if (err) return this.#fail(err);
      this.#timer?.cancel();
      this.#tlsExchange();
    });
  }

  #tlsExchange(): void {
    this.#timer?.cancel();
    this.#timer = this.driver.after(this.settings.timeoutMs, () =>
      this.#fail(new FetchError('timeout', `no complete response from ${this.url.host} within ${this.settings.timeoutMs} ms`)),
    );
    const request = this.#request;
    this.#tls!.exchange(request, this.#parser, (err) => {
      if (err) return this.#fail(err);
      if (this.#finished) return;
      this.#finished = true;
      this.#timer?.cancel();
      const res = this.#parser.response();
      const conn = this.#tls!;
      this.#tls = undefined;
      if (res.reusable && this.settings.keepAlive) poolTls(this.settings, originKey(this.url), conn);
      else conn.close();
      this.done(null, { ...res, reused: this.#reused });
    });
  }

  #sendRequest(): void {
    this.#timer?.cancel();
    this.#timer = this.driver.after(this.settings.timeoutMs, () =>
      this.#fail(new FetchError('timeout', `no complete response from ${this.url.host} within ${this.settings.timeoutMs} ms`)),
    );
    this.#sent = 0;
    this.#sendMore();
  }

  // Selector callback (and first attempt): push out as much of the request as the socket takes.
  readonly #sendMore = (): void => {
    try {
      const req = this.#request;
      while (this.#sent < req.length) {
        const n = this.#sock!.send(req, this.#sent, req.length - this.#sent);
        if (n === null) return this.#want(EVENT_WRITE, this.#sendMore);
        this.#sent += n;
      }
      this.#want(EVENT_READ, this.#readResponse);
    } catch (err) {
      this.#fail(toFetchError(err));
    }
  };

  // Selector callback: read what is there, feed the parser, finish when the response is complete.
  readonly #readResponse = (): void => {
    try {
      for (;;) {
        const buf = this.driver.recvBuffer;
        const n = this.#sock!.recvInto(buf);
        if (n === null) return; // wait for more
        if (n === 0) {
          this.#parser.end();
          return this.#finish();
        }
        this.#parser.feed(buf.subarray(0, n));
        if (this.#parser.done) return this.#finish();
      }
    } catch (err) {
      this.#fail(toFetchError(err));
    }
  };

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#timer?.cancel();
    const res = this.#parser.response();
    const sock = this.#sock!;
    if (res.reusable && this.settings.keepAlive) {
      // Stays registered while idle: no epoll_ctl churn on reuse, and a server that
      // closes the idle connection is noticed at once instead of on the next request.
      const key = originKey(this.url);
      const pool = this.settings.pool;
      const sel = this.driver.sel;
      this.#want(EVENT_READ, () => {
        pool.remove(key, sock);
        sel.unregister(sock);
        sock.close();
      });
      this.#registered = false; // no longer this fetch's registration
      pool.give(key, sock);
    } else {
      this.#unwatch();
      sock.close();
    }
    this.done(null, { ...res, reused: this.#reused });
  }

  #fail(err: FetchError): void {
    if (this.#finished) return;
    this.#timer?.cancel();
    this.#parser.abort();
    this.#unwatch();
    this.#sock?.close();
    this.#sock = undefined;
    this.#tls?.close();
    this.#tls = undefined;
    if (!this.#triedFresh && staleConnection(err, this.#reused, this.#parser.started)) {
      this.#triedFresh = true;
      this.#parser = new ResponseParser('GET', this.settings.limits, this.sinkFor);
      return this.#connect();
    }
    this.#finished = true;
    this.done(err);
  }

  // Registers (or re-points) the socket for one event with the method to call.
  #want(events: number, cb: Callback): void {
    const sel = this.driver.sel;
    if (this.#registered) sel.modify(this.#sock!, events, cb);
    else {
      sel.register(this.#sock!, events, cb);
      this.#registered = true;
    }
  }

  #unwatch(): void {
    if (this.#registered && this.#sock && !this.#sock.closed) this.driver.sel.unregister(this.#sock);
    this.#registered = false;
  }
}
