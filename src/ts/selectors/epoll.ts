// epoll(7), Linux. selectAsync() watches the epoll fd from Node's own loop.
import { native, type NativeEpoll, type NativeSet } from '../binding';
import type { FileLike } from '../filelike';
import { BaseSelector, type Backend } from './base';

/** A selector on epoll(7), Linux: `DefaultSelector` there. `selectAsync()` needs no thread: Node's own loop watches the epoll fd. */
export class EpollSelector<T = unknown, F extends FileLike = FileLike> extends BaseSelector<T, F> {
  readonly backend: Backend = 'epoll';
  /** @internal */
  protected openNative(results: Int32Array): NativeSet {
    return new native.EpollSet(results);
  }
  /** The epoll fd; ERR_IOMUX_CLOSED once closed (the native set says so). */
  fileno(): number {
    return (this.native as NativeEpoll).fileno();
  }
}
