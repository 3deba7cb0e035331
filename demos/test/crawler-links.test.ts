// Link extraction (htmlparser2), URL normalisation and safe file names.
import { describe, expect, it } from 'vitest';
import { extractLinks, normalizeUrl } from '../src/crawler/links';
import { safeFileName } from '../src/crawler/output';

describe('links', () => {
  it('normalises: fragment and empty query dropped, host lower-cased, default port and dot segments gone', () => {
    const n = (u: string) => normalizeUrl(new URL(u));
    expect(n('HTTP://Example.COM:80/a/../b/./c?#frag')).toBe('http://example.com/b/c');
    expect(n('http://h/p?q=1#x')).toBe('http://h/p?q=1');
    expect(n('http://h/p?a?')).toBe('http://h/p?a?'); // a "?" inside a real query stays
    expect(n('http://h')).toBe('http://h/');
    expect(n('http://h:8080/%2e%2e/x')).toBe('http://h:8080/x');
  });

  it('extracts href/src with a real tokenizer: <base>, entities, case, comments, scripts and odd quoting', () => {
    const html = `<!doctype html><html><head><base href="/root/"><link rel=stylesheet href=style.css></head>
      <body><!-- <a href="/commented-out"> -->
      <A HREF='Upper.html#top'>x</A> <a href="q?a=1&amp;b=2">amp</a> <a href=unquoted.html>u</a>
      <img src="/img.png"><iframe src="//other.host/frame"></iframe>
      <script>var s = '<a href="/in-script">';</script>
      <a href="mailto:a@b">m</a><a href="javascript:void(0)">j</a><a href="">empty</a><a>none</a>
      <a href="upper.html">dup after normalisation? no: case matters in paths</a><a href="Upper.html">dup</a>
      <a href="https://secure.example/">tls</a><a href="http://[::1">broken</a>
      </body></html>`;
    expect(extractLinks(html, new URL('http://site.test/dir/page.html'))).toEqual([
      'http://site.test/root/style.css',
      'http://site.test/root/Upper.html',
      'http://site.test/root/q?a=1&b=2',
      'http://site.test/root/unquoted.html',
      'http://site.test/img.png',
      'http://other.host/frame',
      'http://site.test/root/upper.html',
      'https://secure.example/',
    ]);
  });
});

describe('safeFileName', () => {
  it('never yields a path separator, "..", a leading dot or a control character, and keeps distinct URLs apart', () => {
    const urls = [
      'http://h/files/..%2F..%2F..%2Fetc%2Fpasswd',
      'http://h/files/%2e%2e/%2e%2e/x',
      'http://h/a%5C..%5C..%5Cwin',
      'http://h/a%00b%0a%0d',
      'http://h/.hidden',
      'http://h/..',
      'http://h/x?path=../../../../tmp/evil',
      'http://h/' + 'long'.repeat(200),
      'http://h/%E2%82%AC%ZZ',
      'http://h/a/b',
      'http://h/a_b',
    ];
    const names = urls.map(safeFileName);
    for (const name of names) {
      expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
      expect(name).not.toContain('..');
      expect(name.length).toBeLessThanOrEqual(140);
    }
    expect(new Set(names).size).toBe(names.length);
    expect(safeFileName('http://h/a/b')).toBe(safeFileName('http://h/a/b'));
  });
});
