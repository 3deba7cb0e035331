// Module initialisation: one Instance per environment, then each mechanism
// registers its own functions and classes.
#include <napi.h>

#include "backends.h"
#include "errors.h"
#include "instance.h"

namespace iomux {

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  if (int err = sys::Startup()) ThrowSystemError(env, err, "WSAStartup");
  auto* inst = new Instance();
  env.SetInstanceData<Instance>(inst);
  InitSelect(env, exports, inst);
  InitPoll(env, exports, inst);
  InitEpoll(env, exports, inst);
  InitUring(env, exports, inst);
  InitKqueue(env, exports, inst);
  InitSocket(env, exports, inst);
  InitResolve(env, exports, inst);
  return exports;
}

}  // namespace iomux

static Napi::Object InitIomux(Napi::Env env, Napi::Object exports) { return iomux::Init(env, exports); }

NODE_API_MODULE(iomux, InitIomux)
