// epoll(7): the Epoll class, used directly (raw events) and by EpollSelector
// (selector mode). selectAsync() needs no thread here: the epoll fd is itself
// readable when anything in its set is ready, so Node's own libuv loop watches it.
#include <fcntl.h>
#include <sys/epoll.h>
#include <uv.h>

#include <climits>

#include "args.h"
#include "bound.h"
#include "backends.h"
#include "errors.h"
#include "results.h"

namespace iomux {
namespace {

constexpr uint32_t kEpollAllowed = EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDNORM |
                                   EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP |
                                   EPOLLEXCLUSIVE | EPOLLWAKEUP | EPOLLONESHOT | uint32_t(EPOLLET);
constexpr uint32_t kEpollDefault = EPOLLIN | EPOLLPRI | EPOLLOUT;

// The libuv watch on the epoll fd. It lives on the heap because uv_close
// finishes later, possibly after the Epoll object is gone.
struct Watch {
  uv_poll_t handle;
  napi_env env;
  napi_async_cleanup_hook_handle hook = nullptr;
  Napi::FunctionReference callback;
  Napi::AsyncContext* context = nullptr;
  uint32_t seq = 0;
  bool closing = false;

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
  // Environment teardown (e.g. a worker exiting with a wait pending).
  static void OnTeardown(napi_async_cleanup_hook_handle hook, void* arg) {
    auto* w = static_cast<Watch*>(arg);
    w->hook = hook;
    if (w->closing) return;  // OnClosed will remove the hook
    w->callback.Reset();
    w->Close();
  }
  // A libuv callback: no C++ exception may leave it (one did when the JS callback
  // threw, or the environment was going away, and aborted the process), so
  // plain Node-API calls. A throwing callback becomes an uncaught exception, as
  // a throwing timer callback does.
  static void OnReadable(uv_poll_t* h, int status, int events) {
    auto* w = static_cast<Watch*>(h->data);
    uv_poll_stop(h);
    if (w->closing || w->callback.IsEmpty()) return;
    napi_env env = w->env;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value fn, recv, arg, result;
    if (napi_get_reference_value(env, w->callback, &fn) == napi_ok && fn && napi_get_global(env, &recv) == napi_ok &&
        napi_create_uint32(env, w->seq, &arg) == napi_ok) {
      // MakeCallback so promise reactions run before control returns to libuv.
      if (napi_make_callback(env, *w->context, recv, fn, 1, &arg, &result) == napi_pending_exception) {
        napi_value err;
        if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
      }
    }
    napi_close_handle_scope(env, scope);
  }
};

class Epoll : public Napi::ObjectWrap<Epoll> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Epoll",
                       {InstanceMethod<&Epoll::Add>("add"), InstanceMethod<&Epoll::Modify>("modify"),
                        InstanceMethod<&Epoll::Remove>("remove"),
                        InstanceMethod<&Epoll::SetResults>("setResults"), InstanceMethod<&Epoll::Arm>("arm"),
                        InstanceMethod<&Epoll::Cancel>("cancel"), InstanceMethod<&Epoll::Done>("done"),
                        InstanceMethod<&Epoll::Fileno>("fileno"), InstanceMethod<&Epoll::Close>("close")});
  }

  // new Epoll(results: Int32Array, selectorMode: boolean, adoptFd?: number)
  explicit Epoll(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Epoll>(info), env_(info.Env()) {
    results_.Set(info[0]);
    selector_ = ArgBool(info, 1, "selectorMode");
    if (!info[2].IsUndefined()) {
      sys::fd_t fd = ArgFd(info, 2);
      // Like Python's epoll.fromfd, adopt without asking the kernel what it is,
      // but refuse an fd that is not open at all.
      if (fcntl(int(fd), F_GETFD) < 0) ThrowSystemError(info.Env(), errno, "fcntl");
      epfd_ = int(fd);
    } else {
      epfd_ = epoll_create1(EPOLL_CLOEXEC);
      if (epfd_ < 0) ThrowSystemError(info.Env(), errno, "epoll_create1");
    }
    napi_add_env_cleanup_hook(env_, Teardown, this);
    DefineBound<Epoll, &Epoll::Wait>(info.This().As<Napi::Object>(), this, "wait");
  }

  ~Epoll() override {
    napi_remove_env_cleanup_hook(env_, Teardown, this);
    CloseAll();
  }

 private:
  static void Teardown(void* arg) { static_cast<Epoll*>(arg)->CloseAll(); }

  void CloseAll() {
    if (watch_) {
      watch_->callback.Reset();
      watch_->Close();
      watch_ = nullptr;
    }
    if (epfd_ >= 0) {
      sys::Close(epfd_);
      epfd_ = -1;
    }
  }

  void EnsureOpen(Napi::Env env) {
    if (epfd_ < 0) ThrowCodeError(env, "ERR_IOMUX_CLOSED", "I/O operation on a closed epoll object");
  }

  void SetResults(const Napi::CallbackInfo& info) { results_.Set(info[0]); }

  uint32_t EventsArg(const Napi::CallbackInfo& info, size_t i, bool optional) {
    if (selector_) {
      uint32_t ev = ArgMask(info, i, kEventAll, "events");
      if (ev == 0) ThrowRangeError(info.Env(), "events must not be 0");
      return ((ev & kEventRead) ? uint32_t(EPOLLIN) : 0u) | ((ev & kEventWrite) ? uint32_t(EPOLLOUT) : 0u);
    }
    return optional ? ArgMaskOr(info, i, kEpollAllowed, kEpollDefault) : ArgMask(info, i, kEpollAllowed);
  }

  void Ctl(Napi::Env env, int op, sys::fd_t fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = int(fd);
    if (epoll_ctl(epfd_, op, int(fd), &ev) < 0) ThrowSystemError(env, errno, "epoll_ctl");
  }

  void Add(const Napi::CallbackInfo& info) {
    EnsureOpen(info.Env());
    sys::fd_t fd = ArgFd(info, 0);
    Ctl(info.Env(), EPOLL_CTL_ADD, fd, EventsArg(info, 1, true));
  }
  void Modify(const Napi::CallbackInfo& info) {
    EnsureOpen(info.Env());
    sys::fd_t fd = ArgFd(info, 0);
    Ctl(info.Env(), EPOLL_CTL_MOD, fd, EventsArg(info, 1, false));
  }
  // remove(fd, lenient?): EBADF (the fd was closed) is always ignored; with
  // `lenient`, ENOENT (closed, and the number reused) is ignored too.
  void Remove(const Napi::CallbackInfo& info) {
    EnsureOpen(info.Env());
    sys::fd_t fd = ArgFd(info, 0);
    bool lenient = info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    epoll_event ev{};
    if (epoll_ctl(epfd_, EPOLL_CTL_DEL, int(fd), &ev) < 0) {
      int err = errno;
      if (err == EBADF || (lenient && err == ENOENT)) return;
      ThrowSystemError(info.Env(), err, "epoll_ctl");
    }
  }

  // wait(timeout, maxevents) -> number of pairs written; maxevents is clamped to
  // the results array, which the JS side sizes.
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    Timeout t = ArgTimeout(info, 0);
    int64_t maxev = info.Length() > 1 ? ArgIntOr(info, 1, "maxevents", 1, INT_MAX, INT_MAX) : INT_MAX;
    size_t cap = results_.capacity();
    if (size_t(maxev) > cap) maxev = int64_t(cap);
    if (maxev < 1) return Napi::Number::New(env, 0);
    if (events_.size() < size_t(maxev)) events_.resize(size_t(maxev));
    Deadline dl(t);
    int ms, n = 0;
    while (dl.NextMs(&ms)) {
      n = epoll_wait(epfd_, events_.data(), int(maxev), ms);
      if (n > 0) break;
      if (n < 0) {
        int err = errno;
        if (err != EINTR) ThrowSystemError(env, err, "epoll_wait");
        n = 0;
      }
    }
    // The array may have shrunk since `cap` (see Results::Refresh); events beyond it are dropped.
    if (n > 0 && size_t(n) > results_.Refresh()) n = int(results_.capacity());
    for (int i = 0; i < n; i++) {
      uint32_t e = events_[i].events;
      if (selector_) {
        // Python's mapping: errors and hangups wake both directions. JS masks
        // the result with the key's events (epoll does not report them back).
        uint32_t m = 0;
        if (e & ~uint32_t(EPOLLIN)) m |= kEventWrite;
        if (e & ~uint32_t(EPOLLOUT)) m |= kEventRead;
        e = m;
      }
      results_.Put(size_t(i), events_[i].data.fd, e);
    }
    return Napi::Number::New(env, n);
  }

  // arm(callback, seq): call back once the epoll fd is readable.
  void Arm(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    if (!info[0].IsFunction()) ThrowTypeError(env, "callback must be a function");
    uint32_t seq = uint32_t(ArgInt(info, 1, "seq", 0, UINT32_MAX));
    if (!watch_) {
      uv_loop_t* loop = nullptr;
      if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) ThrowSystemError(env, EINVAL, "uv_poll_init");
      auto* w = new Watch();
      w->env = env;
      int r = uv_poll_init(loop, &w->handle, epfd_);
      if (r < 0) {
        delete w;
        ThrowSystemError(env, -r, "uv_poll_init");
      }
      w->handle.data = w;
      w->context = new Napi::AsyncContext(env, "iomux.selectAsync");
      napi_add_async_cleanup_hook(env, Watch::OnTeardown, w, &w->hook);
      watch_ = w;
    }
    watch_->callback = Napi::Persistent(info[0].As<Napi::Function>());
    watch_->seq = seq;
    int r = uv_poll_start(&watch_->handle, UV_READABLE, Watch::OnReadable);
    if (r < 0) ThrowSystemError(env, -r, "uv_poll_start");
  }
  void Cancel(const Napi::CallbackInfo&) {
    if (watch_) uv_poll_stop(&watch_->handle);
  }
  void Done(const Napi::CallbackInfo&) {}

  Napi::Value Fileno(const Napi::CallbackInfo& info) {
    EnsureOpen(info.Env());
    return Napi::Number::New(info.Env(), epfd_);
  }
  void Close(const Napi::CallbackInfo&) { CloseAll(); }

  napi_env env_;
  int epfd_ = -1;
  bool selector_ = false;
  std::vector<epoll_event> events_;
  Results results_;
  Watch* watch_ = nullptr;
};

}  // namespace

