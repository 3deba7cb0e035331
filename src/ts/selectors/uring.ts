// io_uring(7) readiness (IORING_OP_POLL_ADD), Linux. selectAsync() watches the
// ring's eventfd from Node's own loop. DefaultSelector never picks it.
import { native, type NativeSet, type NativeUring } from '../binding';
import { invalidArgType } from '../argerrors';
import type { FileLike } from '../filelike';
import { BaseSelector, type Backend } from './base';

/** Options of `new UringSelector()`. */
export interface UringSelectorOptions {
  /** Submission queue entries (default 256); more registrations than this are submitted in batches. */
  entries?: number;
  /** Multishot polls (default true); false re-arms a single-shot poll after each completion. */
  multishot?: boolean;
}

/** A selector on io_uring readiness (`IORING_OP_POLL_ADD`, multishot), Linux 5.11+, over raw syscalls. `DefaultSelector` never picks it; choose it by name or with `IOMUX_BACKEND=io_uring`. */
export class UringSelector<T = unknown, F extends FileLike = FileLike> extends BaseSelector<T, F> {
  readonly backend: Backend = 'io_uring';
  // Read by openNative(), which the base constructor calls before this class's fields exist.
  static #options: UringSelectorOptions | undefined;

  constructor(options?: UringSelectorOptions) {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw invalidArgType('options must be an object');
    }
    // Set on every construction, so a throwing one leaves nothing for the next.
    UringSelector.#options = options;
    super();
    UringSelector.#options = undefined;
  }

  /** @internal */
  protected openNative(results: Int32Array): NativeSet {
    const o = UringSelector.#options;
    return new native.UringSet(results, o?.entries, o?.multishot);
  }

  /** The ring's fd; ERR_IOMUX_CLOSED once closed. */
  fileno(): number {
    return (this.native as NativeUring).fileno();
  }

  /** Whether registrations are multishot polls (false on kernels before 5.13, or when asked). */
  get multishot(): boolean {
    return (this.native as NativeUring).info().multishot;
  }
}
