// The memory areas of a process, as the OS reports them. One implementation per
// platform: areas_linux.cc (/proc/<pid>/maps), areas_macos.cc (Mach VM
// regions), areas_freebsd.cc (kinfo_getvmmap), areas_windows.cc
// (VirtualQueryEx).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "os.h"

namespace memmap::os {

// Addresses are 64-bit even in a 32-bit process: on Linux, a 32-bit process
// under a 64-bit kernel may list the areas of a 64-bit one.
struct Area {
  uint64_t start = 0;
  uint64_t end = 0;
  // Where the allocation this area belongs to begins: Windows' AllocationBase,
  // elsewhere `start` (POSIX kernels do not remember allocations).
  uint64_t allocation_base = 0;
  uint32_t protection = kNone;  // Access bits
  bool shared = false;
  // The file, or a pseudo path such as "[heap]", exactly as the OS shows it.
  std::optional<std::string> path;
  // For areas backed by a file: the offset into it of `start`. Windows does
  // not report it and gives the offset into the file view instead.
  std::optional<uint64_t> offset;
};

// Why no list came back: a failed OS call, or (Linux) a line of the kernel's
// listing that this parser does not understand. Never silently a short list.
struct AreasError {
  Error os;
  std::optional<std::string> malformed;  // the line that could not be parsed
  explicit operator bool() const { return static_cast<bool>(os) || malformed.has_value(); }
};

// The areas of process `pid` (0: this process) overlapping [start, end), in
// address order; the first may begin before `start`. A process that does not
// exist is ESRCH; one we may not inspect is EPERM or EACCES (on Windows the
// GetLastError() of OpenProcess: ERROR_INVALID_PARAMETER or
// ERROR_ACCESS_DENIED).
// The bounds are 64-bit on Linux, whose listing of another process goes past
// this process's pointers when that one is 64-bit and this one is not;
// elsewhere a process sees no further than its own pointers reach.
#if defined(__linux__)
using AreaBound = uint64_t;
#else
using AreaBound = uintptr_t;
#endif
AreasError list_areas(uint32_t pid, AreaBound start, AreaBound end, std::vector<Area>* out);

#if defined(__linux__)
// The areas in the text of a /proc/<pid>/maps file overlapping [start, end).
// A pure function, so that tests can feed it lines no live process has.
AreasError parse_proc_maps(std::string_view text, uint64_t start, uint64_t end,
                           std::vector<Area>* out);
#endif

// Keeps the areas, reported in address order, that overlap [start, end).
class AreaFilter {
 public:
  AreaFilter(uint64_t start, uint64_t end, std::vector<Area>* out)
      : start_(start), end_(end), out_(out) {}

  // Whether areas after this one may still overlap the range.
  bool add(Area area) {
    if (area.start >= end_ || start_ >= end_) return false;
    // A listing read in pieces (/proc/<pid>/maps, one read() at a time)
    // shows an area again when the process changed it between two reads:
    // the first sighting stands.
    if (area.start < listed_end_) return true;
    listed_end_ = area.end;
    if (area.end > start_) out_->push_back(std::move(area));
    return true;
  }

 private:
  uint64_t start_;
  uint64_t end_;
  uint64_t listed_end_ = 0;
  std::vector<Area>* out_;
};

}  // namespace memmap::os
