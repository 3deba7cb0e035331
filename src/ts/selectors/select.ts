// select(2): fds up to FD_SETSIZE - 1; a larger one is a RangeError at register().
import { native, type NativeSet } from '../binding';
import { BaseSelector, type Backend } from './base';

export class SelectSelector<T = unknown> extends BaseSelector<T> {
  readonly backend: Backend = 'select';
  protected openNative(results: Int32Array): NativeSet {
    return new native.SelectSet(results);
  }
}
