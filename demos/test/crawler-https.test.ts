// HTTPS on iomux's own sockets against nginx (Debian's nginx-light) with
// certificates made by the openssl command: a generated site crawled in both
// styles with --ca, wrong-host and expired certificates, http->https
// redirects, https links from an http start page. nginx is required: where it
// is missing these tests fail, they do not skip.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Crawl, DEFAULTS, type CrawlOptions, type PageRecord, type Style } from '../src/crawler/crawl';
import { makeCerts, makeSite, startNginx, type Certs, type NginxServer } from './fixtures/nginx';
import { runCrawl as run } from './fixtures/demo-proc';
import { describeUnless, HAS_NGINX_TLS, WHY_NO_NGINX_TLS } from './fixtures/platform';

const STYLES: Style[] = ['callbacks', 'async'];

let certs: Certs;
let site: { root: string; files: string[] };
let ng: NginxServer;
const tmpDirs: string[] = [];

beforeAll(async () => {
  if (!HAS_NGINX_TLS) return;
  certs = makeCerts();
  site = makeSite(60);
  // A page on plain http linking to the https listener, for "https links on the start hosts".
  fs.writeFileSync(path.join(site.root, 'plain.html'), '<a href="https://127.0.0.1:GOOD/s1/p1.html">secure</a>');
  ng = await startNginx([
    { name: 'good', tls: certs.good, root: site.root },
    { name: 'wrong', tls: certs.wrongHost, root: site.root },
    { name: 'expired', tls: certs.expired, root: site.root },
    // Plain http that sends everything to the https listener, as sites do.
    { name: 'redirect', root: site.root, extra: (p) => `location / { return 301 https://127.0.0.1:${p.good}$request_uri; }` },
    { name: 'plain', root: site.root, extra: (p) => `sub_filter_once off; location = /plain.html { default_type text/html; return 200 '<a href="https://127.0.0.1:${p.good}/s1/p1.html">secure</a>'; }` },
  ]);
}, 60_000);

afterAll(async () => {
  await ng?.close();
  if (certs) fs.rmSync(certs.dir, { recursive: true, force: true });
  if (site) fs.rmSync(site.root, { recursive: true, force: true });
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-crawlhttps-'));
  tmpDirs.push(d);
  return d;
}

async function crawlWith(urls: string[], opts: Partial<CrawlOptions> = {}) {
  const pages: PageRecord[] = [];
  const c = new Crawl({ ...DEFAULTS, outDir: null, connectTimeoutMs: 5000, timeoutMs: 10000, keepBodies: true, ...opts, urls, onPage: (r) => pages.push(r) });
  const summary = await c.run();
  return { pages, byUrl: new Map(pages.map((p) => [p.url, p])), summary };
}

const good = () => `https://127.0.0.1:${ng.ports.good}`;

describeUnless(!HAS_NGINX_TLS, WHY_NO_NGINX_TLS).each(STYLES)('https against nginx, --style %s', (style) => {
  it('crawls the generated site with --ca: every file once, bodies identical, connections reused', async () => {
    const before = ng.requests().length;
    const { pages, summary } = await crawlWith([`${good()}/`], { style, caFiles: [certs.ca], concurrency: 8 });
    const expected = site.files.map((f) => `${good()}/${f}`).concat(`${good()}/`).sort();
    expect(pages.filter((p) => p.error).map((p) => `${p.url} ${p.error}`)).toEqual([]);
    expect(pages.map((p) => p.url).sort()).toEqual(expected);
    for (const p of pages) {
      const rel = new URL(p.url).pathname.slice(1) || 'index.html';
      expect(p.body!.equals(fs.readFileSync(path.join(site.root, rel))), p.url).toBe(true);
    }
    // Every page once on the wire (plus robots.txt, a 404 here).
    const uris = ng.requests().slice(before).filter((r) => r.port === ng.ports.good).map((r) => r.uri);
    expect(uris.filter((u) => u !== '/robots.txt').length).toBe(expected.length);
    expect(new Set(uris).size).toBe(uris.length);
    expect(summary.reusedConnections).toBeGreaterThan(0);
    expect(summary.newConnections).toBeLessThanOrEqual(9);
  });

  it('fails a wrong-host and an expired certificate as tls, with the reason, and passes them with --insecure', async () => {
    const wrong = `https://127.0.0.1:${ng.ports.wrong}/index.html`;
    const expired = `https://127.0.0.1:${ng.ports.expired}/index.html`;
    const noCa = `${good()}/index.html`;
    const strict = await crawlWith([wrong, expired], { style, caFiles: [certs.ca], maxDepth: 0, retries: 2 });
    expect(strict.byUrl.get(wrong)).toMatchObject({ kind: 'tls', status: null });
    expect(strict.byUrl.get(wrong)!.error).toMatch(/altnames|wrong\.example/i);
    expect(strict.byUrl.get(expired)).toMatchObject({ kind: 'tls' });
    expect(strict.byUrl.get(expired)!.error).toMatch(/expired/i);
    expect(strict.summary.errors).toEqual({ tls: 2 });
    expect(strict.summary.retries).toBe(0); // a certificate does not get better by asking again
    expect(strict.summary.examples.tls).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/index\.html: /);
    // Without --ca the test CA is unknown: the system store does not vouch for it.
    const withoutCa = await crawlWith([noCa], { style, maxDepth: 0 });
    expect(withoutCa.pages[0]).toMatchObject({ kind: 'tls', error: 'unable to verify the first certificate' });
    const lax = await crawlWith([wrong, expired], { style, insecure: true, maxDepth: 0, assets: false });
    expect(lax.pages.map((p) => [p.status, p.error])).toEqual([
      [200, null],
      [200, null],
    ]);
    expect(lax.pages[0].body!.equals(fs.readFileSync(path.join(site.root, 'index.html')))).toBe(true);
  });

  it('follows an http->https redirect and https links on a start host', async () => {
    const r = await crawlWith([`http://127.0.0.1:${ng.ports.redirect}/s2/p2.html`], { style, caFiles: [certs.ca], maxDepth: 0, assets: false });
    expect(r.pages).toHaveLength(1);
    expect(r.pages[0]).toMatchObject({ status: 200, error: null, finalUrl: `${good()}/s2/p2.html` });
    expect(r.pages[0].body!.equals(fs.readFileSync(path.join(site.root, 's2/p2.html')))).toBe(true);
    const l = await crawlWith([`http://127.0.0.1:${ng.ports.plain}/plain.html`], { style, caFiles: [certs.ca], maxDepth: 1, assets: false });
    expect(l.byUrl.get(`${good()}/s1/p1.html`)).toMatchObject({ status: 200, error: null });
  });
});

