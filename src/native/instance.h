// Per-environment state (the addon is context-aware: one of these per main
// thread or worker, nothing global).
#pragma once
#include <napi.h>

#include <unordered_set>
#include <vector>

#include "sys.h"

namespace iomux {

struct Instance {
  // Sockets and pipes that iomux created or adopted and that are still open:
  // closed when the environment goes away (a worker exiting leaves no fd behind).
  std::unordered_set<sys::fd_t> owned;
  // Reused by recv()/recvFrom() so that a read allocates only its result.
  std::vector<uint8_t> scratch;
  // Whether selectAsync() on epoll/io_uring/kqueue may watch its fd in the host's
  // loop (uv_poll); off on Bun and Deno (module.cc, binding.ts).
  bool fd_watch = true;
  // Selectors with at most this many fds have selectAsync() watch each fd in
  // Node's loop (direct_watch.h); 0 turns that off. setDirectWatchMax (module.cc).
  uint32_t direct_max = 64;

  ~Instance() {
    for (sys::fd_t fd : owned) sys::Close(fd);
  }
};

inline Instance* GetInstance(Napi::Env env) { return env.GetInstanceData<Instance>(); }

}  // namespace iomux
