// The crawl itself: the frontier (per-host queues, dedup, scope, depth and
// page limits), what to do with each answer (retry, follow a redirect, save,
// extract links), robots.txt and politeness (when a fetch may start), and the
// two drivers that run fetches concurrently: callbacks on a bare selector, or
// async functions on EventLoop.
import fs from 'node:fs';
import { isIP } from 'node:net';
import { EventLoop } from 'iomux';
import type { BaseSelector } from 'iomux';
import { openSelector, type BackendName } from '../toolkit/backend';
import { cssEncoding, decodeText, htmlEncoding } from './charset';
import { ConnectionPool, hostKey, originKey, Resolver, toFetchError, type FetchedResponse, type FetchSettings } from './conn';
import { CallbackDriver, CallbackFetch } from './fetch-callbacks';
import { fetchAsync } from './fetch-async';
import { StreamedBody } from './body';
import { decodeBody, FetchError, header, type FailureKind, type ResponseHead, type SinkFor } from './http';
import { extractCssLinks, extractPageLinks, normalizeUrl, type FoundLink } from './links';
import { MirrorStore, PageStore, type Store } from './output';
import { parseRobots, RobotsRules } from './robots';
import { TlsContext } from './tls';

export type Style = 'callbacks' | 'async';
export type { BackendName };

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
  // ---- the real web (issue 12) ----
  /** PEM files whose CAs are trusted besides the system store. */
  caFiles: string[];
  /** No certificate or host name verification. */
  insecure: boolean;
  ignoreRobots: boolean;
  /** Between request starts to one host; undefined: 0 for loopback/private addresses, else DEFAULT_DELAY_MS. */
  delayMs?: number;
  /** robots.txt Crawl-delay is honoured up to this. */
  maxCrawlDelayMs: number;
  /** Fetch page requisites (images, scripts, stylesheets, media, CSS url()s). */
  assets: boolean;
  layout: 'flat' | 'mirror';
  /**
   * Give every page its body in PageRecord.body. Off: only parsed bodies (HTML,
   * CSS) are there; the others are streamed to disk (or counted) and never held whole.
   */
  keepBodies?: boolean;
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
  caFiles: [],
  insecure: false,
  ignoreRobots: false,
  maxCrawlDelayMs: 10_000,
  assets: true,
  layout: 'flat',
};

export const DEFAULT_DELAY_MS = 250;
/** A Retry-After longer than this is not waited for: the 429/503 is the answer. */
export const MAX_RETRY_AFTER_MS = 60_000;

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
  /** The decoded body, for callers that compare runs (not written to --json): parsed bodies, or all with keepBodies. */
  body?: Buffer;
  /** Reached as a page requisite. */
  asset?: boolean;
}

export interface CrawlSummary {
  pages: number;
  ok: number;
  bytes: number;
  errors: Partial<Record<FailureKind, number>>;
  /** One failure of each kind, "url: reason". */
  examples: Partial<Record<FailureKind, string>>;
  /** URLs robots.txt disallowed (not fetched, not pages). */
  disallowed: number;
  robotsFetches: number;
  /** Peak resident set size of the process, bytes. */
  peakRssBytes: number;
  statuses: Record<string, number>;
  retries: number;
  reusedConnections: number;
  newConnections: number;
  ms: number;
  pagesPerSec: number;
  style: Style;
  backend: string;
}

// Compact: the frontier holds strings, URLs are parsed when a task starts.
interface Task {
  url: string;
  depth: number;
  asset: boolean;
  /** hostKey, shared with the queue map. */
  key: string;
}

// Where one page is in its retries and redirects.
interface Attempt {
  task: Task;
  start: number;
  url: URL;
  current: URL;
  chain: string[];
  tries: number;
}

type Step =
  | { kind: 'fetch'; delayMs: number }
  /** Not yet (robots.txt of the origin is being fetched): call resume, then gate again. */
  | { kind: 'wait'; until: (resume: () => void) => void }
  /** robots.txt says no: not fetched, not a page. */
  | { kind: 'skip' }
  | { kind: 'done'; rec: PageRecord; res?: FetchedResponse };

type Fetcher = (url: URL, done: (err: FetchError | null, res?: FetchedResponse) => void) => void;

