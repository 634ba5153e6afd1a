// Per-environment state: one Addon per main thread or worker that loads us.
#pragma once

#include <napi.h>


namespace memmap {

class Region;

struct Addon {
  napi_env env;
  Napi::FunctionReference make_error;  // (code, message, details) => MmapError
  Napi::FunctionReference mapping_class;
  // The regions of this environment (an intrusive list through
  // Region::next_/prev_), released when it is torn down.
  Region* regions = nullptr;
  bool tearing_down = false;
  // The environment is gone but regions remain (their views' finalizers
  // have not run yet): the last region to go deletes the Addon.
  bool orphaned = false;
  // Set at load from MEMMAP_NO_EXTERNAL_BUFFERS, to exercise the path a
  // sandboxed runtime (Electron 21+) takes.
  bool external_buffers_refused = false;
};

Addon* GetAddon(Napi::Env env);

}  // namespace memmap
