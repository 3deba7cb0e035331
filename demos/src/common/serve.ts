// What the chat and HTTP servers share around their loops: choosing a selector
// by name, a non-blocking listening socket, and SIGINT/SIGTERM as an abort.
import type { BaseSelector, Ready } from 'iomux';
import { DefaultSelector } from 'iomux';
import { EpollSelector } from 'iomux';
import { PollSelector } from 'iomux';
import { SelectSelector } from 'iomux';
import { AF_INET, AF_INET6, SOL_SOCKET, SO_REUSEADDR, Socket, type Address } from 'iomux';

export type BackendName = 'select' | 'poll' | 'epoll';

export function openSelector<T>(backend?: string): BaseSelector<T> {
  switch (backend) {
    case undefined:
      return new DefaultSelector<T>();
    case 'select':
      return new SelectSelector<T>();
    case 'poll':
      return new PollSelector<T>();
    case 'epoll':
      return new EpollSelector<T>();
    default:
      throw new RangeError(`--backend must be select, poll or epoll, got ${JSON.stringify(backend)}`);
  }
}

export function listenOn(host: string, port: number, backlog = 511): Socket {
  const sock = new Socket(host.includes(':') ? AF_INET6 : AF_INET);
  try {
    // A restarted server may rebind at once while old connections sit in TIME_WAIT.
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    sock.bind([host, port]);
    sock.listen(backlog);
    sock.setBlocking(false);
  } catch (err) {
    sock.close();
    throw err;
  }
  return sock;
}

export function formatAddress(addr: string | [string, number]): string {
  if (typeof addr === 'string') return addr;
  return addr[0].includes(':') ? `[${addr[0]}]:${addr[1]}` : `${addr[0]}:${addr[1]}`;
}

/** An AbortSignal that SIGINT and SIGTERM fire; call the returned dispose when done. */
export function signalStop(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => ac.abort(sig);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Error codes that mean "the peer went away", not a server fault. */
export function isPeerGone(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT' || code === 'ENOTCONN' || code === 'EHOSTUNREACH';
}

/** accept(2) ran out of descriptors: back off instead of spinning on a readable listener. */
export function isOutOfFds(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'EMFILE' || code === 'ENFILE' || code === 'ENOBUFS' || code === 'ENOMEM';
}

export interface AcceptFailure {
  code: string;
  /** EMFILE/ENFILE/ENOBUFS/ENOMEM: expected under load, not a server fault. */
  outOfFds: boolean;
  error: Error;
}

/**
 * Accepts up to `max` pending connections from a non-blocking listener (so an
 * accept storm cannot starve established connections) and hands each to
 * `admit`. A peer that gave up between SYN and accept is skipped. On any other
 * failure the pending connection stays readable, so retrying at once would
 * spin: the failure is returned for the caller to stop watching the listener a
 * while. Returns undefined when the queue is drained or `max` was reached.
 */
export function acceptBurst(listener: Socket, max: number, admit: (sock: Socket, peer: Address) => void): AcceptFailure | undefined {
  for (let i = 0; i < max; i++) {
    let accepted: [Socket, Address] | null;
    try {
      accepted = listener.accept();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'UNKNOWN';
      if (code === 'ECONNABORTED' || code === 'EPROTO' || code === 'EPERM') continue;
      return { code, outOfFds: isOutOfFds(err), error: err as Error };
    }
    if (accepted === null) return undefined;
    admit(accepted[0], accepted[1]);
  }
  return undefined;
}

/**
 * One wait of a serve loop: selectAsync() that reads an abort of `signal` as
 * "stop" (null) rather than an error, so the loop can end cleanly.
 */
export async function selectOrStop<T>(sel: BaseSelector<T>, timeoutMs: number | null, signal?: AbortSignal): Promise<Ready<T> | null> {
  try {
    return await sel.selectAsync(timeoutMs, { signal });
  } catch (err) {
    if (signal?.aborted) return null;
    throw err;
  }
}
