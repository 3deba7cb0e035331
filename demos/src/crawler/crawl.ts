// The crawl itself: the frontier (per-host queues, dedup, scope, depth and
// page limits), what to do with each answer (retry, follow a redirect, save,
// extract links), and the two drivers that run fetches concurrently:
// callbacks on a bare selector, or async functions on EventLoop.
import { EventLoop } from 'iomux';
import type { BaseSelector } from 'iomux';
import { DefaultSelector } from 'iomux';
import { EpollSelector } from 'iomux';
import { PollSelector } from 'iomux';
import { SelectSelector } from 'iomux';
import { ConnectionPool, hostKey, Resolver, toFetchError, type FetchedResponse, type FetchSettings } from './conn';
import { CallbackDriver, CallbackFetch } from './fetch-callbacks';
import { fetchAsync } from './fetch-async';
import { decodeBody, FetchError, header, type FailureKind } from './http';
import { extractLinks, normalizeUrl } from './links';
import { PageStore } from './output';

export type Style = 'callbacks' | 'async';
export type BackendName = 'select' | 'poll' | 'epoll';

export interface CrawlOptions {
  urls: string[];
  concurrency: number;
  perHost: number;
  connectTimeoutMs: number;
  timeoutMs: number;
  retries: number;
  backend?: BackendName;
  style: Style;
  /** null: do not save pages. */
  outDir: string | null;
  keepAlive: boolean;
  followExternal: boolean;
  maxPages: number;
  maxDepth: number;
  maxHeaderBytes: number;
  maxBodyBytes: number;
  userAgent: string;
  /** Called once per page, when its fate is known. */
  onPage?: (rec: PageRecord) => void;
}

export const DEFAULTS: Omit<CrawlOptions, 'urls'> = {
  concurrency: 50,
  perHost: 50,
  connectTimeoutMs: 5000,
  timeoutMs: 15000,
  retries: 2,
  style: 'async',
  outDir: './crawled_page',
  keepAlive: true,
  followExternal: false,
  maxPages: Infinity,
  maxDepth: Infinity,
  maxHeaderBytes: 64 * 1024,
  maxBodyBytes: 16 * 1024 * 1024,
  userAgent: 'iomux-crawler/0.1 (+https://github.com/iomux)',
};

export interface PageRecord {
  url: string;
  /** Where the last redirect led, when there was one. */
  finalUrl?: string;
  status: number | null;
  /** Decoded body size. */
  bytes: number;
  ms: number;
  error: string | null;
  kind?: FailureKind;
  depth: number;
  file?: string;
  /** The decoded body, for callers that compare runs (not written to --json). */
  body?: Buffer;
}

export interface CrawlSummary {
  pages: number;
  ok: number;
  bytes: number;
  errors: Partial<Record<FailureKind, number>>;
  statuses: Record<string, number>;
  retries: number;
  reusedConnections: number;
  newConnections: number;
  ms: number;
  pagesPerSec: number;
  style: Style;
  backend: string;
}

interface Task {
  url: URL;
  depth: number;
  start: number;
}

// Where one page is in its retries and redirects.
interface Attempt {
  task: Task;
  current: URL;
  chain: string[];
  tries: number;
}

type Step = { kind: 'fetch'; delayMs: number } | { kind: 'done'; rec: PageRecord; res?: FetchedResponse };

const RETRYABLE: ReadonlySet<FailureKind> = new Set(['refused', 'reset', 'timeout', 'connect-timeout', 'io']);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

export class Crawl {
  readonly opts: CrawlOptions;
  readonly #queues = new Map<string, Task[]>();
  readonly #active = new Map<string, number>();
  readonly #seen = new Set<string>();
  readonly #scopeHosts = new Set<string>();
  readonly #store: PageStore | null;
  readonly settings: FetchSettings;
  #accepted = 0;
  #queued = 0;
  activeCount = 0;
  readonly summary: CrawlSummary;
  #t0 = 0;

  constructor(opts: CrawlOptions) {
    this.opts = opts;
    this.#store = opts.outDir === null ? null : new PageStore(opts.outDir);
    this.settings = {
      keepAlive: opts.keepAlive,
      userAgent: opts.userAgent,
      limits: { maxHeaderBytes: opts.maxHeaderBytes, maxBodyBytes: opts.maxBodyBytes },
      connectTimeoutMs: opts.connectTimeoutMs,
      timeoutMs: opts.timeoutMs,
      pool: new ConnectionPool(),
      resolver: new Resolver(),
    };
    this.summary = {
      pages: 0, ok: 0, bytes: 0, errors: {}, statuses: {}, retries: 0, reusedConnections: 0, newConnections: 0,
      ms: 0, pagesPerSec: 0, style: opts.style, backend: '',
    };
    for (const u of opts.urls) {
      let url: URL;
      try {
        url = new URL(u);
      } catch {
        this.#record({ url: u, status: null, bytes: 0, ms: 0, error: 'not a valid URL', kind: 'malformed', depth: 0 });
        continue;
      }
      this.#scopeHosts.add(url.host);
      this.#enqueue(url, 0);
    }
  }

