// Platforms without io_uring(7): the class exists, its constructor throws ENOSYS.
#include "backends.h"
#include "errors.h"

namespace iomux {

void InitUring(Napi::Env env, Napi::Object exports, Instance*) {
  exports.Set("UringSet", Napi::Function::New(
                           env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                             ThrowSystemError(info.Env(), ENOSYS, "io_uring_setup");
                           },
                           "UringSet"));
  exports.Set("HAVE_IO_URING", false);
}

}  // namespace iomux
