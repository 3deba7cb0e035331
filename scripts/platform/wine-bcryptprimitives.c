/* bcryptprimitives.dll for Debian 12's wine 8, which has none: Rust's and Go's
 * Windows runtimes import ProcessPrng from it (Windows 10 and later have it),
 * so rollup's and esbuild's win32 binaries, which vitest needs, do not start
 * under that wine without it. ProcessPrng fills the buffer from the system
 * generator (RtlGenRandom) and, as on Windows, always returns TRUE.
 * Built by scripts/platform/lib.sh into the test wine prefix only. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom, advapi32 */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
    if (!SystemFunction036(data, n)) FatalAppExitA(0, "ProcessPrng: RtlGenRandom failed");
    data += n;
    len -= n;
  }
  return TRUE;
}
