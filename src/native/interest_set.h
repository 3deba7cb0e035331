// One interest set for every mechanism, as libuv and mio keep one loop and a
// thin file per mechanism. InterestSet<Mech> is the whole object JS sees
// (SelectSet, PollSet, Poll, EpollSet, Epoll, ...): the results array, the
// argument checks of add/modify/remove, the deadline/EINTR loop behind
// wait(timeout), selectAsync()'s arm/cancel (async_wait.h), close() and the
// environment-teardown hook. A mechanism file (select.cc, poll.cc, epoll.cc)
// only says how its kernel interface keeps the set and waits on it.
//
// How a backend specialises it: write `struct FooMech : MechBase` and register
// `InterestSet<FooMech>::Define(env)` on the module. FooMech provides
//
//   static constexpr const char* kName;         JS class name
//   static constexpr const char* kWaitSyscall;  syscall named in wait errors
//   static constexpr int64_t kWaitUnitNs;       unit of WaitOnce's timeout (1000 = us, 1000000 = ms)
//   static constexpr AsyncKind kAsync;          kReadinessFd or kWaiterThread (async_wait.h)
//   static constexpr bool kSelectorMasks;       add/modify take EVENT_READ|EVENT_WRITE (then
//                                               `static uint32_t Encode(uint32_t)` maps them), else
//                                               the mechanism's own masks within kAllowed, kDefault
//                                               when add() gets none
//   explicit FooMech(const Napi::CallbackInfo& info);   info[0] is the results array (the base's);
//                                               any further arguments are the mechanism's own
//   void Add(Napi::Env, sys::fd_t, uint32_t events);      re-adding may replace or throw (EEXIST)
//   void Modify(Napi::Env, sys::fd_t, uint32_t events);
//   void Remove(Napi::Env, sys::fd_t, bool lenient);
//       Throw through errors.h and change nothing when they throw. The base holds
//       the waiter lock around them and then tells a pending wait (Changed()).
//   int WaitOnce(int64_t timeout, size_t max);  one syscall; timeout in kWaitUnitNs units, -1 =
//                                               forever, 0 = poll; > 0 ready, 0 none, -1 + errno
//                                               (the base retries EINTR with the time left)
//   size_t Collect(int n, Results& out, size_t cap);  after WaitOnce returned n > 0: write at most
//                                               cap pairs with out.Put(i, fd, mask); how many
// and, by kAsync,
//   kReadinessFd:  sys::fd_t ReadinessFd();     readable while anything in the set is ready (the
//                                               epoll fd; a ring's eventfd). Node's loop watches it;
//                                               each wake-up the base runs WaitOnce(0) + Collect
//                                               on the JS thread and hands JS the count.
//   kWaiterThread: void Snapshot();             waiter thread, lock held, only after a change:
//                                               copy what BlockingWait reads
//                  int BlockingWait(sys::fd_t wake_fd);   waiter thread, lock not held: block on
//                                               the snapshot plus wake_fd; > 0 something in the
//                                               snapshot ready, 0 only wake_fd, -errno on failure
//                  void CollectSnapshot(ReadyList* out);  the ready (fd, mask) pairs of that wait
//                                               (masks as Collect writes them); the JS thread
//                                               copies them into the results array.
// Optional (MechBase has no-op defaults): CheckOpen(env) before every call (throw
// ERR_IOMUX_CLOSED), Close() (release kernel objects; after the async wait
// stopped), ToFd(env, value) (e.g. select's FD_SETSIZE check), kHasFileno +
// Fileno(), kMaxEvents (wait() takes a maxevents argument), kHasInfo +
// Info(env) (an info() method: what the mechanism reports about itself).
#pragma once
#include <napi.h>

#include <algorithm>
#include <cerrno>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "async_wait.h"
#include "errors.h"
#include "results.h"

