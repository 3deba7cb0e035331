// POSIX half of the platform edge (Linux, macOS, BSDs).
#include "sys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>

namespace iomux::sys {

int Startup() { return 0; }

int LastError() { return errno; }
int FromSoError(int so_error) { return so_error; }
bool WouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK; }
bool InProgress(int err) { return err == EINPROGRESS; }

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int Close(fd_t fd) {
  // Linux and the BSDs release the fd even when close() reports EINTR, so never retry.
  return ::close(int(fd));
}

int CheckOpen(fd_t fd) { return fcntl(int(fd), F_GETFD) < 0 ? errno : 0; }

int SetNonBlocking(fd_t fd, bool on) {
  int flags = fcntl(int(fd), F_GETFL);
  if (flags < 0) return -1;
  int next = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (next == flags) return 0;
  return fcntl(int(fd), F_SETFL, next);
}

int GetNonBlocking(fd_t fd, bool* on) {
  int flags = fcntl(int(fd), F_GETFL);
  if (flags < 0) return -1;
  *on = (flags & O_NONBLOCK) != 0;
  return 0;
}

[[maybe_unused]] static int SetCloexec(int fd) {
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return -1;
  return fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

static void NoSigpipe(int fd) {
#ifdef SO_NOSIGPIPE
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#else
  (void)fd;
#endif
}

fd_t Socket(int family, int type, int proto) {
#ifdef SOCK_CLOEXEC
  int fd = ::socket(family, type | SOCK_CLOEXEC, proto);
#else
  int fd = ::socket(family, type, proto);
  if (fd >= 0 && SetCloexec(fd) < 0) {
    int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
#endif
  if (fd >= 0) NoSigpipe(fd);
  return fd;
}

fd_t Accept(fd_t fd, sockaddr* addr, socklen_t* len) {
#ifdef __linux__
  int c = ::accept4(int(fd), addr, len, SOCK_CLOEXEC);
#else
  int c = ::accept(int(fd), addr, len);
  if (c >= 0) {
    SetCloexec(c);
    // BSD accept() inherits O_NONBLOCK; Python and Linux hand back a blocking socket.
    SetNonBlocking(c, false);
  }
#endif
  if (c >= 0) NoSigpipe(c);
  return c;
}

int SocketPair(int family, int type, fd_t out[2]) {
  int fds[2];
#ifdef SOCK_CLOEXEC
  if (::socketpair(family, type | SOCK_CLOEXEC, 0, fds) < 0) return -1;
#else
  if (::socketpair(family, type, 0, fds) < 0) return -1;
  SetCloexec(fds[0]);
  SetCloexec(fds[1]);
#endif
  NoSigpipe(fds[0]);
  NoSigpipe(fds[1]);
  out[0] = fds[0];
  out[1] = fds[1];
  return 0;
}

int Pipe(fd_t out[2]) {
  int fds[2];
#ifdef __linux__
  if (::pipe2(fds, O_CLOEXEC) < 0) return -1;
#else
  if (::pipe(fds) < 0) return -1;
  SetCloexec(fds[0]);
  SetCloexec(fds[1]);
#endif
  out[0] = fds[0];
  out[1] = fds[1];
  return 0;
}

#ifdef MSG_NOSIGNAL
static constexpr int kSendFlags = MSG_NOSIGNAL;
#else
static constexpr int kSendFlags = 0;  // SO_NOSIGPIPE was set at creation
#endif

long Send(fd_t fd, const void* buf, size_t len, int flags) { return ::send(int(fd), buf, len, kSendFlags | flags); }
long SendTo(fd_t fd, const void* buf, size_t len, const sockaddr* addr, socklen_t alen, int flags) {
  return ::sendto(int(fd), buf, len, kSendFlags | flags, addr, alen);
}
long Recv(fd_t fd, void* buf, size_t len, int flags) { return ::recv(int(fd), buf, len, flags); }
long RecvFrom(fd_t fd, void* buf, size_t len, sockaddr* addr, socklen_t* alen, int flags) {
  return ::recvfrom(int(fd), buf, len, flags, addr, alen);
}

// CMSG_NXTHDR compares a signed with an unsigned length in musl's headers
// (-Wsign-compare); the warning is theirs, so it is silenced here only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
static cmsghdr* NextCmsg(msghdr* m, cmsghdr* c) { return CMSG_NXTHDR(m, c); }
#pragma GCC diagnostic pop

size_t CmsgLen(size_t len) { return CMSG_LEN(len); }
size_t CmsgSpace(size_t len) { return CMSG_SPACE(len); }

long SendMsg(fd_t fd, const IoBuf* bufs, size_t nbufs, const std::vector<Ancillary>& anc, const sockaddr* to,
             socklen_t tolen, int flags) {
  std::vector<iovec> iov(nbufs);
  for (size_t i = 0; i < nbufs; i++) iov[i] = iovec{bufs[i].data, bufs[i].len};
  size_t space = 0;
  for (const auto& a : anc) space += CMSG_SPACE(a.data.size());
  // Zeroed: CMSG_NXTHDR reads the next header's length while walking.
  std::vector<uint8_t> control(space, 0);
  msghdr m{};
  m.msg_name = const_cast<sockaddr*>(to);
  m.msg_namelen = to ? tolen : 0;
  m.msg_iov = iov.data();
  m.msg_iovlen = nbufs;
  if (space) {
    m.msg_control = control.data();
    m.msg_controllen = space;
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    for (const auto& a : anc) {
      c->cmsg_level = a.level;
      c->cmsg_type = a.type;
      c->cmsg_len = CMSG_LEN(a.data.size());
      if (!a.data.empty()) memcpy(CMSG_DATA(c), a.data.data(), a.data.size());
      c = NextCmsg(&m, c);
    }
  }
  return ::sendmsg(int(fd), &m, kSendFlags | flags);
}

long RecvMsg(fd_t fd, IoBuf buf, void* control, size_t controllen, int flags, std::vector<Ancillary>* anc,
             int* msg_flags, sockaddr* from, socklen_t* fromlen) {
  iovec iov{buf.data, buf.len};
  msghdr m{};
  m.msg_name = from;
  m.msg_namelen = from ? *fromlen : 0;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = controllen ? control : nullptr;
  m.msg_controllen = controllen;
  [[maybe_unused]] const int flags_in = flags;
#ifdef MSG_CMSG_CLOEXEC
  flags |= MSG_CMSG_CLOEXEC;
#endif
  long n = ::recvmsg(int(fd), &m, flags);
  if (n < 0) return n;
  if (fromlen) *fromlen = m.msg_namelen;
  *msg_flags = m.msg_flags;
#ifdef MSG_CMSG_CLOEXEC
  // Linux echoes the request flag back; the caller did not ask for it.
  if (!(flags_in & MSG_CMSG_CLOEXEC)) *msg_flags &= ~MSG_CMSG_CLOEXEC;
#endif
  anc->clear();
  if (m.msg_controllen == 0) return n;
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = NextCmsg(&m, c)) {
    // A truncated control buffer can end with a header whose length runs past it.
    uint8_t* data = CMSG_DATA(c);
    uint8_t* end = static_cast<uint8_t*>(control) + m.msg_controllen;
    uint8_t* stop = reinterpret_cast<uint8_t*>(c) + c->cmsg_len;
    if (c->cmsg_len < CMSG_LEN(0) || data > end) break;
    if (stop > end) stop = end;
    Ancillary a{c->cmsg_level, c->cmsg_type, std::vector<uint8_t>(data, stop)};
#ifndef MSG_CMSG_CLOEXEC
    if (a.level == SOL_SOCKET && a.type == SCM_RIGHTS) {
      for (size_t i = 0; i + sizeof(int) <= a.data.size(); i += sizeof(int)) {
        int rfd;
        memcpy(&rfd, a.data.data() + i, sizeof rfd);
        SetCloexec(rfd);
      }
    }
#endif
    anc->push_back(std::move(a));
  }
  return n;
}

fd_t Dup(fd_t fd) { return fcntl(int(fd), F_DUPFD_CLOEXEC, 0); }

fd_t DupAbove(fd_t fd, int floor) {
  // EINVAL: floor >= RLIMIT_NOFILE; EMFILE: no free number from floor up.
  return fcntl(int(fd), F_DUPFD_CLOEXEC, floor);
}

int GetFileId(fd_t fd, FileId* out) {
  struct stat st;
  if (fstat(int(fd), &st) < 0) return errno;
  out->dev = uint64_t(st.st_dev);
  out->ino = uint64_t(st.st_ino);
  return 0;
}

int WaitFd(fd_t fd, bool write, int ms) {
  pollfd p{int(fd), short(write ? POLLOUT : POLLIN), 0};
  int n = ::poll(&p, 1, ms);
  if (n < 0) return -1;
  if (n > 0 && (p.revents & POLLNVAL)) {
    errno = EBADF;
    return -1;
  }
  return n > 0 ? 1 : 0;
}

int WaitReadableOrWake(fd_t fd, fd_t wake_fd) {
  pollfd p[2] = {{int(fd), POLLIN, 0}, {int(wake_fd), POLLIN, 0}};
  if (::poll(p, 2, -1) < 0) return -errno;
  return p[0].revents ? 1 : 0;
}

int Select(int nfds, fd_set* r, fd_set* w, fd_set* x, timeval* tv) { return ::select(nfds, r, w, x, tv); }

bool FitsFdSet(fd_t fd) { return fd < FD_SETSIZE; }

int GetSockName(fd_t fd, sockaddr* addr, socklen_t* len) { return ::getsockname(int(fd), addr, len); }

bool ReadableNow(fd_t fd) {
  pollfd p{int(fd), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

int WaitWritable(fd_t fd) {
  for (;;) {
    pollfd p{int(fd), POLLOUT, 0};
    int n = ::poll(&p, 1, -1);
    if (n >= 0) return 0;
    if (errno != EINTR) return -1;
  }
}

int OpenWake(WakePair* w) {
  fd_t fds[2];
  if (Pipe(fds) < 0) return -1;
  SetNonBlocking(fds[0], true);
  SetNonBlocking(fds[1], true);
  w->read_fd = fds[0];
  w->write_fd = fds[1];
  return 0;
}

void Wake(const WakePair& w) {
  char b = 1;
  // A full pipe already means "wake up"; nothing else can go wrong that we could act on.
  ssize_t r;
  do r = ::write(int(w.write_fd), &b, 1);
  while (r < 0 && errno == EINTR);
}

void DrainWake(const WakePair& w) {
  char buf[64];
  while (::read(int(w.read_fd), buf, sizeof buf) > 0) {
  }
}

void CloseWake(WakePair* w) {
  if (w->read_fd >= 0) ::close(int(w->read_fd));
  if (w->write_fd >= 0) ::close(int(w->write_fd));
  w->read_fd = w->write_fd = -1;
}

}  // namespace iomux::sys
