#include "errors.h"

#include <cstdio>

#include "addon.h"

namespace memmap {

namespace {

Napi::Value Make(Napi::Env env, const char* code, const std::string& message,
                 Napi::Value errno_value, Napi::Value syscall) {
  Addon* addon = GetAddon(env);
  if (addon == nullptr || addon->make_error.IsEmpty()) {
    return Napi::Error::New(env, message).Value();
  }
  // Raw Node-API: where JavaScript can no longer run (a dying environment)
  // there is simply no error, rather than a fatal one from node-addon-api.
  napi_value argv[] = {Napi::String::New(env, code), Napi::String::New(env, message), errno_value,
                       syscall};
  napi_value error;
  if (napi_call_function(env, env.Undefined(), addon->make_error.Value(), 4, argv, &error) !=
      napi_ok) {
    return Napi::Value();
  }
  return Napi::Value(env, error);
}

Napi::Value Throw(Napi::Env env, Napi::Value error) {
  if (!error.IsEmpty()) napi_throw(env, error);
  return Napi::Value();
}

}  // namespace

Napi::Value MakeOsError(Napi::Env env, const os::Error& error, const std::string& detail) {
  if (error.code == os::Error::kCannotGrowInPlace) {
    return MakeError(env, "ERR_MMAP_CANNOT_GROW_IN_PLACE",
                     "cannot grow in place: the address space right after the mapping is taken; "
                     "remap(size, { mayMove: true }) lets it move (views are detached either way)");
  }
  if (error.code == os::Error::kUnsupported) {
    return MakeError(env, "ERR_MMAP_UNSUPPORTED",
                     std::string(error.syscall) + " is not supported on this platform");
  }
  os::ErrorText text = os::describe(error);
  // The OS's own sentence, in Node's lower-case style, without a full stop.
  std::string reason = text.message;
  while (!reason.empty() && (reason.back() == '.' || reason.back() == '\n' || reason.back() == '\r' ||
                             reason.back() == ' ')) {
    reason.pop_back();
  }
  if (!reason.empty() && reason[0] >= 'A' && reason[0] <= 'Z' &&
      !(reason.size() > 1 && reason[1] >= 'A' && reason[1] <= 'Z')) {
    reason[0] = static_cast<char>(reason[0] - 'A' + 'a');
  }
  std::string message = std::string(text.name) + ": " + reason + ", " + error.syscall;
  if (!detail.empty()) message += " " + detail;
  return Make(env, text.name, message, Napi::Number::New(env, text.errno_value),
              Napi::String::New(env, error.syscall));
}

Napi::Value MakeError(Napi::Env env, const char* code, const std::string& message) {
  return Make(env, code, message, env.Undefined(), env.Undefined());
}

Napi::Value ThrowOsError(Napi::Env env, const os::Error& error, const std::string& detail) {
  return Throw(env, MakeOsError(env, error, detail));
}

Napi::Value ThrowError(Napi::Env env, const char* code, const std::string& message) {
  return Throw(env, MakeError(env, code, message));
}

std::string Hex(uint64_t address) {
  char text[2 + 16 + 1];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(address));
  return text;
}

std::string DescribeSize(uint64_t bytes) {
  static const char* const kUnits[] = {"TiB", "GiB", "MiB", "KiB"};
  for (int i = 0; i < 4; ++i) {
    uint64_t unit = uint64_t{1} << (10 * (4 - i));
    if (bytes != 0 && bytes % unit == 0) return std::to_string(bytes / unit) + " " + kUnits[i];
  }
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

Napi::Value ThrowExternalBuffersUnsupported(Napi::Env env) {
  return ThrowError(env, "ERR_MMAP_EXTERNAL_BUFFERS_UNSUPPORTED",
                    "this runtime refuses external ArrayBuffers, so mapped pages cannot be "
                    "exposed without copying; use the copying accessors read(), readInto(), "
                    "write(), span() and getUint32() and friends instead");
}

}  // namespace memmap
