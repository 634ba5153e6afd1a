// Sharing a handle's pages: with other threads (share(), fromShared()),
// as a SharedArrayBuffer (sharedBuffer()), and waiting on a word of them
// with other processes (wait(), waitAsync(), notify()).
#include "sharing.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <cmath>
#include <mutex>
#include <string>
#include <unordered_map>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "exports.h"
#include "mapping.h"
#include "os/shared.h"
#include "region.h"
#include "waits.h"

namespace memmap {

namespace {

uint64_t RandomStart() {
  std::random_device random;
  uint64_t bits = (uint64_t{random()} << 32) | random();
  // Below 2^52, leaving room to count up within JavaScript's safe integers.
  return (bits & ((uint64_t{1} << 51) - 1)) + (uint64_t{1} << 32);
}

// The ids that share() tokens carry, process-wide.
struct Published {
  std::mutex lock;
  // Ids start at a random point, so that a token from another process
  // (which has ids of its own) names nothing here.
  uint64_t last_id = RandomStart();
  std::unordered_map<uint64_t, std::weak_ptr<SharedPages>> pages;
};

Published& published() {
  // Never destroyed: SharedPages of other threads may still go after exit.
  static Published* table = new Published();
  return *table;
}

}  // namespace

SharedPages::SharedPages(const os::Mapping& mapping, os::RangeOwner* owner,
                         const HandleDescription& description, bool reserved)
    : mapping_(mapping), owner_(owner), description_(description), reserved_(reserved) {}

SharedPages::~SharedPages() {
  if (id_ != 0) {
    Published& table = published();
    std::lock_guard<std::mutex> guard(table.lock);
    auto entry = table.pages.find(id_);
    if (entry != table.pages.end() && entry->second.expired()) table.pages.erase(entry);
  }
  if (taken_back_ || mapping_.size == 0) return;
  if (os::unmap(mapping_.allocation, mapping_.address, mapping_.size)) {
    // Still mapped (munmap can fail at the kernel's map-count limit): left
    // mapped and owned for the life of the process, never handed to anyone.
    new os::AllocationRef(std::move(mapping_.allocation));
    return;
  }
  mapping_.allocation.reset();
  if (owner_) os::untrack(owner_);
}

uint64_t SharedPages::Publish(const std::shared_ptr<SharedPages>& pages) {
  Published& table = published();
  std::lock_guard<std::mutex> guard(table.lock);
  pages->id_ = ++table.last_id;
  table.pages.emplace(pages->id_, pages);
  return pages->id_;
}

std::shared_ptr<SharedPages> SharedPages::Find(double id) {
  if (!(id >= 1 && id <= 9007199254740991.0) || std::floor(id) != id) return nullptr;
  Published& table = published();
  std::lock_guard<std::mutex> guard(table.lock);
  auto entry = table.pages.find(static_cast<uint64_t>(id));
  return entry == table.pages.end() ? nullptr : entry->second.lock();
}

bool SharedPages::TakeBack(std::initializer_list<Holder> holders) {
  Published& table = published();
  {
    // Find() adds holders only under this lock, and holders only ever go
    // away otherwise: a count of one seen here stays one.
    std::lock_guard<std::mutex> guard(table.lock);
    for (const Holder& holder : holders) {
      if (holder.pages && holder.pages.use_count() != 1) return false;
    }
    // use_count() is a relaxed read: order it after the other holders' last
    // use of the pages, before this one changes them.
    std::atomic_thread_fence(std::memory_order_acquire);
    for (const Holder& holder : holders) {
      if (!holder.pages) continue;
      table.pages.erase(holder.pages->id_);
      holder.pages->taken_back_ = true;
      holder.owner = holder.pages->owner_;
      holder.pages->owner_ = nullptr;
    }
  }
  for (const Holder& holder : holders) holder.pages.reset();
  return true;
}

namespace {

// The 32-bit word at `offset`, if it lies in readable pages of `region`;
// null with an error thrown otherwise.
const uint32_t* WordAt(Napi::Env env, Region& region, size_t offset) {
  if (!Inside(env, region, offset, 4)) return nullptr;
  if (offset % 4 != 0) {
    ThrowError(env, "ERR_MMAP_INVALID_OFFSET",
               "a waited-on word must be 4-byte aligned, got offset " + std::to_string(offset));
    return nullptr;
  }
  if (region.reserved() || !(region.access() & os::kRead)) {
    ThrowError(env, "ERR_INVALID_ARG_VALUE",
               "the word at offset " + std::to_string(offset) + " cannot be waited on: the pages are " +
                   (region.reserved() ? "reserved, not committed" : "inaccessible (makeNone())"));
    return nullptr;
  }
  return reinterpret_cast<const uint32_t*>(region.address() + offset);
}

// node_api_create_external_sharedarraybuffer (Node 24.16+, 26.1+), looked up
// at run time so that one binary still loads on Node 20.
using CreateExternalSab = napi_status(NAPI_CDECL*)(napi_env, void*, size_t,
                                                   void(NAPI_CDECL*)(void*, void*), void*,
                                                   napi_value*);

CreateExternalSab ExternalSabMaker() {
  static CreateExternalSab maker = reinterpret_cast<CreateExternalSab>(
      os::host_symbol("node_api_create_external_sharedarraybuffer"));
  return maker;
}

// May run on any thread, when the last isolate holding the buffer lets go.
void NAPI_CDECL ReleaseSab(void*, void* hint) {
  delete static_cast<std::shared_ptr<SharedPages>*>(hint);
}

Napi::Value HandleOf(Napi::Env env, std::shared_ptr<Region> region) {
  const HandleDescription& description = region->shared()->description();
  Napi::Value mapping = NativeMapping::New(env, std::move(region));
  if (mapping.IsEmpty()) return mapping;
  Napi::Array result = Napi::Array::New(env, 6);
  result.Set(0u, mapping);
  result.Set(1u, Napi::Number::New(env, description.kind));
  result.Set(2u, Napi::Number::New(env, description.access));
  result.Set(3u, Napi::Number::New(env, description.flags));
  result.Set(4u, Napi::Number::New(env, description.unsafe_flags));
  result.Set(5u, Napi::Number::New(env, description.page_size));
  return result;
}

// fromShared(id): [mapping, kind, access, flags, unsafeFlags, pageSize] of
// a new handle of this thread over the pages a token names.
Napi::Value FromShared(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<SharedPages> pages = SharedPages::Find(info[0].As<Napi::Number>().DoubleValue());
  if (!pages) {
    return ThrowError(env, "ERR_MMAP_CLOSED",
                      "the shared region is gone: every handle over it has ended (or changed "
                      "it alone), or the token comes from another process");
  }
  auto region = std::make_shared<Region>(GetAddon(env), std::move(pages));
  return HandleOf(env, std::move(region));
}

}  // namespace

// share(kind, access, flags, unsafeFlags, pageSize): the id of a token.
Napi::Value NativeMapping::Share(const Napi::CallbackInfo& info) {
  Region* region = Live(info.Env());
  if (!region) return Napi::Value();
  HandleDescription description{
      info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Uint32Value(),
      info[2].As<Napi::Number>().Uint32Value(), info[3].As<Napi::Number>().Uint32Value(),
      info[4].As<Napi::Number>().DoubleValue()};
  return Napi::Number::New(info.Env(), static_cast<double>(region->Share(description)));
}

// sharedBuffer(kind, access, flags, unsafeFlags, pageSize): a
// SharedArrayBuffer over the whole mapping, holding the pages until it is
// collected in every thread it reached.
Napi::Value NativeMapping::SharedBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Region* region = Live(env);
  if (!region) return Napi::Value();
  CreateExternalSab create = ExternalSabMaker();
  if (create == nullptr) {
    return ThrowError(env, "ERR_MMAP_UNSUPPORTED",
                      "sharedBuffer() needs node_api_create_external_sharedarraybuffer, which "
                      "Node.js 24.16+ and 26.1+ have; this runtime lacks it");
  }
  if (GetAddon(env)->external_buffers_refused) return ThrowExternalBuffersUnsupported(env);
  HandleDescription description{
      info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Uint32Value(),
      info[2].As<Napi::Number>().Uint32Value(), info[3].As<Napi::Number>().Uint32Value(),
      info[4].As<Napi::Number>().DoubleValue()};
  bool was_shared = region->shared() != nullptr;
  region->Share(description);
  auto* holder = new std::shared_ptr<SharedPages>(region->shared());
  napi_value buffer;
  napi_status status = create(env, region->address(), region->size(), ReleaseSab, holder, &buffer);
  if (status == napi_ok) return Napi::Value(env, buffer);
  delete holder;
  // As it was: private again unless it was shared before this call.
  if (!was_shared) region->Unshare();
  if (status == napi_no_external_buffers_allowed) return ThrowExternalBuffersUnsupported(env);
  if (env.IsExceptionPending()) return Napi::Value();
  return ThrowError(env, "ERR_MMAP_UNSUPPORTED",
                    "the runtime refused to make a SharedArrayBuffer over the pages (Node-API status " +
                        std::to_string(status) + ")");
}

