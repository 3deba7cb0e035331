// `iomux crawl URL... [options]`: options, progress on stderr, --json lines,
// and the final summary.
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { Crawl, DEFAULT_DELAY_MS, DEFAULTS, type BackendName, type CrawlOptions, type CrawlSummary, type PageRecord, type Style } from './crawl';

const USAGE = `usage: iomux crawl URL... [options]

Crawls http:// and https:// sites with raw non-blocking sockets on a selector.

options:
  --concurrency N       fetches in flight at once (default ${DEFAULTS.concurrency})
  --per-host N          connections per host at once (default: same as --concurrency)
  --connect-timeout MS  dns + connect limit (default ${DEFAULTS.connectTimeoutMs})
  --timeout MS          request + response limit (default ${DEFAULTS.timeoutMs})
  --retries N           retries after refused/reset/timeout (default ${DEFAULTS.retries})
  --backend B           select | poll | epoll (default: the platform's best)
  --style S             callbacks | async (default ${DEFAULTS.style})
  --out DIR             save pages here, one file each (default ./crawled_page)
  --no-save             do not save pages
  --json                one JSON line per page on stdout (url, status, bytes, ms, error)
  --no-keepalive        Connection: close on every request
  --follow-external     leave the start hosts
  --max-pages N         stop after N pages
  --max-depth N         follow links at most N hops from a start URL
  --max-body BYTES      body size limit (default ${DEFAULTS.maxBodyBytes})

the real web:
  --ca FILE             also trust the CA certificates in FILE (PEM; repeatable)
  --insecure            do not verify TLS certificates or host names
  --user-agent UA       sent, and matched against robots.txt groups (default ${DEFAULTS.userAgent})
  --ignore-robots       do not fetch or obey robots.txt
  --delay MS            between requests to one host (default 0 for loopback/private
                        addresses, else ${DEFAULT_DELAY_MS}); robots.txt Crawl-delay is honoured
                        up to ${DEFAULTS.maxCrawlDelayMs / 1000} s
  --no-assets           pages only: no images, scripts, stylesheets, media
  --layout L            flat (one file per URL) | mirror (host/path tree) (default flat)
  -h, --help            this text
`;

class UsageError extends Error {}

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return Number(v);
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

export function parseOptions(argv: string[]): CrawlOptions | 'help' {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      concurrency: { type: 'string' },
      'per-host': { type: 'string' },
      'connect-timeout': { type: 'string' },
      timeout: { type: 'string' },
      retries: { type: 'string' },
      backend: { type: 'string' },
      style: { type: 'string' },
      out: { type: 'string' },
      'no-save': { type: 'boolean' },
      json: { type: 'boolean' },
      'no-keepalive': { type: 'boolean' },
      'follow-external': { type: 'boolean' },
      'max-pages': { type: 'string' },
      'max-depth': { type: 'string' },
      'max-body': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      // ---- the real web (issue 12) ----
      ca: { type: 'string', multiple: true },
      insecure: { type: 'boolean' },
      'user-agent': { type: 'string' },
      'ignore-robots': { type: 'boolean' },
      delay: { type: 'string' },
      'no-assets': { type: 'boolean' },
      layout: { type: 'string' },
    },
  });
  if (v.help) return 'help';
  if (positionals.length === 0) throw new UsageError('give at least one URL');
  const concurrency = int('concurrency', v.concurrency, 1) ?? DEFAULTS.concurrency;
  return {
    ...DEFAULTS,
    urls: positionals,
    concurrency,
    perHost: int('per-host', v['per-host'], 1) ?? concurrency,
    connectTimeoutMs: int('connect-timeout', v['connect-timeout'], 1) ?? DEFAULTS.connectTimeoutMs,
    timeoutMs: int('timeout', v.timeout, 1) ?? DEFAULTS.timeoutMs,
    retries: int('retries', v.retries, 0) ?? DEFAULTS.retries,
    backend: oneOf<BackendName>('backend', v.backend, ['select', 'poll', 'epoll']),
    style: oneOf<Style>('style', v.style, ['callbacks', 'async']) ?? DEFAULTS.style,
    outDir: v['no-save'] ? null : (v.out ?? DEFAULTS.outDir),
    keepAlive: !v['no-keepalive'],
    followExternal: !!v['follow-external'],
    maxPages: int('max-pages', v['max-pages'], 1) ?? DEFAULTS.maxPages,
    maxDepth: int('max-depth', v['max-depth'], 0) ?? DEFAULTS.maxDepth,
    maxBodyBytes: int('max-body', v['max-body'], 1) ?? DEFAULTS.maxBodyBytes,
    ...realWebOptions(v),
  };
}

