// Pages in legacy encodings with non-ASCII links: the paths the server sees
// must be what a browser requests (WHATWG URL: path as UTF-8 %XX, query in
// the page's encoding). The expected query bytes come from python3's codecs,
// not from our encoder.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Crawl, DEFAULTS, type PageRecord, type Style } from '../src/crawler/crawl';
import { encodeQuery, htmlEncoding, resolveHref } from '../src/crawler/charset';
import { describeUnless, HAS_PYTHON3, WHY_NO_PYTHON3 } from './fixtures/platform';

const STYLES: Style[] = ['callbacks', 'async'];

/** Bytes of each text in its Python codec (an encoder we did not write), in one python3 run. */
function pyEncodeAll(items: Array<[string, string]>): Buffer[] {
  const py = 'import sys, json; print(json.dumps([t.encode(c).hex() for t, c in json.load(sys.stdin)]))';
  return (JSON.parse(execFileSync('python3', ['-c', py], { input: JSON.stringify(items) }).toString()) as string[]).map((h) => Buffer.from(h, 'hex'));
}
const queryBytes = new Map<string, Buffer>();
const pct = (b: Buffer) => [...b].map((x) => (x < 0x80 && /[A-Za-z0-9=._~-]/.test(String.fromCharCode(x)) ? String.fromCharCode(x) : `%${x.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

interface PageSpec {
  path: string;
  contentType: string;
  codec: string; // python codec for the body
  head: string;
  href: string; // as the author wrote it (decoded text)
  query: string; // the query value in the href
  /** The encoding the query is sent in. */
  queryCodec: string;
}

const PAGES: PageSpec[] = [
  // iso-8859-1 is windows-1252 on the web: € and curly quotes are bytes 0x80..0x9F.
  { path: '/latin1.html', contentType: 'text/html; charset=iso-8859-1', codec: 'cp1252', head: '', href: '/café/menü.html', query: 'crème “brûlée” €', queryCodec: 'cp1252' },
  { path: '/sjis.html', contentType: 'text/html', codec: 'shift_jis', head: '<meta charset="Shift_JIS">', href: '/日本/語.html', query: '検索', queryCodec: 'shift_jis' },
  { path: '/cyr.html', contentType: 'text/html', codec: 'cp1251', head: '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">', href: '/москва.html', query: 'да', queryCodec: 'cp1251' },
  // A BOM outranks the Content-Type charset (HTML's order): the page is UTF-8.
  { path: '/bom.html', contentType: 'text/html; charset=iso-8859-1', codec: 'utf-8-sig', head: '', href: '/ünï.html', query: 'ü', queryCodec: 'utf-8' },
];

const bodies = new Map<string, Buffer>();
const requested: string[] = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
  if (!HAS_PYTHON3) return;
  const html = (p: PageSpec) => `<!doctype html><html><head>${p.head}<title>t</title></head><body><a href="${p.href}?q=${p.query}">x</a> <a href="${p.href}">y</a></body></html>`;
  const enc = pyEncodeAll([...PAGES.map((p): [string, string] => [html(p), p.codec]), ...PAGES.map((p): [string, string] => [p.query, p.queryCodec])]);
  PAGES.forEach((p, i) => {
    bodies.set(p.path, enc[i]);
    queryBytes.set(p.path, enc[PAGES.length + i]);
  });
  server = http.createServer((req, res) => {
    requested.push(req.url!);
    const spec = PAGES.find((p) => p.path === req.url);
    if (spec) return res.writeHead(200, { 'Content-Type': spec.contentType }).end(bodies.get(spec.path));
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('leaf');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => {
  server?.close();
  server?.closeAllConnections();
});

describeUnless(!HAS_PYTHON3, WHY_NO_PYTHON3).each(STYLES)('charsets, --style %s', (style) => {
  it('requests what a browser would for non-ASCII links in Latin-1, Shift_JIS, windows-1251 and BOM pages; bodies kept byte for byte', async () => {
    requested.length = 0;
    const pages: PageRecord[] = [];
    await new Crawl({ ...DEFAULTS, style, outDir: null, ignoreRobots: true, urls: PAGES.map((p) => base + p.path), onPage: (r) => pages.push(r) }).run();
    for (const p of PAGES) {
      const rec = pages.find((r) => r.url === base + p.path)!;
      expect(rec.body!.equals(bodies.get(p.path)!), p.path).toBe(true);
      const wantPath = new URL(p.href, base).pathname; // WHATWG URL on the decoded href
      const wantQuery = `q=${pct(queryBytes.get(p.path)!)}`;
      expect(requested, p.path).toContain(wantPath);
      expect(requested, p.path).toContain(`${wantPath}?${wantQuery}`);
    }
    // Nothing was requested with U+FFFD (%EF%BF%BD), the mark of a page read in the wrong encoding.
    expect(requested.filter((r) => r.includes('%EF%BF%BD'))).toEqual([]);
  });
});

describe('encoding detection and query encoding', () => {
  it('follows HTML order: BOM, Content-Type, <meta>, then UTF-8 if valid else windows-1252', () => {
    const meta = Buffer.from('<meta charset="koi8-r">');
    expect(htmlEncoding('text/html; charset=utf-8', Buffer.concat([Buffer.from([0xfe, 0xff]), meta]))).toBe('utf-16be');
    expect(htmlEncoding('text/html; charset="ISO-8859-2"', meta)).toBe('iso-8859-2');
    expect(htmlEncoding('text/html; charset=bogus', meta)).toBe('koi8-r');
    expect(htmlEncoding('text/html', Buffer.from('<meta http-equiv=content-type content="text/html;charset=euc-jp">'))).toBe('euc-jp');
    expect(htmlEncoding(undefined, Buffer.from('<meta charset="utf-16">'))).toBe('utf-8');
    expect(htmlEncoding(undefined, Buffer.from('caf\u00e9'))).toBe('utf-8');
    expect(htmlEncoding(undefined, Buffer.from([0x63, 0xe9]))).toBe('windows-1252');
    // A meta after the first 1024 bytes is not seen.
    expect(htmlEncoding(undefined, Buffer.concat([Buffer.from(' '.repeat(1100)), meta]))).toBe('utf-8');
  });

  it('characters the page encoding lacks become &#N; in the query, as browsers send them', () => {
    expect(encodeQuery('€ 日', 'windows-1252')).toBe('%80%20%26%2326085%3B');
    expect(encodeQuery('a"<>\'#', 'shift_jis')).toBe('a%22%3C%3E%27%23');
    // Shift_JIS's encoder prefers the IBM extensions (0xFA..) to NEC's duplicates (0xED..): ⅰ is FA 40.
    expect(encodeQuery('ⅰ', 'shift_jis')).toBe('%FA%40');
    expect(resolveHref('/p?q=é#frag', new URL('http://h/'), 'utf-8').search).toBe('?q=%C3%A9');
    expect(resolveHref('/p?q=é#frag', new URL('http://h/'), 'windows-1252').search).toBe('?q=%E9');
    expect(resolveHref('/pé?q=1', new URL('http://h/'), 'windows-1252').pathname).toBe('/p%C3%A9');
  });
});
