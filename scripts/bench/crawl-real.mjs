#!/usr/bin/env node
// npm run bench:crawl-real — the crawler on a real documentation tree and on a
// big generated site, the figures docs/crawl.md quotes:
//  1. Debian's python3-doc HTML served by nginx, crawled whole by
//     `wget --recursive --page-requisites --no-parent` and by `iomux crawl`
//     (both styles, --layout mirror): the URL sets (from nginx's access log),
//     the differences, bodies compared with the files, time and peak RSS.
//  2. 5,000 generated pages at concurrency 50: the CLI's peak RSS (target < 80 MB).
// Needs nginx, wget and python3-doc. Writes crawl-real.{md,json} to a temp dir,
// or to bench-results/ with --write.
//
//   node scripts/bench/crawl-real.mjs [--write | --out DIR] [--pages 5000]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCli, describeMachine, numberFlag, writeReport } from '../lib/bench.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'demos', 'bin', 'iomux.js');
const cli = benchCli('crawl-real', { pages: { type: 'string' } }, 'node scripts/bench/crawl-real.mjs [--pages N]');
const PAGES = numberFlag(cli, 'pages', cli.quick ? 500 : 5000, 2);
const DOC = fs.realpathSync('/usr/share/doc/python3-doc/html');

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function nginx(work, root) {
  const port = await freePort();
  fs.mkdirSync(path.join(work, 'tmp'), { recursive: true });
  const conf = path.join(work, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `daemon off; master_process off; worker_processes 1; pid ${work}/nginx.pid; error_log stderr;
events { worker_connections 1024; }
http { include /etc/nginx/mime.types; log_format t '$status "$request_uri" "$http_user_agent"'; access_log ${work}/access.log t;
  keepalive_requests 100000; client_body_temp_path ${work}/tmp; proxy_temp_path ${work}/tmp; fastcgi_temp_path ${work}/tmp; uwsgi_temp_path ${work}/tmp; scgi_temp_path ${work}/tmp;
  server { listen 127.0.0.1:${port}; root ${root}; } }\n`,
  );
  const child = spawn('nginx', ['-c', conf, '-p', work], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1', () => (c.destroy(), r(true)));
      c.on('error', () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = path.join(work, 'access.log');
  return {
    port,
    child,
    fetchedBy(ua) {
      const set = new Set();
      for (const l of fs.readFileSync(log, 'utf8').split('\n')) {
        const m = /^(\d+) "(.*)" "(.*)"$/.exec(l);
        if (m && m[1] === '200' && m[3].startsWith(ua) && m[2] !== '/robots.txt') set.add(m[2]);
      }
      return set;
    },
  };
}

// Runs a command under /usr/bin/time -v when there is one: wall time and peak RSS from the kernel.
function timed(cmd, args, okCodes = [0]) {
  process.stderr.write(`running ${path.basename(cmd)} ${args.slice(0, 6).join(' ')} ...\n`);
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (!okCodes.includes(r.status)) throw new Error(`${cmd} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return { ms, rssMb: rss ? Number(rss[1]) / 1024 : NaN, stdout: r.stdout, stderr: r.stderr };
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-crawl-real-'));
const servers = [];
const m = describeMachine();
const result = { date: m.date, machine: `${m.cores} × ${m.cpu}, ${m.kernel}, Node ${m.node}`, machineInfo: m };
try {
  // ---- 1. python3-doc: wget vs iomux ----
  const ng = await nginx(path.join(work, 'doc'), DOC).catch(async () => {
    fs.mkdirSync(path.join(work, 'doc'), { recursive: true });
    return nginx(path.join(work, 'doc'), DOC);
  });
  servers.push(ng.child);
  const start = `http://127.0.0.1:${ng.port}/index.html`;
  // Exit status 8: "the server issued an error response" (the tree links a few missing files).
  const wget = timed('wget', ['--recursive', '--page-requisites', '--no-parent', '--quiet', '-P', path.join(work, 'wget'), start], [0, 8]);
  const wgetSet = ng.fetchedBy('Wget');
  result.doc = { files: spawnSync('sh', ['-c', `find -L ${DOC} -type f | wc -l`], { encoding: 'utf8' }).stdout.trim(), wget: { urls: wgetSet.size, ms: wget.ms, rssMb: wget.rssMb } };
  for (const style of ['async', 'callbacks']) {
    const ua = `iomux-${style}/1.0`;
    const out = path.join(work, `iomux-${style}`);
    const r = timed(process.execPath, [BIN, 'crawl', start, '--style', style, '--user-agent', ua, '--layout', 'mirror', '--out', out, '--json']);
    const ours = ng.fetchedBy(ua);
    let identical = 0;
    let different = 0;
    for (const line of r.stdout.trim().split('\n')) {
      const rec = JSON.parse(line);
      if (rec.status !== 200 || !rec.file) continue;
      let p = decodeURIComponent(new URL(rec.url).pathname);
      if (p.endsWith('/')) p += 'index.html';
      if (fs.readFileSync(rec.file).equals(fs.readFileSync(path.join(DOC, p)))) identical++;
      else different++;
    }
    result.doc[style] = {
      urls: ours.size,
      ms: r.ms,
      rssMb: r.rssMb,
      summaryRss: /peak RSS ([\d.]+) MiB/.exec(r.stderr)?.[1],
      missing: [...wgetSet].filter((u) => !ours.has(u)),
      extra: [...ours].filter((u) => !wgetSet.has(u)),
      identical,
      different,
    };
  }
  ng.child.kill('SIGTERM');

  // ---- 2. 5,000 generated pages at concurrency 50: peak RSS of the CLI ----
  const site = path.join(work, 'site');
  fs.mkdirSync(site);
  let seed = 12345;
  const rnd = (n) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
  const filler = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(20);
  for (let i = 0; i < PAGES; i++) {
    const links = [(i + 1) % PAGES, rnd(PAGES), rnd(PAGES), rnd(PAGES), rnd(PAGES), Math.max(0, i - 1)];
    fs.writeFileSync(path.join(site, `p${i}.html`), `<!doctype html><html><head><title>Page ${i}</title></head><body><h1>Page ${i}</h1><p>${filler}</p><ul>${links.map((l) => `<li><a href="p${l}.html">page ${l}</a></li>`).join('')}</ul></body></html>\n`);
  }
  const ng2 = await nginx(path.join(work, 'gen'), site).catch(async () => {
    fs.mkdirSync(path.join(work, 'gen'), { recursive: true });
    return nginx(path.join(work, 'gen'), site);
  });
  servers.push(ng2.child);
  result.generated = { pages: PAGES, concurrency: 50 };
  for (const style of ['async', 'callbacks']) {
    for (const save of [false, true]) {
      const args = [BIN, 'crawl', `http://127.0.0.1:${ng2.port}/p0.html`, '--style', style, '--concurrency', '50'];
      if (save) args.push('--out', path.join(work, `gen-out-${style}`), '--layout', 'mirror');
      else args.push('--no-save');
      const r = timed(process.execPath, args);
      const pages = /crawled (\d+) page/.exec(r.stdout)?.[1];
      result.generated[`${style}${save ? ' saving' : ''}`] = { pages: Number(pages), ms: r.ms, rssMb: r.rssMb };
    }
  }
  ng2.child.kill('SIGTERM');
} finally {
  for (const c of servers) c.kill('SIGTERM');
  fs.rmSync(work, { recursive: true, force: true });
}

const d = result.doc;
const g = result.generated;
const md = `# The crawler on a real tree and a big site

${result.date.slice(0, 10)}, ${result.machine}; nginx on the same (shared, busy) machine: times are indicative, RSS is the kernel's peak resident set (/usr/bin/time -v) of the whole crawler process tree's main process.

## python3-doc (${d.files} files) crawled whole

| crawler | URLs fetched (200) | wall s | peak RSS MiB |
|---|---:|---:|---:|
| wget --recursive --page-requisites --no-parent | ${d.wget.urls} | ${(d.wget.ms / 1000).toFixed(1)} | ${d.wget.rssMb.toFixed(1)} |
| iomux crawl --style async --layout mirror | ${d.async.urls} | ${(d.async.ms / 1000).toFixed(1)} | ${d.async.summaryRss} |
| iomux crawl --style callbacks --layout mirror | ${d.callbacks.urls} | ${(d.callbacks.ms / 1000).toFixed(1)} | ${d.callbacks.summaryRss} |

- wget fetched and iomux did not: async ${d.async.missing.length ? d.async.missing.join(', ') : 'none'}; callbacks ${d.callbacks.missing.length ? d.callbacks.missing.join(', ') : 'none'}.
- iomux fetched and wget did not (${d.async.extra.length}): ${d.async.extra.join(', ')}.
- Bodies saved by iomux equal to the files: async ${d.async.identical}/${d.async.identical + d.async.different}, callbacks ${d.callbacks.identical}/${d.callbacks.identical + d.callbacks.different}.

## ${g.pages} generated pages at concurrency ${g.concurrency} (the CLI, peak RSS target < 80 MB)

| run | pages | wall s | peak RSS MiB |
|---|---:|---:|---:|
${['async', 'callbacks', 'async saving', 'callbacks saving'].map((k) => `| ${k} | ${g[k].pages} | ${(g[k].ms / 1000).toFixed(1)} | ${g[k].rssMb.toFixed(1)} |`).join('\n')}
`;
writeReport(cli, 'crawl-real', { md, json: result });
process.stdout.write(md);
