// SharedMemory: a shared-memory object (native/os/shared.h) owned by one
// JavaScript object, closed by close() or, failing that, when collected.
#include "shared_memory.h"

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "exports.h"

namespace memmap {

namespace {

const napi_type_tag kSharedMemoryTag = {0x6d656d6d61702d73ULL, 0x68617265642d6d31ULL};

// What Wrap hands the constructor: the constructor takes the handle over,
// and says so, so that exactly one of them closes it when anything fails.
struct Handover {
  os::FileHandle handle;
  bool taken = false;
};

}  // namespace

Napi::Function NativeSharedMemory::DefineClass(Napi::Env env) {
  return ObjectWrap::DefineClass(
      env, "NativeSharedMemory",
      {
          InstanceAccessor<&NativeSharedMemory::Fd>("fd"),
          InstanceAccessor<&NativeSharedMemory::Handle>("handle"),
          InstanceAccessor<&NativeSharedMemory::Size>("size"),
          InstanceAccessor<&NativeSharedMemory::Sealed>("sealed"),
          InstanceMethod<&NativeSharedMemory::Close>("close"),
      });
}

NativeSharedMemory* NativeSharedMemory::From(Napi::Value value) {
  if (!value.IsObject() || !value.As<Napi::Object>().CheckTypeTag(&kSharedMemoryTag)) {
    ThrowError(value.Env(), "ERR_INVALID_ARG_TYPE", "expected a SharedMemory");
    return nullptr;
  }
  return Unwrap(value.As<Napi::Object>());
}

NativeSharedMemory::NativeSharedMemory(const Napi::CallbackInfo& info) : ObjectWrap(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    ThrowError(info.Env(), "ERR_ILLEGAL_CONSTRUCTOR",
               "SharedMemory objects are made by SharedMemory.create(), open() and fromFd()");
    return;
  }
  Handover* handover = info[0].As<Napi::External<Handover>>().Data();
  handle_ = handover->handle;
  handover->taken = true;
  os::Error error = os::shm_size(handle_, &size_);
  if (error) {
    os::shm_close(handle_);
    handle_ = kClosed;
    ThrowOsError(info.Env(), error);
    return;
  }
  info.This().As<Napi::Object>().TypeTag(&kSharedMemoryTag);
}

NativeSharedMemory::~NativeSharedMemory() { CloseNow(); }

Napi::Value NativeSharedMemory::Wrap(Napi::Env env, os::FileHandle handle) {
  Napi::Function constructor = GetAddon(env)->shared_memory_class.Value();
  napi_value wrapped;
  Handover handover{handle};
  napi_value argument = Napi::External<Handover>::New(env, &handover);
  if (napi_new_instance(env, constructor, 1, &argument, &wrapped) != napi_ok) {
    if (!handover.taken) os::shm_close(handle);
    return Napi::Value();
  }
  return Napi::Value(env, wrapped);
}

bool NativeSharedMemory::Open(Napi::Env env, os::FileHandle* handle) {
  if (handle_ != kClosed) {
    *handle = handle_;
    return true;
  }
  ThrowError(env, "ERR_MMAP_CLOSED", "the SharedMemory was closed");
  return false;
}

void NativeSharedMemory::CloseNow() {
  if (descriptor_ >= 0) os::shm_close_descriptor(descriptor_);
  descriptor_ = -1;
  if (handle_ != kClosed) os::shm_close(handle_);
  handle_ = kClosed;
}

Napi::Value NativeSharedMemory::Fd(const Napi::CallbackInfo& info) {
  os::FileHandle handle;
  if (!Open(info.Env(), &handle)) return Napi::Value();
  if (descriptor_ < 0) {
    os::Error error = os::shm_descriptor(handle, &descriptor_);
    if (error) return ThrowOsError(info.Env(), error);
  }
  return Napi::Number::New(info.Env(), descriptor_);
}

Napi::Value NativeSharedMemory::Handle(const Napi::CallbackInfo& info) {
  os::FileHandle handle;
  if (!Open(info.Env(), &handle)) return Napi::Value();
  return Napi::BigInt::New(info.Env(), static_cast<int64_t>(handle));
}

Napi::Value NativeSharedMemory::Size(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(size_));
}

Napi::Value NativeSharedMemory::Sealed(const Napi::CallbackInfo& info) {
  os::FileHandle handle;
  if (!Open(info.Env(), &handle)) return Napi::Value();
  return Napi::Boolean::New(info.Env(), os::shm_sealed(handle));
}

Napi::Value NativeSharedMemory::Close(const Napi::CallbackInfo& info) {
  CloseNow();
  return info.Env().Undefined();
}

namespace {

std::string NameArg(const Napi::CallbackInfo& info, size_t index) {
  return info[index].As<Napi::String>().Utf8Value();
}

std::string Quoted(const std::string& name) { return "'" + name + "'"; }

// shmCreate(name, size, seal): name "" for an anonymous object.
Napi::Value Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = NameArg(info, 0);
  uint64_t size = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  os::FileHandle handle;
  os::Error error = os::shm_create(name, size, info[2].As<Napi::Boolean>().Value(), &handle);
  if (error) {
    return ThrowOsError(env, error,
                        DescribeSize(size) + (name.empty() ? "" : " named " + Quoted(name)));
  }
  return NativeSharedMemory::Wrap(env, handle);
}

// shmOpen(name, writable)
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = NameArg(info, 0);
  os::FileHandle handle;
  os::Error error = os::shm_open(name, info[1].As<Napi::Boolean>().Value(), &handle);
  if (error) return ThrowOsError(env, error, Quoted(name));
  return NativeSharedMemory::Wrap(env, handle);
}

// shmAdopt(fd)
Napi::Value Adopt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  os::FileHandle handle;
  os::Error error = os::shm_adopt(fd, &handle);
  if (error) return ThrowOsError(env, error, "of file descriptor " + std::to_string(fd));
  return NativeSharedMemory::Wrap(env, handle);
}

// shmUnlink(name)
Napi::Value Unlink(const Napi::CallbackInfo& info) {
  std::string name = NameArg(info, 0);
  os::Error error = os::shm_unlink(name);
  if (error) return ThrowOsError(info.Env(), error, Quoted(name));
  return info.Env().Undefined();
}

}  // namespace

void RegisterSharedMemory(Napi::Env env, Napi::Object exports) {
  GetAddon(env)->shared_memory_class = Napi::Persistent(NativeSharedMemory::DefineClass(env));
  exports.DefineProperties({
      Napi::PropertyDescriptor::Function(env, exports, "shmCreate", Create),
      Napi::PropertyDescriptor::Function(env, exports, "shmOpen", Open),
      Napi::PropertyDescriptor::Function(env, exports, "shmAdopt", Adopt),
      Napi::PropertyDescriptor::Function(env, exports, "shmUnlink", Unlink),
  });
}

}  // namespace memmap
