// The copying accessors: bytes move between a handle's pages and JavaScript
// memory under a fault guard, so a page that is gone or inaccessible throws
// ERR_MMAP_FAULT instead of killing the process. They need no external
// ArrayBuffer, so they also work where the runtime refuses those.
//
// Every function takes (mapping, generation, ...): the generation a span was
// made in, or -1 for the handle itself. The TypeScript layer
// (src/accessors.ts) checked the argument types and a span's own bounds;
// whether a range lies inside the mapping is checked here, where the size is
// at hand and where getting it wrong would touch foreign memory.
#include <string>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "mapping.h"
#include "os/fault.h"

namespace memmap {

namespace {

// The live region the call is about, or null with ERR_MMAP_CLOSED thrown.
Region* Target(const Napi::CallbackInfo& info) {
  NativeMapping* mapping = NativeMapping::From(info[0]);
  if (!mapping) return nullptr;
  Region* region = mapping->region().get();
  int64_t generation = info[1].As<Napi::Number>().Int64Value();
  if (region->live() && (generation < 0 || region->generation() == uint64_t(generation))) {
    return region;
  }
  ThrowError(info.Env(), "ERR_MMAP_CLOSED",
             "the handle was unmapped or consumed, or the span was made before the handle "
             "was split, merged or reprotected");
  return nullptr;
}

size_t ElementSize(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      return 1;
    case napi_int16_array:
    case napi_uint16_array:
      return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      return 4;
    default:
      return 8;
  }
}

// The bytes of a TypedArray or DataView.
void ViewBytes(Napi::Value value, uint8_t** data, size_t* length) {
  napi_env env = value.Env();
  bool is_typed_array = false;
  napi_is_typedarray(env, value, &is_typed_array);
  void* bytes = nullptr;
  if (is_typed_array) {
    napi_typedarray_type type;
    size_t count;
    napi_get_typedarray_info(env, value, &type, &count, &bytes, nullptr, nullptr);
    *length = count * ElementSize(type);
  } else {
    napi_get_dataview_info(env, value, length, &bytes, nullptr, nullptr);
  }
  *data = static_cast<uint8_t*>(bytes);
}

os::GuardedRange Touching(const uint8_t* begin, size_t length) {
  auto start = reinterpret_cast<uintptr_t>(begin);
  return {start, start + length};
}

Napi::Value ThrowFault(Napi::Env env, const Region& region, const os::Fault& fault) {
  size_t offset = fault.address - reinterpret_cast<uintptr_t>(region.address());
  Napi::Value error = MakeError(
      env, "ERR_MMAP_FAULT",
      std::string(fault.signal) + " at offset " + std::to_string(offset) +
          " of the mapping: the page there is gone (the file was truncated?), inaccessible, "
          "or could not be read from its device");
  if (error.IsObject()) {
    Napi::Object object = error.As<Napi::Object>();
    object.Set("offset", Napi::Number::New(env, static_cast<double>(offset)));
    object.Set("signal", Napi::String::New(env, fault.signal));
    napi_throw(env, error);
  }
  return Napi::Value();
}

// readInto(mapping, generation, offset, target): copies target.byteLength
// bytes from the mapping at offset.
Napi::Value ReadInto(const Napi::CallbackInfo& info) {
  Region* region = Target(info);
  if (!region) return Napi::Value();
  uint8_t* target;
  size_t length;
  ViewBytes(info[3], &target, &length);
  size_t offset = SizeArg(info, 2);
  if (!Inside(info.Env(), *region, offset, length)) return Napi::Value();
  const uint8_t* from = region->address() + offset;
  os::Fault fault;
  if (!os::guarded_move(target, from, length, Touching(from, length), &fault)) {
    return ThrowFault(info.Env(), *region, fault);
  }
  return info.Env().Undefined();
}

// write(mapping, generation, offset, source): copies source.byteLength bytes
// into the mapping at offset.
Napi::Value Write(const Napi::CallbackInfo& info) {
  Region* region = Target(info);
  if (!region) return Napi::Value();
  uint8_t* source;
  size_t length;
  ViewBytes(info[3], &source, &length);
  size_t offset = SizeArg(info, 2);
  if (!Inside(info.Env(), *region, offset, length)) return Napi::Value();
  uint8_t* to = region->address() + offset;
  os::Fault fault;
  if (!os::guarded_move(to, source, length, Touching(to, length), &fault)) {
    return ThrowFault(info.Env(), *region, fault);
  }
  return info.Env().Undefined();
}

// fill(mapping, generation, offset, length, value)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  Region* region = Target(info);
  if (!region) return Napi::Value();
  size_t offset = SizeArg(info, 2);
  size_t length = SizeArg(info, 3);
  if (!Inside(info.Env(), *region, offset, length)) return Napi::Value();
  uint8_t* to = region->address() + offset;
  auto value = static_cast<uint8_t>(info[4].As<Napi::Number>().Uint32Value());
  os::Fault fault;
  if (!os::guarded_fill(to, value, length, Touching(to, length), &fault)) {
    return ThrowFault(info.Env(), *region, fault);
  }
  return info.Env().Undefined();
}

// copyWithin(mapping, generation, to, from, length): the ranges may overlap.
Napi::Value CopyWithin(const Napi::CallbackInfo& info) {
  Region* region = Target(info);
  if (!region) return Napi::Value();
  size_t to = SizeArg(info, 2);
  size_t from = SizeArg(info, 3);
  size_t length = SizeArg(info, 4);
  if (!Inside(info.Env(), *region, to, length) || !Inside(info.Env(), *region, from, length)) {
    return Napi::Value();
  }
  uint8_t* base = region->address();
  size_t low = to < from ? to : from;
  size_t high = to < from ? from : to;
  os::Fault fault;
  if (!os::guarded_move(base + to, base + from, length, Touching(base + low, high - low + length),
                        &fault)) {
    return ThrowFault(info.Env(), *region, fault);
  }
  return info.Env().Undefined();
}

// generation(mapping): what a span made now passes as its generation.
Napi::Value Generation(const Napi::CallbackInfo& info) {
  NativeMapping* mapping = NativeMapping::From(info[0]);
  if (!mapping) return Napi::Value();
  return Napi::Number::New(info.Env(), static_cast<double>(mapping->region()->generation()));
}

}  // namespace

void RegisterAccessors(Napi::Env env, Napi::Object exports) {
  exports.DefineProperties({
      Napi::PropertyDescriptor::Function(env, exports, "readInto", ReadInto),
      Napi::PropertyDescriptor::Function(env, exports, "write", Write),
      Napi::PropertyDescriptor::Function(env, exports, "fill", Fill),
      Napi::PropertyDescriptor::Function(env, exports, "copyWithin", CopyWithin),
      Napi::PropertyDescriptor::Function(env, exports, "generation", Generation),
  });
}

}  // namespace memmap
