// io_uring(7) readiness: the Uring class behind UringSelector (selector mode
// only). The ring itself is sys::Uring (sys_uring.cc); this file is the Node
// side. selectAsync() needs no thread: the eventfd registered with the ring is
// readable after each completion, so Node's own libuv loop watches it.
#include <uv.h>

#include <fcntl.h>
#include <poll.h>

#include <climits>
#include <memory>

#include "args.h"
#include "backends.h"
#include "bound.h"
#include "errors.h"
#include "results.h"
#include "sys_uring.h"

namespace iomux {
namespace {

// The libuv watch on the eventfd. It lives on the heap because uv_close
// finishes later, possibly after the Uring object is gone.
struct Watch {
  uv_poll_t handle;
  napi_env env;
  napi_async_cleanup_hook_handle hook = nullptr;
  Napi::FunctionReference callback;
  Napi::AsyncContext* context = nullptr;
  uint32_t seq = 0;
  bool closing = false;
  bool active = false;

  static void OnClosed(uv_handle_t* h) {
    auto* w = static_cast<Watch*>(h->data);
    if (w->hook) napi_remove_async_cleanup_hook(w->hook);
    delete w->context;
    delete w;
  }
  void Close() {
    if (closing) return;
    closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&handle), OnClosed);
  }
  static void OnTeardown(napi_async_cleanup_hook_handle hook, void* arg) {
    auto* w = static_cast<Watch*>(arg);
    w->hook = hook;
    if (w->closing) return;
    w->callback.Reset();
    w->Close();
  }
  // No C++ exception may leave a libuv callback: plain Node-API calls, and a
  // throwing JS callback becomes an uncaught exception.
  static void OnReadable(uv_poll_t* h, int status, int events) {
    auto* w = static_cast<Watch*>(h->data);
    uv_poll_stop(h);
    w->active = false;
    if (w->closing || w->callback.IsEmpty()) return;
    napi_env env = w->env;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value fn, recv, arg, result;
    if (napi_get_reference_value(env, w->callback, &fn) == napi_ok && fn && napi_get_global(env, &recv) == napi_ok &&
        napi_create_uint32(env, w->seq, &arg) == napi_ok) {
      if (napi_make_callback(env, *w->context, recv, fn, 1, &arg, &result) == napi_pending_exception) {
        napi_value err;
        if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
      }
    }
    napi_close_handle_scope(env, scope);
  }
};

[[noreturn]] void ThrowRingError(Napi::Env env, int err, const char* syscall, const std::string& detail) {
  Napi::Error e = SystemError(env, err, syscall);
  if (!detail.empty()) {
    std::string msg = e.Message() + ": " + detail;
    e.Set("message", Napi::String::New(env, msg));
  }
  throw e;
}

// Python's mapping: errors and hangups wake both directions; JS masks the
// result with the key's events.
uint32_t SelectorMask(uint32_t revents) {
  uint32_t m = 0;
  if (revents & ~uint32_t(POLLIN)) m |= kEventWrite;
  if (revents & ~uint32_t(POLLOUT)) m |= kEventRead;
  return m;
}

