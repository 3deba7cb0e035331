#include "async_wait.h"

#include <new>
#include <system_error>

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
// Consecutive wake-ups of the direct watches that the backend's own look finds
// nothing for, within one wait, before the set is handed to the other ways: a
// watch that keeps firing for what the backend does not report (a mask libuv
// and the backend read differently) must not spin Node's loop. Wake-ups that
// some other reader beat to the data (Node's own handle on the same socket)
// are rarer than this per wait.
constexpr uint32_t kEmptyDirectWakesBeforeFallback = 64;

// How often a direct watch that keeps delivering checks that its fd still
// names the file it was made on (see OnDirect).
constexpr uint64_t kStaleCheckNs = 20000000;

enum class Mode : uint8_t { kNone, kDirect, kLegacy };

struct AsyncEngine {
  // Holds the loop while a wait is armed, and is the waiter thread's signal.
  LoopEdge* keep = nullptr;
  // kReadinessFd on Node: the readiness fd's watch, made when first needed.
  LoopEdge* watch = nullptr;
  AsyncKind kind;
  Instance* inst = nullptr;
  Mode mode = Mode::kNone;  // the way of the wait armed (or last armed)
  bool legacy_ready = false;  // the readiness watch or the thread is made
  DirectWatches direct{this, OnDirect, OnDirectClosed};
  std::vector<WatchSpec> specs;  // scratch for Registered()
  bool refused = false;      // direct watching refused for the set of generation refused_gen
  uint64_t refused_gen = 0;
  uint32_t arm_gen = 0;      // bumped by every arm (and Looked())
  uint32_t empty_wakes = 0;  // direct wake-ups of this wait whose look found nothing
  int deferred_err = 0;      // a failure of AfterChange, for the pending wait
  bool look_soon = false;    // a zero-timeout look is due on the next loop turn (see Start)
  const char* deferred_syscall = nullptr;
  int handles_open = 0;      // keep and watch, until their close callbacks ran
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

  void Ref() { LoopRef(keep, true); }
  void Unref() { LoopRef(keep, false); }

