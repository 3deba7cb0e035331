// The one place where native failures become JS errors.
#pragma once
#include <napi.h>

#include <string>

namespace iomux {

// errno value -> "EBADF"; unknown values -> "Unknown system error N".
const char* ErrnoName(int err);

// A Node-style system error: message "<syscall> <CODE> (errno -N): <strerror>",
// with code, errno (negative, Node's convention) and syscall properties.
Napi::Error SystemError(Napi::Env env, int err, const char* syscall);

[[noreturn]] void ThrowSystemError(Napi::Env env, int err, const char* syscall);

// The address a failed connect/bind/sendto was aimed at, for the error: Node
// names it in the message ("connect ECONNREFUSED 127.0.0.1:1") and sets
// address/port (or path for AF_UNIX).
struct ErrAddress {
  bool unix_path = false;
  std::string host;  // or the path
  int port = -1;
};
Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const ErrAddress& at);
[[noreturn]] void ThrowSystemError(Napi::Env env, int err, const char* syscall, const ErrAddress& at);

// A failed name look-up, shaped like Node's dns errors: code ENOTFOUND/EAI_AGAIN/...,
// errno as libuv's, syscall 'getaddrinfo' or 'getnameinfo', hostname.
[[noreturn]] void ThrowResolveError(Napi::Env env, int gai, const char* syscall, const std::string& host);

// Argument errors with Node's codes: TypeError ERR_INVALID_ARG_TYPE,
// RangeError ERR_OUT_OF_RANGE, TypeError ERR_INVALID_ARG_VALUE (a value of the
// right type that is not acceptable, e.g. a path with a NUL byte).
[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& msg);
[[noreturn]] void ThrowRangeError(Napi::Env env, const std::string& msg);
[[noreturn]] void ThrowInvalidArgValue(Napi::Env env, const std::string& msg);
// An iomux-specific error such as ERR_IOMUX_CLOSED.
[[noreturn]] void ThrowCodeError(Napi::Env env, const char* code, const std::string& msg);

}  // namespace iomux
