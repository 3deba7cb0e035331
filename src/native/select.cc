// select(2): the low-level select() function and SelectSet, the native half of
// SelectSelector. An fd that does not fit an fd_set (>= FD_SETSIZE on POSIX; the
// FD_SETSIZE+1st handle on Windows) is refused before it can reach FD_SET.
#include <unordered_map>
#include <vector>

#include "args.h"
#include "backends.h"
#include "errors.h"
#include "results.h"
#include "interest_set.h"

namespace iomux {
namespace {

sys::fd_t SelectableFd(Napi::Env env, Napi::Value v, const char* what) {
  sys::fd_t fd = ToFd(env, v, what);
  if (!sys::FitsFdSet(fd))
    ThrowRangeError(env, std::string(what) + " " + std::to_string(fd) + " is >= FD_SETSIZE (" +
                             std::to_string(FD_SETSIZE) + ") and cannot be used with select()");
  return fd;
}

// select() over copies of the given sets (nullptr: not watched, and handed to
// the kernel as NULL, which then neither copies nor scans it), retrying EINTR
// with the time left. Returns the number of ready fds, 0 on timeout; throws on
// failure. The outputs of sets not watched are left empty.
int SelectWait(Napi::Env env, int nfds, const fd_set* r, const fd_set* w, const fd_set* x, const Timeout& t,
               fd_set* ro, fd_set* wo, fd_set* xo) {
  Deadline dl(t);
  int64_t us;
  FD_ZERO(ro);
  FD_ZERO(wo);
  FD_ZERO(xo);
  while (dl.NextUs(&us)) {
    if (r) *ro = *r;
    if (w) *wo = *w;
    if (x) *xo = *x;
    timeval tv, *tvp = nullptr;
    if (us >= 0) {
      tv.tv_sec = long(us / 1000000);
      tv.tv_usec = long(us % 1000000);
      tvp = &tv;
    }
    int n = sys::Select(nfds, r ? ro : nullptr, w ? wo : nullptr, x ? xo : nullptr, tvp);
    if (n > 0) return n;
    if (n < 0) {
      int err = sys::LastError();
      if (err != EINTR) ThrowSystemError(env, err, "select");
    }
  }
  FD_ZERO(ro);
  FD_ZERO(wo);
  FD_ZERO(xo);
  return 0;
}

// select(rfds, wfds, xfds, timeout) -> [rIdx[], wIdx[], xIdx[]]: indices of the ready entries.
Napi::Value Select(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  fd_set in[3], out[3];
  std::vector<sys::fd_t> lists[3];
  int nfds = 0;
  static const char* names[3] = {"rlist", "wlist", "xlist"};
  for (int k = 0; k < 3; k++) {
    FD_ZERO(&in[k]);
    if (!info[k].IsArray()) ThrowTypeError(env, std::string(names[k]) + " must be an array");
    Napi::Array a = info[k].As<Napi::Array>();
    uint32_t n = a.Length();
    // Checked before reserve(): a sparse array of length 2**32-1 made it throw
    // std::bad_alloc, which no wrapper catches (the process aborted).
    if (n > FD_SETSIZE) ThrowRangeError(env, std::string(names[k]) + " has more than FD_SETSIZE (" + std::to_string(FD_SETSIZE) + ") entries");
    lists[k].reserve(n);
    for (uint32_t i = 0; i < n; i++) {
      sys::fd_t fd = SelectableFd(env, a.Get(i), names[k]);
      lists[k].push_back(fd);
      FD_SET(fd, &in[k]);
      if (int(fd) + 1 > nfds) nfds = int(fd) + 1;
    }
  }
  Timeout t = ArgTimeout(info, 3);
  SelectWait(env, nfds, &in[0], &in[1], &in[2], t, &out[0], &out[1], &out[2]);
  Napi::Array result = Napi::Array::New(env, 3);
  for (int k = 0; k < 3; k++) {
    Napi::Array idx = Napi::Array::New(env);
    uint32_t j = 0;
    for (size_t i = 0; i < lists[k].size(); i++)
      if (FD_ISSET(lists[k][i], &out[k])) idx.Set(j++, Napi::Number::New(env, double(i)));
    result.Set(uint32_t(k), idx);
  }
  return result;
}

// SelectSet, the native half of SelectSelector: two fd_sets kept in native
// memory, plus the list of registered fds to collect from.
struct SelectMech : MechBase {
  static constexpr const char* kName = "SelectSet";
  static constexpr const char* kWaitSyscall = "select";
  static constexpr int64_t kWaitUnitNs = 1000;
  static constexpr AsyncKind kAsync = AsyncKind::kWaiterThread;
  static constexpr bool kSelectorMasks = true;

  explicit SelectMech(const Napi::CallbackInfo&) {
    FD_ZERO(&rd_);
    FD_ZERO(&wr_);
    FD_ZERO(&out_rd_);
    FD_ZERO(&out_wr_);
    FD_ZERO(&snap_rd_);
    FD_ZERO(&snap_wr_);
  }

  sys::fd_t ToFd(Napi::Env env, Napi::Value v) { return SelectableFd(env, v, "fd"); }

  // add(fd, events): re-adding replaces.
  void Add(Napi::Env env, sys::fd_t fd, uint32_t ev) {
    // select(2) itself would only object at the next wait; refuse a closed fd now.
    if (int err = sys::CheckOpen(fd)) ThrowSystemError(env, err, "fcntl");
    if (!index_.count(fd)) {
      // Winsock's fd_set is an array: FD_SETSIZE handles at most (POSIX never gets here full).
      if (fds_.size() >= FD_SETSIZE) ThrowRangeError(env, "select() can watch at most FD_SETSIZE fds");
      index_.emplace(fd, fds_.size());
      fds_.push_back(fd);
    }
    Apply(fd, ev);
  }

