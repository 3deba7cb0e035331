// Bodies the crawler does not parse are streamed to disk as they arrive:
// a large asset costs no more memory than a small one (peak RSS of a child
// `iomux crawl`), lands byte-identical, and a fetch that fails mid-body
// (server gone, --max-body passed) leaves no file under any name.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Crawl, DEFAULTS, type CrawlOptions, type PageRecord, type Style } from '../src/crawler/crawl';
import { startRaw } from './fixtures/crawl-servers';

const BIN = path.resolve(__dirname, '../bin/iomux.js');
const BIG = 50 * 1024 * 1024;
const HUGE = 150 * 1024 * 1024;
const PIECE = 64 * 1024;

// Deterministic, incompressible-looking bytes: 1 MiB of a sha256 chain, made once; piece i is
// one 64 KiB slice of it stamped with i, so a lost, repeated or reordered piece changes the digest.
const PATTERN = (() => {
  const out = Buffer.alloc(16 * PIECE);
  let h = createHash('sha256').update('iomux').digest();
  for (let off = 0; off < out.length; off += h.length) {
    h.copy(out, off);
    h = createHash('sha256').update(h).digest();
  }
  return out;
})();

function piece(i: number): Buffer {
  const p = Buffer.from(PATTERN.subarray((i % 16) * PIECE, (i % 16 + 1) * PIECE));
  p.writeUInt32BE(i, 0);
  return p;
}

function bigDigest(size: number): string {
  const h = createHash('sha256');
  for (let i = 0; i * PIECE < size; i++) h.update(piece(i).subarray(0, Math.min(PIECE, size - i * PIECE)));
  return h.digest('hex');
}

// Writes size bytes of the pattern, honouring back-pressure.
function sendBig(res: http.ServerResponse, size: number): void {
  let i = 0;
  const more = (): void => {
    while (i * PIECE < size) {
      const p = piece(i).subarray(0, Math.min(PIECE, size - i * PIECE));
      i++;
      if (!res.write(p)) return void res.once('drain', more);
    }
    res.end();
  };
  more();
}

let site: http.Server;
let base = '';
let raw: Awaited<ReturnType<typeof startRaw>>;
const tmpDirs: string[] = [];

function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-stream-'));
  tmpDirs.push(d);
  return d;
}

