// The OS layer on Windows: VirtualAlloc for anonymous memory, sections and
// views for files.
//
// Windows cannot split an allocation: VirtualFree(MEM_RELEASE) and
// UnmapViewOfFile take the whole of what VirtualAlloc or MapViewOfFileEx
// made. So pieces of one allocation share an Allocation; a piece that goes
// early only gives up its pages (decommitted, or made inaccessible in a view),
// and the address range is released once every byte has been unmapped, those
// of a handle that adopted given-up pages of it too (see "pieces"). A piece
// that leaves without unmap() (intoRaw) keeps the range mapped.
//
// remap() grows a piece only within its own allocation, over pages pieces of
// it gave up, or moves it to a new one (copying anonymous memory, mapping a
// view anew; a piece of a split view does not move); a ring (map_ring) is
// two views of one section back to back, one Allocation with both. See each.
#include "windows_internal.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "os.h"
#include "shared.h"

namespace memmap::os {

// enable_shared_from_this: adopt() finds the Allocation whose given-up pages
// it adopts through the record of those pages, and holds it (see "pieces").
struct Allocation : std::enable_shared_from_this<Allocation> {
  // kRing: map_ring()'s two views of one section, back to back.
  enum class Kind { kAnonymous, kView, kRing };

  Kind kind;
  // What MEM_RELEASE or UnmapViewOfFile takes.
  uint8_t* base;
  // False for pages adopted from part of someone else's allocation: those are
  // given up piece by piece, and the allocation itself is left alone.
  bool owns_base;
  // Views right after `base`'s, released with it: a ring's second half, or
  // the further views of adopted pages that span several whole views (a ring
  // that went through intoRaw()). Operations on such an allocation go view
  // by view: VirtualProtect and its kind take one allocation at a time.
  std::vector<uint8_t*> more_views;
  // A ring's size (each half's), 0 for anything else.
  size_t ring_size = 0;
  // Bytes of the mapping no unmap() has given up yet; 0 until map() succeeds,
  // so that a failing map() releases what it made.
  size_t live_bytes = 0;
  // A private file view: writable pages are PAGE_WRITECOPY.
  bool copy_on_write = false;
  // Whether any page was ever asked to be writable (map, commit, protect; or
  // unknown, for a whole private view adopted): a private view that never
  // was holds no page of its own, only the file's (see grow_in_place).
  std::atomic<bool> ever_writable{false};
  // MmapFlags, applied again by commit().
  uint32_t flags = 0;
  // A file view keeps its own handle of the file: for the FlushFileBuffers
  // that makes flush() durable after the caller's descriptor is closed
  // (`flush_file`, for a shared writable view), and for remap(), which maps
  // the file anew.
  HANDLE file = nullptr;
  bool flush_file = false;
  // A view of a shared-memory section keeps its own handle of the section,
  // for remap(). The view access and the file section's protection it was
  // mapped with, for the same.
  HANDLE section = nullptr;
  DWORD view_access = 0;
  DWORD section_protection = 0;
  // Where wait_on_address (shared_windows.cc) queues a waiter on these pages:
  // kProcess for pages only this process reaches; kObject for a shared view
  // of an object every process names alike (`wait_object`, and the object
  // offset of `base`); kUnknown for a shared view of an object without a
  // name, on which no other process could find the waiter.
  enum class WaitScope { kProcess, kObject, kUnknown };
  WaitScope wait_scope = WaitScope::kProcess;
  std::wstring wait_object;
  uint64_t object_offset = 0;
  // Anonymous pieces that remap() moved out of a split mapping (see there):
  // each moved into a reservation of its own, [base, base + span), which
  // holds them and any pieces split from them. live_bytes counts those
  // pieces' bytes (the Allocation's own counts only what is in `base`'s);
  // the reservation is released when it reaches 0.
  struct Moved {
    uint8_t* base;
    size_t span;
    size_t live_bytes;
  };
  std::vector<Moved> moved;
  // For pages adopted from a live Allocation that pieces of it had given up
  // (adopt(), and so MAP_FIXED's take_over): that Allocation, which counts
  // [begin, end) among its live bytes until this one gives them up again,
  // and which is held so that it releases nothing under them (see "pieces").
  struct Lease {
    AllocationRef host;
    uint8_t* begin;
    uint8_t* end;
  };
  std::vector<Lease> hosts;

  Allocation(Kind kind, uint8_t* base, bool owns_base)
      : kind(kind), base(base), owns_base(owns_base) {}
  Allocation(const Allocation&) = delete;
  Allocation& operator=(const Allocation&) = delete;
  ~Allocation();  // below, with the pieces' bookkeeping
};

namespace {

Error fail(const char* syscall) {
  return Error{static_cast<int>(GetLastError()), syscall};
}

uintptr_t round_down(uintptr_t value, size_t multiple) {
  return value - value % multiple;
}

const SYSTEM_INFO& system_info() {
  static const SYSTEM_INFO info = [] {
    SYSTEM_INFO value;
    GetSystemInfo(&value);
    return value;
  }();
  return info;
}

// Functions newer than the oldest Windows (or Wine) we run on, looked up when
// first needed; null where the system lacks them.
template <typename Function>
Function kernel32_function(const char* name) {
  FARPROC address = GetProcAddress(GetModuleHandleW(L"kernel32.dll"), name);
  return reinterpret_cast<Function>(reinterpret_cast<void*>(address));
}

struct MemoryRange {  // WIN32_MEMORY_RANGE_ENTRY
  void* address;
  SIZE_T size;
};
using PrefetchVirtualMemoryFunction = BOOL(WINAPI*)(HANDLE, ULONG_PTR, MemoryRange*, ULONG);
using DiscardVirtualMemoryFunction = DWORD(WINAPI*)(void*, SIZE_T);

// Windows 8+. The pages fault in on first touch anyway, so where it is
// missing nothing is lost but time.
void prefetch(uint8_t* address, size_t size) {
  static const auto prefetch_virtual_memory =
      kernel32_function<PrefetchVirtualMemoryFunction>("PrefetchVirtualMemory");
  if (!prefetch_virtual_memory) return;
  MemoryRange range{address, size};
  prefetch_virtual_memory(GetCurrentProcess(), 1, &range, 0);
}

// The contents may go: DiscardVirtualMemory (Windows 8.1+) drops them at
// once, MEM_RESET when the system next needs the memory.
Error discard(uint8_t* address, size_t size) {
  static const auto discard_virtual_memory =
      kernel32_function<DiscardVirtualMemoryFunction>("DiscardVirtualMemory");
  if (discard_virtual_memory && discard_virtual_memory(address, size) == ERROR_SUCCESS) return {};
  if (!VirtualAlloc(address, size, MEM_RESET, PAGE_NOACCESS)) return fail("VirtualAlloc");
  return {};
}

DWORD protection_of(uint32_t access, bool copy_on_write) {
  bool read = access & kRead, write = access & kWrite, exec = access & kExec;
  if (write) {
    if (copy_on_write) return exec ? PAGE_EXECUTE_WRITECOPY : PAGE_WRITECOPY;
    return exec ? PAGE_EXECUTE_READWRITE : PAGE_READWRITE;
  }
  if (exec) return read ? PAGE_EXECUTE_READ : PAGE_EXECUTE;
  return read ? PAGE_READONLY : PAGE_NOACCESS;
}

// What MmapFlags ask for once pages are committed. Flags without a Windows
// counterpart (NO_RESERVE, STACK, NO_CORE_DUMP, the madvise hints other than
// WILLNEED) are no-ops.
Error after_commit(uint8_t* address, size_t size, uint32_t flags) {
  if ((flags & kLocked) && !VirtualLock(address, size)) return fail("VirtualLock");
  if (flags & (kPopulate | kWillNeed)) prefetch(address, size);
  return {};
}

// Finds room for `size` bytes at a multiple of `alignment` and calls
// place(address) there. Another thread may take the room between finding and
// placing, so a lost race is retried.
template <typename Place>
uint8_t* place_aligned(size_t size, size_t alignment, Place place) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    void* room = VirtualAlloc(nullptr, size + alignment, MEM_RESERVE, PAGE_NOACCESS);
    if (!room) return nullptr;
    uintptr_t aligned = round_down(reinterpret_cast<uintptr_t>(room) + alignment - 1, alignment);
    VirtualFree(room, 0, MEM_RELEASE);
    if (uint8_t* placed = place(reinterpret_cast<uint8_t*>(aligned))) return placed;
    if (GetLastError() != ERROR_INVALID_ADDRESS) return nullptr;
  }
  return nullptr;
}

// Calls place(address) where the request wants the mapping: at an aligned
// address, exactly at its address, at its address as a hint, or anywhere.
// place() returns the start of the mapping, or null with GetLastError() set.
template <typename Place>
uint8_t* place(const MapRequest& request, Place place) {
  if (request.alignment > allocation_granularity()) {
    return place_aligned(request.size, request.alignment, place);
  }
  if (request.address) {
    uint8_t* placed = place(reinterpret_cast<uint8_t*>(request.address));
    if (placed || request.fixed) return placed;
  }
  return place(nullptr);
}

// Large pages need SeLockMemoryPrivilege enabled in the process token, not
// just granted to the account. Where it is not granted, this changes nothing
// and VirtualAlloc fails with ERROR_PRIVILEGE_NOT_HELD (EPERM).
void enable_lock_memory_privilege() {
  static std::once_flag once;
  std::call_once(once, [] {
    HANDLE token;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES, &token)) return;
    TOKEN_PRIVILEGES privileges{};
    privileges.PrivilegeCount = 1;
    privileges.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
    if (LookupPrivilegeValueW(nullptr, L"SeLockMemoryPrivilege", &privileges.Privileges[0].Luid)) {
      AdjustTokenPrivileges(token, FALSE, &privileges, 0, nullptr, nullptr);
    }
    CloseHandle(token);
  });
}

// The size of the allocation made at `base`: its regions, up to the first free one.
size_t allocation_extent(uint8_t* base) {
  size_t extent = 0;
  MEMORY_BASIC_INFORMATION info;
  while (VirtualQuery(base + extent, &info, sizeof info) && info.AllocationBase == base &&
         info.State != MEM_FREE) {
    extent += info.RegionSize;
  }
  return extent;
}

