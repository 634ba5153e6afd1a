// Pages held by handles of several threads at once (share() and
// fromShared()) and by SharedArrayBuffers over them (sharedBuffer()).
//
// A Region is one thread's handle. Once its pages are shared, a
// SharedPages owns them instead: each Region over them (one per handle, in
// any thread) and each SharedArrayBuffer holds it through shared_ptr, and
// the last to let go unmaps, in whatever thread that is. A share() token
// names a SharedPages by id in a process-wide table; only the SharedPages
// itself (when it goes) or its last holder (taking the pages back) removes
// that entry.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>

#include "os/fault.h"
#include "os/os.h"

namespace memmap {

// What a handle is, for fromShared() to make one of the same kind: the
// TypeScript layer's description, opaque here.
struct HandleDescription {
  uint32_t kind = 0;
  uint32_t access = 0;
  uint32_t flags = 0;
  uint32_t unsafe_flags = 0;
  double page_size = 0;
};

class SharedPages {
 public:
  // Takes over `mapping` and its entry in the registry of live ranges.
  SharedPages(const os::Mapping& mapping, os::RangeOwner* owner,
              const HandleDescription& description, bool reserved);
  ~SharedPages();
  SharedPages(const SharedPages&) = delete;
  SharedPages& operator=(const SharedPages&) = delete;

  // Makes `pages` reachable by its id; returns the id.
  static uint64_t Publish(const std::shared_ptr<SharedPages>& pages);
  // The pages a token's id names, or null when they are gone (or the id was
  // never one of this process's).
  static std::shared_ptr<SharedPages> Find(double id);
  // A holder's reference to its pages (null if it has none), and where
  // their registry entry goes back to.
  struct Holder {
    std::shared_ptr<SharedPages>& pages;
    os::RangeOwner*& owner;
  };
  // Called by the only holder left: withdraws the id and hands back the
  // registry entry, so that the holder owns the pages alone again. Takes
  // back all of `holders` or, with nothing changed, none (false) while
  // anyone else (a handle in any thread, a SharedArrayBuffer) still holds
  // any of them.
  static bool TakeBack(std::initializer_list<Holder> holders);

  uint8_t* address() const { return mapping_.address; }
  size_t size() const { return mapping_.size; }
  const os::AllocationRef& allocation() const { return mapping_.allocation; }
  const HandleDescription& description() const { return description_; }
  bool reserved() const { return reserved_; }
  uint64_t id() const { return id_; }

 private:
  os::Mapping mapping_;
  os::RangeOwner* owner_;
  HandleDescription description_;
  bool reserved_;
  uint64_t id_ = 0;
  bool taken_back_ = false;
};

}  // namespace memmap