void InitEpoll(Napi::Env env, Napi::Object exports, Instance*) {
  exports.Set("Epoll", Epoll::Define(env));
  Napi::Object c = Napi::Object::New(env);
  c.Set("EPOLLIN", double(uint32_t(EPOLLIN)));
  c.Set("EPOLLOUT", double(uint32_t(EPOLLOUT)));
  c.Set("EPOLLPRI", double(uint32_t(EPOLLPRI)));
  c.Set("EPOLLERR", double(uint32_t(EPOLLERR)));
  c.Set("EPOLLHUP", double(uint32_t(EPOLLHUP)));
  c.Set("EPOLLRDHUP", double(uint32_t(EPOLLRDHUP)));
  c.Set("EPOLLET", double(uint32_t(EPOLLET)));
  c.Set("EPOLLONESHOT", double(uint32_t(EPOLLONESHOT)));
  c.Set("EPOLLEXCLUSIVE", double(uint32_t(EPOLLEXCLUSIVE)));
  c.Set("EPOLLRDNORM", double(uint32_t(EPOLLRDNORM)));
  c.Set("EPOLLRDBAND", double(uint32_t(EPOLLRDBAND)));
  c.Set("EPOLLWRNORM", double(uint32_t(EPOLLWRNORM)));
  c.Set("EPOLLWRBAND", double(uint32_t(EPOLLWRBAND)));
  c.Set("EPOLLMSG", double(uint32_t(EPOLLMSG)));
  exports.Set("epollConstants", c);
  exports.Set("HAVE_EPOLL", true);
}

}  // namespace iomux
