// The five styles of demos/examples/ side by side: the crawler of steps 6-9
// (and step 9's code run with --blocking) crawls one local site, each run in
// its own process, rounds interleaved; medians. Lines of code are the
// example's own non-blank, non-comment lines (support/crawl.ts, shared by all
// five, not counted). Pages/s and CPU per page come from the example's summary
// line, which times the crawl alone (not node's start-up, not the site, which
// runs in its own process). Prints a markdown table; about 10-20 s.
//
//   npm run bench:examples [-- --pages N --rounds R]
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { median, ROOT } from '../lib/bench.mjs';

const args = process.argv.slice(2);
const flag = (name, def) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const pages = flag('--pages', 400);
const rounds = flag('--rounds', 5);
const DIST = path.join(ROOT, 'demos/dist/examples');
const { startSite } = createRequire(import.meta.url)(path.join(DIST, 'support/site.js'));

const STYLES = [
  ['blocking (step 9 code, `--blocking`)', '09-switch-on-io', ['--blocking']],
  ['callbacks (step 6)', '06-crawler-callbacks', []],
  ['generator coroutines (step 7)', '07-crawler-generators', []],
  ['async/await on EventLoop (step 8)', '08-crawler-async', []],
  ['switch on I/O (step 9)', '09-switch-on-io', []],
];
const loc = (name) => fs.readFileSync(path.join(ROOT, 'demos/examples', `${name}.ts`), 'utf8').split('\n')
  .filter((l) => l.trim() !== '' && !/^\s*(\/\/|\/\*|\*)/.test(l)).length;

const site = await startSite({ pages });
const url = `http://127.0.0.1:${site.ports[0]}/`;
const runs = STYLES.map(() => []);
const t0 = Date.now();
try {
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < STYLES.length; i++) {
      const [, name, extra] = STYLES[(i + r) % STYLES.length];
      const out = execFileSync(process.execPath, [path.join(DIST, `${name}.js`), url, '--quiet', ...extra], { encoding: 'utf8' });
      const m = /^(\d+) fetched, (\d+) failed in ([\d.]+) ms, CPU ([\d.]+) ms$/m.exec(out);
      if (!m || Number(m[1]) !== pages || m[2] !== '0') throw new Error(`${name}: unexpected result:\n${out}`);
      runs[(i + r) % STYLES.length].push({ pagesPerS: (pages / Number(m[3])) * 1000, cpuUsPerPage: (Number(m[4]) * 1000) / pages });
    }
  }
} finally {
  site.stop();
}
const cpu = os.cpus();
console.log(`${cpu[0].model.trim()}, ${cpu.length} cores, Linux ${os.release()}, Node ${process.version}; ` +
  `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load ${os.loadavg()[0].toFixed(2)}; ` +
  `${pages} pages of the local site, median of ${rounds} interleaved rounds (${((Date.now() - t0) / 1000).toFixed(1)} s in all).\n`);
console.log('| style | lines of code | pages/s | CPU µs per page |');
console.log('|---|--:|--:|--:|');
STYLES.forEach(([label, name], i) => {
  const fmt = (x) => Math.round(x).toLocaleString('en-US');
  console.log(`| ${label} | ${loc(name)} | ${fmt(median(runs[i].map((x) => x.pagesPerS)))} | ${fmt(median(runs[i].map((x) => x.cpuUsPerPage)))} |`);
});
