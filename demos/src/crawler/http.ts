// HTTP/1.1 on the wire for the crawler: the request bytes, an incremental
// response parser that can be fed any split of the stream, and body decoding.
import { gunzipSync } from 'node:zlib';

/** Why a fetch failed, as counted in the summary. */
export type FailureKind =
  | 'unsupported'
  | 'dns'
  | 'refused'
  | 'reset'
  | 'timeout'
  | 'connect-timeout'
  | 'malformed'
  | 'too-large'
  | 'redirect-loop'
  | 'too-many-redirects'
  | 'tls'
  | 'http'
  | 'io';

export class FetchError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

export interface RequestOptions {
  method?: 'GET' | 'HEAD';
  keepAlive: boolean;
  userAgent: string;
}

export function buildRequest(url: URL, opts: RequestOptions): Buffer {
  const target = (url.pathname || '/') + url.search;
  return Buffer.from(
    `${opts.method ?? 'GET'} ${target} HTTP/1.1\r\n` +
      `Host: ${url.host}\r\n` +
      `User-Agent: ${opts.userAgent}\r\n` +
      'Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n' +
      'Accept-Encoding: gzip, identity\r\n' +
      `Connection: ${opts.keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`,
    'latin1',
  );
}

export interface ParsedResponse {
  version: string;
  status: number;
  reason: string;
  /** As received: names keep their case, duplicates keep their order. */
  headers: Array<[string, string]>;
  trailers: Array<[string, string]>;
  /** Empty when the body went to a sink instead (see BodySink). */
  body: Buffer;
  /** Where the body went, when the parser was given a sink for it. */
  sink?: BodySink;
  /** The connection may carry another request (framed body, no Connection: close, nothing extra received). */
  reusable: boolean;
}

/** All values of a header (case-insensitive), joined as RFC 9110 allows for lists. */
export function header(headers: Array<[string, string]>, name: string): string | undefined {
  const want = name.toLowerCase();
  const vals = headers.filter(([n]) => n.toLowerCase() === want).map(([, v]) => v);
  return vals.length ? vals.join(', ') : undefined;
}

/** The status and headers of the final response, before any body byte. */
export interface ResponseHead {
  status: number;
  headers: Array<[string, string]>;
}

/**
 * Takes a body piece by piece as it arrives instead of the parser holding it
 * whole. write() gets views of the receive buffer: use or copy them at once.
 * Never throws: a sink that cannot store keeps its error for the caller.
 */
export interface BodySink {
  write(part: Buffer): void;
  /** The body is complete. */
  end(): void;
  /** The response failed or was cut short: discard what was written. */
  abort(): void;
}

/** Given the head of the final response: a sink for its body, or undefined to keep the body in memory. */
export type SinkFor = (head: ResponseHead) => BodySink | undefined;

export interface ParserLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

