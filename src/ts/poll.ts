// poll(2), as Python's select.poll.
import { native, type NativeSet, type Timeout } from './binding';
import { toFd, type FileLike } from './filelike';
import { ResultsBuffer } from './interest';

const c = native.pollConstants;
/** poll event: data to read (or EOF, or a pending accept). */
export const POLLIN = c.POLLIN;
/** poll event: urgent data to read. */
export const POLLPRI = c.POLLPRI;
/** poll event: writable. */
export const POLLOUT = c.POLLOUT;
/** poll event: an error condition (reported without asking). */
export const POLLERR = c.POLLERR;
/** poll event: hang-up (reported without asking). */
export const POLLHUP = c.POLLHUP;
/** poll event: the fd is not open (reported without asking). */
export const POLLNVAL = c.POLLNVAL;
/** poll event: the peer shut down its writing side (Linux; 0 where absent). */
export const POLLRDHUP = c.POLLRDHUP;
/** poll event: normal data to read. */
export const POLLRDNORM = c.POLLRDNORM;
/** poll event: priority-band data to read. */
export const POLLRDBAND = c.POLLRDBAND;
/** poll event: writable (normal data). */
export const POLLWRNORM = c.POLLWRNORM;
/** poll event: priority-band data may be written. */
export const POLLWRBAND = c.POLLWRBAND;

/** poll(2), as Python's `select.poll`: the interest set is kept in native memory, so each `poll()` passes it to the kernel without rebuilding it. */
export class Poll {
  readonly #results = new ResultsBuffer();
  readonly #set: NativeSet = new native.Poll(this.#results.array);
  readonly #fds = new Set<number>();

  /** Default mask POLLIN | POLLPRI | POLLOUT; registering again modifies. */
  register(fd: FileLike, eventmask?: number): void {
    const n = toFd(fd);
    this.#set.add(n, eventmask);
    this.#fds.add(n);
    this.#results.ensure(this.#set, this.#fds.size);
  }

  /** Error code 'ENOENT' when fd is not registered. */
  modify(fd: FileLike, eventmask: number): void {
    this.#set.modify(toFd(fd), eventmask);
  }

  /** Error code 'ENOENT' when fd is not registered. */
  unregister(fd: FileLike): void {
    const n = toFd(fd);
    this.#set.remove(n);
    this.#fds.delete(n);
  }

  /** Waits, blocking this thread, until a registered fd is ready or `timeoutMs` passes, and returns the `[fd, revents]` pairs of the ready ones; `[]` on timeout. */
  poll(timeoutMs?: Timeout): Array<[fd: number, revents: number]> {
    return this.#results.pairs(this.#set.wait(timeoutMs));
  }
}