const RETRYABLE: ReadonlySet<FailureKind> = new Set(['refused', 'reset', 'timeout', 'connect-timeout', 'io']);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

export class Crawl {
  readonly opts: CrawlOptions;
  readonly #queues = new Map<string, Task[]>();
  readonly #active = new Map<string, number>();
  readonly #seen = new Set<string>();
  readonly #scopeHosts = new Set<string>();
  readonly #store: Store | null;
  /** Per origin: the rules, or who waits for them. */
  readonly #robots = new Map<string, RobotsRules | Array<() => void>>();
  /** Per host: the earliest time the next request may start. */
  readonly #nextSlot = new Map<string, number>();
  /** Per host: the politeness delay last computed; > 0 (or not yet known) means one request at a time. */
  readonly #hostDelay = new Map<string, number>();
  #fetch: Fetcher | undefined;
  readonly settings: FetchSettings;
  #accepted = 0;
  #queued = 0;
  activeCount = 0;
  readonly summary: CrawlSummary;
  #t0 = 0;

  constructor(opts: CrawlOptions) {
    this.opts = opts;
    this.#store = opts.outDir === null ? null : opts.layout === 'mirror' ? new MirrorStore(opts.outDir) : new PageStore(opts.outDir);
    this.settings = {
      keepAlive: opts.keepAlive,
      userAgent: opts.userAgent,
      limits: { maxHeaderBytes: opts.maxHeaderBytes, maxBodyBytes: opts.maxBodyBytes },
      connectTimeoutMs: opts.connectTimeoutMs,
      timeoutMs: opts.timeoutMs,
      pool: new ConnectionPool(),
      tlsPool: new ConnectionPool(),
      tls: new TlsContext({ extraCa: opts.caFiles.map((f) => fs.readFileSync(f, 'utf8')), verify: !opts.insecure }),
      resolver: new Resolver(),
    };
    this.summary = {
      pages: 0, ok: 0, bytes: 0, errors: {}, examples: {}, disallowed: 0, robotsFetches: 0, peakRssBytes: 0, statuses: {}, retries: 0, reusedConnections: 0, newConnections: 0,
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
      // Scope is the host name: http:// and https:// (any port) of a start host are in.
      this.#scopeHosts.add(url.hostname);
      this.#enqueue(url, 0, false);
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
    const sel = openSelector(this.opts.backend);
    this.summary.backend = sel.backend;
    this.#t0 = performance.now();
    try {
      if (this.opts.style === 'callbacks') await this.#runCallbacks(sel as BaseSelector<(m: number) => void>);
      else await this.#runAsync(sel);
    } finally {
      this.settings.pool.closeAll();
      sel.close();
    }
    return this.liveSummary();
  }

  /** The summary so far (also what Ctrl-C prints). */
  liveSummary(): CrawlSummary {
    const s = this.summary;
    s.ms = performance.now() - this.#t0;
    s.pagesPerSec = s.ms > 0 ? (s.pages * 1000) / s.ms : 0;
    s.reusedConnections = this.settings.pool.reusedCount + this.settings.tlsPool.reusedCount;
    s.peakRssBytes = process.resourceUsage().maxRSS * 1024;
    return s;
  }

  // ---- the two drivers -------------------------------------------------

  #runCallbacks(sel: BaseSelector<(m: number) => void>): Promise<void> {
    const driver = new CallbackDriver(sel);
    this.#fetch = (url, done) => new CallbackFetch(driver, this.settings, url, done).start();
    const startPage = (a: Attempt): void => {
      const next = (step: Step): void => {
        // pump on a microtask: pages that finish at once must not recurse without bound.
        if (step.kind === 'done' || step.kind === 'skip') return this.#finishPage(a, step, () => queueMicrotask(pump));
        if (step.kind === 'wait') return step.until(() => next(this.#gate(a)));
        const go = () =>
          new CallbackFetch(driver, this.settings, a.current, (err, res) => next(this.#decide(a, err, res)), this.#sinkFor(a.current)).start();
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
    this.#fetch = (url, done) => fetchAsync(loop, this.settings, url).then((r) => done(null, r), (e: unknown) => done(toFetchError(e)));
    const page = async (a: Attempt): Promise<void> => {
      for (let step = this.#begin(a); ; ) {
        if (step.kind === 'done' || step.kind === 'skip') return this.#finishPage(a, step, () => {});
        if (step.kind === 'wait') {
          const { until } = step;
          await new Promise<void>((resume) => until(resume));
          step = this.#gate(a);
          continue;
        }
        if (step.delayMs > 0) await loop.sleep(step.delayMs);
        try {
          step = this.#decide(a, null, await fetchAsync(loop, this.settings, a.current, this.#sinkFor(a.current)));
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

  // Where a page's body goes as it arrives. Kept in memory (bounded by --max-body): bodies to
  // parse for links (HTML, CSS), answers that are not 2xx (never saved: redirects, errors,
  // 429s), and encoded ones (gzip is decoded whole). Every other body is streamed to its file,
  // or counted and dropped with --no-save.
  #sinkFor(url: URL): SinkFor {
    return (head: ResponseHead) => {
      if (head.status < 200 || head.status >= 300) return undefined;
      const enc = (header(head.headers, 'content-encoding') ?? 'identity').toLowerCase().trim();
      if (enc !== 'identity' && enc !== '') return undefined;
      const ct = header(head.headers, 'content-type');
      if (isHtml(ct) || isCss(ct)) return undefined;
      const store = this.#store;
      return new StreamedBody(store && (() => store.open(url.href, ct)), this.opts.keepBodies === true);
    };
  }

  #attempt(t: Task): Attempt {
    const url = new URL(t.url);
    return { task: t, start: performance.now(), url, current: url, chain: [t.url], tries: 0 };
  }

  #begin(a: Attempt): Step {
    return this.#gate(a);
  }

  // Whether and when a.current may be fetched: scheme, robots.txt, the host's next free slot.
  #gate(a: Attempt): Step {
    const u = a.current;
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      return this.#fail(a, new FetchError('unsupported', `${u.protocol.slice(0, -1)} is not supported (http:// and https:// only)`));
    }
    if (!this.opts.ignoreRobots) {
      const origin = originKey(u);
      const r = this.#robots.get(origin);
      if (!(r instanceof RobotsRules)) return { kind: 'wait', until: (resume) => this.#loadRobots(origin, u, resume) };
      if (!r.allowed(u.pathname + u.search)) {
        this.summary.disallowed++;
        return { kind: 'skip' };
      }
    }
    const host = hostKey(u);
    const delay = this.#delayFor(u);
    this.#hostDelay.set(host, delay);
    const now = performance.now();
    const slot = Math.max(now, this.#nextSlot.get(host) ?? 0);
    if (delay > 0 || this.#nextSlot.has(host)) this.#nextSlot.set(host, slot + delay);
    return { kind: 'fetch', delayMs: slot - now };
  }

  // The next request to u's host starts no sooner than its delay from now (a response just ended).
  #spaceAfter(u: URL): void {
    const host = hostKey(u);
    const delay = this.#delayFor(u);
    this.#hostDelay.set(host, delay);
    if (delay > 0) this.#nextSlot.set(host, Math.max(this.#nextSlot.get(host) ?? 0, performance.now() + delay));
  }

  #delayFor(u: URL): number {
    const base = this.opts.delayMs ?? (isLocalHost(u.hostname) ? 0 : DEFAULT_DELAY_MS);
    const r = this.opts.ignoreRobots ? undefined : this.#robots.get(originKey(u));
    const cd = r instanceof RobotsRules && r.crawlDelay !== undefined ? Math.min(r.crawlDelay * 1000, this.opts.maxCrawlDelayMs) : 0;
    return Math.max(base, cd);
  }

  // robots.txt once per origin, before its first page; pages of the origin wait for it.
  #loadRobots(origin: string, u: URL, resume: () => void): void {
    const st = this.#robots.get(origin);
    if (Array.isArray(st)) return void st.push(resume);
    if (st) return resume();
    const waiters = [resume];
    this.#robots.set(origin, waiters);
    this.#fetchRobots(new URL('/robots.txt', u), 0, (rules) => {
      this.#robots.set(origin, rules);
      this.#spaceAfter(u); // robots.txt was a request to the host too
      for (const w of waiters) w();
    });
  }

  // RFC 9309 2.3.1: redirects followed (up to five), 4xx = no rules, 5xx = everything disallowed.
  #fetchRobots(url: URL, hops: number, done: (r: RobotsRules) => void): void {
    this.summary.robotsFetches++;
    this.#fetch!(url, (err, res) => {
      if (err || !res) {
        // Unreachable server: the pages would fail the same way, so let them, with their own reason
        // (a tls error shows as tls, not as "disallowed"); a server that answers garbage is 5xx-like.
        const connectFailure = err && ['dns', 'refused', 'tls', 'connect-timeout', 'unsupported'].includes(err.kind);
        return done(connectFailure ? RobotsRules.allowAll() : RobotsRules.disallowAll());
      }
      if (!res.reused) this.summary.newConnections++;
      const loc = header(res.headers, 'location');
      if (REDIRECTS.has(res.status) && loc !== undefined && hops < MAX_REDIRECTS) {
        try {
          return this.#fetchRobots(new URL(loc, url), hops + 1, done);
        } catch {
          return done(RobotsRules.allowAll());
        }
      }
      if (res.status >= 200 && res.status < 300) {
        try {
          return done(parseRobots(decodeBody(res, 1024 * 1024).toString('utf8'), this.opts.userAgent));
        } catch {
          return done(RobotsRules.allowAll());
        }
      }
      // 429 is "come back later", treated like 5xx as the big crawlers do.
      if (res.status >= 500 || res.status === 429) return done(RobotsRules.disallowAll());
      done(RobotsRules.allowAll());
    });
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
    if ((res.status === 429 || res.status === 503) && a.tries < this.opts.retries) {
      const wait = retryAfterMs(header(res.headers, 'retry-after')) ?? 1000 * 2 ** a.tries;
      if (wait <= MAX_RETRY_AFTER_MS) {
        a.tries++;
        this.summary.retries++;
        // The whole host waits, not only this page.
        const host = hostKey(a.current);
        this.#nextSlot.set(host, Math.max(this.#nextSlot.get(host) ?? 0, performance.now() + wait));
        return this.#gate(a);
      }
    }
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
      if (this.#inScope(target) && !this.#seen.has(norm) && (target.protocol === 'http:' || target.protocol === 'https:')) {
        this.#seen.add(norm);
        a.chain.push(norm);
        a.current = target;
        a.tries = 0;
        return this.#gate(a);
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
      url: a.url.href,
      status,
      bytes: 0,
      ms: Math.round((performance.now() - a.start) * 10) / 10,
      error,
      depth: a.task.depth,
    };
    if (a.task.asset) rec.asset = true;
    if (a.current !== a.url) rec.finalUrl = a.current.href;
    return rec;
  }

