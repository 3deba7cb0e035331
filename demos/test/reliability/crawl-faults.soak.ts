// `iomux crawl` against a server that stalls, resets, or never stops sending:
// every URL gets exactly one result of the right kind, the crawl ends by
// itself within its time limits, endless bodies are cut at --max-body, and
// the crawler's memory stays bounded. Every backend, both styles.
// Knob: RELIABILITY_CRAWL_BACKENDS (quick: epoll only).
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { BIN, rssKiB, sleep } from '../fixtures/echo-harness';
import { QUICK, record } from './common';

const BACKENDS = (process.env.RELIABILITY_CRAWL_BACKENDS ?? (QUICK ? 'epoll' : 'select,poll,epoll')).split(',');
const TIMEOUT_MS = 1500;
const RETRIES = 1;
const MAX_BODY = 1 << 20;
const GOOD = 30;

// What each faulty path does, and the failure kind the crawler must report for it.
const FAULTS: Record<string, { kind: string; serve(s: net.Socket, stats: Stats): void }> = {
  '/stall-head': { kind: 'timeout', serve: () => {} },
  '/stall-body': { kind: 'timeout', serve: (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nContent-Type: text/html\r\n\r\n<html>') },
  '/drip': {
    // A byte every 50 ms forever: only the total time limit can stop it.
    kind: 'timeout',
    serve: (s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n');
      const t = setInterval(() => s.write('x'), 50);
      s.on('close', () => clearInterval(t));
    },
  },
  '/reset-early': { kind: 'reset', serve: (s) => s.resetAndDestroy() },
  '/reset-mid': {
    kind: 'reset',
    serve: (s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n<html><body>half');
      setTimeout(() => s.resetAndDestroy(), 20);
    },
  },
  '/endless-close': { kind: 'too-large', serve: (s, st) => endless(s, st, 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n', (b) => b) },
  '/endless-chunked': {
    kind: 'too-large',
    serve: (s, st) => endless(s, st, 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n', (b) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')])),
  },
  '/endless-headers': { kind: 'too-large', serve: (s, st) => endless(s, st, 'HTTP/1.1 200 OK\r\n', () => Buffer.from('X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(200))) },
  '/huge-length': { kind: 'too-large', serve: (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 999999999999999\r\n\r\nabc') },
  '/huge-chunk': { kind: 'too-large', serve: (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\nabc') },
  // Past 2^53: the parser may call it malformed rather than too large; either way nothing is allocated.
  '/overflow-chunk': { kind: 'malformed|too-large', serve: (s) => s.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1${'0'.repeat(30)}\r\nabc`) },
  '/garbage': { kind: 'malformed', serve: (s) => s.end('SSH-2.0-OpenSSH_9.2\r\n\r\n') },
};

interface Stats {
  endlessBytes: number;
  endlessOpen: number;
}

/** Writes body pieces as fast as the client takes them, until it goes away. */
function endless(s: net.Socket, st: Stats, head: string, frame: (b: Buffer) => Buffer): void {
  const piece = frame(Buffer.alloc(16 * 1024, 'y'));
  st.endlessOpen++;
  s.once('close', () => st.endlessOpen--);
  s.write(head);
  const more = () => {
    while (!s.destroyed && s.write(piece)) st.endlessBytes += piece.length;
    if (!s.destroyed) s.once('drain', more);
  };
  more();
}

async function startFaultSite(): Promise<{ base: string; stats: Stats; close(): Promise<void> }> {
  const stats: Stats = { endlessBytes: 0, endlessOpen: 0 };
  const socks = new Set<net.Socket>();
  const server = net.createServer((s) => {
    socks.add(s);
    s.on('close', () => socks.delete(s));
    s.on('error', () => {});
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const p = buf.split(' ')[1];
      buf = buf.slice(end + 4);
      const fault = FAULTS[p];
      if (fault) return fault.serve(s, stats);
      const links = p === '/' ? [...Object.keys(FAULTS), ...Array.from({ length: GOOD }, (_, i) => `/good-${i}`)] : ['/'];
      const body = `<html><body>${links.map((l) => `<a href="${l}">${l}</a>`).join(' ')}</body></html>`;
      s.write(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((r) => {
        for (const s of socks) s.destroy();
        server.close(() => r());
      }),
  };
}

describe.each(BACKENDS)('crawl faults on %s', (backend) => {
  for (const style of ['async', 'callbacks']) {
    it(`${style}: stalls, resets and endless bodies end in their limits, the crawl finishes`, { timeout: 120_000 }, async () => {
      const site = await startFaultSite();
      // Worst case: each stalled fetch takes its timeout once per try.
      const bound = (TIMEOUT_MS + 200) * (RETRIES + 1) * 3 + 20_000;
      try {
        const args = [`${site.base}/`, '--backend', backend, '--style', style, '--json', '--no-save', '--timeout', String(TIMEOUT_MS), '--connect-timeout', '1000',
          '--retries', String(RETRIES), '--max-body', String(MAX_BODY), '--concurrency', '8'];
        const child = spawn(process.execPath, [BIN, 'crawl', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        let maxRss = 0;
        const sampler = setInterval(() => {
          try {
            const r = rssKiB(child.pid!);
            if (Number.isFinite(r)) maxRss = Math.max(maxRss, r); // NaN once it is a zombie
          } catch {
            // Exited between two samples.
          }
        }, 50);
        const killer = setTimeout(() => child.kill('SIGKILL'), bound);
        const t0 = Date.now();
        const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (c, s) => r({ code: c, signal: s })));
        const seconds = (Date.now() - t0) / 1000;
        clearInterval(sampler);
        clearTimeout(killer);
        await sleep(200);
        expect(signal, `crawl killed after ${bound} ms; stderr:\n${stderr}`).toBeNull();
        expect(code === 0 || code === 1, `exit ${code}: ${stderr}`).toBe(true);
        const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
        const byPath = new Map<string, any[]>();
        for (const l of lines) {
          const p = new URL(l.url).pathname;
          byPath.set(p, [...(byPath.get(p) ?? []), l]);
        }
        for (const [p, f] of Object.entries(FAULTS)) {
          const got = byPath.get(p);
          expect(got?.length, `${p}: ${JSON.stringify(got)}`).toBe(1);
          expect(f.kind.split('|'), `${p}: ${JSON.stringify(got![0])}`).toContain(got![0].kind);
        }
        for (let i = 0; i < GOOD; i++) expect(byPath.get(`/good-${i}`)?.[0]?.status, `/good-${i}`).toBe(200);
        // The crawler closed every endless stream (the server saw them go) and kept its memory.
        expect(site.stats.endlessOpen).toBe(0);
        expect(maxRss).toBeLessThan(256 * 1024);
        record('crawl-faults', {
          backend, style, pages: lines.length, faults: Object.keys(FAULTS).length, seconds: Number(seconds.toFixed(1)), boundSeconds: bound / 1000,
          kinds: Object.fromEntries(Object.keys(FAULTS).map((p) => [p, byPath.get(p)![0].kind])), endlessBytesServed: site.stats.endlessBytes,
          maxBodyBytes: MAX_BODY, crawlerMaxRssKiB: maxRss,
        });
      } finally {
        await site.close();
      }
    });
  }
});
