// Sockets, socketpair, pipe and close, as flat functions on fds; the Socket
// class in src/ts/socket.ts holds the fd. Would-block comes back as null
// (false for connect), never as an exception: it is the normal case in a loop.
#include <climits>
#include <cstring>
#include <memory>
#include <new>

#include "address.h"
#include "args.h"
#include "backends.h"
#include "errors.h"
#include "instance.h"

namespace iomux {
namespace {

constexpr size_t kScratchKeep = 1 << 20;  // larger reads use a one-off buffer

int IntArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  return int(ArgInt(info, i, what, INT_MIN, INT_MAX));
}

void Own(Napi::Env env, sys::fd_t fd) { GetInstance(env)->owned.insert(fd); }

// Runs `call` until it stops failing with EINTR (PEP 475).
template <typename F>
auto Retry(F call) {
  for (;;) {
    auto r = call();
    if (r >= 0 || sys::LastError() != EINTR) return r;
  }
}

Napi::Value Socket(const Napi::CallbackInfo& info) {
  int family = IntArg(info, 0, "family");
  int type = IntArg(info, 1, "type");
  int proto = IntArg(info, 2, "proto");
  sys::fd_t fd = sys::Socket(family, type, proto);
  if (fd < 0) ThrowSystemError(info.Env(), sys::LastError(), "socket");
  Own(info.Env(), fd);
  return Napi::Number::New(info.Env(), double(fd));
}

// adopt(fd) -> [family, type]: for Socket.fromFd; the fd is then ours to close.
Napi::Value Adopt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  SockAddr a;
  a.len = sizeof a.storage;
  if (getsockname(fd, a.get(), &a.len) < 0) ThrowSystemError(env, sys::LastError(), "getsockname");
  int type = 0;
  socklen_t tl = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &tl) < 0)
    ThrowSystemError(env, sys::LastError(), "getsockopt");
  Own(env, fd);
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set(uint32_t(0), Napi::Number::New(env, a.storage.ss_family));
  r.Set(uint32_t(1), Napi::Number::New(env, type));
  return r;
}

void SetBlocking(const Napi::CallbackInfo& info) {
  sys::fd_t fd = ArgFd(info, 0);
  bool blocking = ArgBool(info, 1, "flag");
  if (sys::SetNonBlocking(fd, !blocking) < 0) ThrowSystemError(info.Env(), sys::LastError(), "fcntl");
}

Napi::Value GetBlocking(const Napi::CallbackInfo& info) {
  sys::fd_t fd = ArgFd(info, 0);
  bool nb = false;
  if (sys::GetNonBlocking(fd, &nb) < 0) ThrowSystemError(info.Env(), sys::LastError(), "fcntl");
  return Napi::Boolean::New(info.Env(), !nb);
}

// bind(fd, family, address)
void Bind(const Napi::CallbackInfo& info) {
  sys::fd_t fd = ArgFd(info, 0);
  SockAddr a = ParseAddress(info.Env(), IntArg(info, 1, "family"), info[2], "bind");
  if (::bind(fd, a.get(), a.len) < 0) ThrowSystemError(info.Env(), sys::LastError(), "bind");
}

void Listen(const Napi::CallbackInfo& info) {
  sys::fd_t fd = ArgFd(info, 0);
  int backlog = int(ArgIntOr(info, 1, "backlog", 0, INT_MAX, SOMAXCONN));
  if (::listen(fd, backlog) < 0) ThrowSystemError(info.Env(), sys::LastError(), "listen");
}

// accept(fd) -> [fd, address] | null
Napi::Value Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  SockAddr a;
  sys::fd_t c;
  for (;;) {
    a.len = sizeof a.storage;
    c = sys::Accept(fd, a.get(), &a.len);
    if (c >= 0) break;
    int err = sys::LastError();
    if (err == EINTR) continue;
    if (sys::WouldBlock(err)) return env.Null();
    ThrowSystemError(env, err, "accept");
  }
  Own(env, c);
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set(uint32_t(0), Napi::Number::New(env, double(c)));
  r.Set(uint32_t(1), AddressToJs(env, a.get(), a.len));
  return r;
}

// Blocking connect interrupted by a signal: the attempt goes on in the kernel;
// wait for it and report its outcome (what Python does for PEP 475).
int FinishInterruptedConnect(sys::fd_t fd) {
  if (sys::WaitWritable(fd) < 0) return sys::LastError();
  int err = 0;
  socklen_t l = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&err), &l) < 0) return sys::LastError();
  return sys::FromSoError(err);
}