// Calls f(start, length) for each stretch of [address, address + size) that
// lies in one allocation, in order, up to the first error.
template <typename Stretch>
Error per_allocation(uint8_t* address, size_t size, Stretch f) {
  uint8_t* const end = address + size;
  for (uint8_t* at = address; at < end;) {
    MEMORY_BASIC_INFORMATION info;
    if (!VirtualQuery(at, &info, sizeof info)) return fail("VirtualQuery");
    const void* base = info.AllocationBase;
    uint8_t* stretch_end = static_cast<uint8_t*>(info.BaseAddress) + info.RegionSize;
    while (base && stretch_end < end && VirtualQuery(stretch_end, &info, sizeof info) &&
           info.AllocationBase == base) {
      stretch_end = static_cast<uint8_t*>(info.BaseAddress) + info.RegionSize;
    }
    uint8_t* stop = std::min(stretch_end, end);
    if (Error error = f(at, static_cast<size_t>(stop - at))) return error;
    at = stop;
  }
  return {};
}

// The same over pages of `allocation`: in one go unless it has several views.
template <typename Stretch>
Error per_view(const AllocationRef& allocation, uint8_t* address, size_t size, Stretch f) {
  if (allocation->more_views.empty()) return f(address, size);
  return per_allocation(address, size, f);
}

// --- pieces -------------------------------------------------------------------
//
// Which pages of an allocation its pieces have given up (unmap(), or remap()
// shrinking) while the allocation lives on: in anonymous memory they are
// decommitted, in a view inaccessible, and either way still the
// allocation's. A piece grows back in place only over these (grow_in_place):
// what the OS shows after a piece (reserved pages, or inaccessible ones in a
// view) may as well be another piece's reservation, pages a piece kept when
// it left by intoRaw(), or pages another handle adopted, and only this
// record tells them apart. A range leaves it when a piece grows over it,
// when adopt() gives it to another handle, and when its allocation goes.
//
// Given-up pages are still the allocation's, which releases them with the
// rest once no piece is left. So a handle that adopts some (adopt(), or
// MAP_FIXED there, which take_over() makes an adoption) becomes a tenant of
// that allocation: the allocation counts the tenant's bytes among its live
// ones, and the tenant's Allocation holds it (`hosts`), until the tenant
// gives them up again, which gives them back to the allocation as a piece's
// unmap() would. Without that, the last piece's unmap(), a piece that remap()
// moves (count_given_up, let_go_of_everything) or the allocation's end would
// release the tenant's live pages under it. The alternative, refusing
// MAP_FIXED and mapFromExisting() over given-up pages, would break both for
// split mappings, where POSIX allows them. The record says which allocation
// gave the pages up; pages a piece kept by leaving with intoRaw() are not in
// it, and need no lease: the allocation counts them live for good (that
// leaves the reservation mapped, as intoRaw() does anywhere).
//
// One lock for the record and for what pieces of one allocation share
// (live_bytes, moved, hosts): pieces may be released in other threads (the
// last holder of shared pages). Never held while taking the registry of live
// ranges (fault.h), which callers may hold while taking this one, nor while
// an AllocationRef may drop its last reference (~Allocation takes it).

SRWLOCK pieces_lock = SRWLOCK_INIT;

class PiecesLock {
 public:
  PiecesLock() { AcquireSRWLockExclusive(&pieces_lock); }
  ~PiecesLock() { ReleaseSRWLockExclusive(&pieces_lock); }
  PiecesLock(const PiecesLock&) = delete;
  PiecesLock& operator=(const PiecesLock&) = delete;
};

struct GivenUp {
  uint8_t* end;
  // Alive while the record names it: ~Allocation forgets its ranges, under
  // the lock, before it releases anything.
  Allocation* allocation;
};

// By start; ranges never overlap. Never destroyed: allocations may go while
// the process exits.
std::map<uint8_t*, GivenUp>& given_up() {
  static auto* const ranges = new std::map<uint8_t*, GivenUp>;
  return *ranges;
}

// Takes [begin, end) out of the record, whoever gave it up.
void forget_given_up(uint8_t* begin, uint8_t* end) {
  auto& ranges = given_up();
  auto it = ranges.lower_bound(begin);
  if (it != ranges.begin()) {
    auto before = std::prev(it);
    if (before->second.end > begin) {
      GivenUp whole = before->second;
      before->second.end = begin;
      if (whole.end > end) {
        ranges.emplace(end, whole);
        return;
      }
    }
  }
  while (it != ranges.end() && it->first < end) {
    if (it->second.end > end) {
      GivenUp rest = it->second;
      ranges.erase(it);
      ranges.emplace(end, rest);
      return;
    }
    it = ranges.erase(it);
  }
}

// Forgets every record in the OS allocation (reservation or view) at `base`.
void forget_extent(uint8_t* base) { forget_given_up(base, base + allocation_extent(base)); }

void record_given_up(Allocation& allocation, uint8_t* begin, uint8_t* end) {
  forget_given_up(begin, end);
  given_up().emplace(begin, GivenUp{end, &allocation});
}

// Whether pieces of `allocation` gave up all of [begin, end).
bool all_given_up_by(const Allocation& allocation, uint8_t* begin, uint8_t* end) {
  const auto& ranges = given_up();
  for (uint8_t* at = begin; at < end;) {
    auto it = ranges.upper_bound(at);
    if (it == ranges.begin()) return false;
    --it;
    if (it->second.allocation != &allocation || it->second.end <= at) return false;
    at = it->second.end;
  }
  return true;
}

// The allocation that gave up some page of [begin, end), or null.
Allocation* given_up_in(uint8_t* begin, uint8_t* end) {
  const auto& ranges = given_up();
  auto it = ranges.lower_bound(begin);
  if (it != ranges.begin() && std::prev(it)->second.end > begin) {
    return std::prev(it)->second.allocation;
  }
  if (it != ranges.end() && it->first < end) return it->second.allocation;
  return nullptr;
}

// The reservations of moved pieces (move_piece), by base: the Allocation
// whose `moved` holds each, or null once that Allocation is gone while
// pages that a piece kept by leaving with intoRaw() keep it (adopt() may
// take it over then). Never destroyed, as given_up().
struct MovedReservation {
  size_t span;
  Allocation* holder;
};
std::map<uint8_t*, MovedReservation>& moved_reservations() {
  static auto* const reservations = new std::map<uint8_t*, MovedReservation>;
  return *reservations;
}

// The Allocation whose moved pieces' reservation holds `address`, or null
// (none does, or its Allocation is gone).
Allocation* reservation_holder(uint8_t* address) {
  auto& reservations = moved_reservations();
  auto it = reservations.upper_bound(address);
  if (it == reservations.begin()) return nullptr;
  --it;
  return address < it->first + it->second.span ? it->second.holder : nullptr;
}

// The reservation of moved pieces that holds `address`, or null: the
// address is in `base`'s.
Allocation::Moved* moved_holding(Allocation& allocation, const uint8_t* address) {
  for (Allocation::Moved& moved : allocation.moved) {
    if (address >= moved.base && address < moved.base + moved.span) return &moved;
  }
  return nullptr;
}

// Whether the piece of `size` bytes is all that `allocation` holds: no other
// piece, no tenant, and no pages that a piece kept when it left by intoRaw().
bool only_piece(const Allocation& allocation, size_t size) {
  size_t live = allocation.live_bytes;
  for (const Allocation::Moved& moved : allocation.moved) live += moved.live_bytes;
  return live == size;
}

void release_moved(Allocation& allocation, Allocation::Moved* moved) {
  forget_given_up(moved->base, moved->base + moved->span);
  moved_reservations().erase(moved->base);
  VirtualFree(moved->base, 0, MEM_RELEASE);
  allocation.moved.erase(allocation.moved.begin() + (moved - allocation.moved.data()));
}

// Counts `size` bytes at `address` as live in `allocation` again: a tenant's.
void count_live(Allocation& allocation, uint8_t* address, size_t size) {
  Allocation::Moved* moved = moved_holding(allocation, address);
  (moved ? moved->live_bytes : allocation.live_bytes) += size;
}

// Takes every record of the allocation's own reservations and views.
void forget_all_given_up(const Allocation& allocation) {
  if (allocation.owns_base) {
    forget_extent(allocation.base);
    for (uint8_t* view : allocation.more_views) {
      forget_extent(view);
    }
  }
  for (const Allocation::Moved& moved : allocation.moved) {
    forget_given_up(moved.base, moved.base + moved.span);
  }
}

// Counts the `size` bytes at `address`, given up by a piece, out of what the
// allocation holds (under the lock). A reservation of moved pieces goes with
// its last byte, and so does `base`'s then, which nothing else releases
// while moved pieces live; until then given-up pages are recorded. A
// tenant's pages go back to their host, as a piece of it would give them up.
void count_given_up(Allocation& allocation, uint8_t* address, size_t size) {
  if (Allocation::Moved* moved = moved_holding(allocation, address)) {
    moved->live_bytes -= size;
    if (moved->live_bytes == 0) {
      release_moved(allocation, moved);
    } else {
      record_given_up(allocation, address, address + size);
    }
    return;
  }
  allocation.live_bytes -= size;
  if (!allocation.owns_base) {
    // Pages of someone else's allocation are theirs.
    uint8_t* const end = address + size;
    for (const Allocation::Lease& lease : allocation.hosts) {
      uint8_t* from = std::max(address, lease.begin);
      uint8_t* to = std::min(end, lease.end);
      if (from >= to) continue;
      // What the tenant may have written is the host's now (grow_in_place).
      if (allocation.ever_writable) lease.host->ever_writable = true;
      count_given_up(*lease.host, from, static_cast<size_t>(to - from));
    }
    return;
  }
  if (allocation.live_bytes == 0 && !allocation.moved.empty()) {
    // Only anonymous memory has moved pieces.
    forget_extent(allocation.base);
    VirtualFree(allocation.base, 0, MEM_RELEASE);
    allocation.owns_base = false;
    return;
  }
  // Rings and adopted views of several are never grown into (remap refuses
  // them), but a tenant may adopt their given-up pages too.
  record_given_up(allocation, address, address + size);
}

