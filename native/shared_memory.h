// The native side of a SharedMemory (src/shared.ts): one shared-memory
// object, closed once, by close() or when collected.
#pragma once

#include <napi.h>

#include "os/shared.h"

namespace memmap {

class NativeSharedMemory : public Napi::ObjectWrap<NativeSharedMemory> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  // A new object owning `handle`; on failure the handle is closed.
  static Napi::Value Wrap(Napi::Env env, os::FileHandle handle);
  // The object behind `value`, checked by type tag; null (with a pending
  // exception) when `value` is anything else.
  static NativeSharedMemory* From(Napi::Value value);

  explicit NativeSharedMemory(const Napi::CallbackInfo& info);
  ~NativeSharedMemory() override;
  // The open handle; false with ERR_MMAP_CLOSED thrown once closed.
  bool Open(Napi::Env env, os::FileHandle* handle);

 private:
  static constexpr os::FileHandle kClosed = -1;

  Napi::Value Fd(const Napi::CallbackInfo& info);
  Napi::Value Handle(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Sealed(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  void CloseNow();

  os::FileHandle handle_ = kClosed;
  uint64_t size_ = 0;
  // The descriptor handed out as `fd` where it is not the handle itself
  // (Windows).
  int descriptor_ = -1;
};

}  // namespace memmap
