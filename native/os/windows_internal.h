// What the OS layer's two Windows files of memory and waits, windows.cc and
// shared_windows.cc, share and nothing else sees: the one way they include
// <windows.h>, and the functions each defines for the other (windows.cc owns
// Allocation, which shared_windows.cc's waits need to see into;
// shared_windows.cc owns the wait objects, whose names and lifetime follow
// windows.cc's mappings). Not a contract: os.h and shared.h are. Included by
// those two files only, never outside native/os.
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <cstdint>
#include <string>

#include "os.h"

namespace memmap::os {

// --- Defined in shared_windows.cc -------------------------------------------

// The name every process gives the object behind `handle` (a file, or a
// section), or empty if it has none.
Error wait_object_name(HANDLE handle, bool file, std::wstring* name);
// Closes this process's wait table and semaphores of `object` unless a wait
// uses them now: its mapping here is gone.
void forget_wait_object(const std::wstring& object);

// --- Defined in windows.cc ---------------------------------------------------

// What a waiter on `word` is queued by: *object names the object and *offset
// is the word's offset in it; an empty *object for pages of this process
// alone.
Error wait_key(const AllocationRef& allocation, const void* word, const std::wstring** object,
               uint64_t* offset);

}  // namespace memmap::os
