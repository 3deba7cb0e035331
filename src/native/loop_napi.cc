// LoopEdge on Node-API alone (Windows: the addon links only against node.exe's
// Node-API exports, not libuv). The waiter thread signals through one
// thread-safe function; there is no fd watch (Windows has no epoll).
#include "loop_edge.h"

namespace iomux {

struct LoopEdge {
  napi_threadsafe_function tsfn = nullptr;
  napi_env env;
  LoopCallback cb;
  void* arg;
  LoopCallback on_closed = nullptr;
  void* closed_arg = nullptr;
};

LoopEdge* LoopWatchFd(napi_env, sys::fd_t, LoopCallback, void*, int* err) { return *err = ENOSYS, nullptr; }

LoopEdge* LoopAsync(napi_env env, LoopCallback on_signal, void* arg, int* err) {
  auto* e = new LoopEdge{};
  e->env = env;
  e->cb = on_signal;
  e->arg = arg;
  napi_value name;
  napi_create_string_utf8(env, "iomux.selectAsync", NAPI_AUTO_LENGTH, &name);
  napi_status st = napi_create_threadsafe_function(
      env, nullptr, nullptr, name, 0, 1, e,
      [](napi_env, void* data, void*) {
        auto* self = static_cast<LoopEdge*>(data);
        if (self->on_closed) self->on_closed(self->closed_arg);
        delete self;
      },
      e,  // context: handed to every call below
      [](napi_env, napi_value, void* context, void*) {
        auto* self = static_cast<LoopEdge*>(context);
        if (self->cb) self->cb(self->arg);
      },
      &e->tsfn);
  if (st != napi_ok) {
    delete e;
    return *err = ENOMEM, nullptr;
  }
  napi_unref_threadsafe_function(env, e->tsfn);
  return e;
}

bool LoopCanWatchFds() { return false; }
int LoopStart(LoopEdge*) { return -ENOSYS; }
int LoopStartFor(LoopEdge*, unsigned) { return -ENOSYS; }
void LoopStop(LoopEdge*) {}
bool LoopActive(LoopEdge*) { return false; }

void LoopSignal(LoopEdge* e) { napi_call_threadsafe_function(e->tsfn, nullptr, napi_tsfn_nonblocking); }

void LoopRef(LoopEdge* e, bool ref) {
  if (ref) napi_ref_threadsafe_function(e->env, e->tsfn);
  else napi_unref_threadsafe_function(e->env, e->tsfn);
}

void LoopClose(LoopEdge* e, LoopCallback on_closed, void* arg) {
  e->on_closed = on_closed;
  e->closed_arg = arg;
  e->cb = nullptr;  // a signal still queued finds nothing to call
  napi_release_threadsafe_function(e->tsfn, napi_tsfn_abort);
}

uint64_t LoopNowNs() { return uint64_t(sys::NowNs()); }

}  // namespace iomux
