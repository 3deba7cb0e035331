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
[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& msg);
[[noreturn]] void ThrowRangeError(Napi::Env env, const std::string& msg);
// An iomux-specific error such as ERR_IOMUX_CLOSED.
[[noreturn]] void ThrowCodeError(Napi::Env env, const char* code, const std::string& msg);

}  // namespace iomux