beforeAll(async () => {
  site = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const size = Number(url.searchParams.get('size') ?? BIG);
    if (url.pathname === '/') {
      res.setHeader('Content-Type', 'text/html');
      return res.end(`<!doctype html><img src="/asset.bin?size=${url.searchParams.get('size') ?? BIG}">`);
    }
    if (url.pathname === '/chunked/') {
      res.setHeader('Content-Type', 'text/html');
      return res.end(`<!doctype html><video src="/chunked/media.bin?size=${size}"></video>`);
    }
    if (url.pathname === '/asset.bin' || url.pathname === '/chunked/media.bin') {
      res.setHeader('Content-Type', 'application/octet-stream');
      // Content-Length for one, chunked (Node's default without it) for the other.
      if (url.pathname === '/asset.bin') res.setHeader('Content-Length', size);
      return sendBig(res, size);
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(site.address() as net.AddressInfo).port}`;

  const head = (extra: string) => `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n${extra}\r\n`;
  raw = await startRaw({
    // Promises a megabyte, sends 300 KB, hangs up.
    '/dies-cl.bin': (s) => {
      s.write(head('Content-Length: 1000000\r\n'));
      s.write(Buffer.alloc(300_000, 7), () => s.destroy());
    },
    // Chunked, gone in the middle of a chunk.
    '/dies-chunked.bin': (s) => {
      s.write(head('Transfer-Encoding: chunked\r\n'));
      s.write(`10000\r\n${'x'.repeat(65536)}\r\n10000\r\n${'y'.repeat(1000)}`, () => s.destroy());
    },
    // Each chunk fits the limit, their sum does not.
    '/over-chunked.bin': (s) => {
      s.write(head('Transfer-Encoding: chunked\r\n'));
      let out = '';
      for (let i = 0; i < 20; i++) out += `4000\r\n${'z'.repeat(0x4000)}\r\n`;
      s.end(`${out}0\r\n\r\n`);
    },
    // No framing: the body runs until the close, past the limit.
    '/over-close.bin': (s) => {
      s.write(head('Connection: close\r\n'));
      s.end(Buffer.alloc(300_000, 1));
    },
    '/small.bin': Buffer.from(`${head('Content-Length: 5\r\nConnection: close\r\n')}small`),
  });
});

afterAll(async () => {
  await new Promise<void>((r) => site?.close(() => r()));
  site?.closeAllConnections();
  await raw?.close();
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

// Every file under dir (hidden temporaries too), relative.
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath ?? (d as unknown as { path: string }).path, d.name)));
}

function fileDigest(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    fs.createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'crawl', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function peakRssMiB(summary: string): number {
  const m = /peak RSS ([\d.]+) MiB/.exec(summary);
  if (!m) throw new Error(`no peak RSS in ${JSON.stringify(summary)}`);
  return Number(m[1]);
}

async function crawlWith(urls: string[], opts: Partial<CrawlOptions>) {
  const pages: PageRecord[] = [];
  const summary = await new Crawl({ ...DEFAULTS, outDir: null, ignoreRobots: true, connectTimeoutMs: 2000, timeoutMs: 5000, retries: 0, ...opts, urls, onPage: (r) => pages.push(r) }).run();
  return { pages, summary, byUrl: new Map(pages.map((p) => [p.url, p])) };
}

const STYLES: Style[] = ['callbacks', 'async'];

describe('crawler: 50 and 150 MiB assets are streamed, not buffered (child iomux crawl, peak RSS)', () => {
  let baseline = 0;

  beforeAll(async () => {
    // The same crawl with a 5-byte asset: what the process costs without the body.
    const out = tmpDir();
    const r = await runCli([`${base}/?size=5`, '--out', out, '--style', 'async', '--max-body', String(2 * HUGE)]);
    expect(r.code, r.stderr).toBe(0);
    baseline = peakRssMiB(r.stdout);
  }, 60_000);

  it.each([
    ['callbacks', 'flat', '/', 'Content-Length', BIG],
    ['async', 'mirror', '/chunked/', 'chunked', BIG],
    ['callbacks', 'mirror', '/chunked/', 'chunked', HUGE],
    ['async', 'flat', '/', 'Content-Length', HUGE],
  ] as const)('--style %s --layout %s (%s, %s body of %i bytes): byte-identical on disk, peak RSS well under the body size', async (style, layout, start, _framing, size) => {
    const out = tmpDir();
    const r = await runCli([`${base}${start}?size=${size}`, '--out', out, '--style', style, '--layout', layout, '--max-body', String(2 * HUGE)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 pages/);
    const files = filesUnder(out);
    expect(files).toHaveLength(2); // the page and the asset, no temporaries left
    const asset = files.map((f) => path.join(out, f)).find((f) => fs.statSync(f).size === size);
    expect(asset, files.join(' ')).toBeDefined();
    if (layout === 'mirror') expect(path.relative(out, asset!).split(path.sep).join('/')).toMatch(/^127\.0\.0\.1_\d+\/chunked\/media\.bin@size=\d+$/);
    expect(await fileDigest(asset!)).toBe(bigDigest(size));
    const rss = peakRssMiB(r.stdout);
    console.log(`${size / 1048576} MiB asset, --style ${style} --layout ${layout}: peak RSS ${rss} MiB (the same crawl with a 5-byte asset: ${baseline} MiB)`);
    // Streamed through one reused receive buffer, the cost does not grow with the body (+2 to
    // +5 MiB here for 50 and 150 MiB alike). Buffered whole, the body alone would add its size
    // (twice that while its pieces are joined: +100 and +300 MiB before streaming).
    expect(rss).toBeLessThan(baseline + 20);
  }, 120_000);
});

describe.each(STYLES)('crawler streaming, --style %s', (style) => {
  it.each(['flat', 'mirror'] as const)('a server that dies mid-body leaves no file (--layout %s)', async (layout) => {
    const out = tmpDir();
    const urls = [`${raw.base}/dies-cl.bin`, `${raw.base}/dies-chunked.bin`];
    const { byUrl } = await crawlWith(urls, { style, layout, outDir: out });
    for (const u of urls) expect(byUrl.get(u), u).toMatchObject({ error: expect.stringMatching(/closed before the response was complete/), kind: 'malformed' });
    expect(byUrl.get(urls[0])!.file).toBeUndefined();
    expect(filesUnder(out)).toEqual([]);
  });

  it.each(['flat', 'mirror'] as const)('--max-body passed mid-stream leaves no file (--layout %s)', async (layout) => {
    const out = tmpDir();
    const urls = [`${raw.base}/over-chunked.bin`, `${raw.base}/over-close.bin`, `${raw.base}/small.bin`];
    const { byUrl } = await crawlWith(urls, { style, layout, outDir: out, maxBodyBytes: 100_000 });
    for (const u of urls.slice(0, 2)) expect(byUrl.get(u), u).toMatchObject({ kind: 'too-large', error: expect.stringMatching(/larger than 100000 bytes/) });
    // The one that fits is saved, and is the only file.
    expect(byUrl.get(urls[2])).toMatchObject({ status: 200, error: null, bytes: 5 });
    expect(filesUnder(out)).toEqual([path.relative(out, byUrl.get(urls[2])!.file!)]);
    expect(fs.readFileSync(byUrl.get(urls[2])!.file!, 'utf8')).toBe('small');
  });

  it('--no-save: an unparsed body is counted and dropped, not kept', async () => {
    const size = 3 * 1024 * 1024 + 17;
    const { byUrl, summary } = await crawlWith([`${base}/?size=${size}`], { style });
    const asset = byUrl.get(`${base}/asset.bin?size=${size}`)!;
    expect(asset).toMatchObject({ status: 200, error: null, bytes: size, asset: true });
    expect(asset.body).toBeUndefined();
    expect(asset.file).toBeUndefined();
    // The page was parsed (that is how the asset was found) and keeps its body.
    expect(byUrl.get(`${base}/?size=${size}`)!.body!.toString()).toContain('asset.bin');
    expect(summary).toMatchObject({ pages: 2, ok: 2 });
  });

  it('keepBodies: the streamed body is also in the record, equal to the file', async () => {
    const size = 1024 * 1024 + 3;
    const out = tmpDir();
    const { byUrl } = await crawlWith([`${base}/chunked/?size=${size}`], { style, outDir: out, keepBodies: true });
    const asset = byUrl.get(`${base}/chunked/media.bin?size=${size}`)!;
    expect(asset).toMatchObject({ status: 200, error: null, bytes: size });
    expect(createHash('sha256').update(asset.body!).digest('hex')).toBe(bigDigest(size));
    expect(fs.readFileSync(asset.file!).equals(asset.body!)).toBe(true);
  });
});
