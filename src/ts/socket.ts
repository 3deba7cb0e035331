// Sockets, as Python's socket module: a Socket holds an fd and hands each call
// to the addon. Would-block is null (false for connect), never an exception.
import { isIP } from 'node:net';
import { inspect } from 'node:util';
import { invalidArgType, invalidArgValue, outOfRange } from './argerrors';
import { native } from './binding';
import { systemError, systemErrorAt, type SystemErrorCode } from './errors';
import { toFd, type FileLike } from './filelike';

const c = native.socketConstants;
/** Address family: IPv4. */
export const AF_INET = c.AF_INET;
/** Address family: IPv6. */
export const AF_INET6 = c.AF_INET6;
/** Address family: Unix domain sockets (a path as address). */
export const AF_UNIX = c.AF_UNIX;
/** Socket type: a byte stream (TCP). */
export const SOCK_STREAM = c.SOCK_STREAM;
/** Socket type: datagrams (UDP). */
export const SOCK_DGRAM = c.SOCK_DGRAM;
/** Option level of the socket itself (`SO_*` options). */
export const SOL_SOCKET = c.SOL_SOCKET;
/** Option: bind a port that connections in TIME_WAIT still use. */
export const SO_REUSEADDR = c.SO_REUSEADDR;
/** -1 where the platform has no SO_REUSEPORT. */
export const SO_REUSEPORT = c.SO_REUSEPORT;
/** Option, read-only: the socket's pending error (0 if none); reading it clears it. */
export const SO_ERROR = c.SO_ERROR;
/** Option: send TCP keep-alive probes. */
export const SO_KEEPALIVE = c.SO_KEEPALIVE;
/** Option: the receive buffer size in bytes. */
export const SO_RCVBUF = c.SO_RCVBUF;
/** Option: the send buffer size in bytes. */
export const SO_SNDBUF = c.SO_SNDBUF;
/** Option, read-only: the socket type. */
export const SO_TYPE = c.SO_TYPE;
/** setsockopt value: linger seconds, or negative for off (getsockopt answers the same way). */
export const SO_LINGER = c.SO_LINGER;
/** Option level and protocol: TCP (`TCP_*` options). */
export const IPPROTO_TCP = c.IPPROTO_TCP;
/** Option: send small segments at once (turn Nagle's algorithm off). */
export const TCP_NODELAY = c.TCP_NODELAY;
/** Option level and protocol: IPv6 (`IPV6_*` options). */
export const IPPROTO_IPV6 = c.IPPROTO_IPV6;
/** Option: an AF_INET6 socket that takes IPv6 only (no IPv4-mapped addresses). */
export const IPV6_V6ONLY = c.IPV6_V6ONLY;
/** `shutdown()`: no more receiving. */
export const SHUT_RD = c.SHUT_RD;
/** `shutdown()`: no more sending (the peer reads EOF). */
export const SHUT_WR = c.SHUT_WR;
/** `shutdown()`: neither. */
export const SHUT_RDWR = c.SHUT_RDWR;

