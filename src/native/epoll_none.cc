// Platforms without epoll(7): the class exists, its constructor throws ENOSYS.
#include "backends.h"
#include "errors.h"

namespace iomux {

void InitEpoll(Napi::Env env, Napi::Object exports, Instance*) {
  exports.Set("Epoll", Napi::Function::New(
                           env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                             ThrowSystemError(info.Env(), ENOSYS, "epoll_create1");
                           },
                           "Epoll"));
  exports.Set("EpollSet", exports.Get("Epoll"));
  exports.Set("epollConstants", Napi::Object::New(env));
  exports.Set("HAVE_EPOLL", false);
}

}  // namespace iomux
