// Module entry: the per-environment Addon and the module-level functions.
#include "addon.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "mapping.h"
#include "os/os.h"
#include "region.h"
#include "shared_memory.h"
#include "waits.h"

namespace memmap {

Addon* GetAddon(Napi::Env env) { return env.GetInstanceData<Addon>(); }

void BeginTeardown(Addon* addon) {
  if (addon->tearing_down) return;
  napi_handle_scope scope;
  bool scoped = napi_open_handle_scope(addon->env, &scope) == napi_ok;
  for (Region* region = addon->regions; region; region = region->next()) {
    region->DetachViews(Napi::Env(addon->env));
  }
  if (scoped) napi_close_handle_scope(addon->env, scope);
  addon->tearing_down = true;
}

bool JavaScriptStopped(napi_env env) {
  // Any call that may run JavaScript says so; coercing a boolean has no
  // other effect.
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return true;
  napi_value value, coerced;
  bool pending = false;
  bool stopped = napi_get_boolean(env, false, &value) == napi_ok &&
                 napi_coerce_to_bool(env, value, &coerced) != napi_ok &&
                 napi_is_exception_pending(env, &pending) == napi_ok && !pending;
  napi_close_handle_scope(env, scope);
  return stopped;
}

namespace {

// map(size, address, fd, offset, access, flags, pageSize, alignment, mode):
// positional, because reading named fields costs a string lookup each, and
// mapping small pages is meant to be cheap. `mode` holds the MapMode bits of
// src/binding.ts.
enum MapMode : uint32_t { kFixed = 1, kJit = 2, kReserve = 4 };

// Address 0 cannot back an ArrayBuffer (Node-API takes a null data pointer
// for "no memory"), and the registry of live ranges uses 0 for a free slot.
Napi::Value ThrowAddressZero(Napi::Env env) {
  return ThrowError(env, "ERR_MMAP_INVALID_ADDRESS",
                    "address 0 cannot be mapped through memmap: an ArrayBuffer cannot start "
                    "at a null pointer");
}

Napi::Value ThrowOwned(Napi::Env env, uintptr_t address, size_t size, const char* what) {
  return ThrowError(env, "ERR_MMAP_INVALID_ADDRESS",
                    std::string(what) + " the " + std::to_string(size) + " bytes at " +
                        Hex(address) + ": they belong to a live memmap handle");
}

// Whether [address, address + size) stays below the top of the address
// space; if not, ERR_MMAP_INVALID_ADDRESS is thrown. The end would wrap
// around to a low address, and every range check after it would be wrong.
bool EndsInAddressSpace(Napi::Env env, uintptr_t address, size_t size) {
  if (size <= UINTPTR_MAX - address) return true;
  ThrowError(env, "ERR_MMAP_INVALID_ADDRESS",
             "the " + std::to_string(size) + " bytes at " + Hex(address) +
                 " would pass the end of the address space (" + Hex(UINTPTR_MAX) + ")");
  return false;
}

Napi::Value Map(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = GetAddon(env);
  RetryReleases(addon);
  os::MapRequest request;
  if (!ExactSizeArg(info, 0, "size", &request.size) ||
      !ExactAddressArg(info, 1, &request.address) ||
      !ExactSizeArg(info, 6, "page size", &request.page_size) ||
      !ExactSizeArg(info, 7, "alignment", &request.alignment)) {
    return Napi::Value();
  }
  // info[2]: a file descriptor (-1 for none) or a SharedMemory.
  int fd = -1;
  if (info[2].IsObject()) {
    NativeSharedMemory* shared_memory = NativeSharedMemory::From(info[2]);
    if (!shared_memory || !shared_memory->Open(env, &request.file)) return Napi::Value();
    request.shared_memory = true;
  } else {
    fd = info[2].As<Napi::Number>().Int32Value();
  }
  request.offset = static_cast<uint64_t>(info[3].As<Napi::Number>().Int64Value());
  request.access = info[4].As<Napi::Number>().Uint32Value();
  request.flags = info[5].As<Napi::Number>().Uint32Value();
  uint32_t mode = info[8].As<Napi::Number>().Uint32Value();
  request.fixed = (mode & kFixed) != 0;
  request.jit = (mode & kJit) != 0;
  request.reserve = (mode & kReserve) != 0;
  if (request.fixed && request.address == 0) return ThrowAddressZero(env);
  if (!EndsInAddressSpace(env, request.address, request.size)) return Napi::Value();

  // MAP_FIXED replaces whatever is there: checked and tracked under one
  // lock, so that no other thread can make those pages its own meanwhile.
  std::unique_lock<std::recursive_mutex> exclusive;
  if (request.fixed) {
    exclusive = os::exclusive_tracking();
    if (os::tracked(request.address, request.size)) {
      return ThrowOwned(env, request.address, request.size, "MAP_FIXED would replace");
    }
  }
  if (fd >= 0) {
    os::Error error = os::file_handle(fd, &request.file);
    if (error) return ThrowOsError(env, error);
  }
  os::Mapping mapping;
  os::Error error = os::map(request, &mapping);
  if (error) {
    std::string detail = DescribeSize(request.size);
    if (fd >= 0) {
      detail += " of file descriptor " + std::to_string(fd) + " at offset " + std::to_string(request.offset);
    } else if (request.shared_memory) {
      detail += " of shared memory at offset " + std::to_string(request.offset);
    }
    if (request.address) detail += " at " + Hex(request.address);
    if (request.reserve) detail += " (reserve)";
    return ThrowOsError(env, error, detail);
  }
  if (mapping.address == nullptr) {
    os::unmap(mapping.allocation, mapping.address, mapping.size);
    return ThrowAddressZero(env);
  }
  auto region = std::make_shared<Region>(addon, std::move(mapping), request.access,
                                         request.reserve, fd < 0 && !request.shared_memory);
  region->Account(env);
  return NativeMapping::New(env, std::move(region));
}

// empty(access): a handle of size 0 with no OS mapping behind it (a whole
// file that is empty).
Napi::Value Empty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto region = std::make_shared<Region>(GetAddon(env), os::Mapping{},
                                         info[0].As<Napi::Number>().Uint32Value(), false, false);
  return NativeMapping::New(env, std::move(region));
}

// mapRing(size, sharedMemory | null, offset, access): a double-mapped ring
// of 2 * size bytes.
Napi::Value MapRing(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = GetAddon(env);
  RetryReleases(addon);
  size_t size;
  if (!ExactSizeArg(info, 0, "size", &size)) return Napi::Value();
  os::FileHandle object = -1;
  if (info[1].IsObject()) {
    NativeSharedMemory* shared_memory = NativeSharedMemory::From(info[1]);
    if (!shared_memory || !shared_memory->Open(env, &object)) return Napi::Value();
  }
  uint64_t offset = static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value());
  uint32_t access = info[3].As<Napi::Number>().Uint32Value();
  os::Mapping mapping;
  os::Error error = os::map_ring(size, object, offset, access, &mapping);
  if (error) return ThrowOsError(env, error, "a ring of " + DescribeSize(size));
  if (mapping.address == nullptr) {
    os::unmap(mapping.allocation, mapping.address, mapping.size);
    return ThrowAddressZero(env);
  }
  auto region = std::make_shared<Region>(addon, std::move(mapping), access, false, object < 0);
  region->set_ring();
  region->Account(env);
  return NativeMapping::New(env, std::move(region));
}

