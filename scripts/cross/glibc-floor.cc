// See glibc-floor.h: the addon's own, always-false __libc_single_threaded,
// and its own std::__throw_bad_array_new_length.
#include <new>

extern "C" {
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;
}

namespace std {
void __throw_bad_array_new_length() { throw bad_array_new_length(); }
}
