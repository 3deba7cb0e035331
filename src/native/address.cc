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

// getaddrinfo failures become ENOTFOUND-style system errors Node users recognise.
[[noreturn]] void ThrowResolve(Napi::Env env, int gai, const std::string& host) {
  Napi::Error e = Napi::Error::New(env, "getaddrinfo " + std::string(gai == EAI_NONAME ? "ENOTFOUND" : "EAI_AGAIN") +
                                            " " + host + ": " + gai_strerror(gai));
  e.Set("code", gai == EAI_NONAME ? "ENOTFOUND" : "EAI_AGAIN");
  e.Set("errno", Napi::Number::New(env, gai));
  e.Set("syscall", "getaddrinfo");
  e.Set("hostname", host);
  throw e;
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
      ThrowTypeError(env, "AF_UNIX path must not contain NUL bytes");
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path.data(), path.size());
    // A leading NUL is Linux's abstract namespace: its length is exact.
    out.len = socklen_t(offsetof(sockaddr_un, sun_path) + path.size() + (path.empty() || path[0] ? 1 : 0));
    return out;
  }
  if (family != AF_INET && family != AF_INET6) ThrowSystemError(env, EAFNOSUPPORT, syscall);
  if (!value.IsArray() || value.As<Napi::Array>().Length() != 2)
    ThrowTypeError(env, "an AF_INET/AF_INET6 address must be [host, port]");
  Napi::Array a = value.As<Napi::Array>();
  Napi::Value hv = a.Get(uint32_t(0));
  if (!hv.IsString()) ThrowTypeError(env, "host must be a string");
  std::string host = hv.As<Napi::String>().Utf8Value();
  if (host.find('\0') != std::string::npos) ThrowTypeError(env, "host must not contain NUL bytes");
  int port = PortArg(env, a.Get(uint32_t(1)));
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
    out.len = sizeof(sockaddr_in6);
    if (host.empty()) {
      in6->sin6_addr = in6addr_any;
      return out;
    }
    if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) return out;
  }
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = family;
  hints.ai_flags = AI_ADDRCONFIG;
  int gai = getaddrinfo(host.c_str(), nullptr, &hints, &res);
#ifdef EAI_ADDRFAMILY
  if (gai == EAI_ADDRFAMILY) gai = EAI_NONAME;
#endif
  if (gai == EAI_NODATA) gai = EAI_NONAME;
  if (gai != 0 || !res) ThrowResolve(env, gai ? gai : EAI_NONAME, host);
  memcpy(&out.storage, res->ai_addr, res->ai_addrlen);
  out.len = socklen_t(res->ai_addrlen);
  freeaddrinfo(res);
  if (family == AF_INET) reinterpret_cast<sockaddr_in*>(&out.storage)->sin_port = htons(uint16_t(port));
  else reinterpret_cast<sockaddr_in6*>(&out.storage)->sin6_port = htons(uint16_t(port));
  return out;
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
      inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
      Napi::Array a = Napi::Array::New(env, 2);
      a.Set(uint32_t(0), Napi::String::New(env, buf));
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
