// select(2): fds up to FD_SETSIZE - 1; a larger one is a RangeError at register().
import { native, type NativeSet } from '../binding';
import type { FileLike } from '../filelike';
import { BaseSelector, type Backend } from './base';

/** A selector on select(2) (Winsock `select` on Windows, where it is `DefaultSelector`): fds below `FD_SETSIZE` only. `selectAsync()` waits on a thread of its own. */
export class SelectSelector<T = unknown, F extends FileLike = FileLike> extends BaseSelector<T, F> {
  readonly backend: Backend = 'select';
  /** @internal */
  protected openNative(results: Int32Array): NativeSet {
    return new native.SelectSet(results);
  }
}
