// DefaultSelector: epoll on Linux, kqueue on macOS and FreeBSD, poll on other
// POSIX systems, select on Windows. IOMUX_BACKEND=select|poll|epoll|kqueue|io_uring overrides
// (io_uring only ever by name).
import { invalidArgValue } from '../argerrors';
import { native } from '../binding';
import type { FileLike } from '../filelike';
import { BaseSelector } from './base';
import { EpollSelector } from './epoll';
import { KqueueSelector } from './kqueue';
import { PollSelector } from './poll';
import { SelectSelector } from './select';
import { UringSelector } from './uring';

const BACKENDS = {
  select: SelectSelector,
  poll: PollSelector,
  epoll: EpollSelector,
  kqueue: KqueueSelector,
  io_uring: UringSelector,
} as const;

function pick(): new <T = unknown, F extends FileLike = FileLike>() => BaseSelector<T, F> {
  const want = process.env.IOMUX_BACKEND;
  if (want !== undefined && want !== '') {
    if (!(want in BACKENDS)) {
      throw invalidArgValue(`IOMUX_BACKEND must be one of ${Object.keys(BACKENDS).join(', ')}; got ${JSON.stringify(want)}`);
    }
    return BACKENDS[want as keyof typeof BACKENDS];
  }
  if (process.platform === 'win32') return SelectSelector;
  if (native.HAVE_EPOLL) return EpollSelector;
  if (native.HAVE_KQUEUE) return KqueueSelector;
  return PollSelector;
}

/** What DefaultSelector is as a value: constructs the platform's selector. */
export interface DefaultSelectorConstructor {
  new <T = unknown, F extends FileLike = FileLike>(): BaseSelector<T, F>;
  /** Every selector's prototype chain has it: `x instanceof DefaultSelector` holds for every selector. */
  readonly prototype: BaseSelector<unknown, FileLike>;
}

/**
 * Constructs the platform's best selector. IOMUX_BACKEND is read at each
 * construction, so a bad value is a RangeError from `new DefaultSelector()`,
 * not from importing iomux. `x instanceof DefaultSelector` is true for every
 * selector (whatever made it), as Python's DefaultSelector is one of the classes.
 */
export const DefaultSelector = function DefaultSelector<T = unknown, F extends FileLike = FileLike>(): BaseSelector<T, F> {
  const Backend = pick();
  try {
    return new Backend<T, F>();
  } catch (err) {
    // A backend this platform lacks, asked for by name: say who asked.
    const want = process.env.IOMUX_BACKEND;
    if (want && err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOSYS') {
      err.message = `IOMUX_BACKEND=${want}: ${err.message}`;
    }
    throw err;
  }
} as unknown as DefaultSelectorConstructor;
Object.defineProperty(DefaultSelector, Symbol.hasInstance, { value: (x: unknown) => x instanceof BaseSelector });

/** The type of what `new DefaultSelector<T, F>()` makes. */
export type DefaultSelector<T = unknown, F extends FileLike = FileLike> = BaseSelector<T, F>;
