// An incremental HTTP/1.1 request parser (RFC 9112) for a non-blocking server:
// bytes go in as they arrive, in any split; complete requests come out in
// order. Request bodies are framed (Content-Length or chunked) and discarded,
// never stored. Strict where leniency lets a request be read two ways
// (request smuggling): Content-Length with Transfer-Encoding, differing
// Content-Lengths, whitespace before a colon, folded headers, bare CR.
//
// The outcome never depends on how the bytes were split: every check runs at
// a line boundary, in order, and the size limit is checked before a line's
// syntax, both for a complete line and for a partial one.

export interface HttpRequest {
  method: string;
  /** As sent: origin-form ("/a?b"), absolute-form, "*" or authority-form. */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x, answered as 1.1). */
  minor: number;
  /** In arrival order, names lower-cased, values trimmed (latin1). */
  headers: Array<[name: string, value: string]>;
  /** Whether the connection may carry another request after this one. */
  keepAlive: boolean;
  /** Body bytes read and discarded. */
  bodyBytes: number;
  chunked: boolean;
}

export interface ParseError {
  status: 400 | 431 | 501 | 505;
  reason: string;
}

export type ParseResult = { request: HttpRequest; error?: undefined } | { error: ParseError; request?: undefined };

export interface ParserLimits {
  /** Request line plus header lines, CRLFs included (default 8192). Over it: 431. */
  maxHeaderBytes?: number;
  /** Header fields per request (default 100). Over it: 431. */
  maxHeaders?: number;
}

const enum State {
  Head,
  Body,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  Failed,
}

const MAX_CHUNK_LINE = 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VERSION = /^HTTP\/(\d)\.(\d)$/;

export class RequestParser {
  readonly maxHeaderBytes: number;
  readonly maxHeaders: number;
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0; // first unconsumed byte of #buf
  #scan = 0; // where to resume looking for LF in the current line (no rescans of a long partial line)
  #state = State.Head;
  #headBytes = 0; // bytes of the current head (or trailer section) consumed so far
  #req: HttpRequest | undefined; // set once the request line is parsed
  #remaining = 0; // body or chunk bytes still to discard

  constructor(limits: ParserLimits = {}) {
    this.maxHeaderBytes = limits.maxHeaderBytes ?? 8192;
    this.maxHeaders = limits.maxHeaders ?? 100;
  }

  /** Some of a request has arrived but not all of it (a request timeout applies). */
  get inProgress(): boolean {
    return this.#state !== State.Head || this.#headBytes > 0 || this.#pos < this.#buf.length;
  }

  /** Bytes received and not yet consumed. */
  get buffered(): number {
    return this.#buf.length - this.#pos;
  }

  get failed(): boolean {
    return this.#state === State.Failed;
  }

