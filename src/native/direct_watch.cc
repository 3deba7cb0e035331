#include "direct_watch.h"

#include <cerrno>
#include <cstddef>
#include <new>

namespace iomux {

// Duplicates are numbered from here, never below: the low numbers stay the
// application's (and free for select(2), which needs them below FD_SETSIZE).
// A duplicate taking one of them could make the application's own accept()
// or open() fail with EMFILE where it would have succeeded, and at the limit
// the wait would flap between ways as such fds come and go.
constexpr int kDupFloor = 1024;

WatchResult DirectWatches::Sync(napi_env env, const std::vector<WatchSpec>& want, bool create) {
  for (DirectWatch* w : watches_) w->keep = false;
  std::vector<const WatchSpec*> missing;
  WatchResult failed;
  for (const WatchSpec& spec : want) {
    DirectWatch* found = nullptr;
    for (DirectWatch* w : watches_)
      if (w->fd == spec.fd) {
        found = w;
        break;
      }
    if (!found) {
      missing.push_back(&spec);
      continue;
    }
    found->keep = true;
    if (found->events != spec.events) {
      found->events = spec.events;
      if (LoopActive(found->edge))
        if (int r = LoopStartFor(found->edge, spec.events))
          if (!failed.err) failed = {-r, "uv_poll_start"};
    }
  }
  // Closed first: their duplicates are released before new ones are made.
  for (size_t i = watches_.size(); i-- > 0;) {
    if (watches_[i]->keep) continue;
    DirectWatch* w = watches_[i];
    watches_.erase(watches_.begin() + ptrdiff_t(i));
    Close(w);
  }
  if (failed.err) return failed;
  if (create)
    for (const WatchSpec* spec : missing) {
      WatchResult r = Make(env, *spec);
      if (r.err) return r;
    }
  return {};
}

WatchResult DirectWatches::Make(napi_env env, const WatchSpec& spec) {
  auto* w = new (std::nothrow) DirectWatch{};
  if (!w) return {ENOMEM, "malloc"};
  w->home = this;
  w->fd = spec.fd;
  w->events = spec.events;
  // A closed fd is left to the other ways, which report it as the backend does.
  if (sys::GetFileId(spec.fd, &w->id) != 0) {
    delete w;
    return {kUnwatchable, nullptr};
  }
  w->dup = sys::DupAbove(spec.fd, kDupFloor);
  if (w->dup < 0) {
    int err = errno;
    delete w;
    // EINVAL: the fd limit leaves no number from kDupFloor up; EBADF: closed.
    if (err == EBADF || err == EINVAL) return {kUnwatchable, nullptr};
    return {err, "dup"};  // EMFILE, ENFILE: the process's or the system's fd limit
  }
  // uv_poll_init makes the file non-blocking, and the file is the caller's:
  // its blocking mode is put back as it was.
  bool nonblocking = true;
  sys::GetNonBlocking(w->dup, &nonblocking);
  int err = 0;
  w->edge = LoopWatchFd(env, w->dup, OnEdge, w, &err);
  if (!w->edge) {
    sys::Close(w->dup);
    delete w;
    // EPERM: a file epoll cannot watch (a regular file, /dev/null); EEXIST: a
    // stale watcher of libuv's on this number. Either way not here.
    if (err == ENOMEM) return {err, "uv_poll_init"};
    return {kUnwatchable, nullptr};
  }
  if (!nonblocking) sys::SetNonBlocking(w->dup, false);
  watches_.push_back(w);
  return {};
}

WatchResult DirectWatches::StartAll() {
  for (DirectWatch* w : watches_)
    if (!LoopActive(w->edge))
      if (int r = LoopStartFor(w->edge, w->events)) return {-r, "uv_poll_start"};
  return {};
}

void DirectWatches::StopAll() {
  for (DirectWatch* w : watches_)
    if (LoopActive(w->edge)) LoopStop(w->edge);
}

void DirectWatches::CloseAll() {
  std::vector<DirectWatch*> all;
  all.swap(watches_);
  for (DirectWatch* w : all) Close(w);
  synced_gen = 0;
}

bool DirectWatches::Stale(const DirectWatch* w) const {
  sys::FileId now;
  return sys::GetFileId(w->fd, &now) != 0 || !(now == w->id);
}

void DirectWatches::Close(DirectWatch* w) {
  w->closed = true;
  closing_++;
  LoopClose(w->edge, OnEdgeClosed, w);
  // LoopClose took the duplicate out of Node's loop: it can go now, so that
  // unregister() or close() leaves no fd of ours behind at once.
  sys::Close(w->dup);
  w->dup = -1;
}

void DirectWatches::OnEdge(void* arg) {
  auto* w = static_cast<DirectWatch*>(arg);
  if (!w->closed) w->home->on_wake_(w->home->owner_, w);
}

void DirectWatches::OnEdgeClosed(void* arg) {
  auto* w = static_cast<DirectWatch*>(arg);
  DirectWatches* home = w->home;
  delete w;
  home->closing_--;
  home->on_closed_(home->owner_);
}

}  // namespace iomux
