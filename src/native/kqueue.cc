// kqueue(2)/kevent(2): KqueueSet, KqueueSelector's native half (macOS, the BSDs).
// selectAsync() needs no thread: a kqueue fd is itself readable while any of
// its events is pending, so Node's own libuv loop watches it (kReadinessFd),
// as it watches the epoll fd.
//
// Each fd is one or two knotes (EVFILT_READ, EVFILT_WRITE). Additions (add, and
// the filters a modify turns on) go to the kernel at once, each with EV_RECEIPT
// so that every change reports its own result: a closed fd throws EBADF from
// register() and leaves nothing behind (CPython applies its changes at once too).
// Deletions (remove, the filters a modify turns off) are queued and go with the
// next kevent() call, whichever comes first: the next add's or the next wait's,
// so a wait is still one kevent(). A queued deletion's error is ignored: the
// kernel drops the knotes of a closed fd by itself (EBADF, or ENOENT when the
// number was reused), which is what unregister-after-close means here.
#include <fcntl.h>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>

#include <algorithm>
#include <cstddef>
#include <climits>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "backends.h"
#include "errors.h"
#include "interest_set.h"
#include "results.h"

namespace iomux {
namespace {

constexpr uint8_t kRead = 1;   // EVFILT_READ is on
constexpr uint8_t kWrite = 2;  // EVFILT_WRITE is on

struct KqueueMech : MechBase {
  static constexpr const char* kName = "KqueueSet";
  static constexpr const char* kWaitSyscall = "kevent";
  static constexpr int64_t kWaitUnitNs = 1;  // kevent takes a timespec
  static constexpr AsyncKind kAsync = AsyncKind::kReadinessFd;
  static constexpr bool kSelectorMasks = true;
  static constexpr bool kHasFileno = true;

  explicit KqueueMech(const Napi::CallbackInfo& info) {
    kq_ = ::kqueue();
    if (kq_ < 0) ThrowSystemError(info.Env(), errno, "kqueue");
    // kqueue fds are not inherited by fork() children, but survive exec(): close-on-exec.
    int flags = fcntl(kq_, F_GETFD);
    if (flags < 0 || fcntl(kq_, F_SETFD, flags | FD_CLOEXEC) < 0) {
      int err = errno;
      sys::Close(kq_);
      kq_ = -1;
      ThrowSystemError(info.Env(), err, "fcntl");
    }
  }
  ~KqueueMech() { Close(); }
  KqueueMech(const KqueueMech&) = delete;
  KqueueMech& operator=(const KqueueMech&) = delete;

  void CheckOpen(Napi::Env env) {
    if (kq_ < 0) ThrowCodeError(env, "ERR_IOMUX_CLOSED", "I/O operation on a closed kqueue object");
  }
  void Close() {
    if (kq_ >= 0) {
      sys::Close(kq_);
      kq_ = -1;
    }
    pending_.clear();
    regs_.clear();
  }
  int Fileno() { return kq_; }
  sys::fd_t ReadinessFd() { return kq_; }

  static uint32_t Encode(uint32_t ev) {
    return ((ev & kEventRead) ? kRead : 0u) | ((ev & kEventWrite) ? kWrite : 0u);
  }

  void Add(Napi::Env env, sys::fd_t fd, uint32_t ev) {
    if (fd > sys::fd_t(INT_MAX)) ThrowSystemError(env, EBADF, "kevent");
    if (regs_.count(int(fd))) ThrowSystemError(env, EEXIST, "kevent");
    Apply(env, int(fd), 0, uint8_t(ev));
    regs_[int(fd)] = Reg{uint8_t(ev)};
  }

  void Modify(Napi::Env env, sys::fd_t fd, uint32_t ev) {
    auto it = fd <= sys::fd_t(INT_MAX) ? regs_.find(int(fd)) : regs_.end();
    if (it == regs_.end()) ThrowSystemError(env, ENOENT, "kevent");
    Apply(env, int(fd), it->second.filters, uint8_t(ev));
    it->second.filters = uint8_t(ev);
  }

