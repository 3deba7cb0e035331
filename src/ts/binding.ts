// Loads the native addon (a prebuild from prebuilds/, else build/Release) and
// describes what it exports. Nothing outside src/ts talks to it directly.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A timeout in milliseconds: `undefined`, `null` or `Infinity` wait forever, `<= 0` only looks; fractions round up. */
export type Timeout = number | null | undefined;

/** Native interest set shared by the selectors and Poll/Epoll. */
/** @internal */
export interface NativeSet {
  add(fd: number, mask?: number): void;
  modify(fd: number, mask: number): void;
  remove(fd: number, lenient?: boolean): void;
  /** Waits, then writes (fd, mask) pairs into the results array; returns how many. */
  wait(timeoutMs: Timeout, maxevents?: number): number;
  setResults(results: Int32Array): void;
  /**
   * selectAsync: call back (on the main thread) once something is ready, with the
   * (fd, mask) pairs already in the results array: `count` of them, or -1 and the
   * error when the wait failed. The set is disarmed when the callback runs.
   * With `check`, a zero-timeout wait comes first: if it finds pairs, they are
   * in the results array, their count is returned and nothing is armed;
   * otherwise (and without `check`) it arms and returns 0.
   */
  arm(callback: AsyncCallback, seq: number, check?: boolean): number;
  /** Stop a pending arm(); its callback will not run. */
  cancel(): void;
  close(): void;
}

/** @internal */
export type AsyncCallback = (seq: number, count: number, error?: Error) => void;

/** @internal */
export interface NativeEpoll extends NativeSet {
  fileno(): number;
}

/** @internal */
export interface NativeUring extends NativeEpoll {
  info(): { multishot: boolean };
}

/** @internal */
export type NativeAddress = [string, number] | string;

/** @internal */
export interface Binding {
  FD_SETSIZE: number;
  HAVE_EPOLL: boolean;
  HAVE_IO_URING: boolean;
  HAVE_KQUEUE: boolean;
  select(r: number[], w: number[], x: number[], timeoutMs: Timeout): [number[], number[], number[]];
  // Selector sets take and report EVENT_READ | EVENT_WRITE; Poll and Epoll the kernel's masks.
  SelectSet: new (results: Int32Array) => NativeSet;
  PollSet: new (results: Int32Array) => NativeSet;
  Poll: new (results: Int32Array) => NativeSet;
  EpollSet: new (results: Int32Array) => NativeEpoll;
  Epoll: new (results: Int32Array, adoptFd?: number) => NativeEpoll;
  KqueueSet: new (results: Int32Array) => NativeEpoll;
  UringSet: new (results: Int32Array, entries?: number, multishot?: boolean) => NativeUring;
  pollConstants: Record<string, number>;
  epollConstants: Record<string, number>;
  socketConstants: Record<string, number>;