  get queued(): number {
    return this.#queued;
  }

  get done(): number {
    return this.summary.pages;
  }

  get errorCount(): number {
    return this.summary.pages - this.summary.ok;
  }

  /** Runs the whole crawl with the chosen style and returns the summary. */
  async run(): Promise<CrawlSummary> {
    const sel = makeSelector(this.opts.backend);
    this.summary.backend = sel.backend;
    this.#t0 = performance.now();
    try {
      if (this.opts.style === 'callbacks') await this.#runCallbacks(sel as BaseSelector<(m: number) => void>);
      else await this.#runAsync(sel);
    } finally {
      this.settings.pool.closeAll();
      sel.close();
    }
    const s = this.summary;
    s.ms = performance.now() - this.#t0;
    s.pagesPerSec = s.ms > 0 ? (s.pages * 1000) / s.ms : 0;
    s.reusedConnections = this.settings.pool.reusedCount;
    return s;
  }

  // ---- the two drivers -------------------------------------------------

  #runCallbacks(sel: BaseSelector<(m: number) => void>): Promise<void> {
    const driver = new CallbackDriver(sel);
    const startPage = (a: Attempt): void => {
      const next = (step: Step): void => {
        // pump on a microtask: pages that finish at once (https, say) must not recurse without bound.
        if (step.kind === 'done') return this.#finishPage(a, step, () => queueMicrotask(pump));
        const go = () =>
          new CallbackFetch(driver, this.settings, a.current, (err, res) => next(this.#decide(a, err, res))).start();
        if (step.delayMs > 0) driver.after(step.delayMs, go);
        else go();
      };
      next(this.#begin(a));
    };
    const pump = (): void => {
      for (let t = this.#next(); t; t = this.#next()) startPage(this.#attempt(t));
      if (this.activeCount === 0) driver.stop();
    };
    pump();
    return driver.run();
  }

  async #runAsync(sel: BaseSelector): Promise<void> {
    const loop = new EventLoop({ selector: sel });
    const page = async (a: Attempt): Promise<void> => {
      for (let step = this.#begin(a); ; ) {
        if (step.kind === 'done') return this.#finishPage(a, step, () => {});
        if (step.delayMs > 0) await loop.sleep(step.delayMs);
        try {
          step = this.#decide(a, null, await fetchAsync(loop, this.settings, a.current));
        } catch (err) {
          step = this.#decide(a, toFetchError(err), undefined);
        }
      }
    };
    await loop.run(
      () =>
        new Promise<void>((resolve, reject) => {
          const pump = (): void => {
            for (let t = this.#next(); t; t = this.#next()) {
              page(this.#attempt(t)).then(pump, reject);
            }
            if (this.activeCount === 0) resolve();
          };
          pump();
        }),
    );
    // The loop does not own sel's lifetime here: run() closes it.
  }

  // ---- what to do with an answer (shared by both styles) ---------------

  #attempt(t: Task): Attempt {
    return { task: t, current: t.url, chain: [normalizeUrl(t.url)], tries: 0 };
  }

  #begin(a: Attempt): Step {
    if (a.current.protocol !== 'http:') {
      return this.#fail(a, new FetchError('unsupported', `${a.current.protocol.slice(0, -1)} is not supported (http:// only)`));
    }
    return { kind: 'fetch', delayMs: 0 };
  }

  #decide(a: Attempt, err: FetchError | null, res: FetchedResponse | undefined): Step {
    if (err || !res) {
      const e = err ?? new FetchError('io', 'no response');
      if (RETRYABLE.has(e.kind) && a.tries < this.opts.retries) {
        a.tries++;
        this.summary.retries++;
        return { kind: 'fetch', delayMs: 50 * a.tries };
      }
      return this.#fail(a, e);
    }
    if (!res.reused) this.summary.newConnections++;
    const loc = header(res.headers, 'location');
    if (REDIRECTS.has(res.status) && loc !== undefined) {
      let target: URL;
      try {
        target = new URL(loc, a.current);
      } catch {
        return this.#fail(a, new FetchError('malformed', `bad Location ${JSON.stringify(loc)}`));
      }
      const norm = normalizeUrl(target);
      if (a.chain.includes(norm)) return this.#fail(a, new FetchError('redirect-loop', `redirect loop: ${[...a.chain, norm].join(' -> ')}`));
      if (a.chain.length > MAX_REDIRECTS) return this.#fail(a, new FetchError('too-many-redirects', `more than ${MAX_REDIRECTS} redirects`));
      // Off-scope targets and pages the crawl already knows are not fetched (again): the 3xx is the page's answer.
      if (this.#inScope(target) && !this.#seen.has(norm) && target.protocol === 'http:') {
        this.#seen.add(norm);
        a.chain.push(norm);
        a.current = target;
        a.tries = 0;
        return { kind: 'fetch', delayMs: 0 };
      }
    }
    return { kind: 'done', rec: this.#rec(a, res.status, null), res };
  }

  #fail(a: Attempt, e: FetchError): Step {
    const rec = this.#rec(a, null, e.message);
    rec.kind = e.kind;
    return { kind: 'done', rec };
  }