// connect(fd, family, address) -> true (connected) | false (in progress)
Napi::Value Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  SockAddr a = ParseAddress(env, IntArg(info, 1, "family"), info[2], "connect");
  if (::connect(fd, a.get(), a.len) == 0) return Napi::Boolean::New(env, true);
  int err = sys::LastError();
  if (err == EINTR) {
    bool nb = false;
    sys::GetNonBlocking(fd, &nb);
    if (nb) return Napi::Boolean::New(env, false);
    err = FinishInterruptedConnect(fd);
    if (err == 0) return Napi::Boolean::New(env, true);
  }
  if (sys::InProgress(err) || sys::WouldBlock(err)) return Napi::Boolean::New(env, false);
  ThrowSystemError(env, err, "connect");
}

// connectError(fd) -> Error | null: the pending SO_ERROR, which reading clears.
Napi::Value ConnectError(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  int err = 0;
  socklen_t l = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&err), &l) < 0)
    ThrowSystemError(env, sys::LastError(), "getsockopt");
  if (err == 0) return env.Null();
  return SystemError(env, sys::FromSoError(err), "connect").Value();
}

// send(fd, data, offset?, length?) -> bytes sent | null
Napi::Value Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  Bytes b = ArgBytesWindow(info, 1, 2, 3);
  long n = Retry([&] { return sys::Send(fd, b.data, b.len); });
  if (n < 0) {
    int err = sys::LastError();
    if (sys::WouldBlock(err)) return env.Null();
    ThrowSystemError(env, err, "send");
  }
  return Napi::Number::New(env, double(n));
}

// sendAll(fd, data): blocking sockets only; a non-blocking socket whose buffer
// fills throws EAGAIN (Python's BlockingIOError), with `bytesSent` on the error.
void SendAll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  Bytes b = ArgBytes(info, 1);
  size_t off = 0;
  while (off < b.len) {
    long n = Retry([&] { return sys::Send(fd, b.data + off, b.len - off); });
    if (n < 0) {
      Napi::Error e = SystemError(env, sys::LastError(), "send");
      e.Set("bytesSent", Napi::Number::New(env, double(off)));
      throw e;
    }
    off += size_t(n);
  }
}

// Large reads get an uninitialised one-off buffer: zero-filling what recv(2**31-1)
// asks for took seconds, and the kernel only writes the bytes that arrive.
uint8_t* ScratchFor(Napi::Env env, size_t n, std::unique_ptr<uint8_t[]>* oneoff) {
  if (n > kScratchKeep) {
    oneoff->reset(new (std::nothrow) uint8_t[n]);
    if (!*oneoff) ThrowSystemError(env, ENOMEM, "recv");
    return oneoff->get();
  }
  auto& s = GetInstance(env)->scratch;
  if (s.size() < n) s.resize(n);
  return s.data();
}

size_t BufsizeArg(const Napi::CallbackInfo& info, size_t i) {
  return size_t(ArgInt(info, i, "bufsize", 0, INT32_MAX));
}

// recv(fd, bufsize) -> Buffer (empty at EOF) | null
Napi::Value Recv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  size_t n = BufsizeArg(info, 1);
  std::unique_ptr<uint8_t[]> oneoff;
  uint8_t* buf = ScratchFor(env, n ? n : 1, &oneoff);
  long r = Retry([&] { return sys::Recv(fd, buf, n); });
  if (r < 0) {
    int err = sys::LastError();
    if (sys::WouldBlock(err)) return env.Null();
    ThrowSystemError(env, err, "recv");
  }
  return Napi::Buffer<uint8_t>::Copy(env, buf, size_t(r));
}

// recvInto(fd, buf, offset?, length?) -> bytes read (0 at EOF) | null
Napi::Value RecvInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  Bytes b = ArgBytesWindow(info, 1, 2, 3, "buf");
  long r = Retry([&] { return sys::Recv(fd, b.data, b.len); });
  if (r < 0) {
    int err = sys::LastError();
    if (sys::WouldBlock(err)) return env.Null();
    ThrowSystemError(env, err, "recv");
  }
  return Napi::Number::New(env, double(r));
}

// sendTo(fd, data, family, address) -> bytes | null
Napi::Value SendTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  ArgBytes(info, 1);  // type errors in argument order
  SockAddr a = ParseAddress(env, IntArg(info, 2, "family"), info[3], "sendto");
  // Taken after ParseAddress, which reads the address array and so can run JS
  // (an index getter) that detaches or shrinks the buffer: an earlier pointer
  // could point at freed memory by the time sendto(2) reads it.
  Bytes b = ArgBytes(info, 1);
  long n = Retry([&] { return sys::SendTo(fd, b.data, b.len, a.get(), a.len); });
  if (n < 0) {
    int err = sys::LastError();
    if (sys::WouldBlock(err)) return env.Null();
    ThrowSystemError(env, err, "sendto");
  }
  return Napi::Number::New(env, double(n));
}