  // The JS callback, on the JS thread. No C++ exception may leave a libuv
  // callback (one that did aborted the process when the environment was going
  // away), so plain Node-API; a throwing callback becomes an uncaught exception,
  // as a throwing timer callback does.
  // Inside the caller's handle scope.
  void Call(int n, const char* syscall = nullptr) {
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
        argv[2] = SystemError(Napi::Env(env), -n, syscall ? syscall : src ? src->ErrorSyscall() : "wait").Value();
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
    if (!e->armed || e->mode != Mode::kLegacy || !src || e->closing) {
      if (src && !e->closing && e->mode == Mode::kLegacy && ++e->unarmed_wakes < kUnarmedWakesBeforeStop) return;
      // Nothing wants it: stop watching until the next arm.
      LoopStop(e->watch);
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
    if (e->deferred_err) {
      int err = e->deferred_err;
      e->deferred_err = 0;
      if (e->armed && e->source() && !e->closing) {
        Scope scope(e->env);
        e->Call(-err, e->deferred_syscall);
      }
    }
    if (e->look_soon) {
      e->look_soon = false;
      if (e->armed && e->source() && !e->closing) {
        Scope scope(e->env);
        int n = e->source()->CollectNow();
        if (n != 0) return e->Call(n);
      }
    }
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
    if (!e->armed || seq != e->seq || e->mode != Mode::kLegacy || !src || e->closing) return;  // cancelled meanwhile
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
      // Re-armed while this wait ran (a wait settled by a look of the JS
      // thread's, then armed again): serve the new one, whose result this is not.
      if (job_seq != s) continue;
      job = false;
      posted = true;
      post_seq = s;
      post_gen = snap_gen;
      post_result = r;
      lk.unlock();
      LoopSignal(keep);
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

  // Stop everything and let libuv finish closing; the engine frees itself
  // once every handle of its own (keep, watch, the direct watches) is closed.
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
    direct.CloseAll();  // the duplicates go when libuv lets go of them
    if (watch) LoopClose(watch, OnEdgeClosed, this);
    LoopClose(keep, OnEdgeClosed, this);
  }

  static void OnEdgeClosed(void* arg) {
    auto* e = static_cast<AsyncEngine*>(arg);
    e->handles_open--;
    e->MaybeFinish();
  }
  // A direct watch finished closing (also while the engine lives on).
  static void OnDirectClosed(void* arg) { static_cast<AsyncEngine*>(arg)->MaybeFinish(); }
  void MaybeFinish() {
    if (!closing || handles_open > 0 || direct.closing() > 0) return;
    if (hook) napi_remove_async_cleanup_hook(hook);
    if (context) napi_async_destroy(env, context);
    delete this;
  }

  // Environment teardown (a worker exiting with a wait pending, say).
  static void OnTeardown(napi_async_cleanup_hook_handle hook, void* arg) {
    auto* e = static_cast<AsyncEngine*>(arg);
    e->hook = hook;
    if (e->closing) return;  // the last close callback removes the hook
    e->Close();
  }

  // --- the ways -------------------------------------------------------------

  // Whether this wait is served by direct watches; makes them match the set
  // first. An error (a limit met while making them) is returned; a set that
  // cannot be watched directly is refused until it changes.
  WatchResult ChooseDirect(bool* use) {
    *use = false;
    AsyncSource* src = source();
    size_t n = src->RegisteredCount();
    if (!inst->fd_watch || !LoopCanWatchFds() || n == 0 || n > inst->direct_max) {
      if (direct.size() > 0) direct.CloseAll();  // the set outgrew it: no duplicates held
      return {};
    }
    uint64_t gen = src->RegistryGen();
    if (refused && refused_gen == gen) return {};
    refused = false;
    if (direct.synced_gen != gen) {
      specs.clear();
      src->Registered(&specs);
      WatchResult r = direct.Sync(env, specs, true);
      if (r.err == kUnwatchable) {
        Refuse(gen);
        return {};
      }
      if (r.err) return r;
      direct.synced_gen = gen;
    }
    *use = true;
    return {};
  }

  void Refuse(uint64_t gen) {
    refused = true;
    refused_gen = gen;
    direct.CloseAll();
  }

  // The readiness fd's watch, or the waiter thread, made on first use.
  WatchResult EnsureLegacy() {
    if (legacy_ready) return {};
    AsyncSource* src = source();
    if (!threaded()) {
      errno = 0;
      sys::fd_t rfd = src->ReadinessFd();  // made now if it is made lazily (io_uring's eventfd)
      if (rfd < 0) return {errno ? errno : EBADF, src->ErrorSyscall()};
      int err = 0;
      watch = LoopWatchFd(env, rfd, OnReadable, this, &err);
      if (!watch) return {err, "uv_poll_init"};
      handles_open++;
    } else {
      if (fd_thread) {
        errno = 0;
        watch_fd = src->ReadinessFd();  // made now if it is made lazily (io_uring's eventfd)
        // poll(2) would skip a negative fd and wait forever
        if (watch_fd < 0) return {errno ? errno : EBADF, src->ErrorSyscall()};
      }
      if (sys::OpenWake(&wake) < 0) return {sys::LastError(), "pipe"};
      try {
        thread = std::thread([this] { Run(); });
      } catch (const std::system_error& ex) {
        sys::CloseWake(&wake);
        return {ex.code().value() ? ex.code().value() : EAGAIN, "pthread_create"};
      }
    }
    legacy_ready = true;
    return {};
  }

  // Back to direct watching, the waiter thread and its wake-up pipe go: a set
  // that shrank below direct_max holds no fd or thread it no longer uses. (The
  // readiness fd's watch holds neither and stays.)
  void ReleaseThread() {
    if (!legacy_ready || !threaded() || fd_thread) return;
    StopThread();
    sys::CloseWake(&wake);
    std::lock_guard<std::mutex> g(mu);
    stop = job = in_wait = posted = wake_pending = false;
    snap_gen = 0;  // the next thread snapshots afresh
    legacy_ready = false;
  }

  void StopLegacy() {
    if (!legacy_ready) return;
    if (threaded()) {
      std::lock_guard<std::mutex> g(mu);
      job = false;
      cancel_gen++;
      if (in_wait) Poke();
    } else if (polling) {
      LoopStop(watch);
      polling = false;
    }
  }

  // Starts the armed wait (seq) the way the set asks for now, leaving the
  // other way stopped. On an error nothing is started.
  // Never throws: it runs inside libuv callbacks too (FallBack), where an
  // exception could not be caught.
  WatchResult Start() {
    try {
      return StartWay();
    } catch (const std::bad_alloc&) {
      return {ENOMEM, "malloc"};
    }
  }
  WatchResult StartWay() {
    Mode was = mode;
    bool use_direct = false;
    WatchResult r = ChooseDirect(&use_direct);
    if (r.err) return r;
    if (use_direct) {
      if (mode == Mode::kLegacy) StopLegacy();
      ReleaseThread();
      mode = Mode::kDirect;
      empty_wakes = 0;
      return direct.StartAll();
    }
    if (mode == Mode::kDirect) direct.StopAll();
    bool made = !legacy_ready;
    r = EnsureLegacy();
    if (r.err) return r;
    mode = Mode::kLegacy;
    // What became ready before the readiness fd existed, or while the other way
    // was watching, may never signal it (io_uring's eventfd counts only
    // completions after its registration): one look on the next loop turn.
    if (made || was == Mode::kDirect) {
      look_soon = true;
      LoopSignal(keep);
    }
    if (threaded()) {
      if (!armed || was != Mode::kLegacy) Post(seq);  // a pending wait's thread already has it
    } else if (!polling) {
      if (int err = LoopStart(watch)) return {-err, "uv_poll_start"};
      polling = true;
    }
    return {};
  }

  // A direct watch fired (JS thread).
  static void OnDirect(void* arg, DirectWatch* w) {
    auto* e = static_cast<AsyncEngine*>(arg);
    AsyncSource* src = e->source();
    if (!e->armed || e->mode != Mode::kDirect || !src || e->closing) {
      if (src && !e->closing && e->mode == Mode::kDirect) {
        if (w->gen != e->arm_gen) {
          w->gen = e->arm_gen;
          w->unarmed = 0;
        }
        if (++w->unarmed < kUnarmedWakesBeforeStop) return;
      }
      LoopStop(w->edge);  // nobody waits: until the next arm
      return;
    }
    // A watch whose fd was closed behind the selector's back (or whose number
    // now names another file) is what keeps that file open and awake: the
    // other ways serve this set until it changes, and the file is let go, so
    // the backend sees what it would have seen without us. An fstat is a
    // syscall (~1 µs here, as much as the look itself), so a busy watch asks
    // at most every kStaleCheckNs; a wake-up that finds nothing always asks.
    uint64_t now = LoopNowNs();
    if (now - w->checked_ns >= kStaleCheckNs) {
      w->checked_ns = now;
      if (e->direct.Stale(w)) return e->FallBack();
    }
    Scope scope(e->env);
    int n = src->CollectNow();
    if (n != 0) {
      e->Call(n);
      return;
    }
    // Nothing after all: usually a reader that got there first (Node's own
    // handle on the same socket). A watch that keeps disagreeing with the
    // backend must not spin the loop.
    if (e->direct.Stale(w) || ++e->empty_wakes >= kEmptyDirectWakesBeforeFallback) return e->FallBack();
    // libuv stops a watch whose fd reported an error (POLLERR); someone else
    // took it, so the watch goes on.
    if (!LoopActive(w->edge))
      if (int err = LoopStartFor(w->edge, w->events)) e->Call(err, "uv_poll_start");
  }

  void FallBack() {
    Refuse(source()->RegistryGen());
    WatchResult r = Start();  // never throws (see Start)
    if (r.err) {
      Scope scope(env);
      Call(-r.err, r.syscall);
    }
  }
};

// Made on the first arm; throws (on the JS thread) if the loop refuses.
static AsyncEngine* MakeEngine(napi_env env, AsyncWait* owner, AsyncKind kind) {
  Napi::Env e(env);
  auto* eng = new AsyncEngine();
  eng->kind = kind;
  eng->env = env;
  eng->owner = owner;
  eng->inst = GetInstance(e);
  // Where there is no fd watch (Bun, Deno), a readiness fd is waited on by a thread.
  eng->fd_thread = kind == AsyncKind::kReadinessFd && !eng->inst->fd_watch;
  int err = 0;
  eng->keep = LoopAsync(env, AsyncEngine::OnPosted, eng, &err);
  if (!eng->keep) {
    delete eng;
    ThrowSystemError(e, err, "uv_async_init");
  }
  eng->handles_open = 1;
  napi_value name;
  napi_create_string_utf8(env, "iomux.selectAsync", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, nullptr, name, &eng->context);
  napi_add_async_cleanup_hook(env, AsyncEngine::OnTeardown, eng, &eng->hook);
  return eng;
}

void AsyncWait::Arm(napi_env env, napi_value callback, uint32_t seq) {
  if (!engine_) engine_ = MakeEngine(env, this, kind_);
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
  e->arm_gen++;
  e->unarmed_wakes = 0;
  e->deferred_err = 0;
  WatchResult r = e->Start();
  if (r.err) {
    // Watches that cannot be made (the fd limit: a duplicate is an fd) must not
    // fail a wait the other ways can serve: this set waits their way until it
    // changes. Only if they fail too does the wait.
    e->Refuse(source_->RegistryGen());
    r = e->Start();
  }
  if (r.err) ThrowSystemError(Napi::Env(env), r.err, r.syscall);
  e->armed = true;
  armed_at_ns_ = LoopNowNs();
  e->Ref();  // a pending wait keeps the process alive, like a timer
}

void AsyncWait::Looked() {
  if (!engine_) return;
  engine_->unarmed_wakes = 0;
  engine_->arm_gen++;
}

void AsyncWait::Cancel() {
  AsyncEngine* e = engine_;
  if (!e || !e->armed) return;
  e->armed = false;
  e->Unref();
  // The watches stay; their next wake-up, if any, stops them.
  if (e->mode == Mode::kLegacy && e->threaded()) {
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

void AsyncWait::AfterChange(napi_env env) {
  AsyncEngine* e = engine_;
  if (!e || e->closing) return;
  if (!e->armed) {
    // Watches of fds no longer registered go now, so that the close() that
    // follows an unregister() really closes the file; new ones wait for the arm.
    if (e->direct.size() > 0 && e->direct.synced_gen != source_->RegistryGen()) {
      e->specs.clear();
      source_->Registered(&e->specs);
      if (e->specs.size() > e->inst->direct_max) e->direct.CloseAll();
      else e->direct.Sync(env, e->specs, false);
    }
    return;
  }
  // A pending wait follows the set at once, changing ways if it crossed direct_max.
  WatchResult r = e->Start();
  if (r.err == 0) return;
  // Watches that cannot be made (the fd limit) must not fail a wait the other
  // ways serve: this set waits their way until it changes.
  e->Refuse(source_->RegistryGen());
  r = e->Start();
  if (r.err == 0) return;
  // Not from inside register(): the wait fails on the next loop turn.
  e->deferred_err = r.err;
  e->deferred_syscall = r.syscall;
  LoopSignal(e->keep);
}

AsyncWait::Lock::Lock(AsyncWait& a)
    : mu_(a.engine_ && a.kind_ == AsyncKind::kWaiterThread ? &a.engine_->mu : nullptr) {
  if (mu_) mu_->lock();
}
AsyncWait::Lock::~Lock() {
  if (mu_) mu_->unlock();
}

}  // namespace iomux