// Lets go of every page `allocation` holds, which are all the piece's at
// `address` (only_piece): remap() moved it to a new allocation. A tenant's
// hosts are the caller's to drop, after the lock.
void let_go_of_everything(Allocation& allocation, uint8_t* address, size_t size) {
  const bool anonymous = allocation.kind == Allocation::Kind::kAnonymous;
  if (allocation.owns_base) {
    forget_extent(allocation.base);
    if (anonymous) {
      VirtualFree(allocation.base, 0, MEM_RELEASE);
    } else {
      UnmapViewOfFile(allocation.base);
    }
  } else if (!moved_holding(allocation, address)) {
    // Pages adopted from someone else's allocation go as unmap() takes them,
    // back to their host if they have one.
    DWORD previous;
    if (anonymous) {
      VirtualFree(address, size, MEM_DECOMMIT);
    } else {
      VirtualProtect(address, size, PAGE_NOACCESS, &previous);
    }
    count_given_up(allocation, address, size);
  }
  while (!allocation.moved.empty()) release_moved(allocation, &allocation.moved.back());
}

// adopt(), under the lock.
AllocationRef adopt_locked(uint8_t* address, size_t size) {
  MEMORY_BASIC_INFORMATION info{};
  VirtualQuery(address, &info, sizeof info);
  auto* base = static_cast<uint8_t*>(info.AllocationBase);
  size_t covered = base == address ? allocation_extent(base) : 0;
  const size_t page = page_size();

  // All the pages of a moved piece's reservation, less the page of guard at
  // each end, which no piece ever holds: a piece that remap() moved and that
  // left by intoRaw() (alone there, counted by nobody else). Taken over
  // whole, so that it is released with the new handle's last byte (base is
  // then a page before `address`, as map_anonymous's may be). Adopted in
  // part, it stays reserved, as any allocation a raw piece kept.
  auto reservation = moved_reservations().find(address - page);
  if (reservation != moved_reservations().end() &&
      size == reservation->second.span - 2 * page &&
      allocation_extent(reservation->first) == reservation->second.span) {
    Allocation* holder = reservation->second.holder;
    Allocation::Moved* moved = holder ? moved_holding(*holder, address) : nullptr;
    if (!holder || (moved && moved->live_bytes == size)) {
      base = reservation->first;
      covered = size;
      if (moved) holder->moved.erase(holder->moved.begin() + (moved - holder->moved.data()));
      moved_reservations().erase(reservation);
    }
  }

  // Given-up pages of a live allocation: a lease on it per OS allocation.
  std::vector<Allocation::Lease> hosts;
  if (covered != size) {
    per_allocation(address, size, [&](uint8_t* at, size_t length) -> Error {
      Allocation* host = given_up_in(at, at + length);
      // The page of guard at each end of a moved piece's reservation is no
      // piece's and never given up, but the reservation goes with its
      // holder's last moved byte: a tenant there leases the holder as well.
      if (!host) host = reservation_holder(at);
      if (!host) return {};
      count_live(*host, at, length);
      // Null only while its last reference is gone and ~Allocation waits for
      // the lock: counted, it releases nothing there (the range stays
      // reserved, as after intoRaw()).
      if (AllocationRef held = host->weak_from_this().lock()) {
        hosts.push_back(Allocation::Lease{std::move(held), at, at + length});
      }
      return {};
    });
  }
  // The new handle's now: no piece grows back over them.
  forget_given_up(address, address + size);

  // Pages that are several whole views back to back (a ring given up by
  // intoRaw()) are released view by view.
  std::vector<uint8_t*> more_views;
  if (info.Type == MEM_MAPPED) {
    while (covered > 0 && covered < size) {
      MEMORY_BASIC_INFORMATION next{};
      if (!VirtualQuery(address + covered, &next, sizeof next) ||
          next.AllocationBase != address + covered || next.Type != MEM_MAPPED) {
        break;
      }
      more_views.push_back(address + covered);
      covered += allocation_extent(address + covered);
    }
  }
  // (Never whole with a lease: a live host's pages are not all adopted, as
  // its live pieces are tracked and the binding refuses those.)
  bool whole = covered == size && hosts.empty();
  if (!whole) more_views.clear();
  auto allocation = std::make_shared<Allocation>(
      info.Type == MEM_PRIVATE ? Allocation::Kind::kAnonymous : Allocation::Kind::kView, base,
      whole);
  allocation->more_views = std::move(more_views);
  allocation->hosts = std::move(hosts);
  if (info.Type != MEM_PRIVATE) {
    // Which object a view maps, and where, Windows does not say.
    allocation->wait_scope = Allocation::WaitScope::kUnknown;
    // Nor what a private one was written with: as if it had been.
    if (info.AllocationProtect == PAGE_WRITECOPY ||
        info.AllocationProtect == PAGE_EXECUTE_WRITECOPY) {
      allocation->view_access = FILE_MAP_COPY;
      allocation->ever_writable = whole;
    }
  }
  allocation->live_bytes = size;
  return allocation;
}

}  // namespace

Allocation::~Allocation() {
  {
    // The record of its given-up pages goes with it, released or not (pages
    // that a piece kept by leaving with intoRaw() stay mapped, and no piece
    // of this allocation is left to grow over any of them). Released under
    // the lock, so that adopt() either finds the record (and counts its
    // pages here: nothing is released) or finds the pages gone.
    PiecesLock lock;
    forget_all_given_up(*this);
    // Reservations of moved pieces are released with their last byte; one
    // still counted here holds pages a piece kept by leaving with intoRaw().
    for (const Moved& piece : moved) moved_reservations()[piece.base].holder = nullptr;
    if (owns_base && live_bytes == 0) {
      if (kind == Kind::kAnonymous) {
        VirtualFree(base, 0, MEM_RELEASE);
      } else {
        // A view that replaced a placeholder leaves free address space too.
        UnmapViewOfFile(base);
        for (uint8_t* view : more_views) UnmapViewOfFile(view);
      }
    }
  }
  // `hosts` go after this body, outside the lock.
  if (file) CloseHandle(file);
  if (section) CloseHandle(section);
  // Kept for the next wait on the object while it is mapped, not after.
  if (!wait_object.empty()) forget_wait_object(wait_object);
}

