// --style async: the same fetch as fetch-callbacks.ts, written as async
// functions on EventLoop. Timeouts abort the loop's socket waits. https://
// runs TLS over a LoopSocketStream (tls.ts) on the same loop.
import type { EventLoop } from 'iomux';
import { Socket, SOCK_STREAM } from 'iomux';
import { buildRequest, FetchError, ResponseParser, type SinkFor } from './http';
import { LoopSocketStream, TlsConn } from './tls';
import { originKey, poolTls, port, staleConnection, toFetchError, type FetchedResponse, type FetchSettings } from './conn';

/** sinkFor: where the body goes as it arrives (see http.ts BodySink); without it the body is kept in memory. */
export async function fetchAsync(loop: EventLoop, settings: FetchSettings, url: URL, sinkFor?: SinkFor): Promise<FetchedResponse> {
  if (url.protocol === 'https:') return fetchTls(loop, settings, url, sinkFor);
  const pooled = settings.keepAlive ? settings.pool.take(originKey(url)) : undefined;
  const parser = new ResponseParser('GET', settings.limits, sinkFor);
  try {
    return await exchange(loop, settings, url, pooled ?? (await connect(loop, settings, url)), parser, !!pooled);
  } catch (e) {
    const err = toFetchError(e);
    if (!staleConnection(err, !!pooled, parser.started)) throw err;
    const fresh = new ResponseParser('GET', settings.limits, sinkFor);
    return exchange(loop, settings, url, await connect(loop, settings, url), fresh, false);
  }
}

async function connect(loop: EventLoop, settings: FetchSettings, url: URL): Promise<Socket> {
  const ac = new AbortController();
  const timer = loop.callLater(settings.connectTimeoutMs, () =>
    ac.abort(new FetchError('connect-timeout', `connect to ${url.host} took longer than ${settings.connectTimeoutMs} ms`)),
  );
  let sock: Socket | undefined;
  try {
    const { address, family } = await abortable(settings.resolver.resolve(url.hostname), ac.signal);
    sock = new Socket(family, SOCK_STREAM);
    await loop.sockConnect(sock, [address, port(url)], { signal: ac.signal });
    return sock;
  } catch (err) {
    sock?.close();
    throw toFetchError(err);
  } finally {
    timer.cancel();
  }
}

// Sends the request on sock and reads the response; the socket goes back to the pool or is closed.
async function exchange(loop: EventLoop, settings: FetchSettings, url: URL, sock: Socket, parser: ResponseParser, reused: boolean): Promise<FetchedResponse> {
  const ac = new AbortController();
  const timer = loop.callLater(settings.timeoutMs, () =>
    ac.abort(new FetchError('timeout', `no complete response from ${url.host} within ${settings.timeoutMs} ms`)),
  );
  const opts = { signal: ac.signal };
  // The first read gets a buffer of what arrived (a small page is done with it); a longer
  // response reads into one buffer of its own from then on (the parser copies what it keeps),
  // so a streamed body of any size allocates nothing more. Not shared between fetches: the
  // bytes of an awaited read must stay put until this fetch runs again.
  let buf: Buffer | undefined;
  try {
    await loop.sockSendAll(sock, buildRequest(url, { keepAlive: settings.keepAlive, userAgent: settings.userAgent }), opts);
    while (!parser.done) {
      let data: Buffer;
      if (buf) data = buf.subarray(0, await loop.sockRecvInto(sock, buf, opts));
      else data = await loop.sockRecv(sock, 65536, opts);
      if (data.length === 0) {
        parser.end();
        break;
      }
      parser.feed(data);
      if (!buf && !parser.done) buf = Buffer.allocUnsafe(65536);
    }
  } catch (err) {
    parser.abort();
    sock.close();
    throw toFetchError(err);
  } finally {
    timer.cancel();
  }
  const res = parser.response();
  if (res.reusable && settings.keepAlive) settings.pool.give(originKey(url), sock);
  else sock.close();
  return { ...res, reused };
}

// A promise from outside the loop (dns) that still honours the timeout.
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function fetchTls(loop: EventLoop, settings: FetchSettings, url: URL, sinkFor?: SinkFor): Promise<FetchedResponse> {
  const key = originKey(url);
  const pooled = settings.keepAlive ? settings.tlsPool.take(key) : undefined;
  const parser = new ResponseParser('GET', settings.limits, sinkFor);
  try {
    return await exchangeTls(loop, settings, url, pooled ?? (await connectTls(loop, settings, url)), parser, !!pooled);
  } catch (e) {
    const err = toFetchError(e);
    if (!staleConnection(err, !!pooled, parser.started)) throw err;
    const fresh = new ResponseParser('GET', settings.limits, sinkFor);
    return exchangeTls(loop, settings, url, await connectTls(loop, settings, url), fresh, false);
  }
}

// TCP connect as for http://, then the handshake, all within the connect timeout.
async function connectTls(loop: EventLoop, settings: FetchSettings, url: URL): Promise<TlsConn> {
  const sock = await connect(loop, settings, url);
  let conn: TlsConn | undefined;
  try {
    return await new Promise<TlsConn>((resolve, reject) => {
      const timer = loop.callLater(settings.connectTimeoutMs, () =>
        reject(new FetchError('connect-timeout', `TLS handshake with ${url.host} took longer than ${settings.connectTimeoutMs} ms`)),
      );
      conn = TlsConn.connect(new LoopSocketStream(sock, loop), url, settings.tls, (err, c) => {
        timer.cancel();
        if (err) reject(err);
        else resolve(c!);
      });
    });
  } catch (err) {
    conn?.close();
    sock.close();
    throw err;
  }
}

async function exchangeTls(loop: EventLoop, settings: FetchSettings, url: URL, conn: TlsConn, parser: ResponseParser, reused: boolean): Promise<FetchedResponse> {
  const request = buildRequest(url, { keepAlive: settings.keepAlive, userAgent: settings.userAgent });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = loop.callLater(settings.timeoutMs, () =>
        reject(new FetchError('timeout', `no complete response from ${url.host} within ${settings.timeoutMs} ms`)),
      );
      conn.exchange(request, parser, (err) => {
        timer.cancel();
        if (err) reject(err);
        else resolve();
      });
    });
  } catch (err) {
    parser.abort();
    conn.close();
    throw toFetchError(err);
  }
  const res = parser.response();
  if (res.reusable && settings.keepAlive) poolTls(settings, originKey(url), conn);
  else conn.close();
  return { ...res, reused };
}

