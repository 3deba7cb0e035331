#include "address.h"

#include <cmath>
#include <cstring>
#include <string>

#include "errors.h"

namespace iomux {
namespace {

int PortArg(Napi::Env env, Napi::Value v) {
  if (!v.IsNumber()) ThrowTypeError(env, "port must be an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  // Casting a huge or infinite double to an integer is undefined: test integrality in double.
  if (std::isnan(d) || (std::isfinite(d) && std::trunc(d) != d)) ThrowTypeError(env, "port must be an integer");
  if (d < 0 || d > 65535) ThrowRangeError(env, "port must be between 0 and 65535");
  return int(d);
}

uint32_t UintArg(Napi::Env env, Napi::Value v, const char* what, double max) {
  if (!v.IsNumber()) ThrowTypeError(env, std::string(what) + " must be an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (std::isnan(d) || (std::isfinite(d) && std::trunc(d) != d)) ThrowTypeError(env, std::string(what) + " must be an integer");
  if (d < 0 || d > max) ThrowRangeError(env, std::string(what) + " is out of range");
  return uint32_t(d);
}

bool IsV4Literal(const std::string& h) {
  in_addr a;
  return inet_pton(AF_INET, h.c_str(), &a) == 1;
}

bool IsV6Literal(const std::string& h) {
  in6_addr a;
  return inet_pton(AF_INET6, h.substr(0, h.find('%')).c_str(), &a) == 1;
}

}  // namespace

SockAddr ParseAddress(Napi::Env env, int family, Napi::Value value, const char* syscall) {
  SockAddr out;
  if (family == AF_UNIX) {
    if (!value.IsString()) ThrowTypeError(env, "an AF_UNIX address must be a path string");
    std::string path = value.As<Napi::String>().Utf8Value();
    auto* un = reinterpret_cast<sockaddr_un*>(&out.storage);
    if (path.size() >= sizeof un->sun_path) ThrowRangeError(env, "AF_UNIX path is too long (max " +
                                                                 std::to_string(sizeof un->sun_path - 1) + " bytes)");
    if (path.find('\0') != std::string::npos && path[0] != '\0')
      ThrowInvalidArgValue(env, "AF_UNIX path must not contain NUL bytes");
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path.data(), path.size());
    // A leading NUL is Linux's abstract namespace: its length is exact.
    out.len = socklen_t(offsetof(sockaddr_un, sun_path) + path.size() + (path.empty() || path[0] ? 1 : 0));
    return out;
  }
  if (family != AF_INET && family != AF_INET6) ThrowSystemError(env, EAFNOSUPPORT, syscall);
  Napi::Array a;
  uint32_t alen = 0;
  if (value.IsArray()) {
    a = value.As<Napi::Array>();
    alen = a.Length();
  }
  // Python's AF_INET6 4-tuple (host, port, flowinfo, scope_id) is accepted too.
  if (!value.IsArray() || !(alen == 2 || (alen == 4 && family == AF_INET6)))
    ThrowTypeError(env, family == AF_INET ? "an AF_INET address must be [host, port]"
                                          : "an AF_INET6 address must be [host, port] or [host, port, flowinfo, scopeId]");
  Napi::Value hv = a.Get(uint32_t(0));
  if (!hv.IsString()) ThrowTypeError(env, "host must be a string");
  std::string host = hv.As<Napi::String>().Utf8Value();
  if (host.find('\0') != std::string::npos) ThrowInvalidArgValue(env, "host must not contain NUL bytes");
  int port = PortArg(env, a.Get(uint32_t(1)));
  uint32_t flowinfo = 0, scope = 0;
  if (alen == 4) {
    flowinfo = UintArg(env, a.Get(uint32_t(2)), "flowinfo", 0xfffff);
    scope = UintArg(env, a.Get(uint32_t(3)), "scopeId", 4294967295.0);
  }
  // An IP literal of the other family is the socket's problem, not the resolver's.
  if ((family == AF_INET && IsV6Literal(host)) || (family == AF_INET6 && IsV4Literal(host))) {
    ErrAddress at;
    at.host = host;
    at.port = port;
    ThrowSystemError(env, EAFNOSUPPORT, syscall, at);
  }
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(uint16_t(port));
    out.len = sizeof(sockaddr_in);
    if (host.empty()) {
      in->sin_addr.s_addr = htonl(INADDR_ANY);
      return out;
    }
    if (host == "<broadcast>") {
      in->sin_addr.s_addr = htonl(INADDR_BROADCAST);
      return out;
    }
    if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) == 1) return out;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(uint16_t(port));
    in6->sin6_flowinfo = htonl(flowinfo);
    in6->sin6_scope_id = scope;
    out.len = sizeof(sockaddr_in6);
    if (host.empty()) {
      in6->sin6_addr = in6addr_any;
      return out;
    }
    if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) return out;
  }
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = family;
  // A scoped literal (fe80::1%eth0): the resolver maps the interface name, no look-up.
  bool scoped = family == AF_INET6 && IsV6Literal(host);
  hints.ai_flags = scoped ? AI_NUMERICHOST : AI_ADDRCONFIG;
  int gai = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (gai == 0 && !res) gai = EAI_NONAME;
  if (gai != 0) ThrowResolveError(env, gai, "getaddrinfo", host);
  memcpy(&out.storage, res->ai_addr, res->ai_addrlen);
  out.len = socklen_t(res->ai_addrlen);
  freeaddrinfo(res);
  if (family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&out.storage)->sin_port = htons(uint16_t(port));
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    in6->sin6_port = htons(uint16_t(port));
    in6->sin6_flowinfo = htonl(flowinfo);
    if (scope) in6->sin6_scope_id = scope;
  }
  return out;
}

