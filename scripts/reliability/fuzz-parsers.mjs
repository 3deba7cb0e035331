#!/usr/bin/env node
// Mutation fuzzing of the two incremental HTTP parsers: the crawler's
// ResponseParser (+ decodeBody) and the HTTP demo's RequestParser. Inputs are
// valid messages from a small corpus, mutated (bit flips, byte insert/delete/
// duplicate, CR/LF games, huge numbers in Content-Length and chunk sizes,
// long lines, endless bodies) and fed in random splits.
//
// Checked for every input:
//   - no exception escapes except the parser's documented result (RequestParser:
//     none at all, errors are returned; ResponseParser/decodeBody: FetchError);
//   - the outcome does not depend on how the bytes were split (both parsers
//     promise this): the whole input and a random split must agree;
//   - RequestParser holds at most its header limit of unconsumed bytes, and a
//     finished response's body is within maxBodyBytes;
//   - no input takes longer than --max-input-ms, and a watchdog kills a worker
//     stuck on one input (a hang);
//   - the worker's heap is capped (256 MB): unbounded growth is a failure; its
//     peak heapUsed is reported.
//
//   node scripts/reliability/fuzz-parsers.mjs [--seed N] [--ms T] [--target request|response|both]
//        [--replay INDEX --target X]   (prints one input of a failed run and its outcome)
// Needs dist/ (npm run build:ts). Exit 0 clean, 1 on a finding (with its seed
// and input index to replay), 2 on bad arguments. Last stdout line: JSON figures.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { isDeepStrictEqual } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const mix = (a, b) => (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x27d4eb2f, 0xc2b2ae35)) >>> 0;

