// selectAsync()'s wait off the JS thread, in one of three ways:
//
// direct        (any selector, while it holds at most Instance::direct_max fds,
//               on Node: direct_watch.h) Node's own loop watches each
//               registered fd; a wake-up runs the backend's zero-timeout wait.
//
// and otherwise by the mechanism's AsyncKind:
//
// kReadinessFd  the mechanism has an fd that is readable while anything in its
//               set is ready (the epoll fd; an io_uring ring's eventfd). Node's
//               own loop watches it with one uv_poll_t, started on the first
//               arm and left running while waits keep coming: no epoll_ctl on
//               Node's loop per wait. A wake-up with nothing armed stops it.
// kWaiterThread the mechanism can only block (select, poll): one persistent
//               thread per set, woken by a condition variable (a futex) when a
//               wait is armed, blocking in the real syscall over a snapshot of
//               the set plus a wake-up pipe, and handing its ready list back
//               with uv_async_send. No thread start and no TSFN per wait.
//
// Either way the JS thread gets callback(seq, count, error?) with the ready
// pairs already in the results array: no second crossing to collect them.
#pragma once
#include <napi.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "direct_watch.h"
#include "sys.h"

namespace iomux {

enum class AsyncKind { kReadinessFd, kWaiterThread };

struct ReadyPair {
  sys::fd_t fd;
  uint32_t mask;
};
using ReadyList = std::vector<ReadyPair>;

// What AsyncWait asks of the interest set (InterestSet<Mech> implements it).
class AsyncSource {
 public:
  virtual ~AsyncSource() = default;
  // JS thread: a zero-timeout wait written to the results array; the count, or
  // -errno (the error is then made with ErrorSyscall()).
  virtual int CollectNow() = 0;
  virtual const char* ErrorSyscall() const = 0;
  // kReadinessFd: the fd to watch.
  virtual sys::fd_t ReadinessFd() = 0;
  // kWaiterThread, waiter thread, lock held: copy what BlockingWait needs.
  virtual void Snapshot() = 0;
  // kWaiterThread, waiter thread, lock not held: block on the snapshot plus
  // wake_fd; > 0 when something in the snapshot is ready, 0 when only wake_fd
  // is, -errno on failure (EINTR is retried by the caller).
  virtual int BlockingWait(sys::fd_t wake_fd) = 0;
  // kWaiterThread, waiter thread, after BlockingWait > 0: the ready pairs.
  virtual void CollectSnapshot(ReadyList* out) = 0;
  // JS thread: copy a ready list into the results array; the count written.
  virtual int Deliver(const ReadyList& ready) = 0;
  // Direct watching: how many fds are registered (0 for a set that cannot be
  // watched fd by fd: the raw Poll and Epoll, whose masks libuv cannot say), a
  // number that changes with every registration change, and the fds themselves.
  virtual size_t RegisteredCount() const = 0;
  virtual uint64_t RegistryGen() const = 0;
  virtual void Registered(std::vector<WatchSpec>* out) const = 0;
};

struct AsyncEngine;

class AsyncWait {
 public:
  AsyncWait(AsyncSource* source, AsyncKind kind) : source_(source), kind_(kind) {}
  ~AsyncWait() { Shutdown(); }
  AsyncWait(const AsyncWait&) = delete;
  AsyncWait& operator=(const AsyncWait&) = delete;

  // arm(callback, seq): call back once something is ready (or the wait failed).
  void Arm(napi_env env, napi_value callback, uint32_t seq);
  // An arm(check) found something ready at once: the caller is still waiting,
  // just never long enough to arm; the fd watch stays (see async_wait.cc).
  void Looked();
  // Stop the wait in progress, if any; its callback will not run.
  void Cancel();
  // Stop for good (close(), the set's destructor); safe to call twice.
  void Shutdown();

  // The interest set changed (call with Lock held): a waiter thread blocked on
  // an old snapshot takes a new one; a ready list from an old one is re-collected.
  void Changed();
  // Then, with the lock released: the direct watches follow the set (a pending
  // wait may also change ways, when the set crosses direct_max). Never throws:
  // a failure there fails the pending wait, later.
  void AfterChange(napi_env env);

  // True while a wake-up's callback (and the promise reactions it triggers)
  // runs. A selector re-armed then has just been handed everything that was
  // ready and its user has had the chance to consume it; an arm(check) skips
  // the zero-timeout look: whatever is still (or newly) ready keeps the epoll
  // fd readable (libuv watches it level-triggered) or returns the waiter
  // thread's wait at once, so it is reported one loop turn later, not lost.
  // Only after a wait that slept (>= 200 us): a selector whose fds keep being
  // ready at once keeps looking first, and so resolves without a loop turn.
  bool delivering() const { return delivering_ && !last_wait_short_; }

  // Held around changes to what Snapshot() reads (only once a thread exists).
  class Lock {
   public:
    explicit Lock(AsyncWait& a);
    ~Lock();
   private:
    std::mutex* mu_;
  };

 private:
  friend struct AsyncEngine;
  AsyncSource* source_;
  AsyncKind kind_;
  AsyncEngine* engine_ = nullptr;  // made on the first arm
  bool delivering_ = false;
  bool last_wait_short_ = false;
  uint64_t armed_at_ns_ = 0;
};

}  // namespace iomux