// recvFrom(fd, bufsize) -> [Buffer, address] | null
Napi::Value RecvFrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  size_t n = BufsizeArg(info, 1);
  std::unique_ptr<uint8_t[]> oneoff;
  uint8_t* buf = ScratchFor(env, n ? n : 1, &oneoff);
  SockAddr a;
  long r = Retry([&] {
    a.len = sizeof a.storage;
    return sys::RecvFrom(fd, buf, n, a.get(), &a.len);
  });
  if (r < 0) {
    int err = sys::LastError();
    if (sys::WouldBlock(err)) return env.Null();
    ThrowSystemError(env, err, "recvfrom");
  }
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(uint32_t(0), Napi::Buffer<uint8_t>::Copy(env, buf, size_t(r)));
  // A connected or unnamed peer reports no address.
  out.Set(uint32_t(1), a.len > 0 ? AddressToJs(env, a.get(), a.len) : env.Null());
  return out;
}

void Shutdown(const Napi::CallbackInfo& info) {
  sys::fd_t fd = ArgFd(info, 0);
  int how = int(ArgInt(info, 1, "how", 0, 2));
  if (::shutdown(fd, how) < 0) ThrowSystemError(info.Env(), sys::LastError(), "shutdown");
}

void Close(const Napi::CallbackInfo& info) {
  sys::fd_t fd = ArgFd(info, 0);
  GetInstance(info.Env())->owned.erase(fd);
  if (sys::Close(fd) < 0 && sys::LastError() != EINTR) ThrowSystemError(info.Env(), sys::LastError(), "close");
}

// setsockopt(fd, level, name, value): integer options; SO_LINGER takes the
// linger time in seconds, or a negative value to turn lingering off.
void SetSockOpt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  int level = IntArg(info, 1, "level");
  int name = IntArg(info, 2, "name");
  int value;
  if (info[3].IsBoolean()) value = info[3].As<Napi::Boolean>().Value() ? 1 : 0;
  else value = IntArg(info, 3, "value");
  int r;
  if (level == SOL_SOCKET && name == SO_LINGER) {
    linger l{};
    l.l_onoff = value >= 0;
    l.l_linger = value >= 0 ? value : 0;
    r = setsockopt(fd, level, name, reinterpret_cast<const char*>(&l), sizeof l);
  } else {
    r = setsockopt(fd, level, name, reinterpret_cast<const char*>(&value), sizeof value);
  }
  if (r < 0) ThrowSystemError(env, sys::LastError(), "setsockopt");
}

Napi::Value GetSockOpt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  int level = IntArg(info, 1, "level");
  int name = IntArg(info, 2, "name");
  if (level == SOL_SOCKET && name == SO_LINGER) {
    linger l{};
    socklen_t len = sizeof l;
    if (getsockopt(fd, level, name, reinterpret_cast<char*>(&l), &len) < 0)
      ThrowSystemError(env, sys::LastError(), "getsockopt");
    return Napi::Number::New(env, l.l_onoff ? l.l_linger : -1);
  }
  int value = 0;
  socklen_t len = sizeof value;
  if (getsockopt(fd, level, name, reinterpret_cast<char*>(&value), &len) < 0)
    ThrowSystemError(env, sys::LastError(), "getsockopt");
  return Napi::Number::New(env, value);
}

Napi::Value GetSockName(const Napi::CallbackInfo& info) {
  sys::fd_t fd = ArgFd(info, 0);
  SockAddr a;
  a.len = sizeof a.storage;
  if (getsockname(fd, a.get(), &a.len) < 0) ThrowSystemError(info.Env(), sys::LastError(), "getsockname");
  return AddressToJs(info.Env(), a.get(), a.len);
}

Napi::Value GetPeerName(const Napi::CallbackInfo& info) {
  sys::fd_t fd = ArgFd(info, 0);
  SockAddr a;
  a.len = sizeof a.storage;
  if (getpeername(fd, a.get(), &a.len) < 0) ThrowSystemError(info.Env(), sys::LastError(), "getpeername");
  return AddressToJs(info.Env(), a.get(), a.len);
}