// Part 2 (-1 where the platform has no such constant).
/** Address family: any (for `getaddrinfo`). */
export const AF_UNSPEC = c.AF_UNSPEC;
/** `getaddrinfo` flag: addresses to bind (a null host is the wildcard) (-1 where the platform has none). */
export const AI_PASSIVE = c.AI_PASSIVE;
/** `getaddrinfo` flag: fill `canonname` of the first entry (-1 where the platform has none). */
export const AI_CANONNAME = c.AI_CANONNAME;
/** `getaddrinfo` flag: the host is a numeric address, never looked up (-1 where the platform has none). */
export const AI_NUMERICHOST = c.AI_NUMERICHOST;
/** `getaddrinfo` flag: the port is numeric, not a service name (-1 where the platform has none). */
export const AI_NUMERICSERV = c.AI_NUMERICSERV;
/** `getaddrinfo` flag: only the families the machine has an address of (-1 where the platform has none). */
export const AI_ADDRCONFIG = c.AI_ADDRCONFIG;
/** `getnameinfo` flag: the host as a numeric address (-1 where the platform has none). */
export const NI_NUMERICHOST = c.NI_NUMERICHOST;
/** `getnameinfo` flag: the port as a number (-1 where the platform has none). */
export const NI_NUMERICSERV = c.NI_NUMERICSERV;
/** `getnameinfo` flag: an error if the host has no name (-1 where the platform has none). */
export const NI_NAMEREQD = c.NI_NAMEREQD;
/** `getnameinfo` flag: the service of a datagram socket (-1 where the platform has none). */
export const NI_DGRAM = c.NI_DGRAM;
/** recv flag: look at the data without taking it (-1 where the platform has none). */
export const MSG_PEEK = c.MSG_PEEK;
/** send/recv flag: this call only, do not block (-1 where the platform has none). */
export const MSG_DONTWAIT = c.MSG_DONTWAIT;
/** recv flag: wait for the whole length (blocking sockets) (-1 where the platform has none). */
export const MSG_WAITALL = c.MSG_WAITALL;
/** send/recv flag: out-of-band data (-1 where the platform has none). */
export const MSG_OOB = c.MSG_OOB;
/** recvMsg flag in the result: the datagram was longer than the buffer (-1 where the platform has none). */
export const MSG_TRUNC = c.MSG_TRUNC;
/** recvMsg flag in the result: ancillary data was cut short (-1 where the platform has none). */
export const MSG_CTRUNC = c.MSG_CTRUNC;
/** send flag: no SIGPIPE (iomux never raises it anyway) (-1 where the platform has none). */
export const MSG_NOSIGNAL = c.MSG_NOSIGNAL;
/** recvMsg flag: received fds are close-on-exec (iomux sets it itself) (-1 where the platform has none). */
export const MSG_CMSG_CLOEXEC = c.MSG_CMSG_CLOEXEC;
/** Ancillary data type: fds passed over AF_UNIX (-1 where the platform has none). */
export const SCM_RIGHTS = c.SCM_RIGHTS;
/** Ancillary data type: the sender's credentials (Linux) (-1 where the platform has none). */
export const SCM_CREDENTIALS = c.SCM_CREDENTIALS;
/** Option, read-only: the AF_UNIX peer's pid, uid and gid (Linux) (-1 where the platform has none). */
export const SO_PEERCRED = c.SO_PEERCRED;
/** Option: receive `SCM_CREDENTIALS` (Linux) (-1 where the platform has none). */
export const SO_PASSCRED = c.SO_PASSCRED;
/** Option: allow sending datagrams to a broadcast address (-1 where the platform has none). */
export const SO_BROADCAST = c.SO_BROADCAST;
/** Option: the receive timeout (-1 where the platform has none). */
export const SO_RCVTIMEO = c.SO_RCVTIMEO;
/** Option: the send timeout (-1 where the platform has none). */
export const SO_SNDTIMEO = c.SO_SNDTIMEO;
/** The system's usual largest `listen()` backlog. */
export const SOMAXCONN = c.SOMAXCONN;
/** Socket type: reliable, ordered datagrams (AF_UNIX) (-1 where the platform has none). */
export const SOCK_SEQPACKET = c.SOCK_SEQPACKET;
/** Socket type: raw protocol access (-1 where the platform has none). */
export const SOCK_RAW = c.SOCK_RAW;
/** Option: idle seconds before the first keep-alive probe (-1 where the platform has none). */
export const TCP_KEEPIDLE = c.TCP_KEEPIDLE;
/** Option: seconds between keep-alive probes (-1 where the platform has none). */
export const TCP_KEEPINTVL = c.TCP_KEEPINTVL;
/** Option: probes before the connection is dropped (-1 where the platform has none). */
export const TCP_KEEPCNT = c.TCP_KEEPCNT;
/** Option level: IPv4 (`IP_*` options). */
export const IPPROTO_IP = c.IPPROTO_IP;
/** Protocol: UDP. */
export const IPPROTO_UDP = c.IPPROTO_UDP;
/** Option: the time-to-live of outgoing packets (-1 where the platform has none). */
export const IP_TTL = c.IP_TTL;
/** Option: the time-to-live of outgoing multicast (-1 where the platform has none). */
export const IP_MULTICAST_TTL = c.IP_MULTICAST_TTL;
/** Option: loop outgoing multicast back to this host (-1 where the platform has none). */
export const IP_MULTICAST_LOOP = c.IP_MULTICAST_LOOP;
/** Option: the interface for outgoing multicast (-1 where the platform has none). */
export const IP_MULTICAST_IF = c.IP_MULTICAST_IF;
/** Option: join an IPv4 multicast group (-1 where the platform has none). */
export const IP_ADD_MEMBERSHIP = c.IP_ADD_MEMBERSHIP;
/** Option: leave an IPv4 multicast group (-1 where the platform has none). */
export const IP_DROP_MEMBERSHIP = c.IP_DROP_MEMBERSHIP;
/** Option: join an IPv6 multicast group (-1 where the platform has none). */
export const IPV6_JOIN_GROUP = c.IPV6_JOIN_GROUP;
/** Option: leave an IPv6 multicast group (-1 where the platform has none). */
export const IPV6_LEAVE_GROUP = c.IPV6_LEAVE_GROUP;
/** Option: the hop limit of outgoing IPv6 multicast (-1 where the platform has none). */
export const IPV6_MULTICAST_HOPS = c.IPV6_MULTICAST_HOPS;

