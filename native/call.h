// Calling machine code inside a mapping with the platform's C convention.
#pragma once

#include <napi.h>

#include <memory>

#include "region.h"

namespace memmap {

// A JavaScript function that calls the code at `offset` of `region`.
// `signature` is { args: number[], returns: number, jit: boolean } with the
// type codes of src/function.ts; `jit` marks MAP_JIT pages. The function refuses to run once the handle that made it
// is unmapped or consumed, or if its pages are not executable.
Napi::Value NewCallable(Napi::Env env, std::shared_ptr<Region> region, size_t offset,
                        Napi::Value signature);

}  // namespace memmap
