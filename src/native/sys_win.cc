// Winsock half of the platform edge. SOCKET handles stand in for fds;
// Winsock error codes become the errno values the rest of the addon speaks.
#include "sys.h"

#include <cstring>
#include <mutex>
#include <unordered_set>

namespace iomux::sys {
namespace {

// Winsock cannot report whether a socket is non-blocking, so remember what we set.
// Sockets are process-wide objects, so this table is too.
std::mutex g_nb_mu;
std::unordered_set<fd_t> g_nonblocking;

int MapWsa(int wsa) {
  switch (wsa) {
    case WSAEWOULDBLOCK: return EAGAIN;
    case WSAEINPROGRESS: return EINPROGRESS;
    case WSAEALREADY: return EALREADY;
    case WSAENOTSOCK: return EBADF;  // what a closed or bogus handle looks like
    case WSAEBADF: return EBADF;
    case WSAEDESTADDRREQ: return EDESTADDRREQ;
    case WSAEMSGSIZE: return EMSGSIZE;
    case WSAEPROTOTYPE: return EPROTOTYPE;
    case WSAENOPROTOOPT: return ENOPROTOOPT;
    case WSAEPROTONOSUPPORT: return EPROTONOSUPPORT;
    case WSAESOCKTNOSUPPORT: return EPROTONOSUPPORT;
    case WSAEOPNOTSUPP: return EOPNOTSUPP;
    case WSAEPFNOSUPPORT: return EAFNOSUPPORT;
    case WSAEAFNOSUPPORT: return EAFNOSUPPORT;
    case WSAEADDRINUSE: return EADDRINUSE;
    case WSAEADDRNOTAVAIL: return EADDRNOTAVAIL;
    case WSAENETDOWN: return ENETDOWN;
    case WSAENETUNREACH: return ENETUNREACH;
    case WSAENETRESET: return ECONNRESET;
    case WSAECONNABORTED: return ECONNABORTED;
    case WSAECONNRESET: return ECONNRESET;
    case WSAENOBUFS: return ENOBUFS;
    case WSAEISCONN: return EISCONN;
    case WSAENOTCONN: return ENOTCONN;
    case WSAESHUTDOWN: return EPIPE;  // sending after shutdown(SHUT_WR), as POSIX says
    case WSAETIMEDOUT: return ETIMEDOUT;
    case WSAECONNREFUSED: return ECONNREFUSED;
    case WSAEHOSTUNREACH: return EHOSTUNREACH;
    case WSAEHOSTDOWN: return EHOSTUNREACH;
    case WSAEMFILE: return EMFILE;
    case WSAEINVAL: return EINVAL;
    case WSAEFAULT: return EFAULT;
    case WSAEINTR: return EINTR;
    case WSAEACCES: return EACCES;
    case WSANOTINITIALISED: return EINVAL;
    default: return wsa > 0 && wsa < 200 ? wsa : EIO;
  }
}

void SetErrno(int err) {
  errno = err;
  WSASetLastError(0);
}

int Fail() {
  errno = MapWsa(WSAGetLastError());
  return -1;
}

void NoInherit(SOCKET s) { SetHandleInformation(reinterpret_cast<HANDLE>(s), HANDLE_FLAG_INHERIT, 0); }

// The MSG_* bits Winsock knows. Others (MSG_DONTWAIT and friends are -1 here) are
// refused with EOPNOTSUPP, as Windows documents, before the call: wine ignores
// unknown bits, so a blocking recv given -1 (MSG_WAITALL among them) waited forever.
bool UnknownFlags(int flags) {
  const int known = MSG_OOB | MSG_PEEK | MSG_DONTROUTE | MSG_WAITALL | MSG_PARTIAL | MSG_INTERRUPT;
  if ((flags & ~known) == 0) return false;
  SetErrno(EOPNOTSUPP);
  return true;
}

}  // namespace

int Startup() {
  static std::once_flag once;
  static int result = 0;
  std::call_once(once, [] {
    WSADATA d;
    result = WSAStartup(MAKEWORD(2, 2), &d);
  });
  return result;
}

int LastError() {
  // errno is set by Fail()/SetErrno() after every failing call in this file;
  // calls made directly elsewhere (bind, connect, ...) leave it in Winsock.
  int wsa = WSAGetLastError();
  if (wsa != 0) return MapWsa(wsa);
  return errno;
}
int FromSoError(int so_error) { return so_error ? MapWsa(so_error) : 0; }
bool WouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK; }
bool InProgress(int err) { return err == EINPROGRESS || err == EAGAIN; }

int64_t NowNs() {
  static LARGE_INTEGER freq = [] {
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    return f;
  }();
  LARGE_INTEGER c;
  QueryPerformanceCounter(&c);
  return int64_t(double(c.QuadPart) * 1e9 / double(freq.QuadPart));
}

