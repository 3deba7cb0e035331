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
    // The buffer, not the view, is what Refresh() asks about: napi_get_arraybuffer_info
    // is a few dozen instructions where napi_get_typedarray_info walks V8's
    // chain of IsXxxArray() checks (about 400 per select()).
    ref_ = Napi::Persistent(a.ArrayBuffer());
    offset_ = a.ByteOffset();
    max_pairs_ = a.ElementLength() / 2;
    data_ = a.Data();
    pairs_ = max_pairs_;
  }
  size_t capacity() const { return pairs_; }
  // Re-reads the buffer's data pointer and size; returns the capacity. Called
  // before writing: since Set(), JS may have detached (transferred) or shrunk
  // (a resizable ArrayBuffer) the array's buffer, and the saved pointer would
  // then point at freed memory. A detached buffer reads as 0 bytes.
  // (Only waits that have something to write pay for the two Node-API calls.)
  size_t Refresh() {
    napi_env env = ref_.Env();
    napi_value v;
    size_t bytes = 0;
    void* data = nullptr;
    if (napi_get_reference_value(env, ref_, &v) != napi_ok || !v ||
        napi_get_arraybuffer_info(env, v, &data, &bytes) != napi_ok || !data || bytes < offset_)
      bytes = offset_;
    size_t pairs = (bytes - offset_) / (2 * sizeof(int32_t));
    pairs_ = pairs < max_pairs_ ? pairs : max_pairs_;
    data_ = pairs_ ? reinterpret_cast<int32_t*>(static_cast<uint8_t*>(data) + offset_) : nullptr;
    return pairs_;
  }
  // Writes pair i; callers never write past what Refresh() returned.
  void Put(size_t i, int64_t fd, uint32_t mask) {
    data_[2 * i] = int32_t(fd);
    data_[2 * i + 1] = int32_t(mask);
  }

 private:
  Napi::Reference<Napi::ArrayBuffer> ref_;
  size_t offset_ = 0;
  size_t max_pairs_ = 0;
  int32_t* data_ = nullptr;
  size_t pairs_ = 0;
};

// Selector masks (selectors.EVENT_READ / EVENT_WRITE).
constexpr uint32_t kEventRead = 1;
constexpr uint32_t kEventWrite = 2;
constexpr uint32_t kEventAll = kEventRead | kEventWrite;

}  // namespace iomux
