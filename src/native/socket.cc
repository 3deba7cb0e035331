// Sockets, socketpair, pipe and close, as flat functions on fds; the Socket
// class in src/ts/socket.ts holds the fd. Would-block comes back as null
// (false for connect), never as an exception: it is the normal case in a loop.
#include <climits>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

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
  if (sys::GetSockName(fd, a.get(), &a.len) < 0) ThrowSystemError(env, sys::LastError(), "getsockname");
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
  if (::bind(fd, a.get(), a.len) < 0) ThrowSystemError(info.Env(), sys::LastError(), "bind", DescribeAddress(a));
}

// listen(fd, backlog?): Python's rules: negative is 0, the default min(SOMAXCONN, 128).
void Listen(const Napi::CallbackInfo& info) {
  sys::fd_t fd = ArgFd(info, 0);
  int backlog = int(ArgIntOr(info, 1, "backlog", INT_MIN, INT_MAX, SOMAXCONN < 128 ? SOMAXCONN : 128));
  if (backlog < 0) backlog = 0;
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
  ThrowSystemError(env, err, "connect", DescribeAddress(a));
}

// connectError(fd, family?, address?) -> Error | null: the pending SO_ERROR,
// which reading clears; named after the address the connect was aimed at, if given.
Napi::Value ConnectError(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  int err = 0;
  socklen_t l = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&err), &l) < 0)
    ThrowSystemError(env, sys::LastError(), "getsockopt");
  if (err == 0) return env.Null();
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    SockAddr a = ParseAddress(env, IntArg(info, 1, "family"), info[2], "connect");
    return SystemError(env, sys::FromSoError(err), "connect", DescribeAddress(a)).Value();
  }
  return SystemError(env, sys::FromSoError(err), "connect").Value();
}

// Optional MSG_* flags: left off (the hot paths) they cost no Node-API call.
int FlagsArg(const Napi::CallbackInfo& info, size_t i) { return int(ArgIntOr(info, i, "flags", INT_MIN, INT_MAX, 0)); }

// send(fd, data, offset?, length?, flags?) -> bytes sent | null
Napi::Value Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  Bytes b = ArgBytesWindow(info, 1, 2, 3);
  int flags = FlagsArg(info, 4);
  long n = Retry([&] { return sys::Send(fd, b.data, b.len, flags); });
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

// recv(fd, bufsize, flags?) -> Buffer (empty at EOF) | null
Napi::Value Recv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  size_t n = BufsizeArg(info, 1);
  int flags = FlagsArg(info, 2);
  std::unique_ptr<uint8_t[]> oneoff;
  uint8_t* buf = ScratchFor(env, n ? n : 1, &oneoff);
  long r = Retry([&] { return sys::Recv(fd, buf, n, flags); });
  if (r < 0) {
    int err = sys::LastError();
    if (sys::WouldBlock(err)) return env.Null();
    ThrowSystemError(env, err, "recv");
  }
  // MSG_TRUNC makes Linux report the datagram's full length, which can exceed the buffer.
  return Napi::Buffer<uint8_t>::Copy(env, buf, size_t(r) < n ? size_t(r) : n);
}

// recvInto(fd, buf, offset?, length?, flags?) -> bytes read (0 at EOF) | null
Napi::Value RecvInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  Bytes b = ArgBytesWindow(info, 1, 2, 3, "buf");
  int flags = FlagsArg(info, 4);
  long r = Retry([&] { return sys::Recv(fd, b.data, b.len, flags); });
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
    ThrowSystemError(env, err, "sendto", DescribeAddress(a));
  }
  return Napi::Number::New(env, double(n));
}

// recvFrom(fd, bufsize, flags?) -> [Buffer, address] | null
Napi::Value RecvFrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  size_t n = BufsizeArg(info, 1);
  int flags = FlagsArg(info, 2);
  std::unique_ptr<uint8_t[]> oneoff;
  uint8_t* buf = ScratchFor(env, n ? n : 1, &oneoff);
  SockAddr a;
  long r = Retry([&] {
    a.len = sizeof a.storage;
    return sys::RecvFrom(fd, buf, n, a.get(), &a.len, flags);
  });
  if (r < 0) {
    int err = sys::LastError();
    if (sys::WouldBlock(err)) return env.Null();
    ThrowSystemError(env, err, "recvfrom");
  }
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(uint32_t(0), Napi::Buffer<uint8_t>::Copy(env, buf, size_t(r) < n ? size_t(r) : n));
  // A connected or unnamed peer reports no address.
  out.Set(uint32_t(1), a.len > 0 ? AddressToJs(env, a.get(), a.len) : env.Null());
  return out;
}