namespace {

// MAP_FIXED over memory already there. Windows cannot map over an
// allocation, but it can take over pages of one VirtualAlloc allocation:
// decommitted and committed again, they read as zeroes, as after
// mmap(MAP_FIXED). Over anything else (a view, several allocations) the
// request fails and what is there stays. Under the pieces' lock from the
// look to the adoption, so that the allocation cannot go in between.
Error take_over(const MapRequest& request, AllocationRef* allocation) {
  auto* start = reinterpret_cast<uint8_t*>(request.address);
  PiecesLock lock;
  MEMORY_BASIC_INFORMATION info;
  if (!VirtualQuery(start, &info, sizeof info) || info.Type != MEM_PRIVATE) {
    return Error{ERROR_INVALID_ADDRESS, "VirtualAlloc"};
  }
  auto* base = static_cast<uint8_t*>(info.AllocationBase);
  if (start + request.size > base + allocation_extent(base)) {
    return Error{ERROR_INVALID_ADDRESS, "VirtualAlloc"};
  }
  if (!VirtualFree(start, request.size, MEM_DECOMMIT)) return fail("VirtualFree");
  *allocation = adopt_locked(start, request.size);
  return {};
}

// Gives the pages of a take_over() back when the map fails after it.
void give_back(const AllocationRef& allocation, uint8_t* start, size_t size) {
  VirtualFree(start, size, MEM_DECOMMIT);
  PiecesLock lock;
  count_given_up(*allocation, start, size);
}

Error map_anonymous(const MapRequest& request, Mapping* out) {
  const bool large = request.flags & kHugePages;
  // Large pages exist only committed, so they cannot be reserved first.
  if (large && request.reserve) return Error{ERROR_NOT_SUPPORTED, "VirtualAlloc"};
  if (large) enable_lock_memory_privilege();
  const DWORD type = large ? MEM_RESERVE | MEM_COMMIT | MEM_LARGE_PAGES : MEM_RESERVE;
  const DWORD protection = large ? protection_of(request.access, false) : PAGE_NOACCESS;
  const size_t granularity = allocation_granularity();
  // A reservation starts at a multiple of the granularity; one asked for at a
  // page in between covers the pages before it too, which stay reserved.
  uint8_t* start = place(request, [&](uint8_t* at) -> uint8_t* {
    uintptr_t base = round_down(reinterpret_cast<uintptr_t>(at), granularity);
    size_t head = reinterpret_cast<uintptr_t>(at) - base;
    void* reserved = VirtualAlloc(reinterpret_cast<void*>(base), head + request.size, type, protection);
    return reserved ? static_cast<uint8_t*>(reserved) + head : nullptr;
  });
  AllocationRef allocation;
  bool taken_over = false;
  if (start) {
    allocation = std::make_shared<Allocation>(
        Allocation::Kind::kAnonymous,
        reinterpret_cast<uint8_t*>(round_down(reinterpret_cast<uintptr_t>(start), granularity)),
        true);
  } else if (request.fixed && !large && GetLastError() == ERROR_INVALID_ADDRESS) {
    if (Error error = take_over(request, &allocation)) return error;
    start = reinterpret_cast<uint8_t*>(request.address);
    taken_over = true;
  } else {
    return fail("VirtualAlloc");
  }
  allocation->flags = request.flags;
  if (!request.reserve) {
    if (request.access & kWrite) allocation->ever_writable = true;
    Error error;
    if (!large && !VirtualAlloc(start, request.size, MEM_COMMIT,
                                protection_of(request.access, false))) {
      error = fail("VirtualAlloc");
    }
    if (!error) error = after_commit(start, request.size, request.flags);
    if (error) {
      // A new allocation goes with `allocation` (live_bytes is still 0);
      // pages taken over go back to whoever holds them.
      if (taken_over) give_back(allocation, start, request.size);
      return error;
    }
  }
  allocation->live_bytes = request.size;
  *out = Mapping{start, request.size, std::move(allocation)};
  return {};
}

// The view's access for a section's protection: the most the section allows,
// so that protect() can later go as far as mprotect could on POSIX.
DWORD view_access_of(DWORD section_protection) {
  switch (section_protection) {
    case PAGE_EXECUTE_READWRITE: return FILE_MAP_WRITE | FILE_MAP_EXECUTE;
    case PAGE_READWRITE: return FILE_MAP_WRITE;
    case PAGE_EXECUTE_WRITECOPY: return FILE_MAP_COPY | FILE_MAP_EXECUTE;
    case PAGE_WRITECOPY: return FILE_MAP_COPY;
    case PAGE_EXECUTE_READ: return FILE_MAP_READ | FILE_MAP_EXECUTE;
    default: return FILE_MAP_READ;
  }
}

bool view_grants(DWORD view_access, uint32_t access) {
  bool writable = view_access & (FILE_MAP_WRITE | FILE_MAP_COPY);
  return (!(access & kWrite) || writable) &&
         (!(access & kExec) || (view_access & FILE_MAP_EXECUTE));
}

bool grants(DWORD section_protection, uint32_t access) {
  return view_grants(view_access_of(section_protection), access);
}

// A section over the first offset + size bytes of the file, with the widest
// protection its handle's access allows among those that grant `access`.
// mprotect(2) lets a mapping go up to what the descriptor was opened for;
// the section's protection is the ceiling here, so it is chosen generously.
Error create_section(const MapRequest& request, HANDLE file, HANDLE* section,
                     DWORD* section_protection) {
  static const DWORD kSharedSections[] = {PAGE_EXECUTE_READWRITE, PAGE_READWRITE,
                                          PAGE_EXECUTE_READ, PAGE_READONLY};
  static const DWORD kPrivateSections[] = {PAGE_EXECUTE_WRITECOPY, PAGE_WRITECOPY,
                                           PAGE_EXECUTE_READ, PAGE_READONLY};
  const DWORD* candidates = (request.flags & kShared) ? kSharedSections : kPrivateSections;
  const uint64_t end = request.offset + request.size;
  const DWORD attributes = (request.flags & kHugePages) ? SEC_COMMIT | SEC_LARGE_PAGES : 0;
  if (attributes) enable_lock_memory_privilege();
  DWORD error = ERROR_ACCESS_DENIED;
  for (int i = 0; i < 4 && error == ERROR_ACCESS_DENIED; ++i) {
    if (!grants(candidates[i], request.access)) continue;
    *section = CreateFileMappingW(file, nullptr, candidates[i] | attributes,
                                  static_cast<DWORD>(end >> 32), static_cast<DWORD>(end),
                                  nullptr);
    if (*section) {
      *section_protection = candidates[i];
      return {};
    }
    error = GetLastError();
  }
  return Error{static_cast<int>(error), "CreateFileMapping"};
}

// Maps a view of `section` where the request wants it; null with
// GetLastError() set if it cannot.
uint8_t* place_view(const MapRequest& request, HANDLE section, DWORD view_access) {
  return place(request, [&](uint8_t* at) {
    return static_cast<uint8_t*>(MapViewOfFileEx(section, view_access,
                                                 static_cast<DWORD>(request.offset >> 32),
                                                 static_cast<DWORD>(request.offset),
                                                 request.size, at));
  });
}

// The allocation of a view just mapped at `start`: until finish_view() it
// owns no bytes, so that dropping it on an error unmaps the view.
AllocationRef new_view(const MapRequest& request, uint8_t* start) {
  auto allocation = std::make_shared<Allocation>(Allocation::Kind::kView, start, true);
  allocation->copy_on_write = !(request.flags & kShared);
  allocation->flags = request.flags;
  allocation->object_offset = request.offset;
  return allocation;
}

// Gives a view the protection the request asked for and its MmapFlags.
Error finish_view(const MapRequest& request, AllocationRef allocation, Mapping* out) {
  uint8_t* start = allocation->base;
  // Views are always committed; a reservation is one nothing may touch yet.
  uint32_t access = request.reserve ? kNone : request.access;
  if (access & kWrite) allocation->ever_writable = true;
  DWORD protection = protection_of(access, allocation->copy_on_write);
  DWORD previous;
  if (!VirtualProtect(start, request.size, protection, &previous)) return fail("VirtualProtect");
  if (!request.reserve) {
    if (Error error = after_commit(start, request.size, request.flags)) return error;
  }
  allocation->live_bytes = request.size;
  *out = Mapping{start, request.size, std::move(allocation)};
  return {};
}

// A shared view is found by waiters and notifiers in other processes through
// the name of what it maps; a private (copy-on-write) view is this process's.
void set_wait_scope(Allocation& allocation, HANDLE object, bool file) {
  if (allocation.copy_on_write) return;
  std::wstring name;
  if (!wait_object_name(object, file, &name) && !name.empty()) {
    allocation.wait_scope = Allocation::WaitScope::kObject;
    allocation.wait_object = std::move(name);
  } else {
    allocation.wait_scope = Allocation::WaitScope::kUnknown;
  }
}

Error map_file(const MapRequest& request, Mapping* out) {
  HANDLE file = reinterpret_cast<HANDLE>(request.file);
  HANDLE section = nullptr;
  DWORD section_protection = 0;
  if (Error error = create_section(request, file, &section, &section_protection)) return error;
  DWORD view_access = view_access_of(section_protection);
  if (request.flags & kHugePages) view_access |= FILE_MAP_LARGE_PAGES;
  uint8_t* start = place_view(request, section, view_access);
  DWORD map_error = GetLastError();
  // The view holds the section open for as long as it exists.
  CloseHandle(section);
  if (!start) return Error{static_cast<int>(map_error), "MapViewOfFileEx"};

  AllocationRef allocation = new_view(request, start);
  allocation->view_access = view_access;
  allocation->section_protection = section_protection;
  if (!DuplicateHandle(GetCurrentProcess(), file, GetCurrentProcess(), &allocation->file, 0,
                       FALSE, DUPLICATE_SAME_ACCESS)) {
    allocation->file = nullptr;
    return fail("DuplicateHandle");
  }
  allocation->flush_file = view_access & FILE_MAP_WRITE;
  set_wait_scope(*allocation, file, true);
  return finish_view(request, std::move(allocation), out);
}

// A view of a shared-memory section (shared.h), which is the caller's: mapped
// as it is, with the widest view access that grants the request, since the
// view's access is the ceiling for protect() (as a file's section is).
Error map_shared_memory(const MapRequest& request, Mapping* out) {
  // Large pages are a property of the section, chosen when it was made.
  if (request.flags & kHugePages) return Error{ERROR_NOT_SUPPORTED, "MapViewOfFileEx"};
  static const DWORD kSharedViews[] = {FILE_MAP_WRITE | FILE_MAP_EXECUTE, FILE_MAP_WRITE,
                                       FILE_MAP_READ | FILE_MAP_EXECUTE, FILE_MAP_READ};
  static const DWORD kPrivateViews[] = {FILE_MAP_COPY | FILE_MAP_EXECUTE, FILE_MAP_COPY,
                                        FILE_MAP_READ | FILE_MAP_EXECUTE, FILE_MAP_READ};
  const DWORD* candidates = (request.flags & kShared) ? kSharedViews : kPrivateViews;
  HANDLE section = reinterpret_cast<HANDLE>(request.file);
  uint8_t* start = nullptr;
  DWORD view_access = 0;
  // A view wider than the section's protection or the handle's access fails
  // with ERROR_ACCESS_DENIED; anything else is the answer for every candidate.
  DWORD error = ERROR_ACCESS_DENIED;
  for (int i = 0; i < 4 && !start && error == ERROR_ACCESS_DENIED; ++i) {
    if (!view_grants(candidates[i], request.access)) continue;
    view_access = candidates[i];
    start = place_view(request, section, view_access);
    if (!start) error = GetLastError();
  }
  if (!start) return Error{static_cast<int>(error), "MapViewOfFileEx"};

  AllocationRef allocation = new_view(request, start);
  allocation->view_access = view_access;
  if (!DuplicateHandle(GetCurrentProcess(), section, GetCurrentProcess(), &allocation->section, 0,
                       FALSE, DUPLICATE_SAME_ACCESS)) {
    allocation->section = nullptr;
    return fail("DuplicateHandle");
  }
  set_wait_scope(*allocation, section, false);
  return finish_view(request, std::move(allocation), out);
}

}  // namespace

// Windows has no per-thread W^X switch for JIT pages.
void jit_write_mode(bool) {}

Error file_handle(int fd, FileHandle* out) {
  // Node's descriptors are libuv's, over the C runtime Node was built with
  // (not the one this addon links); the host exports libuv. An embedder that
  // does not still runs on the universal CRT.
  using GetOsfHandle = intptr_t(__cdecl*)(int);
  static const GetOsfHandle get_osfhandle = [] {
    FARPROC found = GetProcAddress(GetModuleHandleW(nullptr), "uv_get_osfhandle");
    if (!found) found = GetProcAddress(GetModuleHandleW(L"ucrtbase.dll"), "_get_osfhandle");
    return reinterpret_cast<GetOsfHandle>(reinterpret_cast<void*>(found));
  }();
  intptr_t handle = get_osfhandle ? get_osfhandle(fd) : -1;
  if (handle == -1 || handle == reinterpret_cast<intptr_t>(INVALID_HANDLE_VALUE)) {
    return Error{ERROR_INVALID_HANDLE, "uv_get_osfhandle"};
  }
  *out = handle;
  return {};
}

Error map(const MapRequest& request, Mapping* out) {
  // MapViewOfFileEx reads a size of 0 as "to the end of the file".
  if (request.size == 0) return Error{ERROR_INVALID_PARAMETER, "VirtualAlloc"};
  if (request.file == -1) return map_anonymous(request, out);
  return request.shared_memory ? map_shared_memory(request, out) : map_file(request, out);
}