  feed(data: Uint8Array): void {
    if (this.#state === State.Failed || data.length === 0) return;
    const chunk = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (this.#pos === this.#buf.length) {
      // Copy: the caller may reuse its receive buffer.
      this.#buf = Buffer.from(chunk);
      this.#scan -= this.#pos;
      this.#pos = 0;
    } else {
      const rest = this.#buf.subarray(this.#pos);
      this.#buf = Buffer.concat([rest, chunk]);
      this.#scan -= this.#pos;
      this.#pos = 0;
    }
  }

  /** The next complete request, a parse error (the parser then stops), or null for "need more bytes". */
  next(): ParseResult | null {
    for (;;) {
      switch (this.#state) {
        case State.Failed:
          return null;
        case State.Head: {
          const line = this.#line(this.maxHeaderBytes - this.#headBytes, true);
          if (line === null) return null;
          if ('error' in line) return line;
          const err = this.#headLine(line.text);
          if (err) return this.#fail(err.status, err.reason);
          if (this.#state === State.Head && this.#req !== undefined && line.text.length === 0) {
            return this.#done();
          }
          break;
        }
        case State.Body:
        case State.ChunkData: {
          const take = Math.min(this.#remaining, this.#buf.length - this.#pos);
          this.#pos += take;
          this.#scan = this.#pos;
          this.#remaining -= take;
          (this.#req as HttpRequest).bodyBytes += take;
          if (this.#remaining > 0) return null;
          if (this.#state === State.Body) return this.#done();
          this.#state = State.ChunkEnd;
          break;
        }
        case State.ChunkSize: {
          const line = this.#line(MAX_CHUNK_LINE, false);
          if (line === null) return null;
          if ('error' in line) return line;
          // chunk-size [ ; chunk-ext ]; extensions are ignored, as RFC 9112 allows.
          const m = /^([0-9A-Fa-f]{1,13})[ \t]*(;.*)?$/.exec(line.text);
          if (!m) return this.#fail(400, 'bad chunk size line');
          this.#remaining = parseInt(m[1], 16);
          if (this.#remaining === 0) {
            this.#state = State.Trailers;
            this.#headBytes = 0;
          } else {
            this.#state = State.ChunkData;
          }
          break;
        }
        case State.ChunkEnd: {
          // Only the CRLF that ends the chunk data may follow it.
          const line = this.#line(2, false);
          if (line === null) return null;
          if ('error' in line || line.text.length !== 0) return this.#fail(400, 'chunk data longer than its size');
          this.#state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          const line = this.#line(this.maxHeaderBytes - this.#headBytes, true);
          if (line === null) return null;
          if ('error' in line) return line;
          if (line.text.length === 0) return this.#done();
          const err = checkField(line.text);
          if (err) return this.#fail(400, `bad trailer field: ${err}`);
          break;
        }
      }
    }
  }

  // The next line without its LF (and CR), or null if it has not all arrived.
  // `room`: bytes this line may take (LF included) before the limit is passed.
  #line(room: number, head: boolean): { text: string } | { error: ParseError } | null {
    const buf = this.#buf;
    const nl = buf.indexOf(0x0a, Math.max(this.#scan, this.#pos));
    // A request line must start with a method token: bytes that cannot be one
    // (a TLS hello, binary junk) are refused at once instead of after the
    // request timeout. Checked before the size limit, on whatever part of the
    // method has arrived, so the outcome does not depend on the split; only
    // within the limit, or a byte past it would turn a 431 into a 400 when the
    // whole line arrives at once.
    if (head && this.#req === undefined && badMethodByte(buf, this.#pos, Math.min(nl < 0 ? buf.length : nl, this.#pos + Math.max(0, room)))) {
      return this.#fail(400, 'malformed method');
    }
    if (nl < 0) {
      this.#scan = buf.length;
      if (buf.length - this.#pos > room) return this.#overLimit(head);
      return null;
    }
    const len = nl + 1 - this.#pos;
    if (len > room) return this.#overLimit(head);
    let end = nl;
    if (end > this.#pos && buf[end - 1] === 0x0d) end--;
    const text = buf.toString('latin1', this.#pos, end);
    this.#pos = nl + 1;
    this.#scan = this.#pos;
    if (head) this.#headBytes += len;
    // A CR anywhere else is a bare CR: RFC 9112 lets a server reject it, and doing so closes a smuggling gap.
    if (text.includes('\r')) return this.#fail(400, 'bare CR in a line');
    return { text };
  }

  #overLimit(head: boolean): { error: ParseError } {
    if (head) {
      return this.#fail(431, this.#req === undefined ? 'request line too long' : 'request header fields too large');
    }
    return this.#fail(400, 'chunk size line too long');
  }

  // One line of the head: the request line, a header field, or the empty line that ends it.
  #headLine(text: string): ParseError | undefined {
    if (this.#req === undefined) {
      // RFC 9112 2.2: empty lines before the request line are ignored (they still count toward the limit).
      if (text.length === 0) return undefined;
      return this.#requestLine(text);
    }
    if (text.length === 0) return this.#endOfHead();
    if (text[0] === ' ' || text[0] === '\t') return { status: 400, reason: 'obsolete line folding' };
    const err = checkField(text);
    if (err) return { status: 400, reason: `bad header field: ${err}` };
    const colon = text.indexOf(':');
    const req = this.#req;
    if (req.headers.length >= this.maxHeaders) return { status: 431, reason: 'too many header fields' };
    req.headers.push([text.slice(0, colon).toLowerCase(), text.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')]);
    return undefined;
  }

  #requestLine(text: string): ParseError | undefined {
    const parts = text.split(' ');
    if (parts.length !== 3) return { status: 400, reason: 'malformed request line' };
    const [method, target, version] = parts;
    if (!TOKEN.test(method)) return { status: 400, reason: 'malformed method' };
    if (target.length === 0 || !/^[\x21-\x7e]+$/.test(target)) return { status: 400, reason: 'malformed request target' };
    const form =
      target[0] === '/' ||
      /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(target) ||
      (target === '*' && method === 'OPTIONS') ||
      (method === 'CONNECT' && /^[^/]+:\d+$/.test(target));
    if (!form) return { status: 400, reason: 'malformed request target' };
    const v = VERSION.exec(version);
    if (!v) return { status: 400, reason: 'malformed HTTP version' };
    if (v[1] !== '1') return { status: 505, reason: `HTTP/${v[1]}.${v[2]} is not supported` };
    this.#req = { method, target, minor: v[2] === '0' ? 0 : 1, headers: [], keepAlive: true, bodyBytes: 0, chunked: false };
    return undefined;
  }

  // Headers complete: decide the framing (RFC 9112 6.3) and connection persistence.
  #endOfHead(): ParseError | undefined {
    const req = this.#req as HttpRequest;
    const all = (name: string) => req.headers.filter(([n]) => n === name).map(([, v]) => v);
    const tokens = (name: string) =>
      all(name)
        .flatMap((v) => v.split(','))
        .map((t) => t.trim().toLowerCase())
        .filter((t) => t !== '');

    const hosts = all('host');
    if (req.minor === 1 && hosts.length !== 1) return { status: 400, reason: hosts.length === 0 ? 'missing Host' : 'more than one Host' };

    const conn = tokens('connection');
    req.keepAlive = conn.includes('close') ? false : req.minor === 1 || conn.includes('keep-alive');

    const te = all('transfer-encoding');
    const cl = all('content-length');
    if (te.length > 0) {
      if (cl.length > 0) return { status: 400, reason: 'both Content-Length and Transfer-Encoding' };
      if (req.minor === 0) return { status: 400, reason: 'Transfer-Encoding in an HTTP/1.0 request' };
      const codings = tokens('transfer-encoding');
      if (codings.length === 0 || codings[codings.length - 1] !== 'chunked') {
        return { status: 400, reason: 'Transfer-Encoding without chunked last' };
      }
      if (codings.length > 1) return { status: 501, reason: `unsupported transfer coding ${codings[0]}` };
      req.chunked = true;
      this.#state = State.ChunkSize;
      return undefined;
    }
    if (cl.length > 0) {
      const values = cl.flatMap((v) => v.split(',')).map((v) => v.trim());
      if (!values.every((v) => /^\d{1,15}$/.test(v))) return { status: 400, reason: 'bad Content-Length' };
      const n = Number(values[0]);
      if (!values.every((v) => Number(v) === n)) return { status: 400, reason: 'conflicting Content-Length values' };
      if (n > 0) {
        this.#remaining = n;
        this.#state = State.Body;
      }
    }
    return undefined;
  }

  #done(): ParseResult {
    const request = this.#req as HttpRequest;
    this.#req = undefined;
    this.#state = State.Head;
    this.#headBytes = 0;
    this.#remaining = 0;
    return { request };
  }

  #fail(status: ParseError['status'], reason: string): { error: ParseError } {
    this.#state = State.Failed;
    this.#buf = Buffer.alloc(0);
    this.#pos = 0;
    this.#scan = 0;
    return { error: { status, reason } };
  }
}

// Whether the method part (up to the first SP) of the bytes [from, to) holds a
// byte that no token has. CR is left to the line checks (it may be half of a CRLF).
function badMethodByte(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = buf[i];
    if (b === 0x20) return false;
    if (b !== 0x0d && !TOKEN_BYTE[b]) return true;
  }
  return false;
}

const TOKEN_BYTE: boolean[] = Array.from({ length: 256 }, (_, b) => b < 128 && TOKEN.test(String.fromCharCode(b)));

// field-line = field-name ":" OWS field-value OWS; returns what is wrong, or undefined.
function checkField(text: string): string | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0) return 'no field name';
  if (!TOKEN.test(text.slice(0, colon))) return 'invalid field name';
  // VCHAR, obs-text, SP and HTAB only: no NUL or other controls.
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(text.slice(colon + 1))) return 'control character in field value';
  return undefined;
}
