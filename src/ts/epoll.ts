// epoll(7), as Python's select.epoll (Linux; elsewhere the constructor throws ENOSYS).
import { invalidArgType, outOfRange } from './argerrors';
import { native, type NativeEpoll, type Timeout } from './binding';
import { iomuxError } from './errors';
import { FD_SETSIZE } from './select';
import { toFd, type FileLike } from './filelike';
import { ResultsBuffer } from './interest';

const c = native.epollConstants;
/** epoll event: readable (data, a pending accept, or EOF). */
export const EPOLLIN: number = c.EPOLLIN ?? 0x001;
/** epoll event: writable. */
export const EPOLLOUT: number = c.EPOLLOUT ?? 0x004;
/** epoll event: urgent (out-of-band) data to read. */
export const EPOLLPRI: number = c.EPOLLPRI ?? 0x002;
/** epoll event: an error on the fd (always reported, never needs asking for). */
export const EPOLLERR: number = c.EPOLLERR ?? 0x008;
/** epoll event: hang-up (always reported). */
export const EPOLLHUP: number = c.EPOLLHUP ?? 0x010;
/** epoll event: the peer shut down its writing side (stream sockets). */
export const EPOLLRDHUP: number = c.EPOLLRDHUP ?? 0x2000;
/** epoll flag: edge-triggered, reported once per change instead of while the state lasts. `2 ** 31`: exported unsigned. */
export const EPOLLET: number = c.EPOLLET ?? 2 ** 31;
/** epoll flag: report once, then disable the fd until `modify()` re-arms it. */
export const EPOLLONESHOT: number = c.EPOLLONESHOT ?? 2 ** 30;
/** epoll flag: of several epoll sets waiting on one fd, wake only one (given at `register()` only). */
export const EPOLLEXCLUSIVE: number = c.EPOLLEXCLUSIVE ?? 2 ** 28;

// Python's default for maxevents (-1): FD_SETSIZE - 1.
const DEFAULT_MAXEVENTS = FD_SETSIZE - 1;

let adoptFd: number | undefined;

/** epoll(7), Linux, as Python's `select.epoll`: an interest set in the kernel, `register` once and `poll()` for the ready fds. On other platforms the constructor throws `ENOSYS`. */
export class Epoll {
  readonly #results = new ResultsBuffer();
  readonly #ep: NativeEpoll;
  #closed = false;

  constructor() {
    const fd = adoptFd;
    adoptFd = undefined;
    this.#ep = new native.Epoll(this.#results.array, fd);
  }

  /** Adopts an existing epoll fd: close() closes it. */
  static fromFd(fd: number): Epoll {
    adoptFd = toFd(fd);
    try {
      return new Epoll();
    } finally {
      adoptFd = undefined;
    }
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The epoll fd. */
  fileno(): number {
    this.#check();
    return this.#ep.fileno();
  }

  /** Closes the epoll fd; idempotent. Every other method then throws `ERR_IOMUX_CLOSED`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ep.close();
  }

  /** Default mask EPOLLIN | EPOLLPRI | EPOLLOUT; a second register throws EEXIST. */
  register(fd: FileLike, eventmask?: number): void {
    this.#check();
    this.#ep.add(toFd(fd), eventmask);
  }

  /** Changes the event mask of a registered fd (`ENOENT` if it is not registered). */
  modify(fd: FileLike, eventmask: number): void {
    this.#check();
    this.#ep.modify(toFd(fd), eventmask);
  }

  /** EBADF from an fd that was already closed is ignored. */
  unregister(fd: FileLike): void {
    this.#check();
    this.#ep.remove(toFd(fd));
  }

  /** Waits, blocking this thread, until a registered fd is ready or `timeoutMs` passes, and returns up to `maxevents` `[fd, events]` pairs (default `FD_SETSIZE - 1`); the rest stay queued for the next call. */
  poll(timeoutMs?: Timeout, maxevents?: number): Array<[fd: number, events: number]> {
    this.#check();
    let max = DEFAULT_MAXEVENTS;
    if (maxevents !== undefined && maxevents !== -1) {
      if (typeof maxevents !== 'number' || !Number.isInteger(maxevents)) throw invalidArgType('maxevents must be an integer');
      if (maxevents <= 0) throw outOfRange(`maxevents must be greater than 0, got ${maxevents}`);
      max = Math.min(maxevents, 0x7fffffff);
    }
    // The kernel hands back at most what fits; the rest stay queued for the next call.
    this.#results.ensure(this.#ep, Math.min(max, 1 << 16));
    return this.#results.pairs(this.#ep.wait(timeoutMs, max));
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #check(): void {
    if (this.#closed) throw iomuxError('ERR_IOMUX_CLOSED', 'I/O operation on a closed epoll object');
  }
}