AllocationRef adopt(uint8_t* address, size_t size) {
  PiecesLock lock;
  return adopt_locked(address, size);
}

// For shared_windows.cc, which cannot see Allocation (windows_internal.h).
Error wait_key(const AllocationRef& allocation, const void* word, const std::wstring** object,
               uint64_t* offset) {
  static const std::wstring kThisProcess;
  switch (allocation->wait_scope) {
    case Allocation::WaitScope::kProcess:
      *object = &kThisProcess;
      return {};
    case Allocation::WaitScope::kObject:
      *object = &allocation->wait_object;
      *offset = static_cast<uint64_t>(static_cast<const uint8_t*>(word) - allocation->base);
      // Both halves of a ring are the same word (a ring's section always
      // has a name, see map_ring).
      if (allocation->ring_size) *offset %= allocation->ring_size;
      *offset += allocation->object_offset;
      return {};
    case Allocation::WaitScope::kUnknown:
      break;
  }
  return Error{Error::kUnsupported, "waitOnAddress on a view of an object without a name"};
}

// A ring is never split, so never merged either.
bool mergeable(const AllocationRef& a, const AllocationRef& b) {
  return a == b && a->kind != Allocation::Kind::kRing;
}

namespace {

// Gives up every page that [address, address + size) touches, as a piece
// gives its pages up: decommitted in anonymous memory, made inaccessible in
// a view (a view goes only as a whole; until then its given-up pages fault).
Error give_up_pages(const AllocationRef& allocation, uint8_t* address, size_t size) {
  return per_view(allocation, address, size, [&](uint8_t* at, size_t length) -> Error {
    if (allocation->kind == Allocation::Kind::kAnonymous) {
      if (!VirtualFree(at, length, MEM_DECOMMIT)) return fail("VirtualFree");
    } else {
      DWORD previous;
      if (!VirtualProtect(at, length, PAGE_NOACCESS, &previous)) return fail("VirtualProtect");
    }
    return {};
  });
}

}  // namespace

Error unmap(const AllocationRef& allocation, uint8_t* address, size_t size) {
  Error error = give_up_pages(allocation, address, size);
  // Counted only once given up, so that an unmap() tried again after a
  // failure does not count the bytes twice.
  if (!error) {
    PiecesLock lock;
    count_given_up(*allocation, address, size);
  }
  return error;
}

Error commit(const AllocationRef& allocation, uint8_t* address, size_t size,
             uint32_t access) {
  // Before the call: a failure may have left some pages writable.
  if (access & kWrite) allocation->ever_writable = true;
  DWORD protection = protection_of(access, allocation->copy_on_write);
  DWORD previous;
  auto back_to_reserved = [&](uint8_t* at, size_t length) -> Error {
    if (allocation->kind == Allocation::Kind::kAnonymous) {
      VirtualFree(at, length, MEM_DECOMMIT);
    } else {
      VirtualProtect(at, length, PAGE_NOACCESS, &previous);
    }
    return {};
  };
  uint8_t* done = address;
  Error error = per_view(allocation, address, size, [&](uint8_t* at, size_t length) -> Error {
    if (allocation->kind == Allocation::Kind::kAnonymous) {
      if (!VirtualAlloc(at, length, MEM_COMMIT, protection)) return fail("VirtualAlloc");
    } else if (!VirtualProtect(at, length, protection, &previous)) {
      return fail("VirtualProtect");
    }
    done = at + length;
    return {};
  });
  if (!error) error = per_view(allocation, address, size, [&](uint8_t* at, size_t length) {
    return after_commit(at, length, allocation->flags);
  });
  // Back to reserved, so that a failed commit leaves the handle as it was.
  if (error && done > address) {
    per_view(allocation, address, static_cast<size_t>(done - address), back_to_reserved);
  }
  return error;
}

Error protect(const AllocationRef& allocation, uint8_t* address, size_t size,
              uint32_t access) {
  // Before the call: a failure may have left some pages writable.
  if (access & kWrite) allocation->ever_writable = true;
  const DWORD protection = protection_of(access, allocation->copy_on_write);
  return per_view(allocation, address, size, [&](uint8_t* at, size_t length) -> Error {
    DWORD previous;
    if (!VirtualProtect(at, length, protection, &previous)) return fail("VirtualProtect");
    return {};
  });
}

Error flush(const AllocationRef& allocation, uint8_t* address, size_t size, bool sync) {
  // Anonymous memory has nothing to write back (msync(2) succeeds on it too).
  if (allocation->kind == Allocation::Kind::kAnonymous) return {};
  Error error = per_view(allocation, address, size, [&](uint8_t* at, size_t length) -> Error {
    if (!FlushViewOfFile(at, length)) return fail("FlushViewOfFile");
    return {};
  });
  if (error) return error;
  // FlushViewOfFile only starts the writes; the file's buffers hold them
  // until FlushFileBuffers.
  if (sync && allocation->flush_file && !FlushFileBuffers(allocation->file)) {
    return fail("FlushFileBuffers");
  }
  return {};
}

// Lock, unlock and advise go allocation by allocation too: a range may cover
// both views of a ring.
Error lock(uint8_t* address, size_t size) {
  return per_allocation(address, size, [](uint8_t* at, size_t length) -> Error {
    if (!VirtualLock(at, length)) return fail("VirtualLock");
    return {};
  });
}

Error lock_on_fault(uint8_t*, size_t) { return Error{Error::kUnsupported, "lockOnFault"}; }

Error unlock(uint8_t* address, size_t size) {
  return per_allocation(address, size, [](uint8_t* at, size_t length) -> Error {
    // munlock(2) of pages that are not locked succeeds; so does this.
    if (!VirtualUnlock(at, length) && GetLastError() != ERROR_NOT_LOCKED) {
      return fail("VirtualUnlock");
    }
    return {};
  });
}

namespace {

// Linux reads zeroes after MADV_DONTNEED on private memory; decommitting and
// committing again is how Windows gives the same guarantee. Region by region,
// so that each gets its own protection back; the commit charge just freed is
// what the recommit takes.
Error zero_anonymous(uint8_t* address, size_t size) {
  for (uint8_t* cursor = address; cursor < address + size;) {
    MEMORY_BASIC_INFORMATION region;
    if (!VirtualQuery(cursor, &region, sizeof region)) return fail("VirtualQuery");
    uint8_t* region_end = static_cast<uint8_t*>(region.BaseAddress) + region.RegionSize;
    size_t length = static_cast<size_t>(std::min(region_end, address + size) - cursor);
    if (!VirtualFree(cursor, length, MEM_DECOMMIT)) return fail("VirtualFree");
    if (!VirtualAlloc(cursor, length, MEM_COMMIT, region.Protect)) return fail("VirtualAlloc");
    cursor += length;
  }
  return {};
}

Error advise_allocation(uint8_t* address, size_t size, Advice advice) {
  MEMORY_BASIC_INFORMATION info;
  if (!VirtualQuery(address, &info, sizeof info)) return fail("VirtualQuery");
  const bool anonymous = info.Type == MEM_PRIVATE;
  switch (advice) {
    case Advice::kNormal:
      // Windows keeps no access-pattern advice: memory is always as if
      // advised normal.
      return {};
    case Advice::kWillNeed:
      prefetch(address, size);
      return {};
    case Advice::kDontNeed:
      if (anonymous) return zero_anonymous(address, size);
      // A shared view, or a private one never written, rereads the file:
      // exactly what it holds now. Copied pages cannot go back to the file.
      if (info.AllocationProtect == PAGE_WRITECOPY ||
          info.AllocationProtect == PAGE_EXECUTE_WRITECOPY) {
        break;
      }
      return {};
    case Advice::kFree:
      if (anonymous) return discard(address, size);
      break;
    case Advice::kPageOut:
      // VirtualUnlock on pages that are not locked takes them out of the
      // working set: they are written out, and read back on the next touch.
      if (!VirtualUnlock(address, size) && GetLastError() != ERROR_NOT_LOCKED) {
        return fail("VirtualUnlock");
      }
      return {};
    default:
      break;
  }
  return Error{Error::kUnsupported, "advise"};
}

}  // namespace

Error advise(uint8_t* address, size_t size, Advice advice) {
  return per_allocation(address, size, [&](uint8_t* at, size_t length) {
    return advise_allocation(at, length, advice);
  });
}

void flush_icache(uint8_t* address, size_t size) {
  FlushInstructionCache(GetCurrentProcess(), address, size);
}

Error is_mapped(uint8_t* address, size_t size, bool* mapped) {
  // Committed pages are the ones that exist; a reservation is address space
  // only, like the pages a split piece gave up before the rest goes.
  *mapped = true;
  for (uint8_t* at = address; at < address + size && *mapped;) {
    MEMORY_BASIC_INFORMATION info;
    if (!VirtualQuery(at, &info, sizeof info)) {
      // Past the highest user address.
      if (GetLastError() != ERROR_INVALID_PARAMETER) return fail("VirtualQuery");
      *mapped = false;
      break;
    }
    *mapped = info.State == MEM_COMMIT;
    at = static_cast<uint8_t*>(info.BaseAddress) + info.RegionSize;
  }
  return {};
}

