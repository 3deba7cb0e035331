// A real documentation tree (Debian's python3-doc HTML) served by nginx,
// crawled by wget and by iomux with the same limits: every URL wget fetches,
// iomux fetches too, bodies byte-identical to the files. Bounded to one level
// of links (wget --level=1, iomux --max-depth 1) to keep the suite quick; the
// whole tree is compared by scripts/bench/crawl-real.mjs. Without python3-doc,
// wget or nginx the test is skipped with the Debian package in its title
// (.ci/run installs them and sets IOMUX_TEST_PEERS=required: missing, it fails).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNginx, type NginxServer } from './fixtures/nginx';
import { describeUnless, HAS_NGINX, HAS_PYTHON3_DOC, HAS_WGET, PYTHON3_DOC, WHY_NO_NGINX, WHY_NO_PYTHON3_DOC, WHY_NO_WGET } from './fixtures/platform';

const BIN = path.resolve(__dirname, '../bin/iomux.js');
const DOC = PYTHON3_DOC;
// The first missing peer names itself (and its Debian package) in the title.
const WHY_SKIP = [!HAS_PYTHON3_DOC && WHY_NO_PYTHON3_DOC, !HAS_NGINX && WHY_NO_NGINX, !HAS_WGET && WHY_NO_WGET].filter(Boolean).join('; ');

let root: string;
let ng: NginxServer;
const tmpDirs: string[] = [];

function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-wget-'));
  tmpDirs.push(d);
  return d;
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  if (WHY_SKIP) return;
  if (!fs.existsSync(DOC)) throw new Error(`${DOC} is missing: apt-get install python3-doc`);
  root = fs.realpathSync(DOC);
  ng = await startNginx([{ name: 'doc', root }]);
}, 30_000);

afterAll(async () => {
  await ng?.close();
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

// The files behind the URIs one user agent fetched with status 200, robots.txt aside.
const fetchedBy = (ua: RegExp) =>
  new Set(
    ng
      .requests()
      .filter((r) => ua.test(r.ua) && r.status === 200 && r.uri !== '/robots.txt')
      .map((r) => r.uri),
  );

describeUnless(WHY_SKIP !== '', WHY_SKIP)('python3-doc via nginx: iomux fetches at least what wget --recursive --page-requisites fetches', () => {
  it('same limits, a superset of URLs, identical bodies, in both styles', async () => {
    const start = `${ng.base}/index.html`;
    const w = await run('wget', ['--recursive', '--level=1', '--page-requisites', '--no-parent', '--quiet', '-P', tmpDir(), start]);
    expect(w.code, w.stderr).toBe(0);
    const wget = fetchedBy(/^Wget/);
    expect(wget.size).toBeGreaterThan(30);
    for (const style of ['async', 'callbacks']) {
      const ua = `iomux-test-${style}/1.0`;
      const out = tmpDir();
      const r = await run(process.execPath, [BIN, 'crawl', start, '--max-depth', '1', '--style', style, '--user-agent', ua, '--layout', 'mirror', '--out', out, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const ours = fetchedBy(new RegExp(`^${ua}`));
      const missing = [...wget].filter((u) => !ours.has(u));
      expect(missing, `wget fetched these, iomux (${style}) did not`).toEqual([]);
      const extra = [...ours].filter((u) => !wget.has(u));
      // Bodies: every saved page equals the file nginx served.
      const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { url: string; status: number; file?: string });
      let compared = 0;
      for (const rec of recs.filter((x) => x.status === 200)) {
        let p = decodeURIComponent(new URL(rec.url).pathname);
        if (p.endsWith('/')) p += 'index.html';
        expect(fs.readFileSync(rec.file!).equals(fs.readFileSync(path.join(root, p))), rec.url).toBe(true);
        compared++;
      }
      expect(compared).toBe(ours.size);
      const rss = /peak RSS ([\d.]+) MiB/.exec(r.stderr);
      expect(rss, r.stderr).not.toBeNull();
      console.log(`python3-doc, one level: wget ${wget.size} URLs, iomux ${style} ${ours.size} (+${extra.length}: ${extra.slice(0, 5).join(' ')}...), peak RSS ${rss![1]} MiB`);
    }
  }, 120_000);
});
