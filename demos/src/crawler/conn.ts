// What both fetchers share: settings, the keep-alive pool, name resolution
// and the mapping of system errors to failure kinds.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AF_INET, AF_INET6, type Socket } from 'iomux';
import { FetchError, type FailureKind, type ParsedResponse, type ParserLimits } from './http';
import type { TlsConn, TlsContext } from './tls';

export interface FetchSettings {
  keepAlive: boolean;
  userAgent: string;
  limits: ParserLimits;
  connectTimeoutMs: number;
  timeoutMs: number;
  pool: ConnectionPool<Socket>;
  /** Idle TLS connections, keyed the same way (by origin). */
  tlsPool: ConnectionPool<TlsConn>;
  tls: TlsContext;
  resolver: Resolver;
}

export interface FetchedResponse extends ParsedResponse {
  /** The request went out on a pooled keep-alive connection. */
  reused: boolean;
}

/** Idle keep-alive connections by origin (originKey). Busy ones are not here; per-host limits are the scheduler's job. */
export class ConnectionPool<C extends { close(): void }> {
  readonly #idle = new Map<string, C[]>();
  created = 0;
  reusedCount = 0;

  take(key: string): C | undefined {
    const list = this.#idle.get(key);
    const s = list?.pop();
    if (s) this.reusedCount++;
    return s;
  }

  give(key: string, sock: C): void {
    let list = this.#idle.get(key);
    if (!list) this.#idle.set(key, (list = []));
    list.push(sock);
  }

  /** Drops an idle connection the server closed. */
  remove(key: string, sock: C): void {
    const list = this.#idle.get(key);
    const i = list ? list.indexOf(sock) : -1;
    if (i >= 0) list!.splice(i, 1);
  }

  closeAll(): void {
    for (const list of this.#idle.values()) for (const s of list) s.close();
    this.#idle.clear();
  }
}

/** dns.promises lookups, one per host name for the whole crawl. */
export class Resolver {
  readonly #cache = new Map<string, Promise<{ address: string; family: number }>>();

  resolve(hostname: string): Promise<{ address: string; family: number }> {
    const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    const v = isIP(bare);
    if (v) return Promise.resolve({ address: bare, family: v === 6 ? AF_INET6 : AF_INET });
    let p = this.#cache.get(bare);
    if (!p) {
      p = lookup(bare).then(
        (r) => ({ address: r.address, family: r.family === 6 ? AF_INET6 : AF_INET }),
        (err: NodeJS.ErrnoException) => {
          this.#cache.delete(bare); // a transient failure may be retried
          throw new FetchError('dns', `cannot resolve ${bare}: ${err.code ?? err.message}`);
        },
      );
      this.#cache.set(bare, p);
    }
    return p;
  }
}

/** Host and port: the unit of per-host limits and politeness. */
export function hostKey(url: URL): string {
  return `${url.hostname}:${port(url)}`;
}

/** Scheme, host and port: connections are pooled (and robots.txt applies) per origin. */
export function originKey(url: URL): string {
  return `${url.protocol}//${url.hostname}:${port(url)}`;
}

export function port(url: URL): number {
  return Number(url.port || (url.protocol === 'https:' ? '443' : '80'));
}

/** Any thrown value as a FetchError with a kind. */
export function toFetchError(err: unknown): FetchError {
  if (err instanceof FetchError) return err;
  const cause = (err as { cause?: unknown })?.cause;
  if (cause instanceof FetchError) return cause; // an AbortError carrying the reason we aborted with
  const code = (err as { code?: string })?.code;
  const msg = err instanceof Error ? err.message : String(err);
  const kinds: Record<string, FailureKind> = {
    ECONNREFUSED: 'refused',
    ECONNRESET: 'reset',
    EPIPE: 'reset',
    ECONNABORTED: 'reset',
    ETIMEDOUT: 'timeout',
    EHOSTUNREACH: 'refused',
    ENETUNREACH: 'refused',
  };
  return new FetchError((code && kinds[code]) || 'io', msg);
}

/**
 * A request on a reused connection that fails before any response byte most
 * likely met a server that had just closed the idle connection: try once more
 * on a fresh one (what browsers and Node's Agent do).
 */
export function staleConnection(err: FetchError, reused: boolean, started: boolean): boolean {
  return reused && !started && (err.kind === 'reset' || err.kind === 'malformed');
}

/** Idle in the pool until taken, or dropped as soon as the server closes it. */
export function poolTls(settings: FetchSettings, key: string, conn: TlsConn): void {
  conn.watchIdle(() => {
    settings.tlsPool.remove(key, conn);
    conn.close();
  });
  settings.tlsPool.give(key, conn);
}
