// Ownership of one handle's pages, and the ArrayBuffers that expose them.
//
// A Region is owned through std::shared_ptr by the JavaScript handle's wrap,
// by every ArrayBuffer view it handed out, and by every piece of async work
// running on it. The pages themselves are released exactly once:
//   - explicitly (unmap, consume): End() detaches every view first, then
//     unmaps at once, or when the last pin (async work) lets go, or when the
//     last view it could not detach (see DetachViews) is finalized;
//   - by garbage collection: when the last owner drops, the destructor unmaps.
// Finalizers only ever drop a shared_ptr.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "os/fault.h"
#include "os/os.h"

namespace memmap {

struct Addon;

class Region : public std::enable_shared_from_this<Region> {
 public:
  enum class State { kLive, kEnded, kReleased };

  Region(Addon* addon, os::Mapping mapping, uint32_t access, bool reserved, bool anonymous);
  ~Region();
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

  uint8_t* address() const { return address_; }
  size_t size() const { return size_; }
  bool live() const { return state_ == State::kLive; }
  // Bumped whenever a handle over this region is consumed, so that callers
  // holding an older generation (asFunction) know their handle is gone.
  uint64_t generation() const { return generation_; }

  // A new external ArrayBuffer over [offset, offset + length).
  Napi::Value NewView(Napi::Env env, size_t offset, size_t length);
  // Detaches every view handed out so far and forgets it. A view that cannot
  // be detached (collected, or moved out by ArrayBuffer.prototype.transfer())
  // keeps the pages mapped until its finalizer runs. Returns whether a view
  // was moved out (now or before) and is still alive elsewhere, so that the
  // pages must not change.
  bool DetachViews(Napi::Env env);
  // Starts a new handle generation: old views are detached (as above).
  bool Consume(Napi::Env env);
  // Whether async work is running on the pages.
  bool pinned() const { return pins_ > 0; }

  // Ends the region: views detached, pages unmapped now or after the last
  // pin. With `release` false the pages are left mapped (intoRaw).
  void End(Napi::Env env, bool release = true);

  // Reports anonymous pages to V8 as external memory while the region lives.
  void Account(Napi::Env env);
  void set_access(uint32_t access) {
    access_ = access;
    os::retrack(reinterpret_cast<uintptr_t>(address_), access);
  }
  void set_committed() { reserved_ = false; }

  // Moves [at, size) (keep_low) or [0, at) (!keep_low) into a new region.
  // The caller has consumed this region (its views are gone).
  std::shared_ptr<Region> Split(size_t at, bool keep_low);
  // Takes over `next`, which must start where this region ends. The caller
  // has consumed both.
  void Absorb(Napi::Env env, Region& next);

  // Async work pins the pages so that End() cannot unmap under it.
  void Pin() { ++pins_; }
  void Unpin();

  const os::AllocationRef& allocation() const { return allocation_; }
  // The next region of the same environment (Addon::regions).
  Region* next() const { return next_; }

 private:
  struct View;
  static void FinalizeView(napi_env env, void* data, void* hint);
  void Release();
  // Releases an ended region once no async work and no unaccounted view
  // can still touch its pages.
  void ReleaseIfIdle();

  Addon* addon_;
  uint8_t* address_;
  size_t size_;
  os::AllocationRef allocation_;
  uint32_t access_;
  bool reserved_;
  bool anonymous_;
  State state_ = State::kLive;
  bool release_on_end_ = true;
  int pins_ = 0;
  int unaccounted_ = 0;
  int moved_ = 0;
  uint64_t generation_ = 0;
  int64_t accounted_ = 0;
  std::vector<View*> views_;
  Region* prev_ = nullptr;
  Region* next_ = nullptr;
};

// Whether [offset, offset + length) lies inside `region`; if not,
// ERR_MMAP_OUT_OF_BOUNDS is thrown. The TypeScript layer checks first: this
// is the binding's own line of defence.
bool Inside(Napi::Env env, const Region& region, size_t offset, size_t length);

// Whether any live region of any thread overlaps [address, address + size).
bool IsOwned(uintptr_t address, size_t size);

}  // namespace memmap
