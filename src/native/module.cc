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
  // setFdWatch(on): whether selectAsync() on epoll/io_uring/kqueue may watch its fd
  // in the host's loop (uv_poll). Runtimes whose libuv is a partial stand-in
  // (Bun aborts in uv_poll_init; Deno's uv_poll misses wake-ups) get off from
  // binding.ts: the epoll fd or eventfd is then waited on by a waiter thread,
  // which signals through LoopAsync as select/poll's does. Per environment;
  // read when a set makes its first selectAsync() engine.
  exports.Set("setFdWatch", Napi::Function::New(env, [inst](const Napi::CallbackInfo& info) {
    inst->fd_watch = info[0].ToBoolean().Value();
    return Napi::Boolean::New(info.Env(), inst->fd_watch);
  }));
  return exports;
}

}  // namespace iomux

static Napi::Object InitIomux(Napi::Env env, Napi::Object exports) { return iomux::Init(env, exports); }

NODE_API_MODULE(iomux, InitIomux)
