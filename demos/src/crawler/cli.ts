// `iomux crawl URL... [options]`: options, progress on stderr, --json lines,
// and the final summary. Flags, help and exit codes are ../toolkit/cli.ts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { summaryText, UsageError, type CommandSpec, type FlagValues } from '../toolkit/cli';
import { Crawl, DEFAULT_DELAY_MS, DEFAULTS, type BackendName, type CrawlOptions, type CrawlSummary, type PageRecord, type Style } from './crawl';

const STYLES: readonly Style[] = ['callbacks', 'async'];

export const command: CommandSpec = {
  name: 'crawl',
  usage: 'URL... [options]',
  about: 'Crawls http:// and https:// sites with raw non-blocking sockets on a selector.',
  positionals: true,
  flags: {
    concurrency: { type: 'int', min: 1, help: `fetches in flight at once (default ${DEFAULTS.concurrency})` },
    'per-host': { type: 'int', min: 1, help: 'connections per host at once (default: same as --concurrency)' },
    'connect-timeout': { type: 'duration', help: `dns + connect limit (default ${DEFAULTS.connectTimeoutMs} ms)` },
    timeout: { type: 'duration', help: `request + response limit (default ${DEFAULTS.timeoutMs} ms)` },
    retries: { type: 'int', help: `retries after refused/reset/timeout (default ${DEFAULTS.retries})` },
    backend: { type: 'backend', help: "the selector (default: the platform's best)" },
    style: { type: STYLES, help: `driver style (default ${DEFAULTS.style})` },
    out: { type: 'string', arg: 'DIR', help: 'save pages here, one file each (default ./crawled_page)' },
    'no-save': { type: 'bool', help: 'do not save pages' },
    json: { type: 'bool', help: 'one JSON line per page on stdout (url, status, bytes, ms, error)' },
    'no-keepalive': { type: 'bool', help: 'Connection: close on every request' },
    'follow-external': { type: 'bool', help: 'leave the start hosts' },
    'max-pages': { type: 'int', min: 1, help: 'stop after N pages' },
    'max-depth': { type: 'int', help: 'follow links at most N hops from a start URL' },
    'max-body': { type: 'size', min: 1, help: `body size limit (default ${DEFAULTS.maxBodyBytes} bytes)` },
    // ---- the real web: TLS, robots.txt, politeness, assets, layout ----
    ca: { type: 'string', arg: 'FILE', help: 'also trust the CA certificates in FILE (PEM)' },
    insecure: { type: 'bool', help: 'do not verify TLS certificates or host names (said once on stderr)' },
    'user-agent': { type: 'string', arg: 'UA', help: `sent, and matched against robots.txt groups (default ${DEFAULTS.userAgent})` },
    'ignore-robots': { type: 'bool', help: 'do not fetch or obey robots.txt' },
    delay: {
      type: 'duration',
      min: 0,
      help: `between requests to one host (default 0 for loopback/private addresses, else ${DEFAULT_DELAY_MS} ms);\nrobots.txt Crawl-delay is honoured up to ${DEFAULTS.maxCrawlDelayMs / 1000} s`,
    },
    'no-assets': { type: 'bool', help: 'pages only: no images, scripts, stylesheets, media' },
    layout: { type: ['flat', 'mirror'], help: 'flat (one file per URL) | mirror (host/path tree) (default flat)' },
  },
  check({ positionals }) {
    if (positionals.length === 0) throw new UsageError('give at least one URL');
  },
  run: ({ values, positionals }, ctx) => {
    const opts = options(values, positionals);
    return rerunWithSmallYoungGeneration(ctx.signal) ?? crawlMain(opts, values.json === true, ctx.signal);
  },
};

function options(v: FlagValues, urls: string[]): CrawlOptions {
  const concurrency = (v.concurrency as number | undefined) ?? DEFAULTS.concurrency;
  return {
    ...DEFAULTS,
    urls,
    concurrency,
    perHost: (v['per-host'] as number | undefined) ?? concurrency,
    connectTimeoutMs: (v['connect-timeout'] as number | undefined) ?? DEFAULTS.connectTimeoutMs,
    timeoutMs: (v.timeout as number | undefined) ?? DEFAULTS.timeoutMs,
    retries: (v.retries as number | undefined) ?? DEFAULTS.retries,
    backend: v.backend as BackendName | undefined,
    style: (v.style as Style | undefined) ?? DEFAULTS.style,
    outDir: v['no-save'] ? null : ((v.out as string | undefined) ?? DEFAULTS.outDir),
    keepAlive: !v['no-keepalive'],
    followExternal: !!v['follow-external'],
    maxPages: (v['max-pages'] as number | undefined) ?? DEFAULTS.maxPages,
    maxDepth: (v['max-depth'] as number | undefined) ?? DEFAULTS.maxDepth,
    maxBodyBytes: (v['max-body'] as number | undefined) ?? DEFAULTS.maxBodyBytes,
    ...realWebOptions(v),
  };
}

