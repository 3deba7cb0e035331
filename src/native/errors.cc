#include "errors.h"

#include <cerrno>
#include <cstring>

#include "sys.h"

namespace iomux {

const char* ErrnoName(int err) {
  switch (err) {
#define E(name) \
  case name:    \
    return #name;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF)
    E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV)
    E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(EFBIG)
    E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(ENAMETOOLONG)
    E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOTSOCK) E(EDESTADDRREQ) E(EMSGSIZE)
    E(EPROTOTYPE) E(ENOPROTOOPT) E(EPROTONOSUPPORT) E(EOPNOTSUPP) E(EAFNOSUPPORT)
    E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENETDOWN) E(ENETUNREACH) E(ECONNABORTED)
    E(ECONNRESET) E(ENOBUFS) E(EISCONN) E(ENOTCONN) E(ETIMEDOUT) E(ECONNREFUSED)
    E(EHOSTUNREACH) E(EALREADY) E(EINPROGRESS)
#ifdef ESOCKTNOSUPPORT
    E(ESOCKTNOSUPPORT)
#endif
#ifdef EPFNOSUPPORT
    E(EPFNOSUPPORT)
#endif
#ifdef ESHUTDOWN
    E(ESHUTDOWN)
#endif
#ifdef EHOSTDOWN
    E(EHOSTDOWN)
#endif
#ifdef EOVERFLOW
    E(EOVERFLOW)
#endif
#undef E
    default:
      return nullptr;
  }
}

static std::string Describe(int err) {
#ifdef _WIN32
  return std::strerror(err);
#else
  char buf[256];
  // XSI and GNU strerror_r differ in return type; handle both.
  auto r = strerror_r(err, buf, sizeof buf);
  if constexpr (std::is_same_v<decltype(r), char*>) {
    return r;
  } else {
    return r == 0 ? buf : "Unknown error";
  }
#endif
}

Napi::Error SystemError(Napi::Env env, int err, const char* syscall) {
  const char* name = ErrnoName(err);
  std::string code = name ? name : "E" + std::to_string(err);
  std::string msg = std::string(syscall) + " " + code + " (errno -" + std::to_string(err) + "): " + Describe(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

void ThrowSystemError(Napi::Env env, int err, const char* syscall) { throw SystemError(env, err, syscall); }
void ThrowTypeError(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }
void ThrowRangeError(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

void ThrowCodeError(Napi::Env env, const char* code, const std::string& msg) {
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  throw e;
}

}  // namespace iomux
