// Which platform the suite runs on, for tests of a mechanism that only some
// have: those are skipped elsewhere with the reason in their name
// (`describe.skipIf(!LINUX)('... (epoll is Linux-only)', ...)`), never dropped.
import { it } from 'vitest';

export const LINUX = process.platform === 'linux';
export const WINDOWS = process.platform === 'win32';
/** Under qemu-user (scripts/platform/suite.sh says so): it has no io_uring_setup, which fails ENOSYS. */
export const QEMU_USER = process.env.IOMUX_TEST_EMULATOR === 'qemu-user';
export const NO_URING_QEMU = 'qemu-user does not emulate io_uring_setup (ENOSYS)';

/** `it`, or where `skip` holds, `it.skip` with the reason added to the test's name. */
export function itUnless(skip: boolean, reason: string): typeof it {
  if (!skip) return it;
  const named = (name: unknown) => `${String(name)} (${reason})`;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const skipped: any = (name: unknown, ...rest: unknown[]) => (it.skip as any)(named(name), ...rest);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  skipped.each = (...table: unknown[]) => (name: unknown, ...rest: unknown[]) => (it.skip.each as any)(...table)(named(name), ...rest);
  return skipped as typeof it;
}

/** Tests on pipes: iomux's pipe() is ENOSYS on Windows, where select() takes sockets only. */
export const itPipes = itUnless(WINDOWS, 'pipes: Windows select() takes sockets only');
/** Tests that read /proc/self (fd lists, fd flags): Linux-only. */
export const itProcFs = itUnless(!LINUX, 'reads /proc/self: Linux-only');
/** Tests that run sh or send POSIX signals. */
export const itPosixProcess = itUnless(WINDOWS, 'sh and POSIX signals: not on Windows');

/** Why a selector backend is missing on this platform ('' where it is there). */
export function backendMissing(name: string): string {
  if (name === 'epoll' && !LINUX) return 'epoll is Linux-only';
  if (name === 'io_uring' && QEMU_USER) return NO_URING_QEMU;
  if (name === 'poll' && WINDOWS) return 'no poll(2) on Windows: Poll throws ENOSYS';
  return '';
}
/** A describe() title with the reason appended where the backend is missing. */
export function backendTitle(title: string, name: string): string {
  const why = backendMissing(name);
  return why ? `${title} (${why})` : title;
}
