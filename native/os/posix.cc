// The OS layer on POSIX systems. Kernel-specific pieces are in linux.cc,
// macos.cc and freebsd.cc behind posix.h.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

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

namespace {

// Pages [start, start + size) map the file from `offset` on.
struct FileRun {
  uintptr_t start;
  size_t size;
  uint64_t offset;
};

}  // namespace

// Every piece unmaps its own pages. What is kept per allocation is what
// commit() needs to remake anonymous pages with the flags they were asked
// for, and, where the kernel has no mremap (kernel::keeps_file_descriptor()),
// what remap() needs to map more of a file: a descriptor of the file.
struct Allocation {
  Allocation(bool is_anonymous, int mmap_flags, uint32_t mmap_rs_flags, bool is_ring = false)
      : anonymous(is_anonymous), map_flags(mmap_flags), flags(mmap_rs_flags), ring(is_ring) {}
  Allocation(const Allocation&) = delete;
  Allocation& operator=(const Allocation&) = delete;
  // The last piece of the allocation is unmapped, or given up (intoRaw(), a
  // merge): the descriptor is closed here, once. Raw pages keep their file
  // without it, as every mapping does; adopted again, they are pages of an
  // allocation without one (they never grow here). An allocation a region
  // keeps for the life of the process (its pages escaped to another thread
  // at teardown) keeps its descriptor as long.
  ~Allocation() {
    if (descriptor >= 0) close(descriptor);
  }

