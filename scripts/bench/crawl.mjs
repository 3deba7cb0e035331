#!/usr/bin/env node
// npm run bench:crawl — crawl one generated static site (5,000 pages linking to
// each other) with iomux (callbacks and async styles, epoll) and with two
// crawlers that share the same frontier logic but fetch with Node's fetch()
// and with http.get on a keep-alive Agent; all at concurrency 50. Each crawler
// runs in its own process (so CPU time is its own) against a server in another
// process: nginx when it is installed, else a Node http server (the report
// says which). Writes bench-results/crawl.{md,json,svg}.
//
//   node scripts/bench/crawl.mjs [--pages 5000] [--runs 3] [--concurrency 50]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { escapeXml, PALETTE } from '../lib/svg-chart.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: argv } = parseArgs({
  options: {
    pages: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '50' },
    role: { type: 'string' },
    url: { type: 'string' },
    dir: { type: 'string' },
  },
});
const PAGES = Number(argv.pages);
const RUNS = Number(argv.runs);
const CONC = Number(argv.concurrency);

// ---- child roles -----------------------------------------------------------

if (argv.role === 'server') await serve(argv.dir);
else if (argv.role) await crawlRole(argv.role, argv.url);
else await main();

// A plain static server for when nginx is not installed: files read once, keep-alive on.
async function serve(dir) {
  const http = await import('node:http');
  const files = new Map();
  for (const name of fs.readdirSync(dir)) files.set('/' + name, fs.readFileSync(path.join(dir, name)));
  const server = http.createServer((req, res) => {
    const body = files.get(req.url === '/' ? '/index.html' : req.url);
    if (!body) {
      res.statusCode = 404;
      return res.end('not found');
    }
    res.setHeader('Content-Type', 'text/html');
    res.setHeader('Content-Length', body.length);
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${server.address().port}\n`));
}

// One crawl in this process; prints {pages, ms, cpuMs} as JSON.
async function crawlRole(role, start) {
  const dist = path.join(ROOT, 'demos', 'dist');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let pages;
  if (role === 'iomux-callbacks' || role === 'iomux-async') {
    const { Crawl, DEFAULTS } = await import(path.join(dist, 'crawler/crawl.js'));
    const c = new Crawl({ ...DEFAULTS, urls: [start], style: role.slice(6), backend: 'epoll', outDir: null, concurrency: CONC, perHost: CONC });
    const s = await c.run();
    if (s.ok !== s.pages) throw new Error(`iomux: ${s.pages - s.ok} failed pages: ${JSON.stringify(s.errors)}`);
    pages = s.pages;
  } else {
    const { extractLinks, normalizeUrl } = await import(path.join(dist, 'crawler/links.js'));
    const get = role === 'fetch' ? await fetchGetter() : await httpGetter();
    pages = await frontierCrawl(start, get, extractLinks, normalizeUrl);
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ pages, ms, cpuMs: (cpu.user + cpu.system) / 1000 }) + '\n');
  process.exit(0);
}

// The same frontier as iomux's crawler: dedup by normalised URL, same host,
// htmlparser2 links, at most CONC fetches in flight.
function frontierCrawl(start, get, extractLinks, normalizeUrl) {
  const host = new URL(start).host;
  const seen = new Set([normalizeUrl(new URL(start))]);
  const queue = [start];
  let active = 0;
  let done = 0;
  return new Promise((resolve, reject) => {
    const pump = () => {
      while (active < CONC && queue.length) {
        const url = queue.shift();
        active++;
        get(url).then((body) => {
          done++;
          active--;
          for (const link of extractLinks(body.toString('utf8'), new URL(url))) {
            if (new URL(link).host === host && !seen.has(link)) {
              seen.add(link);
              queue.push(link);
            }
          }
          pump();
        }, reject);
      }
      if (active === 0 && queue.length === 0) resolve(done);
    };
    pump();
  });
}

async function fetchGetter() {
  return async (url) => {
    const res = await fetch(url, { headers: { 'accept-encoding': 'gzip, identity' } });
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  };
}

async function httpGetter() {
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONC });
  return (url) =>
    new Promise((resolve, reject) => {
      http
        .get(url, { agent, headers: { 'accept-encoding': 'gzip, identity' } }, (res) => {
          const parts = [];
          res.on('data', (d) => parts.push(d));
          res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(parts)) : reject(new Error(`${url}: ${res.statusCode}`))));
          res.on('error', reject);
        })
        .on('error', reject);
    });
}

// ---- the parent: site, server, runs, report ---------------------------------

function generateSite(dir) {
  // A deterministic generator so every run crawls the same graph.
  let seed = 12345;
  const rnd = (n) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  const filler = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(20);
  for (let i = 0; i < PAGES; i++) {
    // A chain through every page (so all are reachable) plus random links back and forth.
    const links = [(i + 1) % PAGES, rnd(PAGES), rnd(PAGES), rnd(PAGES), rnd(PAGES), Math.max(0, i - 1)];
    const html = `<!doctype html><html><head><title>Page ${i}</title></head><body><h1>Page ${i}</h1><p>${filler}</p><ul>${links
      .map((l) => `<li><a href="p${l}.html">page ${l}</a></li>`)
      .join('')}</ul></body></html>\n`;
    fs.writeFileSync(path.join(dir, `p${i}.html`), html);
  }
  fs.copyFileSync(path.join(dir, 'p0.html'), path.join(dir, 'index.html'));
}

async function startServer(dir) {
  const nginx = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout.trim();
  if (nginx) {
    const port = await freePort();
    const conf = path.join(dir, '..', 'nginx.conf');
    fs.writeFileSync(
      conf,
      `daemon off; worker_processes 1; pid ${dir}/../nginx.pid; error_log stderr;
       events { worker_connections 1024; }
       http { access_log off; keepalive_requests 100000; keepalive_timeout 60;
         client_body_temp_path ${dir}/../tmp; proxy_temp_path ${dir}/../tmp; fastcgi_temp_path ${dir}/../tmp; uwsgi_temp_path ${dir}/../tmp; scgi_temp_path ${dir}/../tmp;
         server { listen 127.0.0.1:${port}; root ${dir}; default_type text/html; } }\n`,
    );
    // nginx workers drop root privileges: mkdtemp's 0700 would hide the site from them.
    fs.chmodSync(path.dirname(dir), 0o755);
    const child = spawn(nginx, ['-c', conf, '-p', path.dirname(conf)], { stdio: ['ignore', 'ignore', 'inherit'] });
    await waitForPort(port);
    if (child.exitCode !== null) throw new Error('nginx exited at start');
    return { name: `nginx (${spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr.trim()}, 1 worker)`, port, child };
  }
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--role', 'server', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(/port (\d+)/.exec(String(d))[1])));
    child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  return { name: `Node ${process.version} http server (nginx is not installed), 1 process`, port, child };
}

// A port nobody listens on right now (the kernel's choice), for nginx's config.
async function freePort() {
  const net = await import('node:net');
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

async function waitForPort(port) {
  const net = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1', () => (c.destroy(), r(true)));
      c.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server on port ${port} did not come up`);
}

function runCrawler(role, url) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--role', role, '--url', url, '--concurrency', String(CONC)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`${role} exited ${code}`))));
  });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function barChart({ title, unit, rows }) {
  const W = 800;
  const rowH = 34;
  const left = 230;
  const top = 44;
  const H = top + rows.length * rowH + 30;
  const max = Math.max(...rows.map((r) => r.value));
  const bars = rows
    .map((r, i) => {
      const y = top + i * rowH;
      const w = ((W - left - 230) * r.value) / max; // room for the label after the longest bar
      return `<text x="${left - 8}" y="${y + 20}" text-anchor="end" font-size="13">${escapeXml(r.name)}</text>
<rect x="${left}" y="${y + 5}" width="${w.toFixed(1)}" height="22" fill="${PALETTE[i % PALETTE.length]}"/>
<text x="${(left + w + 6).toFixed(1)}" y="${y + 21}" font-size="12">${escapeXml(r.label)}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>
${bars}
<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="11" fill="#555">${escapeXml(unit)}</text>
</svg>\n`;
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-bench-crawl-'));
  const dir = path.join(work, 'site');
  fs.mkdirSync(dir);
  fs.mkdirSync(path.join(work, 'tmp'));
  generateSite(dir);
  const avgKb = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0) / (PAGES + 1) / 1024;
  let server;
  try {
    server = await startServer(dir);
  } catch (err) {
    fs.rmSync(work, { recursive: true, force: true });
    throw err;
  }
  const url = `http://127.0.0.1:${server.port}/p0.html`;
  const roles = [
    ['iomux-callbacks', 'iomux callbacks (epoll)'],
    ['iomux-async', 'iomux async/await (epoll)'],
    ['http-get', 'http.get + keep-alive Agent'],
    ['fetch', 'fetch() (undici)'],
  ];
  const results = {};
  try {
    await runCrawler('iomux-async', url); // warm-up: page cache, server JIT
    for (let r = 0; r < RUNS; r++) {
      // Interleaved, so a noisy neighbour on the shared machine hurts everyone alike.
      for (const [role] of roles) {
        const res = await runCrawler(role, url);
        if (res.pages !== PAGES) throw new Error(`${role} crawled ${res.pages} pages, expected ${PAGES}`);
        (results[role] ??= []).push(res);
        process.stderr.write(`run ${r + 1}/${RUNS} ${role}: ${((res.pages * 1000) / res.ms).toFixed(0)} pages/s, ${((res.cpuMs * 1000) / res.pages).toFixed(0)} µs CPU/page\n`);
      }
    }
  } finally {
    server.child.kill('SIGTERM');
    fs.rmSync(work, { recursive: true, force: true });
  }
  const rows = roles.map(([role, name]) => {
    const runs = results[role];
    return {
      role,
      name,
      pagesPerSec: median(runs.map((x) => (x.pages * 1000) / x.ms)),
      cpuUsPerPage: median(runs.map((x) => (x.cpuMs * 1000) / x.pages)),
    };
  });
  const get = (role) => rows.find((r) => r.role === role);
  const best = Math.min(get('iomux-callbacks').pagesPerSec, get('iomux-async').pagesPerSec);
  const vsFetch = best / get('fetch').pagesPerSec;
  const vsHttp = best / get('http-get').pagesPerSec;
  const cpus = os.cpus();
  const md = `# Crawl benchmark

${PAGES} generated pages (${avgKb.toFixed(1)} KiB each on average, 6 links per page), crawled completely by each crawler at concurrency ${CONC},
median of ${RUNS} interleaved runs, each crawler in its own process (CPU time = user + system of that process, all threads).

- Server: ${server.name}, on the same machine.
- Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${os.platform()} ${os.release()}, Node ${process.version}. The cores are shared with the server (and, here, with other work), so absolute numbers are noisy; the ratios are what the targets are about.

| crawler | pages/s | CPU µs/page |
|---|---:|---:|
${rows.map((r) => `| ${r.name} | ${r.pagesPerSec.toFixed(0)} | ${r.cpuUsPerPage.toFixed(0)} |`).join('\n')}

Slower iomux style vs fetch(): **${vsFetch.toFixed(2)} ×** (target ≥ 3 ×: ${vsFetch >= 3 ? 'met' : 'missed'}).
Slower iomux style vs http.get keep-alive: **${vsHttp.toFixed(2)} ×** (target ≥ 1.5 ×: ${vsHttp >= 1.5 ? 'met' : 'missed'}).
`;
  const outDir = path.join(ROOT, 'bench-results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'crawl.md'), md);
  fs.writeFileSync(path.join(outDir, 'crawl.json'), JSON.stringify({ pages: PAGES, runs: RUNS, concurrency: CONC, server: server.name, rows, raw: results }, null, 2) + '\n');
  fs.writeFileSync(
    path.join(outDir, 'crawl.svg'),
    barChart({
      title: `Crawling ${PAGES} pages at concurrency ${CONC} (${server.name.startsWith('nginx') ? 'nginx' : 'Node http server'})`,
      unit: 'pages per second (median), higher is better',
      rows: rows.map((r) => ({ name: r.name, value: r.pagesPerSec, label: `${r.pagesPerSec.toFixed(0)} pages/s · ${r.cpuUsPerPage.toFixed(0)} µs CPU/page` })),
    }),
  );
  process.stdout.write(md);
}
