// The OS layer on POSIX systems. Kernel-specific pieces are in linux.cc,
// macos.cc and freebsd.cc behind posix.h.
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>


#include "os.h"
#include "posix.h"
#include "shared.h"

#if defined(__APPLE__)
#include <libkern/OSCacheControl.h>
#include <pthread.h>
#endif

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

// File offsets reach mmap(2) as off_t: in a 32-bit process it must be the
// 64-bit one (_FILE_OFFSET_BITS=64, as Node's common.gypi defines on Linux),
// or offsets above 2 GiB would be cut.
static_assert(sizeof(off_t) == 8, "build with -D_FILE_OFFSET_BITS=64: off_t must be 64 bits");

namespace memmap::os {

// POSIX keeps nothing per allocation: every piece unmaps its own pages. What
// is kept is what commit() needs to remake anonymous pages with the flags they
// were asked for.
struct Allocation {
  bool anonymous;
  int map_flags;   // mmap(2) flags of the request
  uint32_t flags;  // its MmapFlags
  bool ring = false;  // map_ring(): two views of one object, never merged
};

namespace {

Error fail(const char* syscall) { return Error{errno, syscall}; }

int prot_of(uint32_t access) {
  int prot = PROT_NONE;
  if (access & kRead) prot |= PROT_READ;
  if (access & kWrite) prot |= PROT_WRITE;
  if (access & kExec) prot |= PROT_EXEC;
  return prot;
}

int jit_flags(bool jit) {
#if defined(__APPLE__) && defined(MAP_JIT)
  return jit ? MAP_JIT : 0;
#else
  (void)jit;
  return 0;
#endif
}

// Reserves size + alignment bytes and trims them so that an aligned block of
// `size` bytes remains, reserved and inaccessible.
Error reserve_aligned(size_t size, size_t alignment, uint8_t** out) {
  // In a 32-bit process the sum can pass SIZE_MAX, and a wrapped sum would
  // reserve too little and unmap pages that are not ours when trimming.
  if (size > SIZE_MAX - alignment) return Error{ENOMEM, "mmap"};
  size_t padded = size + alignment;
  void* raw = mmap(nullptr, padded, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) return fail("mmap");
  uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = (start + alignment - 1) & ~(uintptr_t)(alignment - 1);
  size_t head = aligned - start;
  size_t tail = padded - head - size;
  if (head) munmap(raw, head);
  if (tail) munmap(reinterpret_cast<void*>(aligned + size), tail);
  *out = reinterpret_cast<uint8_t*>(aligned);
  return {};
}

}  // namespace

Error file_handle(int fd, FileHandle* out) {
  *out = fd;
  return {};
}

Error map(const MapRequest& request, Mapping* out) {
  bool anonymous = request.file < 0;
  int flags = (request.flags & kShared) ? MAP_SHARED : MAP_PRIVATE;
  if (anonymous) flags |= MAP_ANONYMOUS;
  flags |= kernel::map_flags(request.flags) | jit_flags(request.jit);
  if (request.flags & kHugePages) {
    bool supported = true;
    flags |= kernel::huge_page_flags(request.page_size, &supported);
    if (!supported) return Error{EINVAL, "mmap"};
  }
  // Commit applies the protection later; a reservation is inaccessible and,
  // for anonymous memory, takes no commit charge.
  int map_flags = flags;
  if (request.reserve) {
    flags &= ~kernel::map_flags(kPopulate | kLocked);
    if (anonymous) flags |= MAP_NORESERVE;
  }
  int prot = request.reserve ? PROT_NONE : prot_of(request.access);

  uint8_t* hint = reinterpret_cast<uint8_t*>(request.address);
  if (request.alignment) {
    Error error = reserve_aligned(request.size, request.alignment, &hint);
    if (error) return error;
    flags |= MAP_FIXED;
  } else if (request.fixed) {
    flags |= MAP_FIXED;
  }
  void* address = mmap(hint, request.size, prot, flags,
                       anonymous ? -1 : static_cast<int>(request.file),
                       static_cast<off_t>(request.offset));
  if (address == MAP_FAILED) {
    Error error = fail("mmap");
    if (request.alignment) munmap(hint, request.size);
    return error;
  }
  uint8_t* start = static_cast<uint8_t*>(address);
  // JavaScript writes the code through views, on this thread.
  if (request.jit) jit_write_mode(true);
  if (!request.reserve) {
    Error error = kernel::after_map(start, request.size, request.flags);
    if (error) {
      munmap(start, request.size);
      return error;
    }
  }
  out->address = start;
  out->size = request.size;
  out->allocation =
      std::make_shared<Allocation>(Allocation{anonymous, map_flags, request.flags});
  return {};
}

AllocationRef adopt(uint8_t*, size_t) {
  return std::make_shared<Allocation>(Allocation{false, 0, 0});
}

// Each piece unmaps its own pages, so adjacent pieces can merge, as long as
// commit() would remake them alike (a file piece must not become anonymous).
bool mergeable(const AllocationRef& a, const AllocationRef& b) {
  return a->anonymous == b->anonymous && a->map_flags == b->map_flags && !a->ring && !b->ring;
}

Error remap(const AllocationRef& allocation, uint8_t* address, size_t old_size,
            size_t new_size, uint32_t access, bool may_move, uint8_t** moved_to) {
  *moved_to = address;
  if (new_size == old_size) return {};
  bool done = false;
  Error error = kernel::remap(address, old_size, new_size, may_move, moved_to, &done);
  if (done || error) return error;
  // Without mremap: by hand.
  if (new_size < old_size) {
    if (munmap(address + new_size, old_size - new_size) != 0) return fail("munmap");
    return {};
  }
  // A file's pages would need the file's descriptor, which is not kept.
  if (!allocation->anonymous) return Error{Error::kUnsupported, "growing a file mapping (mremap is Linux's)"};
  int prot = prot_of(access);
  int flags = allocation->map_flags | MAP_ANONYMOUS;
  uint8_t* wanted = address + old_size;
  size_t more = new_size - old_size;
  void* tail = mmap(wanted, more, prot, flags | kernel::exclusive_fixed_flags(), -1, 0);
  if (tail == wanted) return {};
  if (tail != MAP_FAILED) munmap(tail, more);  // a hint the kernel placed elsewhere
  if (!may_move) return Error{Error::kCannotGrowInPlace, "mmap"};
  // Moved by copying: anonymous memory has no object to map again.
  void* moved = mmap(nullptr, new_size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (moved == MAP_FAILED) return fail("mmap");
  if (access & kRead) {
    memcpy(moved, address, old_size);
  } else if (access != kNone) {
    // Write- or execute-only pages cannot be read: not copied.
    munmap(moved, new_size);
    return Error{Error::kUnsupported, "moving pages that cannot be read"};
  }
  if (mprotect(moved, new_size, prot) != 0) {
    Error failed = fail("mprotect");
    munmap(moved, new_size);
    return failed;
  }
  munmap(address, old_size);
  *moved_to = static_cast<uint8_t*>(moved);
  return {};
}

Error residency(uint8_t* address, size_t size, uint8_t* pages) {
#if defined(__linux__)
  using Vector = unsigned char*;
#else
  using Vector = char*;
#endif
  if (mincore(address, size, reinterpret_cast<Vector>(pages)) != 0) return fail("mincore");
  for (size_t i = 0, count = (size + page_size() - 1) / page_size(); i < count; ++i) pages[i] &= 1;
  return {};
}

Error map_ring(size_t size, FileHandle shared_memory, uint64_t offset, uint32_t access,
               Mapping* out) {
  if (size > SIZE_MAX / 2) return Error{ENOMEM, "mmap"};
  FileHandle object = shared_memory;
  if (shared_memory < 0) {
    Error error = shm_create("", size, false, &object);
    if (error) return error;
  }
  // Both halves go into one reservation of their own, so that no other
  // thread's mapping can ever land between them.
  void* base = mmap(nullptr, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  Error error;
  if (base == MAP_FAILED) {
    error = fail("mmap");
  } else {
    for (size_t half = 0; half < 2 && !error; ++half) {
      void* at = mmap(static_cast<uint8_t*>(base) + half * size, size, prot_of(access),
                      MAP_SHARED | MAP_FIXED, static_cast<int>(object), static_cast<off_t>(offset));
      if (at == MAP_FAILED) error = fail("mmap");
    }
    if (error) munmap(base, 2 * size);
  }
  // The mappings keep the object; a descriptor of our own is not needed.
  if (shared_memory < 0) shm_close(object);
  if (error) return error;
  out->address = static_cast<uint8_t*>(base);
  out->size = 2 * size;
  out->allocation = std::make_shared<Allocation>(Allocation{false, MAP_SHARED, kShared, true});
  return {};
}

Error unmap(const AllocationRef&, uint8_t* address, size_t size) {
  if (munmap(address, size) != 0) return fail("munmap");
  return {};
}

Error commit(const AllocationRef& allocation, uint8_t* address, size_t size,
             uint32_t access) {
  if (allocation->anonymous) {
    // Remapping in place gives the pages the accounting and flags they would
    // have had if mapped directly; nothing was ever stored in them.
    void* remapped = mmap(address, size, prot_of(access),
                          allocation->map_flags | MAP_FIXED, -1, 0);
    if (remapped == MAP_FAILED) return fail("mmap");
  } else if (mprotect(address, size, prot_of(access)) != 0) {
    return fail("mprotect");
  }
  Error error = kernel::after_map(address, size, allocation->flags);
  if (error) {
    // Back to reserved, so that a failed commit leaves the handle as it was.
    if (allocation->anonymous) {
      mmap(address, size, PROT_NONE,
           (allocation->map_flags | MAP_FIXED | MAP_NORESERVE) &
               ~kernel::map_flags(kPopulate | kLocked),
           -1, 0);
    } else {
      mprotect(address, size, PROT_NONE);
    }
  }
  return error;
}

Error protect(const AllocationRef&, uint8_t* address, size_t size,
              uint32_t access) {
  if (mprotect(address, size, prot_of(access)) != 0) return fail("mprotect");
  return {};
}

Error flush(const AllocationRef&, uint8_t* address, size_t size, bool sync) {
  if (msync(address, size, sync ? MS_SYNC : MS_ASYNC) != 0) return fail("msync");
  return {};
}

Error lock(uint8_t* address, size_t size) {
  if (mlock(address, size) != 0) return fail("mlock");
  return {};
}

Error unlock(uint8_t* address, size_t size) {
  if (munlock(address, size) != 0) return fail("munlock");
  return {};
}

Error advise(uint8_t* address, size_t size, Advice advice) {
  int value = kernel::advice_value(advice);
  if (value < 0) return Error{Error::kUnsupported, "madvise"};
  if (madvise(address, size, value) != 0) return fail("madvise");
  return {};
}

void jit_write_mode(bool writable) {
#if defined(__APPLE__) && defined(__aarch64__)
  if (pthread_jit_write_protect_supported_np()) pthread_jit_write_protect_np(writable ? 0 : 1);
#else
  (void)writable;
#endif
}

void flush_icache(uint8_t* address, size_t size) {
#if defined(__APPLE__)
  sys_icache_invalidate(address, size);
#else
  __builtin___clear_cache(reinterpret_cast<char*>(address),
                          reinterpret_cast<char*>(address + size));
#endif
}

Error is_mapped(uint8_t* address, size_t size, bool* mapped) {
  // msync(2) fails with ENOMEM when part of the range is unmapped, whatever
  // the protection; MS_ASYNC asks for nothing (a no-op since Linux 2.6.19).
  // Unlike mincore(2), emulators such as qemu-user pass it to the kernel.
  if (msync(address, size, MS_ASYNC) == 0) {
    *mapped = true;
    return {};
  }
  if (errno == ENOMEM) {
    *mapped = false;
    return {};
  }
  return fail("msync");
}

size_t page_size() {
  static const size_t size = [] {
    long value = sysconf(_SC_PAGESIZE);
    return value > 0 ? static_cast<size_t>(value) : size_t{4096};
  }();
  return size;
}

size_t allocation_granularity() { return page_size(); }

namespace {

struct ErrnoName {
  int value;
  const char* name;
};

// The errno values memory calls produce, by name as Node spells them.
const ErrnoName kErrnoNames[] = {
    {EPERM, "EPERM"},     {ENOENT, "ENOENT"},       {ESRCH, "ESRCH"},
    {EINTR, "EINTR"},     {EIO, "EIO"},             {ENXIO, "ENXIO"},
    {EBADF, "EBADF"},     {EAGAIN, "EAGAIN"},       {ENOMEM, "ENOMEM"},
    {EACCES, "EACCES"},   {EFAULT, "EFAULT"},       {EBUSY, "EBUSY"},
    {EEXIST, "EEXIST"},   {ENODEV, "ENODEV"},       {EINVAL, "EINVAL"},
    {ENFILE, "ENFILE"},   {EMFILE, "EMFILE"},       {ETXTBSY, "ETXTBSY"},
    {EFBIG, "EFBIG"},     {ENOSPC, "ENOSPC"},       {EROFS, "EROFS"},
    {ENOSYS, "ENOSYS"},   {EOVERFLOW, "EOVERFLOW"}, {ENOTSUP, "ENOTSUP"},
    {EOPNOTSUPP, "EOPNOTSUPP"}, {ELOOP, "ELOOP"}, {EISDIR, "EISDIR"},
    {ENOTDIR, "ENOTDIR"}, {ENAMETOOLONG, "ENAMETOOLONG"}, {EDQUOT, "EDQUOT"},
    {ETIMEDOUT, "ETIMEDOUT"}, {ENOTTY, "ENOTTY"}, {ESPIPE, "ESPIPE"},
    {EMLINK, "EMLINK"}, {EXDEV, "EXDEV"}, {ENOEXEC, "ENOEXEC"},
};

}  // namespace

ErrorText describe(const Error& error) {
  if (error.code == Error::kNoSuchProcess) return {"ESRCH", -ESRCH, strerror(ESRCH)};
  const char* name = "UNKNOWN";
  for (const ErrnoName& entry : kErrnoNames) {
    if (entry.value == error.code) {
      name = entry.name;
      break;
    }
  }
  return {name, -error.code, strerror(error.code)};
}

}  // namespace memmap::os