// recvFromInto(fd, buf, offset?, length?, flags?) -> [bytes, address | null] | null
Napi::Value RecvFromInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  Bytes b = ArgBytesWindow(info, 1, 2, 3, "buf");
  int flags = FlagsArg(info, 4);
  SockAddr a;
  long r = Retry([&] {
    a.len = sizeof a.storage;
    return sys::RecvFrom(fd, b.data, b.len, a.get(), &a.len, flags);
  });
  if (r < 0) {
    int err = sys::LastError();
    if (sys::WouldBlock(err)) return env.Null();
    ThrowSystemError(env, err, "recvfrom");
  }
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(uint32_t(0), Napi::Number::New(env, double(r)));
  out.Set(uint32_t(1), a.len > 0 ? AddressToJs(env, a.get(), a.len) : env.Null());
  return out;
}

constexpr uint32_t kMaxBuffers = 1024;          // IOV_MAX on Linux and the BSDs
constexpr size_t kMaxAncillary = 1 << 20;       // far above what any kernel accepts (optmem_max)

// sendMsg(fd, buffers, ancdata?, flags?, family?, address?) -> bytes | null
Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  if (!info[1].IsArray()) ThrowTypeError(env, "buffers must be an array of Buffers/TypedArrays");
  Napi::Array bufs = info[1].As<Napi::Array>();
  uint32_t nbufs = bufs.Length();
  if (nbufs > kMaxBuffers) ThrowRangeError(env, "buffers must hold at most " + std::to_string(kMaxBuffers) + " entries");
  // Every element is read first (a getter can run JS and detach a buffer read
  // earlier); pointers are taken only once no more JS can run.
  std::vector<napi_value> views(nbufs);
  for (uint32_t i = 0; i < nbufs; i++) views[i] = bufs.Get(i);
  std::vector<sys::Ancillary> anc;
  if (info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull()) {
    if (!info[2].IsArray()) ThrowTypeError(env, "ancdata must be an array of [level, type, data]");
    Napi::Array list = info[2].As<Napi::Array>();
    uint32_t n = list.Length();
    if (n > kMaxBuffers) ThrowRangeError(env, "ancdata must hold at most " + std::to_string(kMaxBuffers) + " entries");
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
      Napi::Value item = list.Get(i);
      if (!item.IsArray() || item.As<Napi::Array>().Length() != 3)
        ThrowTypeError(env, "each ancdata item must be [level, type, data]");
      Napi::Array t = item.As<Napi::Array>();
      Napi::Value lv = t.Get(uint32_t(0)), tv = t.Get(uint32_t(1)), dv = t.Get(uint32_t(2));
      if (!lv.IsNumber() || !tv.IsNumber()) ThrowTypeError(env, "ancdata level and type must be integers");
      double ld = lv.As<Napi::Number>().DoubleValue(), td = tv.As<Napi::Number>().DoubleValue();
      if (std::trunc(ld) != ld || std::trunc(td) != td) ThrowTypeError(env, "ancdata level and type must be integers");
      if (ld < INT_MIN || ld > INT_MAX || td < INT_MIN || td > INT_MAX) ThrowRangeError(env, "ancdata level/type out of range");
      if (!dv.IsTypedArray() && !dv.IsDataView()) ThrowTypeError(env, "ancdata data must be a Buffer, TypedArray or DataView");
      Bytes d = ToBytes(env, dv, "ancdata data");
      total += d.len;
      if (total > kMaxAncillary) ThrowRangeError(env, "ancdata is too large");
      // Copied at once: later getters cannot reach it.
      anc.push_back(sys::Ancillary{int(ld), int(td), std::vector<uint8_t>(d.data, d.data + d.len)});
    }
  }
  int flags = FlagsArg(info, 3);
  SockAddr to;
  bool has_to = info.Length() > 5 && !info[5].IsUndefined() && !info[5].IsNull();
  if (has_to) to = ParseAddress(env, IntArg(info, 4, "family"), info[5], "sendmsg");
  std::vector<sys::IoBuf> io(nbufs);
  for (uint32_t i = 0; i < nbufs; i++) {
    Bytes b = ToBytes(env, Napi::Value(env, views[i]), "buffers[i]");
    io[i] = sys::IoBuf{b.data, b.len};
  }
  long n = Retry([&] { return sys::SendMsg(fd, io.data(), io.size(), anc, has_to ? to.get() : nullptr, to.len, flags); });
  if (n < 0) {
    int err = sys::LastError();
    if (sys::WouldBlock(err)) return env.Null();
    if (has_to) ThrowSystemError(env, err, "sendmsg", DescribeAddress(to));
    ThrowSystemError(env, err, "sendmsg");
  }
  return Napi::Number::New(env, double(n));
}

