#include "async_wait.h"

#include "errors.h"
#include "instance.h"
#include "loop_edge.h"

namespace iomux {

// A wait that ended sooner than this after its arm counts as "busy" (see delivering()).
constexpr uint64_t kShortWaitNs = 200000;

// Wake-ups of the fd watch with no wait armed before it is stopped. Stopping
// is uv_poll_stop (EPOLL_CTL_DEL on Node's epoll) and the next arm's start an
// EPOLL_CTL_ADD, for which the kernel walks every fd in the set being added
// (its loop and wake-up path checks: ~2.5 ms at 10,000 fds). A serve loop
// that lets Node's loop turn now and then (setImmediate) meets one such
// wake-up per turn and arms again right after: keep the watch through it.
// A second one in a row means nobody is waiting: stop, so a readable fd
// nobody waits for cannot keep Node's loop turning.
constexpr uint32_t kUnarmedWakesBeforeStop = 2;

// Everything libuv or the waiter thread may touch after the set is gone lives
// here, on the heap: uv_close finishes on a later loop turn, and the
// environment's teardown (a worker exiting) may come before or after the set's.
struct AsyncEngine {
  LoopEdge* edge = nullptr;  // the fd watch or the async signal (loop_edge.h)
  AsyncKind kind;
  // kReadinessFd without an fd watch (Instance::fd_watch off when it was
  // made, instance.h): the waiter thread blocks on watch_fd (plus the wake pipe) instead of
  // a snapshot, and the JS thread collects with a zero-timeout wait.
  bool fd_thread = false;
  sys::fd_t watch_fd = -1;
  bool threaded() const { return kind == AsyncKind::kWaiterThread || fd_thread; }
  napi_env env;
  AsyncWait* owner;  // null once either side let go
  napi_async_cleanup_hook_handle hook = nullptr;
  napi_ref callback = nullptr;
  napi_async_context context = nullptr;
  uint32_t seq = 0;
  bool armed = false;     // JS thread: a wait is pending
  bool polling = false;   // kReadinessFd: uv_poll_start is in force
  uint32_t unarmed_wakes = 0;  // kReadinessFd: watch wake-ups since the last arm
  bool closing = false;

  // kWaiterThread. Fields marked (mu) are shared with the thread.
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  sys::WakePair wake{};
  bool stop = false;          // (mu)
  bool job = false;           // (mu) a wait for the thread to do
  bool in_wait = false;       // (mu) the thread is blocked in BlockingWait
  bool posted = false;        // (mu) a result waits for the JS thread
  bool wake_pending = false;  // (mu) the pipe was written since the last drain
  uint32_t job_seq = 0;       // (mu)
  uint32_t cancel_gen = 0;    // (mu)
  uint64_t set_gen = 1;       // (mu) bumped by every registration change
  uint64_t snap_gen = 0;      // (mu) the set_gen the thread's snapshot shows
  uint64_t post_gen = 0;      // (mu)
  uint32_t post_seq = 0;      // (mu)
  int post_result = 0;        // (mu)
  ReadyList ready;            // written by the thread before posting, read by the JS thread after

  AsyncSource* source() { return owner ? owner->source_ : nullptr; }

  void Ref() { LoopRef(edge, true); }
  void Unref() { LoopRef(edge, false); }

