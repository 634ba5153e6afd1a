// Ownership of one handle's pages, and the ArrayBuffers that expose them.
//
// A Region is owned through std::shared_ptr by the JavaScript handle's wrap,
// by every ArrayBuffer view it handed out, and by every piece of async work
// running on it. The pages themselves are released exactly once:
//   - explicitly (unmap): every view is detached first, then the pages are
//     unmapped at once, or when the last pin (async work) lets go, or when the
//     last view it could not detach (see DetachViews) is finalized;
//   - by garbage collection: when the last owner drops, the destructor unmaps.
// A release that fails is never silent: an explicit unmap() throws and the
// region stays live; a deferred one is retried (RetryReleases).
// Finalizers only ever drop a shared_ptr.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "os/fault.h"
#include "os/os.h"
#include "sharing.h"

namespace memmap {

struct Addon;

class Region : public std::enable_shared_from_this<Region> {
 public:
  enum class State { kLive, kEnded, kReleased };

  Region(Addon* addon, os::Mapping mapping, uint32_t access, bool reserved, bool anonymous);
  // A handle of this thread over pages that another thread shared.
  Region(Addon* addon, std::shared_ptr<SharedPages> pages);
  ~Region();
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

  uint8_t* address() const { return address_; }
  size_t size() const { return size_; }
  bool live() const { return state_ == State::kLive; }
  uint32_t access() const { return access_; }
  bool reserved() const { return reserved_; }
  // Bumped whenever the handle over this region is consumed (it ends, is
  // reprotected, split or merged), so that whatever was made from an older
  // generation (asFunction, spans, a handle's accessors) knows it is gone.
  uint64_t generation() const { return generation_; }

  // A new external ArrayBuffer over [offset, offset + length).
  Napi::Value NewView(Napi::Env env, size_t offset, size_t length);
  // Detaches every view handed out so far and forgets it. A view that cannot
  // be detached (collected, or moved out by ArrayBuffer.prototype.transfer())
  // keeps the pages mapped until its finalizer runs. Returns whether a view
  // was moved out (now or before) and is still alive elsewhere, so that the
  // pages must not change.
  bool DetachViews(Napi::Env env);
  // The handle over this region was consumed: a new generation starts.
  void Consume() { ++generation_; }
  // Whether async work is running on the pages.
  bool pinned() const { return pins_ > 0; }

  // Shares the pages with other threads (sharing.h); `description` is what
  // fromShared() will make of them. Returns the id a token names them by.
  uint64_t Share(const HandleDescription& description);
  // The shared pages, or null while this region owns its pages alone.
  const std::shared_ptr<SharedPages>& shared() const { return shared_; }
  // Owns the pages alone again, withdrawing the token, unless another holder
  // remains: then false, and whatever would change the pages for everyone
  // (reprotecting, splitting, merging, giving them up) must be refused.
  // With `other` (a merge), both regions are taken back or neither is.
  // Taking back withdraws the tokens for good: no thread can become a
  // holder afterwards, and a refusal after it does not publish them again.
  // So callers take back once their own checks (ring, pinned) pass, before
  // detaching views and the OS call; a merge also before asking the
  // platform (os::mergeable), so that shared pages are refused first, and a
  // merge then refused for its backing has already closed the last
  // holder's older tokens.
  bool Unshare(Region* other = nullptr);

  // Ends the region and unmaps its pages, now or after the last pin or
  // unaccounted view. An immediate unmap that fails returns its error and
  // leaves the region live (its views detached).
  os::Error Unmap(Napi::Env env);
  // Ends the region and leaves its pages mapped for someone else (intoRaw,
  // or the piece a merge absorbs): they stop being ours at once.
  void GiveUp(Napi::Env env);
  // At environment teardown, once Node finalized the views (see
  // BeginTeardown): ends the region; its pages go when nothing can reach them.
  void EndAtTeardown();

  // Reports anonymous pages to V8 as external memory while the region lives.
  void Account(Napi::Env env);
  void set_access(uint32_t access) {
    access_ = access;
    if (owner_) os::retrack(owner_, access);  // an empty handle owns no range
  }
  void set_committed() { reserved_ = false; }

  // Resizes the pages to `size` (see os::remap), in place or, with
  // `may_move`, anywhere; the caller has detached the views. On error the
  // region is as it was.
  os::Error Remap(Napi::Env env, size_t size, bool may_move);
  // Whether the region is a double-mapped ring (never split or merged).
  bool ring() const { return ring_; }
  void set_ring() { ring_ = true; }

  // Moves [at, size) (keep_low) or [0, at) (!keep_low) into a new region.
  // The caller has detached this region's views.
  std::shared_ptr<Region> Split(size_t at, bool keep_low);
  // Takes over `next`, which must start where this region ends. The caller
  // has detached the views of both.
  void Absorb(Napi::Env env, Region& next);

  // Async work pins the pages so that an unmap cannot happen under it.
  void Pin() { ++pins_; }
  void Unpin();

  const os::AllocationRef& allocation() const { return allocation_; }
  // The next region of the same environment (Addon::regions).
  Region* next() const { return next_; }

 private:
  struct View;
  static void FinalizeView(napi_env env, void* data, void* hint);
  bool Idle() const { return pins_ == 0 && unaccounted_ == 0; }
  // Unmaps (unless given up), stops owning the range and ends the region.
  os::Error Release();
  // Releases an ended region once nothing can touch its pages any more; a
  // failure leaves the pages to the environment's retry list.
  void ReleaseIfIdle();
  void ReleaseOrRetryLater();

  Addon* addon_;
  uint8_t* address_;
  size_t size_;
  os::AllocationRef allocation_;
  // Set once the pages are shared: they are unmapped when the last holder
  // of it goes, and the registry entry is its (owner_ is then null).
  std::shared_ptr<SharedPages> shared_;
  os::RangeOwner* owner_;  // this region's entry in the registry of live ranges
  uint32_t access_;
  bool reserved_;
  bool anonymous_;
  bool ring_ = false;
  State state_ = State::kLive;
  bool release_on_end_ = true;
  // A view that may live on in another thread outlived this environment:
  // the pages stay mapped and owned for the life of the process.
  bool escaped_ = false;
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

// Unmaps what deferred releases of this environment failed to unmap.
void RetryReleases(Addon* addon);

}  // namespace memmap
