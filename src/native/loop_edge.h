// The two things selectAsync() needs from Node's event loop, behind one small
// interface so that async_wait.cc holds no platform code: watching an fd for
// readability (kReadinessFd) and being signalled from the waiter thread
// (kWaiterThread). loop_uv.cc does both with libuv handles (POSIX builds link
// against node's libuv); loop_napi.cc (Windows, whose build links only
// Node-API) signals through a thread-safe function and has no fd watch.
#pragma once
#include <napi.h>

#include <cstdint>

#include "sys.h"

namespace iomux {

struct LoopEdge;
using LoopCallback = void (*)(void* arg);

// Made on the JS thread; callbacks run there, with no handle scope of their own
// guaranteed (open one). nullptr and *err = errno-style code on failure.
LoopEdge* LoopWatchFd(napi_env env, sys::fd_t fd, LoopCallback on_readable, void* arg, int* err);
LoopEdge* LoopAsync(napi_env env, LoopCallback on_signal, void* arg, int* err);
// Whether LoopWatchFd can work here (false where the loop is not libuv's).
bool LoopCanWatchFds();
// Fd watch: start (0 or -errno) / stop watching. LoopStart watches for
// readability; LoopStartFor for what `events` (kLoopRead | kLoopWrite) says,
// and changes it on a watch already started.
enum : unsigned { kLoopRead = 1, kLoopWrite = 2 };
int LoopStart(LoopEdge* e);
int LoopStartFor(LoopEdge* e, unsigned events);
void LoopStop(LoopEdge* e);
// Whether a fd watch is started: libuv stops one by itself when its fd reports
// an error (POLLERR), so a watch kept across waits asks before each.
bool LoopActive(LoopEdge* e);
// Async: any thread; coalesced like uv_async_send.
void LoopSignal(LoopEdge* e);
// Whether the edge keeps the loop (the process) alive.
void LoopRef(LoopEdge* e, bool ref);
// Frees the edge; on_closed(arg) runs later on the JS thread.
void LoopClose(LoopEdge* e, LoopCallback on_closed, void* arg);
// A monotonic clock in nanoseconds.
uint64_t LoopNowNs();

}  // namespace iomux
