#!/usr/bin/env node
// npm run bench:crawl — crawl one generated static site (5,000 pages linking to
// each other) with iomux (callbacks and async styles, epoll) and with two
// crawlers that share the same frontier logic but fetch with Node's fetch()
// and with http.get on a keep-alive Agent; all at concurrency 50. Each crawler
// runs in its own process (so CPU time is its own) against a server in another
// process: nginx when it is installed, else a Node http server (the report
// says which). With nginx the same site is also served over TLS (a CA and
// certificate made by openssl here) and crawled as https:// by the same four
// (fetch() and https.get trust the CA through NODE_EXTRA_CA_CERTS). Peak RSS
// of each crawler process is reported too. Writes crawl.{md,json,svg} to a
// temp dir, or to bench-results/ with --write.
//
//   node scripts/bench/crawl.mjs [--pages 5000] [--runs 3] [--concurrency 50] [--no-https] [--quick] [--write | --out DIR]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCli, describeMachine, machineMarkdown, median, numberFlag, ROOT, writeReport } from '../lib/bench.mjs';
import { escapeXml, PALETTE } from '../lib/svg-chart.mjs';

const cli = benchCli('crawl', {
  pages: { type: 'string' },
  runs: { type: 'string' },
  concurrency: { type: 'string' },
  role: { type: 'string' },
  url: { type: 'string' },
  dir: { type: 'string' },
  ca: { type: 'string' },
  'no-https': { type: 'boolean' },
}, 'node scripts/bench/crawl.mjs [--pages N] [--runs R] [--concurrency C] [--no-https]');
const argv = cli.values;
const PAGES = numberFlag(cli, 'pages', cli.quick ? 500 : 5000, 2);
const RUNS = numberFlag(cli, 'runs', cli.quick ? 1 : 3, 1);
const CONC = numberFlag(cli, 'concurrency', 50, 1);

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
    const caFiles = argv.ca ? [argv.ca] : [];
    const c = new Crawl({ ...DEFAULTS, urls: [start], style: role.slice(6), backend: 'epoll', outDir: null, concurrency: CONC, perHost: CONC, caFiles, ignoreRobots: true });
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
  const rssMb = (process.resourceUsage().maxRSS * 1024) / 1048576;
  process.stdout.write(JSON.stringify({ pages, ms, cpuMs: (cpu.user + cpu.system) / 1000, rssMb }) + '\n');
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
  const https = await import('node:https');
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONC });
  const tlsAgent = new https.Agent({ keepAlive: true, maxSockets: CONC });
  return (url) =>
    new Promise((resolve, reject) => {
      const tls = url.startsWith('https:');
      (tls ? https : http)
        .get(url, { agent: tls ? tlsAgent : agent, headers: { 'accept-encoding': 'gzip, identity' } }, (res) => {
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

// A CA and a certificate for 127.0.0.1, made by the openssl command.
function makeCert(work) {
  const run = (args) => {
    const r = spawnSync('openssl', args, { cwd: work, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`);
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=bench CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'site.key', '-out', 'site.csr', '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(path.join(work, 'site.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', 'site.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'site.pem', '-days', '2', '-extfile', 'site.ext']);
  return { ca: path.join(work, 'ca.pem'), cert: path.join(work, 'site.pem'), key: path.join(work, 'site.key') };
}

async function startServer(dir, tls) {
  const nginx = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout.trim();
  if (nginx) {
    const port = await freePort();
    const tlsPort = tls ? await freePort() : 0;
    const tlsBlock = tls ? `server { listen 127.0.0.1:${tlsPort} ssl; root ${dir}; default_type text/html; ssl_certificate ${tls.cert}; ssl_certificate_key ${tls.key}; }` : '';
    const conf = path.join(dir, '..', 'nginx.conf');
    fs.writeFileSync(
      conf,
      `daemon off; worker_processes 1; pid ${dir}/../nginx.pid; error_log stderr;
       events { worker_connections 1024; }
       http { access_log off; keepalive_requests 100000; keepalive_timeout 60;
         client_body_temp_path ${dir}/../tmp; proxy_temp_path ${dir}/../tmp; fastcgi_temp_path ${dir}/../tmp; uwsgi_temp_path ${dir}/../tmp; scgi_temp_path ${dir}/../tmp;
         server { listen 127.0.0.1:${port}; root ${dir}; default_type text/html; } ${tlsBlock} }\n`,
    );
    // nginx workers drop root privileges: mkdtemp's 0700 would hide the site from them.
    fs.chmodSync(path.dirname(dir), 0o755);
    const child = spawn(nginx, ['-c', conf, '-p', path.dirname(conf)], { stdio: ['ignore', 'ignore', 'inherit'] });
    await waitForPort(port);
    if (tlsPort) await waitForPort(tlsPort);
    if (child.exitCode !== null) throw new Error('nginx exited at start');
    return { name: `nginx (${spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr.trim()}, 1 worker)`, port, tlsPort, child };
  }
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--role', 'server', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(/port (\d+)/.exec(String(d))[1])));
    child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  return { name: `Node ${process.version} http server (nginx is not installed), 1 process`, port, tlsPort: 0, child };
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

function runCrawler(role, url, ca) {
  return new Promise((resolve, reject) => {
    const args = [fileURLToPath(import.meta.url), '--role', role, '--url', url, '--concurrency', String(CONC)];
    if (ca) args.push('--ca', ca);
    // fetch() and https.get trust the bench CA the documented way; iomux gets --ca.
    const env = ca ? { ...process.env, NODE_EXTRA_CA_CERTS: ca } : process.env;
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`${role} exited ${code}`))));
  });
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
  let tls;
  try {
    tls = argv['no-https'] ? undefined : makeCert(work);
    server = await startServer(dir, tls);
  } catch (err) {
    fs.rmSync(work, { recursive: true, force: true });
    throw err;
  }
  const targets = [['http', `http://127.0.0.1:${server.port}/p0.html`, undefined]];
  if (server.tlsPort) targets.push(['https', `https://127.0.0.1:${server.tlsPort}/p0.html`, tls.ca]);
  const roles = [
    ['iomux-callbacks', 'iomux callbacks (epoll)'],
    ['iomux-async', 'iomux async/await (epoll)'],
    ['http-get', 'http(s).get + keep-alive Agent'],
    ['fetch', 'fetch() (undici)'],
  ];
  const results = {};
  try {
    await runCrawler('iomux-async', targets[0][1]); // warm-up: page cache, server JIT
    for (let r = 0; r < RUNS; r++) {
      // Interleaved, so a noisy neighbour on the shared machine hurts everyone alike.
      for (const [proto, url, ca] of targets) {
        for (const [role] of roles) {
          const res = await runCrawler(role, url, ca);
          if (res.pages !== PAGES) throw new Error(`${role} ${proto} crawled ${res.pages} pages, expected ${PAGES}`);
          (results[`${proto} ${role}`] ??= []).push(res);
          process.stderr.write(`run ${r + 1}/${RUNS} ${proto} ${role}: ${((res.pages * 1000) / res.ms).toFixed(0)} pages/s, ${((res.cpuMs * 1000) / res.pages).toFixed(0)} µs CPU/page, ${res.rssMb.toFixed(0)} MiB peak RSS\n`);
        }
      }
    }
  } finally {
    server.child.kill('SIGTERM');
    fs.rmSync(work, { recursive: true, force: true });
  }
  const rows = targets.flatMap(([proto]) =>
    roles.map(([role, name]) => {
      const runs = results[`${proto} ${role}`];
      return {
        proto,
        role,
        name,
        pagesPerSec: median(runs.map((x) => (x.pages * 1000) / x.ms)),
        cpuUsPerPage: median(runs.map((x) => (x.cpuMs * 1000) / x.pages)),
        peakRssMb: Math.max(...runs.map((x) => x.rssMb)),
      };
    }),
  );
  const get = (proto, role) => rows.find((r) => r.proto === proto && r.role === role);
  const ratios = (proto) => {
    const best = Math.min(get(proto, 'iomux-callbacks').pagesPerSec, get(proto, 'iomux-async').pagesPerSec);
    return { vsFetch: best / get(proto, 'fetch').pagesPerSec, vsHttp: best / get(proto, 'http-get').pagesPerSec };
  };
  const http = ratios('http');
  const https = server.tlsPort ? ratios('https') : undefined;
  const m = describeMachine({ mode: `${RUNS} interleaved run${RUNS === 1 ? '' : 's'} per crawler, median` });
  const md = `# Crawl benchmark

${PAGES} generated pages (${avgKb.toFixed(1)} KiB each on average, 6 links per page), crawled completely by each crawler at concurrency ${CONC},
over http:// and ${server.tlsPort ? 'https:// (TLS 1.3, RSA 2048 certificate from a CA made by openssl, keep-alive)' : 'not https:// (nginx is not installed)'},
median of ${RUNS} interleaved runs, each crawler in its own process (CPU time = user + system of that process, all threads; peak RSS = the process's maximum resident set).

- Server: ${server.name}, on the same machine.
${machineMarkdown(m)}
- The cores are shared with the server, so absolute numbers are noisy; the ratios are what the targets are about.

| scheme | crawler | pages/s | CPU µs/page | peak RSS MiB |
|---|---|---:|---:|---:|
${rows.map((r) => `| ${r.proto} | ${r.name} | ${r.pagesPerSec.toFixed(0)} | ${r.cpuUsPerPage.toFixed(0)} | ${r.peakRssMb.toFixed(0)} |`).join('\n')}

http: slower iomux style vs fetch(): **${http.vsFetch.toFixed(2)} ×** (target ≥ 3 ×: ${http.vsFetch >= 3 ? 'met' : 'missed'}); vs http.get keep-alive: **${http.vsHttp.toFixed(2)} ×** (target ≥ 1.5 ×: ${http.vsHttp >= 1.5 ? 'met' : 'missed'}).
${https ? `https: slower iomux style vs fetch(): **${https.vsFetch.toFixed(2)} ×**; vs https.get keep-alive: **${https.vsHttp.toFixed(2)} ×**.\n` : ''}`;
  writeReport(cli, 'crawl', {
    md,
    json: { pages: PAGES, runs: RUNS, concurrency: CONC, server: server.name, machine: m, rows, raw: results },
    svg: barChart({
      title: `Crawling ${PAGES} pages at concurrency ${CONC} (${server.name.startsWith('nginx') ? 'nginx' : 'Node http server'})`,
      unit: 'pages per second (median), higher is better',
      rows: rows.map((r) => ({ name: `${r.proto} ${r.name}`, value: r.pagesPerSec, label: `${r.pagesPerSec.toFixed(0)} pages/s · ${r.cpuUsPerPage.toFixed(0)} µs CPU/page` })),
    }),
  });
  process.stdout.write(md);
}
