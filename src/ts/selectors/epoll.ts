// epoll(7), Linux. selectAsync() watches the epoll fd from Node's own loop.
import { native, type NativeEpoll, type NativeSet } from '../binding';
import { BaseSelector, type Backend } from './base';

export class EpollSelector<T = unknown> extends BaseSelector<T> {
  readonly backend: Backend = 'epoll';
  protected openNative(results: Int32Array): NativeSet {
    return new native.EpollSet(results);
  }
  /** The epoll fd; ERR_IOMUX_CLOSED once closed (the native set says so). */
  fileno(): number {
    return (this.native as NativeEpoll).fileno();
  }
}
