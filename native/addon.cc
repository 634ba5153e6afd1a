// Module entry: the per-environment Addon and the module-level functions.
#include "addon.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "mapping.h"
#include "os/os.h"
#include "region.h"

namespace memmap {

Addon* GetAddon(Napi::Env env) { return env.GetInstanceData<Addon>(); }

namespace {

// map(size, address, fd, offset, access, flags, pageSize, alignment, mode):
// positional, because reading named fields costs a string lookup each, and
// mapping small pages is meant to be cheap. `mode` holds the MapMode bits of
// src/binding.ts.
enum MapMode : uint32_t { kFixed = 1, kJit = 2, kReserve = 4 };

Napi::Value Map(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  os::MapRequest request;
  request.size = SizeArg(info, 0);
  request.address = reinterpret_cast<uintptr_t>(AddressArg(info, 1));
  int fd = info[2].As<Napi::Number>().Int32Value();
  if (fd >= 0) {
    os::Error error = os::file_handle(fd, &request.file);
    if (error) return ThrowOsError(env, error);
  }
  request.offset = static_cast<uint64_t>(info[3].As<Napi::Number>().Int64Value());
  request.access = info[4].As<Napi::Number>().Uint32Value();
  request.flags = info[5].As<Napi::Number>().Uint32Value();
  request.page_size = SizeArg(info, 6);
  request.alignment = SizeArg(info, 7);
  uint32_t mode = info[8].As<Napi::Number>().Uint32Value();
  request.fixed = (mode & kFixed) != 0;
  request.jit = (mode & kJit) != 0;
  request.reserve = (mode & kReserve) != 0;

  os::Mapping mapping;
  os::Error error = os::map(request, &mapping);
  if (error) {
    char detail[160];
    std::snprintf(detail, sizeof detail, "%s %zu bytes%s%s", request.reserve ? "reserving" : "mapping",
                  request.size, request.file >= 0 ? " of a file at offset " : "",
                  request.file >= 0 ? std::to_string(request.offset).c_str() : "");
    if (request.address) {
      size_t used = std::strlen(detail);
      std::snprintf(detail + used, sizeof detail - used, " at 0x%llx",
                    static_cast<unsigned long long>(request.address));
    }
    return ThrowOsError(env, error, detail);
  }
  auto region = std::make_shared<Region>(GetAddon(env), std::move(mapping), request.access,
                                         request.reserve, fd < 0);
  region->Account(env);
  return NativeMapping::New(env, std::move(region));
}

Napi::Value Adopt(const Napi::CallbackInfo& info) {
  uint8_t* address = AddressArg(info, 0);
  size_t size = SizeArg(info, 1);
  os::Mapping mapping{address, size, os::adopt(address, size)};
  auto region = std::make_shared<Region>(GetAddon(info.Env()), std::move(mapping),
                                         info[2].As<Napi::Number>().Uint32Value(), false,
                                         false);
  region->Account(info.Env());
  return NativeMapping::New(info.Env(), std::move(region));
}

Napi::Value IsMapped(const Napi::CallbackInfo& info) {
  bool mapped = false;
  os::Error error = os::is_mapped(AddressArg(info, 0), SizeArg(info, 1), &mapped);
  if (error) return ThrowOsError(info.Env(), error);
  return Napi::Boolean::New(info.Env(), mapped);
}

Napi::Value IsOwnedRange(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(
      info.Env(), IsOwned(reinterpret_cast<uintptr_t>(AddressArg(info, 0)), SizeArg(info, 1)));
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

// At environment teardown (a worker exiting, the main thread ending) every
// region this environment still owns is released; no JavaScript runs after.
void Teardown(void* data) {
  Addon* addon = static_cast<Addon*>(data);
  addon->tearing_down = true;
  // End() never frees a region (its owners do), so the list stays intact.
  for (Region* region = addon->regions; region; region = region->next()) {
    region->End(Napi::Env(addon->env));
  }
}

void DeleteAddon(Napi::Env, Addon* addon) {
  addon->make_error.Reset();
  addon->mapping_class.Reset();
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
      Napi::PropertyDescriptor::Function(env, exports, "isMapped", IsMapped),
      Napi::PropertyDescriptor::Function(env, exports, "isOwned", IsOwnedRange),
      Napi::PropertyDescriptor::Function(env, exports, "pageSize", PageSize),
      Napi::PropertyDescriptor::Function(env, exports, "allocationGranularity",
                                         AllocationGranularity),
      Napi::PropertyDescriptor::Function(env, exports, "pageSizes", PageSizes),
      Napi::PropertyDescriptor::Function(env, exports, "defaultHugePageSize", DefaultHugePageSize),
      Napi::PropertyDescriptor::Function(env, exports, "freeHugePages", FreeHugePages),
      Napi::PropertyDescriptor::Function(env, exports, "setErrorFactory", SetErrorFactory),
  });
  RegisterAreas(env, exports);
  RegisterAccessors(env, exports);
  return exports;
}

}  // namespace

}  // namespace memmap

static Napi::Object InitMemmap(Napi::Env env, Napi::Object exports) {
  return memmap::Init(env, exports);
}

NODE_API_MODULE(memmap, InitMemmap)
