// Waits for select(2)/poll(2) off the main thread, for selectAsync().
//
// The real syscall still does the waiting (users benchmark it); it runs on one
// thread per selector, over a snapshot of the interest set plus a wake-up pipe.
// The main thread changes registrations under lock() and calls Wake(), so a wait
// in progress re-snapshots and sees them; Cancel() (close, abort, timeout) and
// teardown also go through the pipe.
#pragma once
#include <napi.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "sys.h"

namespace iomux {

class WaitSource {
 public:
  virtual ~WaitSource() = default;
  // Waiter thread, lock held: copy what BlockingWait needs.
  virtual void Snapshot() = 0;
  // Waiter thread, lock not held: block until a snapshot fd or wake_fd is ready.
  // True when something other than wake_fd is ready (or the call failed: the
  // main thread's select(0) then reports the error).
  virtual bool BlockingWait(sys::fd_t wake_fd) = 0;
};

class Waiter {
 public:
  Waiter(Napi::Env env, WaitSource* source);
  ~Waiter();
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  // Start a wait; `callback(seq)` runs on the main thread when something may be ready.
  void Arm(Napi::Env env, Napi::Function callback, uint32_t seq);
  // Stop the wait in progress, if any; its callback will not run.
  void Cancel();
  // The callback for the current wait ran: the selector no longer keeps the process alive.
  void Done();
  // Registrations changed: a wait in progress takes a new snapshot.
  void Wake();
  // Stop and join the thread; safe to call twice. Called by close(), the
  // destructor and the environment's cleanup hook.
  void Shutdown();
  std::mutex& lock() { return mu_; }
  bool armed() const { return armed_; }

 private:
  void Run();
  static void Cleanup(void* arg);

  Napi::Env env_;
  WaitSource* source_;
  sys::WakePair wake_{};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  Napi::ThreadSafeFunction tsfn_;
  bool have_tsfn_ = false;
  bool hook_added_ = false;
  bool stop_ = false;
  bool armed_ = false;      // main thread's view: a wait is pending
  bool job_ = false;        // thread's work item (under mu_)
  uint32_t job_seq_ = 0;    // under mu_
  uint32_t cancel_gen_ = 0; // under mu_
};

// What SelectSet and Poll hold: a Waiter made on the first selectAsync(), and
// the lock that registration changes take once it exists.
class AsyncWait {
 public:
  explicit AsyncWait(WaitSource* source) : source_(source) {}
  // arm(callback, seq) from JS.
  void Arm(const Napi::CallbackInfo& info);
  void Cancel() { if (waiter_) waiter_->Cancel(); }
  void Done() { if (waiter_) waiter_->Done(); }
  void Shutdown() { if (waiter_) waiter_->Shutdown(); }
  void Wake() { if (waiter_) waiter_->Wake(); }

  class Lock {
   public:
    explicit Lock(AsyncWait& a) : w_(a.waiter_.get()) { if (w_) w_->lock().lock(); }
    ~Lock() { if (w_) w_->lock().unlock(); }
   private:
    Waiter* w_;
  };

 private:
  WaitSource* source_;
  std::unique_ptr<Waiter> waiter_;
};

}  // namespace iomux