/** [host, port] for AF_INET/AF_INET6 (IPv6 with its scope: 'fe80::1%eth0'); a path string for AF_UNIX. */
export type Address = [host: string, port: number] | string;
/** What methods accept: an Address, or Python's IPv6 4-tuple [host, port, flowinfo, scopeId]. */
export type AddressInput = Address | [host: string, port: number, flowinfo: number, scopeId: number];
/** One ancillary data item of sendMsg/recvMsg: [cmsg_level, cmsg_type, data]. */
export type Ancillary<B extends Uint8Array = Uint8Array> = [level: number, type: number, data: B];
/** What recvMsg returns. */
export type RecvMsgResult = [data: Buffer, ancdata: Array<Ancillary<Buffer>>, msgFlags: number, address: Address | null];
/** What recvFds returns. */
export type RecvFdsResult = [data: Buffer, fds: number[], msgFlags: number, address: Address | null];

// Set while fromFd()/accept() build a Socket around an fd that already exists.
let adopting: { fd: number; family: number; type: number } | undefined;

const FAMILY_NAMES = new Map<number, string>([[AF_INET, 'AF_INET'], [AF_INET6, 'AF_INET6'], [AF_UNIX, 'AF_UNIX']]);
const TYPE_NAMES = new Map<number, string>([[SOCK_STREAM, 'SOCK_STREAM'], [SOCK_DGRAM, 'SOCK_DGRAM'], [c.SOCK_SEQPACKET, 'SOCK_SEQPACKET'], [c.SOCK_RAW, 'SOCK_RAW']]);

/** A socket on a raw fd, as Python's `socket.socket`: blocking by default, or non-blocking with `setBlocking(false)`, where would-block is `null` (`false` for `connect`), never an exception. Close-on-exec; `close()` is idempotent. */
export class Socket {
  #fd: number;
  // Python's timeout: null blocking, 0 non-blocking, > 0 blocking calls give up after it (ETIMEDOUT).
  #timeout: number | null = null;
  // The address of the connect in progress, to name it in connectError()/ETIMEDOUT.
  #connecting: AddressInput | undefined;
  /** `AF_INET`, `AF_INET6` or `AF_UNIX`. */
  readonly family: number;
  /** `SOCK_STREAM` or `SOCK_DGRAM` (or another `SOCK_*`). */
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

  /** Adopts an open socket fd: close() closes it. Its timeout follows its O_NONBLOCK flag (0 or null). */
  static fromFd(fd: number): Socket {
    // A number only (as Python): adopting another Socket through its fileno() would give one fd two owners.
    if (typeof fd !== 'number') throw invalidArgType(`fd must be an integer file descriptor, got ${typeof fd}`);
    const n = toFd(fd);
    const [family, type] = native.adopt(n);
    const s = wrap(n, family, type);
    if (!native.getBlocking(n)) s.#timeout = 0;
    return s;
  }

  /** Whether the socket was closed (or detached). */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** -1 once closed, like Python. */
  fileno(): number {
    return this.#fd;
  }

