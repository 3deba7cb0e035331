// kqueue(2) is planned; until then the class exists and its constructor throws ENOSYS.
import { type NativeSet } from '../binding';
import { systemError } from '../errors';
import type { FileLike } from '../filelike';
import { BaseSelector, type Backend } from './base';

/** A selector on kqueue(2) (macOS, BSD): planned; for now its constructor throws `ENOSYS`. */
export class KqueueSelector<T = unknown, F extends FileLike = FileLike> extends BaseSelector<T, F> {
  readonly backend: Backend = 'kqueue';
  /** @internal */
  protected openNative(): NativeSet {
    throw systemError('ENOSYS', 'kqueue');
  }
  /** The kqueue fd; -1, as there is none yet. */
  fileno(): number {
    return -1;
  }
}
