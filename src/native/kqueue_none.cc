// Platforms without kqueue(2) (Linux, Windows): the class exists, its
// constructor throws ENOSYS naming the platform.
#include <string>

#include "backends.h"
#include "errors.h"

namespace iomux {

#ifdef _WIN32
constexpr const char* kPlatform = "Windows";
#elif defined(__linux__)
constexpr const char* kPlatform = "Linux";
#else
constexpr const char* kPlatform = "this platform";
#endif

void InitKqueue(Napi::Env env, Napi::Object exports, Instance*) {
  exports.Set("KqueueSet", Napi::Function::New(
                               env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                                 Napi::Error e = SystemError(info.Env(), ENOSYS, "kqueue");
                                 e.Set("message", Napi::String::New(info.Env(), std::string(e.Message()) +
                                                                                    " (kqueue is macOS/BSD-only; this is " +
                                                                                    kPlatform + ")"));
                                 throw e;
                               },
                               "KqueueSet"));
  exports.Set("HAVE_KQUEUE", false);
}

}  // namespace iomux
