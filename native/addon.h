// Per-environment state: one Addon per main thread or worker that loads us.
#pragma once

#include <napi.h>

#include <vector>

#include "os/fault.h"
#include "os/os.h"

namespace memmap {

class Region;
struct AsyncWait;

// Pages whose deferred release failed: still mapped and owned, retried by
// RetryReleases (region.h).
struct Leftover {
  os::AllocationRef allocation;
  uint8_t* address;
  size_t size;
  os::RangeOwner* owner;
};

struct Addon {
  napi_env env;
  Napi::FunctionReference make_error;  // (code, message, details) => MmapError
  Napi::FunctionReference mapping_class;
  Napi::FunctionReference shared_memory_class;
  // The regions of this environment (an intrusive list through
  // Region::next_/prev_), released when it is torn down.
  Region* regions = nullptr;
  std::vector<Leftover> leftovers;
  // The waitAsync() calls still waiting (native/waits.h).
  std::vector<AsyncWait*> waits;
  // Set once BeginTeardown has sorted out the views; from then on Node
  // finalizes views itself, whether or not their buffers live elsewhere.
  bool tearing_down = false;
  // The teardown sentinel: an empty external buffer held strongly, so that
  // Node finalizes it only at teardown, and made anew after views are
  // made, so that it goes before them (Node finalizes newest first).
  napi_ref sentinel = nullptr;
  uintptr_t sentinel_serial = 0;
  // The environment is gone but regions remain (their views' finalizers
  // have not run yet): the last region to go deletes the Addon.
  bool orphaned = false;
  // Set at load from MEMMAP_NO_EXTERNAL_BUFFERS, to exercise the path a
  // sandboxed runtime (Electron 21+) takes.
  bool external_buffers_refused = false;
};

Addon* GetAddon(Napi::Env env);

// The environment is being torn down and Node is about to finalize every
// external buffer, including views moved out to other threads: sorts out
// the views while that can still be told (Region::DetachViews). Idempotent.
void BeginTeardown(Addon* addon);
// Whether JavaScript can no longer run here: the environment is going away.
bool JavaScriptStopped(napi_env env);

}  // namespace memmap
