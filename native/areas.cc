// Module functions for memory areas: areas(pid, start, end) and, on Linux,
// parseProcMaps(text, start, end) for testing the parser on lines no live
// process has. Both return plain objects that src/areas.ts turns into
// MemoryArea values.
#include <limits>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "os/areas.h"

namespace memmap {

namespace {

Napi::Value BigIntOf(Napi::Env env, uint64_t value) { return Napi::BigInt::New(env, value); }

Napi::Value ToArray(Napi::Env env, const std::vector<os::Area>& areas) {
  Napi::Array result = Napi::Array::New(env, areas.size());
  for (size_t i = 0; i < areas.size(); ++i) {
    const os::Area& area = areas[i];
    Napi::Object object = Napi::Object::New(env);
    object.Set("start", BigIntOf(env, area.start));
    object.Set("end", BigIntOf(env, area.end));
    object.Set("allocationBase", BigIntOf(env, area.allocation_base));
    object.Set("protection", Napi::Number::New(env, area.protection));
    object.Set("shared", Napi::Boolean::New(env, area.shared));
    object.Set("path", area.path ? Napi::String::New(env, *area.path) : env.Null());
    object.Set("offset", area.offset ? BigIntOf(env, *area.offset) : env.Null());
    result.Set(i, object);
  }
  return result;
}

Napi::Value ThrowAreasError(Napi::Env env, const os::AreasError& error) {
  if (error.os) return ThrowOsError(env, error.os);
  return ThrowError(env, "ERR_MMAP_UNPARSABLE_AREA",
                    "the operating system listed a memory area this parser does not understand: \"" +
                        *error.malformed + "\"");
}

// A bound of the range asked about, a bigint within 64 bits. Where the OS
// layer takes pointer-sized bounds (not Linux), one beyond them becomes the
// highest address, which is as far as this process can see anyway.
os::AreaBound BoundArg(const Napi::CallbackInfo& info, size_t index) {
  bool lossless;
  uint64_t value = info[index].As<Napi::BigInt>().Uint64Value(&lossless);
  return value > std::numeric_limits<os::AreaBound>::max() ? std::numeric_limits<os::AreaBound>::max()
                                                            : static_cast<os::AreaBound>(value);
}

// A bound for parse_proc_maps, which takes 64 bits everywhere.
uint64_t Bound64Arg(const Napi::CallbackInfo& info, size_t index) {
  bool lossless;
  return info[index].As<Napi::BigInt>().Uint64Value(&lossless);
}

// areas(pid: number, start: bigint, end: bigint); pid 0 is this process.
Napi::Value Areas(const Napi::CallbackInfo& info) {
  std::vector<os::Area> areas;
  os::AreasError error = os::list_areas(info[0].As<Napi::Number>().Uint32Value(),
                                        BoundArg(info, 1), BoundArg(info, 2), &areas);
  if (error) return ThrowAreasError(info.Env(), error);
  return ToArray(info.Env(), areas);
}

#if defined(__linux__)
// parseProcMaps(text: string, start: bigint, end: bigint)
Napi::Value ParseProcMaps(const Napi::CallbackInfo& info) {
  std::string text = info[0].As<Napi::String>().Utf8Value();
  std::vector<os::Area> areas;
  os::AreasError error =
      os::parse_proc_maps(text, Bound64Arg(info, 1), Bound64Arg(info, 2), &areas);
  if (error) return ThrowAreasError(info.Env(), error);
  return ToArray(info.Env(), areas);
}
#endif

}  // namespace

void RegisterAreas(Napi::Env env, Napi::Object exports) {
  exports.DefineProperties({
      Napi::PropertyDescriptor::Function(env, exports, "areas", Areas),
#if defined(__linux__)
      Napi::PropertyDescriptor::Function(env, exports, "parseProcMaps", ParseProcMaps),
#endif
  });
}

}  // namespace memmap
