// `iomux crawl` as users run it (the built CLI, after tsc) against
// python3 -m http.server, a server we did not write, plus the Node site.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPython, startSite, type SiteServer } from './fixtures/crawl-servers';
import { runCrawl as run } from './fixtures/demo-proc';
import { describeUnless, HAS_PYTHON3, itPosixSignals, itUnless, WHY_NO_PYTHON3 } from './fixtures/platform';

const BIN = path.resolve(__dirname, '../bin/iomux.js');
let py: Awaited<ReturnType<typeof startPython>>;
let site: SiteServer;
const tmpDirs: string[] = [];

beforeAll(async () => {
  [py, site] = await Promise.all([HAS_PYTHON3 ? startPython(25) : undefined!, startSite()]);
});

afterAll(async () => {
  await py?.close();
  await site?.close();
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-crawlcli-'));
  tmpDirs.push(d);
  return d;
}

interface Line {
  url: string;
  status: number | null;
  bytes: number;
  ms: number;
  error: string | null;
  kind?: string;
  file?: string;
}

const lines = (out: string): Line[] => out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);

describeUnless(!HAS_PYTHON3, WHY_NO_PYTHON3)('iomux crawl (CLI) on python3 -m http.server', () => {
  it('crawls the generated tree completely with both styles, the same bytes as on disk', async () => {
    const results: Record<string, Map<string, Buffer>> = {};
    for (const style of ['callbacks', 'async']) {
      const out = path.join(tmpDir(), 'pages');
      const r = await run([`${py.base}/`, '--style', style, '--json', '--out', out, '--concurrency', '10', '--backend', style === 'async' ? 'poll' : 'epoll']);
      expect(r.code, r.stderr).toBe(0);
      const ls = lines(r.stdout);
      // Every page of the tree, plus "/" (python serves index.html there).
      const urls = new Set(ls.map((l) => l.url));
      for (const f of py.files.filter((f) => f !== 'index.html')) expect(urls.has(`${py.base}/${f}`), f).toBe(true);
      expect(ls.every((l) => l.status === 200 && l.error === null)).toBe(true);
      expect(urls.size).toBe(ls.length); // each page once
      const bodies = new Map<string, Buffer>();
      for (const l of ls) {
        const body = fs.readFileSync(l.file!);
        expect(l.bytes).toBe(body.length);
        const rel = new URL(l.url).pathname.slice(1);
        if (rel.endsWith('.html')) expect(body.equals(fs.readFileSync(path.join(py.root, rel))), rel).toBe(true);
        bodies.set(l.url, body);
      }
      expect(r.stderr).toMatch(new RegExp(`crawled ${ls.length} pages \\(${ls.length} ok, 0 failed\\)`));
      expect(r.stderr).toContain(`style ${style}`);
      results[style] = bodies;
    }
    expect(results.async).toEqual(results.callbacks);
  });
});

describe('iomux crawl (CLI) options and output', () => {
  it('prints a summary on stdout, no terminal codes when stderr is not a TTY, saves to ./crawled_page by default', async () => {
    const cwd = tmpDir();
    const r = await run([`${site.base}/g/0`, '--max-pages', '12', '--per-host', '3'], cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/crawled 12 pages \(12 ok, 0 failed\) in [\d.]+ s: [\d.]+ pages\/s/);
    expect(r.stdout).toMatch(/errors: none/);
    expect(r.stderr).not.toMatch(/\x1b\[/); // no terminal control codes into a pipe
    expect(fs.readdirSync(path.join(cwd, 'crawled_page')).length).toBe(12);
  });

  it('reports an unsupported scheme and a TLS failure per URL and goes on; --no-save writes nothing', async () => {
    const cwd = tmpDir();
    const r = await run([`ftp://127.0.0.1:${site.port}/`, `https://127.0.0.1:${site.port}/`, `${site.base}/cl`, '--json', '--no-save'], cwd);
    expect(r.code).toBe(0);
    const ls = lines(r.stdout);
    expect(ls).toHaveLength(3);
    expect(ls.find((l) => l.url.startsWith('ftp:'))).toMatchObject({ status: null, kind: 'unsupported', error: expect.stringMatching(/not supported/) });
    // TLS to a plain http server: the handshake fails, a per-URL error of kind tls.
    expect(ls.find((l) => l.url.startsWith('https:'))).toMatchObject({ status: null, kind: 'tls' });
    expect(ls.find((l) => l.url.endsWith('/cl'))).toMatchObject({ status: 200, bytes: 11, error: null });
    expect(r.stderr).toMatch(/errors: .*unsupported 1 \(ftp:\/\/127\.0\.0\.1:\d+\/: ftp is not supported[^)]*\)/);
    expect(r.stderr).toMatch(/errors: .*tls 1 \(https:\/\/127\.0\.0\.1:\d+\/: /);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  itUnless(!HAS_PYTHON3, `${WHY_NO_PYTHON3} (its pty module)`)('draws a progress bar in place when stderr is a terminal', async () => {
    // python3's pty module gives the crawler a real terminal; everything it writes comes back on our stdout.
    const cmd = [process.execPath, BIN, 'crawl', `${site.base}/cl`, `${site.base}/slow`, '--timeout', '400', '--retries', '0', '--no-save'];
    const py = `import pty, sys; sys.exit(pty.spawn(${JSON.stringify(cmd)}) >> 8)`;
    const out = await new Promise<string>((resolve) => {
      const child = spawn('python3', ['-c', py], { stdio: ['pipe', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('exit', () => {
        clearTimeout(killer);
        resolve(text);
      });
    });
    expect(out).toMatch(/\r\x1b\[K\[[#.]{30}\] \d+\/2 done, \d+ active, 0 queued, [\d.]+ pages\/s, \d+ errors/);
    expect(out).toMatch(/crawled 2 pages \(1 ok, 1 failed\)/);
  });

  itPosixSignals('Ctrl-C prints the summary so far and exits 130', async () => {
    const child = spawn(process.execPath, [BIN, 'crawl', `${site.base}/cl`, `${site.base}/slow`, '--timeout', '20000', '--no-save'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    try {
      // The plain progress line (once a second) shows the crawl is under way and waiting on /slow.
      await new Promise<void>((r) => child.stderr.on('data', () => stderr.includes('1 active') && r()));
      const t0 = performance.now();
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(stderr).toMatch(/interrupted\ncrawled 1 page \(1 ok, 0 failed\)/);
      // robots.txt opened the one connection; /cl then /slow went out on it (the first Ctrl-C summaries said 0 reused).
      expect(stderr).toMatch(/connections: 1 new, 2 reused/);
    } finally {
      clearTimeout(killer);
      child.kill('SIGKILL');
    }
  });

  it('exits 2 with usage for bad options, 0 for --help, 1 when every page failed', async () => {
    const bad = await run(['--concurrency', 'lots', 'http://x/']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--concurrency must be an integer/);
    expect((await run(['--style', 'threads', 'http://x/'])).code).toBe(2);
    expect((await run([])).code).toBe(2);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--no-keepalive/);
    const allBad = await run(['https://127.0.0.1:1/', '--no-save']);
    expect(allBad.code).toBe(1);
  });
});