  // Queued (see the top); an fd not in the set is ENOENT unless `lenient`.
  void Remove(Napi::Env env, sys::fd_t fd, bool lenient) {
    auto it = fd <= sys::fd_t(INT_MAX) ? regs_.find(int(fd)) : regs_.end();
    if (it == regs_.end()) {
      if (lenient) return;
      ThrowSystemError(env, ENOENT, "kevent");
    }
    QueueDelete(int(fd), it->second.filters);
    regs_.erase(it);
  }

  // One kevent(): the queued deletions, then the wait. max is the results
  // array's capacity in (fd, mask) pairs; one fd can be two kevents.
  int WaitOnce(int64_t ns, size_t max) {
    if (max > size_t(INT_MAX / 2)) max = INT_MAX / 2;
    size_t room = std::max(2 * max, pending_.size());
    if (events_.size() < room) events_.resize(room);
    timespec ts, *tsp = nullptr;
    if (ns >= 0) {
      ts.tv_sec = time_t(ns / 1000000000);
      ts.tv_nsec = long(ns % 1000000000);
      tsp = &ts;
    }
    int n = ::kevent(kq_, pending_.data(), int(pending_.size()), events_.data(), int(room), tsp);
    if (n < 0) {
      // EINTR: the changes were applied (the kernel reads them before it
      // sleeps), so they are not sent again. Any other failure (EFAULT,
      // ENOMEM) may come before the kernel read them: they stay queued, as a
      // deletion sent twice only reports ENOENT, which is ignored.
      int err = errno;
      if (err == EINTR) pending_.clear();
      errno = err;
      return -1;
    }
    pending_.clear();
    int reports = 0;
    n = Compact(n, &reports);
    // A change that reported an error (a queued deletion of a closed fd) makes
    // the kernel return at once with only those reports, without looking for
    // events (or sleeping): look again, now with no changes.
    if (n == 0 && reports > 0) return Retry(tsp, room);
    return n;
  }

  // Merges the READ and WRITE kevents of one fd into one pair. EV_EOF (hangup,
  // reset, the read end gone) reports both directions, as epoll's HUP/ERR do
  // (Python's behaviour); JS masks the result with the key's events.
  size_t Collect(int n, Results& out, size_t cap) {
    size_t count = 0;
    gen_++;
    if (gen_ == 0) {  // wrapped: no slot may look current
      for (auto& r : regs_) r.second.gen = 0;
      gen_ = 1;
    }
    for (int i = 0; i < n; i++) {
      const struct kevent& k = events_[size_t(i)];
      int fd = int(k.ident);
      uint32_t m = (k.flags & EV_EOF) ? kEventAll : (k.filter == EVFILT_READ ? kEventRead : kEventWrite);
      auto it = regs_.find(fd);
      if (it == regs_.end()) continue;  // removed since (its deletion is queued)
      Reg& r = it->second;
      if (r.gen == gen_) {
        merged_[r.slot] |= m;
        continue;
      }
      if (count >= cap) continue;
      r.gen = gen_;
      r.slot = uint32_t(count);
      if (merged_.size() <= count) merged_.resize(count + 1);
      merged_[count] = m;
      fds_.resize(std::max(fds_.size(), count + 1));
      fds_[count] = fd;
      count++;
    }
    for (size_t i = 0; i < count; i++) out.Put(i, fds_[i], merged_[i]);
    return count;
  }

 private:
  struct Reg {
    uint8_t filters = 0;
    uint32_t gen = 0;   // the Collect() that last wrote this fd
    uint32_t slot = 0;  // ... and where
  };

  static struct kevent Change(int fd, int16_t filter, uint16_t flags) {
    struct kevent k;
    EV_SET(&k, uintptr_t(fd), filter, flags, 0, 0, 0);
    return k;
  }

  void QueueDelete(int fd, uint8_t filters) {
    if (filters & kRead) pending_.push_back(Change(fd, EVFILT_READ, EV_DELETE));
    if (filters & kWrite) pending_.push_back(Change(fd, EVFILT_WRITE, EV_DELETE));
  }

