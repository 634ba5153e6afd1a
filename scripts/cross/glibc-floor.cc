// See glibc-floor.h: the addon's own, always-false __libc_single_threaded.
extern "C" {
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;
}