// ---- the real web (issue 12): TLS, robots.txt, politeness, assets, layout ----
function realWebOptions(v: FlagValues): Partial<CrawlOptions> {
  const caFiles = v.ca === undefined ? [] : [v.ca as string];
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
    delayMs: v.delay as number | undefined,
    assets: !v['no-assets'],
    layout: (v.layout as 'flat' | 'mirror' | undefined) ?? DEFAULTS.layout,
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
  const robots: Array<[string, string]> = s.robotsFetches
    ? [['robots.txt', `${plural(s.robotsFetches, 'fetch', 'fetches')}, ${plural(s.disallowed ?? 0, 'URL')} disallowed`]]
    : [];
  const rss = s.peakRssBytes ? `; peak RSS ${(s.peakRssBytes / 1048576).toFixed(1)} MiB` : '';
  return summaryText(
    `crawled ${plural(s.pages, 'page')} (${s.ok} ok, ${s.pages - s.ok} failed) in ${(s.ms / 1000).toFixed(2)} s: ${s.pagesPerSec.toFixed(1)} pages/s, ${plural(s.bytes, 'byte')}`,
    [
      ['statuses', statuses],
      ['errors', errs],
      ...robots,
      ['connections', `${s.newConnections} new, ${s.reusedConnections} reused; ${plural(s.retries, 'retry', 'retries')}; style ${s.style}, backend ${s.backend}${rss}`],
    ],
  ) + '\n';
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

// A crawl allocates fast enough that V8 grows the young generation to 3 x 16 MiB;
// 4 MiB semi-spaces keep the peak RSS about 30 MiB lower at the same speed
// (docs/crawl.md). Heap flags only count at start, so once the flags are known
// good, the CLI runs the same command once more with the flag. The child has
// its own process group, so a terminal's Ctrl-C reaches it once, through here.
const SEMI_SPACE_FLAG = '--max-semi-space-size=4';

function rerunWithSmallYoungGeneration(signal: AbortSignal): Promise<number> | undefined {
  if (process.platform === 'win32' || process.env.IOMUX_CRAWL_NO_RERUN) return undefined;
  if (process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) return undefined;
  // Only when started as `iomux crawl ...`, not when the command runs inside other code.
  const entry = process.argv[1];
  if (!entry || !/iomux(\.js)?$/.test(entry) || process.argv[2] !== 'crawl') return undefined;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, SEMI_SPACE_FLAG, entry, ...process.argv.slice(2)], { stdio: 'inherit', detached: true });
    const forward = () => child.kill(signal.reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT');
    const orphaned = () => child.kill('SIGKILL');
    signal.addEventListener('abort', forward, { once: true });
    process.once('exit', orphaned);
    child.on('exit', (code, sig) => {
      signal.removeEventListener('abort', forward);
      process.off('exit', orphaned);
      resolve(code ?? (sig === 'SIGTERM' ? 143 : 130));
    });
  });
}

async function crawlMain(opts: CrawlOptions, json: boolean, signal: AbortSignal): Promise<number> {
  opts.onPage = (rec: PageRecord) => {
    if (json) {
      const line = { url: rec.url, status: rec.status, bytes: rec.bytes, ms: rec.ms, error: rec.error, ...(rec.kind ? { kind: rec.kind } : {}), ...(rec.finalUrl ? { finalUrl: rec.finalUrl } : {}), ...(rec.file ? { file: rec.file } : {}) };
      process.stdout.write(JSON.stringify(line) + '\n');
    }
  };
  if (opts.insecure) process.stderr.write('iomux crawl: --insecure: TLS certificates and host names are NOT verified\n');
  const crawl = new Crawl(opts);
  const progress = new Progress(crawl);
  // SIGINT/SIGTERM: report what was done so far, then exit as an interrupted program does.
  const onStop = () => {
    progress.stop();
    // liveSummary: the reused count lives in the pools until the crawl ends.
    process.stderr.write(`interrupted\n${formatSummary(crawl.liveSummary())}`);
    process.exit(signal.reason === 'SIGTERM' ? 143 : 130);
  };
  signal.addEventListener('abort', onStop, { once: true });
  try {
    const summary = await crawl.run();
    progress.stop();
    (json ? process.stderr : process.stdout).write(formatSummary(summary));
    return summary.pages > 0 && summary.ok === 0 ? 1 : 0;
  } finally {
    progress.stop();
    signal.removeEventListener('abort', onStop);
  }
}
