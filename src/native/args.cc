#include "args.h"

#include <cmath>
#include <climits>
#include <string>

#include "errors.h"

namespace iomux {

// Argument checks run on every send/recv, so each reads its value with as few
// Node-API calls as it can: napi_get_value_double both reads a number and
// tells a non-number apart (napi_number_expected), with no napi_typeof first.
static bool ReadNumber(napi_env env, napi_value v, double* d) { return napi_get_value_double(env, v, d) == napi_ok; }

sys::fd_t ToFd(Napi::Env env, Napi::Value v, const char* what) {
  double d;
  if (!ReadNumber(env, v, &d) || !std::isfinite(d) || std::trunc(d) != d)
    ThrowTypeError(env, std::string(what) + " must be an integer file descriptor");
  if (d < 0) ThrowRangeError(env, std::string(what) + " must be >= 0, got " + std::to_string((long long)d));
  // Winsock SOCKET values are pointer-sized, but Windows keeps handles within
  // 32 bits (64-bit Windows documents only their low 32 bits as significant),
  // so the POSIX bound holds for them as well.
  if (d > INT_MAX) ThrowRangeError(env, std::string(what) + " is out of range (> " + std::to_string(INT_MAX) + ")");
  return sys::fd_t(d);
}

sys::fd_t ArgFd(const Napi::CallbackInfo& info, size_t i, const char* what) { return ToFd(info.Env(), info[i], what); }

int64_t ParseInt(napi_env env, napi_value v, const char* what, int64_t lo, int64_t hi) {
  double d;
  if (!ReadNumber(env, v, &d) || std::isnan(d) || (std::isfinite(d) && std::trunc(d) != d))
    ThrowTypeError(Napi::Env(env), std::string(what) + " must be an integer");
  if (d < double(lo) || d > double(hi))
    ThrowRangeError(Napi::Env(env), std::string(what) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return int64_t(d);
}

int64_t ParseIntOr(napi_env env, napi_value v, const char* what, int64_t lo, int64_t hi, int64_t def) {
  double d;
  // One call when it is a number; the type is asked only when it is not.
  if (ReadNumber(env, v, &d) && !std::isnan(d) && std::isfinite(d) && std::trunc(d) == d && d >= double(lo) &&
      d <= double(hi))
    return int64_t(d);
  napi_valuetype type;
  if (napi_typeof(env, v, &type) == napi_ok && type == napi_undefined) return def;
  return ParseInt(env, v, what, lo, hi);
}

int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t lo, int64_t hi) {
  return ParseInt(info.Env(), info[i], what, lo, hi);
}

int64_t ArgIntOr(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t lo, int64_t hi, int64_t def) {
  // An argument not passed at all costs no Node-API call (the hot callers leave them off).
  if (i >= info.Length() || info[i].IsUndefined()) return def;
  return ArgInt(info, i, what, lo, hi);
}

uint32_t ArgMask(const Napi::CallbackInfo& info, size_t i, uint32_t allowed, const char* what) {
  int64_t v = ArgInt(info, i, what, INT32_MIN, UINT32_MAX);
  uint32_t m = uint32_t(v);
  if (m & ~allowed) {
    char hex[16];
    snprintf(hex, sizeof hex, "0x%x", m & ~allowed);
    ThrowRangeError(info.Env(), std::string(what) + " has unknown event bits " + hex);
  }
  return m;
}

uint32_t ArgMaskOr(const Napi::CallbackInfo& info, size_t i, uint32_t allowed, uint32_t def, const char* what) {
  if (info[i].IsUndefined()) return def;
  return ArgMask(info, i, allowed, what);
}

bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsBoolean()) ThrowTypeError(info.Env(), std::string(what) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

Timeout ArgTimeout(const Napi::CallbackInfo& info, size_t i) { return ParseTimeout(info.Env(), info[i]); }

Timeout ParseTimeout(napi_env env, napi_value v) {
  Timeout t;
  double d;
  // On every select(): a number costs one Node-API call; only a non-number is
  // asked its type (undefined/null block, anything else is a TypeError).
  if (!ReadNumber(env, v, &d)) {
    napi_valuetype type;
    napi_typeof(env, v, &type);
    if (type == napi_undefined || type == napi_null) return t;
    ThrowTypeError(Napi::Env(env), "timeout must be a number of milliseconds, null or undefined");
  }
  if (std::isnan(d)) ThrowTypeError(Napi::Env(env), "timeout must not be NaN");
  // Beyond ~31,000 years nothing distinguishes a deadline from "forever".
  if (d > 1e15) return t;
  t.infinite = false;
  t.ms = d > 0 ? d : 0;
  return t;
}

static size_t ElementSize(napi_typedarray_type t) {
  switch (t) {
    case napi_int16_array:
    case napi_uint16_array:
      return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      return 8;
    default:
      return 1;
  }
}

Bytes ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* what) { return ToBytes(info.Env(), info[i], what); }