// wait(offset, expected, timeoutMs): "ok" | "not-equal" | "timed-out",
// blocking this thread; timeoutMs < 0 waits for ever.
Napi::Value NativeMapping::Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Region* region = Live(env);
  const uint32_t* word = region ? WordAt(env, *region, SizeArg(info, 0)) : nullptr;
  if (!word) return Napi::Value();
  uint32_t expected = info[1].As<Napi::Number>().Uint32Value();
  double timeout_ms = info[2].As<Napi::Number>().DoubleValue();
  // Pinned, so that nothing this thread runs can unmap the word; the
  // allocation is held for the same reason.
  std::shared_ptr<Region> pinned = region_;
  os::AllocationRef allocation = region->allocation();
  double started = NowMs();
  os::WaitResult result;
  for (bool done = false, first = true; !done; first = false) {
    double waited = first ? 0 : std::max(NowMs() - started, 1e-3);
    os::Error error = WaitSlice(allocation, word, expected, timeout_ms, waited, &result, &done);
    if (error) return ThrowOsError(env, error);
    // A terminated worker stops here; its result goes nowhere.
    if (!done && JavaScriptStopped(env)) return Napi::Value();
  }
  return Napi::String::New(env, WaitResultName(result));
}

Napi::Value NativeMapping::WaitAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Region* region = Live(env);
  size_t offset = SizeArg(info, 0);
  if (!region || !WordAt(env, *region, offset)) return Napi::Value();
  napi_value promise = StartAsyncWait(env, region_, offset, info[1].As<Napi::Number>().Uint32Value(),
                                      info[2].As<Napi::Number>().DoubleValue());
  if (promise == nullptr && !env.IsExceptionPending()) {
    return ThrowError(env, "ERR_MMAP_ASYNC_FAILED", "waitAsync() could not start its wait");
  }
  return Napi::Value(env, promise);
}

// notify(offset, count): how many waiters were woken.
Napi::Value NativeMapping::Notify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Region* region = Live(env);
  const uint32_t* word = region ? WordAt(env, *region, SizeArg(info, 0)) : nullptr;
  if (!word) return Napi::Value();
  uint32_t woken = 0;
  os::Error error = os::notify_address(region->allocation(), word,
                                       info[1].As<Napi::Number>().Uint32Value(), &woken);
  if (error) return ThrowOsError(env, error);
  return Napi::Number::New(env, woken);
}

void RegisterSharing(Napi::Env env, Napi::Object exports) {
  exports.DefineProperties({
      Napi::PropertyDescriptor::Function(env, exports, "fromShared", FromShared),
      Napi::PropertyDescriptor::Value("sharedBuffersAvailable",
                                      Napi::Boolean::New(env, ExternalSabMaker() != nullptr)),
  });
}

}  // namespace memmap
