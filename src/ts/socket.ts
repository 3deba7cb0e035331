// Sockets, as Python's socket module: a Socket holds an fd and hands each call
// to the addon. Would-block is null (false for connect), never an exception.
import { native, type NativeAddress } from './binding';
import { systemError } from './errors';
import { toFd } from './filelike';

const c = native.socketConstants;
export const AF_INET = c.AF_INET;
export const AF_INET6 = c.AF_INET6;
export const AF_UNIX = c.AF_UNIX;
export const SOCK_STREAM = c.SOCK_STREAM;
export const SOCK_DGRAM = c.SOCK_DGRAM;
export const SOL_SOCKET = c.SOL_SOCKET;
export const SO_REUSEADDR = c.SO_REUSEADDR;
/** -1 where the platform has no SO_REUSEPORT. */
export const SO_REUSEPORT = c.SO_REUSEPORT;
export const SO_ERROR = c.SO_ERROR;
export const SO_KEEPALIVE = c.SO_KEEPALIVE;
export const SO_RCVBUF = c.SO_RCVBUF;
export const SO_SNDBUF = c.SO_SNDBUF;
export const SO_TYPE = c.SO_TYPE;
/** setsockopt value: linger seconds, or negative for off (getsockopt answers the same way). */
export const SO_LINGER = c.SO_LINGER;
export const IPPROTO_TCP = c.IPPROTO_TCP;
export const TCP_NODELAY = c.TCP_NODELAY;
export const IPPROTO_IPV6 = c.IPPROTO_IPV6;
export const IPV6_V6ONLY = c.IPV6_V6ONLY;
export const SHUT_RD = c.SHUT_RD;
export const SHUT_WR = c.SHUT_WR;
export const SHUT_RDWR = c.SHUT_RDWR;

/** [host, port] for AF_INET/AF_INET6; a path string for AF_UNIX. */
export type Address = [host: string, port: number] | string;

// Set while fromFd()/accept() build a Socket around an fd that already exists.
let adopting: { fd: number; family: number; type: number } | undefined;

export class Socket {
  #fd: number;
  readonly family: number;
  readonly type: number;

  constructor(family: number = AF_INET, type: number = SOCK_STREAM, proto = 0) {
    if (adopting) {
      ({ fd: this.#fd, family: this.family, type: this.type } = adopting);
      adopting = undefined;
      return;
    }
    this.#fd = native.socket(family, type, proto);
    this.family = family;
    this.type = type;
  }

  /** Adopts an open socket fd: close() closes it. */
  static fromFd(fd: number): Socket {
    // A number only (as Python): adopting another Socket through its fileno() would give one fd two owners.
    if (typeof fd !== 'number') throw new TypeError(`fd must be an integer file descriptor, got ${typeof fd}`);
    const n = toFd(fd);
    const [family, type] = native.adopt(n);
    return wrap(n, family, type);
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** -1 once closed, like Python. */
  fileno(): number {
    return this.#fd;
  }

  setBlocking(flag: boolean): void {
    native.setBlocking(this.#use('fcntl'), flag);
  }

  getBlocking(): boolean {
    return native.getBlocking(this.#use('fcntl'));
  }

  bind(address: Address): void {
    native.bind(this.#use('bind'), this.family, address);
  }

  listen(backlog?: number): void {
    native.listen(this.#use('listen'), backlog);
  }

  /** The new socket is blocking; null when non-blocking and nothing is pending. */
  accept(): [Socket, Address] | null {
    const r = native.accept(this.#use('accept'));
    if (r === null) return null;
    return [wrap(r[0], this.family, this.type), r[1]];
  }

  /** true: connected; false: non-blocking and in progress (wait for writable, then connectError()). */
  connect(address: Address): boolean {
    return native.connect(this.#use('connect'), this.family, address);
  }

  /** The pending SO_ERROR as a system error (reading it clears it), or null. */
  connectError(): Error | null {
    return native.connectError(this.#use('getsockopt'));
  }

  /** Bytes sent (may be fewer than asked), or null when it would block. */
  send(data: Uint8Array, offset?: number, length?: number): number | null {
    const fd = this.#use('send');
    // Arguments left off entirely are cheaper for the addon than explicit undefineds.
    return offset === undefined && length === undefined ? native.send(fd, data) : native.send(fd, data, offset, length);
  }

  /** Blocking sockets: sends everything. A non-blocking one that fills throws EAGAIN (err.bytesSent says how much went). */
  sendAll(data: Uint8Array): void {
    native.sendAll(this.#use('send'), data);
  }

  /** Up to bufsize bytes; an empty Buffer when the peer closed; null when it would block. */
  recv(bufsize: number): Buffer | null {
    return native.recv(this.#use('recv'), bufsize);
  }

  /** Reads into buf[offset, offset+length); bytes read (0 at EOF), or null when it would block. */
  recvInto(buf: Uint8Array, offset?: number, length?: number): number | null {
    const fd = this.#use('recv');
    return offset === undefined && length === undefined ? native.recvInto(fd, buf) : native.recvInto(fd, buf, offset, length);
  }

  sendTo(data: Uint8Array, address: Address): number | null {
    return native.sendTo(this.#use('sendto'), data, this.family, address);
  }

  recvFrom(bufsize: number): [Buffer, Address] | null {
    return native.recvFrom(this.#use('recvfrom'), bufsize) as [Buffer, Address] | null;
  }

  shutdown(how: number): void {
    native.shutdown(this.#use('shutdown'), how);
  }

  /** Idempotent. */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    native.close(fd);
  }

  setsockopt(level: number, name: number, value: number | boolean): void {
    native.setsockopt(this.#use('setsockopt'), level, name, value);
  }

  getsockopt(level: number, name: number): number {
    return native.getsockopt(this.#use('getsockopt'), level, name);
  }

  getsockname(): Address {
    return native.getsockname(this.#use('getsockname')) as Address;
  }

  getpeername(): Address {
    return native.getpeername(this.#use('getpeername')) as Address;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  // The fd, or EBADF (as the kernel would say) once closed.
  #use(syscall: string): number {
    if (this.#fd < 0) throw systemError('EBADF', syscall);
    return this.#fd;
  }
}

function wrap(fd: number, family: number, type: number): Socket {
  adopting = { fd, family, type };
  try {
    return new Socket();
  } finally {
    adopting = undefined;
  }
}

/** A connected pair; AF_UNIX and SOCK_STREAM by default. */
export function socketpair(family: number = AF_UNIX, type: number = SOCK_STREAM): [Socket, Socket] {
  const [a, b] = native.socketpair(family, type);
  return [wrap(a, family, type), wrap(b, family, type)];
}

/** A close-on-exec pipe: [readFd, writeFd]. */
export function pipe(): [readFd: number, writeFd: number] {
  return native.pipe();
}

/** Closes an fd (for pipe() ends and other raw fds). */
export function close(fd: number): void {
  native.close(fd);
}

export type { NativeAddress };