class Uring : public Napi::ObjectWrap<Uring> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Uring",
                       {InstanceMethod<&Uring::Add>("add"), InstanceMethod<&Uring::Modify>("modify"),
                        InstanceMethod<&Uring::Remove>("remove"), InstanceMethod<&Uring::SetResults>("setResults"),
                        InstanceMethod<&Uring::Arm>("arm"), InstanceMethod<&Uring::Cancel>("cancel"),
                        InstanceMethod<&Uring::Done>("done"), InstanceMethod<&Uring::Fileno>("fileno"),
                        InstanceAccessor<&Uring::Multishot>("multishot"), InstanceMethod<&Uring::Close>("close")});
  }

  // new Uring(results: Int32Array, entries?: number, multishot?: boolean)
  explicit Uring(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Uring>(info), env_(info.Env()) {
    Napi::Env env = info.Env();
    results_.Set(info[0]);
    unsigned entries = unsigned(ArgIntOr(info, 1, "options.entries", 1, 32768, 256));
    bool multishot = info[2].IsUndefined() ? true : ArgBool(info, 2, "options.multishot");
    int err = 0;
    std::string detail;
    if (!ring_.Open(entries, multishot, &err, &detail)) ThrowRingError(env, err, "io_uring_setup", detail);
    napi_add_env_cleanup_hook(env_, Teardown, this);
    DefineBound<Uring, &Uring::Wait>(info.This().As<Napi::Object>(), this, "wait");
  }

  ~Uring() override {
    napi_remove_env_cleanup_hook(env_, Teardown, this);
    CloseAll();
  }

 private:
  static void Teardown(void* arg) { static_cast<Uring*>(arg)->CloseAll(); }

  void CloseAll() {
    if (watch_) {
      watch_->callback.Reset();
      watch_->Close();
      watch_ = nullptr;
    }
    ring_.Close();
  }

  void EnsureOpen(Napi::Env env) {
    if (!ring_.open()) ThrowCodeError(env, "ERR_IOMUX_CLOSED", "I/O operation on a closed io_uring selector");
  }

  void SetResults(const Napi::CallbackInfo& info) { results_.Set(info[0]); }

  static uint32_t EventsArg(const Napi::CallbackInfo& info, size_t i) {
    uint32_t ev = ArgMask(info, i, kEventAll, "events");
    if (ev == 0) ThrowRangeError(info.Env(), "events must not be 0");
    return ((ev & kEventRead) ? uint32_t(POLLIN) : 0u) | ((ev & kEventWrite) ? uint32_t(POLLOUT) : 0u);
  }

  // A poll request on a bad fd fails only in its completion, later; the
  // contract wants the error now, so the fd is checked first.
  static void CheckFd(Napi::Env env, sys::fd_t fd) {
    if (fcntl(int(fd), F_GETFD) < 0) ThrowSystemError(env, errno, "io_uring_enter");
  }

  // While a selectAsync() waits, a change must reach the kernel at once (the
  // wait in progress sees it); otherwise it goes with the next wait's enter.
  void FlushIfWaiting(Napi::Env env) {
    if (watch_ && watch_->active) {
      if (int err = ring_.Flush()) ThrowSystemError(env, err, "io_uring_enter");
    }
  }

  void Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    sys::fd_t fd = ArgFd(info, 0);
    uint32_t ev = EventsArg(info, 1);
    if (fd > INT_MAX) ThrowSystemError(env, EBADF, "io_uring_enter");
    CheckFd(env, fd);
    if (int err = ring_.Add(int(fd), ev)) ThrowSystemError(env, err, "io_uring_enter");
    FlushIfWaiting(env);
  }
  void Modify(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    sys::fd_t fd = ArgFd(info, 0);
    uint32_t ev = EventsArg(info, 1);
    if (fd > INT_MAX) ThrowSystemError(env, ENOENT, "io_uring_enter");
    CheckFd(env, fd);
    if (int err = ring_.Modify(int(fd), ev)) ThrowSystemError(env, err, "io_uring_enter");
    FlushIfWaiting(env);
  }
  // remove(fd, lenient?): by the poll's user_data, so a closed fd is fine; with
  // `lenient`, an fd the ring does not know is ignored.
  void Remove(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    sys::fd_t fd = ArgFd(info, 0);
    bool lenient = info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    int err = fd > INT_MAX ? ENOENT : ring_.Remove(int(fd));
    if (err && !(lenient && err == ENOENT)) ThrowSystemError(env, err, "io_uring_enter");
  }

  // wait(timeout) -> number of (fd, mask) pairs written into the results array.
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    Timeout t = ArgTimeout(info, 0);
    size_t cap = results_.capacity();
    if (cap == 0) return Napi::Number::New(env, 0);
    if (fds_.size() < cap) {
      fds_.resize(cap);
      revents_.resize(cap);
    }
    Deadline dl(t);
    int64_t us;
    int n = 0;
    while (dl.NextUs(&us)) {
      n = ring_.Wait(us < 0 ? -1 : us * 1000, cap, fds_.data(), revents_.data());
      if (n < 0) ThrowSystemError(env, -n, "io_uring_enter");
      if (n > 0) break;
    }
    // The array may have shrunk since `cap` (see Results::Refresh).
    if (n > 0 && size_t(n) > results_.Refresh()) n = int(results_.capacity());
    for (int i = 0; i < n; i++) results_.Put(size_t(i), fds_[size_t(i)], SelectorMask(revents_[size_t(i)]));
    return Napi::Number::New(env, n);
  }

  // arm(callback, seq): call back once the ring's eventfd is readable.
  void Arm(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    if (!info[0].IsFunction()) ThrowTypeError(env, "callback must be a function");
    uint32_t seq = uint32_t(ArgInt(info, 1, "seq", 0, UINT32_MAX));
    if (!watch_) {
      int efd = ring_.EventFd();
      if (efd < 0) ThrowSystemError(env, errno, "io_uring_register");
      uv_loop_t* loop = nullptr;
      if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) ThrowSystemError(env, EINVAL, "uv_poll_init");
      auto* w = new Watch();
      w->env = env;
      int r = uv_poll_init(loop, &w->handle, efd);
      if (r < 0) {
        delete w;
        ThrowSystemError(env, -r, "uv_poll_init");
      }
      w->handle.data = w;
      w->context = new Napi::AsyncContext(env, "iomux.selectAsync");
      napi_add_async_cleanup_hook(env, Watch::OnTeardown, w, &w->hook);
      watch_ = w;
    }
    // The wait sleeps in libuv, not in io_uring_enter: what is queued goes now.
    if (int err = ring_.Flush()) ThrowSystemError(env, err, "io_uring_enter");
    watch_->callback = Napi::Persistent(info[0].As<Napi::Function>());
    watch_->seq = seq;
    int r = uv_poll_start(&watch_->handle, UV_READABLE, Watch::OnReadable);
    if (r < 0) ThrowSystemError(env, -r, "uv_poll_start");
    watch_->active = true;
  }
  void Cancel(const Napi::CallbackInfo&) {
    if (watch_) {
      uv_poll_stop(&watch_->handle);
      watch_->active = false;
    }
  }
  // Called before the select(0) that follows a wake-up: the eventfd counted
  // completions up to now, and those are about to be taken.
  void Done(const Napi::CallbackInfo&) { ring_.Drain(); }

  Napi::Value Fileno(const Napi::CallbackInfo& info) {
    EnsureOpen(info.Env());
    return Napi::Number::New(info.Env(), ring_.fd());
  }
  Napi::Value Multishot(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), ring_.multishot()); }
  void Close(const Napi::CallbackInfo&) { CloseAll(); }

  napi_env env_;
  sys::Uring ring_;
  Results results_;
  std::vector<int32_t> fds_;
  std::vector<uint32_t> revents_;
  Watch* watch_ = nullptr;
};

}  // namespace

void InitUring(Napi::Env env, Napi::Object exports, Instance*) {
  exports.Set("Uring", Uring::Define(env));
  exports.Set("HAVE_IO_URING", true);
}

}  // namespace iomux
