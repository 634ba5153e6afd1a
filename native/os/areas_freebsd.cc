// Memory areas on FreeBSD: kinfo_getvmmap(3) from libutil.
#include <sys/types.h>
#include <sys/user.h>
#include <errno.h>
#include <libutil.h>
#include <stdlib.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <memory>

#include "areas.h"

namespace memmap::os {

namespace {

struct FreeDeleter {
  void operator()(kinfo_vmentry* entries) const { free(entries); }
};

Area area_of(const kinfo_vmentry& entry) {
  Area area;
  area.start = static_cast<uintptr_t>(entry.kve_start);
  area.end = static_cast<uintptr_t>(entry.kve_end);
  area.allocation_base = area.start;
  area.protection = ((entry.kve_protection & KVME_PROT_READ) ? kRead : kNone) |
                    ((entry.kve_protection & KVME_PROT_WRITE) ? kWrite : kNone) |
                    ((entry.kve_protection & KVME_PROT_EXEC) ? kExec : kNone);
  // Copy-on-write entries are private; otherwise an entry shares its object
  // when that is a file or other entries map it too.
  bool copy = (entry.kve_flags & (KVME_FLAG_COW | KVME_FLAG_NEEDS_COPY)) != 0;
  area.shared = !copy && (entry.kve_type == KVME_TYPE_VNODE || entry.kve_shadow_count > 1);
  size_t length = strnlen(entry.kve_path, sizeof entry.kve_path);
  if (length > 0) area.path = std::string(entry.kve_path, length);
  if (entry.kve_type == KVME_TYPE_VNODE) area.offset = static_cast<uint64_t>(entry.kve_offset);
  return area;
}

}  // namespace

AreasError list_areas(uint32_t pid, uintptr_t start, uintptr_t end, std::vector<Area>* out) {
  if (pid > INT_MAX) return {Error{ESRCH, "kinfo_getvmmap"}, {}};
  int count = 0;
  std::unique_ptr<kinfo_vmentry, FreeDeleter> entries(
      kinfo_getvmmap(pid == 0 ? getpid() : static_cast<pid_t>(pid), &count));
  if (!entries) return {Error{errno, "kinfo_getvmmap"}, {}};
  AreaFilter filter(start, end, out);
  for (int i = 0; i < count; ++i) {
    if (!filter.add(area_of(entries.get()[i]))) break;
  }
  return {};
}

}  // namespace memmap::os
