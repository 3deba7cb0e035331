// Which encoding a page is in (HTML's "determining the character encoding":
// BOM, then the Content-Type charset, then a <meta> prescan of the first 1024
// bytes) and, for links, the query encoding a browser uses: WHATWG URL
// percent-encodes the path as UTF-8 but the query of a link in a legacy-encoded
// page in that page's encoding ("encoding override").
import { isUtf8 } from 'node:buffer';
import { Parser } from 'htmlparser2';

const PRESCAN_BYTES = 1024;

/** The canonical WHATWG name for a label, or undefined when TextDecoder does not know it. */
export function canonicalEncoding(label: string): string | undefined {
  try {
    return new TextDecoder(label.trim()).encoding;
  } catch {
    return undefined;
  }
}

function bomEncoding(b: Buffer): string | undefined {
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return 'utf-8';
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  return undefined;
}

/** charset=... of a Content-Type value. */
export function contentTypeCharset(ct: string | undefined): string | undefined {
  if (!ct) return undefined;
  const m = /;\s*charset\s*=\s*("?)([^";\s]+)\1/i.exec(ct);
  return m ? canonicalEncoding(m[2]) : undefined;
}

// The prescan reads only ASCII-compatible bytes: latin1 keeps each byte one char.
function metaEncoding(b: Buffer): string | undefined {
  const head = b.toString('latin1', 0, Math.min(b.length, PRESCAN_BYTES));
  // Most pages of a crawl need no second parse: no "<meta" at all, no declaration.
  if (!/<meta/i.test(head)) return undefined;
  let found: string | undefined;
  const parser = new Parser(
    {
      onopentag(name, a) {
        if (found || name !== 'meta') return;
        if (a.charset !== undefined) found = canonicalEncoding(a.charset);
        else if (a['http-equiv']?.toLowerCase() === 'content-type' && a.content) found = contentTypeCharset(`x;${a.content.slice(a.content.toLowerCase().indexOf('charset') - 1)}`);
        if (found) parser.pause();
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(head);
  // A meta charset of UTF-16 means UTF-8 (the page could not have been read as ASCII otherwise).
  if (found === 'utf-16le' || found === 'utf-16be') return 'utf-8';
  // x-user-defined from a meta becomes windows-1252 (HTML spec).
  if (found === 'x-user-defined') return 'windows-1252';
  return found;
}

/**
 * The page's encoding. Without any declaration browsers fall back to a
 * locale default; we take UTF-8 when the bytes are valid UTF-8 and
 * windows-1252 otherwise (what most sniffers settle on).
 */
export function htmlEncoding(contentType: string | undefined, body: Buffer): string {
  const found = bomEncoding(body) ?? contentTypeCharset(contentType) ?? metaEncoding(body);
  if (found && found !== 'replacement') return found;
  return isUtf8(body) ? 'utf-8' : 'windows-1252';
}

/** CSS: BOM, Content-Type charset, @charset, else UTF-8. */
export function cssEncoding(contentType: string | undefined, body: Buffer): string {
  const bom = bomEncoding(body) ?? contentTypeCharset(contentType);
  if (bom) return bom;
  const head = body.toString('latin1', 0, Math.min(body.length, 1024));
  const m = /^@charset "([^"]*)";/.exec(head);
  const enc = m ? canonicalEncoding(m[1]) : undefined;
  return enc === 'utf-16le' || enc === 'utf-16be' || !enc ? 'utf-8' : enc;
}

// WHATWG index-windows-1252 for 0x80..0x9F (the rest is Latin-1). Node 20's
// TextDecoder('windows-1252') takes a Latin-1 fast path that drops these bytes.
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

function decodeWindows1252(body: Buffer): string {
  const text = body.toString('latin1');
  // eslint-disable-next-line no-control-regex
  return /[\x80-\x9f]/.test(text) ? text.replace(/[\x80-\x9f]/g, (c) => String.fromCharCode(CP1252_HIGH[c.charCodeAt(0) - 0x80])) : text;
}

export function decodeText(body: Buffer, encoding: string): string {
  if (encoding === 'windows-1252') return decodeWindows1252(body);
  // V8's own UTF-8 decoding is several times faster than TextDecoder's (same result, BOM dropped as TextDecoder does).
  if (encoding === 'utf-8') return body.toString('utf8', body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0);
  // TextDecoder drops a BOM of its own encoding, as the HTML decoder does.
  return new TextDecoder(encoding).decode(body);
}

// ---- query encoding -----------------------------------------------------

const MULTI_BYTE = new Set(['shift_jis', 'euc-jp', 'gbk', 'gb18030', 'big5', 'euc-kr']);
const encoders = new Map<string, Map<number, number[]>>();

/**
 * Code point -> bytes for a legacy encoding, built once by running
 * TextDecoder over every single byte and lead/trail pair: Node ships decoders
 * for all WHATWG encodings but encoders only for UTF-8.
 */
function encoderTable(encoding: string): Map<number, number[]> {
  let t = encoders.get(encoding);
  if (t) return t;
  t = new Map();
  const dec = new TextDecoder(encoding, { fatal: true });
  const add = (bytes: number[]) => {
    let s: string;
    try {
      s = encoding === 'windows-1252' ? decodeWindows1252(Buffer.from(bytes)) : dec.decode(Uint8Array.from(bytes));
    } catch {
      return;
    }
    const cps = [...s];
    if (cps.length !== 1) return;
    const cp = cps[0].codePointAt(0)!;
    if (cp >= 0x80 && !t!.has(cp)) t!.set(cp, bytes);
  };
  for (let b = 0x80; b <= 0xff; b++) add([b]);
  if (MULTI_BYTE.has(encoding)) {
    // Shift_JIS's encoder skips the NEC-selected IBM duplicates in 0xED/0xEE (WHATWG Encoding, "index Shift_JIS pointer").
    const late = encoding === 'shift_jis' ? [0xed, 0xee] : [];
    const leads: number[] = [];
    for (let l = 0x81; l <= 0xfe; l++) if (!late.includes(l)) leads.push(l);
    for (const l of [...leads, ...late]) for (let tr = 0x40; tr <= 0xfe; tr++) add([l, tr]);
  }
  encoders.set(encoding, t);
  return t;
}

// WHATWG URL's special-query percent-encode set (ASCII part).
function queryNeedsEscape(c: number): boolean {
  return c < 0x21 || c > 0x7e || c === 0x22 || c === 0x23 || c === 0x3c || c === 0x3e || c === 0x27;
}

/**
 * The query part of a raw href as a browser sends it from a page in
 * `encoding`: characters the encoding has become its bytes, ones it lacks
 * become "&#N;" (WHATWG Encoding's HTML error mode), all percent-encoded.
 */
export function encodeQuery(query: string, encoding: string): string {
  const table = encoderTable(encoding);
  let out = '';
  for (const ch of query) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      out += queryNeedsEscape(cp) ? `%${cp.toString(16).toUpperCase().padStart(2, '0')}` : ch;
      continue;
    }
    const bytes = table.get(cp);
    if (bytes) for (const b of bytes) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += `%26%23${cp}%3B`;
  }
  return out;
}

/**
 * Resolves href against base as a browser in a page of `encoding` would:
 * WHATWG URL, with the query re-encoded when the page is not UTF-8.
 */
export function resolveHref(href: string, base: URL, encoding: string): URL {
  const u = new URL(href, base);
  if (encoding === 'utf-8' || encoding === 'utf-16le' || encoding === 'utf-16be' || encoding === 'replacement') return u;
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return u;
  const clean = href.replace(/[\t\n\r]/g, '');
  const q = clean.indexOf('?');
  if (q < 0) return u;
  const h = clean.indexOf('#', q);
  const raw = clean.slice(q + 1, h < 0 ? undefined : h);
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(raw)) return u;
  u.search = encodeQuery(raw, encoding);
  return u;
}
