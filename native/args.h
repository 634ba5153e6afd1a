// Argument conversion for values the TypeScript layer has already validated.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace memmap {

// A byte count or offset: a safe non-negative integer number.
inline size_t SizeArg(const Napi::CallbackInfo& info, size_t index) {
  return static_cast<size_t>(info[index].As<Napi::Number>().Int64Value());
}

// An address: a bigint.
inline uint8_t* AddressArg(const Napi::CallbackInfo& info, size_t index) {
  bool lossless;
  return reinterpret_cast<uint8_t*>(
      static_cast<uintptr_t>(info[index].As<Napi::BigInt>().Uint64Value(&lossless)));
}

}  // namespace memmap
