// The reused results array between JS and a native interest set: grown on
// registration, never allocated per wait.
import type { NativeSet } from './binding';

const MIN_PAIRS = 64;

/** @internal */
export class ResultsBuffer {
  array = new Int32Array(2 * MIN_PAIRS);

  /** Make room for `pairs` (fd, mask) pairs, telling the native set when it moves. */
  ensure(set: NativeSet, pairs: number): void {
    if (pairs * 2 <= this.array.length) return;
    let n = this.array.length;
    while (n < pairs * 2) n *= 2;
    this.array = new Int32Array(n);
    set.setResults(this.array);
  }

  /** The ready pairs as [fd, mask] tuples (masks unsigned). */
  pairs(n: number): Array<[number, number]> {
    const a = this.array;
    const out = new Array<[number, number]>(n);
    for (let i = 0; i < n; i++) out[i] = [a[2 * i], a[2 * i + 1] >>> 0];
    return out;
  }
}