// --- remap ------------------------------------------------------------------
//
// Windows can neither extend an allocation nor move one. So a piece grows in
// place only over pages its own allocation already holds and that pieces of
// it gave up (a shrink, an unmap, a split-off piece that went: never past the
// allocation, whose reservation or view is as large as it was made; see
// "pieces" above for why only those), and moves by making a new allocation:
// anonymous memory is copied into it (region by region, each with its
// protection; reserved pages stay reserved), a view is mapped anew over the
// same file or section at the same offset. Shrinking gives up the tail as
// unmap() does, for any piece.
//
// A piece that is all its allocation holds (never split, or the other pieces
// gone, and no tenant: see "pieces") moves with the Allocation: it is
// updated in place, as nothing else shares it. A piece of a split mapping:
//   - shrinks, as any piece does;
//   - grows in place over pages given up right after it, anonymous or a view
//     (never over another piece, nor pages another handle adopted, nor pages
//     a piece kept by leaving with intoRaw(): those were not given up);
//   - with mayMove, if anonymous, is copied into a reservation of its own
//     that the Allocation keeps among its `moved` ones, a page larger at both
//     ends than the piece, so that it is never adjacent to another piece of
//     the Allocation and a merge (mergeable() sees only the Allocation) can
//     never join pages of two OS allocations (if it leaves by intoRaw(),
//     adopt() of exactly its pages takes the reservation over whole, guard
//     pages and all: see moved_reservations);
//   - with mayMove, if a view, is refused (ERR_MMAP_UNSUPPORTED): its new
//     view would be a second view of the object in one Allocation, whose
//     waits name words by their offset from the one view's base and whose
//     flush and release know that one view (a ring's two are fixed).
//     So are moves of a split piece of large pages: they are committed
//     whole, and a page of guard would be a large page.
// A copy-on-write view that was ever writable grows in place over nothing
// (see grow_in_place): whole, it moves; a piece of a split one cannot grow.
// Rings (whose size is fixed) are refused.

namespace {

// What a page of the piece has: its protection, without PAGE_GUARD, or 0
// when it is only reserved.
DWORD protection_at(uint8_t* page) {
  MEMORY_BASIC_INFORMATION info;
  if (!VirtualQuery(page, &info, sizeof info) || info.State != MEM_COMMIT) return 0;
  return info.Protect & ~static_cast<DWORD>(PAGE_GUARD);
}

// Whether a protection lets the pages be read as they are.
bool readable(DWORD protection) {
  if (protection & (PAGE_GUARD | PAGE_NOACCESS)) return false;
  return (protection & 0xff) != PAGE_EXECUTE && (protection & 0xff) != 0;
}

// A private view's writable pages are copy-on-write whether or not they have
// been written yet (a written one reports PAGE_READWRITE).
DWORD copy_on_write_protection(DWORD protection) {
  switch (protection & 0xff) {
    case PAGE_READWRITE: return (protection & ~0xffu) | PAGE_WRITECOPY;
    case PAGE_EXECUTE_READWRITE: return (protection & ~0xffu) | PAGE_EXECUTE_WRITECOPY;
    default: return protection;
  }
}

// Calls f(offset, length, region) for each region of the piece at `address`,
// making an unreadable committed one readable (PAGE_READONLY) for the call
// and giving it its own protection back after.
template <typename Region>
Error each_region(uint8_t* address, size_t size, bool make_readable, Region f) {
  for (size_t offset = 0; offset < size;) {
    MEMORY_BASIC_INFORMATION info;
    if (!VirtualQuery(address + offset, &info, sizeof info)) return fail("VirtualQuery");
    uint8_t* region_end = static_cast<uint8_t*>(info.BaseAddress) + info.RegionSize;
    size_t length = static_cast<size_t>(std::min(region_end, address + size) - (address + offset));
    bool opened = false;
    DWORD previous = 0;
    if (make_readable && info.State == MEM_COMMIT && !readable(info.Protect)) {
      if (!VirtualProtect(address + offset, length, PAGE_READONLY, &previous)) {
        return fail("VirtualProtect");
      }
      opened = true;
    }
    Error error = f(offset, length, info);
    if (opened) VirtualProtect(address + offset, length, previous, &previous);
    if (error) return error;
    offset += length;
  }
  return {};
}

// Grows the piece over the pages right after it, if pieces of its
// allocation gave them up; else kCannotGrowInPlace.
Error grow_in_place(Allocation& allocation, uint8_t* address, size_t old_size, size_t new_size) {
  const Error cannot{Error::kCannotGrowInPlace, "VirtualAlloc"};
  const bool anonymous = allocation.kind == Allocation::Kind::kAnonymous;
  // Large pages are committed whole, never given up one by one.
  if (allocation.flags & kHugePages) return cannot;
  uint8_t* tail = address + old_size;
  const size_t grown = new_size - old_size;
  // Only pages the record holds: never a live handle's (another piece's, or
  // a tenant's, which adopt() took out of it), nor pages kept by intoRaw().
  PiecesLock lock;
  // A private view that was ever writable may have copied pages (a copied
  // page is the view's until the view goes) where the file's bytes are due:
  // only a new view (moving) reads them again. One that never was has only
  // the file's. Pages given up were made writable, if ever, before they
  // were given up, and so before this lock was last taken for them.
  if (!anonymous && (allocation.view_access & FILE_MAP_COPY) && allocation.ever_writable) {
    return cannot;
  }
  Allocation::Moved* moved = moved_holding(allocation, address);
  // Pages of someone else's allocation are theirs.
  if (!moved && !allocation.owns_base) return cannot;
  const void* base = moved ? moved->base : allocation.base;
  if (!all_given_up_by(allocation, tail, tail + grown)) return cannot;
  // And the OS agrees: still that allocation, and still given up there:
  // decommitted in anonymous memory, committed and inaccessible in a view.
  for (uint8_t* at = tail; at < tail + grown;) {
    MEMORY_BASIC_INFORMATION info;
    if (!VirtualQuery(at, &info, sizeof info) || info.AllocationBase != base) return cannot;
    if (anonymous ? info.State != MEM_RESERVE : info.State != MEM_COMMIT) return cannot;
    at = static_cast<uint8_t*>(info.BaseAddress) + info.RegionSize;
  }
  // The new pages get what the piece's last page has (as mremap gives them
  // its last area's); after a reserved page they stay reserved.
  // (The page holding the last byte: a size need not be a page multiple.)
  DWORD protection = protection_at(tail - 1);
  if (protection != 0 && (anonymous || protection != PAGE_NOACCESS)) {
    // Never a writable page of a private view here (refused above while it
    // may have copies; never made writable otherwise): nothing to make
    // copy-on-write, as move_view must.
    DWORD previous;
    if (anonymous) {
      if (!VirtualAlloc(tail, grown, MEM_COMMIT, protection)) return fail("VirtualAlloc");
    } else if (!VirtualProtect(tail, grown, protection, &previous)) {
      return fail("VirtualProtect");
    }
    if (Error error = after_commit(tail, grown, allocation.flags)) {
      if (anonymous) {
        VirtualFree(tail, grown, MEM_DECOMMIT);
      } else {
        VirtualProtect(tail, grown, PAGE_NOACCESS, &previous);
      }
      return error;
    }
  }
  forget_given_up(tail, tail + grown);
  (moved ? moved->live_bytes : allocation.live_bytes) += grown;
  return {};
}

// Copies the anonymous piece into `to`, reserved for new_size bytes: region
// by region as the piece has it (reserved stays reserved, each committed
// region keeps its protection), the grown pages as the last page is. `large`:
// `to` is committed large pages. The caller frees `to` on an error.
Error copy_anonymous(const Allocation& allocation, uint8_t* address, size_t old_size,
                     size_t new_size, uint8_t* to, bool large) {
  DWORD last = 0;
  bool executable = false;
  Error error = each_region(address, old_size, true, [&](size_t offset, size_t length,
                                                         const MEMORY_BASIC_INFORMATION& info) {
    last = info.State == MEM_COMMIT ? info.Protect & ~static_cast<DWORD>(PAGE_GUARD) : 0;
    if (info.State != MEM_COMMIT) return Error{};
    if (!large && !VirtualAlloc(to + offset, length, MEM_COMMIT, PAGE_READWRITE)) {
      return fail("VirtualAlloc");
    }
    std::memcpy(to + offset, address + offset, length);
    executable |= (info.Protect & 0xf0) != 0;
    DWORD previous;
    if (!VirtualProtect(to + offset, length, info.Protect, &previous)) {
      return fail("VirtualProtect");
    }
    return after_commit(to + offset, length, allocation.flags);
  });
  const size_t grown = new_size - old_size;
  if (!error && (last || large)) {
    DWORD previous;
    if (!large && !VirtualAlloc(to + old_size, grown, MEM_COMMIT, last)) {
      error = fail("VirtualAlloc");
    } else if (large && !VirtualProtect(to + old_size, grown, last ? last : PAGE_NOACCESS,
                                        &previous)) {
      error = fail("VirtualProtect");
    } else {
      error = after_commit(to + old_size, grown, allocation.flags);
    }
  }
  if (!error && executable) FlushInstructionCache(GetCurrentProcess(), to, old_size);
  return error;
}

// Anonymous memory that is all its allocation holds moves by copy into a new
// allocation of new_size, which becomes the Allocation's.
Error move_anonymous(Allocation& allocation, uint8_t* address, size_t old_size, size_t new_size,
                     uint8_t** moved_to) {
  const bool large = allocation.flags & kHugePages;
  uint8_t* fresh = static_cast<uint8_t*>(
      large ? VirtualAlloc(nullptr, new_size, MEM_RESERVE | MEM_COMMIT | MEM_LARGE_PAGES,
                           PAGE_READWRITE)
            : VirtualAlloc(nullptr, new_size, MEM_RESERVE, PAGE_NOACCESS));
  if (!fresh) return fail("VirtualAlloc");
  if (Error error = copy_anonymous(allocation, address, old_size, new_size, fresh, large)) {
    VirtualFree(fresh, 0, MEM_RELEASE);
    return error;
  }
  // The old pages go as unmap() would take them, all of them at once; a
  // tenant's hosts are let go of after the lock (their ends take it).
  std::vector<Allocation::Lease> hosts;
  PiecesLock lock;
  let_go_of_everything(allocation, address, old_size);
  hosts.swap(allocation.hosts);
  allocation.base = fresh;
  allocation.owns_base = true;
  allocation.live_bytes = new_size;
  *moved_to = fresh;
  return {};
}

// A piece of split anonymous memory moves by copy into a reservation of its
// own, a page larger at both ends (see the top of this part); its old pages
// are given up as unmap() gives them up.
Error move_piece(Allocation& allocation, uint8_t* address, size_t old_size, size_t new_size,
                 uint8_t** moved_to) {
  if (allocation.flags & kHugePages) {
    return Error{Error::kUnsupported, "remap that moves a piece of a split mapping of large pages"};
  }
  const size_t page = page_size();
  const size_t span = new_size + 2 * page;
  auto* fresh = static_cast<uint8_t*>(VirtualAlloc(nullptr, span, MEM_RESERVE, PAGE_NOACCESS));
  if (!fresh) return fail("VirtualAlloc");
  uint8_t* piece = fresh + page;
  Error error = copy_anonymous(allocation, address, old_size, new_size, piece, false);
  if (!error && !VirtualFree(address, old_size, MEM_DECOMMIT)) error = fail("VirtualFree");
  if (error) {
    VirtualFree(fresh, 0, MEM_RELEASE);
    return error;
  }
  PiecesLock lock;
  allocation.moved.push_back(Allocation::Moved{fresh, span, new_size});
  moved_reservations()[fresh] = MovedReservation{span, &allocation};
  count_given_up(allocation, address, old_size);
  *moved_to = piece;
  return {};
}

// A view that is all its allocation holds moves by being mapped anew, over
// the same file or section at the same offset, and new_size long. A private
// view's written pages are its own: those that differ from the file are
// copied into the new view.
Error move_view(Allocation& allocation, uint8_t* address, size_t old_size, size_t new_size,
                uint8_t** moved_to) {
  if (!allocation.file && !allocation.section) {
    return Error{Error::kUnsupported, "remap that moves a view adopted from elsewhere"};
  }
  if (allocation.flags & kHugePages) {
    return Error{Error::kUnsupported, "remap that moves a view of large pages"};
  }
  const uint64_t offset = allocation.object_offset + static_cast<uint64_t>(address - allocation.base);
  const uint64_t view_offset = offset - offset % allocation_granularity();
  const size_t head = static_cast<size_t>(offset - view_offset);
  HANDLE section = allocation.section;
  if (allocation.file) {
    // The whole file as it is now: a larger section would make the file
    // larger (the TypeScript layer checks that the file has the bytes).
    section = CreateFileMappingW(allocation.file, nullptr, allocation.section_protection, 0, 0,
                                 nullptr);
    if (!section) return fail("CreateFileMapping");
  }
  auto* fresh = static_cast<uint8_t*>(MapViewOfFileEx(
      section, allocation.view_access, static_cast<DWORD>(view_offset >> 32),
      static_cast<DWORD>(view_offset), head + new_size, nullptr));
  DWORD map_error = GetLastError();
  if (allocation.file) CloseHandle(section);
  if (!fresh) return Error{static_cast<int>(map_error), "MapViewOfFileEx"};
  uint8_t* piece = fresh + head;

  const bool cow = allocation.copy_on_write && (allocation.view_access & FILE_MAP_COPY);
  DWORD previous;
  Error error;
  if (head && !VirtualProtect(fresh, head, PAGE_NOACCESS, &previous)) {
    error = fail("VirtualProtect");
  }
  // Written private pages, copied while the whole new piece is writable.
  if (!error && cow) {
    if (!VirtualProtect(piece, new_size, PAGE_WRITECOPY, &previous)) error = fail("VirtualProtect");
    const size_t page = page_size();
    if (!error) error = each_region(address, old_size, true, [&](size_t at, size_t length,
                                                                 const MEMORY_BASIC_INFORMATION&) {
      for (size_t p = at; p < at + length; p += page) {
        if (std::memcmp(piece + p, address + p, page) != 0) {
          std::memcpy(piece + p, address + p, page);
        }
      }
      return Error{};
    });
  }
  DWORD last = PAGE_NOACCESS;
  bool executable = false;
  if (!error) error = each_region(address, old_size, false, [&](size_t at, size_t length,
                                                                const MEMORY_BASIC_INFORMATION& info) {
    last = info.Protect;
    DWORD protection = allocation.copy_on_write ? copy_on_write_protection(info.Protect)
                                                : info.Protect;
    executable |= (protection & 0xf0) != 0;
    DWORD before;
    if (!VirtualProtect(piece + at, length, protection, &before)) return fail("VirtualProtect");
    return Error{};
  });
  if (!error) {
    DWORD protection = allocation.copy_on_write ? copy_on_write_protection(last) : last;
    if (!VirtualProtect(piece + old_size, new_size - old_size, protection, &previous)) {
      error = fail("VirtualProtect");
    }
  }
  if (!error) error = after_commit(piece, new_size, allocation.flags);
  if (error) {
    UnmapViewOfFile(fresh);
    return error;
  }
  if (executable) FlushInstructionCache(GetCurrentProcess(), piece, new_size);
  PiecesLock lock;
  let_go_of_everything(allocation, address, old_size);
  allocation.base = fresh;
  allocation.owns_base = true;
  allocation.object_offset = view_offset;
  allocation.live_bytes = new_size;
  *moved_to = piece;
  return {};
}

}  // namespace

