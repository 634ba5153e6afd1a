#include "mapping.h"

#include "addon.h"
#include "args.h"
#include "call.h"
#include "errors.h"
#include "waits.h"

namespace memmap {

namespace {

const napi_type_tag kMappingTag = {0x6d656d6d61702d6dULL, 0x617070696e672d31ULL};

// A call over no bytes asks the OS for nothing: an empty handle (a whole
// empty file) has no pages at all, and Windows reads a length of 0 as "to
// the end of the view".
template <typename Call>
os::Error OverBytes(size_t length, Call call) {
  return length == 0 ? os::Error{} : call();
}

// msync on the libuv pool; the region stays pinned until it is done. Plain
// Node-API rather than Napi::AsyncWorker: in an environment being torn down
// (a terminated worker) the promise can no longer settle, and that must be
// ignored, not turned into a fatal error.
class FlushWork {
 public:
  static napi_value Start(napi_env env, std::shared_ptr<Region> region, size_t offset,
                          size_t length) {
    auto* work = new FlushWork(std::move(region), offset, length);
    napi_value promise = nullptr, name;
    if (napi_create_promise(env, &work->deferred_, &promise) != napi_ok ||
        napi_create_string_utf8(env, "memmap:flush", NAPI_AUTO_LENGTH, &name) != napi_ok ||
        napi_create_async_work(env, nullptr, name, Execute, Complete, work, &work->work_) !=
            napi_ok ||
        napi_queue_async_work(env, work->work_) != napi_ok) {
      if (work->work_) napi_delete_async_work(env, work->work_);
      delete work;
      return nullptr;
    }
    return promise;
  }

  ~FlushWork() { region_->Unpin(); }

 private:
  // The range is fixed here, on the JavaScript thread; splits and merges
  // are refused while the region is pinned.
  FlushWork(std::shared_ptr<Region> region, size_t offset, size_t length)
      : region_(std::move(region)),
        allocation_(region_->allocation()),
        address_(region_->address() + offset),
        length_(length) {
    region_->Pin();
  }

  static void Execute(napi_env, void* data) {
    auto* work = static_cast<FlushWork*>(data);
    work->error_ = OverBytes(work->length_, [work] {
      return os::flush(work->allocation_, work->address_, work->length_, true);
    });
  }

  static void Complete(napi_env env, napi_status status, void* data) {
    std::unique_ptr<FlushWork> work(static_cast<FlushWork*>(data));
    if (status == napi_ok) {
      napi_handle_scope scope;
      if (napi_open_handle_scope(env, &scope) == napi_ok) {
        if (work->error_) {
          Napi::Value error = MakeOsError(Napi::Env(env), work->error_);
          napi_value reason = error.IsEmpty() ? nullptr : static_cast<napi_value>(error);
          if (reason == nullptr) {
            // The MmapError factory could not run; a plain error still settles it.
            napi_value message;
            napi_create_string_utf8(env, "msync failed", NAPI_AUTO_LENGTH, &message);
            napi_create_error(env, nullptr, message, &reason);
          }
          napi_reject_deferred(env, work->deferred_, reason);
        } else {
          napi_value undefined;
          napi_get_undefined(env, &undefined);
          napi_resolve_deferred(env, work->deferred_, undefined);
        }
        napi_close_handle_scope(env, scope);
      }
    }
    napi_delete_async_work(env, work->work_);
  }

