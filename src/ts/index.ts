// iomux: select(2), poll(2), epoll(7), raw sockets and selectors for Node.
export { select, FD_SETSIZE } from './select';
export {
  Poll, POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDHUP, POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND,
} from './poll';
export { Epoll, EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLERR, EPOLLHUP, EPOLLRDHUP, EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE } from './epoll';
export {
  Socket, socketpair, pipe, close, AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, SOCK_DGRAM, SOL_SOCKET, SO_REUSEADDR,
  SO_REUSEPORT, SO_ERROR, SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF, SO_TYPE, SO_LINGER, IPPROTO_TCP, TCP_NODELAY,
  IPPROTO_IPV6, IPV6_V6ONLY, SHUT_RD, SHUT_WR, SHUT_RDWR,
} from './socket';
export type { Address } from './socket';
export { EVENT_READ, EVENT_WRITE, BaseSelector } from './selectors/base';
export type { SelectorKey, Backend, Ready } from './selectors/base';
export { SelectSelector } from './selectors/select';
export { PollSelector } from './selectors/poll';
export { EpollSelector } from './selectors/epoll';
export { KqueueSelector } from './selectors/kqueue';
export { DefaultSelector } from './selectors/default';
export { AbortError } from './errors';
export type { IomuxError, IomuxErrorCode } from './errors';
export type { FileLike, HasFileno } from './filelike';
export { EventLoop } from './eventloop';
export type { TimerHandle, WaitOptions } from './eventloop';
