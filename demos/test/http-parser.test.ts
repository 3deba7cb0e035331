// The incremental request parser on real request bytes (as curl, Node's http
// client and browsers send them): the same outcome at every split, bodies
// framed and discarded, every malformed form refused with its status.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RequestParser, type ParseResult } from '../src/servers/http-parser';

const CURL = 'GET /name?name=Ada HTTP/1.1\r\nHost: 127.0.0.1:8803\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n';
const NODE_POST =
  'POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 17\r\nHost: localhost:8803\r\nConnection: keep-alive\r\n\r\n{"hello":"world"}';
const BROWSER =
  'GET / HTTP/1.1\r\nHost: localhost:8803\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n' +
  'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\n' +
  'Accept-Encoding: gzip, deflate, br, zstd\r\nConnection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n' +
  'Sec-Fetch-Mode: navigate\r\nSec-Fetch-Site: none\r\nPriority: u=0, i\r\n\r\n';
const CHUNKED =
  'PUT /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
  '5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Checksum: 42\r\n\r\n';
const HTTP10 = 'GET / HTTP/1.0\r\nUser-Agent: curl/7.88.1\r\n\r\n';
const HTTP10_KEEPALIVE = 'GET /name HTTP/1.0\r\nConnection: keep-alive\r\n\r\n';
const CLOSE = 'HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
const BARE_LF = 'GET /lf HTTP/1.1\nHost: a\n\n';

/** Everything the parser yields for these bytes, fed as the given pieces. */
function parseAll(pieces: Buffer[], limits?: ConstructorParameters<typeof RequestParser>[0]): ParseResult[] {
  const p = new RequestParser(limits);
  const out: ParseResult[] = [];
  for (const piece of pieces) {
    p.feed(piece);
    for (let r = p.next(); r !== null; r = p.next()) out.push(r);
  }
  return out;
}

/** The outcome is the same whole, split in two at every byte, and one byte at a time. */
function sameAtEverySplit(text: string, limits?: ConstructorParameters<typeof RequestParser>[0]): ParseResult[] {
  const bytes = Buffer.from(text, 'latin1');
  const whole = parseAll([bytes], limits);
  for (let i = 1; i < bytes.length; i++) {
    expect(parseAll([bytes.subarray(0, i), bytes.subarray(i)], limits), `split at ${i}`).toEqual(whole);
  }
  const single = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
  expect(parseAll(single, limits)).toEqual(whole);
  return whole;
}

const errorOf = (text: string, limits?: ConstructorParameters<typeof RequestParser>[0]) => {
  const results = sameAtEverySplit(text, limits);
  expect(results.length).toBeGreaterThan(0);
  const last = results[results.length - 1];
  expect(last.error, `expected an error for ${JSON.stringify(text)}`).toBeDefined();
  return last.error!.status;
};

