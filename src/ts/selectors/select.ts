// select(2): fds up to FD_SETSIZE - 1; a larger one is a RangeError at register().
import { native, type NativeSet } from '../binding';
import type { FileLike } from '../filelike';
import { BaseSelector, type Backend } from './base';

export class SelectSelector<T = unknown, F extends FileLike = FileLike> extends BaseSelector<T, F> {
  readonly backend: Backend = 'select';
  /** @internal */
  protected openNative(results: Int32Array): NativeSet {
    return new native.SelectSet(results);
  }
}
