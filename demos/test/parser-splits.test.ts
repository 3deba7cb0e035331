// Regressions found by the parser fuzzer (scripts/reliability/fuzz-parsers.mjs):
// the outcome of both HTTP parsers must not depend on where the bytes were split.
import { describe, expect, it } from 'vitest';
import { FetchError, ResponseParser } from '../src/crawler/http';
import { RequestParser } from '../src/servers/http-parser';

const LIMITS = { maxHeaderBytes: 8192, maxBodyBytes: 1 << 20 };

function request(pieces: Buffer[]): unknown[] {
  const p = new RequestParser();
  const out: unknown[] = [];
  for (const piece of pieces) {
    p.feed(piece);
    for (let r = p.next(); r !== null; r = p.next()) out.push(r);
  }
  return out;
}

function response(pieces: Buffer[]): unknown {
  const p = new ResponseParser('GET', LIMITS);
  try {
    for (const piece of pieces) p.feed(piece);
    p.end();
    const r = p.response();
    return { status: r.status, trailers: r.trailers, body: r.body.toString() };
  } catch (err) {
    if (err instanceof FetchError) return { error: err.kind };
    throw err;
  }
}

const splits = (b: Buffer): Buffer[][] => [[b], [b.subarray(0, 1000), b.subarray(1000)], Array.from({ length: Math.ceil(b.length / 512) }, (_, i) => b.subarray(i * 512, i * 512 + 512))];

describe('split-independent outcomes', () => {
  it('RequestParser: a bad method byte past the header limit is a 431, however the line arrives', () => {
    const raw = Buffer.from(`GET${'a'.repeat(9000)}\x01 / HTTP/1.1\r\nHost: a\r\n\r\n`, 'latin1');
    for (const pieces of splits(raw)) expect(request(pieces)).toEqual([{ error: { status: 431, reason: 'request line too long' } }]);
  });

  it('ResponseParser: a 2,000-byte trailer line is fine (under the header limit) in any split', () => {
    const raw = Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-Long: ${'t'.repeat(2000)}\r\n\r\n`);
    for (const pieces of splits(raw)) expect(response(pieces)).toMatchObject({ status: 200, body: 'hi', trailers: [['X-Long', 't'.repeat(2000)]] });
  });

  it('ResponseParser: trailers over the header limit are too-large in any split', () => {
    const raw = Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-Long: ${'t'.repeat(9000)}\r\n\r\n`);
    for (const pieces of splits(raw)) expect(response(pieces)).toEqual({ error: 'too-large' });
  });

  it('ResponseParser: a chunk-size line over 1 KiB is malformed in any split', () => {
    const raw = Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=${'e'.repeat(2000)}\r\nhi\r\n0\r\n\r\n`);
    for (const pieces of splits(raw)) expect(response(pieces)).toEqual({ error: 'malformed' });
  });
});
