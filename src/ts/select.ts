// select(2), as Python's select.select: the ready subsets, each in the order given.
import { invalidArgType } from './argerrors';
import { native, type Timeout } from './binding';
import { toFd, type FileLike } from './filelike';

/** The size of an `fd_set`: `select()` and `SelectSelector` take fds below it (on Windows: at most this many sockets per set). */
export const FD_SETSIZE: number = native.FD_SETSIZE;

/** select(2): waits, blocking this thread, until an fd of `rlist` is readable, of `wlist` writable or of `xlist` exceptional (or `timeoutMs` passes), and returns the ready entries of each list, as given. A `RangeError` for an fd that does not fit an `fd_set`. */
export function select<R extends FileLike, W extends FileLike, X extends FileLike>(
  rlist: readonly R[],
  wlist: readonly W[],
  xlist: readonly X[],
  timeoutMs?: Timeout,
): [R[], W[], X[]] {
  const lists = [rlist, wlist, xlist].map((list, i) => {
    if (!Array.isArray(list)) throw invalidArgType(`${['rlist', 'wlist', 'xlist'][i]} must be an array`);
    return list.map(toFd);
  });
  const [r, w, x] = native.select(lists[0], lists[1], lists[2], timeoutMs);
  return [r.map((i) => rlist[i]), w.map((i) => wlist[i]), x.map((i) => xlist[i])];
}
