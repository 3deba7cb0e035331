// selectAsync()'s direct watching (async_wait.h, the first of its ways): while
// a selector holds at most Instance::direct_max fds, Node's own loop watches
// each of them (one uv_poll_t per fd) instead of a nested readiness fd or a
// waiter thread. A wake-up still asks the backend (its zero-timeout wait over
// the whole set), so what a selector reports does not depend on how it waited.
//
// Each watch is on a close-on-exec duplicate of the registered fd, never on the
// registered number itself. libuv keeps one watcher per fd number: on the
// number itself, a registered fd closed behind the selector's back and reused
// by one of Node's own handles would have that handle's events delivered here,
// and stopping our watch would take the handle's registration out of Node's
// epoll set (libuv aborts at its next change). The duplicate is ours alone, so
// removing it is always clean, and an fd that Node already watches (a
// net.Socket's, a child's pipe: uv_poll_init says EEXIST for those) is watched
// beside Node's own watcher rather than refused.
//
// The cost of that choice: while a watch exists, its file stays open even if
// the registered fd is closed without being unregistered first (which Python's
// selectors, libuv and this library all forbid). unregister() and close()
// drop the watch at once; a wake-up that finds the number naming another file
// (or none) drops it too.
#pragma once
#include <napi.h>

#include <cstdint>
#include <vector>

#include "loop_edge.h"
#include "sys.h"

namespace iomux {

// A registered fd and what it is watched for (kLoopRead | kLoopWrite).
struct WatchSpec {
  sys::fd_t fd;
  unsigned events;
};

class DirectWatches;

struct DirectWatch {
  DirectWatches* home;  // outlives the watch (the engine waits for every close)
  bool closed = false;  // LoopClose called: no wake-up reaches home any more
  sys::fd_t fd;         // the registered fd
  sys::fd_t dup = -1;   // ours: what Node's loop watches
  unsigned events = 0;
  sys::FileId id;       // the file fd named when the watch was made
  LoopEdge* edge = nullptr;
  uint64_t checked_ns = 0;  // when Stale() last looked (async_wait.cc)
  uint32_t gen = 0;     // the arm that `unarmed` counts from
  uint32_t unarmed = 0; // wake-ups with no wait armed since then
  bool keep = false;    // Sync's mark
};

// What Sync and StartAll report: 0, kUnwatchable, or an errno with its syscall.
struct WatchResult {
  int err = 0;
  const char* syscall = nullptr;
};
// An fd that Node's loop cannot watch (a regular file; an fd already closed);
// the set is then served by the other ways.
constexpr int kUnwatchable = -1;

class DirectWatches {
 public:
  using WakeFn = void (*)(void* owner, DirectWatch* w);
  using ClosedFn = void (*)(void* owner);
  // on_wake runs on the JS thread when Node's loop finds a watched fd ready;
  // on_closed once per watch whose libuv handle has finished closing (the
  // owner must outlive every close: see closing()).
  DirectWatches(void* owner, WakeFn on_wake, ClosedFn on_closed)
      : owner_(owner), on_wake_(on_wake), on_closed_(on_closed) {}
  ~DirectWatches() { CloseAll(); }
  DirectWatches(const DirectWatches&) = delete;
  DirectWatches& operator=(const DirectWatches&) = delete;

  // Makes the watches match `want`: those of fds no longer wanted are closed,
  // changed ones restarted with their new events if started, and with `create`
  // the missing ones made (stopped). On an error the watches made so far stay.
  WatchResult Sync(napi_env env, const std::vector<WatchSpec>& want, bool create);
  // Starts every watch that is not started (libuv stops one whose fd reported an error).
  WatchResult StartAll();
  void StopAll();
  void CloseAll();
  // True when w's fd no longer names the file the watch was made on.
  bool Stale(const DirectWatch* w) const;
  size_t size() const { return watches_.size(); }
  // Watches whose libuv handle has not finished closing.
  size_t closing() const { return closing_; }
  // The registry generation the watches were last made to match (AsyncSource::RegistryGen).
  uint64_t synced_gen = 0;

 private:
  WatchResult Make(napi_env env, const WatchSpec& spec);
  void Close(DirectWatch* w);
  static void OnEdge(void* arg);
  static void OnEdgeClosed(void* arg);

  void* owner_;
  WakeFn on_wake_;
  ClosedFn on_closed_;
  std::vector<DirectWatch*> watches_;
  size_t closing_ = 0;
};

}  // namespace iomux
