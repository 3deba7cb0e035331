// Platforms without a usable poll(2) (Windows: WSAPoll misses failed connects):
// the class exists, its constructor throws ENOSYS.
#include "backends.h"
#include "errors.h"

namespace iomux {

void InitPoll(Napi::Env env, Napi::Object exports, Instance*) {
  exports.Set("Poll", Napi::Function::New(
                          env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                            ThrowSystemError(info.Env(), ENOSYS, "poll");
                          },
                          "Poll"));
  exports.Set("PollSet", exports.Get("Poll"));
  exports.Set("pollConstants", Napi::Object::New(env));
}

}  // namespace iomux