int Close(fd_t fd) {
  {
    std::lock_guard<std::mutex> g(g_nb_mu);
    g_nonblocking.erase(fd);
  }
  if (closesocket(SOCKET(fd)) != 0) return Fail();
  return 0;
}

int CheckOpen(fd_t fd) {
  int type;
  int len = sizeof type;
  if (getsockopt(SOCKET(fd), SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &len) != 0)
    return MapWsa(WSAGetLastError());
  return 0;
}

int SetNonBlocking(fd_t fd, bool on) {
  u_long mode = on ? 1 : 0;
  if (ioctlsocket(SOCKET(fd), FIONBIO, &mode) != 0) {
    // A valid handle that is not a socket (a pipe, a console): Windows has no
    // non-blocking mode for those that select() could use.
    DWORD hflags;
    if (WSAGetLastError() == WSAENOTSOCK && GetHandleInformation(reinterpret_cast<HANDLE>(fd), &hflags)) {
      SetErrno(ENOSYS);
      return -1;
    }
    return Fail();
  }
  std::lock_guard<std::mutex> g(g_nb_mu);
  if (on) g_nonblocking.insert(fd);
  else g_nonblocking.erase(fd);
  return 0;
}

int GetNonBlocking(fd_t fd, bool* on) {
  if (int err = CheckOpen(fd)) {
    SetErrno(err);
    return -1;
  }
  std::lock_guard<std::mutex> g(g_nb_mu);
  *on = g_nonblocking.count(fd) != 0;
  return 0;
}

