// kqueue(2) is planned; until then the class exists and its constructor throws ENOSYS.
import { type NativeSet } from '../binding';
import { systemError } from '../errors';
import { BaseSelector, type Backend } from './base';

export class KqueueSelector<T = unknown> extends BaseSelector<T> {
  readonly backend: Backend = 'kqueue';
  protected openNative(): NativeSet {
    throw systemError('ENOSYS', 'kqueue');
  }
  fileno(): number {
    return -1;
  }
}