Bytes ToBytes(Napi::Env napienv, napi_value v, const char* what) {
  // Two Node-API calls: napi_get_typedarray_info hands back the data pointer
  // already moved to the view's byte offset.
  napi_env env = napienv;
  Bytes b;
  bool is = false;
  void* data = nullptr;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t length = 0;
    napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr);
    b.len = length * ElementSize(type);
  } else if (napi_is_dataview(env, v, &is) == napi_ok && is) {
    napi_get_dataview_info(env, v, &b.len, &data, nullptr, nullptr);
  } else {
    ThrowTypeError(napienv, std::string(what) + " must be a Buffer, TypedArray or DataView");
  }
  b.data = b.len ? static_cast<uint8_t*>(data) : nullptr;
  return b;
}

Bytes ArgBytesWindow(const Napi::CallbackInfo& info, size_t i, size_t off_i, size_t len_i, const char* what) {
  Bytes b = ArgBytes(info, i, what);
  int64_t off = ArgIntOr(info, off_i, "offset", 0, int64_t(b.len), 0);
  int64_t len = ArgIntOr(info, len_i, "length", 0, int64_t(b.len) - off, int64_t(b.len) - off);
  Bytes w;
  w.data = b.data ? b.data + off : nullptr;
  w.len = size_t(len);
  return w;
}

Deadline::Deadline(const Timeout& t) : infinite_(t.infinite), zero_(!t.infinite && t.ms <= 0) {
  if (!infinite_ && !zero_) {
    // Rounded up to the nanosecond, then to each backend's resolution in Next*.
    first_ns_ = int64_t(std::ceil(t.ms * 1e6));
  }
}

bool Deadline::Remaining(int64_t* ns) {
  if (!started_) {
    started_ = true;
    end_ns_ = sys::NowNs() + first_ns_;
    *ns = first_ns_;
    return true;
  }
  int64_t left = end_ns_ - sys::NowNs();
  if (left <= 0) return false;
  *ns = left;
  return true;
}

// The next piece to wait, in units of unit_ns, rounded up and capped at
// INT_MAX milliseconds (what poll/epoll take; select waits in the same pieces).
bool Deadline::Next(int64_t unit_ns, int64_t* out) {
  if (infinite_) {
    *out = -1;
    return true;
  }
  if (zero_) {
    // A zero timeout polls exactly once; an EINTR there (nothing sleeps) reads as "nothing ready".
    *out = 0;
    bool first = !started_;
    started_ = true;
    return first;
  }
  int64_t ns;
  if (!Remaining(&ns)) return false;
  const int64_t cap = int64_t(INT_MAX) * (1000000 / unit_ns);
  int64_t n = (ns + unit_ns - 1) / unit_ns;
  *out = n > cap ? cap : n;
  return true;
}

bool Deadline::NextMs(int* ms) {
  int64_t v;
  bool more = Next(1000000, &v);
  *ms = int(v);
  return more;
}

bool Deadline::NextUs(int64_t* us) { return Next(1000, us); }

}  // namespace iomux