namespace iomux {

struct MechBase {
  static constexpr bool kHasFileno = false;
  static constexpr bool kMaxEvents = false;
  static constexpr bool kHasInfo = false;
  // kReadinessFd: true when that fd stays readable while anything in the set is
  // ready (epoll), so a re-arm during a delivery may skip its first look; false
  // when it only signals new events (io_uring's eventfd): every arm looks first.
  static constexpr bool kLevelReadinessFd = true;
  static constexpr uint32_t kAllowed = 0;
  static constexpr uint32_t kDefault = 0;
  static uint32_t Encode(uint32_t ev) { return ev; }
  void CheckOpen(Napi::Env) {}
  void Close() {}
  sys::fd_t ToFd(Napi::Env env, Napi::Value v) { return iomux::ToFd(env, v, "fd"); }
  sys::fd_t ReadinessFd() { return -1; }
  void Snapshot() {}
  int BlockingWait(sys::fd_t) { return -ENOSYS; }
  void CollectSnapshot(ReadyList*) {}
  int Fileno() { return -1; }
  Napi::Value Info(Napi::Env env) { return env.Undefined(); }
};

template <typename Mech>
class InterestSet : public Napi::ObjectWrap<InterestSet<Mech>>, public AsyncSource {
  using Self = InterestSet<Mech>;
  using Wrap = Napi::ObjectWrap<Self>;

 public:
  static Napi::Function Define(Napi::Env env) {
    std::vector<typename Wrap::PropertyDescriptor> props = {
        Wrap::template InstanceMethod<&Self::Add>("add"),
        Wrap::template InstanceMethod<&Self::Modify>("modify"),
        Wrap::template InstanceMethod<&Self::Remove>("remove"),
        Wrap::template InstanceMethod<&Self::SetResults>("setResults"),
        Wrap::template InstanceMethod<&Self::Cancel>("cancel"),
        Wrap::template InstanceMethod<&Self::CloseMethod>("close"),
    };
    if constexpr (Mech::kHasFileno) props.push_back(Wrap::template InstanceMethod<&Self::Fileno>("fileno"));
    if constexpr (Mech::kHasInfo) props.push_back(Wrap::template InstanceMethod<&Self::InfoMethod>("info"));
    return Wrap::DefineClass(env, Mech::kName, props);
  }

  explicit InterestSet(const Napi::CallbackInfo& info)
      : Wrap(info), env_(info.Env()), mech_(info), async_(this, Mech::kAsync) {
    results_.Set(info[0]);
    Napi::Object self = info.This().As<Napi::Object>();
    // wait() and arm() run once per select: own properties calling straight
    // into raw Node-API (no napi_unwrap, no CallbackInfo), see DefineRaw.
    DefineRaw(self, "wait", WaitEntry);
    DefineRaw(self, "arm", ArmEntry);
    napi_add_env_cleanup_hook(env_, Teardown, this);
  }

  ~InterestSet() override {
    napi_remove_env_cleanup_hook(env_, Teardown, this);
    Shutdown();
  }

  // AsyncSource (JS thread unless noted).
  int CollectNow() override {
    size_t cap = results_.Refresh();
    if (cap == 0) return -ENOBUFS;  // the results array was detached
    int n = mech_.WaitOnce(0, cap);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    return n > 0 ? int(mech_.Collect(n, results_, cap)) : 0;
  }
  const char* ErrorSyscall() const override { return Mech::kWaitSyscall; }
  sys::fd_t ReadinessFd() override { return mech_.ReadinessFd(); }
  void Snapshot() override { mech_.Snapshot(); }
  int BlockingWait(sys::fd_t wake) override { return mech_.BlockingWait(wake); }
  void CollectSnapshot(ReadyList* out) override { mech_.CollectSnapshot(out); }
  int Deliver(const ReadyList& ready) override {
    size_t n = std::min(ready.size(), results_.Refresh());
    for (size_t i = 0; i < n; i++) results_.Put(i, ready[i].fd, ready[i].mask);
    return int(n);
  }
  size_t RegisteredCount() const override { return watched_.size(); }
  uint64_t RegistryGen() const override { return registry_gen_; }
  void Registered(std::vector<WatchSpec>* out) const override {
    for (const auto& [fd, events] : watched_) out->push_back(WatchSpec{fd, events});
  }

