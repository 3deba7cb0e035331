// robots.txt (RFC 9309's own examples as a table, then against nginx) and
// politeness measured where it matters, on the server: request timestamps in
// nginx's access log for --delay and Crawl-delay, a Node server's clock for
// 429 + Retry-After.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Crawl, DEFAULTS, isLocalHost, retryAfterMs, type CrawlOptions, type PageRecord, type Style } from '../src/crawler/crawl';
import { normalizePath, parseRobots, productToken } from '../src/crawler/robots';
import { makeSite, startNginx, type NginxServer } from './fixtures/nginx';
import { describeUnless, HAS_NGINX, WHY_NO_NGINX } from './fixtures/platform';

const STYLES: Style[] = ['callbacks', 'async'];

describe('robots.txt rules (RFC 9309 examples)', () => {
  // RFC 9309 5.1, "Simple Example".
  const simple = `User-Agent: *
Disallow: *.gif$
Disallow: /example/
Allow: /publications/

User-Agent: foobot
Disallow:/
Allow:/example/page.html
Allow:/example/allowed.gif

User-Agent: barbot
User-Agent: bazbot
Disallow: /example/page.html

User-Agent: quxbot

EOF`;
  it.each([
    // agent, path, allowed
    ['foobot/2.1', '/example/page.html', true],
    ['foobot/2.1', '/example/allowed.gif', true],
    ['foobot/2.1', '/example/disallowed.gif', false],
    ['foobot/2.1', '/', false],
    ['FooBot', '/anything', false], // product tokens match case-insensitively
    ['barbot', '/example/page.html', false],
    ['bazbot', '/example/page.html', false],
    ['barbot', '/example/other.html', true], // a group naming us: the * group does not apply
    ['barbot', '/x.gif', true],
    ['quxbot', '/example/page.html', true], // an empty group allows everything
    ['otherbot', '/x.gif', false], // * group: *.gif$
    ['otherbot', '/x.gif?v=1', true], // $ anchors: the query makes it not end in .gif
    ['otherbot', '/example/', false],
    ['otherbot', '/publications/', true],
    ['otherbot', '/robots.txt', true], // always allowed
  ] as const)('%s %s -> %s', (agent, p, allowed) => {
    expect(parseRobots(simple, agent).allowed(p)).toBe(allowed);
  });

  it('longest match wins, Allow on a tie (RFC 9309 5.2 and 2.2.2)', () => {
    const r = parseRobots('User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n', 'foobot');
    expect(r.allowed('/example/page/')).toBe(true);
    expect(r.allowed('/example/page/disallowed.gif')).toBe(false);
    const tie = parseRobots('user-agent: *\ndisallow: /same\nallow: /same\n', 'x');
    expect(tie.allowed('/same/thing')).toBe(true);
  });

  it('* and $ (RFC 9309 2.2.3), comments, case of keys, rules before any group ignored', () => {
    const r = parseRobots('Disallow: /\nUSER-AGENT: *  # everyone\nallow: /this/*/exactly\ndisallow: /this/\nDISALLOW: /*.php$ # no php\n', 'me');
    expect(r.allowed('/this/a/b/exactly')).toBe(true);
    expect(r.allowed('/this/a/b/exactly/not')).toBe(true); // no $: a prefix match
    expect(r.allowed('/this/other')).toBe(false);
    expect(r.allowed('/index.php')).toBe(false);
    expect(r.allowed('/index.php5')).toBe(true);
    expect(r.allowed('/elsewhere')).toBe(true); // the Disallow before any user-agent belongs to no group
  });

  it('percent-encoding compares as RFC 9309 2.2.2 says', () => {
    expect(normalizePath('/foo/bar?baz=quz')).toBe('/foo/bar?baz=quz');
    expect(normalizePath('/foo/bar/ツ')).toBe('/foo/bar/%E3%83%84');
    expect(normalizePath('/foo/bar/%e3%83%84')).toBe('/foo/bar/%E3%83%84');
    expect(normalizePath('/foo/bar/%62%61%7A')).toBe('/foo/bar/baz');
    const r = parseRobots('user-agent: *\ndisallow: /foo/bar/ツ\n', 'x');
    expect(r.allowed('/foo/bar/%E3%83%84/x')).toBe(false);
  });

  it('Crawl-delay of the chosen group; merged groups; product token from a full user agent', () => {
    expect(parseRobots('user-agent: *\ncrawl-delay: 2\n', 'x').crawlDelay).toBe(2);
    expect(parseRobots('user-agent: a\ncrawl-delay: 2\nuser-agent: *\ncrawl-delay: 5\n', 'a').crawlDelay).toBe(2);
    expect(parseRobots('user-agent: a\ndisallow: /x\n\nuser-agent: b\nuser-agent: a\ndisallow: /y\n', 'a/1').allowed('/y')).toBe(false);
    expect(parseRobots('user-agent: *\ncrawl-delay: soon\n', 'x').crawlDelay).toBeUndefined();
    expect(productToken('iomux-crawler/0.1 (+https://x)')).toBe('iomux-crawler');
  });

  it('helpers: Retry-After forms, local addresses', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
    for (const h of ['127.0.0.1', 'localhost', '10.1.2.3', '192.168.0.1', '172.20.0.1', '[::1]', '[fd00::1]']) expect(isLocalHost(h), h).toBe(true);
    for (const h of ['8.8.8.8', 'example.com', '172.32.0.1', '[2001:db8::1]']) expect(isLocalHost(h), h).toBe(false);
  });
});

