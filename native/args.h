// Argument conversion for values the TypeScript layer has already validated.
//
// The TypeScript layer checks numbers against what JavaScript can hold: safe
// integers (below 2^53) and bigints within 64 bits. In a 32-bit process
// size_t and pointers are narrower, so each conversion here also says whether
// the value fits, rather than keeping only its low bits.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "errors.h"

namespace memmap {

// A byte count or offset: a safe non-negative integer number. One too large
// for size_t (in a 32-bit process) becomes SIZE_MAX, which every range check
// refuses, instead of wrapping to a small value that would pass them.
inline size_t SizeArg(const Napi::CallbackInfo& info, size_t index) {
  int64_t value = info[index].As<Napi::Number>().Int64Value();
  if (value < 0) return 0;
  if (static_cast<uint64_t>(value) > std::numeric_limits<size_t>::max()) {
    return std::numeric_limits<size_t>::max();
  }
  return static_cast<size_t>(value);
}

// A byte count that must fit size_t to mean anything (the size of a mapping,
// its alignment); false, with ERR_MMAP_INVALID_SIZE naming `what` thrown,
// when it does not.
inline bool ExactSizeArg(const Napi::CallbackInfo& info, size_t index, const char* what,
                         size_t* out) {
  int64_t value = info[index].As<Napi::Number>().Int64Value();
  if (value >= 0 && static_cast<uint64_t>(value) <= std::numeric_limits<size_t>::max()) {
    *out = static_cast<size_t>(value);
    return true;
  }
  ThrowError(info.Env(), "ERR_MMAP_INVALID_SIZE",
             std::string(what) + " " + std::to_string(value) + " does not fit the address space of this " +
                 std::to_string(8 * sizeof(size_t)) + "-bit process (at most " +
                 std::to_string(std::numeric_limits<size_t>::max()) + " bytes)");
  return false;
}

// An address: a bigint within 64 bits. False when it lies beyond this
// process's pointers (above 2^32 - 1 in a 32-bit process); *out is then
// UINTPTR_MAX.
inline bool AddressArg(const Napi::CallbackInfo& info, size_t index, uintptr_t* out) {
  bool lossless;
  uint64_t value = info[index].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless || value > std::numeric_limits<uintptr_t>::max()) {
    *out = std::numeric_limits<uintptr_t>::max();
    return false;
  }
  *out = static_cast<uintptr_t>(value);
  return true;
}

// An address that must be one of this process's (to map at, to adopt);
// false, with ERR_MMAP_INVALID_ADDRESS thrown, when it does not fit a pointer.
inline bool ExactAddressArg(const Napi::CallbackInfo& info, size_t index, uintptr_t* out) {
  if (AddressArg(info, index, out)) return true;
  bool lossless;
  uint64_t value = info[index].As<Napi::BigInt>().Uint64Value(&lossless);
  ThrowError(info.Env(), "ERR_MMAP_INVALID_ADDRESS",
             "address " + Hex(value) + " lies beyond the address space of this " +
                 std::to_string(8 * sizeof(uintptr_t)) + "-bit process");
  return false;
}

// A pointer as JavaScript sees it: a non-negative bigint. (Converting the
// pointer straight to a wider integer sign-extends it with GCC, so that
// 0xb6f00000 would read 0xffffffffb6f00000 in a 32-bit process.)
inline uint64_t AddressValue(const void* pointer) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(pointer));
}

}  // namespace memmap