  #rec(a: Attempt, status: number | null, error: string | null): PageRecord {
    const rec: PageRecord = {
      url: a.task.url.href,
      status,
      bytes: 0,
      ms: Math.round((performance.now() - a.task.start) * 10) / 10,
      error,
      depth: a.task.depth,
    };
    if (a.current !== a.task.url) rec.finalUrl = a.current.href;
    return rec;
  }

  // Decode, save, extract links, count; then let the driver start more work.
  #finishPage(a: Attempt, step: Extract<Step, { kind: 'done' }>, then: () => void): void {
    const rec = step.rec;
    const res = step.res;
    if (res) {
      try {
        const body = decodeBody(res, this.opts.maxBodyBytes);
        rec.bytes = body.length;
        rec.body = body;
        if (this.#store && res.status >= 200 && res.status < 300) rec.file = this.#store.save(a.current.href, body);
        if (res.status >= 200 && res.status < 300 && a.task.depth < this.opts.maxDepth && isHtml(res.headers)) {
          for (const link of extractLinks(body.toString('utf8'), a.current)) {
            // Most links of a site point at pages already seen: check before parsing the URL again.
            if (!this.#seen.has(link)) this.#enqueue(new URL(link), a.task.depth + 1, link);
          }
        }
      } catch (err) {
        const e = err instanceof FetchError ? err : new FetchError('io', (err as Error).message);
        rec.error = e.message;
        rec.kind = e.kind;
      }
    }
    this.#active.set(hostKey(a.task.url), (this.#active.get(hostKey(a.task.url)) ?? 1) - 1);
    this.activeCount--;
    this.#record(rec);
    then();
  }

  #record(rec: PageRecord): void {
    const s = this.summary;
    s.pages++;
    if (rec.error === null) {
      s.ok++;
      s.bytes += rec.bytes;
      const k = String(rec.status);
      s.statuses[k] = (s.statuses[k] ?? 0) + 1;
    } else {
      const k = rec.kind ?? 'io';
      s.errors[k] = (s.errors[k] ?? 0) + 1;
    }
    this.opts.onPage?.(rec);
  }

  // ---- the frontier ----------------------------------------------------

  #inScope(u: URL): boolean {
    return this.opts.followExternal || this.#scopeHosts.has(u.host);
  }

  #enqueue(url: URL, depth: number, norm = normalizeUrl(url)): void {
    if (this.#seen.has(norm) || !this.#inScope(url) || this.#accepted >= this.opts.maxPages) return;
    this.#seen.add(norm);
    this.#accepted++;
    const key = hostKey(url);
    let q = this.#queues.get(key);
    if (!q) this.#queues.set(key, (q = []));
    q.push({ url: norm === url.href ? url : new URL(norm), depth, start: 0 });
    this.#queued++;
  }

  // The next task whose host has room, round-robin over hosts; undefined when none can start now.
  #next(): Task | undefined {
    if (this.activeCount >= this.opts.concurrency || this.#queued === 0) return undefined;
    for (const [key, q] of this.#queues) {
      const active = this.#active.get(key) ?? 0;
      if (q.length === 0 || active >= this.opts.perHost) continue;
      const t = q.shift()!;
      // Move this host to the back so hosts take turns.
      this.#queues.delete(key);
      if (q.length) this.#queues.set(key, q);
      this.#active.set(key, active + 1);
      this.activeCount++;
      this.#queued--;
      t.start = performance.now();
      return t;
    }
    return undefined;
  }
}

function isHtml(headers: Array<[string, string]>): boolean {
  const ct = header(headers, 'content-type');
  return ct === undefined || /^\s*(text\/html|application\/xhtml\+xml)\b/i.test(ct);
}

function makeSelector(name: BackendName | undefined): BaseSelector {
  switch (name) {
    case 'select':
      return new SelectSelector();
    case 'poll':
      return new PollSelector();
    case 'epoll':
      return new EpollSelector();
    default:
      return new DefaultSelector();
  }
}

export async function crawl(opts: CrawlOptions): Promise<CrawlSummary> {
  return new Crawl(opts).run();
}
