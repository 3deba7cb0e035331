// LoopEdge on libuv (POSIX): a uv_poll_t for the fd watch, a uv_async_t for
// the waiter thread's signal.
#include <uv.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif

#include "loop_edge.h"

namespace iomux {

struct LoopEdge {
  union {
    uv_poll_t poll;
    uv_async_t async;
  } h;
  bool is_poll;
  LoopCallback cb;
  void* arg;
  LoopCallback on_closed = nullptr;
  void* closed_arg = nullptr;
  uv_handle_t* handle() { return reinterpret_cast<uv_handle_t*>(&h); }
};

static uv_loop_t* LoopOf(napi_env env) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return nullptr;
  return loop;
}

LoopEdge* LoopWatchFd(napi_env env, sys::fd_t fd, LoopCallback on_readable, void* arg, int* err) {
  uv_loop_t* loop = LoopOf(env);
  if (!loop) return *err = EINVAL, nullptr;
  auto* e = new LoopEdge{};
  e->is_poll = true;
  e->cb = on_readable;
  e->arg = arg;
  int r = uv_poll_init(loop, &e->h.poll, int(fd));
  if (r < 0) {
    delete e;
    return *err = -r, nullptr;
  }
  e->handle()->data = e;
  uv_unref(e->handle());
  return e;
}

LoopEdge* LoopAsync(napi_env env, LoopCallback on_signal, void* arg, int* err) {
  uv_loop_t* loop = LoopOf(env);
  if (!loop) return *err = EINVAL, nullptr;
  auto* e = new LoopEdge{};
  e->is_poll = false;
  e->cb = on_signal;
  e->arg = arg;
  int r = uv_async_init(loop, &e->h.async, [](uv_async_t* a) {
    auto* self = static_cast<LoopEdge*>(a->data);
    self->cb(self->arg);
  });
  if (r < 0) {
    delete e;
    return *err = -r, nullptr;
  }
  e->handle()->data = e;
  uv_unref(e->handle());
  return e;
}

bool LoopCanWatchFds() { return true; }

int LoopStart(LoopEdge* e) { return LoopStartFor(e, kLoopRead); }

int LoopStartFor(LoopEdge* e, unsigned events) {
  int uv = ((events & kLoopRead) ? UV_READABLE : 0) | ((events & kLoopWrite) ? UV_WRITABLE : 0);
  return uv_poll_start(&e->h.poll, uv, [](uv_poll_t* p, int, int) {
    auto* self = static_cast<LoopEdge*>(p->data);
    self->cb(self->arg);
  });
}

void LoopStop(LoopEdge* e) { uv_poll_stop(&e->h.poll); }

bool LoopActive(LoopEdge* e) { return uv_is_active(e->handle()) != 0; }

void LoopSignal(LoopEdge* e) { uv_async_send(&e->h.async); }

void LoopRef(LoopEdge* e, bool ref) {
  if (ref) uv_ref(e->handle());
  else uv_unref(e->handle());
}

void LoopClose(LoopEdge* e, LoopCallback on_closed, void* arg) {
#ifdef __linux__
  // Out of Node's epoll set now, whatever libuv does: libuv 1.47 and 1.48 may
  // queue their own removal (io_uring batching) past the fd's close, and a
  // file still open elsewhere would then stay in the set, reported forever.
  if (e->is_poll) {
    uv_os_fd_t fd;
    if (uv_fileno(e->handle(), &fd) == 0) {
      epoll_event dummy{};
      epoll_ctl(uv_backend_fd(e->handle()->loop), EPOLL_CTL_DEL, fd, &dummy);
    }
  }
#endif
  e->on_closed = on_closed;
  e->closed_arg = arg;
  uv_close(e->handle(), [](uv_handle_t* h) {
    auto* self = static_cast<LoopEdge*>(h->data);
    if (self->on_closed) self->on_closed(self->closed_arg);
    delete self;
  });
}

uint64_t LoopNowNs() { return uv_hrtime(); }

}  // namespace iomux
