// poll(2): no fd limit; the interest set is a pollfd array in native memory.
import { native, type NativeSet } from '../binding';
import { BaseSelector, type Backend } from './base';

export class PollSelector<T = unknown> extends BaseSelector<T> {
  readonly backend: Backend = 'poll';
  protected openNative(results: Int32Array): NativeSet {
    return new native.PollSet(results);
  }
}
