// getaddrinfo/getnameinfo with the system resolver, blocking, as Python's
// socket module: EventLoop code resolves with dns.promises instead.
#include <climits>
#include <cmath>
#include <cstring>
#include <string>

#include "address.h"
#include "args.h"
#include "backends.h"
#include "errors.h"

namespace iomux {
namespace {

int IntOpt(const Napi::CallbackInfo& info, size_t i, const char* what) {
  return int(ArgIntOr(info, i, what, INT_MIN, INT_MAX, 0));
}

// getaddrinfo(host | null, port | service | null, family, type, proto, flags)
//   -> [[family, type, proto, canonname, address], ...]
Napi::Value GetAddrInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string host, service;
  bool has_host = false, has_service = false;
  if (info[0].IsString()) {
    host = info[0].As<Napi::String>().Utf8Value();
    if (host.find('\0') != std::string::npos) ThrowInvalidArgValue(env, "host must not contain NUL bytes");
    has_host = true;
  } else if (!info[0].IsNull() && !info[0].IsUndefined()) {
    ThrowTypeError(env, "host must be a string or null");
  }
  if (info[1].IsString()) {
    service = info[1].As<Napi::String>().Utf8Value();
    if (service.find('\0') != std::string::npos) ThrowInvalidArgValue(env, "port must not contain NUL bytes");
    has_service = true;
  } else if (info[1].IsNumber()) {
    service = std::to_string(ArgInt(info, 1, "port", 0, 65535));
    has_service = true;
  } else if (!info[1].IsNull() && !info[1].IsUndefined()) {
    ThrowTypeError(env, "port must be an integer, a service name or null");
  }
  addrinfo hints{};
  hints.ai_family = IntOpt(info, 2, "family");
  hints.ai_socktype = IntOpt(info, 3, "type");
  hints.ai_protocol = IntOpt(info, 4, "proto");
  hints.ai_flags = IntOpt(info, 5, "flags");
  addrinfo* res = nullptr;
  int gai = getaddrinfo(has_host ? host.c_str() : nullptr, has_service ? service.c_str() : nullptr, &hints, &res);
  if (gai != 0) ThrowResolveError(env, gai, "getaddrinfo", has_host ? host : service);
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (addrinfo* r = res; r; r = r->ai_next) {
    if (r->ai_family != AF_INET && r->ai_family != AF_INET6) continue;
    Napi::Array t = Napi::Array::New(env, 5);
    t.Set(uint32_t(0), Napi::Number::New(env, r->ai_family));
    t.Set(uint32_t(1), Napi::Number::New(env, r->ai_socktype));
    t.Set(uint32_t(2), Napi::Number::New(env, r->ai_protocol));
    t.Set(uint32_t(3), Napi::String::New(env, r->ai_canonname ? r->ai_canonname : ""));
    t.Set(uint32_t(4), AddressToJs(env, r->ai_addr, socklen_t(r->ai_addrlen)));
    out.Set(i++, t);
  }
  freeaddrinfo(res);
  return out;
}

// getnameinfo(address, flags) -> [host, service]. As in Python, the host must
// be a numeric address (it is not looked up to find one).
Napi::Value GetNameInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) ThrowTypeError(env, "address must be [host, port] or [host, port, flowinfo, scopeId]");
  Napi::Array a = info[0].As<Napi::Array>();
  uint32_t alen = a.Length();
  if (alen != 2 && alen != 4) ThrowTypeError(env, "address must be [host, port] or [host, port, flowinfo, scopeId]");
  Napi::Value hv = a.Get(uint32_t(0));
  if (!hv.IsString()) ThrowTypeError(env, "host must be a string");
  std::string host = hv.As<Napi::String>().Utf8Value();
  if (host.find('\0') != std::string::npos) ThrowInvalidArgValue(env, "host must not contain NUL bytes");
  int flags = IntOpt(info, 1, "flags");
  // The family follows the literal; ParseAddress then checks port, flowinfo and scope.
  in6_addr probe;
  int family = inet_pton(AF_INET6, host.substr(0, host.find('%')).c_str(), &probe) == 1 ? AF_INET6 : AF_INET;
  in_addr probe4;
  if (family == AF_INET && inet_pton(AF_INET, host.c_str(), &probe4) != 1)
    ThrowResolveError(env, EAI_NONAME, "getnameinfo", host);
  if (family == AF_INET && alen == 4) ThrowTypeError(env, "an IPv4 address must be [host, port]");
  SockAddr sa = ParseAddress(env, family, a, "getnameinfo");
  char hbuf[NI_MAXHOST], sbuf[NI_MAXSERV];
  int gai = getnameinfo(sa.get(), sa.len, hbuf, sizeof hbuf, sbuf, sizeof sbuf, flags);
  if (gai != 0) ThrowResolveError(env, gai, "getnameinfo", host);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(uint32_t(0), Napi::String::New(env, hbuf));
  out.Set(uint32_t(1), Napi::String::New(env, sbuf));
  return out;
}

}  // namespace

void InitResolve(Napi::Env env, Napi::Object exports, Instance*) {
  exports.Set("getaddrinfo", Napi::Function::New<GetAddrInfo>(env, "getaddrinfo"));
  exports.Set("getnameinfo", Napi::Function::New<GetNameInfo>(env, "getnameinfo"));
}

}  // namespace iomux
