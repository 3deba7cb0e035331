// io_uring(7) readiness on Linux through raw syscalls (no liburing, so the
// prebuilds carry no extra dependency): a ring whose registrations are
// IORING_OP_POLL_ADD requests, multishot where the kernel has them.
//
// Selectors are level-triggered, io_uring polls are not (a multishot poll posts
// a completion per wake-up; a single-shot one completes once). So:
// - single-shot: a completed poll is re-armed at the next wait; arming an fd that
//   is still ready completes at once, which gives level-triggered readiness;
// - multishot: the poll stays armed; the fds that the last wait reported are
//   checked again (one poll(2) over just those fds) at the next wait, and that
//   answer replaces their completions (which may be one wake-up stale).
// A multishot poll the kernel ends (no IORING_CQE_F_MORE: CQ overflow, ...) is
// re-armed like a single-shot one.
#pragma once
#include <poll.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace iomux {
namespace sys {

struct UringSqe;
struct UringCqe;

class Uring {
 public:
  // Opens the ring. On failure returns false with *err (errno) and *detail (why,
  // for the message: io_uring missing, disabled, too old).
  bool Open(unsigned entries, bool multishot, int* err, std::string* detail);
  ~Uring();
  void Close();
  bool open() const { return ring_fd_ >= 0; }
  int fd() const { return ring_fd_; }
  bool multishot() const { return multishot_; }

  // poll(2) masks (POLLIN | POLLOUT). Add/Modify queue submissions, sent with the
  // next wait or Flush(); Remove flushes at once, because an armed poll holds a
  // reference to the file (a socket closed after unregister would stay open
  // until then). Return 0 or an errno.
  int Add(int fd, uint32_t events);
  int Modify(int fd, uint32_t events);
  int Remove(int fd);
  int Flush();  // submits what is queued; 0 or an errno

  // Submits what is queued, then waits up to timeout_ns (-1: forever, 0: not at
  // all) for readiness. Writes at most `cap` (fd, poll revents) pairs into
  // fds/revents; returns how many, or -errno. EINTR is returned to the caller,
  // which owns the deadline.
  int Wait(int64_t timeout_ns, size_t cap, int32_t* fds, uint32_t* revents);

  // An eventfd the kernel signals on each completion (IORING_REGISTER_EVENTFD),
  // for a wait in Node's loop; -1 on failure with errno set. Drain() resets it.
  int EventFd();
  bool has_event_fd() const { return event_fd_ >= 0; }
  void Drain();

 private:
  struct Reg {
    uint32_t events = 0;  // poll mask asked for
    uint32_t gen = 0;     // user_data's upper half: completions of older polls are ignored
    uint32_t ready = 0;   // revents collected and not yet reported
    bool armed = false;   // a poll request is in flight or queued
    bool reported = false;
  };
  UringSqe* GetSqe(int* err);
  int Submit(unsigned min_complete, unsigned flags, const void* arg, size_t argsz);
  int Arm(int fd, Reg& r);
  void Reap();
  void MarkReady(int fd, Reg& r, uint32_t revents);
  bool HasReady();
  void Recheck();

  int ring_fd_ = -1;
  int event_fd_ = -1;
  bool multishot_ = true;
  uint32_t features_ = 0;
  void* sq_map_ = nullptr;
  size_t sq_map_len_ = 0;
  void* cq_map_ = nullptr;
  size_t cq_map_len_ = 0;
  UringSqe* sqes_ = nullptr;
  size_t sqes_len_ = 0;
  unsigned* sq_head_ = nullptr;
  unsigned* sq_tail_ = nullptr;
  unsigned* sq_flags_ = nullptr;
  unsigned sq_mask_ = 0;
  unsigned sq_entries_ = 0;
  unsigned* sq_array_ = nullptr;
  unsigned sq_local_tail_ = 0;  // SQEs filled in but not yet published
  unsigned to_submit_ = 0;      // published but not yet submitted
  unsigned* cq_head_ = nullptr;
  unsigned* cq_tail_ = nullptr;
  unsigned cq_mask_ = 0;
  UringCqe* cqes_ = nullptr;
  uint32_t next_gen_ = 1;
  std::unordered_map<int, Reg> regs_;
  std::vector<int> ready_;       // fds with Reg::ready != 0, each once
  std::vector<int> rearm_;       // fds whose poll ended and that are still registered
  std::vector<int> rearm_scratch_;
  std::vector<pollfd> recheck_;  // multishot: fds the last wait reported
};

}  // namespace sys
}  // namespace iomux
