// poll(2): the Poll class (raw revents) and PollSet (PollSelector's: EVENT_READ/
// EVENT_WRITE in, Python's mapping out).
#include <memory>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "backends.h"
#include "errors.h"
#include "results.h"
#include "interest_set.h"

namespace iomux {
namespace {

#ifndef POLLRDHUP
#define POLLRDHUP 0
#endif
#ifndef POLLMSG
#define POLLMSG 0
#endif

constexpr uint32_t kPollAllowed = POLLIN | POLLPRI | POLLOUT | POLLERR | POLLHUP | POLLNVAL | POLLRDNORM |
                                  POLLRDBAND | POLLWRNORM | POLLWRBAND | POLLMSG | POLLRDHUP;
constexpr uint32_t kPollDefault = POLLIN | POLLPRI | POLLOUT;

// Poll (raw revents, Python's select.poll) and PollSet (selector masks in and
// out, for PollSelector): one mechanism, two mask codecs fixed at compile time.
template <bool kSelector>
struct PollMech : MechBase {
  static constexpr const char* kName = kSelector ? "PollSet" : "Poll";
  static constexpr const char* kWaitSyscall = "poll";
  static constexpr int64_t kWaitUnitNs = 1000000;
  static constexpr AsyncKind kAsync = AsyncKind::kWaiterThread;
  static constexpr bool kSelectorMasks = kSelector;
  static constexpr uint32_t kAllowed = kPollAllowed;
  static constexpr uint32_t kDefault = kPollDefault;

  explicit PollMech(const Napi::CallbackInfo&) {}

  static uint32_t Encode(uint32_t ev) { return ((ev & kEventRead) ? POLLIN : 0) | ((ev & kEventWrite) ? POLLOUT : 0); }

  // add(fd, mask): registering again modifies (like Python's poll.register).
  void Add(Napi::Env env, sys::fd_t fd, uint32_t ev) {
    // A selector refuses a closed fd at once, as epoll does; raw Poll keeps
    // poll(2)'s own behaviour (POLLNVAL at the next wait).
    if constexpr (kSelector)
      if (int err = sys::CheckOpen(fd)) ThrowSystemError(env, err, "fcntl");
    auto it = index_.find(fd);
    if (it == index_.end()) {
      index_.emplace(fd, fds_.size());
      fds_.push_back(pollfd{int(fd), short(ev), 0});
    } else {
      fds_[it->second].events = short(ev);
    }
  }

  void Modify(Napi::Env env, sys::fd_t fd, uint32_t ev) {
    auto it = index_.find(fd);
    if (it == index_.end()) ThrowSystemError(env, ENOENT, "poll");
    fds_[it->second].events = short(ev);
  }

  void Remove(Napi::Env env, sys::fd_t fd, bool) {
    auto it = index_.find(fd);
    if (it == index_.end()) ThrowSystemError(env, ENOENT, "poll");
    size_t i = it->second;
    index_.erase(it);
    if (i != fds_.size() - 1) {
      fds_[i] = fds_.back();
      index_[fds_[i].fd] = i;
    }
    fds_.pop_back();
  }

  int WaitOnce(int64_t ms, size_t) { return ::poll(fds_.data(), nfds_t(fds_.size()), int(ms)); }

  size_t Collect(int n, Results& out, size_t cap) {
    size_t count = 0;
    int seen = 0;
    for (const pollfd& p : fds_) {
      if (!p.revents) continue;
      if (count >= cap) break;
      out.Put(count++, p.fd, Mask(p));
      if (++seen == n) break;  // poll counts the entries with revents: no more after the n-th
    }
    return count;
  }

  void Snapshot() { snap_ = fds_; snap_.push_back(pollfd{-1, POLLIN, 0}); }
  int BlockingWait(sys::fd_t wake) {
    snap_.back().fd = int(wake);
    int n = ::poll(snap_.data(), nfds_t(snap_.size()), -1);
    if (n < 0) return -errno;
    return n - (snap_.back().revents ? 1 : 0);
  }
  void CollectSnapshot(ReadyList* out) {
    for (size_t i = 0; i + 1 < snap_.size(); i++)
      if (snap_[i].revents) out->push_back(ReadyPair{snap_[i].fd, Mask(snap_[i])});
  }

 private:
  // Selector masks: Python's mapping, anything but POLLIN counts as writable,
  // anything but POLLOUT as readable, so errors and hangups wake both directions.
  static uint32_t Mask(const pollfd& p) {
    if constexpr (!kSelector) return uint16_t(p.revents);
    uint32_t m = 0;
    if (p.revents & ~POLLIN) m |= kEventWrite;
    if (p.revents & ~POLLOUT) m |= kEventRead;
    uint32_t reg = ((p.events & POLLIN) ? kEventRead : 0) | ((p.events & POLLOUT) ? kEventWrite : 0);
    return m & reg;
  }

  std::vector<pollfd> fds_;
  std::unordered_map<sys::fd_t, size_t> index_;
  std::vector<pollfd> snap_;  // the waiter thread's copy, plus the wake pipe last
};

}  // namespace

void InitPoll(Napi::Env env, Napi::Object exports, Instance*) {
  exports.Set("Poll", InterestSet<PollMech<false>>::Define(env));
  exports.Set("PollSet", InterestSet<PollMech<true>>::Define(env));
  Napi::Object c = Napi::Object::New(env);
  c.Set("POLLIN", POLLIN);
  c.Set("POLLPRI", POLLPRI);
  c.Set("POLLOUT", POLLOUT);
  c.Set("POLLERR", POLLERR);
  c.Set("POLLHUP", POLLHUP);
  c.Set("POLLNVAL", POLLNVAL);
  c.Set("POLLRDHUP", POLLRDHUP);
  c.Set("POLLRDNORM", POLLRDNORM);
  c.Set("POLLRDBAND", POLLRDBAND);
  c.Set("POLLWRNORM", POLLWRNORM);
  c.Set("POLLWRBAND", POLLWRBAND);
  exports.Set("pollConstants", c);
}

}  // namespace iomux
