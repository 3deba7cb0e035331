// The one place where a backend name (--backend, the crawler's option) becomes
// a selector. A new backend is one line in SELECTORS.
import { DefaultSelector, EpollSelector, PollSelector, SelectSelector, type BaseSelector } from 'iomux';

const SELECTORS = {
  select: SelectSelector,
  poll: PollSelector,
  epoll: EpollSelector,
} satisfies Record<string, new <T>() => BaseSelector<T>>;

export type BackendName = keyof typeof SELECTORS;

/** The names --backend takes, in the order help texts list them. */
export const BACKEND_NAMES = Object.keys(SELECTORS) as BackendName[];

export function isBackendName(name: string): name is BackendName {
  return Object.prototype.hasOwnProperty.call(SELECTORS, name);
}

/**
 * A new selector: the named backend, or DefaultSelector (which reads
 * IOMUX_BACKEND) when no name is given. A name outside the table is a RangeError.
 */
export function openSelector<T>(backend?: string): BaseSelector<T> {
  if (backend === undefined) return new DefaultSelector<T>();
  if (!isBackendName(backend)) {
    throw new RangeError(`--backend must be one of ${BACKEND_NAMES.join(', ')}; got ${JSON.stringify(backend)}`);
  }
  return new SELECTORS[backend]<T>();
}

/**
 * Why IOMUX_BACKEND cannot work here, or undefined when it is unset or fine:
 * checked once at start so a bad value is one line, not an error deep in a run.
 */
export function checkBackendEnv(): string | undefined {
  const want = process.env.IOMUX_BACKEND;
  if (want === undefined || want === '') return undefined;
  try {
    new DefaultSelector().close();
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `IOMUX_BACKEND=${want}: ${code && !code.startsWith('ERR_') && !(err as Error).message.includes(code) ? `${code} ` : ''}${(err as Error).message}`;
  }
}
