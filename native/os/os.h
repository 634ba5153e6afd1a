// The operating-system layer: plain C++ over the OS, no Node-API types.
//
// Every platform family implements exactly these functions in one file
// (posix.cc with small linux.cc / macos.cc / freebsd.cc parts, windows.cc).
// Rules that are the same everywhere (argument validation, bounds, the
// typestate) live in the TypeScript layer; by the time a call arrives here its
// ranges are inside the mapping and page aligned where the OS needs that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace memmap::os {

// Protection bits, numerically those of mmap-rs's `Protection`.
enum Access : uint32_t {
  kNone = 0,
  kRead = 1u << 0,
  kWrite = 1u << 1,
  kExec = 1u << 3,
};

// MmapFlags bits, numerically those of mmap-rs.
enum Flag : uint32_t {
  kShared = 1u << 0,
  kPopulate = 1u << 1,
  kNoReserve = 1u << 2,
  kHugePages = 1u << 3,
  kStack = 1u << 4,
  kNoCoreDump = 1u << 5,
  kLocked = 1u << 6,
  kTransparentHugePages = 1u << 7,
  kSequential = 1u << 8,
  kRandomAccess = 1u << 9,
  kWillNeed = 1u << 10,
  kDontNeed = 1u << 11,
};

// madvise-style advice; the order is the public API's list of names.
enum class Advice : uint32_t {
  kNormal, kRandom, kSequential, kWillNeed, kDontNeed, kFree, kRemove,
  kCold, kPageOut, kHugePage, kNoHugePage, kDontFork, kDoFork, kDontDump,
  kDoDump, kMergeable, kUnmergeable,
};

// A failed OS call. `code` is errno on POSIX and GetLastError() on Windows;
// kUnsupported marks an operation this platform does not have at all.
struct Error {
  static constexpr int kUnsupported = -1;
  // The process asked about does not exist (Windows has no code of its own).
  static constexpr int kNoSuchProcess = -2;
  // remap(): the range after the mapping is taken, and moving was not allowed.
  static constexpr int kCannotGrowInPlace = -3;
  int code = 0;
  const char* syscall = nullptr;
  explicit operator bool() const { return code != 0; }
};

// How an Error reads in JavaScript: the errno name (ENOMEM, EACCES, ...), the
// negative errno number as Node's fs errors carry it, and the OS's message.
struct ErrorText {
  const char* name;
  int errno_value;
  std::string message;
};
ErrorText describe(const Error& error);

// An OS file handle: a descriptor on POSIX, a HANDLE on Windows.
using FileHandle = intptr_t;
// The OS handle behind a Node file descriptor (on Windows a libuv CRT
// descriptor, resolved through the host's uv_get_osfhandle).
Error file_handle(int fd, FileHandle* out);

// One allocation as the OS made it. Pieces of it (after a split) share it;
// when the last piece lets go, its destructor releases whatever the platform
// keeps per allocation (on Windows the reservation or the file view; on POSIX
// each piece unmaps its own pages, and where there is no mremap (macOS,
// FreeBSD) a file mapping's allocation holds a duplicate of its descriptor).
struct Allocation;
using AllocationRef = std::shared_ptr<Allocation>;

struct MapRequest {
  size_t size = 0;
  uintptr_t address = 0;   // 0: anywhere; else a hint, or exact with `fixed`
  bool fixed = false;
  size_t alignment = 0;    // 0: none; else a power of two >= the page size
  FileHandle file = -1;    // -1: anonymous memory
  bool shared_memory = false;  // `file` is a shared-memory object (shared.h)
  uint64_t offset = 0;     // file offset, a multiple of allocation_granularity()
  uint32_t access = kNone;
  uint32_t flags = 0;      // Flag bits
  size_t page_size = 0;    // with kHugePages: 0 for the default huge page size
  bool jit = false;        // RWX allowed (MAP_JIT on Apple)
  bool reserve = false;    // address space only; commit() makes it usable
};

struct Mapping {
  uint8_t* address = nullptr;
  size_t size = 0;
  AllocationRef allocation;
};

// Maps or reserves. On error nothing stays mapped.
Error map(const MapRequest& request, Mapping* out);
// Whether pieces of these two allocations may become one handle.
bool mergeable(const AllocationRef& a, const AllocationRef& b);
// Releases one piece [address, address + size) of an allocation.
Error unmap(const AllocationRef& allocation, uint8_t* address, size_t size);
// Commits reserved pages with `access`.
Error commit(const AllocationRef& allocation, uint8_t* address, size_t size,
             uint32_t access);
Error protect(const AllocationRef& allocation, uint8_t* address, size_t size,
              uint32_t access);
// Writes dirty pages back; `sync` waits until they are durable.
Error flush(const AllocationRef& allocation, uint8_t* address, size_t size,
            bool sync);
Error lock(uint8_t* address, size_t size);
Error lock_on_fault(uint8_t* address, size_t size);
Error unlock(uint8_t* address, size_t size);
Error advise(uint8_t* address, size_t size, Advice advice);
void flush_icache(uint8_t* address, size_t size);
// On Apple silicon, MAP_JIT pages are writable or executable, per thread:
// this thread's choice (pthread_jit_write_protect_np). Elsewhere nothing.
void jit_write_mode(bool writable);
// Whether every page of the range is mapped in this process.
Error is_mapped(uint8_t* address, size_t size, bool* mapped);
// Adopts pages mapped by someone else, so that unmap() can release them.
AllocationRef adopt(uint8_t* address, size_t size);

// Resizes the piece [address, address + old_size) of `allocation` to
// `new_size` bytes (for huge pages, multiples of the huge page size the
// piece was mapped with; otherwise any size, the pages behind it whole):
// shrinking releases the whole pages past the new end, never the page that
// holds the new last byte; growing maps the range
// right after it only if that is free (never replacing anything), else, with
// `may_move`, moves the whole piece elsewhere (Linux: mremap, except for
// growing huge pages, which are copied; Windows and the BSDs: anonymous
// memory is copied, a file is mapped anew); else
// kCannotGrowInPlace. `access` is the piece's protection now (kNone for
// reserved pages), for the pages it gains; `reserved` says the piece is
// reserved, not committed, and so are the pages it gains. *moved_to is the
// piece's address afterwards. On error the piece is as it was.
Error remap(const AllocationRef& allocation, uint8_t* address, size_t old_size, size_t new_size,
            uint32_t access, bool reserved, bool may_move, uint8_t** moved_to);
// One byte per page of [address, address + size) (page aligned): bit 0 set
// where the page is resident (mincore; Windows: QueryWorkingSetEx's Valid).
Error residency(uint8_t* address, size_t size, uint8_t* pages);
// A double-mapped ring: 2 * size bytes at *out where byte i and byte
// i + size are the same memory. `size` is a multiple of
// allocation_granularity(). `shared_memory` (a shm_create/open handle, at
// `offset`) backs it, shared with every process mapping that object; -1
// for memory of its own. No other thread's mapping can land between the
// halves at any moment. The Mapping's size is 2 * size.
Error map_ring(size_t size, FileHandle shared_memory, uint64_t offset, uint32_t access,
               Mapping* out);

size_t page_size();
size_t allocation_granularity();
// Ascending: the base page, then every huge page size the system offers.
std::vector<size_t> page_sizes();
// The huge page size MAP_HUGETLB gives without a size, or 0 if none.
size_t default_huge_page_size();
// How many free huge pages of `size` the system holds, or -1 if unknown.
int64_t free_huge_pages(size_t size);

}  // namespace memmap::os
