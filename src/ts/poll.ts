// poll(2), as Python's select.poll.
import { native, type NativeSet, type Timeout } from './binding';
import { toFd, type FileLike } from './filelike';
import { ResultsBuffer } from './interest';

const c = native.pollConstants;
export const POLLIN = c.POLLIN;
export const POLLPRI = c.POLLPRI;
export const POLLOUT = c.POLLOUT;
export const POLLERR = c.POLLERR;
export const POLLHUP = c.POLLHUP;
export const POLLNVAL = c.POLLNVAL;
export const POLLRDHUP = c.POLLRDHUP;
export const POLLRDNORM = c.POLLRDNORM;
export const POLLRDBAND = c.POLLRDBAND;
export const POLLWRNORM = c.POLLWRNORM;
export const POLLWRBAND = c.POLLWRBAND;

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

  poll(timeoutMs?: Timeout): Array<[fd: number, revents: number]> {
    return this.#results.pairs(this.#set.wait(timeoutMs));
  }
}
