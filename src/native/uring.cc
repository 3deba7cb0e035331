// io_uring(7) readiness: UringSet, UringSelector's interest set, as a
// specialisation of the shared InterestSet (interest_set.h). The ring itself is
// sys::Uring (sys_uring.cc). selectAsync() needs no thread: the eventfd
// registered with the ring is readable after each completion, so Node's own
// libuv loop watches it (kReadinessFd).
#include <poll.h>

#include <string>
#include <vector>

#include "args.h"
#include "backends.h"
#include "errors.h"
#include "interest_set.h"
#include "results.h"
#include "sys_uring.h"

namespace iomux {
namespace {

struct UringMech : MechBase {
  static constexpr const char* kName = "UringSet";
  static constexpr const char* kWaitSyscall = "io_uring_enter";
  static constexpr int64_t kWaitUnitNs = 1000;
  static constexpr AsyncKind kAsync = AsyncKind::kReadinessFd;
  static constexpr bool kSelectorMasks = true;
  static constexpr bool kHasFileno = true;
  static constexpr bool kHasInfo = true;
  // The eventfd counts completions; an fd that stays ready posts none (multishot)
  // or has no poll armed until the next wait (single-shot): each arm looks first.
  static constexpr bool kLevelReadinessFd = false;

  // new UringSet(results, entries?, multishot?)
  explicit UringMech(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    unsigned entries = unsigned(ArgIntOr(info, 1, "options.entries", 1, 32768, 256));
    bool multishot = info[2].IsUndefined() ? true : ArgBool(info, 2, "options.multishot");
    int err = 0;
    std::string detail;
    if (!ring_.Open(entries, multishot, &err, &detail)) {
      Napi::Error e = SystemError(env, err, "io_uring_setup");
      if (!detail.empty()) e.Set("message", Napi::String::New(env, e.Message() + ": " + detail));
      throw e;
    }
  }

  void CheckOpen(Napi::Env env) {
    if (!ring_.open()) ThrowCodeError(env, "ERR_IOMUX_CLOSED", "I/O operation on a closed io_uring selector");
  }
  void Close() { ring_.Close(); }
  int Fileno() { return ring_.fd(); }
  Napi::Value Info(Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("multishot", ring_.multishot());
    return o;
  }
  // Registered with the ring on the first selectAsync(); -1 (uv_poll_init then
  // fails with EBADF) if the kernel refuses.
  // Changes queued before it existed (a direct wait submits them with its
  // look) are sent now: the eventfd only counts completions of submitted polls.
  sys::fd_t ReadinessFd() {
    bool had = ring_.has_event_fd();
    int efd = ring_.EventFd();
    if (efd >= 0 && !had) {
      if (int err = ring_.Flush()) {
        errno = err;
        return -1;
      }
    }
    return efd;
  }

  static uint32_t Encode(uint32_t ev) {
    return ((ev & kEventRead) ? uint32_t(POLLIN) : 0u) | ((ev & kEventWrite) ? uint32_t(POLLOUT) : 0u);
  }

  // A poll request on a bad fd fails only in its completion, later; the
  // contract wants the error now, so the fd is checked first.
  void Add(Napi::Env env, sys::fd_t fd, uint32_t ev) {
    if (int err = sys::CheckOpen(fd)) ThrowSystemError(env, err, "fcntl");
    if (int err = ring_.Add(int(fd), ev)) ThrowSystemError(env, err, "io_uring_enter");
    FlushIfAsync(env);
  }
  void Modify(Napi::Env env, sys::fd_t fd, uint32_t ev) {
    if (int err = sys::CheckOpen(fd)) ThrowSystemError(env, err, "fcntl");
    if (int err = ring_.Modify(int(fd), ev)) ThrowSystemError(env, err, "io_uring_enter");
    FlushIfAsync(env);
  }
  // By the poll's user_data, so a closed fd is fine; with `lenient`, an fd the
  // ring does not know is ignored.
  void Remove(Napi::Env env, sys::fd_t fd, bool lenient) {
    int err = ring_.Remove(int(fd));
    if (err && !(lenient && err == ENOENT)) ThrowSystemError(env, err, "io_uring_enter");
  }

  int WaitOnce(int64_t us, size_t max) {
    if (fds_.size() < max) {
      fds_.resize(max);
      revents_.resize(max);
    }
    // A zero wait is what a selectAsync() wake-up runs: the eventfd's count is
    // reset first, so a completion after this point wakes Node's loop again.
    if (us == 0) ring_.Drain();
    int n = ring_.Wait(us < 0 ? -1 : us * 1000, max, fds_.data(), revents_.data());
    if (n < 0) {
      errno = -n;
      return -1;
    }
    return n;
  }

  size_t Collect(int n, Results& out, size_t cap) {
    size_t count = std::min(size_t(n), cap);
    for (size_t i = 0; i < count; i++) {
      // Python's mapping: errors and hangups wake both directions; JS masks
      // the result with the key's events.
      uint32_t e = revents_[i], m = 0;
      if (e & ~uint32_t(POLLIN)) m |= kEventWrite;
      if (e & ~uint32_t(POLLOUT)) m |= kEventRead;
      out.Put(i, fds_[i], m);
    }
    return count;
  }

 private:
  // Changes are queued into the next wait's io_uring_enter, except once the
  // selector has waited in Node's loop (its eventfd exists): a selectAsync()
  // may be pending there and must see them, so they go at once.
  void FlushIfAsync(Napi::Env env) {
    if (ring_.has_event_fd())
      if (int err = ring_.Flush()) ThrowSystemError(env, err, "io_uring_enter");
  }

  sys::Uring ring_;
  std::vector<int32_t> fds_;
  std::vector<uint32_t> revents_;
};

}  // namespace

void InitUring(Napi::Env env, Napi::Object exports, Instance*) {
  exports.Set("UringSet", InterestSet<UringMech>::Define(env));
  exports.Set("HAVE_IO_URING", true);
}

}  // namespace iomux