describeUnless(!HAS_NGINX_TLS, WHY_NO_NGINX_TLS)('iomux crawl https (CLI) against nginx', () => {
  it('crawls with --ca in both styles and says so once on stderr with --insecure', async () => {
    for (const style of STYLES) {
      const out = tmpDir();
      const r = await run([`${good()}/`, '--ca', certs.ca, '--style', style, '--out', out, '--layout', 'mirror']);
      expect(r.code, r.stderr).toBe(0);
      const n = site.files.length + 1; // "/" and /index.html are two URLs
      expect(r.stdout).toMatch(new RegExp(`crawled ${n} pages \\(${n} ok, 0 failed\\)`));
      expect(r.stdout).toMatch(/peak RSS \d+\.\d MiB/);
      // The mirror is a browsable copy of the tree: the same files, the same bytes.
      for (const f of site.files) {
        expect(fs.readFileSync(path.join(out, `127.0.0.1_${ng.ports.good}`, f)).equals(fs.readFileSync(path.join(site.root, f))), f).toBe(true);
      }
    }
    const bad = await run([`https://127.0.0.1:${ng.ports.wrong}/`, '--no-save']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/crawled 1 page \(0 ok, 1 failed\)/);
    expect(bad.stdout).toMatch(/errors: tls 1 \(https:\/\/127\.0\.0\.1:\d+\/: [^)]+\)/);
    const lax = await run([`https://127.0.0.1:${ng.ports.wrong}/index.html`, '--no-save', '--insecure', '--max-depth', '0', '--no-assets']);
    expect(lax.code).toBe(0);
    expect(lax.stderr.match(/NOT verified/g)).toHaveLength(1);
  });

  it('rejects a missing or non-PEM --ca file', async () => {
    const r = await run([`${good()}/`, '--ca', '/nonexistent/ca.pem']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--ca \/nonexistent\/ca\.pem: ENOENT/);
    const notPem = path.join(tmpDir(), 'x.pem');
    fs.writeFileSync(notPem, 'hello');
    const r2 = await run([`${good()}/`, '--ca', notPem]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/no PEM certificate/);
  });
});