  // Decode, save, extract links, count; then let the driver start more work.
  #finishPage(a: Attempt, step: Extract<Step, { kind: 'done' } | { kind: 'skip' }>, then: () => void): void {
    const key = a.task.key;
    this.#active.set(key, (this.#active.get(key) ?? 1) - 1);
    this.activeCount--;
    if (step.kind === 'done' && step.res) this.#spaceAfter(a.current);
    if (step.kind === 'skip') return then();
    const rec = step.rec;
    const res = step.res;
    if (res?.sink instanceof StreamedBody) {
      const sink = res.sink;
      rec.bytes = sink.bytes;
      const kept = sink.body();
      if (kept) rec.body = kept;
      if (sink.file !== undefined) rec.file = sink.file;
      if (sink.error) {
        rec.error = sink.error.message;
        rec.kind = 'io';
      }
    } else if (res) {
      try {
        const body = decodeBody(res, this.opts.maxBodyBytes);
        rec.bytes = body.length;
        rec.body = body;
        const ok = res.status >= 200 && res.status < 300;
        const ct = header(res.headers, 'content-type');
        if (this.#store && ok) rec.file = this.#store.save(a.current.href, body, ct);
        if (ok) this.#follow(a, ct, body);
      } catch (err) {
        const e = err instanceof FetchError ? err : new FetchError('io', (err as Error).message);
        rec.error = e.message;
        rec.kind = e.kind;
      }
    }
    this.#record(rec);
    then();
  }

