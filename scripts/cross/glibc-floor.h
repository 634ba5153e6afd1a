// Force-included (-include) into every source of the glibc prebuilds, so that
// the binary binds only symbol versions that glibc 2.28 has (Node 20's own
// floor), although it is built against a newer glibc. check-glibc.sh checks
// the result with objdump -T on every build.
//
// glibc 2.32 and 2.34 moved these functions from libpthread into libc under
// new versions; the old versions remain as aliases of the same code.
#if defined(__x86_64__)
#define MEMMAP_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define MEMMAP_GLIBC_BASE "GLIBC_2.17"
#elif defined(__arm__)
#define MEMMAP_GLIBC_BASE "GLIBC_2.4"
#else
#error "no glibc floor known for this architecture"
#endif
__asm__(".symver pthread_once,pthread_once@" MEMMAP_GLIBC_BASE);
__asm__(".symver pthread_sigmask,pthread_sigmask@" MEMMAP_GLIBC_BASE);
__asm__(".symver pthread_create,pthread_create@" MEMMAP_GLIBC_BASE);
__asm__(".symver pthread_join,pthread_join@" MEMMAP_GLIBC_BASE);
__asm__(".symver pthread_attr_setstacksize,pthread_attr_setstacksize@" MEMMAP_GLIBC_BASE);
// Likewise dlsym, from libdl: before 2.34 the process has it through Node,
// which links libdl itself.
__asm__(".symver dlsym,dlsym@" MEMMAP_GLIBC_BASE);

// libstdc++'s headers (GCC 11+) read glibc 2.32's __libc_single_threaded to
// skip atomic reference counting in a single-threaded process. Declared hidden
// here and defined as 0 ("threads may exist") in glibc-floor.cc, the reads
// bind inside the addon and always take the atomic path.
#ifdef __cplusplus
extern "C" __attribute__((visibility("hidden"))) char __libc_single_threaded;
// GCC 12's allocators throw through std::__throw_bad_array_new_length, new in
// GCC 11's libstdc++ (GLIBCXX_3.4.29): the addon has its own, hidden copy
// (glibc-floor.cc), throwing the same exception.
namespace std {
__attribute__((visibility("hidden"), noreturn)) void __throw_bad_array_new_length();
}
#endif