let site: { root: string; files: string[] };
let ng: NginxServer;

beforeAll(async () => {
  if (!HAS_NGINX) return;
  site = makeSite(20);
  ng = await startNginx([
    {
      name: 'robots',
      root: site.root,
      extra: `location = /robots.txt { default_type text/plain; return 200 "User-agent: *\\nDisallow: /\\n\\nUser-agent: politebot\\nDisallow: /s3/\\nDisallow: /img/\\nCrawl-delay: 0.15\\n"; }`,
    },
    { name: 'norobots', root: site.root },
    { name: 'broken', root: site.root, extra: 'location = /robots.txt { return 503; }' },
  ]);
}, 30_000);

afterAll(async () => {
  await ng?.close();
  if (site) fs.rmSync(site.root, { recursive: true, force: true });
});

async function crawlWith(urls: string[], opts: Partial<CrawlOptions> = {}) {
  const pages: PageRecord[] = [];
  const c = new Crawl({ ...DEFAULTS, outDir: null, ...opts, urls, onPage: (r) => pages.push(r) });
  const summary = await c.run();
  return { pages, summary };
}

const gaps = (ts: number[]) => ts.slice(1).map((t, i) => t - ts[i]);

describeUnless(!HAS_NGINX, WHY_NO_NGINX).each(STYLES)('robots.txt and politeness against nginx, --style %s', (style) => {
  it('fetches robots.txt once per origin first, obeys the group of --user-agent, counts what it skipped', async () => {
    const port = ng.ports.robots;
    const before = ng.requests().length;
    const { pages, summary } = await crawlWith([`http://127.0.0.1:${port}/`], { style, userAgent: 'politebot/1.0', concurrency: 4 });
    const reqs = ng.requests().slice(before).filter((r) => r.port === port);
    expect(reqs[0].uri).toBe('/robots.txt');
    expect(reqs.filter((r) => r.uri === '/robots.txt')).toHaveLength(1);
    expect(reqs.every((r) => r.ua === 'politebot/1.0')).toBe(true);
    expect(reqs.some((r) => r.uri.startsWith('/s3/') || r.uri.startsWith('/img/'))).toBe(false);
    expect(pages.some((p) => p.url.includes('/s3/'))).toBe(false);
    // /s3/p3 and /s3/p13 and the images are linked but not fetched.
    expect(summary.disallowed).toBe(2 + 3);
    expect(summary.robotsFetches).toBe(1);
    // Crawl-delay 0.15 s between request starts, measured by nginx (ms resolution).
    const g = gaps(reqs.map((r) => r.t));
    expect(Math.min(...g)).toBeGreaterThanOrEqual(145);
    // Another agent falls into "*": everything disallowed, nothing but robots.txt fetched.
    const other = await crawlWith([`http://127.0.0.1:${port}/`], { style, userAgent: 'otherbot' });
    expect(other.summary).toMatchObject({ pages: 0, disallowed: 1 });
    // --ignore-robots: robots.txt is not even asked for.
    const b2 = ng.requests().length;
    const ign = await crawlWith([`http://127.0.0.1:${port}/index.html`], { style, ignoreRobots: true, maxDepth: 0, assets: false, userAgent: 'otherbot' });
    expect(ign.summary).toMatchObject({ pages: 1, ok: 1, disallowed: 0, robotsFetches: 0 });
    expect(ng.requests().slice(b2).map((r) => r.uri)).toEqual(['/index.html']);
  });

  it('404 robots.txt allows everything, 503 disallows everything', async () => {
    const ok = await crawlWith([`http://127.0.0.1:${ng.ports.norobots}/`], { style });
    expect(ok.summary.pages).toBe(site.files.length + 1);
    expect(ok.summary.disallowed).toBe(0);
    const no = await crawlWith([`http://127.0.0.1:${ng.ports.broken}/`], { style });
    expect(no.summary).toMatchObject({ pages: 0, disallowed: 1 });
  });

  it('--delay spaces requests to one host, measured by the server', async () => {
    const port = ng.ports.norobots;
    const before = ng.requests().length;
    await crawlWith([`http://127.0.0.1:${port}/s1/p1.html`], { style, delayMs: 120, maxPages: 6, assets: false, ignoreRobots: true, concurrency: 6 });
    const ts = ng.requests().slice(before).filter((r) => r.port === port).map((r) => r.t);
    expect(ts).toHaveLength(6);
    expect(Math.min(...gaps(ts))).toBeGreaterThanOrEqual(115);
  });
});

describe.each(STYLES)('429 + Retry-After, --style %s', (style) => {
  it('waits as long as the server asks, then fetches', async () => {
    const times: number[] = [];
    const server = http.createServer((req, res) => {
      times.push(Date.now());
      if (req.url === '/robots.txt') return res.writeHead(404).end();
      if (times.length === 2) return res.writeHead(429, { 'Retry-After': '1' }).end('slow down');
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('fine');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const { pages, summary } = await crawlWith([`http://127.0.0.1:${port}/busy`], { style });
      expect(pages).toHaveLength(1);
      expect(pages[0]).toMatchObject({ status: 200, error: null });
      expect(summary.retries).toBe(1);
      expect(times).toHaveLength(3);
      expect(times[2] - times[1]).toBeGreaterThanOrEqual(990);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});
void path;