// adopt(address, size, access): pages mapped by someone else, that nobody
// of ours owns, become a handle's.
Napi::Value Adopt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uintptr_t begin;
  size_t size;
  if (!ExactAddressArg(info, 0, &begin) || !ExactSizeArg(info, 1, "size", &size)) {
    return Napi::Value();
  }
  auto* address = reinterpret_cast<uint8_t*>(begin);
  if (begin == 0) return ThrowAddressZero(env);
  if (!EndsInAddressSpace(env, begin, size)) return Napi::Value();
  auto exclusive = os::exclusive_tracking();
  if (os::tracked(begin, size)) return ThrowOwned(env, begin, size, "cannot adopt");
  bool mapped = false;
  os::Error error = os::is_mapped(address, size, &mapped);
  if (error) return ThrowOsError(env, error);
  if (!mapped) {
    return ThrowError(env, "ERR_MMAP_INVALID_ADDRESS",
                      "cannot adopt the " + std::to_string(size) + " bytes at " + Hex(begin) +
                          ": they are not all mapped");
  }
  os::Mapping mapping{address, size, os::adopt(address, size)};
  auto region = std::make_shared<Region>(GetAddon(env), std::move(mapping),
                                         info[2].As<Napi::Number>().Uint32Value(), false, false);
  region->Account(env);
  return NativeMapping::New(env, std::move(region));
}

Napi::Value PageSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(os::page_size()));
}

Napi::Value AllocationGranularity(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(os::allocation_granularity()));
}

Napi::Value PageSizes(const Napi::CallbackInfo& info) {
  std::vector<size_t> sizes = os::page_sizes();
  Napi::Array result = Napi::Array::New(info.Env(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    result.Set(i, Napi::Number::New(info.Env(), static_cast<double>(sizes[i])));
  }
  return result;
}

Napi::Value DefaultHugePageSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(os::default_huge_page_size()));
}

