// poll(2): no fd limit; the interest set is a pollfd array in native memory.
import { native, type NativeSet } from '../binding';
import type { FileLike } from '../filelike';
import { BaseSelector, type Backend } from './base';

/** A selector on poll(2): no fd limit; `DefaultSelector` on POSIX systems without epoll or kqueue. `selectAsync()` waits on a thread of its own. */
export class PollSelector<T = unknown, F extends FileLike = FileLike> extends BaseSelector<T, F> {
  readonly backend: Backend = 'poll';
  /** @internal */
  protected openNative(results: Int32Array): NativeSet {
    return new native.PollSet(results);
  }
}