fd_t Socket(int family, int type, int proto) {
  // A type no system knows is EINVAL on Linux; Winsock says WSAESOCKTNOSUPPORT.
  if (type < SOCK_STREAM || type > SOCK_SEQPACKET) {
    SetErrno(EINVAL);
    return -1;
  }
  // No handle inheritance: Windows' close-on-exec.
  SOCKET s = WSASocketW(family, type, proto, nullptr, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (s == INVALID_SOCKET) return Fail();
  return fd_t(s);
}

fd_t Accept(fd_t fd, sockaddr* addr, socklen_t* len) {
  SOCKET c = ::accept(SOCKET(fd), addr, len);
  if (c == INVALID_SOCKET) return Fail();
  NoInherit(c);
  // Winsock hands back the listener's non-blocking mode; Python and Linux give a blocking socket.
  u_long mode = 0;
  ioctlsocket(c, FIONBIO, &mode);
  return fd_t(c);
}

// No socketpair() in Winsock: connect two loopback sockets to each other.
int SocketPair(int family, int type, fd_t out[2]) {
  // Only AF_UNIX has pairs, as on Linux; they are emulated over AF_INET loopback.
  if (family != AF_UNIX) {
    SetErrno(family == AF_INET || family == AF_INET6 ? EOPNOTSUPP : EAFNOSUPPORT);
    return -1;
  }
  if (type != SOCK_STREAM && type != SOCK_DGRAM) {
    SetErrno(EINVAL);
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int alen = sizeof addr;
  if (type == SOCK_DGRAM) {
    fd_t a = Socket(AF_INET, SOCK_DGRAM, 0), b = Socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in aa = addr, bb = addr;
    int al = alen, bl = alen;
    if (a < 0 || b < 0 || ::bind(SOCKET(a), (sockaddr*)&aa, alen) || ::bind(SOCKET(b), (sockaddr*)&bb, alen) ||
        getsockname(SOCKET(a), (sockaddr*)&aa, &al) || getsockname(SOCKET(b), (sockaddr*)&bb, &bl) ||
        ::connect(SOCKET(a), (sockaddr*)&bb, bl) || ::connect(SOCKET(b), (sockaddr*)&aa, al)) {
      int err = LastError();
      if (a >= 0) closesocket(SOCKET(a));
      if (b >= 0) closesocket(SOCKET(b));
      SetErrno(err);
      return -1;
    }
    out[0] = a;
    out[1] = b;
    return 0;
  }
  fd_t lst = Socket(AF_INET, SOCK_STREAM, 0);
  if (lst < 0) return -1;
  fd_t a = -1, b = -1;
  if (::bind(SOCKET(lst), (sockaddr*)&addr, alen) || getsockname(SOCKET(lst), (sockaddr*)&addr, &alen) ||
      ::listen(SOCKET(lst), 1))
    goto fail;
  a = Socket(AF_INET, SOCK_STREAM, 0);
  if (a < 0 || ::connect(SOCKET(a), (sockaddr*)&addr, alen)) goto fail;
  b = Accept(lst, nullptr, nullptr);
  if (b < 0) goto fail;
  closesocket(SOCKET(lst));
  out[0] = a;
  out[1] = b;
  return 0;
fail : {
  int err = LastError();
  closesocket(SOCKET(lst));
  if (a >= 0) closesocket(SOCKET(a));
  SetErrno(err);
  return -1;
}
}

int Pipe(fd_t out[2]) {
  (void)out;
  SetErrno(ENOSYS);
  return -1;
}

long Send(fd_t fd, const void* buf, size_t len, int flags) {
  if (UnknownFlags(flags)) return -1;
  int n = ::send(SOCKET(fd), static_cast<const char*>(buf), len > INT_MAX ? INT_MAX : int(len), flags);
  if (n != SOCKET_ERROR) return n;
  // send() on a datagram socket with no peer: POSIX says EDESTADDRREQ.
  int wsa = WSAGetLastError(), type = 0, tl = sizeof type;
  if ((wsa == WSAENOTCONN || wsa == WSAEINVAL) &&
      getsockopt(SOCKET(fd), SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &tl) == 0 && type == SOCK_DGRAM) {
    SetErrno(EDESTADDRREQ);
    return -1;
  }
  WSASetLastError(wsa);
  return Fail();
}
long SendTo(fd_t fd, const void* buf, size_t len, const sockaddr* addr, socklen_t alen, int flags) {
  if (UnknownFlags(flags)) return -1;
  int n = ::sendto(SOCKET(fd), static_cast<const char*>(buf), len > INT_MAX ? INT_MAX : int(len), flags, addr, alen);
  return n == SOCKET_ERROR ? Fail() : n;
}
// A datagram longer than the buffer: Winsock fills the buffer, drops the rest
// and fails with WSAEMSGSIZE; POSIX returns the truncated length. Do as POSIX.
// A read after shutdown(SHUT_RD): Winsock fails WSAESHUTDOWN; POSIX reads EOF. Do as POSIX.
static long Received(int n, int cap) {
  if (n != SOCKET_ERROR) return n;
  int wsa = WSAGetLastError();
  if (wsa == WSAEMSGSIZE || wsa == WSAESHUTDOWN) {
    WSASetLastError(0);
    return wsa == WSAEMSGSIZE ? cap : 0;
  }
  return Fail();
}
// What is worth handing to Winsock for a read of len bytes: wine walks the whole
// buffer of every recv (recv(2**31-1) took minutes), so a huge request gets
// what is queued, but at least 1 MiB (more than any datagram, so none is cut short).
static int ReadCap(fd_t fd, size_t len) {
  const size_t kFloor = size_t(1) << 20;
  if (len <= kFloor) return int(len);
  u_long avail = 0;
  if (ioctlsocket(SOCKET(fd), FIONREAD, &avail) != 0) avail = 0;
  size_t want = avail > kFloor ? size_t(avail) : kFloor;
  if (want > len) want = len;
  return want > size_t(INT_MAX) ? INT_MAX : int(want);
}
long Recv(fd_t fd, void* buf, size_t len, int flags) {
  if (UnknownFlags(flags)) return -1;
  int cap = ReadCap(fd, len);
  return Received(::recv(SOCKET(fd), static_cast<char*>(buf), cap, flags), cap);
}
long RecvFrom(fd_t fd, void* buf, size_t len, sockaddr* addr, socklen_t* alen, int flags) {
  if (UnknownFlags(flags)) return -1;
  int cap = ReadCap(fd, len);
  return Received(::recvfrom(SOCKET(fd), static_cast<char*>(buf), cap, flags, addr, alen), cap);
}

// Winsock's WSASendMsg/WSARecvMsg work on datagram sockets only and carry no
// SCM_RIGHTS: sendMsg/recvMsg (and so fd passing) are ENOSYS here.
size_t CmsgLen(size_t) { return 0; }
size_t CmsgSpace(size_t) { return 0; }
long SendMsg(fd_t, const IoBuf*, size_t, const std::vector<Ancillary>&, const sockaddr*, socklen_t, int) {
  SetErrno(ENOSYS);
  return -1;
}
long RecvMsg(fd_t, IoBuf, void*, size_t, int, std::vector<Ancillary>*, int*, sockaddr*, socklen_t*) {
  SetErrno(ENOSYS);
  return -1;
}

// WSADuplicateSocket into our own process, then a socket from that description.
int GetFileId(fd_t, FileId*) { return ENOSYS; }  // no direct watching on Windows (loop_napi.cc)

fd_t DupAbove(fd_t fd, int) { return Dup(fd); }

fd_t Dup(fd_t fd) {
  WSAPROTOCOL_INFOW info;
  if (WSADuplicateSocketW(SOCKET(fd), GetCurrentProcessId(), &info) != 0) return Fail();
  SOCKET s = WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, &info, 0,
                        WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (s == INVALID_SOCKET) return Fail();
  NoInherit(s);
  return fd_t(s);
}

int WaitReadableOrWake(fd_t, fd_t) { return -ENOSYS; }  // no readiness fds on Windows

int WaitFd(fd_t fd, bool write, int ms) {
  fd_set set, x;
  FD_ZERO(&set);
  FD_ZERO(&x);
  FD_SET(SOCKET(fd), &set);
  FD_SET(SOCKET(fd), &x);  // a failed connect shows up in the except set
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  int n = ::select(0, write ? nullptr : &set, write ? &set : nullptr, &x, &tv);
  if (n == SOCKET_ERROR) return Fail();
  return n > 0 ? 1 : 0;
}

int Select(int nfds, fd_set* r, fd_set* w, fd_set* x, timeval* tv) {
  // Winsock refuses three empty sets; waiting on nothing is a sleep (as in Python).
  if ((!r || !r->fd_count) && (!w || !w->fd_count) && (!x || !x->fd_count)) {
    Sleep(tv ? DWORD(tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000) : INFINITE);
    return 0;
  }
  if (!w || !w->fd_count) {
    int n = ::select(nfds, r, w, x, tv);
    return n == SOCKET_ERROR ? Fail() : n;
  }
  // Winsock reports a failed connect in the except set only, where POSIX makes
  // the socket writable (then SO_ERROR says why). Watch the write set in the
  // except set too and report such sockets writable, as CPython's selectors do.
  fd_set want_w = *w, want_x, got_x;
  if (x) want_x = *x;
  else FD_ZERO(&want_x);
  got_x = want_x;
  for (u_int i = 0; i < want_w.fd_count && got_x.fd_count < FD_SETSIZE; i++) FD_SET(want_w.fd_array[i], &got_x);
  int n = ::select(nfds, r, w, &got_x, tv);
  if (n == SOCKET_ERROR) return Fail();
  if (x) FD_ZERO(x);
  for (u_int i = 0; i < got_x.fd_count; i++) {
    SOCKET s = got_x.fd_array[i];
    if (x && FD_ISSET(s, &want_x)) FD_SET(s, x);
    if (FD_ISSET(s, &want_w) && !FD_ISSET(s, w)) FD_SET(s, w);
  }
  return int((r ? r->fd_count : 0) + w->fd_count + (x ? x->fd_count : 0));
}

bool FitsFdSet(fd_t) { return true; }  // the count is checked instead

int GetSockName(fd_t fd, sockaddr* addr, socklen_t* len) {
  if (::getsockname(SOCKET(fd), addr, len) == 0) return 0;
  if (WSAGetLastError() != WSAEINVAL) return Fail();
  WSAPROTOCOL_INFOW info;
  int il = sizeof info;
  if (getsockopt(SOCKET(fd), SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&info), &il) != 0) return Fail();
  socklen_t want = info.iAddressFamily == AF_INET    ? socklen_t(sizeof(sockaddr_in))
                   : info.iAddressFamily == AF_INET6 ? socklen_t(sizeof(sockaddr_in6))
                                                     : socklen_t(sizeof(addr->sa_family));  // unnamed AF_UNIX
  if (*len < want) {
    SetErrno(EINVAL);
    return -1;
  }
  std::memset(addr, 0, size_t(want));
  addr->sa_family = ADDRESS_FAMILY(info.iAddressFamily);
  *len = want;
  WSASetLastError(0);
  return 0;
}

bool ReadableNow(fd_t fd) {
  fd_set r;
  FD_ZERO(&r);
  FD_SET(SOCKET(fd), &r);
  timeval tv{0, 0};
  return ::select(0, &r, nullptr, nullptr, &tv) > 0;
}

int WaitWritable(fd_t fd) {
  fd_set w, x;
  FD_ZERO(&w);
  FD_ZERO(&x);
  FD_SET(SOCKET(fd), &w);
  FD_SET(SOCKET(fd), &x);  // a failed connect shows up in the except set on Windows
  return ::select(0, nullptr, &w, &x, nullptr) == SOCKET_ERROR ? Fail() : 0;
}

int OpenWake(WakePair* w) {
  fd_t fds[2];
  if (SocketPair(AF_UNIX, SOCK_STREAM, fds) < 0) return -1;
  SetNonBlocking(fds[0], true);
  SetNonBlocking(fds[1], true);
  w->read_fd = fds[0];
  w->write_fd = fds[1];
  return 0;
}

void Wake(const WakePair& w) {
  char b = 1;
  ::send(SOCKET(w.write_fd), &b, 1, 0);
}

void DrainWake(const WakePair& w) {
  char buf[64];
  while (::recv(SOCKET(w.read_fd), buf, sizeof buf, 0) > 0) {
  }
}

void CloseWake(WakePair* w) {
  if (w->read_fd >= 0) Close(w->read_fd);
  if (w->write_fd >= 0) Close(w->write_fd);
  w->read_fd = w->write_fd = -1;
}

}  // namespace iomux::sys
