// Touching mapped pages without dying, and saying why when something dies.
//
// Any touch of a mapped page can fault: the file under it was truncated
// (SIGBUS), another handle over the same pages made them inaccessible
// (SIGSEGV), the device failed to read them (SIGBUS; EXCEPTION_IN_PAGE_ERROR
// on Windows). The guarded operations turn such a fault into a return value.
// Everything else that faults is passed on untouched to whatever handled it
// before us (Node's WebAssembly trap handler among others), after one line on
// stderr when the address lies in pages a live handle owns.
//
// fault_posix.cc (sigaction, sigsetjmp) and fault_windows.cc (a vectored
// exception handler) implement the functions; the registry of live ranges and
// the diagnostic line below are shared by both and safe in a signal handler.
// Plain C++ over the OS, no Node-API types.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <map>
#include <vector>

#include "os.h"

namespace memmap::os {

// The bytes an operation touches: only a fault at an address in [begin, end),
// raised on the calling thread during the operation, is claimed.
struct GuardedRange {
  uintptr_t begin;
  uintptr_t end;
  bool Holds(uintptr_t address) const { return address >= begin && address < end; }
};

inline GuardedRange RangeOf(const void* start, size_t size) {
  auto begin = reinterpret_cast<uintptr_t>(start);
  return {begin, begin + size};
}

// A claimed fault.
struct Fault {
  uintptr_t address = 0;
  const char* signal = nullptr;  // "SIGBUS", "SIGSEGV", or the Windows exception
};

// memmove(to, from, size) and memset(to, value, size), guarded on both
// sides: the JavaScript side of a copy may itself be mapped pages (a memmap
// view of a truncated file, or of read-only pages). False, with *fault set,
// when a touched page faulted; the destination then holds an unspecified
// part of the bytes. The first call installs the fault handler.
bool guarded_move(void* to, const void* from, size_t size, Fault* fault);
bool guarded_fill(void* to, uint8_t value, size_t size, Fault* fault);

// Installs the fault handler once per process; later calls do nothing.
void install_fault_handler();

// The live ranges of the crash diagnostics and of ownership checks, track()
// and friends, are defined at the end; track() installs the fault handler.

// ---------------------------------------------------------------------------
// Shared by fault_posix.cc and fault_windows.cc.
namespace fault_detail {

// One live range. Writers hold the registry mutex; the fault handler reads
// without locking, so every field is atomic and `begin` (0 = free, which is
// why address 0 is never mapped) is written last and cleared first.
struct Slot {
  std::atomic<uintptr_t> begin{0};
  std::atomic<uintptr_t> end{0};
  std::atomic<uint32_t> access{0};
};

// Slots live in chunks that are linked once and never freed, so that a
// handler walking them never meets freed memory.
struct Chunk {
  static constexpr size_t kSlots = 256;
  Slot slots[kSlots];
  std::atomic<Chunk*> next{nullptr};
};

// Each live range is owned by the one region that tracked it: only the slot
// Track() returned can change or free it, so a region that lingers (its
// release deferred) can never remove an entry that another region made at
// the same address. Live ranges never overlap: mappings that could land on
// owned pages (MAP_FIXED, adoption) check and track under Exclusive().
class Registry {
 public:
  Registry() {
    for (Slot& slot : first_.slots) free_.push_back(&slot);
  }

  Slot* Track(uintptr_t begin, size_t size, uint32_t access) {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    if (free_.empty()) Grow();
    Slot* slot = free_.back();
    free_.pop_back();
    slot->access.store(access, std::memory_order_relaxed);
    Publish(slot, begin, size);
    return slot;
  }

  void Retrack(Slot* slot, uint32_t access) {
    slot->access.store(access, std::memory_order_release);
  }

  // A split or merge changed the owner's range.
  void Move(Slot* slot, uintptr_t begin, size_t size) {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    by_begin_.erase(slot->begin.load(std::memory_order_relaxed));
    slot->begin.store(0, std::memory_order_release);
    Publish(slot, begin, size);
  }

  void Untrack(Slot* slot) {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    by_begin_.erase(slot->begin.load(std::memory_order_relaxed));
    slot->begin.store(0, std::memory_order_release);
    free_.push_back(slot);
  }

  // Whether any live range overlaps [begin, begin + size).
  bool Overlaps(uintptr_t begin, size_t size) {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    auto next = by_begin_.lower_bound(begin + size);
    if (next == by_begin_.begin()) return false;
    --next;  // the last range starting below the end
    return next->second->end.load(std::memory_order_relaxed) > begin;
  }

