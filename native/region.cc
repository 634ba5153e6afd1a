#include "region.h"

#include <algorithm>

#include "addon.h"
#include "errors.h"

namespace memmap {

namespace {

// V8 sees neither the pages nor their cost. Reporting (part of) the size of
// anonymous memory as external memory makes collection run when dropped
// handles pile up; the cap keeps one huge mapping from forcing a collection
// on every creation. File pages are the page cache's, and are not counted.
constexpr int64_t kAccountingCap = int64_t{64} << 20;
// What a mapping costs the process beside its pages: its handle, view and
// their native records (measured: a live 4 KiB mapping adds 6 KiB to the
// resident set). Counted too, so that many small dropped mappings are
// collected before their pages pile up.
constexpr int64_t kBookkeeping = 2048;

// Views are not taken back out of V8's count, although they cost no memory of
// their own: V8 resets its limit at each collection, and handing the count
// back when a view dies crosses that limit and forces more collections than
// it saves (measured: 19 against 11 over 30 map/view/unmap rounds).

}  // namespace

bool Inside(Napi::Env env, const Region& region, size_t offset, size_t length) {
  if (offset <= region.size() && length <= region.size() - offset) return true;
  ThrowError(env, "ERR_MMAP_OUT_OF_BOUNDS",
             "range offset " + std::to_string(offset) + ", length " + std::to_string(length) +
                 " exceeds the mapping's size " + std::to_string(region.size()));
  return false;
}

void RetryReleases(Addon* addon) {
  auto& leftovers = addon->leftovers;
  leftovers.erase(std::remove_if(leftovers.begin(), leftovers.end(),
                                 [](Leftover& pages) {
                                   if (os::unmap(pages.allocation, pages.address, pages.size)) {
                                     return false;
                                   }
                                   os::untrack(pages.owner);
                                   return true;
                                 }),
                  leftovers.end());
}

struct Region::View {
  std::shared_ptr<Region> region;
  napi_ref ref = nullptr;  // weak; null once detached (or escaped) and forgotten
  bool creating = true;
  bool unaccounted = false;  // see DetachViews
  bool moved = false;        // its pages live on in a buffer we never see
};

// Every live region of the process, across all threads, owns its range in
// the OS layer's registry of live ranges: the fault handler's diagnostics
// read it, and mapFromExisting() and MAP_FIXED refuse ranges in it.
Region::Region(Addon* addon, os::Mapping mapping, uint32_t access, bool reserved,
               bool anonymous)
    : addon_(addon),
      address_(mapping.address),
      size_(mapping.size),
      allocation_(std::move(mapping.allocation)),
      // An empty handle has no pages to own.
      owner_(size_ ? os::track(reinterpret_cast<uintptr_t>(address_), size_, access) : nullptr),
      access_(access),
      reserved_(reserved),
      anonymous_(anonymous) {
  next_ = addon_->regions;
  if (next_) next_->prev_ = this;
  addon_->regions = this;
}

Region::Region(Addon* addon, std::shared_ptr<SharedPages> pages)
    : addon_(addon),
      address_(pages->address()),
      size_(pages->size()),
      allocation_(pages->allocation()),
      shared_(std::move(pages)),
      owner_(nullptr),
      access_(shared_->description().access),
      reserved_(shared_->reserved()),
      // The thread that mapped anonymous pages accounts for them.
      anonymous_(false) {
  next_ = addon_->regions;
  if (next_) next_->prev_ = this;
  addon_->regions = this;
}

Region::~Region() {
  if (state_ != State::kReleased) ReleaseOrRetryLater();
  (prev_ ? prev_->next_ : addon_->regions) = next_;
  if (next_) next_->prev_ = prev_;
  if (addon_->regions == nullptr && addon_->orphaned) delete addon_;
}

void Region::Account(Napi::Env env) {
  int64_t amount = std::min<int64_t>(static_cast<int64_t>(size_) + kBookkeeping, kAccountingCap);
  int64_t ignored;
  if (anonymous_ && !reserved_ && accounted_ == 0 &&
      napi_adjust_external_memory(env, amount, &ignored) == napi_ok) {
    accounted_ = amount;
  }
}

os::Error Region::Release() {
  if (escaped_) {
    // Deliberately leaked, owner entry and all: a buffer in another thread
    // may still read these pages, and nothing may ever map over them.
    new os::AllocationRef(std::move(allocation_));
    if (shared_) new std::shared_ptr<SharedPages>(std::move(shared_));
  } else if (shared_) {
    // One holder less; the last one unmaps.
    allocation_.reset();
    shared_.reset();
  } else {
    if (release_on_end_ && size_ > 0) {
      os::Error error = os::unmap(allocation_, address_, size_);
      if (error) return error;
    }
    // The last piece of an allocation lets the OS layer release what it
    // keeps for the whole allocation, now rather than when views are collected.
    allocation_.reset();
    if (owner_) os::untrack(owner_);
  }
  owner_ = nullptr;
  if (accounted_ && !addon_->tearing_down) {
    int64_t ignored;
    napi_adjust_external_memory(addon_->env, -accounted_, &ignored);
  }
  accounted_ = 0;
  state_ = State::kReleased;
  return {};
}

void Region::ReleaseOrRetryLater() {
  if (!Release()) return;
  // Still mapped (munmap can fail at the kernel's map-count limit) and still
  // owned, so that nothing adopts or maps over them; retried on later calls.
  addon_->leftovers.push_back({std::move(allocation_), address_, size_, owner_});
  owner_ = nullptr;
  state_ = State::kReleased;
}

Napi::Value Region::NewView(Napi::Env env, size_t offset, size_t length) {
  if (addon_->external_buffers_refused) {
    return ThrowExternalBuffersUnsupported(env);
  }
  if (size_ == 0) {
    // An empty handle's views reach no pages: plain empty buffers, with
    // nothing to detach.
    napi_value empty;
    if (napi_create_arraybuffer(env, 0, nullptr, &empty) != napi_ok) return Napi::Value();
    return Napi::Value(env, empty);
  }
  View* view = new View{shared_from_this()};
  napi_value buffer;
  napi_status status = napi_create_external_arraybuffer(
      env, address_ + offset, length, FinalizeView, view, &buffer);
  // Node calls the finalizer itself on some failures; `creating` tells it
  // to leave the View to us.
  view->creating = false;
  if (status != napi_ok) {
    delete view;
    return status == napi_no_external_buffers_allowed ? ThrowExternalBuffersUnsupported(env)
                                                      : Napi::Value();
  }
  if (napi_create_reference(env, buffer, 0, &view->ref) != napi_ok) {
    // A view we could not detach later must not exist: detach it now and
    // leave the View to its finalizer.
    view->ref = nullptr;
    napi_detach_arraybuffer(env, buffer);
    return Napi::Value();
  }
  views_.push_back(view);
  return Napi::Value(env, buffer);
}

void Region::FinalizeView(napi_env env, void*, void* hint) {
  View* view = static_cast<View*>(hint);
  if (view->creating) return;
  Region& region = *view->region;
  // A view finalized while we still track it: collected, or forced by a
  // teardown that came before the sentinel could say so (it is refreshed
  // once per turn). This view may then have moved out: sorted out with the
  // rest, it counts as such.
  if (view->ref && !region.addon_->tearing_down && JavaScriptStopped(env)) {
    BeginTeardown(region.addon_);
  }
  if (view->ref) {
    region.views_.erase(std::find(region.views_.begin(), region.views_.end(), view));
    napi_delete_reference(env, view->ref);
  }
  if (view->moved) --region.moved_;
  if (view->unaccounted) {
    if (region.addon_->tearing_down) {
      // Node finalizes every buffer of a dying environment, including one
      // moved out to another thread that may still use the pages.
      region.escaped_ = true;
    } else if (--region.unaccounted_ == 0) {
      region.ReleaseIfIdle();
    }
  }
  delete view;  // may drop the last owner, and so unmap
}

bool Region::DetachViews(Napi::Env env) {
  if (addon_->tearing_down) return moved_ > 0;
  // Once JavaScript has stopped here (a worker stopped by process.exit() or
  // terminate()), V8 refuses to detach, and Node aborts the process on that
  // refusal; nothing can reach a view of this thread any more anyway. A view
  // still attached was not moved out: moving detaches the original.
  bool stopped = views_.empty() ? false : JavaScriptStopped(env);
  for (View* view : views_) {
    napi_value buffer = nullptr;
    bool detached = false;
    if (napi_get_reference_value(env, view->ref, &buffer) == napi_ok && buffer &&
        napi_is_detached_arraybuffer(env, buffer, &detached) == napi_ok && !detached) {
      if (!stopped) napi_detach_arraybuffer(env, buffer);
    } else {
      // Collected, or detached by someone else: ArrayBuffer.prototype
      // .transfer() moves the pages into a buffer we never see. Until this
      // view's finalizer runs, something may still use them.
      view->unaccounted = true;
      ++unaccounted_;
      if (buffer != nullptr) {  // alive but detached by someone else: moved
        view->moved = true;
        ++moved_;
      }
    }
    napi_delete_reference(env, view->ref);
    view->ref = nullptr;
  }
  views_.clear();
  return moved_ > 0;
}

os::Error Region::Unmap(Napi::Env env) {
  if (state_ != State::kLive) return {};
  DetachViews(env);
  if (Idle()) {
    os::Error error = Release();
    if (error) return error;
  } else {
    state_ = State::kEnded;
  }
  Consume();
  return {};
}

void Region::GiveUp(Napi::Env env) {
  if (state_ != State::kLive) return;
  DetachViews(env);
  Consume();
  release_on_end_ = false;
  if (owner_) os::untrack(owner_);
  owner_ = nullptr;
  state_ = State::kEnded;
  ReleaseIfIdle();
}

void Region::EndAtTeardown() {
  if (state_ != State::kLive) return;
  Consume();
  state_ = State::kEnded;
  ReleaseIfIdle();
}

void Region::ReleaseIfIdle() {
  if (state_ == State::kEnded && Idle()) ReleaseOrRetryLater();
}

void Region::Unpin() {
  --pins_;
  ReleaseIfIdle();
}

uint64_t Region::Share(const HandleDescription& description) {
  if (!shared_) {
    shared_ = std::make_shared<SharedPages>(os::Mapping{address_, size_, allocation_}, owner_,
                                            description, reserved_);
    owner_ = nullptr;
    SharedPages::Publish(shared_);
  }
  return shared_->id();
}

bool Region::Unshare(Region* other) {
  if (!other) return !shared_ || SharedPages::TakeBack({{shared_, owner_}});
  if (!shared_ && !other->shared_) return true;
  return SharedPages::TakeBack({{shared_, owner_}, {other->shared_, other->owner_}});
}

os::Error Region::Remap(Napi::Env env, size_t size, bool may_move) {
  uint8_t* moved_to = address_;
  {
    // Checked, moved and tracked under one lock: no MAP_FIXED of another
    // thread may take the new range between the OS call and the registry.
    auto exclusive = os::exclusive_tracking();
    os::Error error = os::remap(allocation_, address_, size_, size, reserved_ ? os::kNone : access_,
                                reserved_, may_move, &moved_to);
    if (error) return error;
    os::move_tracked(owner_, reinterpret_cast<uintptr_t>(moved_to), size);
  }
  address_ = moved_to;
  size_ = size;
  Consume();
  return {};
}

std::shared_ptr<Region> Region::Split(size_t at, bool keep_low) {
  os::Mapping piece{keep_low ? address_ + at : address_,
                    keep_low ? size_ - at : at, allocation_};
  if (!keep_low) address_ += at;
  size_ -= piece.size;
  // Shrunk first, so that the two ranges never overlap in the registry.
  os::move_tracked(owner_, reinterpret_cast<uintptr_t>(address_), size_);
  return std::make_shared<Region>(addon_, piece, access_, reserved_, anonymous_);
}

void Region::Absorb(Napi::Env env, Region& next) {
  next.GiveUp(env);
  size_ += next.size_;
  os::move_tracked(owner_, reinterpret_cast<uintptr_t>(address_), size_);
}

}  // namespace memmap
