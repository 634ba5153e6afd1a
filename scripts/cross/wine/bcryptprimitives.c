/* Wine 8 lacks bcryptprimitives.dll, whose ProcessPrng the Rust standard
 * library (1.78+) imports: the test toolchain's own native modules (rolldown,
 * lightningcss, built by Rust for MSVC) cannot load without it. This stand-in
 * is installed into the test Wine prefix only; memmap does not use it. */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size) {
  while (size > 0) {
    ULONG chunk = size > 0x40000000 ? 0x40000000 : (ULONG)size;
    if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return FALSE;
    data += chunk;
    size -= chunk;
  }
  return TRUE;
}
