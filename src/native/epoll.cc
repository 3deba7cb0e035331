// epoll(7): the Epoll class (raw events) and EpollSet (EpollSelector's).
// selectAsync() needs no thread here: the epoll fd is itself readable when
// anything in its set is ready, so Node's own libuv loop watches it (kReadinessFd).
#include <fcntl.h>
#include <sys/epoll.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "args.h"
#include "interest_set.h"
#include "backends.h"
#include "errors.h"
#include "results.h"

namespace iomux {
namespace {

constexpr uint32_t kEpollAllowed = EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDNORM |
                                   EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP |
                                   EPOLLEXCLUSIVE | EPOLLWAKEUP | EPOLLONESHOT | uint32_t(EPOLLET);
constexpr uint32_t kEpollDefault = EPOLLIN | EPOLLPRI | EPOLLOUT;

// Epoll (raw masks, Python's select.epoll) and EpollSet (EpollSelector's
// selector masks): one mechanism, two mask codecs fixed at compile time.
template <bool kSelector>
struct EpollMech : MechBase {
  static constexpr const char* kName = kSelector ? "EpollSet" : "Epoll";
  static constexpr const char* kWaitSyscall = "epoll_wait";
  static constexpr int64_t kWaitUnitNs = 1000000;
  static constexpr AsyncKind kAsync = AsyncKind::kReadinessFd;
  static constexpr bool kSelectorMasks = kSelector;
  static constexpr uint32_t kAllowed = kEpollAllowed;
  static constexpr uint32_t kDefault = kEpollDefault;
  static constexpr bool kHasFileno = true;
  static constexpr bool kMaxEvents = true;

  // new Epoll(results, adoptFd?) / new EpollSet(results)
  explicit EpollMech(const Napi::CallbackInfo& info) {
    if (!kSelector && info.Length() > 1 && !info[1].IsUndefined()) {
      sys::fd_t fd = ArgFd(info, 1);
      // Like Python's epoll.fromfd, adopt without asking the kernel what it is,
      // but refuse an fd that is not open at all.
      if (fcntl(int(fd), F_GETFD) < 0) ThrowSystemError(info.Env(), errno, "fcntl");
      epfd_ = int(fd);
    } else {
      epfd_ = epoll_create1(EPOLL_CLOEXEC);
      if (epfd_ < 0) ThrowSystemError(info.Env(), errno, "epoll_create1");
    }
  }
  ~EpollMech() { Close(); }
  EpollMech(const EpollMech&) = delete;
  EpollMech& operator=(const EpollMech&) = delete;

  void CheckOpen(Napi::Env env) {
    if (epfd_ < 0) ThrowCodeError(env, "ERR_IOMUX_CLOSED", "I/O operation on a closed epoll object");
  }
  void Close() {
    if (epfd_ >= 0) {
      sys::Close(epfd_);
      epfd_ = -1;
    }
  }
  int Fileno() { return epfd_; }
  sys::fd_t ReadinessFd() { return epfd_; }

  static uint32_t Encode(uint32_t ev) {
    return ((ev & kEventRead) ? uint32_t(EPOLLIN) : 0u) | ((ev & kEventWrite) ? uint32_t(EPOLLOUT) : 0u);
  }

  void Add(Napi::Env env, sys::fd_t fd, uint32_t ev) { Ctl(env, EPOLL_CTL_ADD, fd, ev); }
  void Modify(Napi::Env env, sys::fd_t fd, uint32_t ev) { Ctl(env, EPOLL_CTL_MOD, fd, ev); }
  // EBADF (the fd was closed) is always ignored; with `lenient`, ENOENT (closed,
  // and the number reused) is ignored too.
  void Remove(Napi::Env env, sys::fd_t fd, bool lenient) {
    epoll_event ev{};
    if (epoll_ctl(epfd_, EPOLL_CTL_DEL, int(fd), &ev) < 0) {
      int err = errno;
      if (err == EBADF || (lenient && err == ENOENT)) return;
      ThrowSystemError(env, err, "epoll_ctl");
    }
  }

  // max is clamped to the results array (which the JS side sizes) by the base.
  int WaitOnce(int64_t ms, size_t max) {
    if (max > size_t(INT_MAX)) max = INT_MAX;
    if (events_.size() < max) events_.resize(max);
    return epoll_wait(epfd_, events_.data(), int(max), int(ms));
  }

  size_t Collect(int n, Results& out, size_t cap) {
    size_t count = std::min(size_t(n), cap);
    for (size_t i = 0; i < count; i++) {
      uint32_t e = events_[i].events;
      if constexpr (kSelector) {
        // Python's mapping: errors and hangups wake both directions. JS masks
        // the result with the key's events (epoll does not report them back).
        uint32_t m = 0;
        if (e & ~uint32_t(EPOLLIN)) m |= kEventWrite;
        if (e & ~uint32_t(EPOLLOUT)) m |= kEventRead;
        e = m;
      }
      out.Put(i, events_[i].data.fd, e);
    }
    return count;
  }

 private:
  void Ctl(Napi::Env env, int op, sys::fd_t fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = int(fd);
    if (epoll_ctl(epfd_, op, int(fd), &ev) < 0) ThrowSystemError(env, errno, "epoll_ctl");
  }

  int epfd_ = -1;
  std::vector<epoll_event> events_;
};

}  // namespace

void InitEpoll(Napi::Env env, Napi::Object exports, Instance*) {
  exports.Set("Epoll", InterestSet<EpollMech<false>>::Define(env));
  exports.Set("EpollSet", InterestSet<EpollMech<true>>::Define(env));
  Napi::Object c = Napi::Object::New(env);
  c.Set("EPOLLIN", double(uint32_t(EPOLLIN)));
  c.Set("EPOLLOUT", double(uint32_t(EPOLLOUT)));
  c.Set("EPOLLPRI", double(uint32_t(EPOLLPRI)));
  c.Set("EPOLLERR", double(uint32_t(EPOLLERR)));
  c.Set("EPOLLHUP", double(uint32_t(EPOLLHUP)));
  c.Set("EPOLLRDHUP", double(uint32_t(EPOLLRDHUP)));
  c.Set("EPOLLET", double(uint32_t(EPOLLET)));
  c.Set("EPOLLONESHOT", double(uint32_t(EPOLLONESHOT)));
  c.Set("EPOLLEXCLUSIVE", double(uint32_t(EPOLLEXCLUSIVE)));
  c.Set("EPOLLRDNORM", double(uint32_t(EPOLLRDNORM)));
  c.Set("EPOLLRDBAND", double(uint32_t(EPOLLRDBAND)));
  c.Set("EPOLLWRNORM", double(uint32_t(EPOLLWRNORM)));
  c.Set("EPOLLWRBAND", double(uint32_t(EPOLLWRBAND)));
  c.Set("EPOLLMSG", double(uint32_t(EPOLLMSG)));
  exports.Set("epollConstants", c);
  exports.Set("HAVE_EPOLL", true);
}

}  // namespace iomux