Error remap(const AllocationRef& allocation, uint8_t* address, size_t old_size, size_t new_size,
            uint32_t, bool, bool may_move, uint8_t** moved_to) {
  // The pages it gains take the protection of its last page, as VirtualQuery
  // says: the access the binding passes is the same.
  *moved_to = address;
  if (allocation->kind == Allocation::Kind::kRing || !allocation->more_views.empty()) {
    return Error{Error::kUnsupported, "remap of a ring"};
  }
  if (new_size == old_size) return {};
  if (new_size < old_size) {
    // Shrinking gives up the tail, as unmap() of a piece does: any piece may.
    // Only whole pages go: the page that holds the new last byte stays (a
    // size need not be a page multiple), its bytes past the end counted as
    // given up all the same.
    const size_t page = page_size();
    uint8_t* const kept_end = address + (new_size + page - 1) / page * page;
    uint8_t* const old_end = address + old_size;
    if (kept_end < old_end) {
      if (Error error = give_up_pages(allocation, kept_end, old_end - kept_end)) return error;
    }
    PiecesLock lock;
    count_given_up(*allocation, address + new_size, old_size - new_size);
    return {};
  }
  Error error = grow_in_place(*allocation, address, old_size, new_size);
  if (!error || error.code != Error::kCannotGrowInPlace || !may_move) return error;
  // Only this thread changes what this piece holds; other pieces may go
  // meanwhile, which leaves the answer safe (a piece moves as a piece), and
  // none can arrive: adopt() and MAP_FIXED hold exclusive_tracking(), as the
  // binding does around remap().
  bool only;
  {
    PiecesLock lock;
    only = only_piece(*allocation, old_size);
  }
  if (allocation->kind == Allocation::Kind::kAnonymous) {
    return only ? move_anonymous(*allocation, address, old_size, new_size, moved_to)
                : move_piece(*allocation, address, old_size, new_size, moved_to);
  }
  if (!only) {
    return Error{Error::kUnsupported,
                 "remap that moves a piece of a split file or shared-memory mapping"};
  }
  return move_view(*allocation, address, old_size, new_size, moved_to);
}

// --- residency ----------------------------------------------------------------

namespace {

struct WorkingSetEntry {  // PSAPI_WORKING_SET_EX_INFORMATION
  void* address;
  ULONG_PTR attributes;  // bit 0: Valid, the page is in the working set
};
using QueryWorkingSetExFunction = BOOL(WINAPI*)(HANDLE, void*, DWORD);

}  // namespace

Error residency(uint8_t* address, size_t size, uint8_t* pages) {
  // kernel32's copy of psapi's function (Windows 7+, and Wine): no psapi.dll.
  static const auto query_working_set =
      kernel32_function<QueryWorkingSetExFunction>("K32QueryWorkingSetEx");
  if (!query_working_set) return Error{Error::kUnsupported, "QueryWorkingSetEx"};
  constexpr size_t kBatch = 512;
  WorkingSetEntry entries[kBatch];
  const size_t page = page_size();
  // As mincore(2): a length that ends inside a page covers that page.
  const size_t count = (size + page - 1) / page;
  for (size_t done = 0; done < count;) {
    size_t batch = std::min(kBatch, count - done);
    for (size_t i = 0; i < batch; ++i) {
      entries[i] = WorkingSetEntry{address + (done + i) * page, 0};
    }
    if (!query_working_set(GetCurrentProcess(), entries,
                           static_cast<DWORD>(batch * sizeof(WorkingSetEntry)))) {
      return fail("QueryWorkingSetEx");
    }
    for (size_t i = 0; i < batch; ++i) pages[done + i] = entries[i].attributes & 1;
    done += batch;
  }
  return {};
}

// --- rings --------------------------------------------------------------------
//
// Two views of one section, back to back. Where the system has placeholders
// (Windows 10 1803+), a placeholder of 2 * size is split in two and each half
// replaced by a view: no other mapping can land in between at any moment.
// Elsewhere (older Windows; Wine 8, whose VirtualAlloc2 refuses placeholder
// reservations), the fallback finds 2 * size of free address space, frees it
// and maps the two views there; another thread's allocation landing in the
// range in that moment makes a view fail, and the whole is tried again, up to
// kRingAttempts times (then ERROR_INVALID_ADDRESS, EINVAL). The free range is
// looked for top-down, away from where other allocations usually go. A ring's section always has a name (memory of its own
// gets a random one, as anonymous SharedMemory does), so that waits on it
// find each other whichever half they name.

