// kqueue(2)/kevent(2), macOS and FreeBSD. selectAsync() watches the kqueue fd
// from Node's own loop (as EpollSelector watches its epoll fd). Elsewhere the
// constructor throws ENOSYS naming the platform (the native stub says so).
import { native, type NativeEpoll, type NativeSet } from '../binding';
import type { FileLike } from '../filelike';
import { BaseSelector, type Backend } from './base';

/** A selector on kqueue(2) (macOS, FreeBSD): `DefaultSelector` there; elsewhere its constructor throws `ENOSYS` naming the platform. */
export class KqueueSelector<T = unknown, F extends FileLike = FileLike> extends BaseSelector<T, F> {
  readonly backend: Backend = 'kqueue';
  /** @internal */
  protected openNative(results: Int32Array): NativeSet {
    return new native.KqueueSet(results);
  }
  /** The kqueue fd; ERR_IOMUX_CLOSED once closed (the native set says so). */
  fileno(): number {
    return (this.native as NativeEpoll).fileno();
  }
}