// recvMsg(fd, bufsize, ancbufsize?, flags?) -> [Buffer, [[level, type, Buffer]...], msgFlags, address | null] | null
Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  size_t n = BufsizeArg(info, 1);
  size_t ancsize = size_t(ArgIntOr(info, 2, "ancbufsize", 0, int64_t(kMaxAncillary), 0));
  int flags = FlagsArg(info, 3);
  std::unique_ptr<uint8_t[]> oneoff;
  uint8_t* buf = ScratchFor(env, n ? n : 1, &oneoff);
  // Aligned for cmsghdr, as CMSG_FIRSTHDR expects.
  std::vector<uint64_t> control((ancsize + 7) / 8 + 1);
  std::vector<sys::Ancillary> anc;
  int msg_flags = 0;
  SockAddr a;
  long r = Retry([&] {
    a.len = sizeof a.storage;
    return sys::RecvMsg(fd, sys::IoBuf{buf, n}, control.data(), ancsize, flags, &anc, &msg_flags, a.get(), &a.len);
  });
  if (r < 0) {
    int err = sys::LastError();
    if (sys::WouldBlock(err)) return env.Null();
    ThrowSystemError(env, err, "recvmsg");
  }
  Napi::Array list = Napi::Array::New(env, anc.size());
  for (size_t i = 0; i < anc.size(); i++) {
    Napi::Array t = Napi::Array::New(env, 3);
    t.Set(uint32_t(0), Napi::Number::New(env, anc[i].level));
    t.Set(uint32_t(1), Napi::Number::New(env, anc[i].type));
    t.Set(uint32_t(2), Napi::Buffer<uint8_t>::Copy(env, anc[i].data.data(), anc[i].data.size()));
    list.Set(uint32_t(i), t);
  }
  Napi::Array out = Napi::Array::New(env, 4);
  out.Set(uint32_t(0), Napi::Buffer<uint8_t>::Copy(env, buf, size_t(r) < n ? size_t(r) : n));
  out.Set(uint32_t(1), list);
  out.Set(uint32_t(2), Napi::Number::New(env, double(uint32_t(msg_flags))));
  out.Set(uint32_t(3), a.len > 0 ? AddressToJs(env, a.get(), a.len) : env.Null());
  return out;
}

Napi::Value CmsgLen(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(sys::CmsgLen(size_t(ArgInt(info, 0, "length", 0, INT32_MAX)))));
}
Napi::Value CmsgSpace(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(sys::CmsgSpace(size_t(ArgInt(info, 0, "length", 0, INT32_MAX)))));
}

// dup(fd) -> a new close-on-exec fd for the same socket, owned like any other.
Napi::Value Dup(const Napi::CallbackInfo& info) {
  sys::fd_t fd = ArgFd(info, 0);
  sys::fd_t d = sys::Dup(fd);
  if (d < 0) ThrowSystemError(info.Env(), sys::LastError(), "dup");
  Own(info.Env(), d);
  return Napi::Number::New(info.Env(), double(d));
}

// disown(fd): detach(): the fd stays open but is no longer closed by us.
void Disown(const Napi::CallbackInfo& info) { GetInstance(info.Env())->owned.erase(ArgFd(info, 0)); }