// ---- the real web (issue 12): TLS, robots.txt, politeness, assets, layout ----
function realWebOptions(v: Record<string, string | boolean | string[] | undefined>): Partial<CrawlOptions> {
  const caFiles = (v.ca as string[] | undefined) ?? [];
  for (const f of caFiles) {
    let pem: string;
    try {
      pem = fs.readFileSync(f, 'utf8');
    } catch (err) {
      throw new UsageError(`--ca ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca ${f}: no PEM certificate in it`);
  }
  const ua = v['user-agent'] as string | undefined;
  if (ua !== undefined && (ua.trim() === '' || /[\r\n]/.test(ua))) throw new UsageError('--user-agent must be one non-empty line');
  return {
    caFiles,
    insecure: !!v.insecure,
    userAgent: ua ?? DEFAULTS.userAgent,
    ignoreRobots: !!v['ignore-robots'],
    delayMs: int('delay', v.delay as string | undefined, 0),
    assets: !v['no-assets'],
    layout: oneOf<'flat' | 'mirror'>('layout', v.layout as string | undefined, ['flat', 'mirror']) ?? DEFAULTS.layout,
  };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function formatSummary(s: CrawlSummary): string {
  // Each failure kind with one example: "tls 3 (https://x/: self-signed certificate)".
  const errs =
    Object.entries(s.errors)
      .map(([k, n]) => `${k} ${n}${s.examples?.[k as keyof typeof s.examples] ? ` (${s.examples[k as keyof typeof s.examples]})` : ''}`)
      .join(', ') || 'none';
  const statuses = Object.entries(s.statuses).sort().map(([k, n]) => `${k}×${n}`).join(' ') || '-';
  const robots = s.robotsFetches ? `  robots.txt: ${plural(s.robotsFetches, 'fetch', 'fetches')}, ${plural(s.disallowed ?? 0, 'URL')} disallowed\n` : '';
  const rss = s.peakRssBytes ? `; peak RSS ${(s.peakRssBytes / 1048576).toFixed(1)} MiB` : '';
  return (
    `crawled ${plural(s.pages, 'page')} (${s.ok} ok, ${s.pages - s.ok} failed) in ${(s.ms / 1000).toFixed(2)} s: ` +
    `${s.pagesPerSec.toFixed(1)} pages/s, ${plural(s.bytes, 'byte')}\n` +
    `  statuses: ${statuses}\n  errors: ${errs}\n${robots}` +
    `  connections: ${s.newConnections} new, ${s.reusedConnections} reused; ${plural(s.retries, 'retry', 'retries')}; style ${s.style}, backend ${s.backend}${rss}\n`
  );
}

// A bar redrawn in place on a TTY; a plain line a second otherwise.
class Progress {
  readonly #tty: boolean;
  #timer: NodeJS.Timeout | undefined;
  readonly #t0 = performance.now();
  constructor(private readonly crawl: Crawl) {
    this.#tty = !!process.stderr.isTTY;
    this.#timer = setInterval(() => this.draw(), this.#tty ? 100 : 1000);
    this.#timer.unref();
  }
  draw(): void {
    const c = this.crawl;
    const total = c.done + c.queued + c.activeCount;
    const rate = (c.done * 1000) / Math.max(1, performance.now() - this.#t0);
    const text = `${c.done}/${total} done, ${c.activeCount} active, ${c.queued} queued, ${rate.toFixed(1)} pages/s, ${c.errorCount} errors`;
    if (this.#tty) {
      const width = 30;
      const filled = total ? Math.round((c.done / total) * width) : 0;
      process.stderr.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
    } else process.stderr.write(`crawl: ${text}\n`);
  }
  stop(): void {
    clearInterval(this.#timer);
    if (this.#tty) process.stderr.write('\r\x1b[K');
  }
}

// V8 grows the young generation to 3 × 16 MiB under a crawl's allocation rate;
// 4 MiB semi-spaces keep the peak RSS about 30 MiB lower at the same speed
// (docs/crawl.md). Heap flags only count at start, so the CLI runs itself once
// more with the flag, passing signals on.
const SEMI_SPACE_FLAG = '--max-semi-space-size=4';

function rerunWithSmallYoungGeneration(argv: string[]): Promise<number> | undefined {
  if (process.execArgv.some((a) => a.startsWith('--max-semi-space-size')) || process.env.IOMUX_CRAWL_NO_RERUN) return undefined;
  // Only when started as `iomux crawl ...` (not when main() is called from other code).
  const entry = process.argv[1];
  if (!entry || !/iomux(\.js)?$/.test(entry) || process.argv[2] !== 'crawl') return undefined;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, SEMI_SPACE_FLAG, entry, 'crawl', ...argv], { stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? (signal === 'SIGINT' ? 130 : 1));
    });
  });
}

export async function main(argv: string[]): Promise<number> {
  const rerun = argv.includes('-h') || argv.includes('--help') ? undefined : rerunWithSmallYoungGeneration(argv);
  if (rerun) return rerun;
  let opts: CrawlOptions | 'help';
  try {
    opts = parseOptions(argv);
  } catch (err) {
    process.stderr.write(`iomux crawl: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const json = argv.includes('--json');
  opts.onPage = (rec: PageRecord) => {
    if (json) {
      const line = { url: rec.url, status: rec.status, bytes: rec.bytes, ms: rec.ms, error: rec.error, ...(rec.kind ? { kind: rec.kind } : {}), ...(rec.finalUrl ? { finalUrl: rec.finalUrl } : {}), ...(rec.file ? { file: rec.file } : {}) };
      process.stdout.write(JSON.stringify(line) + '\n');
    }
  };
  if (opts.insecure) process.stderr.write('iomux crawl: --insecure: TLS certificates and host names are NOT verified\n');
  const crawl = new Crawl(opts);
  const progress = new Progress(crawl);
  // Ctrl-C: report what was done so far, then exit as an interrupted program does.
  const onSigint = () => {
    progress.stop();
    // liveSummary: the reused count lives in the pools until the crawl ends.
    process.stderr.write(`interrupted\n${formatSummary(crawl.liveSummary())}`);
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    const summary = await crawl.run();
    progress.stop();
    (json ? process.stderr : process.stdout).write(formatSummary(summary));
    return summary.pages > 0 && summary.ok === 0 ? 1 : 0;
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
  }
}
