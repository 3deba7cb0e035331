#include "waiter.h"

#include "args.h"
#include "errors.h"

namespace iomux {

Waiter::Waiter(Napi::Env env, WaitSource* source) : env_(env), source_(source) {
  if (sys::OpenWake(&wake_) < 0) ThrowSystemError(env, sys::LastError(), "pipe");
}

Waiter::~Waiter() {
  Shutdown();
  if (hook_added_) napi_remove_env_cleanup_hook(env_, Cleanup, this);
}

void Waiter::Cleanup(void* arg) {
  auto* self = static_cast<Waiter*>(arg);
  self->hook_added_ = false;
  self->Shutdown();
}

void Waiter::Arm(Napi::Env env, Napi::Function callback, uint32_t seq) {
  if (stop_) return;
  if (!have_tsfn_) {
    tsfn_ = Napi::ThreadSafeFunction::New(env, callback, "iomux.selectAsync", 0, 1);
    tsfn_.Unref(env);
    have_tsfn_ = true;
    // Registered after the TSFN's own hook so that it runs first (hooks run in reverse).
    napi_add_env_cleanup_hook(env, Cleanup, this);
    hook_added_ = true;
    thread_ = std::thread([this] { Run(); });
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    job_ = true;
    job_seq_ = seq;
  }
  armed_ = true;
  tsfn_.Ref(env);  // a pending wait keeps the process alive, like a timer
  cv_.notify_one();
}

void Waiter::Cancel() {
  if (!armed_) return;
  armed_ = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    job_ = false;
    cancel_gen_++;
  }
  sys::Wake(wake_);
  if (have_tsfn_) tsfn_.Unref(env_);
}

void Waiter::Done() {
  if (!armed_) return;
  armed_ = false;
  if (have_tsfn_) tsfn_.Unref(env_);
}

void Waiter::Wake() {
  if (armed_) sys::Wake(wake_);
}

void Waiter::Shutdown() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
      job_ = false;
      cancel_gen_++;
    }
    cv_.notify_one();
    sys::Wake(wake_);
    thread_.join();
  }
  stop_ = true;
  armed_ = false;
  if (have_tsfn_) {
    have_tsfn_ = false;
    tsfn_.Release();
  }
  sys::CloseWake(&wake_);
}

void AsyncWait::Arm(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) ThrowTypeError(info.Env(), "callback must be a function");
  uint32_t seq = uint32_t(ArgInt(info, 1, "seq", 0, UINT32_MAX));
  if (!waiter_) waiter_ = std::make_unique<Waiter>(info.Env(), source_);
  waiter_->Arm(info.Env(), info[0].As<Napi::Function>(), seq);
}

void Waiter::Run() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    cv_.wait(lk, [this] { return stop_ || job_; });
    if (stop_) return;
    uint32_t seq = job_seq_;
    uint32_t gen = cancel_gen_;
    bool ready = false;
    for (;;) {
      // Drain under the lock, then snapshot: a change made after this point
      // writes to the pipe again and wakes the wait below.
      sys::DrainWake(wake_);
      if (stop_ || gen != cancel_gen_) break;
      source_->Snapshot();
      lk.unlock();
      ready = source_->BlockingWait(wake_.read_fd);
      lk.lock();
      if (ready || stop_ || gen != cancel_gen_) break;
    }
    if (stop_) return;
    if (gen != cancel_gen_) continue;  // cancelled (maybe re-armed: loop picks the new job)
    job_ = false;
    lk.unlock();
    tsfn_.NonBlockingCall([seq](Napi::Env env, Napi::Function cb) {
      // Plain Node-API, no C++ exceptions: while a worker is being torn down the
      // call fails, and the Napi::Error that cb.Call() threw then escaped
      // node-addon-api's wrapper (its rethrow fails too) and aborted the process.
      // A callback that throws leaves its exception pending for Node to report.
      napi_value arg;
      if (napi_create_uint32(env, seq, &arg) != napi_ok) return;
      napi_call_function(env, env.Global(), cb, 1, &arg, nullptr);
    });
    lk.lock();
  }
}

}  // namespace iomux