  // Keeps every other thread from tracking or untracking while held, so
  // that "no live range is there" stays true until the caller has tracked
  // what it mapped there.
  std::unique_lock<std::recursive_mutex> Exclusive() {
    return std::unique_lock<std::recursive_mutex>(mutex_);
  }

  // The live range holding `address`, read without locks (signal-safe).
  bool Find(uintptr_t address, uintptr_t* begin, uintptr_t* end, uint32_t* access) const {
    for (const Chunk* chunk = &first_; chunk; chunk = chunk->next.load(std::memory_order_acquire)) {
      for (const Slot& slot : chunk->slots) {
        uintptr_t start = slot.begin.load(std::memory_order_acquire);
        if (start == 0 || address < start) continue;
        uintptr_t stop = slot.end.load(std::memory_order_relaxed);
        if (address >= stop) continue;
        *begin = start;
        *end = stop;
        *access = slot.access.load(std::memory_order_relaxed);
        return true;
      }
    }
    return false;
  }

 private:
  // Address 0 is never tracked: memmap refuses to map there.
  void Publish(Slot* slot, uintptr_t begin, size_t size) {
    slot->end.store(begin + size, std::memory_order_relaxed);
    slot->begin.store(begin, std::memory_order_release);
    by_begin_[begin] = slot;
  }

  void Grow() {
    Chunk* chunk = new Chunk;
    for (Slot& slot : chunk->slots) free_.push_back(&slot);
    last_->next.store(chunk, std::memory_order_release);
    last_ = chunk;
  }

  std::recursive_mutex mutex_;
  Chunk first_;
  Chunk* last_ = &first_;
  std::vector<Slot*> free_;
  std::map<uintptr_t, Slot*> by_begin_;  // ordered, for Overlaps(); starts are unique
};

inline Registry registry;

// Appends text to a fixed buffer without allocating (signal-safe).
class Line {
 public:
  Line& Text(const char* text) {
    while (*text && length_ < sizeof(buffer_)) buffer_[length_++] = *text++;
    return *this;
  }
  Line& Hex(uintptr_t value) {
    char digits[2 * sizeof(value)];
    size_t count = 0;
    do {
      digits[count++] = "0123456789abcdef"[value & 0xf];
      value >>= 4;
    } while (value);
    Text("0x");
    while (count && length_ < sizeof(buffer_)) buffer_[length_++] = digits[--count];
    return *this;
  }
  Line& Decimal(uintptr_t value) {
    char digits[20];
    size_t count = 0;
    do {
      digits[count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value);
    while (count && length_ < sizeof(buffer_)) buffer_[length_++] = digits[--count];
    return *this;
  }
  const char* data() const { return buffer_; }
  size_t size() const { return length_; }

 private:
  char buffer_[256];
  size_t length_ = 0;
};

inline const char* AccessName(uint32_t access) {
  switch (access & (kRead | kWrite | kExec)) {
    case kNone: return "none";
    case kRead: return "read-only";
    case kRead | kWrite: return "read-write";
    case kRead | kExec: return "read-exec";
    case kRead | kWrite | kExec: return "read-write-exec";
    default: return "unusual";
  }
}

// The diagnostic for an unclaimed fault at `address`; false when no live
// handle owns the address.
inline bool DescribeFault(const char* signal, uintptr_t address, Line* line) {
  uintptr_t begin, end;
  uint32_t access;
  if (!registry.Find(address, &begin, &end, &access)) return false;
  line->Text("memmap: ").Text(signal).Text(" at ").Hex(address)
      .Text(", offset ").Decimal(address - begin)
      .Text(" of a live memmap handle [").Hex(begin).Text(", ").Hex(end)
      .Text(") with protection ").Text(AccessName(access)).Text("\n");
  return true;
}

}  // namespace fault_detail

using RangeOwner = fault_detail::Slot;

inline RangeOwner* track(uintptr_t begin, size_t size, uint32_t access) {
  install_fault_handler();
  return fault_detail::registry.Track(begin, size, access);
}
inline void retrack(RangeOwner* owner, uint32_t access) {
  fault_detail::registry.Retrack(owner, access);
}
inline void move_tracked(RangeOwner* owner, uintptr_t begin, size_t size) {
  fault_detail::registry.Move(owner, begin, size);
}
inline void untrack(RangeOwner* owner) { fault_detail::registry.Untrack(owner); }
// Whether a live range overlaps [begin, begin + size).
inline bool tracked(uintptr_t begin, size_t size) {
  return fault_detail::registry.Overlaps(begin, size);
}
// Held while checking that a range is free and mapping and tracking it.
inline std::unique_lock<std::recursive_mutex> exclusive_tracking() {
  return fault_detail::registry.Exclusive();
}

}  // namespace memmap::os
