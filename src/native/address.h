// Socket addresses between JS ([host, port] or an AF_UNIX path) and sockaddr.
#pragma once
#include <napi.h>

#include "errors.h"
#include "sys.h"

namespace iomux {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

// Parses `value` for a socket of `family`. IP literals are not looked up; other
// host names go through the system resolver (blocking, like Python).
SockAddr ParseAddress(Napi::Env env, int family, Napi::Value value, const char* syscall);

// The address for an error message and its address/port (or path) properties.
ErrAddress DescribeAddress(const SockAddr& a);

// [host, port] for IPv4/IPv6 (an IPv6 scope kept as "fe80::1%eth0"), the path string for AF_UNIX.
Napi::Value AddressToJs(Napi::Env env, const sockaddr* sa, socklen_t len);

}  // namespace iomux