 private:
  // Defines self[name] as a raw Node-API function whose data is this set. The
  // function holds `owner` (self), so it can never outlive the object.
  void DefineRaw(Napi::Object self, const char* name, napi_callback cb) {
    napi_value fn;
    if (napi_create_function(env_, name, NAPI_AUTO_LENGTH, cb, this, &fn) != napi_ok)
      throw Napi::Error::New(env_);
    Napi::Object f(env_, fn);
    f.DefineProperty(Napi::PropertyDescriptor::Value("owner", self, napi_default));
    self.DefineProperty(Napi::PropertyDescriptor::Value(name, f, napi_default));
  }

  static void Teardown(void* arg) { static_cast<Self*>(arg)->Shutdown(); }
  void Shutdown() {
    async_.Shutdown();
    mech_.Close();
  }

  // *loop: what a direct watch of the fd waits for (selectors only).
  uint32_t EventsArg(const Napi::CallbackInfo& info, size_t i, bool optional, unsigned* loop) {
    if constexpr (Mech::kSelectorMasks) {
      uint32_t ev = ArgMask(info, i, kEventAll, "events");
      if (ev == 0) ThrowRangeError(info.Env(), "events must not be 0");
      *loop = ((ev & kEventRead) ? kLoopRead : 0u) | ((ev & kEventWrite) ? kLoopWrite : 0u);
      return Mech::Encode(ev);
    } else {
      return optional ? ArgMaskOr(info, i, Mech::kAllowed, Mech::kDefault) : ArgMask(info, i, Mech::kAllowed);
    }
  }

  void Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    mech_.CheckOpen(env);
    sys::fd_t fd = mech_.ToFd(env, info[0]);
    unsigned loop = 0;
    uint32_t ev = EventsArg(info, 1, true, &loop);
    {
      AsyncWait::Lock g(async_);
      mech_.Add(env, fd, ev);
      Watched(fd, loop);
      async_.Changed();
    }
    async_.AfterChange(env);
  }
  void Modify(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    mech_.CheckOpen(env);
    sys::fd_t fd = mech_.ToFd(env, info[0]);
    unsigned loop = 0;
    uint32_t ev = EventsArg(info, 1, false, &loop);
    {
      AsyncWait::Lock g(async_);
      mech_.Modify(env, fd, ev);
      Watched(fd, loop);
      async_.Changed();
    }
    async_.AfterChange(env);
  }
  // remove(fd, lenient?): with `lenient`, what a closed (maybe reused) fd makes
  // the kernel say is not an error.
  void Remove(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    mech_.CheckOpen(env);
    sys::fd_t fd = mech_.ToFd(env, info[0]);
    bool lenient = info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    {
      AsyncWait::Lock g(async_);
      mech_.Remove(env, fd, lenient);
      if (watched_.erase(fd)) registry_gen_++;
      async_.Changed();
    }
    async_.AfterChange(env);
  }
  // A selector's registration as direct watching sees it (after the mechanism took it).
  void Watched(sys::fd_t fd, unsigned loop) {
    if constexpr (Mech::kSelectorMasks) {
      watched_[fd] = loop;
      registry_gen_++;
    }
  }
  void SetResults(const Napi::CallbackInfo& info) { results_.Set(info[0]); }
  void Cancel(const Napi::CallbackInfo&) { async_.Cancel(); }
  void CloseMethod(const Napi::CallbackInfo&) { Shutdown(); }
  Napi::Value Fileno(const Napi::CallbackInfo& info) {
    mech_.CheckOpen(info.Env());
    return Napi::Number::New(info.Env(), mech_.Fileno());
  }
  Napi::Value InfoMethod(const Napi::CallbackInfo& info) { return mech_.Info(info.Env()); }