namespace {

constexpr ULONG kMemReservePlaceholder = 0x40000;  // MEM_RESERVE_PLACEHOLDER
constexpr ULONG kMemReplacePlaceholder = 0x4000;   // MEM_REPLACE_PLACEHOLDER
constexpr ULONG kMemPreservePlaceholder = 0x2;     // MEM_PRESERVE_PLACEHOLDER
constexpr int kRingAttempts = 10;

using VirtualAlloc2Function = void*(WINAPI*)(HANDLE, void*, SIZE_T, ULONG, ULONG, void*, ULONG);
using MapViewOfFile3Function = void*(WINAPI*)(HANDLE, HANDLE, void*, ULONG64, SIZE_T, ULONG, ULONG,
                                              void*, ULONG);

template <typename Function>
Function kernelbase_function(const char* name) {
  HMODULE kernelbase = GetModuleHandleW(L"kernelbase.dll");
  if (!kernelbase) return nullptr;
  return reinterpret_cast<Function>(reinterpret_cast<void*>(GetProcAddress(kernelbase, name)));
}

// Both views with placeholders; null with *error set if that cannot be done.
uint8_t* ring_with_placeholders(HANDLE section, size_t size, uint64_t offset, DWORD protection,
                                Error* error) {
  static const auto virtual_alloc2 = kernelbase_function<VirtualAlloc2Function>("VirtualAlloc2");
  static const auto map_view_of_file3 =
      kernelbase_function<MapViewOfFile3Function>("MapViewOfFile3");
  if (!virtual_alloc2 || !map_view_of_file3) {
    *error = Error{Error::kUnsupported, "VirtualAlloc2"};
    return nullptr;
  }
  HANDLE process = GetCurrentProcess();
  auto* base = static_cast<uint8_t*>(virtual_alloc2(
      process, nullptr, 2 * size, MEM_RESERVE | kMemReservePlaceholder, PAGE_NOACCESS, nullptr, 0));
  if (!base) {
    *error = fail("VirtualAlloc2");
    return nullptr;
  }
  if (!VirtualFree(base, size, MEM_RELEASE | kMemPreservePlaceholder)) {
    *error = fail("VirtualFree");
    VirtualFree(base, 0, MEM_RELEASE);
    return nullptr;
  }
  if (!map_view_of_file3(section, process, base, offset, size, kMemReplacePlaceholder, protection,
                         nullptr, 0)) {
    *error = fail("MapViewOfFile3");
    VirtualFree(base, 0, MEM_RELEASE);
    VirtualFree(base + size, 0, MEM_RELEASE);
    return nullptr;
  }
  if (!map_view_of_file3(section, process, base + size, offset, size, kMemReplacePlaceholder,
                         protection, nullptr, 0)) {
    *error = fail("MapViewOfFile3");
    UnmapViewOfFile(base);
    VirtualFree(base + size, 0, MEM_RELEASE);
    return nullptr;
  }
  return base;
}

// Both views where 2 * size bytes were free a moment ago.
uint8_t* ring_in_free_space(HANDLE section, size_t size, uint64_t offset, DWORD view_access,
                            Error* error) {
  const DWORD high = static_cast<DWORD>(offset >> 32), low = static_cast<DWORD>(offset);
  for (int attempt = 0; attempt < kRingAttempts; ++attempt) {
    // From the top of the address space down, where the allocations that
    // could race this one (bottom-up, the default) rarely are.
    void* room = VirtualAlloc(nullptr, 2 * size, MEM_RESERVE | MEM_TOP_DOWN, PAGE_NOACCESS);
    if (!room) {
      *error = fail("VirtualAlloc");
      return nullptr;
    }
    VirtualFree(room, 0, MEM_RELEASE);
    auto* base = static_cast<uint8_t*>(room);
    if (!MapViewOfFileEx(section, view_access, high, low, size, base)) {
      *error = fail("MapViewOfFileEx");
      if (error->code == ERROR_INVALID_ADDRESS) continue;
      return nullptr;
    }
    if (!MapViewOfFileEx(section, view_access, high, low, size, base + size)) {
      *error = fail("MapViewOfFileEx");
      UnmapViewOfFile(base);
      if (error->code == ERROR_INVALID_ADDRESS) continue;
      return nullptr;
    }
    return base;
  }
  return nullptr;
}

}  // namespace

Error map_ring(size_t size, FileHandle shared_memory, uint64_t offset, uint32_t access,
               Mapping* out) {
  if (size == 0 || size % allocation_granularity() != 0 ||
      offset % allocation_granularity() != 0 || size > SIZE_MAX / 2) {
    return Error{ERROR_INVALID_PARAMETER, "MapViewOfFileEx"};
  }
  HANDLE own = nullptr;
  if (shared_memory == -1) {
    FileHandle made;
    if (Error error = shm_create(std::string(), size, true, &made)) return error;
    own = reinterpret_cast<HANDLE>(made);
    offset = 0;
  }
  HANDLE section = own ? own : reinterpret_cast<HANDLE>(shared_memory);
  // The widest view that grants `access` (the ceiling for protect()), then
  // the protection asked for.
  static const DWORD kViews[] = {FILE_MAP_WRITE, FILE_MAP_READ};
  uint8_t* base = nullptr;
  DWORD view_access = 0;
  Error error{ERROR_ACCESS_DENIED, "MapViewOfFileEx"};
  for (DWORD candidate : kViews) {
    if (base || error.code != ERROR_ACCESS_DENIED) break;
    if (!view_grants(candidate, access)) continue;
    view_access = candidate;
    DWORD protection = candidate == FILE_MAP_WRITE ? PAGE_READWRITE : PAGE_READONLY;
    Error placeholder_error;
    base = ring_with_placeholders(section, size, offset, protection, &placeholder_error);
    if (!base) base = ring_in_free_space(section, size, offset, view_access, &error);
  }
  auto allocation = base ? std::make_shared<Allocation>(Allocation::Kind::kRing, base, true)
                         : nullptr;
  if (allocation) {
    allocation->more_views.push_back(base + size);
    allocation->ring_size = size;
    allocation->view_access = view_access;
    allocation->object_offset = offset;
    set_wait_scope(*allocation, section, false);
    error = per_view(allocation, base, 2 * size, [&](uint8_t* at, size_t length) -> Error {
      DWORD previous;
      if (!VirtualProtect(at, length, protection_of(access, false), &previous)) {
        return fail("VirtualProtect");
      }
      return {};
    });
  }
  // The views hold the section open for as long as they exist.
  if (own) CloseHandle(own);
  if (!allocation) return error;
  if (error) return error;  // the views go with `allocation`
  allocation->live_bytes = 2 * size;
  *out = Mapping{base, 2 * size, std::move(allocation)};
  return {};
}

size_t page_size() { return system_info().dwPageSize; }

size_t allocation_granularity() { return system_info().dwAllocationGranularity; }

// Windows has one large page size (2 MiB on x64), or none.
size_t default_huge_page_size() { return GetLargePageMinimum(); }

std::vector<size_t> page_sizes() {
  std::vector<size_t> sizes{page_size()};
  if (size_t large = default_huge_page_size()) sizes.push_back(large);
  return sizes;
}

// Windows does not say how many large pages it could find.
int64_t free_huge_pages(size_t) { return -1; }

namespace {

struct ErrorName {
  DWORD code;
  const char* name;
  int errno_value;  // libuv's number on Windows, as Node's errors carry it
};

// What the memory and file calls above fail with, by the errno name POSIX
// would have used for the same failure.
const ErrorName kErrorNames[] = {
    {ERROR_NOT_ENOUGH_MEMORY, "ENOMEM", -4057},
    {ERROR_OUTOFMEMORY, "ENOMEM", -4057},
    {ERROR_COMMITMENT_LIMIT, "ENOMEM", -4057},
    {ERROR_COMMITMENT_MINIMUM, "ENOMEM", -4057},
    {ERROR_NO_SYSTEM_RESOURCES, "ENOMEM", -4057},
    {ERROR_WORKING_SET_QUOTA, "ENOMEM", -4057},
    {ERROR_PAGEFILE_QUOTA, "ENOMEM", -4057},
    {ERROR_ACCESS_DENIED, "EACCES", -4092},
    {ERROR_INVALID_HANDLE, "EBADF", -4083},
    {ERROR_INVALID_PARAMETER, "EINVAL", -4071},
    {ERROR_INVALID_ADDRESS, "EINVAL", -4071},
    {ERROR_INVALID_FLAGS, "EINVAL", -4071},
    {ERROR_MAPPED_ALIGNMENT, "EINVAL", -4071},
    {ERROR_FILE_INVALID, "EINVAL", -4071},
    {ERROR_PRIVILEGE_NOT_HELD, "EPERM", -4048},
    {ERROR_NOACCESS, "EFAULT", -4074},
    {ERROR_NOT_SUPPORTED, "ENOTSUP", -4049},
    {ERROR_CALL_NOT_IMPLEMENTED, "ENOSYS", -4054},
    {ERROR_DISK_FULL, "ENOSPC", -4055},
    {ERROR_HANDLE_DISK_FULL, "ENOSPC", -4055},
    {ERROR_WRITE_PROTECT, "EROFS", -4043},
    {ERROR_LOCK_VIOLATION, "EBUSY", -4082},
    {ERROR_SHARING_VIOLATION, "EBUSY", -4082},
    {ERROR_USER_MAPPED_FILE, "EBUSY", -4082},
    {ERROR_TOO_MANY_OPEN_FILES, "EMFILE", -4066},
    {ERROR_FILE_NOT_FOUND, "ENOENT", -4058},
    {ERROR_PATH_NOT_FOUND, "ENOENT", -4058},
    {ERROR_ALREADY_EXISTS, "EEXIST", -4075},
    {ERROR_ARITHMETIC_OVERFLOW, "EOVERFLOW", -4026},
    {ERROR_IO_DEVICE, "EIO", -4070},
    {ERROR_CRC, "EIO", -4070},
};

constexpr int kUnknownErrno = -4094;  // UV_UNKNOWN
constexpr int kNoSuchProcessErrno = -4040;  // UV_ESRCH

std::string system_message(DWORD code) {
  char* text = nullptr;
  DWORD length = FormatMessageA(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, code, MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), reinterpret_cast<char*>(&text), 0,
      nullptr);
  std::string message(text ? text : "", length);
  if (text) LocalFree(text);
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r' ||
                              message.back() == ' ' || message.back() == '.')) {
    message.pop_back();
  }
  char number[32];
  std::snprintf(number, sizeof number, "Windows error %lu", static_cast<unsigned long>(code));
  return message.empty() ? number : message + " (" + number + ")";
}

}  // namespace

ErrorText describe(const Error& error) {
  if (error.code == Error::kNoSuchProcess) return {"ESRCH", kNoSuchProcessErrno, "no such process"};
  DWORD code = static_cast<DWORD>(error.code);
  for (const ErrorName& entry : kErrorNames) {
    if (entry.code == code) return {entry.name, entry.errno_value, system_message(code)};
  }
  return {"UNKNOWN", kUnknownErrno, system_message(code)};
}

}  // namespace memmap::os