  const bool anonymous;
  const int map_flags;   // mmap(2) flags of the request
  const uint32_t flags;  // its MmapFlags
  const bool ring;       // map_ring(): two views of one object, never merged
  // A file mapping where the kernel has no mremap: this allocation's own
  // close-on-exec duplicate of the file's descriptor (-1 if the duplicate
  // failed: then `descriptor_error` is its errno, and the pages never grow),
  // and which bytes of the file each of its pages maps (pieces move apart).
  // Both are set by map() before anyone else sees the allocation; `runs`
  // changes only under `mutex`, held across the mmap/munmap calls that make
  // them true (pieces of one allocation may live in different threads).
  bool keeps_file = false;
  int descriptor = -1;
  int descriptor_error = 0;
  std::mutex mutex;
  std::vector<FileRun> runs;
  // Whether any page was ever writable: a copy-on-write file mapping that
  // never was has no private changes, and may be mapped anew from the file.
  std::atomic<bool> ever_writable{false};
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

// The runs no longer map [start, start + size): cut out of whatever they
// covered.
void forget_run(std::vector<FileRun>& runs, uintptr_t start, size_t size) {
  uintptr_t end = start + size;
  std::vector<FileRun> kept;
  kept.reserve(runs.size() + 1);
  for (const FileRun& run : runs) {
    uintptr_t run_end = run.start + run.size;
    if (run_end <= start || run.start >= end) {
      kept.push_back(run);
      continue;
    }
    if (run.start < start) kept.push_back({run.start, start - run.start, run.offset});
    if (run_end > end) kept.push_back({end, run_end - end, run.offset + (end - run.start)});
  }
  runs.swap(kept);
}

// [start, start + size) now maps the file from `offset` on, whatever was
// known of those addresses before.
void remember_run(std::vector<FileRun>& runs, uintptr_t start, size_t size, uint64_t offset) {
  forget_run(runs, start, size);
  for (FileRun& run : runs) {
    if (run.start + run.size == start && run.offset + run.size == offset) {
      run.size += size;  // continues this run: grown in place
      return;
    }
  }
  runs.push_back({start, size, offset});
}

const FileRun* run_at(const std::vector<FileRun>& runs, uintptr_t address) {
  for (const FileRun& run : runs) {
    if (address >= run.start && address - run.start < run.size) return &run;
  }
  return nullptr;
}

// Whether [start, start + size) maps one stretch of the file, and from which
// offset (not so once a piece that moved was merged with one that did not).
bool one_stretch(const std::vector<FileRun>& runs, uintptr_t start, size_t size,
                 uint64_t* offset) {
  const FileRun* first = run_at(runs, start);
  if (!first) return false;
  *offset = first->offset + (start - first->start);
  uint64_t expected = *offset;
  for (uintptr_t at = start, end = start + size; at < end;) {
    const FileRun* run = run_at(runs, at);
    if (!run || run->offset + (at - run->start) != expected) return false;
    size_t step = std::min<uintptr_t>(run->start + run->size, end) - at;
    at += step;
    expected += step;
  }
  return true;
}

// remap() growing a piece of a file allocation where the kernel has no
// mremap: the next bytes of the file are mapped right after the piece
// through the allocation's own descriptor, never replacing anything; else,
// with `may_move`, the whole new range is mapped anew elsewhere from the
// file and the old pages unmapped. Nothing is copied: a shared mapping's
// pages are the file's. A copy-on-write mapping that was ever writable may
// hold private changes, which a new mapping would lose: it does not move.
Error grow_file(Allocation& allocation, uint8_t* address, size_t old_size, size_t new_size,
                uint32_t access, bool reserved, bool may_move, uint8_t** moved_to) {
  if (!allocation.keeps_file) {
    return Error{Error::kUnsupported, "growing pages adopted with mapFromExisting() (mremap is Linux's)"};
  }
  if (allocation.descriptor < 0) {
    // The duplicate failed when mapping (EMFILE, say); the file's own
    // descriptor may be long closed.
    // (Never code 0, which would read as success.)
    return Error{allocation.descriptor_error ? allocation.descriptor_error : EBADF,
                 "fcntl(F_DUPFD_CLOEXEC) when mapping, so no descriptor of the file was kept "
                 "to grow the mapping with"};
  }
  std::lock_guard<std::mutex> hold(allocation.mutex);
  uintptr_t start = reinterpret_cast<uintptr_t>(address);
  size_t more = new_size - old_size;
  const FileRun* last = run_at(allocation.runs, start + old_size - 1);
  if (!last) return Error{Error::kUnsupported, "growing a file mapping whose pages are not known"};
  uint64_t next = last->offset + (start + old_size - last->start);
  // The file's end as off_t sees it (a moved piece starts `old_size` before
  // `next`, so this bounds it too).
  if (more > static_cast<uint64_t>(INT64_MAX) || next > static_cast<uint64_t>(INT64_MAX) - more) {
    return Error{EOVERFLOW, "mmap"};
  }
  int prot = prot_of(access);
  int flags = allocation.map_flags;
  // Reserved pages grow reserved, as map() reserves them.
  if (reserved) flags &= ~kernel::map_flags(kPopulate | kLocked);
  if (access & kWrite) allocation.ever_writable = true;

  uint8_t* wanted = address + old_size;
  void* tail = mmap(wanted, more, prot, flags | kernel::exclusive_fixed_flags(),
                    allocation.descriptor, static_cast<off_t>(next));
  if (tail == wanted) {
    Error error = reserved ? Error{} : kernel::after_map(wanted, more, allocation.flags);
    if (error) {
      munmap(wanted, more);
      return error;
    }
    remember_run(allocation.runs, start + old_size, more, next);
    return {};
  }
  if (tail != MAP_FAILED) {
    munmap(tail, more);  // a hint the kernel placed elsewhere (macOS)
  } else if (errno != ENOMEM && errno != EEXIST) {
    // Not the range being taken (FreeBSD's MAP_EXCL says ENOMEM, Linux's
    // MAP_FIXED_NOREPLACE EEXIST; a hint never fails for its place): the
    // file refuses.
    return fail("mmap");
  }
  if (!may_move) return Error{Error::kCannotGrowInPlace, "mmap"};
  if (!(allocation.map_flags & MAP_SHARED) && allocation.ever_writable) {
    return Error{Error::kUnsupported,
                 "moving a copy-on-write file mapping that has been writable (a new mapping of "
                 "the file would lose its private changes)"};
  }
  uint64_t first = 0;
  if (!one_stretch(allocation.runs, start, old_size, &first)) {
    return Error{Error::kUnsupported,
                 "moving a file mapping whose pages are not one stretch of the file"};
  }
  void* moved = mmap(nullptr, new_size, prot, flags, allocation.descriptor,
                     static_cast<off_t>(first));
  if (moved == MAP_FAILED) return fail("mmap");
  if (!reserved) {
    Error error = kernel::after_map(static_cast<uint8_t*>(moved), new_size, allocation.flags);
    if (error) {
      munmap(moved, new_size);
      return error;
    }
  }
  if (munmap(address, old_size) != 0) {
    Error error = fail("munmap");
    munmap(moved, new_size);
    return error;
  }
  forget_run(allocation.runs, start, old_size);
  remember_run(allocation.runs, reinterpret_cast<uintptr_t>(moved), new_size, first);
  *moved_to = static_cast<uint8_t*>(moved);
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
  auto allocation = std::make_shared<Allocation>(anonymous, map_flags, request.flags);
  if (!request.reserve && (request.access & kWrite)) allocation->ever_writable = true;
  if (!anonymous && kernel::keeps_file_descriptor()) {
    // Duplicated only once nothing can fail any more, straight into the
    // allocation that closes it. A failed duplicate does not fail the
    // mapping (mmap needs no descriptor of its own): the pages only cannot
    // grow, and remap() says why.
    allocation->keeps_file = true;
    allocation->descriptor = fcntl(static_cast<int>(request.file), F_DUPFD_CLOEXEC, 0);
    if (allocation->descriptor < 0) allocation->descriptor_error = errno;
    allocation->runs.push_back({reinterpret_cast<uintptr_t>(start), request.size, request.offset});
  }
  out->address = start;
  out->size = request.size;
  out->allocation = std::move(allocation);
  return {};
}

AllocationRef adopt(uint8_t*, size_t) {
  return std::make_shared<Allocation>(false, 0, 0);
}

// Each piece unmaps its own pages, so adjacent pieces can merge, as long as
// commit() would remake them alike (a file piece must not become anonymous).
// A file allocation that keeps its descriptor grows through it from what its
// own pages map: pages of another allocation in the same handle would be
// unknown to it (or, once given up by intoRaw() and mapped again, wrongly
// known), so it merges only with its own pieces.
bool mergeable(const AllocationRef& a, const AllocationRef& b) {
  if ((a->keeps_file || b->keeps_file) && a != b) return false;
  return a->anonymous == b->anonymous && a->map_flags == b->map_flags && !a->ring && !b->ring;
}

Error remap(const AllocationRef& allocation, uint8_t* address, size_t old_size,
            size_t new_size, uint32_t access, bool reserved, bool may_move, uint8_t** moved_to) {
  *moved_to = address;
  if (new_size == old_size) return {};
  bool done = false;
  Error error = kernel::remap(address, old_size, new_size, allocation->anonymous, allocation->flags,
                              may_move, moved_to, &done);
  if (done || error) return error;
  // By hand. Only whole pages go: the page that holds the new last byte
  // stays (a size need not be a page multiple).
  if (new_size < old_size) {
    const size_t page = page_size();
    uint8_t* const kept_end = address + (new_size + page - 1) / page * page;
    uint8_t* const old_end = address + old_size;
    return kept_end < old_end ? unmap(allocation, kept_end, old_end - kept_end) : Error{};
  }
  if (!allocation->anonymous) {
    return grow_file(*allocation, address, old_size, new_size, access, reserved, may_move,
                     moved_to);
  }
  int prot = prot_of(access);
  int flags = allocation->map_flags | MAP_ANONYMOUS;
  // Reserved pages take no commit charge, nor huge pages from the pool,
  // until they are touched, as map() reserves them. Committed pages made
  // inaccessible (makeNone()) keep theirs, and so does what they gain.
  if (reserved) flags |= MAP_NORESERVE;
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
  out->allocation = std::make_shared<Allocation>(false, MAP_SHARED, kShared, true);
  return {};
}

Error unmap(const AllocationRef& allocation, uint8_t* address, size_t size) {
  if (allocation && allocation->keeps_file) {
    // Forgotten under the lock with the munmap, so that no other piece's
    // remap() can map these addresses anew in between and lose its run.
    std::lock_guard<std::mutex> hold(allocation->mutex);
    if (munmap(address, size) != 0) return fail("munmap");
    forget_run(allocation->runs, reinterpret_cast<uintptr_t>(address), size);
    return {};
  }
  if (munmap(address, size) != 0) return fail("munmap");
  return {};
}

Error commit(const AllocationRef& allocation, uint8_t* address, size_t size,
             uint32_t access) {
  // Before the call: a failure may have left some pages writable.
  if (access & kWrite) allocation->ever_writable = true;
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

Error protect(const AllocationRef& allocation, uint8_t* address, size_t size,
              uint32_t access) {
  // Before the call: a failure may have left some pages writable.
  if (allocation && (access & kWrite)) allocation->ever_writable = true;
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