  // wait(timeout, maxevents?) -> number of (fd, mask) pairs written.
  static napi_value WaitEntry(napi_env env, napi_callback_info cbi) {
    size_t argc = 2;
    napi_value argv[2];
    void* data = nullptr;
    napi_get_cb_info(env, cbi, &argc, argv, nullptr, &data);
    try {
      return static_cast<Self*>(data)->Wait(env, argc, argv);
    } catch (const Napi::Error& e) {
      e.ThrowAsJavaScriptException();
      return nullptr;
    }
  }
  napi_value Wait(napi_env env, size_t argc, napi_value* argv) {
    Napi::Env e(env);
    mech_.CheckOpen(e);
    Timeout t = ParseTimeout(env, argv[0]);
    size_t max = results_.capacity();
    if (max == 0) max = results_.Refresh();  // it may have grown back (a resizable buffer)
    if constexpr (Mech::kMaxEvents) {
      if (argc > 1) {
        int64_t m = ParseIntOr(env, argv[1], "maxevents", 1, INT32_MAX, INT32_MAX);
        if (size_t(m) < max) max = size_t(m);
      }
    }
    int count = 0;
    if (max > 0) {
      Deadline dl(t);
      int64_t piece;
      int n = 0;
      while (dl.Next(Mech::kWaitUnitNs, &piece)) {
        n = mech_.WaitOnce(piece, max);
        if (n > 0) break;
        if (n < 0) {
          int err = errno;
          if (err != EINTR) ThrowSystemError(e, err, Mech::kWaitSyscall);
          n = 0;
        }
      }
      // The array may have been detached or shrunk since (Results::Refresh).
      if (n > 0) count = int(mech_.Collect(n, results_, std::min(max, results_.Refresh())));
    }
    napi_value out;
    napi_create_int32(env, count, &out);
    return out;
  }

  // arm(callback, seq, check?) -> count: with `check`, a zero-timeout wait
  // first; if it finds something, its count (pairs written) and nothing armed.
  static napi_value ArmEntry(napi_env env, napi_callback_info cbi) {
    size_t argc = 3;
    napi_value argv[3];
    void* data = nullptr;
    napi_get_cb_info(env, cbi, &argc, argv, nullptr, &data);
    auto* self = static_cast<Self*>(data);
    int n = 0;
    try {
      Napi::Env e(env);
      self->mech_.CheckOpen(e);
      napi_valuetype type;
      napi_typeof(env, argv[0], &type);
      if (type != napi_function) ThrowTypeError(e, "callback must be a function");
      uint32_t seq = uint32_t(ParseInt(env, argv[1], "seq", 0, UINT32_MAX));
      bool check = false;
      if (argc > 2) napi_get_value_bool(env, argv[2], &check);  // anything but true: false
      if (check && (!Mech::kLevelReadinessFd || !self->async_.delivering())) {
        n = self->ZeroWait(e);
        if (n > 0) {
          self->async_.Looked();
          return Int(env, n);
        }
      }
      self->async_.Arm(env, argv[0], seq);
    } catch (const Napi::Error& err) {
      err.ThrowAsJavaScriptException();
      return nullptr;
    }
    return Int(env, 0);
  }

  // A zero-timeout wait on the JS thread; the results array is re-read only
  // when there is something to write.
  int ZeroWait(Napi::Env e) {
    size_t max = results_.capacity();
    if (max == 0) max = results_.Refresh();
    if (max == 0) return 0;
    int n = mech_.WaitOnce(0, max);
    if (n < 0) {
      if (errno == EINTR) return 0;
      ThrowSystemError(e, errno, Mech::kWaitSyscall);
    }
    return n > 0 ? int(mech_.Collect(n, results_, std::min(max, results_.Refresh()))) : 0;
  }

  static napi_value Int(napi_env env, int v) {
    napi_value out;
    napi_create_int32(env, v, &out);
    return out;
  }

  napi_env env_;
  Mech mech_;
  Results results_;
  // Selectors: every registered fd and what a direct watch of it waits for
  // (kLoopRead | kLoopWrite); registry_gen_ changes with it (async_wait.h).
  std::unordered_map<sys::fd_t, unsigned> watched_;
  uint64_t registry_gen_ = 1;
  AsyncWait async_;  // last: stopped (explicitly, first) before the rest goes
};

}  // namespace iomux
