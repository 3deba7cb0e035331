// poll(2): the Poll class, used directly (raw revents) and by PollSelector
// (selector mode: EVENT_READ/EVENT_WRITE in, Python's mapping out).
#include <memory>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "bound.h"
#include "backends.h"
#include "errors.h"
#include "results.h"
#include "waiter.h"

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

class Poll : public Napi::ObjectWrap<Poll>, public WaitSource {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Poll",
                       {InstanceMethod<&Poll::Add>("add"), InstanceMethod<&Poll::Modify>("modify"),
                        InstanceMethod<&Poll::Remove>("remove"),
                        InstanceMethod<&Poll::SetResults>("setResults"), InstanceMethod<&Poll::Arm>("arm"),
                        InstanceMethod<&Poll::Cancel>("cancel"), InstanceMethod<&Poll::Done>("done"),
                        InstanceMethod<&Poll::Close>("close")});
  }

  // new Poll(results: Int32Array, selectorMode: boolean)
  explicit Poll(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poll>(info) {
    results_.Set(info[0]);
    selector_ = ArgBool(info, 1, "selectorMode");
    DefineBound<Poll, &Poll::Wait>(info.This().As<Napi::Object>(), this, "wait");
  }

 private:
  void SetResults(const Napi::CallbackInfo& info) { results_.Set(info[0]); }

  short EventsArg(const Napi::CallbackInfo& info, size_t i, bool optional) {
    if (selector_) {
      uint32_t ev = ArgMask(info, i, kEventAll, "events");
      if (ev == 0) ThrowRangeError(info.Env(), "events must not be 0");
      return short(((ev & kEventRead) ? POLLIN : 0) | ((ev & kEventWrite) ? POLLOUT : 0));
    }
    return short(optional ? ArgMaskOr(info, i, kPollAllowed, kPollDefault) : ArgMask(info, i, kPollAllowed));
  }

  // add(fd, mask): registering again modifies (like Python's poll.register).
  void Add(const Napi::CallbackInfo& info) {
    sys::fd_t fd = ArgFd(info, 0);
    short ev = EventsArg(info, 1, true);
    // A selector refuses a closed fd at once, as epoll does; raw Poll keeps
    // poll(2)'s own behaviour (POLLNVAL at the next wait).
    if (selector_)
      if (int err = sys::CheckOpen(fd)) ThrowSystemError(info.Env(), err, "fcntl");
    AsyncWait::Lock g(async_);
    auto it = index_.find(fd);
    if (it == index_.end()) {
      index_.emplace(fd, fds_.size());
      fds_.push_back(pollfd{int(fd), ev, 0});
    } else {
      fds_[it->second].events = ev;
    }
    async_.Wake();
  }

  void Modify(const Napi::CallbackInfo& info) {
    sys::fd_t fd = ArgFd(info, 0);
    short ev = EventsArg(info, 1, false);
    auto it = index_.find(fd);
    if (it == index_.end()) ThrowSystemError(info.Env(), ENOENT, "poll");
    AsyncWait::Lock g(async_);
    fds_[it->second].events = ev;
    async_.Wake();
  }

  void Remove(const Napi::CallbackInfo& info) {
    sys::fd_t fd = ArgFd(info, 0);
    auto it = index_.find(fd);
    if (it == index_.end()) ThrowSystemError(info.Env(), ENOENT, "poll");
    AsyncWait::Lock g(async_);
    size_t i = it->second;
    index_.erase(it);
    if (i != fds_.size() - 1) {
      fds_[i] = fds_.back();
      index_[fds_[i].fd] = i;
    }
    fds_.pop_back();
    async_.Wake();
  }

  // wait(timeout) -> number of (fd, mask) pairs written to the results array.
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Timeout t = ArgTimeout(info, 0);
    Deadline dl(t);
    int ms, n = 0;
    while (dl.NextMs(&ms)) {
      n = ::poll(fds_.data(), nfds_t(fds_.size()), ms);
      if (n > 0) break;
      if (n < 0) {
        int err = sys::LastError();
        if (err != EINTR) ThrowSystemError(env, err, "poll");
        n = 0;
      }
    }
    size_t count = 0;
    if (n > 0) {
      size_t cap = results_.Refresh();
      for (const pollfd& p : fds_) {
        if (!p.revents) continue;
        if (count >= cap) break;
        results_.Put(count++, p.fd, selector_ ? SelectorMask(p) : uint16_t(p.revents));
      }
    }
    return Napi::Number::New(env, double(count));
  }

  // Python's mapping: anything but POLLIN counts as writable, anything but
  // POLLOUT as readable, so errors and hangups wake both directions.
  static uint32_t SelectorMask(const pollfd& p) {
    uint32_t m = 0;
    if (p.revents & ~POLLIN) m |= kEventWrite;
    if (p.revents & ~POLLOUT) m |= kEventRead;
    uint32_t reg = ((p.events & POLLIN) ? kEventRead : 0) | ((p.events & POLLOUT) ? kEventWrite : 0);
    return m & reg;
  }

  void Arm(const Napi::CallbackInfo& info) { async_.Arm(info); }
  void Cancel(const Napi::CallbackInfo&) { async_.Cancel(); }
  void Done(const Napi::CallbackInfo&) { async_.Done(); }
  void Close(const Napi::CallbackInfo&) { async_.Shutdown(); }

  void Snapshot() override { snap_ = fds_; }
  bool BlockingWait(sys::fd_t wake) override {
    snap_.push_back(pollfd{int(wake), POLLIN, 0});
    int n = ::poll(snap_.data(), nfds_t(snap_.size()), -1);
    if (n < 0) return sys::LastError() != EINTR;
    return n > (snap_.back().revents ? 1 : 0);
  }

  bool selector_ = false;
  std::vector<pollfd> fds_;
  std::unordered_map<sys::fd_t, size_t> index_;
  std::vector<pollfd> snap_;
  Results results_;
  AsyncWait async_{this};  // last: its thread stops before the rest is destroyed
};

}  // namespace

void InitPoll(Napi::Env env, Napi::Object exports, Instance*) {
  exports.Set("Poll", Poll::Define(env));
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