  napi_async_work work_ = nullptr;
  napi_deferred deferred_ = nullptr;
  std::shared_ptr<Region> region_;
  os::AllocationRef allocation_;
  uint8_t* address_;
  size_t length_;
  os::Error error_;
};

Napi::Value ThrowMovedOut(Napi::Env env) {
  return ThrowError(env, "ERR_MMAP_VIEW_TRANSFERRED",
                    "a view of this handle was moved out of its reach "
                    "(ArrayBuffer.prototype.transfer()) and may still be in use: its pages cannot "
                    "change until that buffer is garbage-collected");
}

// Splitting or merging under a running flushAsync() would let a piece be
// unmapped while the flush still works on it.
Napi::Value ThrowBusy(Napi::Env env) {
  return ThrowError(env, "ERR_MMAP_BUSY",
                    "a flushAsync() or waitAsync() is still running on this handle; await it "
                    "before splitting, merging or resizing it (or, for a waitAsync(), changing "
                    "its protection or giving up its pages)");
}

// The pages are held by a handle of another thread (share()) or a
// SharedArrayBuffer (sharedBuffer()), which must go on seeing them as they are.
Napi::Value ThrowShared(Napi::Env env, const char* what) {
  return ThrowError(env, "ERR_MMAP_SHARED",
                    std::string("cannot ") + what +
                        " while the pages are shared: a handle made by fromShared() (in any "
                        "thread) or a SharedArrayBuffer from sharedBuffer() still holds them");
}

// A ring's halves are one object mapped twice: a piece of it would be
// half a ring.
Napi::Value ThrowRing(Napi::Env env, const char* what) {
  return ThrowError(env, "ERR_MMAP_UNSUPPORTED",
                    std::string("a ring cannot be ") + what + ": its halves are the same pages");
}

// A waitAsync() reads the word on its own thread until it ends: the pages
// may not be reprotected or given up meanwhile. (A running flushAsync()
// may: msync over pages gone is an error, not a fault.)
bool Waited(Napi::Env env, const Region* region) {
  return HasAsyncWaits(GetAddon(env), region);
}

Napi::Value Done(Napi::Env env, const os::Error& error) {
  return error ? ThrowOsError(env, error) : env.Undefined();
}

}  // namespace

Napi::Function NativeMapping::DefineClass(Napi::Env env) {
  return ObjectWrap::DefineClass(
      env, "NativeMapping",
      {
          InstanceAccessor<&NativeMapping::Address>("address"),
          InstanceAccessor<&NativeMapping::Size>("size"),
          InstanceAccessor<&NativeMapping::Ring>("ring"),
          InstanceMethod<&NativeMapping::View>("view"),
          InstanceMethod<&NativeMapping::Unmap>("unmap"),
          InstanceMethod<&NativeMapping::IntoRaw>("intoRaw"),
          InstanceMethod<&NativeMapping::Protect>("protect"),
          InstanceMethod<&NativeMapping::Commit>("commit"),
          InstanceMethod<&NativeMapping::Flush>("flush"),
          InstanceMethod<&NativeMapping::FlushAsync>("flushAsync"),
          InstanceMethod<&NativeMapping::Lock>("lock"),
          InstanceMethod<&NativeMapping::LockOnFault>("lockOnFault"),
          InstanceMethod<&NativeMapping::Unlock>("unlock"),
          InstanceMethod<&NativeMapping::Advise>("advise"),
          InstanceMethod<&NativeMapping::FlushIcache>("flushIcache"),
          InstanceMethod<&NativeMapping::Split>("split"),
          InstanceMethod<&NativeMapping::Absorb>("absorb"),
          InstanceMethod<&NativeMapping::Function>("function"),
          InstanceMethod<&NativeMapping::Remap>("remap"),
          InstanceMethod<&NativeMapping::Residency>("residency"),
          InstanceMethod<&NativeMapping::Share>("share"),
          InstanceMethod<&NativeMapping::SharedBuffer>("sharedBuffer"),
          InstanceMethod<&NativeMapping::Wait>("wait"),
          InstanceMethod<&NativeMapping::WaitAsync>("waitAsync"),
          InstanceMethod<&NativeMapping::Notify>("notify"),
      });
}

Napi::Value NativeMapping::New(Napi::Env env, std::shared_ptr<Region> region) {
  auto* holder = new std::shared_ptr<Region>(std::move(region));
  Napi::Value wrapped = GetAddon(env)->mapping_class.New(
      {Napi::External<std::shared_ptr<Region>>::New(env, holder)});
  delete holder;
  return wrapped;
}

NativeMapping* NativeMapping::From(Napi::Value value) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().CheckTypeTag(&kMappingTag)) {
    static const char* const kTypeNames[] = {"undefined", "null",     "boolean",  "number",
                                             "string",    "symbol",   "object",   "function",
                                             "external",  "bigint"};
    ThrowError(env, "ERR_INVALID_ARG_TYPE",
               std::string("expected a memmap handle, got ") +
                   (value.IsObject() ? "another object" : kTypeNames[value.Type()]));
    return nullptr;
  }
  return Unwrap(value.As<Napi::Object>());
}

