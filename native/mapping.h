// The native side of a handle. The TypeScript typestate classes hold one of
// these privately; every argument reaching it has been validated there.
#pragma once

#include <napi.h>

#include <memory>

#include "region.h"

namespace memmap {

class NativeMapping : public Napi::ObjectWrap<NativeMapping> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  // Wraps `region` in a new JavaScript object.
  static Napi::Value New(Napi::Env env, std::shared_ptr<Region> region);
  // The NativeMapping behind `value`, checked by type tag; null (with a
  // pending exception) when `value` is anything else.
  static NativeMapping* From(Napi::Value value);

  explicit NativeMapping(const Napi::CallbackInfo& info);
  const std::shared_ptr<Region>& region() const { return region_; }

 private:
  Napi::Value Address(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Ring(const Napi::CallbackInfo& info);
  Napi::Value View(const Napi::CallbackInfo& info);
  Napi::Value Unmap(const Napi::CallbackInfo& info);
  Napi::Value IntoRaw(const Napi::CallbackInfo& info);
  Napi::Value Protect(const Napi::CallbackInfo& info);
  Napi::Value Commit(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info);
  Napi::Value FlushAsync(const Napi::CallbackInfo& info);
  Napi::Value Lock(const Napi::CallbackInfo& info);
  Napi::Value LockOnFault(const Napi::CallbackInfo& info);
  Napi::Value Unlock(const Napi::CallbackInfo& info);
  Napi::Value Advise(const Napi::CallbackInfo& info);
  Napi::Value FlushIcache(const Napi::CallbackInfo& info);
  Napi::Value Split(const Napi::CallbackInfo& info);
  Napi::Value Absorb(const Napi::CallbackInfo& info);
  Napi::Value Function(const Napi::CallbackInfo& info);
  Napi::Value Remap(const Napi::CallbackInfo& info);
  Napi::Value Residency(const Napi::CallbackInfo& info);
  // sharing.cc
  Napi::Value Share(const Napi::CallbackInfo& info);
  Napi::Value SharedBuffer(const Napi::CallbackInfo& info);
  Napi::Value Wait(const Napi::CallbackInfo& info);
  Napi::Value WaitAsync(const Napi::CallbackInfo& info);
  Napi::Value Notify(const Napi::CallbackInfo& info);

  // The region, or null with ERR_MMAP_CLOSED thrown.
  Region* Live(Napi::Env env);
  // The region, if info[index], info[index + 1] is an (offset, length)
  // inside it; null with ERR_MMAP_CLOSED or ERR_MMAP_OUT_OF_BOUNDS thrown.
  Region* LiveRange(const Napi::CallbackInfo& info, size_t index);

  std::shared_ptr<Region> region_;
};

}  // namespace memmap
