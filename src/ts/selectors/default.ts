// DefaultSelector: epoll on Linux, poll on other POSIX systems (kqueue is
// planned), select on Windows. IOMUX_BACKEND=select|poll|epoll|kqueue overrides.
import { invalidArgValue } from '../argerrors';
import { native } from '../binding';
import type { BaseSelector } from './base';
import { EpollSelector } from './epoll';
import { KqueueSelector } from './kqueue';
import { PollSelector } from './poll';
import { SelectSelector } from './select';

const BACKENDS = {
  select: SelectSelector,
  poll: PollSelector,
  epoll: EpollSelector,
  kqueue: KqueueSelector,
} as const;

function pick(): new <T = unknown>() => BaseSelector<T> {
  const want = process.env.IOMUX_BACKEND;
  if (want !== undefined && want !== '') {
    if (!(want in BACKENDS)) {
      throw invalidArgValue(`IOMUX_BACKEND must be one of ${Object.keys(BACKENDS).join(', ')}; got ${JSON.stringify(want)}`);
    }
    return BACKENDS[want as keyof typeof BACKENDS];
  }
  if (process.platform === 'win32') return SelectSelector;
  if (native.HAVE_EPOLL) return EpollSelector;
  return PollSelector;
}

/**
 * Constructs the platform's best selector. IOMUX_BACKEND is read at each
 * construction, so a bad value is a RangeError from `new DefaultSelector()`,
 * not from importing iomux.
 */
export const DefaultSelector = function DefaultSelector<T = unknown>(): BaseSelector<T> {
  const Backend = pick();
  return new Backend<T>();
} as unknown as new <T = unknown>() => BaseSelector<T>;