  // Links of an HTML page or a stylesheet into the frontier. Requisites of a page are fetched
  // even at --max-depth (as wget's --page-requisites), but not requisites of requisites beyond it.
  #follow(a: Attempt, ct: string | undefined, body: Buffer): void {
    const depth = a.task.depth;
    const pagesToo = depth < this.opts.maxDepth;
    const css = isCss(ct);
    const assetsToo = this.opts.assets && (!a.task.asset || pagesToo || css);
    if (!pagesToo && !assetsToo) return;
    let links: FoundLink[];
    if (isHtml(ct)) {
      const enc = htmlEncoding(ct, body);
      links = extractPageLinks(decodeText(body, enc), a.current, enc);
    } else if (css) {
      const enc = cssEncoding(ct, body);
      links = extractCssLinks(decodeText(body, enc), a.current, enc);
    } else return;
    for (const link of links) {
      if (link.asset ? !assetsToo : !pagesToo) continue;
      // Most links of a site point at pages already seen: check before parsing the URL again.
      if (!this.#seen.has(link.url)) this.#enqueue(new URL(link.url), depth + 1, link.asset, link.url);
    }
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
      s.examples[k] ??= `${rec.url}: ${rec.error}`;
    }
    this.opts.onPage?.(rec);
  }

  // ---- the frontier ----------------------------------------------------

  #inScope(u: URL): boolean {
    return this.opts.followExternal || this.#scopeHosts.has(u.hostname);
  }

  #enqueue(url: URL, depth: number, asset: boolean, norm = normalizeUrl(url)): void {
    if (this.#seen.has(norm) || !this.#inScope(url) || this.#accepted >= this.opts.maxPages) return;
    this.#seen.add(norm);
    this.#accepted++;
    let key = hostKey(url);
    let q = this.#queues.get(key);
    if (!q) this.#queues.set(key, (q = []));
    else key = this.#keyOf.get(key) ?? key;
    this.#keyOf.set(key, key);
    q.push({ url: norm, depth, asset, key });
    this.#queued++;
  }

  // One string per host key, shared by all its tasks.
  readonly #keyOf = new Map<string, string>();

  // The next task whose host has room, round-robin over hosts; undefined when none can start now.
  #next(): Task | undefined {
    if (this.activeCount >= this.opts.concurrency || this.#queued === 0) return undefined;
    for (const [key, q] of this.#queues) {
      const active = this.#active.get(key) ?? 0;
      // A polite host (delay > 0), or one whose delay is not known yet (robots.txt pending), gets one request at a time.
      const delay = this.#hostDelay.get(key);
      const limit = delay === undefined ? (this.opts.ignoreRobots && this.opts.delayMs === undefined ? this.opts.perHost : 1) : delay > 0 ? 1 : this.opts.perHost;
      if (q.length === 0 || active >= limit) continue;
      const t = q.shift()!;
      // Move this host to the back so hosts take turns.
      this.#queues.delete(key);
      if (q.length) this.#queues.set(key, q);
      this.#active.set(key, active + 1);
      this.activeCount++;
      this.#queued--;
      return t;
    }
    return undefined;
  }
}

function isHtml(ct: string | undefined): boolean {
  return ct === undefined || /^\s*(text\/html|application\/xhtml\+xml)\b/i.test(ct);
}

function isCss(ct: string | undefined): boolean {
  return ct !== undefined && /^\s*text\/css\b/i.test(ct);
}

/** Retry-After as delay-seconds or an HTTP-date, in ms; undefined when absent or unreadable. */
export function retryAfterMs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const when = Date.parse(t);
  return Number.isNaN(when) ? undefined : Math.max(0, when - Date.now());
}

/** Loopback, private and link-local addresses (and localhost): no politeness delay by default. */
export function isLocalHost(hostname: string): boolean {
  const h = hostname.startsWith('[') ? hostname.slice(1, -1).toLowerCase() : hostname.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const v = isIP(h);
  if (v === 4) {
    const [a, b] = h.split('.').map(Number);
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  if (v === 6) return h === '::1' || /^f[cd]/.test(h) || /^fe[89ab]/.test(h);
  return false;
}

export async function crawl(opts: CrawlOptions): Promise<CrawlSummary> {
  return new Crawl(opts).run();
}
