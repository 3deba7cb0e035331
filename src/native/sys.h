// Platform edge. Everything that differs between POSIX and Winsock is declared
// here and implemented in sys_posix.cc / sys_win.cc; the rest of the addon only
// includes this header.
#pragma once

#ifdef _WIN32
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0A00  // inet_pton/ntop, AF_UNIX, WSA_FLAG_NO_HANDLE_INHERIT
#endif
// Winsock's fd_set is an array of handles whose size is fixed at compile time;
// raise it before winsock2.h is seen anywhere.
#ifndef FD_SETSIZE
#define FD_SETSIZE 1024
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <afunix.h>
#ifndef SHUT_RD
#define SHUT_RD SD_RECEIVE
#define SHUT_WR SD_SEND
#define SHUT_RDWR SD_BOTH
#endif
#else
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace iomux::sys {

// An fd as JS sees it: a POSIX fd, or a SOCKET value on Windows.
using fd_t = int64_t;

// Once per process before any socket call (WSAStartup on Windows); 0 on success.
int Startup();

// The errno of the last failed call, with Winsock codes mapped to errno values.
int LastError();
// An SO_ERROR value as an errno value (Winsock reports WSA codes there).
int FromSoError(int so_error);
bool WouldBlock(int err);
bool InProgress(int err);

// Monotonic clock in nanoseconds.
int64_t NowNs();

int Close(fd_t fd);
// 0 when fd is open, else the errno (EBADF).
int CheckOpen(fd_t fd);
int SetNonBlocking(fd_t fd, bool on);
int GetNonBlocking(fd_t fd, bool* on);

// New sockets and pipes, always close-on-exec (and without SIGPIPE on BSDs).
fd_t Socket(int family, int type, int proto);
fd_t Accept(fd_t fd, sockaddr* addr, socklen_t* len);
int SocketPair(int family, int type, fd_t out[2]);
int Pipe(fd_t out[2]);

// send(2) without SIGPIPE. `flags` are MSG_* bits (0 on the hot paths).
long Send(fd_t fd, const void* buf, size_t len, int flags = 0);
long SendTo(fd_t fd, const void* buf, size_t len, const sockaddr* addr, socklen_t alen, int flags = 0);
long Recv(fd_t fd, void* buf, size_t len, int flags = 0);
long RecvFrom(fd_t fd, void* buf, size_t len, sockaddr* addr, socklen_t* alen, int flags = 0);

// sendmsg(2)/recvmsg(2) with ancillary data; ENOSYS where the platform lacks them.
struct IoBuf {
  void* data;
  size_t len;
};
struct Ancillary {
  int level;
  int type;
  std::vector<uint8_t> data;
};
long SendMsg(fd_t fd, const IoBuf* bufs, size_t nbufs, const std::vector<Ancillary>& anc, const sockaddr* to,
             socklen_t tolen, int flags);
// `control` is scratch space of `controllen` bytes for the ancillary data, which
// comes back parsed in `anc`. Received fds are close-on-exec.
long RecvMsg(fd_t fd, IoBuf buf, void* control, size_t controllen, int flags, std::vector<Ancillary>* anc,
             int* msg_flags, sockaddr* from, socklen_t* fromlen);
// CMSG_LEN / CMSG_SPACE: 0 where there is no sendmsg.
size_t CmsgLen(size_t len);
size_t CmsgSpace(size_t len);

// getsockname(2). An unbound socket has the family's zero address (Winsock
// says WSAEINVAL there; POSIX and Python give the zero address).
int GetSockName(fd_t fd, sockaddr* addr, socklen_t* len);

// A new fd for the same open socket, close-on-exec.
fd_t Dup(fd_t fd);
// The same, numbered from `floor` up; EINVAL when the fd limit is at or below
// `floor`, EMFILE when no number from `floor` up is free.
fd_t DupAbove(fd_t fd, int floor);
// Which open file an fd refers to now (device and inode), to notice an fd that
// was closed and its number reused; 0 or an errno (ENOSYS on Windows).
struct FileId {
  uint64_t dev = 0;
  uint64_t ino = 0;
  bool operator==(const FileId& o) const { return dev == o.dev && ino == o.ino; }
};
int GetFileId(fd_t fd, FileId* out);
// Waits up to ms (>= 0) for fd to become readable (or writable); 1 ready,
// 0 timed out, -1 error (EINTR included: the caller retries with what is left).
int WaitFd(fd_t fd, bool write, int ms);
// Blocks until fd or wake_fd is readable: 1 fd is (whatever wake_fd is), 0 only
// wake_fd, -errno on failure (-EINTR included). POSIX only (-ENOSYS elsewhere).
int WaitReadableOrWake(fd_t fd, fd_t wake_fd);

// select(2) on the platform's fd_sets. POSIX fd_sets are bitmaps indexed by fd,
// so an fd must be < FD_SETSIZE; Winsock's are arrays of at most FD_SETSIZE handles.
int Select(int nfds, fd_set* r, fd_set* w, fd_set* x, timeval* tv);
bool FitsFdSet(fd_t fd);
// True when fd is readable right now (a zero-timeout check).
bool ReadableNow(fd_t fd);
// Blocks until a connecting socket is writable (its connect finished); 0 or -1.
int WaitWritable(fd_t fd);

// A wake-up channel for threads blocked in select/poll: a pipe on POSIX, a
// loopback socket pair on Windows (Winsock's select takes only sockets).
struct WakePair {
  fd_t read_fd = -1;
  fd_t write_fd = -1;
};
int OpenWake(WakePair* w);
void Wake(const WakePair& w);
void DrainWake(const WakePair& w);
void CloseWake(WakePair* w);

}  // namespace iomux::sys