// waitFd(fd, write, timeoutMs) -> true when ready, false when the time ran out.
// For sockets with a timeout; EINTR waits again for what is left (PEP 475).
Napi::Value WaitFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sys::fd_t fd = ArgFd(info, 0);
  bool write = ArgBool(info, 1, "write");
  Deadline d(ArgTimeout(info, 2));
  int ms;
  while (d.NextMs(&ms)) {
    int r = sys::WaitFd(fd, write, ms);
    if (r > 0) return Napi::Boolean::New(env, true);
    if (r < 0) {
      if (sys::LastError() == EINTR) continue;
      ThrowSystemError(env, sys::LastError(), "poll");
    }
    if (d.infinite()) continue;
  }
  return Napi::Boolean::New(env, false);
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
  if (info[3].IsTypedArray() || info[3].IsDataView()) {
    // Raw bytes, as Python's setsockopt(level, name, bytes): ip_mreq and friends.
    Bytes b = ToBytes(env, info[3], "value");
    if (b.len > INT_MAX) ThrowRangeError(env, "value is too large");
    if (setsockopt(fd, level, name, reinterpret_cast<const char*>(b.data), socklen_t(b.len)) < 0)
      ThrowSystemError(env, sys::LastError(), "setsockopt");
    return;
  }
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
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    // buflen: the raw option bytes, as Python (1..1024 like CPython).
    int buflen = int(ArgInt(info, 3, "buflen", 1, 1024));
    uint8_t raw[1024];
    socklen_t len = socklen_t(buflen);
    if (getsockopt(fd, level, name, reinterpret_cast<char*>(raw), &len) < 0)
      ThrowSystemError(env, sys::LastError(), "getsockopt");
    return Napi::Buffer<uint8_t>::Copy(env, raw, size_t(len) < size_t(buflen) ? size_t(len) : size_t(buflen));
  }
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
  if (sys::GetSockName(fd, a.get(), &a.len) < 0) ThrowSystemError(info.Env(), sys::LastError(), "getsockname");
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

// systemError(errno, syscall, family?, address?) -> Error: for errors the JS side raises itself
// (e.g. EBADF on a closed Socket), made by the same code as every other.
Napi::Value MakeSystemError(const Napi::CallbackInfo& info) {
  int err = int(ArgInt(info, 0, "errno", 1, INT_MAX));
  if (!info[1].IsString()) ThrowTypeError(info.Env(), "syscall must be a string");
  std::string sc = info[1].As<Napi::String>().Utf8Value();
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    SockAddr a = ParseAddress(info.Env(), IntArg(info, 2, "family"), info[3], sc.c_str());
    return SystemError(info.Env(), err, sc.c_str(), DescribeAddress(a)).Value();
  }
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
  exports.Set("recvFromInto", Napi::Function::New<RecvFromInto>(env, "recvFromInto"));
  exports.Set("sendMsg", Napi::Function::New<SendMsg>(env, "sendMsg"));
  exports.Set("recvMsg", Napi::Function::New<RecvMsg>(env, "recvMsg"));
  exports.Set("cmsgLen", Napi::Function::New<CmsgLen>(env, "cmsgLen"));
  exports.Set("cmsgSpace", Napi::Function::New<CmsgSpace>(env, "cmsgSpace"));
  exports.Set("dup", Napi::Function::New<Dup>(env, "dup"));
  exports.Set("disown", Napi::Function::New<Disown>(env, "disown"));
  exports.Set("waitFd", Napi::Function::New<WaitFd>(env, "waitFd"));

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
  // Part 2: -1 where the platform has no such constant.
#define O(name) c.Set(#name, Napi::Number::New(env, double(name)));
#define N(name) c.Set(#name, Napi::Number::New(env, -1));
  O(AF_UNSPEC) O(SOCK_SEQPACKET) O(SOCK_RAW) O(IPPROTO_IP) O(IPPROTO_UDP)
#ifdef AI_PASSIVE
  O(AI_PASSIVE)
#else
  N(AI_PASSIVE)
#endif
#ifdef AI_CANONNAME
  O(AI_CANONNAME)
#else
  N(AI_CANONNAME)
#endif
#ifdef AI_NUMERICHOST
  O(AI_NUMERICHOST)
#else
  N(AI_NUMERICHOST)
#endif
#ifdef AI_NUMERICSERV
  O(AI_NUMERICSERV)
#else
  N(AI_NUMERICSERV)
#endif
#ifdef AI_ADDRCONFIG
  O(AI_ADDRCONFIG)
#else
  N(AI_ADDRCONFIG)
#endif
#ifdef NI_NUMERICHOST
  O(NI_NUMERICHOST)
#else
  N(NI_NUMERICHOST)
#endif
#ifdef NI_NUMERICSERV
  O(NI_NUMERICSERV)
#else
  N(NI_NUMERICSERV)
#endif
#ifdef NI_NAMEREQD
  O(NI_NAMEREQD)
#else
  N(NI_NAMEREQD)
#endif
#ifdef NI_DGRAM
  O(NI_DGRAM)
#else
  N(NI_DGRAM)
#endif
#ifdef MSG_PEEK
  O(MSG_PEEK)
