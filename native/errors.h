// Errors reach JavaScript as MmapError, built by a factory the TypeScript
// layer registers at load, so that the class and its fields live in one place.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "os/os.h"

namespace memmap {

// An MmapError for an OS failure, worded as Node's fs errors are:
// "ENOMEM: cannot allocate memory, mmap 64 GiB (reserve)": code = errno
// name, plus errno and syscall; `detail` (what was asked of the OS) follows
// the system call's name.
Napi::Value MakeOsError(Napi::Env env, const os::Error& error, const std::string& detail = "");
// An MmapError with one of the library's own codes.
Napi::Value MakeError(Napi::Env env, const char* code, const std::string& message);

// Throw the above; they return an empty value for `return Throw...(env, ...)`.
Napi::Value ThrowOsError(Napi::Env env, const os::Error& error, const std::string& detail = "");
Napi::Value ThrowError(Napi::Env env, const char* code, const std::string& message);
Napi::Value ThrowExternalBuffersUnsupported(Napi::Env env);

// A byte count for a message: "64 GiB", "4 KiB", or "12345 bytes" when no
// unit divides it.
std::string DescribeSize(uint64_t bytes);
// An address for a message: "0x7f3a2c000000".
std::string Hex(uint64_t address);

}  // namespace memmap