  void Modify(Napi::Env env, sys::fd_t fd, uint32_t ev) {
    if (!index_.count(fd)) ThrowSystemError(env, ENOENT, "select");
    Apply(fd, ev);
  }

  void Remove(Napi::Env env, sys::fd_t fd, bool) {
    auto it = index_.find(fd);
    if (it == index_.end()) ThrowSystemError(env, ENOENT, "select");
    Apply(fd, 0);
    size_t i = it->second;
    index_.erase(it);
    if (i != fds_.size() - 1) {
      fds_[i] = fds_.back();
      index_[fds_[i]] = i;
    }
    fds_.pop_back();
    maxfd_ = -1;
    for (sys::fd_t f : fds_)
      if (f > maxfd_) maxfd_ = f;
  }

  // Sets not watched go to the kernel as NULL, which then neither copies nor scans them.
  int WaitOnce(int64_t us, size_t) {
    if (nread_) out_rd_ = rd_;
    if (nwrite_) out_wr_ = wr_;
    timeval tv, *tvp = nullptr;
    if (us >= 0) {
      tv.tv_sec = long(us / 1000000);
      tv.tv_usec = long(us % 1000000);
      tvp = &tv;
    }
    int n = sys::Select(int(maxfd_ + 1), nread_ ? &out_rd_ : nullptr, nwrite_ ? &out_wr_ : nullptr, nullptr, tvp);
    if (n < 0) errno = sys::LastError();
    return n;
  }

  size_t Collect(int n, Results& out, size_t cap) {
    size_t count = 0;
    for (sys::fd_t fd : fds_) {
      if (count >= cap || int(count) >= n) break;
      uint32_t m = (nread_ && FD_ISSET(fd, &out_rd_) ? kEventRead : 0) | (nwrite_ && FD_ISSET(fd, &out_wr_) ? kEventWrite : 0);
      if (m) out.Put(count++, fd, m);
    }
    return count;
  }

  void Snapshot() {
    snap_rd_ = rd_;
    snap_wr_ = wr_;
    snap_max_ = maxfd_;
    snap_fds_ = fds_;
  }
  int BlockingWait(sys::fd_t wake) {
    fd_set r = snap_rd_, w = snap_wr_;
    int nfds = int(snap_max_ + 1);
    if (sys::FitsFdSet(wake)) {
      FD_SET(wake, &r);
      if (int(wake) + 1 > nfds) nfds = int(wake) + 1;
      int n = sys::Select(nfds, &r, &w, nullptr, nullptr);
      if (n < 0) return -sys::LastError();
      bool woken = FD_ISSET(wake, &r);
      FD_CLR(wake, &r);
      ready_rd_ = r;
      ready_wr_ = w;
      return n - (woken ? 1 : 0);
    }
    // The wake pipe itself is beyond FD_SETSIZE (a process with many fds): wait
    // in short slices and look at the pipe between them.
    for (;;) {
      fd_set rr = r, ww = w;
      timeval tv{0, 20000};
      int n = sys::Select(nfds, &rr, &ww, nullptr, &tv);
      if (n > 0) {
        ready_rd_ = rr;
        ready_wr_ = ww;
        return n;
      }
      if (n < 0 && sys::LastError() != EINTR) return -sys::LastError();
      if (sys::ReadableNow(wake)) return 0;
    }
  }
  void CollectSnapshot(ReadyList* out) {
    for (sys::fd_t fd : snap_fds_) {
      uint32_t m = (FD_ISSET(fd, &ready_rd_) ? kEventRead : 0) | (FD_ISSET(fd, &ready_wr_) ? kEventWrite : 0);
      if (m) out->push_back(ReadyPair{fd, m});
    }
  }

 private:
  void Apply(sys::fd_t fd, uint32_t ev) {
    nread_ += int((ev & kEventRead) != 0) - int(FD_ISSET(fd, &rd_) != 0);
    nwrite_ += int((ev & kEventWrite) != 0) - int(FD_ISSET(fd, &wr_) != 0);
    if (ev & kEventRead) FD_SET(fd, &rd_); else FD_CLR(fd, &rd_);
    if (ev & kEventWrite) FD_SET(fd, &wr_); else FD_CLR(fd, &wr_);
    if (ev && fd > maxfd_) maxfd_ = fd;
  }

  fd_set rd_, wr_;
  int nread_ = 0, nwrite_ = 0;  // fds in rd_ / wr_
  std::vector<sys::fd_t> fds_;
  std::unordered_map<sys::fd_t, size_t> index_;
  sys::fd_t maxfd_ = -1;
  fd_set out_rd_, out_wr_;  // the last WaitOnce's result
  // The waiter thread's copies.
  fd_set snap_rd_, snap_wr_, ready_rd_, ready_wr_;
  std::vector<sys::fd_t> snap_fds_;
  sys::fd_t snap_max_ = -1;
};

}  // namespace

void InitSelect(Napi::Env env, Napi::Object exports, Instance*) {
  exports.Set("select", Napi::Function::New<Select>(env, "select"));
  exports.Set("FD_SETSIZE", Napi::Number::New(env, FD_SETSIZE));
  exports.Set("SelectSet", InterestSet<SelectMech>::Define(env));
}

}  // namespace iomux
