// Hot-path methods bound to their native object through the function's data
// pointer. An ObjectWrap method pays for napi_unwrap on every call (about 800
// instructions on Node 20, more than the rest of a zero-timeout wait), so the
// wait() of each interest set is an own property made this way instead.
#pragma once
#include <napi.h>

namespace iomux {

template <typename T, Napi::Value (T::*Method)(const Napi::CallbackInfo&)>
Napi::Value CallBound(const Napi::CallbackInfo& info) {
  return (static_cast<T*>(info.Data())->*Method)(info);
}

// Defines self[name] as Method bound to obj. The function keeps self alive
// (a hidden back-reference), so it can never outlive the object it points at.
template <typename T, Napi::Value (T::*Method)(const Napi::CallbackInfo&)>
void DefineBound(Napi::Object self, T* obj, const char* name) {
  Napi::Env env = self.Env();
  Napi::Function fn = Napi::Function::New<CallBound<T, Method>>(env, name, obj);
  fn.DefineProperty(Napi::PropertyDescriptor::Value("owner", self, napi_default));
  self.DefineProperty(Napi::PropertyDescriptor::Value(name, fn, napi_default));
}

}  // namespace iomux
