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

// XSI strerror_r (macOS, the BSDs, musl) returns an int, GNU's a char*: an
// overload for each, so that only the one that applies is ever compiled.
[[maybe_unused]] static std::string StrerrorResult(char* r, const char*) { return r; }
[[maybe_unused]] static std::string StrerrorResult(int r, const char* buf) { return r == 0 ? buf : "Unknown error"; }

static std::string Describe(int err) {
#ifdef _WIN32
  return std::strerror(err);
#else
  char buf[256];
  return StrerrorResult(strerror_r(err, buf, sizeof buf), buf);
#endif
}

static Napi::Error Make(Napi::Env env, int err, const char* syscall, const std::string& where) {
  const char* name = ErrnoName(err);
  std::string code = name ? name : "E" + std::to_string(err);
  std::string msg = std::string(syscall) + " " + code + where + " (errno -" + std::to_string(err) + "): " + Describe(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

Napi::Error SystemError(Napi::Env env, int err, const char* syscall) { return Make(env, err, syscall, ""); }

Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const ErrAddress& at) {
  std::string where;
  if (at.unix_path) {
    where = " " + at.host;
  } else {
    where = " " + at.host;
    if (at.port >= 0) where += ":" + std::to_string(at.port);
  }
  Napi::Error e = Make(env, err, syscall, where);
  if (at.unix_path) {
    e.Set("path", Napi::String::New(env, at.host));
  } else {
    e.Set("address", Napi::String::New(env, at.host));
    if (at.port >= 0) e.Set("port", Napi::Number::New(env, at.port));
  }
  return e;
}

void ThrowSystemError(Napi::Env env, int err, const char* syscall) { throw SystemError(env, err, syscall); }
void ThrowSystemError(Napi::Env env, int err, const char* syscall, const ErrAddress& at) {
  throw SystemError(env, err, syscall, at);
}

// Node reports look-up failures with libuv's codes (UV_EAI_*), and ENOTFOUND for "no such name".
void ThrowResolveError(Napi::Env env, int gai, const char* syscall, const std::string& host) {
#ifdef EAI_SYSTEM
  if (gai == EAI_SYSTEM) ThrowSystemError(env, errno ? errno : EIO, syscall);
#endif
  const char* code = "EAI_FAIL";
  int uv = -3004;
  switch (gai) {
    case EAI_NONAME: code = "ENOTFOUND"; uv = -3008; break;
#if defined(EAI_NODATA) && EAI_NODATA != EAI_NONAME
    case EAI_NODATA: code = "ENOTFOUND"; uv = -3007; break;
#endif
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY: code = "ENOTFOUND"; uv = -3000; break;
#endif
    case EAI_AGAIN: code = "EAI_AGAIN"; uv = -3001; break;
    case EAI_BADFLAGS: code = "EAI_BADFLAGS"; uv = -3002; break;
    case EAI_FAMILY: code = "EAI_FAMILY"; uv = -3005; break;
    case EAI_MEMORY: code = "EAI_MEMORY"; uv = -3006; break;
    case EAI_SERVICE: code = "EAI_SERVICE"; uv = -3010; break;
    case EAI_SOCKTYPE: code = "EAI_SOCKTYPE"; uv = -3011; break;
    default: break;
  }
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + " " + code + " " + host + ": " + gai_strerror(gai));
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, uv));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.Set("hostname", Napi::String::New(env, host));
  throw e;
}

static Napi::Error WithCode(Napi::Error e, const char* code) {
  e.Set("code", code);
  return e;
}

void ThrowTypeError(Napi::Env env, const std::string& msg) {
  throw WithCode(Napi::TypeError::New(env, msg), "ERR_INVALID_ARG_TYPE");
}
void ThrowRangeError(Napi::Env env, const std::string& msg) {
  throw WithCode(Napi::RangeError::New(env, msg), "ERR_OUT_OF_RANGE");
}
void ThrowInvalidArgValue(Napi::Env env, const std::string& msg) {
  throw WithCode(Napi::TypeError::New(env, msg), "ERR_INVALID_ARG_VALUE");
}

void ThrowCodeError(Napi::Env env, const char* code, const std::string& msg) {
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  throw e;
}

}  // namespace iomux
