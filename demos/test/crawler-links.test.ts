// Link extraction (htmlparser2), URL normalisation and safe file names.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cssUrls } from '../src/crawler/css';
import { extractCssLinks, extractLinks, extractPageLinks, normalizeUrl } from '../src/crawler/links';
import { MirrorStore, mirrorPath, safeFileName } from '../src/crawler/output';

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

  it('the first <base href> wins and applies to links before it too; a later one is ignored', () => {
    const html = `<a href="before.html">b</a><base href="http://cdn.test/one/"><base href="http://cdn.test/two/"><a href="after.html">a</a>`;
    expect(extractLinks(html, new URL('http://site.test/x/'))).toEqual(['http://cdn.test/one/before.html', 'http://cdn.test/one/after.html']);
    // A <base> without href does not count as the first.
    expect(extractLinks('<base target="_top"><base href="/b/"><a href="x">x</a>', new URL('http://site.test/'))).toEqual(['http://site.test/b/x']);
  });

  it('finds every kind of link a browser follows, and tells page requisites from pages', () => {
    const html = `<html><head>
      <link rel="stylesheet" href="/s.css"><link rel="icon" href="/favicon.ico"><link rel="preload" href="/font.woff2" as="font">
      <link rel="alternate" href="/feed.xml"><link rel="next" href="/page2.html">
      <meta http-equiv="refresh" content="5; url='/moved.html'">
      <style>@import "/imp.css"; body { background: url( "/bg.png" ) } /* url(/commented.png) */ .x{content:"url(/in-string.png)"}</style>
      </head><body style="background-image: url(/inline.png)">
      <img src="/a.png" srcset="/a-1x.png 1x, /a,2x.png 2x,/a-3x.png 3x">
      <picture><source srcset="/p.webp 100w, /p-big.webp 800w"></picture>
      <object data="/movie.swf"></object><embed src="/e.swf">
      <video src="/v.mp4" poster="/poster.jpg"><source src="/v.webm"><track src="/subs.vtt"></video><audio src="/a.ogg"></audio>
      <a href="/page.html">p</a><iframe src="/frame.html"></iframe><script src="/app.js"></script>
      </body></html>`;
    const links = extractPageLinks(html, new URL('http://h/dir/index.html'));
    const byUrl = Object.fromEntries(links.map((l) => [new URL(l.url).pathname, l.asset ? 'asset' : 'page']));
    expect(byUrl).toEqual({
      '/s.css': 'asset', '/favicon.ico': 'asset', '/font.woff2': 'asset', '/feed.xml': 'page', '/page2.html': 'page',
      '/moved.html': 'page', '/imp.css': 'asset', '/bg.png': 'asset', '/inline.png': 'asset',
      '/a.png': 'asset', '/a-1x.png': 'asset', '/a,2x.png': 'asset', '/a-3x.png': 'asset', '/p.webp': 'asset', '/p-big.webp': 'asset',
      '/movie.swf': 'asset', '/e.swf': 'asset', '/v.mp4': 'asset', '/poster.jpg': 'asset', '/v.webm': 'asset', '/subs.vtt': 'asset', '/a.ogg': 'asset',
      '/page.html': 'page', '/frame.html': 'page', '/app.js': 'asset',
    });
  });

  it('meta refresh forms', () => {
    const r = (c: string) => extractLinks(`<meta http-equiv="Refresh" content="${c}">`, new URL('http://h/'));
    expect(r('0;URL=/a')).toEqual(['http://h/a']);
    expect(r('3; url = b.html')).toEqual(['http://h/b.html']);
    expect(r('10')).toEqual([]);
  });

  it('CSS: url() and @import in every spelling, not in comments or strings, escapes decoded', () => {
    const css = String.raw`@import url("a.css"); @IMPORT 'b.css' screen; @import url(c.css);
      x { background: URL(d.png), url('e.png'), url( f\ g.png ) } /* url(no.png) @import "no.css"; */
      y::after { content: "url(no2.png)" } z { background: url(data:image/png;base64,AAAA) } w{b:url(\68.png)} v{b:url()}`;
    expect(cssUrls(css)).toEqual(['a.css', 'b.css', 'c.css', 'd.png', 'e.png', 'f g.png', 'data:image/png;base64,AAAA', 'h.png']);
    expect(extractCssLinks(css, new URL('http://h/css/site.css')).map((l) => l.url)).toEqual(
      ['a.css', 'b.css', 'c.css', 'd.png', 'e.png', 'f%20g.png', 'h.png'].map((f) => `http://h/css/${f}`),
    );
  });
});

describe('mirror layout', () => {
  it('maps URLs to a host/path tree: index.html for directories, a Content-Type suffix for queries', () => {
    expect(mirrorPath('http://h/')).toBe('h/index.html');
    expect(mirrorPath('http://h:8080/a/b/')).toBe('h_8080/a/b/index.html');
    expect(mirrorPath('https://h/a/caf%C3%A9.html')).toBe('h/a/café.html');
    expect(mirrorPath('http://h/search?q=x&y=1', 'text/html; charset=utf-8')).toBe('h/search@q=x&y=1.html');
    expect(mirrorPath('http://h/api?x', 'application/json')).toBe('h/api@x.json');
    expect(mirrorPath('http://h/p.html?v=2', 'text/html')).toBe('h/p.html@v=2.html');
  });

  it('never leaves --out, whatever the URL', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-mirror-'));
    try {
      const store = new MirrorStore(path.join(dir, 'out'));
      const urls = [
        'http://h/files/..%2F..%2F..%2Fetc%2Fpasswd',
        'http://h/files/%2e%2e/%2e%2e/x',
        'http://h/a%5C..%5C..%5Cwin',
        'http://h/a%00b%0a',
        'http://h/..',
        'http://h/x?path=../../../../tmp/evil',
        'http://h/' + 'long'.repeat(200),
        'http://h/%E2%82%AC%ZZ',
      ];
      for (const u of urls) {
        const f = store.save(u, Buffer.from(u));
        expect(f.startsWith(path.join(dir, 'out') + path.sep), `${u} -> ${f}`).toBe(true);
        expect(fs.readFileSync(f, 'utf8')).toBe(u);
      }
      expect(fs.readdirSync(dir)).toEqual(['out']);
      // "/a" then "/a/b": a file where a directory must go ends up aside, nothing lost.
      const a = store.save('http://h/t/a', Buffer.from('A'));
      const b = store.save('http://h/t/a/b', Buffer.from('B'));
      expect(fs.readFileSync(a, 'utf8')).toBe('A');
      expect(fs.readFileSync(b, 'utf8')).toBe('B');
      // and "/d/x" then "/d": the page becomes d/index.html
      store.save('http://h/d/x', Buffer.from('X'));
      expect(store.save('http://h/d', Buffer.from('D'))).toBe(path.join(dir, 'out', 'h', 'd', 'index.html'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
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
