// What the four crawlers (06-09) share and what is not their lesson: the
// command line, the local site, the HTTP request and response, the links of a
// page, the bookkeeping of which URLs are done, and the summary. Each example
// only says how the I/O waits.
import { AF_INET, getaddrinfo, SOCK_STREAM } from 'iomux';
import { startSite } from './site';

export class Crawl {
  readonly seen = new Set<string>();
  readonly todo = new Set<string>();
  fetched = 0;
  failed = 0;
  private readonly t0 = performance.now();
  private readonly cpu0 = process.cpuUsage();
  constructor(readonly host: string, readonly address: [string, number], readonly quiet: boolean) {}

  /** The request for one path, HTTP/1.1 with `Connection: close`: the response ends at EOF. */
  request(path: string): Buffer {
    return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${this.host}:${this.address[1]}\r\nConnection: close\r\n\r\n`);
  }

  /** Marks a new path as to do; false if it was seen before. */
  add(path: string): boolean {
    if (this.seen.has(path)) return false;
    this.seen.add(path);
    this.todo.add(path);
    return true;
  }

  /** One URL is finished: its whole response (read to EOF), or why it failed. Returns the new paths it links to. */
  done(path: string, response: Buffer | Error): string[] {
    this.todo.delete(path);
    try {
      if (response instanceof Error) throw response;
      const { status, reason, body } = parse(response);
      if (status !== 200) throw new Error(`${status} ${reason}`);
      this.fetched++;
      if (!this.quiet) console.log(`fetched ${path} (${body.length} bytes)`);
      const links = [...body.toString('latin1').matchAll(/href="([^"#]*)"/g)].map((m) => new URL(m[1], `http://${this.host}${path}`));
      return links.filter((u) => u.host === `${this.host}:${this.address[1]}` || u.host === this.host).map((u) => u.pathname + u.search).filter((p) => this.add(p));
    } catch (err) {
      this.failed++;
      console.log(`failed ${path}: ${(err as Error).message}`);
      return [];
    }
  }

  /** The last line: how many, how long, how much CPU (example 09's --compare reads it). */
  summary(): void {
    const ms = performance.now() - this.t0;
    const cpu = process.cpuUsage(this.cpu0);
    console.log(`${this.fetched} fetched, ${this.failed} failed in ${ms.toFixed(1)} ms, CPU ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms`);
    process.exitCode = this.fetched > 0 ? 0 : 1;
  }
}

/** Status line, headers and body of a whole response; an error if the connection closed before the end. */
function parse(raw: Buffer): { status: number; reason: string; body: Buffer } {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(raw.length === 0 ? 'connection closed with no response' : `connection closed in the headers after ${raw.length} bytes`);
  const [statusLine, ...headers] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
  if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine.slice(0, 40))}`);
  const body = raw.subarray(end + 4);
  const length = headers.find((h) => /^content-length:/i.test(h));
  if (headers.some((h) => /^transfer-encoding:/i.test(h))) throw new Error('chunked responses are not handled by these examples');
  if (length && Number(length.split(':')[1]) !== body.length) throw new Error(`connection closed mid-response: ${body.length} of ${Number(length.split(':')[1])} body bytes`);
  return { status: Number(m[1]), reason: m[2], body };
}

/**
 * The command line of 06-09: `[URL] [--port P] [--pages N] [--quiet]`. With no URL the example
 * starts the local site (on port P, any free one by default) and crawls it. Bad input (a port
 * that is taken, a host that does not resolve, a bad URL) is one line on stderr and exit 1.
 */
export function crawlMain(run: (crawl: Crawl, start: string) => void | Promise<void>): void {
  (async () => {
    const args = process.argv.slice(2);
    const opt = (name: string) => (args.includes(name) ? args.splice(args.indexOf(name), 2)[1] : undefined);
    const port = Number(opt('--port') ?? 0);
    const pages = Number(opt('--pages') ?? 30);
    const quiet = args.includes('--quiet') ? (args.splice(args.indexOf('--quiet'), 1), true) : false;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${port}`);
    let url: URL;
    let stop = () => {};
    if (args[0] !== undefined) {
      try { url = new URL(args[0]); } catch { throw new Error(`bad URL ${JSON.stringify(args[0])}`); }
      if (url.protocol !== 'http:') throw new Error(`only http:// URLs: ${url.href}`);
    } else {
      const site = await startSite({ port, pages });
      stop = site.stop;
      url = new URL(`http://127.0.0.1:${site.ports[0]}/`);
    }
    try {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      // Resolved once, up front (blocking, like Python): a name that does not resolve is bad input.
      const [info] = getaddrinfo(host, null, { family: AF_INET, type: SOCK_STREAM });
      const crawl = new Crawl(url.hostname, [(info.address as [string, number])[0], Number(url.port || 80)], quiet);
      crawl.add(url.pathname + url.search);
      await run(crawl, url.pathname + url.search);
      crawl.summary();
    } finally {
      stop();
    }
  })().catch((err: Error) => {
    console.error(`error: ${err.message}`);
    process.exit(1);
  });
}
