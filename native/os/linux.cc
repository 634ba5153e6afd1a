// Linux (and Android) parts of the POSIX layer.
#include <dirent.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "os.h"
#include "posix.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 0x01
#endif

namespace memmap::os {

namespace {

const char kHugePagesDir[] = "/sys/kernel/mm/hugepages";

}  // namespace

namespace kernel {

int huge_page_flags(size_t page_size, bool* supported) {
  *supported = true;
  if (page_size == 0) return MAP_HUGETLB;
  // The size travels as its log2 in bits 26..31 of the flags.
  return MAP_HUGETLB | (log2_of(page_size) << MAP_HUGE_SHIFT);
}

int map_flags(uint32_t flags) {
  int result = 0;
  if (flags & kPopulate) result |= MAP_POPULATE;
  if (flags & kNoReserve) result |= MAP_NORESERVE;
  if (flags & kStack) result |= MAP_STACK;
  if (flags & kLocked) result |= MAP_LOCKED;
  return result;
}

Error after_map(uint8_t* address, size_t size, uint32_t flags) {
  struct Hint {
    uint32_t flag;
    int advice;
  };
  static const Hint kHints[] = {
      {kNoCoreDump, MADV_DONTDUMP}, {kTransparentHugePages, MADV_HUGEPAGE},
      {kSequential, MADV_SEQUENTIAL}, {kRandomAccess, MADV_RANDOM},
      {kWillNeed, MADV_WILLNEED},   {kDontNeed, MADV_DONTNEED},
  };
  for (const Hint& hint : kHints) {
    if ((flags & hint.flag) && madvise(address, size, hint.advice) != 0) {
      return Error{errno, "madvise"};
    }
  }
  return {};
}

int advice_value(Advice advice) {
  switch (advice) {
    case Advice::kNormal: return MADV_NORMAL;
    case Advice::kRandom: return MADV_RANDOM;
    case Advice::kSequential: return MADV_SEQUENTIAL;
    case Advice::kWillNeed: return MADV_WILLNEED;
    case Advice::kDontNeed: return MADV_DONTNEED;
    case Advice::kFree: return 8;         // MADV_FREE, Linux 4.5
    case Advice::kRemove: return MADV_REMOVE;
    case Advice::kCold: return 20;        // MADV_COLD, Linux 5.4
    case Advice::kPageOut: return 21;     // MADV_PAGEOUT, Linux 5.4
    case Advice::kHugePage: return MADV_HUGEPAGE;
    case Advice::kNoHugePage: return MADV_NOHUGEPAGE;
    case Advice::kDontFork: return MADV_DONTFORK;
    case Advice::kDoFork: return MADV_DOFORK;
    case Advice::kDontDump: return MADV_DONTDUMP;
    case Advice::kDoDump: return MADV_DODUMP;
    case Advice::kMergeable: return MADV_MERGEABLE;
    case Advice::kUnmergeable: return MADV_UNMERGEABLE;
  }
  return -1;
}

int exclusive_fixed_flags() {
  // Linux 4.17; older kernels take it as a hint, which is checked anyway.
#ifdef MAP_FIXED_NOREPLACE
  return MAP_FIXED_NOREPLACE;
#else
  return 0x100000;
#endif
}

Error remap(uint8_t* address, size_t old_size, size_t new_size, bool anonymous, uint32_t flags,
            bool may_move, uint8_t** out, bool* done) {
  // mremap refuses to grow hugetlb mappings (EINVAL): anonymous huge pages
  // grow by hand, as everything does where the kernel has no mremap.
  *done = !(anonymous && (flags & kHugePages) && new_size > old_size);
  if (!*done) return {};
  void* moved = mremap(address, old_size, new_size, may_move ? MREMAP_MAYMOVE : 0);
  if (moved == MAP_FAILED) {
    // Without MREMAP_MAYMOVE, ENOMEM says the range after it is taken.
    if (errno == ENOMEM && !may_move && new_size > old_size) {
      return Error{Error::kCannotGrowInPlace, "mremap"};
    }
    return Error{errno, "mremap"};
  }
  *out = static_cast<uint8_t*>(moved);
  return {};
}

// mremap() grows and moves file mappings: no descriptor is kept.
bool keeps_file_descriptor() { return false; }

}  // namespace kernel

Error lock_on_fault(uint8_t* address, size_t size) {
  // Through syscall(2): glibc before 2.27 has no mlock2 wrapper.
  if (syscall(SYS_mlock2, address, size, MLOCK_ONFAULT) != 0) {
    return Error{errno == ENOSYS ? Error::kUnsupported : errno, "mlock2"};
  }
  return {};
}

std::vector<size_t> page_sizes() {
  std::vector<size_t> sizes{page_size()};
  if (DIR* dir = opendir(kHugePagesDir)) {
    while (dirent* entry = readdir(dir)) {
      unsigned long long kib = 0;
      // A size a 32-bit process cannot map (16 GiB pages under an arm64
      // kernel with 64 KiB pages) would wrap around to a small one.
      if (sscanf(entry->d_name, "hugepages-%llukB", &kib) == 1 && kib <= SIZE_MAX / 1024) {
        sizes.push_back(static_cast<size_t>(kib) * 1024);
      }
    }
    closedir(dir);
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

size_t default_huge_page_size() {
  FILE* file = fopen("/proc/meminfo", "r");
  if (!file) return 0;
  char line[256];
  unsigned long long kib = 0;
  while (fgets(line, sizeof line, file) && sscanf(line, "Hugepagesize: %llu kB", &kib) != 1) {
  }
  fclose(file);
  // One that does not fit this process's size_t is none it can use.
  return kib <= SIZE_MAX / 1024 ? static_cast<size_t>(kib) * 1024 : 0;
}

int64_t free_huge_pages(size_t size) {
  char path[128];
  snprintf(path, sizeof path, "%s/hugepages-%zukB/free_hugepages",
           kHugePagesDir, size / 1024);
  FILE* file = fopen(path, "r");
  if (!file) return -1;
  long long count = -1;
  if (fscanf(file, "%lld", &count) != 1) count = -1;
  fclose(file);
  return count;
}

}  // namespace memmap::os
