// Argument checks. Every value from JS passes through one of these before it
// reaches a syscall or a buffer: wrong type -> TypeError, out of range -> RangeError.
#pragma once
#include <napi.h>

#include <cstdint>

#include "sys.h"

namespace iomux {

// A non-negative integer fd (any JS number that is an integer in range).
sys::fd_t ArgFd(const Napi::CallbackInfo& info, size_t i, const char* what = "fd");
sys::fd_t ToFd(Napi::Env env, Napi::Value v, const char* what = "fd");

// An integer in [lo, hi]; `def` when the argument is undefined (if allowed).
int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t lo, int64_t hi);
int64_t ArgIntOr(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t lo, int64_t hi,
                 int64_t def);

// A 32-bit event mask given as a signed or unsigned 32-bit integer; RangeError
// for bits outside `allowed`.
uint32_t ArgMask(const Napi::CallbackInfo& info, size_t i, uint32_t allowed, const char* what = "eventmask");
uint32_t ArgMaskOr(const Napi::CallbackInfo& info, size_t i, uint32_t allowed, uint32_t def,
                   const char* what = "eventmask");

bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* what);

// Timeouts in milliseconds, as the contract says: undefined/null/Infinity block,
// <= 0 polls, NaN or a non-number is a TypeError.
struct Timeout {
  bool infinite = true;
  double ms = 0;  // >= 0 when !infinite
};
Timeout ArgTimeout(const Napi::CallbackInfo& info, size_t i);

// The same checks on a raw napi_value (hot paths that skip Napi::CallbackInfo).
Timeout ParseTimeout(napi_env env, napi_value v);
int64_t ParseInt(napi_env env, napi_value v, const char* what, int64_t lo, int64_t hi);
int64_t ParseIntOr(napi_env env, napi_value v, const char* what, int64_t lo, int64_t hi, int64_t def);

// Bytes of a Buffer/TypedArray/DataView, with an optional (offset, length)
// window checked against its size.
struct Bytes {
  uint8_t* data = nullptr;
  size_t len = 0;
};
Bytes ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* what = "data");
Bytes ToBytes(Napi::Env env, napi_value v, const char* what = "data");
Bytes ArgBytesWindow(const Napi::CallbackInfo& info, size_t i, size_t off_i, size_t len_i,
                     const char* what = "data");

// A deadline for waits that are retried after EINTR or taken in pieces.
class Deadline {
 public:
  explicit Deadline(const Timeout& t);
  bool infinite() const { return infinite_; }
  // The next piece to wait, rounded up; -1 when infinite. False once expired.
  bool NextMs(int* ms);
  bool NextUs(int64_t* us);
  // The same in units of unit_ns (1000 = us, 1000000 = ms).
  bool Next(int64_t unit_ns, int64_t* out);

 private:
  bool Remaining(int64_t* ns);
  bool infinite_;
  bool zero_;
  int64_t end_ns_ = 0;
  int64_t first_ns_ = 0;
  bool started_ = false;
};

}  // namespace iomux
