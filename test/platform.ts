// Which platform the suite runs on, for tests of a mechanism that only some
// have: those are skipped elsewhere with the reason in their name
// (`describe.skipIf(!LINUX)('... (epoll is Linux-only)', ...)`), never dropped.
import { spawnSync } from 'node:child_process';
import { it } from 'vitest';
import { AF_UNIX, Socket } from '../src/ts/index';
import { native } from '../src/ts/binding';

export const LINUX = process.platform === 'linux';
export const WINDOWS = process.platform === 'win32';
/** Where kqueue(2) exists: KqueueSelector runs the shared selector suites there. */
export const KQUEUE = ['darwin', 'freebsd', 'openbsd', 'netbsd'].includes(process.platform);
/** Under qemu-user (scripts/platform/suite.sh says so): it has no io_uring_setup, which fails ENOSYS. */
export const QEMU_USER = process.env.IOMUX_TEST_EMULATOR === 'qemu-user';
export const NO_URING_QEMU = 'qemu-user does not emulate io_uring_setup (ENOSYS)';
/**
 * Under wine (scripts/platform/suite.sh says so): its Winsock differs from Windows' in a few
 * error codes and behaviours; tests accept wine's answer only here, naming what Windows documents.
 */
export const WINE = WINDOWS && process.env.IOMUX_TEST_EMULATOR === 'wine';

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

/**
 * On Linux, CI (.ci/run) installs every peer program and sets IOMUX_TEST_PEERS=required:
 * there a missing peer fails its tests. Elsewhere (a fresh clone) it is skipped
 * with the Debian package to install in the title.
 */
export const PEERS_REQUIRED = LINUX && process.env.IOMUX_TEST_PEERS === 'required';
const starts = (program: string, args: string[]) => PEERS_REQUIRED || spawnSync(program, args, { stdio: 'ignore', timeout: 30000 }).status === 0;

/** Tests whose peer is a python3 process; on Windows python3 is often not on PATH (never under wine). */
export const HAS_PYTHON3 = starts('python3', ['-c', '']);
export const itPython3 = itUnless(!HAS_PYTHON3, `python3 peer: python3 is not on PATH here${WINDOWS ? '' : ' (Debian: apt-get install python3)'}`);
/** Tests that read a listener's backlog with ss (Debian's iproute2), beside python3. */
export const HAS_SS = !WINDOWS && starts('ss', ['-V']);
export const itPython3AndSs = itUnless(!HAS_PYTHON3 || !HAS_SS,
  !HAS_PYTHON3 ? 'python3 peer: python3 is not on PATH here' : `ss peer: not installed here${WINDOWS ? '' : ' (Debian: apt-get install iproute2)'}`);
/** AF_UNIX stream sockets exist: always on POSIX, on Windows 10 and later, not under wine. */
export const HAS_AF_UNIX = !WINDOWS || (() => {
  try {
    new Socket(AF_UNIX).close();
    return true;
  } catch {
    return false;
  }
})();
export const itUnixSockets = itUnless(!HAS_AF_UNIX, 'AF_UNIX sockets: this Windows has none (wine)');
/** Tests that need socketpair()'s ends to be AF_UNIX: Windows emulates pairs over TCP loopback. */
export const itUnixPairs = itUnless(WINDOWS, 'socketpair() is emulated over TCP loopback on Windows');
/** select() limits on fd numbers: Winsock's fd_set holds FD_SETSIZE handles of any value (a count, not a number). */
export const itFdNumberLimit = itUnless(WINDOWS, "Winsock's fd_set limits the count of handles, not their values");

/** Tests on AF_UNIX datagram sockets: Windows' AF_UNIX has streams only. */
export const itUnixDgram = itUnless(WINDOWS, 'AF_UNIX datagrams: Windows has AF_UNIX streams only');

/** Why a selector backend is missing on this platform ('' where it is there). */
export function backendMissing(name: string): string {
  if (name === 'epoll' && !LINUX) return 'epoll is Linux-only';
  if (name === 'io_uring' && !LINUX) return 'io_uring is Linux-only';
  if (name === 'kqueue' && !KQUEUE) return 'kqueue is macOS/BSD-only';
  if (name === 'io_uring' && QEMU_USER) return NO_URING_QEMU;
  if (name === 'poll' && WINDOWS) return 'no poll(2) on Windows: Poll throws ENOSYS';
  return '';
}
/** A describe() title with the reason appended where the backend is missing. */
export function backendTitle(title: string, name: string): string {
  const why = backendMissing(name);
  return why ? `${title} (${why})` : title;
}

// selectAsync()'s two ways for small sets: direct watching (Node's loop watches
// each registered fd; the default up to 64 fds) and the nested one
// (IOMUX_DIRECT_MAX=0: the epoll fd, ring eventfd or waiter thread). Suites run
// over both with useWay(); child processes inherit the way through the env.
export type Way = 'direct' | 'nested';
export const DIRECT_DEFAULT_MAX = 64;
export const WAYS: readonly Way[] = ['direct', 'nested'];
/** Why the direct way cannot run here, or '' when it can. */
export const NO_DIRECT_WATCH = native.HAVE_DIRECT_WATCH ? '' : 'direct watching needs libuv fd watches, which a Node-API-only Windows build has not: its waits are the nested way';
export function wayTitle(title: string, way: Way): string {
  return way === 'direct' ? `${title} (direct watching)${NO_DIRECT_WATCH ? ` (skipped: ${NO_DIRECT_WATCH})` : ''}` : `${title} (nested: IOMUX_DIRECT_MAX=0)`;
}
/** Sets the way for this process and its children from now on; returns the limit it replaced. */
export function setWay(way: Way | number): number {
  const n = typeof way === 'number' ? way : way === 'direct' ? DIRECT_DEFAULT_MAX : 0;
  const old = native.setDirectWatchMax();
  native.setDirectWatchMax(n);
  process.env.IOMUX_DIRECT_MAX = String(n);
  return old;
}
