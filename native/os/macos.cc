// macOS (and iOS) parts of the POSIX layer. Built only on Apple; not run in
// this project's CI.
#include <errno.h>
#include <sys/mman.h>

#include "os.h"
#include "posix.h"

namespace memmap::os {

namespace kernel {

int huge_page_flags(size_t, bool* supported) {
  // macOS has superpages only through VM_FLAGS_SUPERPAGE_*, which mmap-rs
  // does not use either; HUGE_PAGES is a documented no-op here.
  *supported = true;
  return 0;
}

int map_flags(uint32_t flags) {
  return (flags & kNoReserve) ? MAP_NORESERVE : 0;
}

Error after_map(uint8_t* address, size_t size, uint32_t flags) {
  if ((flags & kLocked) && mlock(address, size) != 0) return Error{errno, "mlock"};
  return {};
}

int advice_value(Advice advice) {
  switch (advice) {
    case Advice::kNormal: return MADV_NORMAL;
    case Advice::kRandom: return MADV_RANDOM;
    case Advice::kSequential: return MADV_SEQUENTIAL;
    case Advice::kWillNeed: return MADV_WILLNEED;
    case Advice::kDontNeed: return MADV_DONTNEED;
    case Advice::kFree: return MADV_FREE;
    default: return -1;
  }
}

int exclusive_fixed_flags() { return 0; }

Error remap(uint8_t*, size_t, size_t, bool, uint32_t, bool, uint8_t**, bool* done) {
  *done = false;
  return {};
}

// No mremap: remap() maps more of the file through a kept descriptor.
bool keeps_file_descriptor() { return true; }

}  // namespace kernel

Error lock_on_fault(uint8_t*, size_t) { return Error{Error::kUnsupported, "mlock2"}; }

std::vector<size_t> page_sizes() { return {page_size()}; }

size_t default_huge_page_size() { return 0; }

int64_t free_huge_pages(size_t) { return -1; }

}  // namespace memmap::os
