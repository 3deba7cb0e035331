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
  // Whether this build can watch fds in the host's loop at all (not on Windows,
  // whose build links Node-API only: loop_napi.cc).
  exports.Set("HAVE_DIRECT_WATCH", LoopCanWatchFds());
  // setDirectWatchMax(n): the largest selector whose selectAsync() watches each
  // fd in Node's loop (direct_watch.h); 0: never. Returns what is in force.
  // Read at every arm, so it applies from the next selectAsync() on.
  exports.Set("setDirectWatchMax", Napi::Function::New(env, [inst](const Napi::CallbackInfo& info) {
    if (info.Length() > 0 && !info[0].IsUndefined()) {
      double n = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
      if (!(n >= 0 && n <= 1e6) || n != double(uint32_t(n)))
        ThrowRangeError(info.Env(), "direct watch limit must be an integer from 0 to 1000000");
      inst->direct_max = uint32_t(n);
    }
    return Napi::Number::New(info.Env(), inst->direct_max);
  }));
  return exports;
}

}  // namespace iomux

static Napi::Object InitIomux(Napi::Env env, Napi::Object exports) { return iomux::Init(env, exports); }

NODE_API_MODULE(iomux, InitIomux)
