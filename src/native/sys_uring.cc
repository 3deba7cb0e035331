// io_uring(7) through raw syscalls. The kernel ABI structures are declared here
// (not taken from <linux/io_uring.h>) so that a build host with old kernel
// headers still produces an addon that uses what a newer kernel offers.
#include "sys_uring.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstring>

#ifndef __NR_io_uring_setup
// The same numbers on every architecture but alpha since Linux 5.1.
#define __NR_io_uring_setup 425
#define __NR_io_uring_enter 426
#define __NR_io_uring_register 427
#endif

namespace iomux {
namespace sys {

// ---- the kernel ABI (include/uapi/linux/io_uring.h) ----
struct UringSqe {
  uint8_t opcode;
  uint8_t flags;
  uint16_t ioprio;
  int32_t fd;
  uint64_t off;
  uint64_t addr;
  uint32_t len;
  uint32_t op_flags;  // poll32_events for POLL_ADD
  uint64_t user_data;
  uint16_t buf_index;
  uint16_t personality;
  int32_t file_index;
  uint64_t addr3;
  uint64_t pad;
};
struct UringCqe {
  uint64_t user_data;
  int32_t res;
  uint32_t flags;
};
struct SqOffsets {
  uint32_t head, tail, ring_mask, ring_entries, flags, dropped, array, resv1;
  uint64_t user_addr;
};
struct CqOffsets {
  uint32_t head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1;
  uint64_t user_addr;
};
struct UringParams {
  uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle, features, wq_fd, resv[3];
  SqOffsets sq_off;
  CqOffsets cq_off;
};
struct GeteventsArg {
  uint64_t sigmask;
  uint32_t sigmask_sz;
  uint32_t pad;
  uint64_t ts;
};
struct KernelTimespec {
  int64_t tv_sec;
  int64_t tv_nsec;
};
static_assert(sizeof(UringSqe) == 64, "io_uring_sqe is 64 bytes");
static_assert(offsetof(UringSqe, user_data) == 32, "io_uring_sqe.user_data at 32");
static_assert(sizeof(UringCqe) == 16, "io_uring_cqe is 16 bytes");
static_assert(sizeof(UringParams) == 120, "io_uring_params is 120 bytes");
static_assert(sizeof(GeteventsArg) == 24, "io_uring_getevents_arg is 24 bytes");

namespace {
constexpr uint8_t kOpPollAdd = 6;
constexpr uint8_t kOpPollRemove = 7;
constexpr uint32_t kSetupCqSize = 1u << 3;
constexpr uint32_t kSetupClamp = 1u << 4;
constexpr uint32_t kFeatSingleMmap = 1u << 0;
constexpr uint32_t kFeatNoDrop = 1u << 1;
constexpr uint32_t kFeatExtArg = 1u << 8;
constexpr unsigned kEnterGetEvents = 1u << 0;
constexpr unsigned kEnterExtArg = 1u << 3;
constexpr unsigned kSqCqOverflow = 1u << 1;
constexpr uint32_t kPollAddMulti = 1u << 0;
constexpr uint32_t kCqeMore = 1u << 1;
constexpr unsigned kRegisterEventFd = 4;
constexpr uint64_t kOffSqRing = 0;
constexpr uint64_t kOffCqRing = 0x8000000ULL;
constexpr uint64_t kOffSqes = 0x10000000ULL;
// user_data of POLL_REMOVE requests: their completions carry nothing we need.
// Poll requests carry (generation << 32 | fd), and generations never reach this.
constexpr uint64_t kRemoveTag = ~uint64_t(0);

unsigned LoadAcquire(const unsigned* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
void StoreRelease(unsigned* p, unsigned v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

int Enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags, const void* arg, size_t argsz) {
  return int(syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, arg, argsz));
}

uint32_t PollMask(uint32_t events) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  // poll32_events shares a field with the 16-bit poll_events; the kernel swaps the halves back.
  events = (events << 16) | (events >> 16);
#endif
  return events;
}

std::string DisabledWhy() {
  char buf[16] = {0};
  int fd = open("/proc/sys/kernel/io_uring_disabled", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0) close(fd);
  if (n > 0 && buf[0] != '0') {
    return std::string("io_uring is disabled on this system (/proc/sys/kernel/io_uring_disabled = ") + buf[0] + ")";
  }
  return "io_uring is not permitted here (a seccomp filter or container policy forbids it)";
}
}  // namespace

bool Uring::Open(unsigned entries, bool multishot, int* err, std::string* detail) {
  UringParams p{};
  p.flags = kSetupCqSize | kSetupClamp;
  // A CQ much larger than the SQ makes overflow (handled, but slow) rare:
  // readiness of every registration can be pending at once, whatever the SQ size.
  p.cq_entries = entries * 16u;
  int fd = int(syscall(__NR_io_uring_setup, entries, &p));
  if (fd < 0) {
    *err = errno;
    if (*err == ENOSYS) *detail = "this kernel has no io_uring (Linux 5.1+ with CONFIG_IO_URING)";
    else if (*err == EPERM) *detail = DisabledWhy();
    return false;
  }
  ring_fd_ = fd;  // io_uring fds are always close-on-exec
  features_ = p.features;
  if ((features_ & kFeatExtArg) == 0 || (features_ & kFeatNoDrop) == 0) {
    Close();
    *err = ENOSYS;
    *detail = "io_uring on this kernel is too old (timed waits need IORING_FEAT_EXT_ARG, Linux 5.11+)";
    return false;
  }
  multishot_ = multishot;
  sq_map_len_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  cq_map_len_ = p.cq_off.cqes + p.cq_entries * sizeof(UringCqe);
  bool single = (features_ & kFeatSingleMmap) != 0;
  if (single) sq_map_len_ = cq_map_len_ = std::max(sq_map_len_, cq_map_len_);
  sq_map_ = mmap(nullptr, sq_map_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, kOffSqRing);
  if (sq_map_ == MAP_FAILED) sq_map_ = nullptr;
  if (sq_map_ && single) {
    cq_map_ = sq_map_;
  } else if (sq_map_) {
    cq_map_ = mmap(nullptr, cq_map_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, kOffCqRing);
    if (cq_map_ == MAP_FAILED) cq_map_ = nullptr;
  }
  sqes_len_ = p.sq_entries * sizeof(UringSqe);
  if (cq_map_) {
    void* s = mmap(nullptr, sqes_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, kOffSqes);
    sqes_ = s == MAP_FAILED ? nullptr : static_cast<UringSqe*>(s);
  }
  if (!sqes_) {
    *err = errno;
    *detail = "mapping the io_uring rings failed";
    Close();
    return false;
  }
  auto* sq = static_cast<char*>(sq_map_);
  auto* cq = static_cast<char*>(cq_map_);
  sq_head_ = reinterpret_cast<unsigned*>(sq + p.sq_off.head);
  sq_tail_ = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
  sq_flags_ = reinterpret_cast<unsigned*>(sq + p.sq_off.flags);
  sq_mask_ = *reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
  sq_entries_ = *reinterpret_cast<unsigned*>(sq + p.sq_off.ring_entries);
  sq_array_ = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
  for (unsigned i = 0; i < sq_entries_; i++) sq_array_[i] = i;  // SQE i sits in slot i
  sq_local_tail_ = *sq_tail_;
  cq_head_ = reinterpret_cast<unsigned*>(cq + p.cq_off.head);
  cq_tail_ = reinterpret_cast<unsigned*>(cq + p.cq_off.tail);
  cq_mask_ = *reinterpret_cast<unsigned*>(cq + p.cq_off.ring_mask);
  cqes_ = reinterpret_cast<UringCqe*>(cq + p.cq_off.cqes);
  return true;
}

Uring::~Uring() { Close(); }

void Uring::Close() {
  // Closing the ring cancels every poll and drops their file references.
  if (sqes_) munmap(sqes_, sqes_len_);
  if (cq_map_ && cq_map_ != sq_map_) munmap(cq_map_, cq_map_len_);
  if (sq_map_) munmap(sq_map_, sq_map_len_);
  sqes_ = nullptr;
  sq_map_ = cq_map_ = nullptr;
  if (event_fd_ >= 0) close(event_fd_);
  if (ring_fd_ >= 0) close(ring_fd_);
  event_fd_ = ring_fd_ = -1;
  regs_.clear();
  ready_.clear();
  rearm_.clear();
  recheck_.clear();
}

// The next free SQE, zeroed; when the SQ is full, what it holds is submitted first.
UringSqe* Uring::GetSqe(int* err) {
  if (sq_local_tail_ - LoadAcquire(sq_head_) >= sq_entries_) {
    int r = Submit(0, 0, nullptr, 0);
    if (r < 0) {
      *err = -r;
      return nullptr;
    }
    if (sq_local_tail_ - LoadAcquire(sq_head_) >= sq_entries_) {
      *err = EBUSY;
      return nullptr;
    }
  }
  UringSqe* s = &sqes_[sq_local_tail_ & sq_mask_];
  std::memset(s, 0, sizeof *s);
  return s;
}

// Publishes the SQE just filled in (the kernel reads it at the next enter).
#define PUBLISH()                              \
  do {                                         \
    StoreRelease(sq_tail_, ++sq_local_tail_); \
    to_submit_++;                              \
  } while (0)

// io_uring_enter: submits what is queued and, with min_complete, waits. Returns
// 0 or -errno; a wait that ends by timeout or signal is not an error here.
int Uring::Submit(unsigned min_complete, unsigned flags, const void* arg, size_t argsz) {
  for (int tries = 0;; tries++) {
    int r = Enter(ring_fd_, to_submit_, min_complete, flags | (arg ? kEnterExtArg : 0), arg, argsz);
    if (r >= 0) {
      to_submit_ -= std::min(unsigned(r), to_submit_);
      return 0;
    }
    int e = errno;
    if (e == ETIME || (e == EINTR && min_complete > 0)) return 0;
    if (e == EINTR) continue;
    // EBUSY/EAGAIN: completions are backed up (CQ overflow on older kernels);
    // taking them off the CQ lets the submission through.
    if ((e == EBUSY || e == EAGAIN) && tries < 16) {
      Reap();
      flags |= kEnterGetEvents;
      continue;
    }
    return -e;
  }
}

int Uring::Arm(int fd, Reg& r) {
  int err = 0;
  UringSqe* s = GetSqe(&err);
  if (!s) return err;
  s->opcode = kOpPollAdd;
  s->fd = fd;
  s->op_flags = PollMask(r.events);
  s->len = multishot_ ? kPollAddMulti : 0;
  s->user_data = (uint64_t(r.gen) << 32) | uint32_t(fd);
  r.armed = true;
  PUBLISH();
  return 0;
}

int Uring::Add(int fd, uint32_t events) {
  if (regs_.count(fd)) return EEXIST;
  Reg& r = regs_[fd];
  r.events = events;
  r.gen = next_gen_;
  next_gen_ = next_gen_ >= 0xfffffffeu ? 1 : next_gen_ + 1;
  int err = Arm(fd, r);
  if (err) regs_.erase(fd);
  return err;
}

int Uring::Modify(int fd, uint32_t events) {
  auto it = regs_.find(fd);
  if (it == regs_.end()) return ENOENT;
  Reg& r = it->second;
  if (r.armed) {
    int err = 0;
    UringSqe* s = GetSqe(&err);
    if (!s) return err;
    s->opcode = kOpPollRemove;
    s->addr = (uint64_t(r.gen) << 32) | uint32_t(fd);
    s->user_data = kRemoveTag;
    PUBLISH();
    r.armed = false;
  }
  // A new generation: what the old poll still posts is ignored. An fd that is
  // ready now completes the new poll at once.
  r.events = events;
  r.ready = 0;
  r.gen = next_gen_;
  next_gen_ = next_gen_ >= 0xfffffffeu ? 1 : next_gen_ + 1;
  return Arm(fd, r);
}

int Uring::Remove(int fd) {
  auto it = regs_.find(fd);
  if (it == regs_.end()) return ENOENT;
  if (it->second.armed) {
    int err = 0;
    UringSqe* s = GetSqe(&err);
    if (!s) return err;
    s->opcode = kOpPollRemove;
    s->addr = (uint64_t(it->second.gen) << 32) | uint32_t(fd);
    s->user_data = kRemoveTag;
    PUBLISH();
  }
  regs_.erase(it);
  return Flush();
}

int Uring::Flush() { return to_submit_ ? -Submit(0, 0, nullptr, 0) : 0; }

// Whether an entry of ready_ still has something to report (Recheck may have
// cleared some); drops the cleared ones from the front.
bool Uring::HasReady() {
  size_t i = 0;
  while (i < ready_.size()) {
    auto it = regs_.find(ready_[i]);
    if (it != regs_.end() && it->second.ready != 0) break;
    i++;
  }
  ready_.erase(ready_.begin(), ready_.begin() + ptrdiff_t(i));
  return !ready_.empty();
}

void Uring::MarkReady(int fd, Reg& r, uint32_t revents) {
  if (revents == 0) return;
  if (r.ready == 0) ready_.push_back(fd);
  r.ready |= revents;
}

// Takes every completion off the CQ into the registrations' ready masks.
void Uring::Reap() {
  for (;;) {
    unsigned head = *cq_head_;
    unsigned tail = LoadAcquire(cq_tail_);
    for (; head != tail; head++) {
      const UringCqe& c = cqes_[head & cq_mask_];
      if (c.user_data == kRemoveTag) continue;
      int fd = int(uint32_t(c.user_data));
      auto it = regs_.find(fd);
      if (it == regs_.end() || it->second.gen != uint32_t(c.user_data >> 32)) continue;  // an older poll
      Reg& r = it->second;
      if ((c.flags & kCqeMore) == 0) {
        r.armed = false;
        rearm_.push_back(fd);
      }
      if (c.res >= 0) {
        MarkReady(fd, r, uint32_t(c.res));
      } else if (c.res == -EINVAL && multishot_) {
        multishot_ = false;  // a kernel before 5.13: no multishot polls, re-arm single-shot ones
      } else if (c.res == -EBADF) {
        MarkReady(fd, r, POLLNVAL);
      } else if (c.res != -ECANCELED) {
        MarkReady(fd, r, POLLERR);
      }
    }
    StoreRelease(cq_head_, head);
    // Completions that did not fit (IORING_FEAT_NODROP keeps them) come in with
    // the next GETEVENTS enter.
    if ((LoadAcquire(sq_flags_) & kSqCqOverflow) == 0) return;
    if (Enter(ring_fd_, 0, 0, kEnterGetEvents, nullptr, 0) < 0 && errno != EINTR) return;
  }
}

// Multishot polls post on wake-ups only: an fd reported last time that is still
// ready would not be reported again. One poll(2) over just those fds says; run
// after Reap(), its answer replaces what their completions said, which may be a
// wake-up that the caller's reads since the last wait have already consumed.
void Uring::Recheck() {
  size_t n = 0;
  for (const pollfd& p : recheck_) {
    auto it = regs_.find(p.fd);
    if (it == regs_.end() || !it->second.armed) continue;  // gone, or re-armed anyway
    recheck_[n].fd = p.fd;
    recheck_[n].events = short(it->second.events);
    recheck_[n].revents = 0;
    n++;
  }
  int r = n > 0 ? poll(recheck_.data(), nfds_t(n), 0) : -1;
  if (r >= 0) {
    for (size_t i = 0; i < n; i++) {
      auto it = regs_.find(recheck_[i].fd);
      if (it == regs_.end()) continue;
      // The kernel's answer now replaces what completions said; a 0 leaves an
      // entry in ready_ that HasReady() and the output skip.
      uint32_t now = uint16_t(recheck_[i].revents);
      if (now != 0) MarkReady(recheck_[i].fd, it->second, now);
      it->second.ready = now;
    }
  }
  recheck_.clear();
}

int Uring::Wait(int64_t timeout_ns, size_t cap, int32_t* fds, uint32_t* revents) {
  // Polls that ended are armed again: at once complete if the fd is still ready.
  if (!rearm_.empty()) {
    rearm_scratch_.clear();
    rearm_scratch_.swap(rearm_);
    for (int fd : rearm_scratch_) {
      auto it = regs_.find(fd);
      if (it == regs_.end() || it->second.armed) continue;
      if (int err = Arm(fd, it->second)) {
        // Not armed now: tried again at the next wait.
        rearm_.push_back(fd);
        if (err != EBUSY) return -err;
      }
    }
  }
  Reap();
  if (multishot_) Recheck();
  if (!HasReady() && timeout_ns != 0) {
    KernelTimespec ts{timeout_ns / 1000000000, timeout_ns % 1000000000};
    GeteventsArg a{};
    a.sigmask_sz = _NSIG / 8;
    a.ts = timeout_ns < 0 ? 0 : uint64_t(reinterpret_cast<uintptr_t>(&ts));
    int r = Submit(1, kEnterGetEvents, &a, sizeof a);
    if (r < 0) return r;
    Reap();
  } else if (to_submit_ > 0) {
    int r = Submit(0, 0, nullptr, 0);
    if (r < 0) return r;
    Reap();
  }
  size_t n = 0, i = 0;
  for (; i < ready_.size() && n < cap; i++) {
    int fd = ready_[i];
    auto it = regs_.find(fd);
    if (it == regs_.end() || it->second.ready == 0) continue;  // unregistered, or already written
    Reg& r = it->second;
    fds[n] = fd;
    revents[n] = r.ready;
    r.ready = 0;
    if (multishot_ && r.armed) recheck_.push_back(pollfd{fd, 0, 0});
    n++;
  }
  ready_.erase(ready_.begin(), ready_.begin() + ptrdiff_t(i));
  return int(n);
}

int Uring::EventFd() {
  if (event_fd_ >= 0) return event_fd_;
  int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) return -1;
  if (syscall(__NR_io_uring_register, ring_fd_, kRegisterEventFd, &efd, 1) < 0) {
    int e = errno;
    close(efd);
    errno = e;
    return -1;
  }
  event_fd_ = efd;
  return efd;
}

void Uring::Drain() {
  uint64_t v;
  if (event_fd_ >= 0) (void)!read(event_fd_, &v, sizeof v);
}

}  // namespace sys
}  // namespace iomux