// ---- corpus ----
const B = (s) => Buffer.from(s, 'latin1');
const REQUESTS = [
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /index.html?q=1&r=%20 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: fuzz\r\nAccept: */*\r\n\r\n',
  'POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world',
  'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\nb\r\n world, etc\r\n0\r\nX-T: 1\r\n\r\n',
  'GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\nHEAD /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'GET / HTTP/1.0\r\n\r\n',
  'GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n',
  'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
  'PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabcGET /next HTTP/1.1\r\nHost: a\r\n\r\n',
  `GET / HTTP/1.1\r\n${Array.from({ length: 30 }, (_, i) => `X-H${i}: v${i}\r\n`).join('')}\r\n`,
].map(B);
const gz = gzipSync(Buffer.from('<html><body><a href="/x">x</a></body></html>'));
const RESPONSES = [
  ['GET', B('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello')],
  ['GET', B('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5;ext=1\r\nhello\r\n19\r\n, and a longer chunk here\r\n0\r\nX-Sum: 42\r\n\r\n')],
  ['GET', B('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>until close</p>')],
  ['GET', B('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok')],
  ['GET', B('HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n')],
  ['GET', B('HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n')],
  ['HEAD', B('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n')],
  ['GET', B('HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\nCONTENT-LENGTH: 3\r\nContent-Length: 3\r\nConnection: Close\r\n\r\nabc')],
  ['GET', B('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi')],
  ['GET', B('HTTP/1.1 404 Not Found\nContent-Length: 4\n\nnope')],
  ['GET', Buffer.concat([B(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`), gz])],
  ['GET', Buffer.concat([B(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n${gz.length.toString(16)}\r\n`), gz, B('\r\n0\r\n\r\n')])],
  ['GET', B('HTTP/1.1 301 Moved Permanently\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n')],
];

// ---- mutations ----
const SPECIAL = [13, 10, 58, 32, 9, 0, 0xff, 0x80, 59, 48, 102, 70, 45, 43];
const NUMBERS = ['99999999999999999999', '18446744073709551616', '9007199254740993', '-1', '+5', '0x10', '1e3', ' 5', '5 ', '', '00000000000000000000000001',
  'ffffffffffffffff', 'FFFFFFFFFFFFF', '7fffffff', '4294967296', '1,1', '0', '5;', '5\t', 'ﾀ'];

function mutate(buf, r) {
  let b = Buffer.from(buf);
  const at = () => Math.floor(r() * (b.length + 1));
  const ops = 1 + Math.floor(r() * r() * 8);
  for (let k = 0; k < ops; k++) {
    // Endless bodies (ops 10, 11) are costly: one input in ~30 gets one.
    let op = Math.floor(r() * 14);
    if ((op === 10 || op === 11) && r() > 0.15) op = 0;
    const i = at();
    switch (op) {
      case 0: // bit flip
        if (b.length) { const j = Math.min(i, b.length - 1); b[j] ^= 1 << Math.floor(r() * 8); }
        break;
      case 1: // insert a random or special byte
        b = Buffer.concat([b.subarray(0, i), Buffer.from([r() < 0.5 ? Math.floor(r() * 256) : SPECIAL[Math.floor(r() * SPECIAL.length)]]), b.subarray(i)]);
        break;
      case 2: { // delete a range
        const n = 1 + Math.floor(r() * r() * 16);
        b = Buffer.concat([b.subarray(0, i), b.subarray(i + n)]);
        break;
      }
      case 3: { // duplicate a range
        const n = 1 + Math.floor(r() * r() * 64);
        b = Buffer.concat([b.subarray(0, i + n), b.subarray(i, i + n), b.subarray(i + n)]);
        break;
      }
      case 4: // CRLF -> LF, LF -> CRLF, bare CR
        b = B(b.toString('latin1').replace(r() < 0.5 ? /\r\n/ : /\n/, ['\n', '\r\n', '\r', '\n\r', '\r\r\n'][Math.floor(r() * 5)]));
        break;
      case 5: { // a number (Content-Length, chunk size, status, version) becomes huge or odd
        const s = b.toString('latin1');
        const runs = [...s.matchAll(/[0-9A-Fa-f]+/g)];
        if (runs.length) {
          const m = runs[Math.floor(r() * runs.length)];
          b = B(s.slice(0, m.index) + NUMBERS[Math.floor(r() * NUMBERS.length)] + s.slice(m.index + m[0].length));
        }
        break;
      }
      case 6: { // an extra framing header after the first line
        const s = b.toString('latin1');
        const nl = s.indexOf('\n') + 1;
        const hdr = [`Content-Length: ${NUMBERS[Math.floor(r() * NUMBERS.length)]}`, 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked',
          'Transfer-Encoding: identity', 'Content-Length: 5, 6', 'Connection: close', 'Content-Encoding: gzip', ' folded', 'Bad Name: x', ': empty'][Math.floor(r() * 10)];
        b = B(`${s.slice(0, nl)}${hdr}\r\n${s.slice(nl)}`);
        break;
      }
      case 7: // truncate
        b = b.subarray(0, i);
        break;
      case 8: // the whole message again (pipelining, bytes after the end)
        b = Buffer.concat([b, buf]);
        break;
      case 9: { // a long line or a long run of one byte
        const n = Math.floor(r() * 20000);
        b = Buffer.concat([b.subarray(0, i), Buffer.alloc(n, [97, 32, 13, 48, 59][Math.floor(r() * 5)]), b.subarray(i)]);
        break;
      }
      case 10: // endless body: a large random tail
        b = Buffer.concat([b, randomBytes(r, Math.floor(r() * r() * 3 * 1024 * 1024))]);
        break;
      case 11: { // endless chunked body
        const piece = B(`ffff\r\n${'z'.repeat(0xffff)}\r\n`);
        b = Buffer.concat([b, ...Array.from({ length: 1 + Math.floor(r() * 40) }, () => piece)]);
        break;
      }
      case 12: { // swap two bytes
        const j = at();
        if (i < b.length && j < b.length) { const t = b[i]; b[i] = b[j]; b[j] = t; }
        break;
      }
      default: // overwrite a byte with a special one
        if (i < b.length) b[i] = SPECIAL[Math.floor(r() * SPECIAL.length)];
    }
  }
  return b;
}

function randomBytes(r, n) {
  const out = Buffer.allocUnsafe(n);
  let x = Math.floor(r() * 2 ** 32) | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Random pieces: sometimes byte by byte (small inputs), sometimes a few big cuts, sometimes many small ones. */
function split(b, r) {
  const style = r();
  if (style < 0.1 && b.length < 4096) return Array.from(b, (x) => Buffer.from([x]));
  const pieces = [];
  let off = 0;
  const maxPiece = style < 0.5 ? 1 + Math.floor(r() * 16) : 1 + Math.floor(r() * b.length);
  // At most ~4096 pieces: a multi-megabyte input in 1-byte pieces would measure the harness, not the parser.
  const minPiece = Math.ceil(b.length / 4096);
  while (off < b.length) {
    const n = minPiece + Math.floor(r() * maxPiece);
    pieces.push(Buffer.from(b.subarray(off, off + n))); // copies: the caller's buffer may be reused
    off += n;
  }
  return pieces;
}

// ---- running one input through a parser ----
class Finding extends Error {}

function runRequest(mod, pieces) {
  const p = new mod.RequestParser();
  const results = [];
  for (const piece of pieces) {
    p.feed(piece);
    for (let res = p.next(); res !== null; res = p.next()) {
      results.push(res);
      if (res.error) break;
    }
    if (p.failed) break;
    if (p.buffered > p.maxHeaderBytes + 1024) throw new Finding(`RequestParser holds ${p.buffered} unconsumed bytes (limit ${p.maxHeaderBytes})`);
  }
  return results;
}

const LIMITS = { maxHeaderBytes: 8192, maxBodyBytes: 1 << 20 };

function runResponse(mod, method, pieces, eof) {
  const p = new mod.ResponseParser(method, LIMITS);
  try {
    // Bytes after the end are fed too: the parser must mark the connection unusable however they arrive.
    for (const piece of pieces) p.feed(piece);
    if (!p.done && eof) p.end();
    if (!p.done) return { incomplete: true };
    const res = p.response();
    if (res.body.length > LIMITS.maxBodyBytes) throw new Finding(`body of ${res.body.length} bytes passed maxBodyBytes`);
    const body = mod.decodeBody(res, LIMITS.maxBodyBytes);
    if (body.length > LIMITS.maxBodyBytes) throw new Finding(`decoded body of ${body.length} bytes passed maxBodyBytes`);
    return { status: res.status, version: res.version, reason: res.reason, headers: res.headers, trailers: res.trailers, reusable: res.reusable, body: body.toString('latin1') };
  } catch (err) {
    if (err instanceof mod.FetchError) return { error: err.kind };
    throw err;
  }
}

/** One input, from (seed, index) alone, so any finding can be replayed. */
function makeInput(target, seed, index) {
  const r = prng(mix(seed, index));
  if (target === 'request') {
    const base = REQUESTS[Math.floor(r() * REQUESTS.length)];
    const bytes = mutate(base, r);
    return { bytes, pieces: split(bytes, r) };
  }
  const [method, base] = RESPONSES[Math.floor(r() * RESPONSES.length)];
  const bytes = mutate(base, r);
  return { method, bytes, pieces: split(bytes, r), eof: r() < 0.7 };
}

function check(target, mods, input) {
  if (target === 'request') {
    const whole = runRequest(mods.request, [input.bytes]);
    const parts = runRequest(mods.request, input.pieces);
    if (!isDeepStrictEqual(whole, parts)) throw new Finding(`split changed the outcome:\n whole: ${JSON.stringify(whole).slice(0, 600)}\n split: ${JSON.stringify(parts).slice(0, 600)}`);
    return whole.length && whole[whole.length - 1].error ? 'error' : whole.length ? 'ok' : 'incomplete';
  }
  const whole = runResponse(mods.response, input.method, [input.bytes], input.eof);
  const parts = runResponse(mods.response, input.method, input.pieces, input.eof);
  if (!isDeepStrictEqual(whole, parts)) throw new Finding(`split changed the outcome:\n whole: ${JSON.stringify(whole).slice(0, 600)}\n split: ${JSON.stringify(parts).slice(0, 600)}`);
  return whole.error ? 'error' : whole.incomplete ? 'incomplete' : 'ok';
}

function loadMods() {
  const require = createRequire(import.meta.url);
  return {
    request: require(path.join(ROOT, 'demos/dist/servers/http-parser.js')),
    response: require(path.join(ROOT, 'demos/dist/crawler/http.js')),
  };
}

// ---- worker: the fuzz loop ----
if (!isMainThread) {
  const { target, seed, ms, maxInputMs, progress } = workerData;
  const beat = new Int32Array(progress);
  const mods = loadMods();
  const t0 = performance.now();
  const outcomes = { ok: 0, error: 0, incomplete: 0 };
  let inputs = 0;
  let bytes = 0;
  let slowest = 0;
  let peakHeap = 0;
  let finding;
  for (let i = 0; performance.now() - t0 < ms; i++) {
    Atomics.store(beat, 0, i);
    const input = makeInput(target, seed, i);
    const s = performance.now();
    try {
      outcomes[check(target, mods, input)]++;
    } catch (err) {
      finding = { index: i, message: err instanceof Finding ? err.message : `exception escaped: ${err?.stack ?? err}` };
      break;
    }
    const took = performance.now() - s;
    slowest = Math.max(slowest, took);
    if (took > maxInputMs) {
      finding = { index: i, message: `input took ${took.toFixed(0)} ms (bound ${maxInputMs} ms, ${input.bytes.length} bytes)` };
      break;
    }
    inputs++;
    bytes += input.bytes.length;
    if ((i & 255) === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  parentPort.postMessage({ target, seed, inputs, bytes, outcomes, slowestMs: Number(slowest.toFixed(1)), peakHeapMiB: Number((peakHeap / 2 ** 20).toFixed(1)), seconds: Number(((performance.now() - t0) / 1000).toFixed(1)), finding });
}

// ---- main: a worker per parser, with a watchdog ----
function runTarget(target, seed, ms, maxInputMs, stallMs) {
  return new Promise((resolve) => {
    const progress = new SharedArrayBuffer(4);
    const beat = new Int32Array(progress);
    const worker = new Worker(fileURLToPath(import.meta.url), {
      workerData: { target, seed, ms, maxInputMs, progress },
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    let last = -1;
    let since = Date.now();
    let settled = false;
    const done = (v) => {
      if (settled) return;
      settled = true;
      clearInterval(dog);
      resolve(v);
    };
    const dog = setInterval(() => {
      const i = Atomics.load(beat, 0);
      if (i !== last) {
        last = i;
        since = Date.now();
      } else if (Date.now() - since > stallMs) {
        worker.terminate();
        done({ target, seed, finding: { index: i, message: `hang: no progress on this input for ${stallMs} ms` } });
      }
    }, 200);
    worker.on('message', done);
    worker.on('error', (err) => done({ target, seed, finding: { index: Atomics.load(beat, 0), message: `worker died: ${err?.code ?? ''} ${err?.message ?? err}` } }));
    worker.on('exit', () => done({ target, seed, finding: { index: Atomics.load(beat, 0), message: 'worker exited without a result' } }));
  });
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, def) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : def;
  };
  const seed = Number(opt('seed', process.env.RELIABILITY_SEED ?? 20261122));
  const ms = Number(opt('ms', process.env.RELIABILITY_FUZZ_MS ?? (process.env.RELIABILITY_QUICK === '1' ? 15000 : 60000)));
  const maxInputMs = Number(opt('max-input-ms', 1000));
  const target = opt('target', 'both');
  if (!Number.isFinite(seed) || !Number.isFinite(ms) || !['request', 'response', 'both'].includes(target)) {
    process.stderr.write('usage: fuzz-parsers.mjs [--seed N] [--ms T] [--target request|response|both] [--replay INDEX]\n');
    process.exit(2);
  }
  const replay = opt('replay');
  if (replay !== undefined) {
    const t = target === 'both' ? 'request' : target;
    const input = makeInput(t, seed, Number(replay));
    process.stdout.write(`${t} input ${replay} (seed ${seed}), ${input.bytes.length} bytes in ${input.pieces.length} pieces:\n${JSON.stringify(input.bytes.subarray(0, 2000).toString('latin1'))}\n`);
    try {
      process.stdout.write(`outcome: ${check(t, loadMods(), input)}\n`);
    } catch (err) {
      process.stdout.write(`finding: ${err.message}\n`);
    }
    return;
  }
  const targets = target === 'both' ? ['request', 'response'] : [target];
  const results = [];
  for (const t of targets) {
    const r = await runTarget(t, seed, ms, maxInputMs, Math.max(5000, maxInputMs * 5));
    results.push(r);
    process.stderr.write(`fuzz ${t}: ${r.inputs ?? '?'} inputs in ${r.seconds ?? '?'} s, outcomes ${JSON.stringify(r.outcomes ?? {})}, slowest ${r.slowestMs ?? '?'} ms, peak heap ${r.peakHeapMiB ?? '?'} MiB${r.finding ? `\n  FINDING at input ${r.finding.index}: ${r.finding.message}\n  replay: node scripts/reliability/fuzz-parsers.mjs --seed ${seed} --target ${t} --replay ${r.finding.index}` : ''}\n`);
  }
  process.stdout.write(`${JSON.stringify({ test: 'parser-fuzz', seed, msPerParser: ms, results })}\n`);
  process.exitCode = results.some((r) => r.finding) ? 1 : 0;
}

if (isMainThread) main();