NativeMapping::NativeMapping(const Napi::CallbackInfo& info) : ObjectWrap(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    ThrowError(info.Env(), "ERR_ILLEGAL_CONSTRUCTOR",
               "handles are made by MmapOptions, not constructed");
    return;
  }
  region_ = *info[0].As<Napi::External<std::shared_ptr<Region>>>().Data();
  info.This().As<Napi::Object>().TypeTag(&kMappingTag);
}

Region* NativeMapping::LiveRange(const Napi::CallbackInfo& info, size_t index) {
  Region* region = Live(info.Env());
  return region && Inside(info.Env(), *region, SizeArg(info, index), SizeArg(info, index + 1))
             ? region
             : nullptr;
}

Region* NativeMapping::Live(Napi::Env env) {
  if (region_ && region_->live()) return region_.get();
  ThrowError(env, "ERR_MMAP_CLOSED", "the handle was unmapped or consumed");
  return nullptr;
}

Napi::Value NativeMapping::Address(const Napi::CallbackInfo& info) {
  return Napi::BigInt::New(info.Env(), AddressValue(region_->address()));
}

Napi::Value NativeMapping::Size(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(region_->size()));
}

Napi::Value NativeMapping::Ring(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), region_->ring());
}

Napi::Value NativeMapping::View(const Napi::CallbackInfo& info) {
  Region* region = LiveRange(info, 0);
  if (!region) return Napi::Value();
  return region->NewView(info.Env(), SizeArg(info, 0), SizeArg(info, 1));
}

Napi::Value NativeMapping::Unmap(const Napi::CallbackInfo& info) {
  Addon* addon = GetAddon(info.Env());
  RetryReleases(addon);
  // Pending waitAsync() calls end now (rejecting), and unpin the pages.
  if (region_->live()) CancelAsyncWaits(addon, region_.get());
  os::Error error = region_->Unmap(info.Env());
  if (error) {
    return ThrowOsError(info.Env(), error,
                        DescribeSize(region_->size()) + "; the handle stays open");
  }
  return info.Env().Undefined();
}

Napi::Value NativeMapping::IntoRaw(const Napi::CallbackInfo& info) {
  Region* region = Live(info.Env());
  if (!region) return Napi::Value();
  if (Waited(info.Env(), region)) return ThrowBusy(info.Env());
  if (!region->Unshare()) return ThrowShared(info.Env(), "give up the pages");
  // Raw pages may be adopted and unmapped by anyone: none may still be
  // reachable through a buffer that moved out of our reach.
  if (region->DetachViews(info.Env())) return ThrowMovedOut(info.Env());
  region->GiveUp(info.Env());
  return info.Env().Undefined();
}

Napi::Value NativeMapping::Protect(const Napi::CallbackInfo& info) {
  Region* region = Live(info.Env());
  if (!region) return Napi::Value();
  uint32_t access = info[0].As<Napi::Number>().Uint32Value();
  if (Waited(info.Env(), region)) return ThrowBusy(info.Env());
  if (!region->Unshare()) return ThrowShared(info.Env(), "change the protection");
  // Views go first: nothing handed out may see the pages change protection,
  // even if mprotect fails halfway through.
  if (region->DetachViews(info.Env())) return ThrowMovedOut(info.Env());
  os::Error error = OverBytes(region->size(), [region, access] {
    return os::protect(region->allocation(), region->address(), region->size(), access);
  });
  if (error) {
    return ThrowOsError(info.Env(), error,
                        DescribeSize(region->size()) + "; the handle stays as it was");
  }
  region->Consume();
  region->set_access(access);
  return info.Env().Undefined();
}