#else
  N(MSG_PEEK)
#endif
#ifdef MSG_OOB
  O(MSG_OOB)
#else
  N(MSG_OOB)
#endif
#ifdef MSG_TRUNC
  O(MSG_TRUNC)
#else
  N(MSG_TRUNC)
#endif
#ifdef MSG_CTRUNC
  O(MSG_CTRUNC)
#else
  N(MSG_CTRUNC)
#endif
#ifdef MSG_WAITALL
  O(MSG_WAITALL)
#else
  N(MSG_WAITALL)
#endif
#ifdef SO_BROADCAST
  O(SO_BROADCAST)
#else
  N(SO_BROADCAST)
#endif
#ifdef SO_RCVTIMEO
  O(SO_RCVTIMEO)
#else
  N(SO_RCVTIMEO)
#endif
#ifdef SO_SNDTIMEO
  O(SO_SNDTIMEO)
#else
  N(SO_SNDTIMEO)
#endif
#ifdef SOMAXCONN
  O(SOMAXCONN)
#else
  N(SOMAXCONN)
#endif
#ifdef IP_TTL
  O(IP_TTL)
#else
  N(IP_TTL)
#endif
#ifdef IP_MULTICAST_TTL
  O(IP_MULTICAST_TTL)
#else
  N(IP_MULTICAST_TTL)
#endif
#ifdef IP_MULTICAST_LOOP
  O(IP_MULTICAST_LOOP)
#else
  N(IP_MULTICAST_LOOP)
#endif
#ifdef IP_ADD_MEMBERSHIP
  O(IP_ADD_MEMBERSHIP)
#else
  N(IP_ADD_MEMBERSHIP)
#endif
#ifdef IP_DROP_MEMBERSHIP
  O(IP_DROP_MEMBERSHIP)
#else
  N(IP_DROP_MEMBERSHIP)
#endif
#ifdef IPV6_JOIN_GROUP
  O(IPV6_JOIN_GROUP)
#else
  N(IPV6_JOIN_GROUP)
#endif
#ifdef IPV6_LEAVE_GROUP
  O(IPV6_LEAVE_GROUP)
#else
  N(IPV6_LEAVE_GROUP)
#endif
#ifdef IPV6_MULTICAST_HOPS
  O(IPV6_MULTICAST_HOPS)
#else
  N(IPV6_MULTICAST_HOPS)
#endif
#ifdef IP_MULTICAST_IF
  O(IP_MULTICAST_IF)
#else
  N(IP_MULTICAST_IF)
#endif
#ifdef INADDR_ANY
  O(INADDR_ANY)
#else
  N(INADDR_ANY)
#endif
#ifdef INADDR_LOOPBACK
  O(INADDR_LOOPBACK)
#else
  N(INADDR_LOOPBACK)
#endif
#ifdef MSG_DONTWAIT
  O(MSG_DONTWAIT)
#else
  N(MSG_DONTWAIT)
#endif
#ifdef MSG_NOSIGNAL
  O(MSG_NOSIGNAL)
#else
  N(MSG_NOSIGNAL)
#endif
#ifdef MSG_CMSG_CLOEXEC
  O(MSG_CMSG_CLOEXEC)
#else
  N(MSG_CMSG_CLOEXEC)
#endif
#ifdef SCM_RIGHTS
  O(SCM_RIGHTS)
#else
  N(SCM_RIGHTS)
#endif
#ifdef SCM_CREDENTIALS
  O(SCM_CREDENTIALS)
#else
  N(SCM_CREDENTIALS)
#endif
#ifdef SO_PEERCRED
  O(SO_PEERCRED)
#else
  N(SO_PEERCRED)
#endif
#ifdef SO_PASSCRED
  O(SO_PASSCRED)
#else
  N(SO_PASSCRED)
#endif
#ifdef TCP_KEEPIDLE
  O(TCP_KEEPIDLE)
#else
  N(TCP_KEEPIDLE)
#endif
#ifdef TCP_KEEPINTVL
  O(TCP_KEEPINTVL)
#else
  N(TCP_KEEPINTVL)
#endif
#ifdef TCP_KEEPCNT
  O(TCP_KEEPCNT)
#else
  N(TCP_KEEPCNT)
#endif
#ifdef EAI_NONAME
  O(EAI_NONAME)
#endif
#undef O
#undef N
#undef C
  exports.Set("socketConstants", c);
}

}  // namespace iomux
