// Memory areas on macOS: the VM regions of the process's Mach task, descending
// into submaps (the shared cache lives in one).
#include <errno.h>
#include <mach/mach.h>
#if __has_include(<libproc.h>)
#include <libproc.h>
#endif
#if __has_include(<mach/mach_vm.h>)
#include <mach/mach_vm.h>
#endif
#include <signal.h>
#include <unistd.h>

#include <climits>

#include "areas.h"
#include "apple_missing.h"  // what a cross toolchain's headers lack (Zig's: mach_vm.h)

namespace memmap::os {

namespace {

AreasError walk(mach_port_t task, pid_t pid, uintptr_t start, uintptr_t end,
                std::vector<Area>* out) {
  AreaFilter filter(start, end, out);
  mach_vm_address_t address = start;
  natural_t depth = 0;
  while (address < end) {
    mach_vm_size_t size = 0;
    vm_region_submap_info_data_64_t info;
    mach_msg_type_number_t count = VM_REGION_SUBMAP_INFO_COUNT_64;
    // Returns the region containing `address`, or else the next one above it,
    // and moves `address` to its start.
    kern_return_t status = mach_vm_region_recurse(
        task, &address, &size, &depth, reinterpret_cast<vm_region_recurse_info_t>(&info), &count);
    if (status == KERN_INVALID_ADDRESS) break;  // nothing mapped at or above
    if (status != KERN_SUCCESS) return {Error{EIO, "mach_vm_region_recurse"}, {}};
    if (info.is_submap) {
      ++depth;
      continue;
    }
    Area area;
    area.start = static_cast<uintptr_t>(address);
    area.end = static_cast<uintptr_t>(address + size);
    area.allocation_base = area.start;
    area.protection = ((info.protection & VM_PROT_READ) ? kRead : kNone) |
                      ((info.protection & VM_PROT_WRITE) ? kWrite : kNone) |
                      ((info.protection & VM_PROT_EXECUTE) ? kExec : kNone);
    // mmap(MAP_SHARED) is what marks a region to be shared with children.
    area.shared = info.inheritance == VM_INHERIT_SHARE;
    char path[PROC_PIDPATHINFO_MAXSIZE];
    int length = proc_regionfilename(pid, address, path, sizeof path);
    if (length > 0) {
      area.path = std::string(path, static_cast<size_t>(length));
      area.offset = info.offset;
    }
    if (!filter.add(std::move(area))) break;
    if (address + size <= address) break;  // the top of the address space
    address += size;
  }
  return {};
}

}  // namespace

AreasError list_areas(uint32_t pid, uintptr_t start, uintptr_t end, std::vector<Area>* out) {
  if (pid == 0) return walk(mach_task_self(), getpid(), start, end, out);
  if (pid > INT_MAX) return {Error{ESRCH, "task_for_pid"}, {}};
  pid_t target = static_cast<pid_t>(pid);
  // task_for_pid fails alike for a missing process and a forbidden one.
  if (kill(target, 0) != 0 && errno == ESRCH) return {Error{ESRCH, "kill"}, {}};
  mach_port_t task = MACH_PORT_NULL;
  if (task_for_pid(mach_task_self(), target, &task) != KERN_SUCCESS) {
    return {Error{EPERM, "task_for_pid"}, {}};
  }
  AreasError result = walk(task, target, start, end, out);
  mach_port_deallocate(mach_task_self(), task);
  return result;
}

}  // namespace memmap::os