Napi::Value NativeMapping::Commit(const Napi::CallbackInfo& info) {
  Region* region = Live(info.Env());
  if (!region) return Napi::Value();
  uint32_t access = info[0].As<Napi::Number>().Uint32Value();
  if (Waited(info.Env(), region)) return ThrowBusy(info.Env());
  if (!region->Unshare()) return ThrowShared(info.Env(), "commit");
  os::Error error = os::commit(region->allocation(), region->address(), region->size(), access);
  if (error) return ThrowOsError(info.Env(), error, DescribeSize(region->size()) + " (commit)");
  region->DetachViews(info.Env());
  region->Consume();
  region->set_access(access);
  region->set_committed();
  region->Account(info.Env());
  return info.Env().Undefined();
}

Napi::Value NativeMapping::Flush(const Napi::CallbackInfo& info) {
  Region* region = LiveRange(info, 0);
  if (!region) return Napi::Value();
  size_t offset = SizeArg(info, 0), length = SizeArg(info, 1);
  return Done(info.Env(), OverBytes(length, [region, offset, length] {
                return os::flush(region->allocation(), region->address() + offset, length, true);
              }));
}

Napi::Value NativeMapping::FlushAsync(const Napi::CallbackInfo& info) {
  if (!LiveRange(info, 0)) return Napi::Value();
  napi_value promise = FlushWork::Start(info.Env(), region_, SizeArg(info, 0), SizeArg(info, 1));
  if (promise == nullptr && !info.Env().IsExceptionPending()) {
    return ThrowError(info.Env(), "ERR_MMAP_ASYNC_FAILED", "flushAsync() could not queue its work");
  }
  return Napi::Value(info.Env(), promise);
}

Napi::Value NativeMapping::Lock(const Napi::CallbackInfo& info) {
  Region* region = LiveRange(info, 0);
  if (!region) return Napi::Value();
  uint8_t* start = region->address() + SizeArg(info, 0);
  size_t length = SizeArg(info, 1);
  return Done(info.Env(), OverBytes(length, [start, length] { return os::lock(start, length); }));
}

Napi::Value NativeMapping::LockOnFault(const Napi::CallbackInfo& info) {
  Region* region = LiveRange(info, 0);
  if (!region) return Napi::Value();
  uint8_t* start = region->address() + SizeArg(info, 0);
  size_t length = SizeArg(info, 1);
  return Done(info.Env(),
              OverBytes(length, [start, length] { return os::lock_on_fault(start, length); }));
}

Napi::Value NativeMapping::Unlock(const Napi::CallbackInfo& info) {
  Region* region = LiveRange(info, 0);
  if (!region) return Napi::Value();
  uint8_t* start = region->address() + SizeArg(info, 0);
  size_t length = SizeArg(info, 1);
  return Done(info.Env(), OverBytes(length, [start, length] { return os::unlock(start, length); }));
}

Napi::Value NativeMapping::Advise(const Napi::CallbackInfo& info) {
  Region* region = LiveRange(info, 1);
  if (!region) return Napi::Value();
  auto advice = static_cast<os::Advice>(info[0].As<Napi::Number>().Uint32Value());
  uint8_t* start = region->address() + SizeArg(info, 1);
  size_t length = SizeArg(info, 2);
  return Done(info.Env(),
              OverBytes(length, [start, length, advice] { return os::advise(start, length, advice); }));
}

Napi::Value NativeMapping::FlushIcache(const Napi::CallbackInfo& info) {
  Region* region = Live(info.Env());
  if (!region) return Napi::Value();
  if (region->size() > 0) os::flush_icache(region->address(), region->size());
  return info.Env().Undefined();
}

Napi::Value NativeMapping::Split(const Napi::CallbackInfo& info) {
  Region* region = Live(info.Env());
  if (!region) return Napi::Value();
  size_t at = SizeArg(info, 0);
  if (at == 0 || at >= region->size()) {
    return ThrowError(info.Env(), "ERR_MMAP_INVALID_OFFSET",
                      "split point " + std::to_string(at) + " must lie strictly inside the " +
                          std::to_string(region->size()) + " bytes of the mapping");
  }
  bool keep_low = info[1].As<Napi::Boolean>().Value();
  if (region->ring()) return ThrowRing(info.Env(), "split");
  if (region->pinned()) return ThrowBusy(info.Env());
  if (!region->Unshare()) return ThrowShared(info.Env(), "split");
  if (region->DetachViews(info.Env())) return ThrowMovedOut(info.Env());
  region->Consume();
  return New(info.Env(), region->Split(at, keep_low));
}