  /** setBlocking(true) is setTimeout(null), setBlocking(false) is setTimeout(0), as in Python. */
  setBlocking(flag: boolean): void {
    native.setBlocking(this.#use('fcntl'), flag);
    this.#timeout = flag ? null : 0;
  }

  /** False only in non-blocking mode (timeout 0); a socket with a timeout > 0 is blocking, as in Python. */
  getBlocking(): boolean {
    const fd = this.#use('fcntl');
    if (this.#timeout !== null && this.#timeout > 0) return true;
    return native.getBlocking(fd);
  }

  /**
   * Python's settimeout: null (or Infinity) blocks, 0 (or less) is non-blocking,
   * > 0 makes every blocking call give up after that many ms with a system error
   * code 'ETIMEDOUT' (the socket itself is then non-blocking underneath).
   */
  setTimeout(ms: number | null): void {
    if (ms !== null && ms !== undefined && (typeof ms !== 'number' || Number.isNaN(ms))) {
      throw invalidArgType('timeout must be a number of milliseconds or null');
    }
    const fd = this.#use('fcntl');
    const t = ms === null || ms === undefined || ms === Infinity ? null : Math.max(0, ms);
    native.setBlocking(fd, t === null);
    this.#timeout = t;
  }

  /** Python's `gettimeout()`: `null` blocking, 0 non-blocking, or the milliseconds blocking calls wait before `ETIMEDOUT`. */
  getTimeout(): number | null {
    return this.#timeout;
  }

  /** Binds to a local address: `[host, port]` (`''` is every address, port 0 any free one) or an AF_UNIX path. */
  bind(address: AddressInput): void {
    native.bind(this.#use('bind'), this.family, address);
  }

  /** Negative is taken as 0; the default is min(SOMAXCONN, 128), as in Python. */
  listen(backlog?: number): void {
    native.listen(this.#use('listen'), backlog);
  }

  /** The new socket is blocking; null when non-blocking and nothing is pending. */
  accept(): [Socket, Address] | null {
    const fd = this.#use('accept');
    let r = native.accept(fd);
    if (r === null && this.#timed()) r = this.#wait(fd, false, 'accept', () => native.accept(fd));
    if (r === null) return null;
    return [wrap(r[0], this.family, this.type), r[1]];
  }

  /**
   * true: connected; false: non-blocking and in progress (wait for writable, then
   * connectError()). With a timeout, waits for the outcome (ETIMEDOUT when it runs out).
   */
  connect(address: AddressInput): boolean {
    const fd = this.#use('connect');
    this.#connecting = address;
    if (native.connect(fd, this.family, address)) return true;
    if (!this.#timed()) return false;
    const timeout = this.#timeout as number;
    if (!native.waitFd(fd, true, timeout)) throw this.#addressed('ETIMEDOUT', 'connect', address);
    const err = this.connectError();
    if (err) throw err;
    return true;
  }

  /** The pending SO_ERROR as a system error naming the address connected to (reading it clears it), or null. */
  connectError(): NodeJS.ErrnoException | null {
    const fd = this.#use('getsockopt');
    const to = this.#connecting;
    return to !== undefined && literal(to) ? native.connectError(fd, this.family, to) : native.connectError(fd);
  }

  /** Bytes sent (may be fewer than asked), or null when it would block. flags: MSG_* bits. */
  send(data: Uint8Array, offset?: number, length?: number, flags?: number): number | null {
    const fd = this.#use('send');
    // Arguments left off entirely are cheaper for the addon than explicit undefineds.
    const r = offset === undefined && length === undefined && flags === undefined
      ? native.send(fd, data)
      : native.send(fd, data, offset, length, flags);
    if (r === null && this.#timed()) return this.#wait(fd, true, 'send', () => native.send(fd, data, offset, length, flags));
    return r;
  }

  /**
   * Blocking sockets: sends everything. With a timeout, the whole send must finish
   * within it (ETIMEDOUT). A non-blocking one that fills throws EAGAIN. Either error
   * says in err.bytesSent how much went.
   */
  sendAll(data: Uint8Array): void {
    const fd = this.#use('send');
    if (!this.#timed()) return native.sendAll(fd, data);
    if (!ArrayBuffer.isView(data)) throw invalidArgType('data must be a Buffer, TypedArray or DataView');
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const deadline = performance.now() + (this.#timeout as number);
    let off = 0;
    while (off < bytes.length) {
      const n = native.send(fd, bytes, off, bytes.length - off);
      if (n !== null) {
        off += n;
        continue;
      }
      const left = deadline - performance.now();
      if (left <= 0 || !native.waitFd(fd, true, left)) {
        const err = systemError('ETIMEDOUT', 'send') as NodeJS.ErrnoException & { bytesSent: number };
        err.bytesSent = off;
        throw err;
      }
    }
  }

  /** Up to bufsize bytes; an empty Buffer when the peer closed; null when it would block. */
  recv(bufsize: number, flags?: number): Buffer | null {
    const fd = this.#use('recv');
    const r = flags === undefined ? native.recv(fd, bufsize) : native.recv(fd, bufsize, flags);
    if (r === null && this.#timed()) return this.#wait(fd, false, 'recv', () => native.recv(fd, bufsize, flags));
    return r;
  }

  /** Reads into buf[offset, offset+length); bytes read (0 at EOF), or null when it would block. */
  recvInto(buf: Uint8Array, offset?: number, length?: number, flags?: number): number | null {
    const fd = this.#use('recv');
    const r = offset === undefined && length === undefined && flags === undefined
      ? native.recvInto(fd, buf)
      : native.recvInto(fd, buf, offset, length, flags);
    if (r === null && this.#timed()) return this.#wait(fd, false, 'recv', () => native.recvInto(fd, buf, offset, length, flags));
    return r;
  }

  /** Sends one datagram to `address`; the bytes sent, or `null` if it would block. */
  sendTo(data: Uint8Array, address: AddressInput): number | null {
    const fd = this.#use('sendto');
    const r = native.sendTo(fd, data, this.family, address);
    if (r === null && this.#timed()) return this.#wait(fd, true, 'sendto', () => native.sendTo(fd, data, this.family, address));
    return r;
  }

  /** One datagram (up to `bufsize` bytes) and the sender's address, or `null` if it would block. */
  recvFrom(bufsize: number, flags?: number): [Buffer, Address] | null {
    const fd = this.#use('recvfrom');
    const r = flags === undefined ? native.recvFrom(fd, bufsize) : native.recvFrom(fd, bufsize, flags);
    if (r === null && this.#timed()) return this.#wait(fd, false, 'recvfrom', () => native.recvFrom(fd, bufsize, flags));
    return r as [Buffer, Address] | null;
  }

  /** Reads a datagram (or stream bytes) into buf: [bytes, sender (null when connected/unnamed)], or null. */
  recvFromInto(buf: Uint8Array, offset?: number, length?: number, flags?: number): [n: number, address: Address | null] | null {
    const fd = this.#use('recvfrom');
    const op = () => native.recvFromInto(fd, buf, offset, length, flags);
    const r = op();
    if (r === null && this.#timed()) return this.#wait(fd, false, 'recvfrom', op);
    return r;
  }

  /** sendmsg(2): the buffers in one message, with ancillary data [level, type, data] and an optional destination. */
  sendMsg(buffers: Uint8Array[], ancdata?: Ancillary[], flags?: number, address?: AddressInput): number | null {
    const fd = this.#use('sendmsg');
    const op = () => native.sendMsg(fd, buffers, ancdata, flags, this.family, address);
    const r = op();
    if (r === null && this.#timed()) return this.#wait(fd, true, 'sendmsg', op);
    return r;
  }

  /** recvmsg(2): up to bufsize bytes and up to ancbufsize bytes of ancillary data; null when it would block. */
  recvMsg(bufsize: number, ancbufsize?: number, flags?: number): RecvMsgResult | null {
    const fd = this.#use('recvmsg');
    const op = () => native.recvMsg(fd, bufsize, ancbufsize, flags) as RecvMsgResult | null;
    const r = op();
    if (r === null && this.#timed()) return this.#wait(fd, false, 'recvmsg', op);
    return r;
  }

  /** Shuts down receiving (`SHUT_RD`), sending (`SHUT_WR`: the peer reads EOF) or both (`SHUT_RDWR`). */
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

  /** A new Socket on a duplicate (close-on-exec) fd of the same socket, with the same timeout. */
  dup(): Socket {
    const s = wrap(native.dup(this.#use('dup')), this.family, this.type);
    s.#timeout = this.#timeout;
    return s;
  }

  /** Gives up the fd without closing it (the Socket reads as closed) and returns it; -1 if already closed. */
  detach(): number {
    const fd = this.#fd;
    if (fd < 0) return -1;
    native.disown(fd);
    this.#fd = -1;
    return fd;
  }

  /** Integer options; a number, boolean, or raw bytes (ip_mreq for IP_ADD_MEMBERSHIP, ...). */
  setsockopt(level: number, name: number, value: number | boolean | Uint8Array): void {
    native.setsockopt(this.#use('setsockopt'), level, name, value);
  }

  /** An integer option; with buflen (1..1024), the raw option bytes (SO_PEERCRED's struct ucred, ...). */
  getsockopt(level: number, name: number): number;
  getsockopt(level: number, name: number, buflen: number): Buffer;
  getsockopt(level: number, name: number, buflen?: number): number | Buffer {
    const fd = this.#use('getsockopt');
    return buflen === undefined ? native.getsockopt(fd, level, name) : native.getsockopt(fd, level, name, buflen);
  }

  /** The local address. */
  getsockname(): Address {
    return native.getsockname(this.#use('getsockname')) as Address;
  }

  /** The peer's address (`ENOTCONN` when not connected). */
  getpeername(): Address {
    return native.getpeername(this.#use('getpeername')) as Address;
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** console.log(socket): fd, family, type, blocking mode and addresses. */
  [inspect.custom](depth: number, options: object): string {
    const fd = this.#fd;
    const o: Record<string, unknown> = {
      fd,
      family: FAMILY_NAMES.get(this.family) ?? this.family,
      type: TYPE_NAMES.get(this.type) ?? this.type,
    };
    if (fd >= 0) {
      o.blocking = this.#timeout === 0 ? false : this.#timeout === null ? safe(() => native.getBlocking(fd)) : true;
      o.timeout = this.#timeout;
      const local = safe(() => native.getsockname(fd));
      if (local !== undefined) o.local = local;
      const remote = safe(() => native.getpeername(fd));
      if (remote !== undefined) o.remote = remote;
    } else {
      o.closed = true;
    }
    return `Socket ${inspect(o, { ...options, depth: depth < 0 ? 0 : 2 })}`;
  }

  // The fd, or EBADF (as the kernel would say) once closed.
  #use(syscall: string): number {
    if (this.#fd < 0) throw systemError('EBADF', syscall);
    return this.#fd;
  }

  #timed(): boolean {
    return this.#timeout !== null && this.#timeout > 0;
  }

  // A call that would block on a socket with a timeout: wait for readiness and
  // retry until it goes through or the time runs out (ETIMEDOUT).
  #wait<R>(fd: number, write: boolean, syscall: string, op: () => R | null): R {
    const deadline = performance.now() + (this.#timeout as number);
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0 || !native.waitFd(fd, write, left)) throw systemError('ETIMEDOUT', syscall);
      const r = op();
      if (r !== null) return r;
    }
  }

  #addressed(code: SystemErrorCode, syscall: string, address: AddressInput): NodeJS.ErrnoException {
    return literal(address) ? systemErrorAt(code, syscall, this.family, address) : systemError(code, syscall);
  }
}

// An address that names itself without a look-up (errors can then repeat it).
function literal(a: AddressInput): boolean {
  return typeof a === 'string' || (Array.isArray(a) && typeof a[0] === 'string' && isIP(a[0].split('%')[0]) !== 0);
}

function safe<R>(fn: () => R): R | undefined {
  try {
    return fn();
  } catch {
    return undefined;
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

/** Python's os.set_blocking, for any fd (pipes, ttys, eventfds); a Socket keeps its own mode in step. */
export function setBlocking(fd: FileLike, flag: boolean): void {
  if (fd instanceof Socket) return fd.setBlocking(flag);
  native.setBlocking(toFd(fd), flag);
}

/** Python's os.get_blocking. */
export function getBlocking(fd: FileLike): boolean {
  if (fd instanceof Socket) return fd.getBlocking();
  return native.getBlocking(toFd(fd));
}

/** One answer of `getaddrinfo`. */
export interface AddrInfo {
  /** The address family (`AF_INET` or `AF_INET6`). */
  family: number;
  /** The socket type it is for. */
  type: number;
  /** The protocol it is for. */
  proto: number;
  /** '' unless AI_CANONNAME was asked for (then on the first entry). */
  canonname: string;
  /** The address, ready for `connect()` or `bind()`. */
  address: Address;
}

/** What `getaddrinfo` looks for (each 0 or absent: any). */
export interface GetAddrInfoOptions {
  /** Only this address family (`AF_INET`, `AF_INET6`; `AF_UNSPEC`: both). */
  family?: number;
  /** Only this socket type (`SOCK_STREAM`, `SOCK_DGRAM`). */
  type?: number;
  /** Only this protocol. */
  proto?: number;
  /** `AI_*` flags, or-ed. */
  flags?: number;
}

/** Python's getaddrinfo, blocking, system resolver. Failures are dns-shaped errors (ENOTFOUND, EAI_AGAIN, ...). */
export function getaddrinfo(host: string | null, port: number | string | null, opts?: GetAddrInfoOptions): AddrInfo[] {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw invalidArgType('opts must be an object');
  const r = native.getaddrinfo(host, port, opts?.family, opts?.type, opts?.proto, opts?.flags);
  return r.map(([family, type, proto, canonname, address]) => ({ family, type, proto, canonname, address }));
}

/** Python's getnameinfo: [host, service] for a numeric address. */
export function getnameinfo(address: AddressInput, flags?: number): [host: string, service: string] {
  return native.getnameinfo(address, flags);
}

/** Python's CMSG_LEN: the cmsg_len of an ancillary item with that many data bytes. */
export function CMSG_LEN(length: number): number {
  return native.cmsgLen(length);
}

/** Python's CMSG_SPACE: the room an ancillary item with that many data bytes takes. */
export function CMSG_SPACE(length: number): number {
  return native.cmsgSpace(length);
}

/** Options of `createConnection()`. */
export interface CreateConnectionOptions {
  /** Each attempt's timeout; the socket keeps it. undefined/null: blocking. */
  timeoutMs?: number | null;
  /** bind() before connecting. */
  sourceAddress?: AddressInput;
}

/**
 * Python's create_connection: connects to every address getaddrinfo gives for
 * host, in order, until one works. When none does, throws the last error with
 * every attempt's error on err.errors.
 */
export function createConnection(address: [host: string, port: number], opts?: CreateConnectionOptions): Socket {
  if (!Array.isArray(address) || address.length !== 2) throw invalidArgType('address must be [host, port]');
  const [host, port] = address;
  if (typeof host !== 'string') throw invalidArgType('host must be a string');
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw invalidArgType('opts must be an object');
  const timeout = opts?.timeoutMs;
  if (timeout !== undefined && timeout !== null && (typeof timeout !== 'number' || Number.isNaN(timeout))) {
    throw invalidArgType('opts.timeoutMs must be a number of milliseconds or null');
  }
  const errors: NodeJS.ErrnoException[] = [];
  for (const ai of getaddrinfo(host, port, { type: SOCK_STREAM })) {
    let sock: Socket | undefined;
    try {
      sock = new Socket(ai.family, ai.type, ai.proto);
      if (timeout !== undefined) sock.setTimeout(timeout);
      if (opts?.sourceAddress !== undefined) sock.bind(opts.sourceAddress);
      // A non-blocking socket (timeout 0) that cannot connect at once fails, as in Python (EINPROGRESS).
      if (!sock.connect(ai.address)) throw systemErrorAt('EINPROGRESS', 'connect', ai.family, ai.address);
      return sock;
    } catch (err) {
      sock?.close();
      errors.push(err as NodeJS.ErrnoException);
    }
  }
  const last = errors[errors.length - 1] as (NodeJS.ErrnoException & { errors?: unknown[] }) | undefined;
  if (last === undefined) throw systemError('EADDRNOTAVAIL', 'connect');
  last.errors = errors;
  throw last;
}

/** Options of `createServer()`. */
export interface CreateServerOptions {
  /** AF_INET by default (AF_UNIX for a path, AF_INET6 with dualstackIpv6). */
  family?: number;
  /** listen() backlog; the default is listen()'s. */
  backlog?: number;
  /** SO_REUSEPORT (RangeError ERR_INVALID_ARG_VALUE where the platform has none). */
  reusePort?: boolean;
  /** An AF_INET6 socket that takes IPv4 connections too (RangeError where hasDualstackIpv6() is false). */
  dualstackIpv6?: boolean;
}

/**
 * Python's create_server: a listening TCP socket (SO_REUSEADDR on POSIX;
 * IPV6_V6ONLY on unless dualstackIpv6). A bind error names the address.
 */
export function createServer(address: AddressInput, opts?: CreateServerOptions): Socket {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw invalidArgType('opts must be an object');
  const dual = opts?.dualstackIpv6 === true;
  const family = opts?.family ?? (typeof address === 'string' ? AF_UNIX : dual ? AF_INET6 : AF_INET);
  if (opts?.reusePort && SO_REUSEPORT < 0) throw invalidArgValue('SO_REUSEPORT is not supported on this platform');
  if (dual) {
    if (!hasDualstackIpv6()) throw invalidArgValue('dualstackIpv6 is not supported on this platform');
    if (family !== AF_INET6) throw invalidArgValue('dualstackIpv6 requires family AF_INET6');
  }
  const sock = new Socket(family, SOCK_STREAM);
  try {
    if (process.platform !== 'win32' && family !== AF_UNIX) sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (opts?.reusePort) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    if (family === AF_INET6) sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, dual ? 0 : 1);
    sock.bind(address);
    sock.listen(opts?.backlog);
    return sock;
  } catch (err) {
    sock.close();
    throw err;
  }
}

/** Python's has_dualstack_ipv6: can an AF_INET6 socket take IPv4 connections here? */
export function hasDualstackIpv6(): boolean {
  let s: Socket | undefined;
  try {
    s = new Socket(AF_INET6, SOCK_STREAM);
    s.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 0);
    return true;
  } catch {
    return false;
  } finally {
    s?.close();
  }
}

function checkSock(sock: unknown, what: string): asserts sock is Socket {
  if (!(sock instanceof Socket)) throw invalidArgType(`${what}: sock must be a Socket`);
}

/** Python's send_fds: the buffers and the fds (SCM_RIGHTS) in one message over AF_UNIX. */
export function sendFds(sock: Socket, buffers: Uint8Array[], fds: number[]): number {
  checkSock(sock, 'sendFds');
  if (!Array.isArray(fds)) throw invalidArgType('fds must be an array of file descriptors');
  if (SCM_RIGHTS < 0) throw systemError('ENOSYS', 'sendmsg');
  const raw = new Int32Array(fds.length);
  for (let i = 0; i < fds.length; i++) {
    const fd = fds[i];
    if (typeof fd !== 'number' || !Number.isInteger(fd)) throw invalidArgType(`fds[${i}] must be an integer file descriptor`);
    if (fd < 0 || fd > 0x7fffffff) throw outOfRange(`fds[${i}] must be between 0 and 2147483647, got ${fd}`);
    raw[i] = fd;
  }
  const anc: Ancillary[] = fds.length > 0 ? [[SOL_SOCKET, SCM_RIGHTS, new Uint8Array(raw.buffer)]] : [];
  const n = sock.sendMsg(buffers, anc);
  if (n === null) throw systemError('EAGAIN', 'sendmsg');
  return n;
}

/** Python's recv_fds: up to bufsize bytes and up to maxfds fds (close-on-exec); null when it would block. */
export function recvFds(sock: Socket, bufsize: number, maxfds: number): RecvFdsResult | null {
  checkSock(sock, 'recvFds');
  if (typeof maxfds !== 'number' || !Number.isInteger(maxfds)) throw invalidArgType('maxfds must be an integer');
  if (maxfds < 0 || maxfds > 0x3ffff) throw outOfRange(`maxfds must be between 0 and ${0x3ffff}, got ${maxfds}`);
  if (SCM_RIGHTS < 0) throw systemError('ENOSYS', 'recvmsg');
  const r = sock.recvMsg(bufsize, CMSG_LEN(maxfds * 4));
  if (r === null) return null;
  const [data, anc, flags, address] = r;
  const fds: number[] = [];
  for (const [level, type, bytes] of anc) {
    if (level !== SOL_SOCKET || type !== SCM_RIGHTS) continue;
    // Native byte order, as the kernel wrote them.
    const ints = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + (bytes.length & ~3)));
    for (const fd of ints) fds.push(fd);
  }
  return [data, fds, flags, address];
}