Napi::Value PairToJs(Napi::Env env, sys::fd_t fds[2]) {
  Own(env, fds[0]);
  Own(env, fds[1]);
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set(uint32_t(0), Napi::Number::New(env, double(fds[0])));
  r.Set(uint32_t(1), Napi::Number::New(env, double(fds[1])));
  return r;
}

Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  int family = IntArg(info, 0, "family");
  int type = IntArg(info, 1, "type");
  sys::fd_t fds[2];
  if (sys::SocketPair(family, type, fds) < 0) ThrowSystemError(info.Env(), sys::LastError(), "socketpair");
  return PairToJs(info.Env(), fds);
}

Napi::Value Pipe(const Napi::CallbackInfo& info) {
  sys::fd_t fds[2];
  if (sys::Pipe(fds) < 0) ThrowSystemError(info.Env(), sys::LastError(), "pipe");
  return PairToJs(info.Env(), fds);
}

// systemError(errno, syscall) -> Error: for errors the JS side raises itself
// (e.g. EBADF on a closed Socket), made by the same code as every other.
Napi::Value MakeSystemError(const Napi::CallbackInfo& info) {
  int err = int(ArgInt(info, 0, "errno", 1, INT_MAX));
  if (!info[1].IsString()) ThrowTypeError(info.Env(), "syscall must be a string");
  std::string sc = info[1].As<Napi::String>().Utf8Value();
  return SystemError(info.Env(), err, sc.c_str()).Value();
}

}  // namespace

void InitSocket(Napi::Env env, Napi::Object exports, Instance*) {
  exports.Set("socket", Napi::Function::New<Socket>(env, "socket"));
  exports.Set("adopt", Napi::Function::New<Adopt>(env, "adopt"));
  exports.Set("setBlocking", Napi::Function::New<SetBlocking>(env, "setBlocking"));
  exports.Set("getBlocking", Napi::Function::New<GetBlocking>(env, "getBlocking"));
  exports.Set("bind", Napi::Function::New<Bind>(env, "bind"));
  exports.Set("listen", Napi::Function::New<Listen>(env, "listen"));
  exports.Set("accept", Napi::Function::New<Accept>(env, "accept"));
  exports.Set("connect", Napi::Function::New<Connect>(env, "connect"));
  exports.Set("connectError", Napi::Function::New<ConnectError>(env, "connectError"));
  exports.Set("send", Napi::Function::New<Send>(env, "send"));
  exports.Set("sendAll", Napi::Function::New<SendAll>(env, "sendAll"));
  exports.Set("recv", Napi::Function::New<Recv>(env, "recv"));
  exports.Set("recvInto", Napi::Function::New<RecvInto>(env, "recvInto"));
  exports.Set("sendTo", Napi::Function::New<SendTo>(env, "sendTo"));
  exports.Set("recvFrom", Napi::Function::New<RecvFrom>(env, "recvFrom"));
  exports.Set("shutdown", Napi::Function::New<Shutdown>(env, "shutdown"));
  exports.Set("close", Napi::Function::New<Close>(env, "close"));
  exports.Set("setsockopt", Napi::Function::New<SetSockOpt>(env, "setsockopt"));
  exports.Set("getsockopt", Napi::Function::New<GetSockOpt>(env, "getsockopt"));
  exports.Set("getsockname", Napi::Function::New<GetSockName>(env, "getsockname"));
  exports.Set("getpeername", Napi::Function::New<GetPeerName>(env, "getpeername"));
  exports.Set("socketpair", Napi::Function::New<SocketPair>(env, "socketpair"));
  exports.Set("pipe", Napi::Function::New<Pipe>(env, "pipe"));
  exports.Set("systemError", Napi::Function::New<MakeSystemError>(env, "systemError"));

  Napi::Object c = Napi::Object::New(env);
#define C(name) c.Set(#name, Napi::Number::New(env, name));
  C(AF_INET) C(AF_INET6) C(AF_UNIX) C(SOCK_STREAM) C(SOCK_DGRAM) C(SOL_SOCKET) C(SO_REUSEADDR)
  C(SO_ERROR) C(SO_KEEPALIVE) C(SO_RCVBUF) C(SO_SNDBUF) C(SO_TYPE) C(SO_LINGER) C(IPPROTO_TCP)
  C(TCP_NODELAY) C(IPPROTO_IPV6) C(IPV6_V6ONLY) C(SHUT_RD) C(SHUT_WR) C(SHUT_RDWR)
#ifdef SO_REUSEPORT
  C(SO_REUSEPORT)
#else
  c.Set("SO_REUSEPORT", Napi::Number::New(env, -1));
#endif
#undef C
  exports.Set("socketConstants", c);
}

}  // namespace iomux
