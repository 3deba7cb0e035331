// A non-blocking listening socket on TCP (IPv4 or IPv6) or AF_UNIX. A stale
// AF_UNIX socket file (left by a server that was killed) is removed, but only
// when it is a socket and nothing accepts on it; anything else at the path is
// an error. Bind errors name the address: "bind EADDRINUSE 127.0.0.1:8801".
import { lstatSync, unlinkSync } from 'node:fs';
import { AF_INET, AF_INET6, AF_UNIX, SOL_SOCKET, SO_REUSEADDR, Socket, type Address } from 'iomux';

export type ListenAddress = { host: string; port: number } | { unix: string };

export interface Listener {
  readonly sock: Socket;
  /** The bound address: [host, port] with the real port when 0 was asked, or the AF_UNIX path. */
  readonly address: Address;
  /** Closes the socket and removes the AF_UNIX path it created. Idempotent. */
  close(): void;
}

export function formatAddress(addr: Address | ''): string {
  if (typeof addr === 'string') return addr === '' ? 'unix' : addr;
  return addr[0].includes(':') ? `[${addr[0]}]:${addr[1]}` : `${addr[0]}:${addr[1]}`;
}

/** The system error of `syscall`, re-made with the address in its message. */
function named(err: unknown, syscall: string, where: string): Error {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code !== 'string') return e as Error;
  const out = new Error(`${e.syscall ?? syscall} ${e.code} ${where}`) as NodeJS.ErrnoException;
  out.code = e.code;
  out.errno = e.errno;
  out.syscall = e.syscall ?? syscall;
  return out;
}

/** Removes `path` if it is a socket file nobody accepts on; throws if something else is there. */
function removeStaleSocket(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // nothing there
  }
  if (!st.isSocket()) {
    const e = new Error(`bind EADDRINUSE ${path} (exists and is not a socket)`) as NodeJS.ErrnoException;
    e.code = 'EADDRINUSE';
    throw e;
  }
  const probe = new Socket(AF_UNIX);
  try {
    // Non-blocking: a live server with a full backlog answers EAGAIN instead of making us wait.
    probe.setBlocking(false);
    probe.connect(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ECONNREFUSED: a socket file with no listener behind it: stale.
    if (code === 'ECONNREFUSED') {
      unlinkSync(path);
      return;
    }
    if (code !== 'EAGAIN') throw named(err, 'connect', path);
  } finally {
    probe.close();
  }
  const e = new Error(`bind EADDRINUSE ${path} (another server accepts on it)`) as NodeJS.ErrnoException;
  e.code = 'EADDRINUSE';
  throw e;
}

export function listen(where: ListenAddress, backlog = 511): Listener {
  const unix = 'unix' in where ? where.unix : undefined;
  const family = unix !== undefined ? AF_UNIX : (where as { host: string }).host.includes(':') ? AF_INET6 : AF_INET;
  const text = unix ?? formatAddress([(where as { host: string }).host, (where as { port: number }).port]);
  if (unix !== undefined) removeStaleSocket(unix);
  const sock = new Socket(family);
  try {
    // A restarted server may rebind at once while old connections sit in TIME_WAIT.
    // Not on Windows: there SO_REUSEADDR lets a second socket bind a port that
    // another one listens on (or fails EACCES against an exclusive holder), and
    // TIME_WAIT does not block a listener's bind anyway.
    if (family !== AF_UNIX && process.platform !== 'win32') sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    try {
      sock.bind(unix ?? [(where as { host: string }).host, (where as { port: number }).port]);
    } catch (err) {
      throw named(err, 'bind', text);
    }
    try {
      sock.listen(backlog);
    } catch (err) {
      throw named(err, 'listen', text);
    }
    sock.setBlocking(false);
  } catch (err) {
    sock.close();
    throw err;
  }
  const address = unix ?? sock.getsockname();
  let closed = false;
  return {
    sock,
    address,
    close() {
      if (closed) return;
      closed = true;
      sock.close();
      if (unix !== undefined) {
        try {
          unlinkSync(unix);
        } catch {
          // already gone: nothing to clean
        }
      }
    },
  };
}