describe('RequestParser', () => {
  it('parses a curl request', () => {
    const [r] = sameAtEverySplit(CURL);
    expect(r.request).toEqual({
      method: 'GET',
      target: '/name?name=Ada',
      minor: 1,
      headers: [['host', '127.0.0.1:8803'], ['user-agent', 'curl/7.88.1'], ['accept', '*/*']],
      keepAlive: true,
      bodyBytes: 0,
      chunked: false,
    });
  });

  it('parses pipelined requests of every kind in order, discarding bodies', () => {
    const all = CURL + NODE_POST + BROWSER + CHUNKED + HTTP10_KEEPALIVE + BARE_LF + CLOSE + HTTP10;
    const results = sameAtEverySplit(all);
    expect(results.map((r) => r.error)).toEqual(Array(8).fill(undefined));
    const reqs = results.map((r) => r.request!);
    expect(reqs.map((r) => `${r.method} ${r.target} 1.${r.minor} ${r.keepAlive ? 'keep' : 'close'} ${r.bodyBytes}`)).toEqual([
      'GET /name?name=Ada 1.1 keep 0',
      'POST / 1.1 keep 17',
      'GET / 1.1 keep 0',
      'PUT /upload 1.1 keep 31',
      'GET /name 1.0 keep 0',
      'GET /lf 1.1 keep 0',
      'HEAD / 1.1 close 0',
      'GET / 1.0 close 0',
    ]);
    expect(reqs[3].chunked).toBe(true);
    expect(reqs[2].headers.length).toBe(11);
  });

  it('ignores empty lines before a request line (RFC 9112 2.2)', () => {
    const [r] = sameAtEverySplit(`\r\n\r\n${CURL}`);
    expect(r.request?.target).toBe('/name?name=Ada');
  });

  it('reports progress: inProgress from the first byte until the request is complete', () => {
    const p = new RequestParser();
    expect(p.inProgress).toBe(false);
    p.feed(Buffer.from('GET / HT'));
    expect(p.next()).toBeNull();
    expect(p.inProgress).toBe(true);
    p.feed(Buffer.from('TP/1.1\r\nHost: a\r\n\r\nGET'));
    expect(p.next()?.request?.target).toBe('/');
    expect(p.inProgress).toBe(true); // the next one has begun
    expect(p.buffered).toBe(3);
  });

  it.each([
    ['no version', 'GET /\r\nHost: a\r\n\r\n'],
    ['two spaces', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['lower-case version', 'GET / http/1.1\r\nHost: a\r\n\r\n'],
    ['bad method', 'G(T / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['relative target', 'GET index.html HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['control char in target', 'GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['garbage line', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n'],
    ['header without colon', 'GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n'],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
    ['obsolete folding', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n  c\r\n\r\n'],
    ['NUL in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n'],
    ['bare CR', 'GET / HTTP/1.1\r\nHost: a\rX-A: b\r\n\r\n'],
    ['Content-Length not a number', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n'],
    ['negative Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n'],
    ['Content-Length with a space inside', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n'],
    ['conflicting Content-Lengths', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'],
    ['conflicting Content-Length list', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd'],
    ['Content-Length and Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['chunked not last', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'],
    ['Transfer-Encoding in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['missing Host in HTTP/1.1', 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n'],
    ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['bad chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['chunk longer than its size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n'],
  ])('400: %s', (_what, text) => {
    expect(errorOf(text)).toBe(400);
  });

  it('accepts identical repeated Content-Lengths', () => {
    const [r, next] = sameAtEverySplit('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(r.request?.bodyBytes).toBe(3);
    expect(next.request?.method).toBe('GET');
  });

  it('431 for a head over the limit and for too many fields; the limit is exact', () => {
    const head = (n: number) => `GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ${'p'.repeat(n)}\r\n\r\n`;
    const fits = head(100);
    expect(sameAtEverySplit(fits, { maxHeaderBytes: fits.length })[0].request).toBeDefined();
    expect(errorOf(head(101), { maxHeaderBytes: fits.length })).toBe(431);
    expect(errorOf(`GET /${'a'.repeat(9000)} HTTP/1.1\r\n`)).toBe(431);
    const many = `GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 100 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`;
    expect(errorOf(many)).toBe(431);
  });

  it('505 for HTTP/2.0 and 501 for a transfer coding it cannot undo', () => {
    expect(errorOf('GET / HTTP/2.0\r\nHost: a\r\n\r\n')).toBe(505);
    expect(errorOf('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n')).toBe(501);
  });

  it('refuses bytes that cannot start a method at once, without waiting for a line end', () => {
    const p = new RequestParser();
    p.feed(Buffer.from('16030100f4010000f00303', 'hex')); // a TLS ClientHello: no LF in sight
    expect(p.next()?.error).toEqual({ status: 400, reason: 'malformed method' });
  });

  it('stops after an error: later bytes yield nothing', () => {
    const p = new RequestParser();
    p.feed(Buffer.from('BAD\r\n'));
    expect(p.next()?.error?.status).toBe(400);
    p.feed(Buffer.from(CURL));
    expect(p.next()).toBeNull();
    expect(p.failed).toBe(true);
  });

  it('random garbage in random pieces never throws and never yields a request from nothing', () => {
    for (let round = 0; round < 300; round++) {
      const bytes = randomBytes(1 + (round * 37) % 3000);
      const p = new RequestParser();
      let off = 0;
      while (off < bytes.length) {
        const n = 1 + Math.floor(Math.random() * 200);
        p.feed(bytes.subarray(off, off + n));
        off += n;
        for (let r = p.next(); r !== null; r = p.next()) {
          // Random bytes make a valid request line only by a miracle.
          expect(r.error).toBeDefined();
        }
      }
    }
  });
});
