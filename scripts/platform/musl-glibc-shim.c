// Only for running Bun's musl build (@oven/bun-linux-x64-musl) on Debian, under
// Debian's musl loader (scripts/platform/runtimes.sh bun-musl). That Bun needs
// libstdc++.so.6 and libgcc_s.so.1, which Alpine builds against musl and Debian
// has only against glibc. Debian's glibc builds of the two load under musl's
// loader once these few glibc-only symbols they import exist; this library
// (preloaded) provides them. It is never part of iomux or of its prebuilds.
#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>

char __libc_single_threaded = 0;
uint32_t arc4random(void) {
  uint32_t v = 0;
  (void)getrandom(&v, sizeof v, 0);
  return v;
}
size_t __strftime_l(char* s, size_t max, const char* fmt, const struct tm* tm, locale_t loc) {
  return strftime_l(s, max, fmt, tm, loc);
}
// thread_local destructors of the C++ runtime are not run (a test process).
int __cxa_thread_atexit_impl(void (*dtor)(void*), void* obj, void* dso) {
  (void)dtor; (void)obj; (void)dso;
  return 0;
}
// libgcc_s's unwinder then falls back to dl_iterate_phdr, which musl has.
int _dl_find_object(void* pc, void* result) {
  (void)pc; (void)result;
  return -1;
}
// libgcc_s's CPU feature probe: no features (it only picks code paths).
struct { unsigned int vendor, type, subtype, features[1]; } __cpu_model;
int __cpu_indicator_init(void) { return 0; }