  // From `from` to `to` filters: additions now (with the queued deletions
  // before them, in order), deletions queued. When an addition is refused it
  // throws, and leaves none of `on` in the kernel (the queued deletions, this
  // fd's `off` among them, were made: a refused modify drops its key anyway).
  void Apply(Napi::Env env, int fd, uint8_t from, uint8_t to) {
    uint8_t on = uint8_t(to & ~from), off = uint8_t(from & ~to);
    QueueDelete(fd, off);
    if (!on) return;
    size_t queued = pending_.size();
    std::vector<struct kevent> changes = std::move(pending_);
    pending_.clear();
    if (on & kRead) changes.push_back(Change(fd, EVFILT_READ, EV_ADD | EV_RECEIPT));
    if (on & kWrite) changes.push_back(Change(fd, EVFILT_WRITE, EV_ADD | EV_RECEIPT));
    // EV_RECEIPT on the queued deletions too: every change then has its entry
    // in the output, and one failing does not stop the ones after it.
    for (size_t i = 0; i < queued; i++) changes[i].flags |= EV_RECEIPT;
    std::vector<struct kevent> receipts(changes.size());
    int n;
    do n = ::kevent(kq_, changes.data(), int(changes.size()), receipts.data(), int(receipts.size()), nullptr);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      int err = errno;
      // What was applied is unknown: make sure nothing of ours stays on this
      // fd, and queue the deletions again (one sent twice reports ENOENT, ignored).
      for (size_t i = 0; i < queued; i++) changes[i].flags &= uint16_t(~EV_RECEIPT);
      pending_.assign(changes.begin(), changes.begin() + std::ptrdiff_t(queued));
      Undo(fd, on);
      ThrowSystemError(env, err, "kevent");
    }
    // With EV_RECEIPT on all of them, the kernel answers each change in order:
    // receipts[i] is changes[i]'s. The queued deletions come first and may name
    // this very fd and filter (unregister, close, the number reused, register
    // again): their ENOENT is not the addition's. A missing receipt: refused.
    int err = n < int(changes.size()) ? EINVAL : 0;
    for (size_t i = queued; i < size_t(n) && !err; i++) {
      const struct kevent& r = receipts[i];
      if ((r.flags & EV_ERROR) && r.data != 0) err = int(r.data);
    }
    if (err) {
      Undo(fd, on);
      ThrowSystemError(env, err, "kevent");
    }
  }

  // Deletes the given filters of fd now, ignoring errors (one may not exist).
  void Undo(int fd, uint8_t filters) {
    struct kevent ch[2], rc[2];
    int c = 0;
    if (filters & kRead) ch[c++] = Change(fd, EVFILT_READ, EV_DELETE | EV_RECEIPT);
    if (filters & kWrite) ch[c++] = Change(fd, EVFILT_WRITE, EV_DELETE | EV_RECEIPT);
    int saved = errno;
    if (c) ::kevent(kq_, ch, c, rc, c, nullptr);
    errno = saved;
  }

  // Drops the receipts (EV_ERROR entries) of queued changes, counting them in
  // *reports; how many events are left.
  int Compact(int n, int* reports) {
    int j = 0;
    for (int i = 0; i < n; i++) {
      if (events_[size_t(i)].flags & EV_ERROR) {
        ++*reports;
        continue;
      }
      if (j != i) events_[size_t(j)] = events_[size_t(i)];
      j++;
    }
    return j;
  }

  int Retry(const timespec* tsp, size_t room) {
    int n = ::kevent(kq_, nullptr, 0, events_.data(), int(room), tsp);
    int reports = 0;
    return n < 0 ? -1 : Compact(n, &reports);
  }

  int kq_ = -1;
  std::unordered_map<int, Reg> regs_;
  std::vector<struct kevent> pending_;  // queued EV_DELETEs
  std::vector<struct kevent> events_;
  std::vector<uint32_t> merged_;
  std::vector<int> fds_;
  uint32_t gen_ = 0;
};

}  // namespace

void InitKqueue(Napi::Env env, Napi::Object exports, Instance*) {
  exports.Set("KqueueSet", InterestSet<KqueueMech>::Define(env));
  exports.Set("HAVE_KQUEUE", true);
}

}  // namespace iomux
