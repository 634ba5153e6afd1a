// Shared-memory objects, and waiting on a 32-bit word across processes.
//
// shared_posix.cc (Linux memfd / shm_open, macOS and FreeBSD shm_open;
// futex, os_sync_wait_on_address / __ulock, _umtx_op) and shared_windows.cc
// (pagefile-backed sections; a wait list of its own, see there) implement
// these. Plain C++ over the OS, no Node-API types.
#pragma once

#include <cstdint>
#include <string>

#include "os.h"

namespace memmap::os {

// A shared-memory object: a descriptor on POSIX, a section handle on Windows.
// Names reach here validated by the TypeScript layer (1 to 30 characters of
// [A-Za-z0-9._-], not starting with '.'); each platform spells them its own
// way ("/name" for shm_open, "Local\name" for a Windows section).
//
// Creates an object of `size` (> 0) bytes, zero-filled; anonymous when
// `name` is empty, else exclusively (EEXIST / ERROR_ALREADY_EXISTS when the
// name is taken). With `seal`, its size can never change afterwards, so no
// process can truncate it under a mapping: kUnsupported where the platform
// cannot promise that. The handle is not inherited by child processes.
Error shm_create(const std::string& name, uint64_t size, bool seal, FileHandle* out);
// Opens an existing named object, read-write or read-only.
Error shm_open(const std::string& name, bool writable, FileHandle* out);
// Takes over a descriptor (POSIX) or a descriptor over a section handle
// (Windows: a CRT descriptor, as child_process passes them) after checking
// that it names a shared-memory object or regular file.
Error shm_adopt(int fd, FileHandle* out);
// A descriptor for passing the object to a child process's stdio: on POSIX
// the object's own; on Windows a CRT descriptor over a duplicate handle,
// which the caller closes with shm_close_descriptor.
Error shm_descriptor(FileHandle handle, int* fd);
void shm_close_descriptor(int fd);
Error shm_size(FileHandle handle, uint64_t* size);
// Whether the object's size can never change (sealed memfd; any Windows
// section).
bool shm_sealed(FileHandle handle);
// Removes a name; objects live on while open or mapped. Windows sections
// have no name apart from their handles: nothing to do there.
Error shm_unlink(const std::string& name);
void shm_close(FileHandle handle);

enum class WaitResult { kOk, kNotEqual, kTimedOut };

// Blocks while *word == expected until notify_address() on the same word
// wakes it, from any process mapping the same object, or until `timeout_ms`
// (< 0: never) has passed. Spurious wake-ups return kOk, as futexes do.
// `word` is 4-byte aligned in pages of `allocation` mapped shared.
Error wait_on_address(const AllocationRef& allocation, const uint32_t* word, uint32_t expected,
                      double timeout_ms, WaitResult* result);
// How many times wait_on_address looks at the word (with a pause between)
// before it sleeps in the kernel: on POSIX always, on Windows in a wait
// across processes (one on pages of this process alone sleeps at once on a
// condition variable, see shared_windows.cc). A sleep and its wake-up cost
// tens of microseconds of kernel round trip, while a peer on another core
// that answers at once (a ping-pong between two threads or processes) does
// so within the few microseconds these 100 pauses take (an AMD EPYC, whose
// pause is slow, took 7 microseconds for 200, so about 3.5 for these 100).
// Spinning longer would only burn a core for waiters that really have to
// wait.
constexpr int kWaitSpins = 100;

// Wakes up to `count` waiters on `word`; *woken says how many (as far as
// the platform tells: macOS and FreeBSD do not count, and report `count`
// capped at the waiters they know of, or 0/1).
Error notify_address(const AllocationRef& allocation, const uint32_t* word, uint32_t count,
                     uint32_t* woken);

// A thread of its own, for a wait that must not hold one of libuv's pool
// threads (which fs, dns, crypto and zlib share). *thread identifies it
// for join_thread(), which must be called exactly once.
Error start_thread(void (*body)(void*), void* argument, uintptr_t* thread);
void join_thread(uintptr_t thread);

// A function the host executable exports (Node-API functions newer than the
// ones this binary links against), or null when it has none of that name.
void* host_symbol(const char* name);

}  // namespace memmap::os