  // The JS callback, on the JS thread. No C++ exception may leave a libuv
  // callback (one that did aborted the process when the environment was going
  // away), so plain Node-API; a throwing callback becomes an uncaught exception,
  // as a throwing timer callback does.
  // Inside the caller's handle scope.
  void Call(int n) {
    armed = false;
    Unref();
    if (!callback) return;
    napi_value fn, recv, argv[3], result;
    size_t argc = 2;
    bool ok = napi_get_reference_value(env, callback, &fn) == napi_ok && fn && napi_get_global(env, &recv) == napi_ok &&
              napi_create_uint32(env, seq, &argv[0]) == napi_ok && napi_create_int32(env, n < 0 ? -1 : n, &argv[1]) == napi_ok;
    if (ok && n < 0) {
      AsyncSource* src = source();
      // SystemError is node-addon-api, which throws when a Node-API call fails,
      // as they do in an environment that is being torn down (a terminating
      // worker, whose results array then reads as detached: -ENOBUFS). The
      // throw must not leave this libuv callback: nobody is left to call.
      try {
        argv[2] = SystemError(Napi::Env(env), -n, src ? src->ErrorSyscall() : "wait").Value();
        argc = 3;
      } catch (const Napi::Error&) {
        ok = false;
      }
    }
    // While it runs (and the promise reactions after it), a re-arm may skip
    // its first look: see AsyncWait::delivering().
    if (owner) {
      owner->delivering_ = true;
      owner->last_wait_short_ = LoopNowNs() - owner->armed_at_ns_ < kShortWaitNs;
    }
    napi_status st = ok ? napi_make_callback(env, context, recv, fn, argc, argv, &result) : napi_generic_failure;
    if (owner) owner->delivering_ = false;
    if (st == napi_pending_exception) {
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
  }

  // Libuv callbacks run outside any handle scope; the results array and the
  // callback are reached through references, which need one.
  struct Scope {
    napi_env env;
    napi_handle_scope scope = nullptr;
    explicit Scope(napi_env e) : env(e) { napi_open_handle_scope(env, &scope); }
    ~Scope() { if (scope) napi_close_handle_scope(env, scope); }
  };

  static void OnReadable(void* arg) {
    auto* e = static_cast<AsyncEngine*>(arg);
    AsyncSource* src = e->source();
    if (!e->armed || !src || e->closing) {
      if (src && !e->closing && ++e->unarmed_wakes < kUnarmedWakesBeforeStop) return;
      // Nothing wants it: stop watching until the next arm.
      LoopStop(e->edge);
      e->polling = false;
      return;
    }
    Scope scope(e->env);
    int n = src->CollectNow();
    if (n == 0) return;  // a wake-up for something already consumed; stay armed
    e->Call(n);
  }

  static void OnPosted(void* arg) {
    auto* e = static_cast<AsyncEngine*>(arg);
    uint32_t seq;
    int r;
    bool fresh;
    {
      std::lock_guard<std::mutex> g(e->mu);
      if (!e->posted) return;
      e->posted = false;
      seq = e->post_seq;
      r = e->post_result;
      fresh = e->post_gen == e->set_gen;
    }
    AsyncSource* src = e->source();
    if (!e->armed || seq != e->seq || !src || e->closing) return;  // cancelled meanwhile
    // The thread's ready list describes the set it snapshotted; if the set
    // changed since (or the wait failed), ask the kernel again, which also
    // reports the error the way a synchronous select() would. A thread that
    // waited on the readiness fd has no list: always ask.
    Scope scope(e->env);
    int n = (r > 0 && fresh && !e->fd_thread) ? src->Deliver(e->ready) : src->CollectNow();
    // The thread's own poll(2) on the readiness fd failed while the set's
    // zero-timeout look succeeds: report that failure instead of waiting again.
    if (n == 0 && r < 0 && e->fd_thread) n = r;
    if (n == 0) {
      e->Post(seq);  // nothing after all: keep waiting
      return;
    }
    e->Call(n);
  }

  // Wake a BlockingWait in progress (lock held).
  void Poke() {
    wake_pending = true;
    sys::Wake(wake);
  }

  // Hand the thread a wait (JS thread).
  void Post(uint32_t s) {
    {
      std::lock_guard<std::mutex> g(mu);
      job = true;
      job_seq = s;
    }
    cv.notify_one();
  }

  void Run() {
    AsyncSource* src = owner->source_;  // the thread is joined before the source goes
    std::unique_lock<std::mutex> lk(mu);
    for (;;) {
      cv.wait(lk, [this] { return stop || job; });
      if (stop) return;
      uint32_t s = job_seq;
      uint32_t gen = cancel_gen;
      int r = 0;
      for (;;) {
        // Drained under the lock before snapshotting: a change made after
        // this point writes to the pipe again and wakes the wait below.
        if (wake_pending) {
          sys::DrainWake(wake);
          wake_pending = false;
        }
        if (stop || gen != cancel_gen) break;
        if (!fd_thread && snap_gen != set_gen) {
          src->Snapshot();
          snap_gen = set_gen;
        }
        in_wait = true;
        lk.unlock();
        if (fd_thread) {
          // The readiness fd is the kernel's own view of the set: no snapshot.
          r = sys::WaitReadableOrWake(watch_fd, wake.read_fd);
        } else {
          r = src->BlockingWait(wake.read_fd);
          if (r > 0) {
            ready.clear();
            src->CollectSnapshot(&ready);
          }
        }
        lk.lock();
        in_wait = false;
        if (r == -EINTR) r = 0;
        if (r != 0 || stop || gen != cancel_gen) break;
      }
      if (stop) return;
      if (gen != cancel_gen) continue;  // cancelled (maybe re-armed: the loop picks the new job)
      job = false;
      posted = true;
      post_seq = s;
      post_gen = snap_gen;
      post_result = r;
      lk.unlock();
      LoopSignal(edge);
      lk.lock();
    }
  }

  void StopThread() {
    if (!thread.joinable()) return;
    {
      std::lock_guard<std::mutex> g(mu);
      stop = true;
      job = false;
      cancel_gen++;
      wake_pending = true;
    }
    cv.notify_one();
    sys::Wake(wake);
    thread.join();
  }

  // Stop everything and let libuv finish closing; the engine frees itself.
  void Close() {
    if (closing) return;
    closing = true;
    StopThread();
    sys::CloseWake(&wake);  // now, not at OnClosed: close() leaves no fd behind at once
    if (owner) {
      owner->engine_ = nullptr;
      owner->delivering_ = false;
    }
    owner = nullptr;
    armed = false;
    if (callback) {
      napi_delete_reference(env, callback);
      callback = nullptr;
    }
    LoopClose(edge, OnClosed, this);
  }

  static void OnClosed(void* arg) {
    auto* e = static_cast<AsyncEngine*>(arg);
    if (e->hook) napi_remove_async_cleanup_hook(e->hook);
    if (e->context) napi_async_destroy(e->env, e->context);
    delete e;
  }

  // Environment teardown (a worker exiting with a wait pending, say).
  static void OnTeardown(napi_async_cleanup_hook_handle hook, void* arg) {
    auto* e = static_cast<AsyncEngine*>(arg);
    e->hook = hook;
    if (e->closing) return;  // OnClosed removes the hook
    e->Close();
  }
};

// Made on the first arm; throws (on the JS thread) if the loop or a pipe refuses.
static AsyncEngine* MakeEngine(napi_env env, AsyncWait* owner, AsyncSource* src, AsyncKind kind) {
  Napi::Env e(env);
  auto* eng = new AsyncEngine();
  eng->kind = kind;
  eng->env = env;
  eng->owner = owner;
  int err = 0;
  if (kind == AsyncKind::kReadinessFd && !GetInstance(env)->fd_watch) {
    eng->fd_thread = true;
    eng->watch_fd = src->ReadinessFd();  // made now if it is made lazily (io_uring's eventfd)
    if (eng->watch_fd < 0) {  // poll(2) would skip a negative fd and wait forever
      delete eng;
      ThrowSystemError(e, EBADF, src->ErrorSyscall());
    }
  }
  if (kind == AsyncKind::kReadinessFd && !eng->fd_thread) {
    eng->edge = LoopWatchFd(env, src->ReadinessFd(), AsyncEngine::OnReadable, eng, &err);
    if (!eng->edge) {
      delete eng;
      ThrowSystemError(e, err, "uv_poll_init");
    }
  } else {
    if (sys::OpenWake(&eng->wake) < 0) {
      err = sys::LastError();
      delete eng;
      ThrowSystemError(e, err, "pipe");
    }
    eng->edge = LoopAsync(env, AsyncEngine::OnPosted, eng, &err);
    if (!eng->edge) {
      sys::CloseWake(&eng->wake);
      delete eng;
      ThrowSystemError(e, err, "uv_async_init");
    }
  }
  napi_value name;
  napi_create_string_utf8(env, "iomux.selectAsync", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, nullptr, name, &eng->context);
  napi_add_async_cleanup_hook(env, AsyncEngine::OnTeardown, eng, &eng->hook);
  if (eng->threaded()) eng->thread = std::thread([eng] { eng->Run(); });
  return eng;
}

void AsyncWait::Arm(napi_env env, napi_value callback, uint32_t seq) {
  if (!engine_) engine_ = MakeEngine(env, this, source_, kind_);
  AsyncEngine* e = engine_;
  // One reference for the set's life: selectors pass the same function each time.
  bool same = false;
  if (e->callback) {
    napi_value cur;
    if (napi_get_reference_value(env, e->callback, &cur) == napi_ok && cur) napi_strict_equals(env, cur, callback, &same);
    if (!same) {
      napi_delete_reference(env, e->callback);
      e->callback = nullptr;
    }
  }
  if (!e->callback && napi_create_reference(env, callback, 1, &e->callback) != napi_ok)
    ThrowSystemError(Napi::Env(env), ENOMEM, "napi_create_reference");
  e->seq = seq;
  e->armed = true;
  e->unarmed_wakes = 0;
  armed_at_ns_ = LoopNowNs();
  e->Ref();  // a pending wait keeps the process alive, like a timer
  if (!e->threaded()) {
    if (!e->polling) {
      int r = LoopStart(e->edge);
      if (r < 0) {
        e->armed = false;
        e->Unref();
        ThrowSystemError(Napi::Env(env), -r, "uv_poll_start");
      }
      e->polling = true;
    }
  } else {
    e->Post(seq);
  }
}

void AsyncWait::Looked() {
  if (engine_) engine_->unarmed_wakes = 0;
}

void AsyncWait::Cancel() {
  AsyncEngine* e = engine_;
  if (!e || !e->armed) return;
  e->armed = false;
  e->Unref();
  // kReadinessFd: the watch stays; its next wake-up, if any, stops it.
  if (e->threaded()) {
    std::lock_guard<std::mutex> g(e->mu);
    e->job = false;
    e->cancel_gen++;
    if (e->in_wait) e->Poke();
  }
}

void AsyncWait::Shutdown() {
  if (engine_) engine_->Close();  // clears engine_
}

void AsyncWait::Changed() {
  AsyncEngine* e = engine_;
  if (!e || kind_ != AsyncKind::kWaiterThread) return;
  e->set_gen++;
  if (e->in_wait) e->Poke();
}

AsyncWait::Lock::Lock(AsyncWait& a)
    : mu_(a.engine_ && a.kind_ == AsyncKind::kWaiterThread ? &a.engine_->mu : nullptr) {
  if (mu_) mu_->lock();
}
AsyncWait::Lock::~Lock() {
  if (mu_) mu_->unlock();
}

}  // namespace iomux
