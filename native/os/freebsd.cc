// FreeBSD parts of the POSIX layer. Built only on FreeBSD; not run in this
// project's CI.
#include <errno.h>
#include <sys/mman.h>

#include <algorithm>

#include "os.h"
#include "posix.h"

namespace memmap::os {

namespace kernel {

int huge_page_flags(size_t page_size, bool* supported) {
  *supported = true;
  // FreeBSD promotes aligned mappings to superpages by itself; a specific
  // size can only be asked for as an alignment.
  if (page_size == 0) return MAP_ALIGNED_SUPER;
  return MAP_ALIGNED(log2_of(page_size));
}

int map_flags(uint32_t flags) {
  return (flags & kStack) ? MAP_STACK : 0;
}

Error after_map(uint8_t* address, size_t size, uint32_t flags) {
  if ((flags & kNoCoreDump) && madvise(address, size, MADV_NOCORE) != 0) {
    return Error{errno, "madvise"};
  }
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
    case Advice::kDontDump: return MADV_NOCORE;
    case Advice::kDoDump: return MADV_CORE;
    default: return -1;
  }
}

int exclusive_fixed_flags() { return MAP_FIXED | MAP_EXCL; }

Error remap(uint8_t*, size_t, size_t, bool, uint32_t, bool, uint8_t**, bool* done) {
  *done = false;
  return {};
}

// No mremap: remap() maps more of the file through a kept descriptor.
bool keeps_file_descriptor() { return true; }

}  // namespace kernel

Error lock_on_fault(uint8_t*, size_t) { return Error{Error::kUnsupported, "mlock2"}; }

std::vector<size_t> page_sizes() {
  size_t sizes[8] = {};
  int count = getpagesizes(sizes, 8);
  std::vector<size_t> result{page_size()};
  for (int i = 0; i < count; ++i) result.push_back(sizes[i]);
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

size_t default_huge_page_size() { return 0; }

int64_t free_huge_pages(size_t) { return -1; }

}  // namespace memmap::os
