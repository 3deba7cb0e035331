// The crawler's response parser on its own: every valid response split at every
// byte position parses identically, limits hold, and garbage only ever yields a
// FetchError.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeBody, FetchError, header, ResponseParser, type ParsedResponse } from '../src/crawler/http';

const LIMITS = { maxHeaderBytes: 8192, maxBodyBytes: 1 << 20 };

interface Case {
  name: string;
  raw: string;
  method?: 'GET' | 'HEAD';
  /** The peer closes after the bytes (close-delimited bodies need it). */
  eof?: boolean;
  status: number;
  body: string;
  reusable: boolean;
}

const CASES: Case[] = [
  { name: 'content-length', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello', status: 200, body: 'hello', reusable: true },
  {
    name: 'chunked with extensions and trailers',
    raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5;ext=1\r\nhello\r\n19\r\n, and a longer chunk here\r\n0\r\nX-Sum: 42\r\nX-Other: y\r\n\r\n',
    status: 200,
    body: 'hello, and a longer chunk here',
    reusable: true,
  },
  { name: 'close-delimited', raw: 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>until close</p>', eof: true, status: 200, body: '<p>until close</p>', reusable: false },
  {
    name: '100 and 103 skipped',
    raw: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
    status: 201,
    body: 'ok',
    reusable: true,
  },
  { name: '204 without body', raw: 'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n', status: 204, body: '', reusable: true },
  { name: '304 without body', raw: 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n', status: 304, body: '', reusable: true },
  { name: 'HEAD without body', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n', method: 'HEAD', status: 200, body: '', reusable: true },
  {
    name: 'duplicate headers, odd case, Connection: close',
    raw: 'HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\nCONTENT-LENGTH: 3\r\nContent-Length: 3\r\nConnection: Close\r\n\r\nabc',
    status: 200,
    body: 'abc',
    reusable: false,
  },
  { name: 'HTTP/1.0 keep-alive', raw: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi', status: 200, body: 'hi', reusable: true },
  { name: 'HTTP/1.0 default close', raw: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi', status: 200, body: 'hi', reusable: false },
  { name: 'bare LF line ends', raw: 'HTTP/1.1 404 Not Found\nContent-Length: 4\n\nnope', status: 404, body: 'nope', reusable: true },
  { name: 'empty reason, zero length', raw: 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n', status: 200, body: '', reusable: true },
];

function parseParts(parts: Buffer[], c: Pick<Case, 'method' | 'eof'>): ParsedResponse {
  const p = new ResponseParser(c.method ?? 'GET', LIMITS);
  for (const part of parts) if (!p.done) p.feed(part);
  if (!p.done && c.eof) p.end();
  expect(p.done).toBe(true);
  return p.response();
}

describe('ResponseParser', () => {
  for (const c of CASES) {
    it(`${c.name}: one piece, every split and byte by byte give the same result`, () => {
      const raw = Buffer.from(c.raw, 'latin1');
      const whole = parseParts([raw], c);
      expect(whole.status).toBe(c.status);
      expect(whole.body.toString('latin1')).toBe(c.body);
      expect(whole.reusable).toBe(c.reusable);
      for (let i = 0; i <= raw.length; i++) {
        // Copies, so a parser that kept a view of a reused buffer would be caught.
        const r = parseParts([Buffer.from(raw.subarray(0, i)), Buffer.from(raw.subarray(i))], c);
        expect(r, `split at ${i}`).toEqual(whole);
      }
      for (let i = 0; i < raw.length; i++) {
        for (let j = i + 1; j < raw.length; j += 7) {
          const r = parseParts([raw.subarray(0, i), raw.subarray(i, j), raw.subarray(j)], c);
          expect(r, `split at ${i} and ${j}`).toEqual(whole);
        }
      }
      const bytes = [...raw].map((b) => Buffer.from([b]));
      expect(parseParts(bytes, c)).toEqual(whole);
    });
  }

  it('keeps header names, order and duplicates; header() is case-insensitive', () => {
    const r = parseParts([Buffer.from(CASES[7].raw)], {});
    expect(r.headers.map(([n]) => n)).toEqual(['set-cookie', 'Set-Cookie', 'CONTENT-LENGTH', 'Content-Length', 'Connection']);
    expect(header(r.headers, 'SET-COOKIE')).toBe('a=1, b=2');
    const t = parseParts([Buffer.from(CASES[1].raw)], {});
    expect(t.trailers).toEqual([['X-Sum', '42'], ['X-Other', 'y']]);
  });

  it('marks a connection with bytes after the response as not reusable', () => {
    const p = new ResponseParser('GET', LIMITS);
    p.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA'));
    expect(p.done).toBe(true);
    expect(p.response().reusable).toBe(false);
    expect(p.response().body.toString()).toBe('ok');
  });

  const bad: Array<[string, string, string]> = [
    ['not http', 'SSH-2.0-OpenSSH_9.6\r\n\r\n', 'malformed'],
    ['bad status', 'HTTP/1.1 20 OK\r\n\r\n', 'malformed'],
    ['conflicting lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 'malformed'],
    ['negative length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'malformed'],
    ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n', 'malformed'],
    ['missing CRLF after chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX0\r\n\r\n', 'malformed'],
    ['header without colon', 'HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n', 'malformed'],
    ['folded header', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\n\r\n', 'malformed'],
    ['101 switching', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n', 'malformed'],
    ['huge content-length', `HTTP/1.1 200 OK\r\nContent-Length: ${2 << 20}\r\n\r\n`, 'too-large'],
    ['huge chunk', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${(2 << 20).toString(16)}\r\n`, 'too-large'],
    ['huge headers', `HTTP/1.1 200 OK\r\n${'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(200)}\r\n`, 'too-large'],
    ['headers that never end', `HTTP/1.1 200 OK\r\n${'X'.repeat(9000)}`, 'too-large'],
  ];
  for (const [name, raw, kind] of bad) {
    it(`rejects ${name} as ${kind}, however it is split`, () => {
      const buf = Buffer.from(raw, 'latin1');
      for (const step of [buf.length, 1, 3]) {
        const p = new ResponseParser('GET', LIMITS);
        let err: unknown;
        try {
          for (let i = 0; i < buf.length && !p.done; i += step) p.feed(buf.subarray(i, i + step));
          p.end();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(FetchError);
        expect((err as FetchError).kind).toBe(kind);
      }
    });
  }

  it('a response cut short is an error at end(); an unstarted one says so', () => {
    const p = new ResponseParser('GET', LIMITS);
    p.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    expect(() => p.end()).toThrow(/before the response was complete/);
    const q = new ResponseParser('GET', LIMITS);
    expect(q.started).toBe(false);
    expect(() => q.end()).toThrow(/without a response/);
  });

  it('random garbage never escapes as anything but a FetchError', () => {
    // A small deterministic PRNG so a failure can be reproduced.
    let seed = 0x2545f491;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const alphabet = Buffer.from('HTTP/1.1 200 OK\r\n:;0123456789abcdefContent-Length Transfer-Encoding chunked\r\n\r\n\n\x00\xff', 'latin1');
    let errors = 0;
    for (let round = 0; round < 3000; round++) {
      const n = Math.floor(rnd() * 300);
      const buf = Buffer.alloc(n);
      const fromAlphabet = rnd() < 0.7;
      for (let i = 0; i < n; i++) buf[i] = fromAlphabet ? alphabet[Math.floor(rnd() * alphabet.length)] : Math.floor(rnd() * 256);
      // Sometimes a valid start, so the garbage reaches the header and body states too.
      const data = rnd() < 0.5 ? Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n'), buf]) : buf;
      const p = new ResponseParser(rnd() < 0.1 ? 'HEAD' : 'GET', { maxHeaderBytes: 512, maxBodyBytes: 4096 });
      try {
        for (let i = 0; i < data.length && !p.done; ) {
          const step = 1 + Math.floor(rnd() * 40);
          p.feed(data.subarray(i, i + step));
          i += step;
        }
        p.end();
        p.response();
      } catch (e) {
        if (!(e instanceof FetchError)) throw e;
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(1000);
  });

  it('decodes gzip, passes identity, and limits the decoded size', () => {
    const text = 'zip me '.repeat(1000);
    const gz = gzipSync(text);
    const res = (enc: string | undefined, body: Buffer): ParsedResponse => ({
      version: '1.1', status: 200, reason: 'OK', headers: enc ? [['Content-Encoding', enc]] : [], trailers: [], body, reusable: true,
    });
    expect(decodeBody(res('gzip', gz), 1 << 20).toString()).toBe(text);
    expect(decodeBody(res(undefined, Buffer.from('plain')), 1 << 20).toString()).toBe('plain');
    expect(() => decodeBody(res('gzip', gz), 100)).toThrow(expect.objectContaining({ kind: 'too-large' }));
    expect(() => decodeBody(res('gzip', Buffer.from('not gzip at all')), 1 << 20)).toThrow(expect.objectContaining({ kind: 'malformed' }));
    expect(() => decodeBody(res('br', Buffer.from('x')), 1 << 20)).toThrow(expect.objectContaining({ kind: 'malformed' }));
  });
});
