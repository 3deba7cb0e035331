// The reused Int32Array through which a wait hands back (fd, mask) pairs, so
// that select() allocates nothing in native code.
#pragma once
#include <napi.h>

#include "errors.h"

namespace iomux {

class Results {
 public:
  void Set(Napi::Value v) {
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      ThrowTypeError(v.Env(), "results must be an Int32Array");
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    ref_ = Napi::Persistent(a);
    data_ = a.Data();
    pairs_ = a.ElementLength() / 2;
  }
  size_t capacity() const { return pairs_; }
  // Re-reads the array's data pointer and size; returns the capacity. Called
  // before writing: since Set(), JS may have detached (transferred) or shrunk
  // the array's buffer, and the saved pointer would then point at freed memory.
  // (Only waits that have something to write pay for the two Node-API calls.)
  size_t Refresh() {
    napi_env env = ref_.Env();
    napi_value v;
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (napi_get_reference_value(env, ref_, &v) != napi_ok || !v ||
        napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) != napi_ok || !data)
      length = 0;
    data_ = static_cast<int32_t*>(data);
    pairs_ = length / 2;
    return pairs_;
  }
  // Writes pair i; callers never write past what Refresh() returned.
  void Put(size_t i, int64_t fd, uint32_t mask) {
    data_[2 * i] = int32_t(fd);
    data_[2 * i + 1] = int32_t(mask);
  }

 private:
  Napi::Reference<Napi::Int32Array> ref_;
  int32_t* data_ = nullptr;
  size_t pairs_ = 0;
};

// Selector masks (selectors.EVENT_READ / EVENT_WRITE).
constexpr uint32_t kEventRead = 1;
constexpr uint32_t kEventWrite = 2;
constexpr uint32_t kEventAll = kEventRead | kEventWrite;

}  // namespace iomux
