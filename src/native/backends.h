// Registration of each backend's classes and functions on the module.
#pragma once
#include <napi.h>

namespace iomux {

struct Instance;

void InitSelect(Napi::Env env, Napi::Object exports, Instance* inst);
void InitPoll(Napi::Env env, Napi::Object exports, Instance* inst);
void InitEpoll(Napi::Env env, Napi::Object exports, Instance* inst);
void InitUring(Napi::Env env, Napi::Object exports, Instance* inst);
void InitKqueue(Napi::Env env, Napi::Object exports, Instance* inst);
void InitSocket(Napi::Env env, Napi::Object exports, Instance* inst);
void InitResolve(Napi::Env env, Napi::Object exports, Instance* inst);

}  // namespace iomux