Napi::Value FreeHugePages(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(os::free_huge_pages(SizeArg(info, 0))));
}

Napi::Value SetErrorFactory(const Napi::CallbackInfo& info) {
  GetAddon(info.Env())->make_error = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// Only the current sentinel is held strongly, so only it is finalized at
// teardown; older ones, let go, are finalized after a collection.
void FinalizeSentinel(napi_env, void* data, void* hint) {
  Addon* addon = static_cast<Addon*>(data);
  if (reinterpret_cast<uintptr_t>(hint) == addon->sentinel_serial) BeginTeardown(addon);
}

// refreshSentinel(): called (once per turn of the event loop) after views
// were made, so that the sentinel is newer than all of them.
Napi::Value RefreshSentinel(const Napi::CallbackInfo& info) {
  Addon* addon = GetAddon(info.Env());
  napi_env env = info.Env();
  napi_value buffer;
  napi_ref fresh;
  if (napi_create_external_arraybuffer(env, addon, 0, FinalizeSentinel,
                                       reinterpret_cast<void*>(addon->sentinel_serial + 1),
                                       &buffer) != napi_ok ||
      napi_create_reference(env, buffer, 1, &fresh) != napi_ok) {
    // The old sentinel stays; a teardown then relies on JavaScriptStopped().
    return Napi::Value();
  }
  if (addon->sentinel) napi_delete_reference(env, addon->sentinel);
  addon->sentinel = fresh;
  ++addon->sentinel_serial;
  return info.Env().Undefined();
}

// At environment teardown (a worker exiting, the main thread ending), after
// Node finalized every view, each region this environment still owns is
// ended; no JavaScript runs any more. Pages that a view moved out to another
// thread may still reach stay mapped (Region::FinalizeView).
void Teardown(void* data) {
  Addon* addon = static_cast<Addon*>(data);
  EndAsyncWaits(addon);
  BeginTeardown(addon);
  // Ending never frees a region (its owners do), so the list stays intact.
  for (Region* region = addon->regions; region; region = region->next()) {
    region->EndAtTeardown();
  }
  RetryReleases(addon);
}

void DeleteAddon(Napi::Env, Addon* addon) {
  addon->make_error.Reset();
  addon->mapping_class.Reset();
  addon->shared_memory_class.Reset();
  if (addon->sentinel) napi_delete_reference(addon->env, addon->sentinel);
  addon->sentinel = nullptr;
  // Views whose finalizers have not run still own regions, and regions
  // point at the Addon: the last of them deletes it.
  if (addon->regions == nullptr) {
    delete addon;
  } else {
    addon->orphaned = true;
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* addon = new Addon();
  addon->env = env;
  const char* refuse = std::getenv("MEMMAP_NO_EXTERNAL_BUFFERS");
  addon->external_buffers_refused = refuse != nullptr && std::strcmp(refuse, "1") == 0;
  addon->mapping_class = Napi::Persistent(NativeMapping::DefineClass(env));
  env.SetInstanceData<Addon, DeleteAddon>(addon);
  napi_add_env_cleanup_hook(env, Teardown, addon);

  exports.DefineProperties({
      Napi::PropertyDescriptor::Function(env, exports, "map", Map),
      Napi::PropertyDescriptor::Function(env, exports, "adopt", Adopt),
      Napi::PropertyDescriptor::Function(env, exports, "mapRing", MapRing),
      Napi::PropertyDescriptor::Function(env, exports, "empty", Empty),
      Napi::PropertyDescriptor::Function(env, exports, "pageSize", PageSize),
      Napi::PropertyDescriptor::Function(env, exports, "allocationGranularity",
                                         AllocationGranularity),
      Napi::PropertyDescriptor::Function(env, exports, "pageSizes", PageSizes),
      Napi::PropertyDescriptor::Function(env, exports, "defaultHugePageSize", DefaultHugePageSize),
      Napi::PropertyDescriptor::Function(env, exports, "freeHugePages", FreeHugePages),
      Napi::PropertyDescriptor::Function(env, exports, "setErrorFactory", SetErrorFactory),
      Napi::PropertyDescriptor::Function(env, exports, "refreshSentinel", RefreshSentinel),
  });
  RegisterAreas(env, exports);
  RegisterAccessors(env, exports);
  RegisterSharing(env, exports);
  RegisterSharedMemory(env, exports);
  return exports;
}

}  // namespace

}  // namespace memmap

static Napi::Object InitMemmap(Napi::Env env, Napi::Object exports) {
  return memmap::Init(env, exports);
}

NODE_API_MODULE(memmap, InitMemmap)
