// Module initialisation: one Instance per environment, then each mechanism
// registers its own functions and classes.
#include <napi.h>

#include "backends.h"
#include "errors.h"
#include "instance.h"
#include "loop_edge.h"

namespace iomux {

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  if (int err = sys::Startup()) ThrowSystemError(env, err, "WSAStartup");
  auto* inst = new Instance();
  env.SetInstanceData<Instance>(inst);
  InitSelect(env, exports, inst);
  InitPoll(env, exports, inst);
  InitEpoll(env, exports, inst);
  InitUring(env, exports, inst);
  InitSocket(env, exports, inst);
  InitResolve(env, exports, inst);
  // setFdWatch(on): see loop_edge.h (binding.ts turns it off on Bun and Deno).
  exports.Set("setFdWatch", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    SetFdWatch(info[0].ToBoolean().Value());
    return Napi::Boolean::New(info.Env(), FdWatchEnabled());
  }));
  return exports;
}

}  // namespace iomux

static Napi::Object InitIomux(Napi::Env env, Napi::Object exports) { return iomux::Init(env, exports); }

NODE_API_MODULE(iomux, InitIomux)