  socket(family: number, type: number, proto: number): number;
  adopt(fd: number): [family: number, type: number];
  setBlocking(fd: number, flag: boolean): void;
  getBlocking(fd: number): boolean;
  bind(fd: number, family: number, address: unknown): void;
  listen(fd: number, backlog?: number): void;
  accept(fd: number): [number, NativeAddress] | null;
  connect(fd: number, family: number, address: unknown): boolean;
  connectError(fd: number, family?: number, address?: unknown): NodeJS.ErrnoException | null;
  send(fd: number, data: Uint8Array, offset?: number, length?: number, flags?: number): number | null;
  sendAll(fd: number, data: Uint8Array): void;
  recv(fd: number, bufsize: number, flags?: number): Buffer | null;
  recvInto(fd: number, buf: Uint8Array, offset?: number, length?: number, flags?: number): number | null;
  sendTo(fd: number, data: Uint8Array, family: number, address: unknown): number | null;
  recvFrom(fd: number, bufsize: number, flags?: number): [Buffer, NativeAddress] | null;
  recvFromInto(fd: number, buf: Uint8Array, offset?: number, length?: number, flags?: number): [number, NativeAddress | null] | null;
  sendMsg(fd: number, buffers: Uint8Array[], ancdata: unknown, flags: number | undefined, family: number, address: unknown): number | null;
  recvMsg(fd: number, bufsize: number, ancbufsize?: number, flags?: number): [Buffer, Array<[number, number, Buffer]>, number, NativeAddress | null] | null;
  cmsgLen(length: number): number;
  cmsgSpace(length: number): number;
  dup(fd: number): number;
  disown(fd: number): void;
  waitFd(fd: number, write: boolean, timeoutMs: number): boolean;
  getaddrinfo(host: unknown, port: unknown, family?: number, type?: number, proto?: number, flags?: number)
    : Array<[number, number, number, string, NativeAddress]>;
  getnameinfo(address: unknown, flags?: number): [string, string];
  shutdown(fd: number, how: number): void;
  close(fd: number): void;
  setsockopt(fd: number, level: number, name: number, value: number | boolean | Uint8Array): void;
  getsockopt(fd: number, level: number, name: number): number;
  getsockopt(fd: number, level: number, name: number, buflen: number): Buffer;
  getsockname(fd: number): NativeAddress;
  getpeername(fd: number): NativeAddress;
  socketpair(family: number, type: number): [number, number];
  pipe(): [number, number];
  systemError(errno: number, syscall: string, family?: number, address?: unknown): NodeJS.ErrnoException;
  setFdWatch(on: boolean): boolean;
  setDirectWatchMax(n?: number): number;
  readonly HAVE_DIRECT_WATCH: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeGypBuild: (dir: string) => unknown = require('node-gyp-build');
// The package root (binding.gyp, build/, prebuilds/): dist/.. when built, src/ts/../.. under vitest.
const root = fs.existsSync(path.join(__dirname, '..', 'package.json')) ? path.join(__dirname, '..') : path.join(__dirname, '..', '..');
// IOMUX_ADDON_PATH (an absolute path to a .node file) loads another build of the
// same sources instead, e.g. the ASan one of `npm run test:asan`; child processes
// inherit it, so they load that build too.
const override = process.env.IOMUX_ADDON_PATH;
// eslint-disable-next-line @typescript-eslint/no-require-imports
/** @internal */
export const native = (override ? require(override) : nodeGypBuild(root)) as Binding;

// selectAsync() on epoll, io_uring and kqueue has Node's libuv loop watch the epoll fd
// (or the ring's eventfd, or the kqueue fd). Bun and Deno run Node-API addons without libuv and
// stand in for parts of it: Bun aborts the process in uv_poll_init, Deno's
// uv_poll misses wake-ups (a wait that never resolves). There, a waiter thread
// blocks on that fd instead, as select/poll's does (docs/API.md, "Other
// runtimes"). IOMUX_FD_WATCH=0 chooses the thread anywhere (Node's tests of
// it), IOMUX_FD_WATCH=1 the fd watch (to see a runtime's uv_poll fail).
const fdWatchEnv = process.env.IOMUX_FD_WATCH;
/** @internal */
export const fdWatch = native.setFdWatch(
  fdWatchEnv === '1' || (fdWatchEnv !== '0' && !(process.versions.bun || process.versions.deno)),
);

// selectAsync() of a selector with at most this many registered fds has Node's
// loop watch each fd (docs/API.md, "How selectAsync() waits"); above it, the
// epoll fd, ring eventfd or waiter thread. IOMUX_DIRECT_MAX=0 turns it off
// (the tests run both ways); unset, the addon's default (64).
const directMaxEnv = process.env.IOMUX_DIRECT_MAX;
if (directMaxEnv !== undefined && directMaxEnv !== '') {
  const n = Number(directMaxEnv);
  if (!Number.isInteger(n) || n < 0 || n > 1e6) throw new RangeError(`IOMUX_DIRECT_MAX must be an integer from 0 to 1000000, not ${JSON.stringify(directMaxEnv)}`);
  native.setDirectWatchMax(n);
}