// "fe80::1%eth0" for a scoped IPv6 address (getnameinfo names the interface), else inet_ntop's text.
static std::string HostText(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN + 64];
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
    return buf;
  }
  auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  if (in6->sin6_scope_id != 0 &&
      getnameinfo(sa, sizeof(sockaddr_in6), buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) == 0)
    return buf;
  inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
  return buf;
}

ErrAddress DescribeAddress(const SockAddr& a) {
  ErrAddress at;
  const sockaddr* sa = reinterpret_cast<const sockaddr*>(&a.storage);
  if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
    at.host = HostText(sa);
    at.port = ntohs(sa->sa_family == AF_INET ? reinterpret_cast<const sockaddr_in*>(sa)->sin_port
                                             : reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
  } else if (sa->sa_family == AF_UNIX) {
    auto* un = reinterpret_cast<const sockaddr_un*>(sa);
    size_t off = offsetof(sockaddr_un, sun_path);
    size_t n = size_t(a.len) > off ? size_t(a.len) - off : 0;
    if (n > sizeof un->sun_path) n = sizeof un->sun_path;
    at.unix_path = true;
    at.host = n && un->sun_path[0] == '\0' ? std::string(un->sun_path, n) : std::string(un->sun_path, strnlen(un->sun_path, n));
  }
  return at;
}

Napi::Value AddressToJs(Napi::Env env, const sockaddr* sa, socklen_t len) {
  char buf[INET6_ADDRSTRLEN];
  switch (sa->sa_family) {
    case AF_INET: {
      auto* in = reinterpret_cast<const sockaddr_in*>(sa);
      inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
      Napi::Array a = Napi::Array::New(env, 2);
      a.Set(uint32_t(0), Napi::String::New(env, buf));
      a.Set(uint32_t(1), Napi::Number::New(env, ntohs(in->sin_port)));
      return a;
    }
    case AF_INET6: {
      auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
      Napi::Array a = Napi::Array::New(env, 2);
      if (in6->sin6_scope_id == 0) {
        inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
        a.Set(uint32_t(0), Napi::String::New(env, buf));
      } else {
        a.Set(uint32_t(0), Napi::String::New(env, HostText(sa)));
      }
      a.Set(uint32_t(1), Napi::Number::New(env, ntohs(in6->sin6_port)));
      return a;
    }
    case AF_UNIX: {
      auto* un = reinterpret_cast<const sockaddr_un*>(sa);
      size_t off = offsetof(sockaddr_un, sun_path);
      if (size_t(len) <= off) return Napi::String::New(env, "");  // unnamed
      size_t n = len - off;
      if (n > sizeof un->sun_path) n = sizeof un->sun_path;
      if (un->sun_path[0] == '\0') return Napi::String::New(env, un->sun_path, n);  // abstract
      return Napi::String::New(env, un->sun_path, strnlen(un->sun_path, n));
    }
    default:
      return env.Null();
  }
}

}  // namespace iomux
