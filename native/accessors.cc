// The copying accessors: bytes move between a handle's pages and JavaScript
// memory under a fault guard, so a page that is gone or inaccessible throws
// ERR_MMAP_FAULT instead of killing the process. They need no external
// ArrayBuffer, so they also work where the runtime refuses those.
//
// Every function takes (mapping, generation, ...): the generation of the
// handle or span asking, so that one whose handle was consumed meanwhile
// (even by code that ran while its arguments were read) reaches nothing. The TypeScript layer
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
  double generation = info[1].As<Napi::Number>().DoubleValue();
  if (region->live() && static_cast<double>(region->generation()) == generation) {
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

// The bytes of a TypedArray or DataView; false, with ERR_INVALID_ARG_TYPE
// thrown, for anything else.
bool ViewBytes(Napi::Value value, uint8_t** data, size_t* length) {
  napi_env env = value.Env();
  bool is_typed_array = false, is_data_view = false;
  void* bytes = nullptr;
  size_t count = 0;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, value, &is_typed_array) == napi_ok && is_typed_array &&
      napi_get_typedarray_info(env, value, &type, &count, &bytes, nullptr, nullptr) == napi_ok) {
    count *= ElementSize(type);
  } else if (napi_is_dataview(env, value, &is_data_view) != napi_ok || !is_data_view ||
             napi_get_dataview_info(env, value, &count, &bytes, nullptr, nullptr) != napi_ok) {
    ThrowError(Napi::Env(env), "ERR_INVALID_ARG_TYPE", "expected a TypedArray or DataView");
    return false;
  }
  *data = static_cast<uint8_t*>(bytes);
  *length = count;
  return true;
}

// Turns a claimed fault into ERR_MMAP_FAULT. `offset` is where the copy
// stood in the mapping; `other` names the JavaScript side of the copy when
// the fault was there (it may be a memmap view itself), else null.
Napi::Value ThrowFault(Napi::Env env, size_t offset, const os::Fault& fault, const char* other) {
  std::string where = other ? std::string(" in the ") + other + " (itself mapped pages), copying offset "
                            : std::string(" at offset ");
  Napi::Value error = MakeError(
      env, "ERR_MMAP_FAULT",
      std::string(fault.signal) + where + std::to_string(offset) +
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

size_t FaultOffset(const Region& region, const os::Fault& fault) {
  return fault.address - reinterpret_cast<uintptr_t>(region.address());
}

// Copies between offset `offset` of the region and `outside`, a JavaScript
// buffer, in the direction `into_mapping` says.
Napi::Value Copy(Napi::Env env, const Region& region, size_t offset, uint8_t* outside,
                 size_t length, bool into_mapping, const char* outside_name) {
  // Nothing to touch; an empty view may even have no data pointer.
  if (length == 0) return env.Undefined();
  uint8_t* mapped = region.address() + offset;
  os::Fault fault;
  bool done = into_mapping ? os::guarded_move(mapped, outside, length, &fault)
                           : os::guarded_move(outside, mapped, length, &fault);
  if (done) return env.Undefined();
  os::GuardedRange outside_range = os::RangeOf(outside, length);
  if (outside_range.Holds(fault.address)) {
    return ThrowFault(env, offset + (fault.address - outside_range.begin), fault, outside_name);
  }
  return ThrowFault(env, FaultOffset(region, fault), fault, nullptr);
}

// readInto(mapping, generation, offset, target): copies target.byteLength
// bytes from the mapping at offset.
Napi::Value ReadInto(const Napi::CallbackInfo& info) {
  Region* region = Target(info);
  if (!region) return Napi::Value();
  uint8_t* target;
  size_t length;
  if (!ViewBytes(info[3], &target, &length)) return Napi::Value();
  size_t offset = SizeArg(info, 2);
  if (!Inside(info.Env(), *region, offset, length)) return Napi::Value();
  return Copy(info.Env(), *region, offset, target, length, false, "target");
}

// write(mapping, generation, offset, source): copies source.byteLength bytes
// into the mapping at offset.
Napi::Value Write(const Napi::CallbackInfo& info) {
  Region* region = Target(info);
  if (!region) return Napi::Value();
  uint8_t* source;
  size_t length;
  if (!ViewBytes(info[3], &source, &length)) return Napi::Value();
  size_t offset = SizeArg(info, 2);
  if (!Inside(info.Env(), *region, offset, length)) return Napi::Value();
  return Copy(info.Env(), *region, offset, source, length, true, "source");
}

// fill(mapping, generation, offset, length, value)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  Region* region = Target(info);
  if (!region) return Napi::Value();
  size_t offset = SizeArg(info, 2);
  size_t length = SizeArg(info, 3);
  if (!Inside(info.Env(), *region, offset, length)) return Napi::Value();
  if (length == 0) return info.Env().Undefined();
  auto value = static_cast<uint8_t>(info[4].As<Napi::Number>().Uint32Value());
  os::Fault fault;
  if (!os::guarded_fill(region->address() + offset, value, length, &fault)) {
    return ThrowFault(info.Env(), FaultOffset(*region, fault), fault, nullptr);
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
  if (length == 0) return info.Env().Undefined();
  uint8_t* base = region->address();
  os::Fault fault;
  if (!os::guarded_move(base + to, base + from, length, &fault)) {
    return ThrowFault(info.Env(), FaultOffset(*region, fault), fault, nullptr);
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