Napi::Value NativeMapping::Absorb(const Napi::CallbackInfo& info) {
  Region* region = Live(info.Env());
  NativeMapping* other = region ? From(info[0]) : nullptr;
  if (!other) return Napi::Value();
  Region* next = other->Live(info.Env());
  if (!next) return Napi::Value();
  // merge() refused rings already, saying why: this is the binding's own
  // line of defence, not the message users see.
  if (region->ring() || next->ring()) {
    return ThrowError(info.Env(), "ERR_MMAP_UNSUPPORTED", "merge of a ring");
  }
  if (region->pinned() || next->pinned()) return ThrowBusy(info.Env());
  // Shared pages are refused first, whatever else is wrong with the merge.
  if (!region->Unshare(next)) return ThrowShared(info.Env(), "merge");
  if (!os::mergeable(region->allocation(), next->allocation())) {
    return ThrowError(info.Env(), "ERR_MMAP_BACKING_MISMATCH",
                      "the handles are pieces of different allocations, which this "
                      "platform cannot merge");
  }
  bool moved = region->DetachViews(info.Env());
  if (next->DetachViews(info.Env()) || moved) return ThrowMovedOut(info.Env());
  region->Consume();
  region->Absorb(info.Env(), *next);
  return info.Env().Undefined();
}

// remap(size, mayMove): the TypeScript layer checked the size against the
// file, the page size and the address space.
Napi::Value NativeMapping::Remap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Region* region = Live(env);
  size_t size;
  if (!region || !ExactSizeArg(info, 0, "size", &size)) return Napi::Value();
  bool may_move = info[1].As<Napi::Boolean>().Value();
  if (region->ring()) return ThrowRing(env, "remapped");
  if (region->size() == 0) {
    return ThrowError(env, "ERR_MMAP_UNSUPPORTED",
                      "an empty handle has no mapping to resize: map the file again once it has bytes");
  }
  if (region->pinned()) return ThrowBusy(env);
  if (!region->Unshare()) return ThrowShared(env, "remap");
  // Views go first: their length cannot change, and the pages may move.
  if (region->DetachViews(env)) return ThrowMovedOut(env);
  size_t old_size = region->size();
  os::Error error = region->Remap(env, size, may_move);
  if (error) {
    return ThrowOsError(env, error, DescribeSize(old_size) + " to " + DescribeSize(size) +
                                        "; the handle stays as it was");
  }
  return env.Undefined();
}

// residency(offset, length): one byte per page of the page-aligned range,
// 1 where the page is resident.
Napi::Value NativeMapping::Residency(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Region* region = LiveRange(info, 0);
  if (!region) return Napi::Value();
  size_t offset = SizeArg(info, 0), length = SizeArg(info, 1);
  size_t pages = (length + os::page_size() - 1) / os::page_size();
  Napi::Uint8Array result = Napi::Uint8Array::New(env, pages);
  if (pages == 0) return result;
  os::Error error = os::residency(region->address() + offset, length, result.Data());
  if (error) return ThrowOsError(env, error);
  return result;
}

// function(offset, signature, generation): `generation` is the one of the
// handle asking, which must not have been consumed meanwhile.
Napi::Value NativeMapping::Function(const Napi::CallbackInfo& info) {
  Region* region = Live(info.Env());
  if (!region || !Inside(info.Env(), *region, SizeArg(info, 0), 1)) return Napi::Value();
  if (static_cast<double>(region->generation()) != info[2].As<Napi::Number>().DoubleValue()) {
    return ThrowError(info.Env(), "ERR_MMAP_CLOSED", "the handle was unmapped or consumed");
  }
  return NewCallable(info.Env(), region_, SizeArg(info, 0), info[1]);
}

}  // namespace memmap
