// What posix.cc asks of the per-kernel parts (linux.cc, macos.cc, freebsd.cc).
#pragma once

#include "os.h"

namespace memmap::os::kernel {

// log2 of a power of two: how mmap(2) flags encode page sizes.
inline int log2_of(size_t power_of_two) {
  int bits = 0;
  while (power_of_two > 1) {
    power_of_two >>= 1;
    ++bits;
  }
  return bits;
}

// mmap(2) flags that request huge pages of `page_size` bytes (0: the system
// default). Sets *supported to false where the size cannot be requested.
int huge_page_flags(size_t page_size, bool* supported);
// mmap(2) flags for the MmapFlags this kernel takes at mapping time.
int map_flags(uint32_t flags);
// Calls made after mmap(2) for the remaining MmapFlags (madvise, mlock).
Error after_map(uint8_t* address, size_t size, uint32_t flags);
// The madvise(2) value of an advice, or -1 where the kernel lacks it.
int advice_value(Advice advice);
// mmap(2) flags that place a mapping exactly where asked or fail, never
// replacing anything (FreeBSD: MAP_FIXED | MAP_EXCL); 0 where the kernel has
// none, and the address is only a hint to check afterwards (macOS).
int exclusive_fixed_flags();
// Resizes [address, address + old_size) keeping its pages, in place or, with
// `may_move`, anywhere (Linux: mremap). `anonymous` and `flags` (its
// MmapFlags) say what the mapping is. *done is false where the kernel does
// not resize it (no such call, or none for such a mapping): posix.cc then
// shrinks by hand, and grows anonymous memory, or a file through the
// descriptor keeps_file_descriptor() keeps, by hand.
Error remap(uint8_t* address, size_t old_size, size_t new_size, bool anonymous, uint32_t flags,
            bool may_move, uint8_t** out, bool* done);
// Whether a file (or shared-memory) mapping keeps a close-on-exec duplicate
// of its descriptor, owned by its allocation, so that remap() can map more of
// the file after it or map it anew elsewhere: true where the remap() above is
// not done by the kernel (macOS, FreeBSD). Linux's mremap needs none, so no
// descriptor is kept there.
bool keeps_file_descriptor();

}  // namespace memmap::os::kernel