const enum S {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const MAX_CHUNK_LINE = 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Incremental response parser. feed() each received chunk, end() at EOF; both
 * throw FetchError('malformed' | 'too-large'). done tells when the response is
 * complete; response() then gives it. 1xx interim responses are skipped.
 */
export class ResponseParser {
  #state = S.Head;
  #head: Buffer = Buffer.alloc(0);
  #headBytes = 0;
  #remaining = 0;
  #bodyParts: Buffer[] = [];
  #bodyBytes = 0;
  #line: Buffer = Buffer.alloc(0); // a partial chunk-size or trailer line
  #version = '';
  #status = 0;
  #reason = '';
  #headers: Array<[string, string]> = [];
  #trailers: Array<[string, string]> = [];
  #keepAlive = false;
  #extra = false;
  #gotBytes = false;
  #sink: BodySink | undefined;

  constructor(
    readonly method: 'GET' | 'HEAD',
    readonly limits: ParserLimits,
    private readonly sinkFor?: SinkFor,
  ) {}

  get done(): boolean {
    return this.#state === S.Done;
  }

  /** Whether any byte of the response arrived (a stale keep-alive connection closes before one does). */
  get started(): boolean {
    return this.#gotBytes;
  }

  /** Keeps no reference to data (what it keeps it copies): the caller may reuse its receive buffer. */
  feed(data: Buffer): void {
    if (data.length === 0) return;
    this.#gotBytes = true;
    let off = 0;
    while (off < data.length) {
      switch (this.#state) {
        case S.Head:
          off = this.#feedHead(data, off);
          break;
        case S.Length: {
          const n = Math.min(this.#remaining, data.length - off);
          this.#addBody(data.subarray(off, off + n));
          off += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#complete();
          break;
        }
        case S.UntilClose:
          this.#addBody(data.subarray(off));
          off = data.length;
          break;
        case S.ChunkSize:
        case S.ChunkDataEnd:
        case S.Trailers: {
          const nl = data.indexOf(10, off);
          const end = nl < 0 ? data.length : nl + 1;
          this.#line = this.#line.length ? Buffer.concat([this.#line, data.subarray(off, end)]) : Buffer.from(data.subarray(off, end));
          off = end;
          this.#checkLineLength();
          if (nl < 0) break;
          const line = stripEol(this.#line).toString('latin1');
          this.#line = Buffer.alloc(0);
          this.#chunkLine(line);
          break;
        }
        case S.ChunkData: {
          const n = Math.min(this.#remaining, data.length - off);
          this.#addBody(data.subarray(off, off + n));
          off += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = S.ChunkDataEnd;
          break;
        }
        case S.Done:
          // Bytes after the end of the response: the connection is out of step, never reuse it.
          this.#extra = true;
          return;
      }
    }
  }

  /** The peer closed: completes a close-delimited body, else the response was cut short. */
  end(): void {
    if (this.#state === S.UntilClose) {
      this.#keepAlive = false;
      this.#complete();
      return;
    }
    if (this.#state !== S.Done) {
      throw new FetchError('malformed', this.#gotBytes ? 'connection closed before the response was complete' : 'connection closed without a response');
    }
  }

  /** The exchange failed: a sink given the body so far discards it. Idempotent; nothing once done. */
  abort(): void {
    if (this.#state === S.Done) return;
    const sink = this.#sink;
    this.#sink = undefined;
    sink?.abort();
  }

  response(): ParsedResponse {
    if (this.#state !== S.Done) throw new Error('response(): the response is not complete');
    return {
      version: this.#version,
      status: this.#status,
      reason: this.#reason,
      headers: this.#headers,
      trailers: this.#trailers,
      body: this.#bodyParts.length === 1 ? this.#bodyParts[0] : Buffer.concat(this.#bodyParts),
      ...(this.#sink ? { sink: this.#sink } : {}),
      reusable: this.#keepAlive && !this.#extra,
    };
  }

  #addBody(part: Buffer): void {
    if (part.length === 0) return;
    this.#bodyBytes += part.length;
    if (this.#bodyBytes > this.limits.maxBodyBytes) throw new FetchError('too-large', `body larger than ${this.limits.maxBodyBytes} bytes`);
    if (this.#sink) this.#sink.write(part);
    else this.#bodyParts.push(Buffer.from(part));
  }

  #complete(): void {
    this.#state = S.Done;
    this.#sink?.end();
  }

  // Accumulates the head until the blank line, then parses it; returns the new offset.
  #feedHead(data: Buffer, off: number): number {
    const prev = this.#head.length;
    const head = prev ? Buffer.concat([this.#head, data.subarray(off)]) : data.subarray(off);
    // Search from just before the old end so a CRLFCRLF split across feeds is found.
    let end = head.indexOf(CRLFCRLF, Math.max(0, prev - 3));
    let sep = 4;
    // Tolerate bare LF line ends, as browsers and curl do; whichever blank line comes first ends the head.
    const lf = head.indexOf('\n\n', Math.max(0, prev - 1));
    if (lf >= 0 && (end < 0 || lf < end)) {
      end = lf;
      sep = 2;
    }
    if (end < 0) {
      if (this.#headBytes + head.length > this.limits.maxHeaderBytes) throw new FetchError('too-large', `headers larger than ${this.limits.maxHeaderBytes} bytes`);
      this.#head = Buffer.from(head); // own copy: the caller may reuse its buffer
      return data.length;
    }
    this.#headBytes += end + sep;
    if (this.#headBytes > this.limits.maxHeaderBytes) throw new FetchError('too-large', `headers larger than ${this.limits.maxHeaderBytes} bytes`);
    this.#head = Buffer.alloc(0);
    this.#parseHead(head.subarray(0, end).toString('latin1'));
    if (this.#status !== 0 && this.sinkFor && !this.#sink) {
      // The final head (not a 1xx): from here the body may go to a sink.
      this.#sink = this.sinkFor({ status: this.#status, headers: this.#headers });
      if (this.#state === S.Done) this.#sink?.end();
    }
    return off + (end + sep - prev);
  }

  #parseHead(text: string): void {
    const lines = text.split(/\r?\n/);
    const m = /^HTTP\/(1\.[01]) ([1-9]\d\d)(?: (.*))?$/.exec(lines[0]);
    if (!m) throw new FetchError('malformed', `bad status line ${JSON.stringify(lines[0].slice(0, 80))}`);
    const status = Number(m[2]);
    const headers = parseFields(lines.slice(1));
    if (status >= 100 && status < 200) {
      // 101 would switch protocols, which a crawler never asks for.
      if (status === 101) throw new FetchError('malformed', 'unexpected 101 Switching Protocols');
      return; // interim response: the real one follows
    }
    this.#version = m[1];
    this.#status = status;
    this.#reason = m[3] ?? '';
    this.#headers = headers;
    const conn = (header(headers, 'connection') ?? '').toLowerCase().split(',').map((s) => s.trim());
    this.#keepAlive = this.#version === '1.1' ? !conn.includes('close') : conn.includes('keep-alive');
    if (this.method === 'HEAD' || status === 204 || status === 304) {
      this.#state = S.Done;
      return;
    }
    const te = header(headers, 'transfer-encoding');
    if (te !== undefined) {
      const codings = te.toLowerCase().split(',').map((s) => s.trim());
      if (codings[codings.length - 1] === 'chunked') {
        if (codings.length > 1) throw new FetchError('malformed', `unsupported transfer-encoding ${te}`);
        this.#state = S.ChunkSize;
      } else {
        this.#state = S.UntilClose;
        this.#keepAlive = false;
      }
      return;
    }
    const cl = header(headers, 'content-length');
    if (cl !== undefined) {
      // Duplicates are allowed only when they agree (RFC 9110 8.6).
      const vals = new Set(cl.split(',').map((s) => s.trim()));
      if (vals.size !== 1) throw new FetchError('malformed', `conflicting content-length ${cl}`);
      const v = [...vals][0];
      if (!/^\d{1,15}$/.test(v)) throw new FetchError('malformed', `bad content-length ${JSON.stringify(v)}`);
      const n = Number(v);
      if (n > this.limits.maxBodyBytes) throw new FetchError('too-large', `content-length ${n} above the limit of ${this.limits.maxBodyBytes}`);
      this.#remaining = n;
      this.#state = n === 0 ? S.Done : S.Length;
      return;
    }
    this.#state = S.UntilClose;
    this.#keepAlive = false;
  }

  // The same bound for a partial and a complete line, so the outcome does not
  // depend on where the bytes were split: trailers count against the header
  // limit (a long trailer is fine up to it), chunk lines against MAX_CHUNK_LINE.
  #checkLineLength(): void {
    if (this.#state === S.Trailers) {
      if (this.#headBytes + this.#line.length > this.limits.maxHeaderBytes) throw new FetchError('too-large', 'trailers larger than the header limit');
    } else if (this.#line.length > MAX_CHUNK_LINE) {
      throw new FetchError('malformed', 'chunk line too long');
    }
  }

  #chunkLine(line: string): void {
    if (this.#state === S.ChunkDataEnd) {
      if (line !== '') throw new FetchError('malformed', 'missing CRLF after chunk data');
      this.#state = S.ChunkSize;
      return;
    }
    if (this.#state === S.ChunkSize) {
      const m = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(line);
      if (!m) throw new FetchError('malformed', `bad chunk size ${JSON.stringify(line.slice(0, 40))}`);
      const size = parseInt(m[1], 16);
      if (size === 0) this.#state = S.Trailers;
      else {
        if (this.#bodyBytes + size > this.limits.maxBodyBytes) throw new FetchError('too-large', `body larger than ${this.limits.maxBodyBytes} bytes`);
        this.#remaining = size;
        this.#state = S.ChunkData;
      }
      return;
    }
    // Trailers: fields until the blank line.
    if (line === '') {
      this.#complete();
      return;
    }
    this.#headBytes += line.length + 2;
    if (this.#headBytes > this.limits.maxHeaderBytes) throw new FetchError('too-large', 'trailers larger than the header limit');
    this.#trailers.push(...parseFields([line]));
  }
}

function stripEol(b: Buffer): Buffer {
  let n = b.length;
  if (n && b[n - 1] === 10) n--;
  if (n && b[n - 1] === 13) n--;
  return b.subarray(0, n);
}

function parseFields(lines: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of lines) {
    if (line === '') continue;
    if (line[0] === ' ' || line[0] === '\t') throw new FetchError('malformed', 'obsolete header line folding');
    const colon = line.indexOf(':');
    if (colon <= 0) throw new FetchError('malformed', `bad header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new FetchError('malformed', `bad header name ${JSON.stringify(name.slice(0, 80))}`);
    out.push([name, line.slice(colon + 1).trim()]);
  }
  return out;
}

/** The body as the server meant it: gzip decoded (with the same size limit), identity as is. */
export function decodeBody(res: ParsedResponse, maxBodyBytes: number): Buffer {
  const enc = (header(res.headers, 'content-encoding') ?? 'identity').toLowerCase().trim();
  if (enc === 'identity' || enc === '' || res.body.length === 0) return res.body;
  if (enc === 'gzip' || enc === 'x-gzip') {
    try {
      return gunzipSync(res.body, { maxOutputLength: maxBodyBytes });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw new FetchError('too-large', `decoded body larger than ${maxBodyBytes} bytes`);
      throw new FetchError('malformed', `bad gzip body: ${(err as Error).message}`);
    }
  }
  throw new FetchError('malformed', `unsupported content-encoding ${enc}`);
}
