// Waiting on a 32-bit word of a handle's pages until another thread or
// process notifies it: the slices every wait is made of, and waitAsync()'s
// waits, each on a thread of its own.
#pragma once

#include <napi.h>

#include <memory>

#include "os/shared.h"

namespace memmap {

struct Addon;
class Region;

// Waits block in slices, so that a waiter notices that its thread is being
// stopped (a worker terminated) or its wait cancelled (its handle unmapped),
// rather than holding the thread or the pages for ever. A word that changed
// while the waiter slept between slices counts as a wake-up: someone wrote
// and, as every user of wait/notify does, notified.
constexpr double kWaitSliceMs = 250;

// One slice of a wait that has already waited `waited_ms` (0 for the first
// slice) of `timeout_ms` (< 0: no limit); *done says whether the wait is over.
os::Error WaitSlice(const os::AllocationRef& allocation, const uint32_t* word, uint32_t expected,
                    double timeout_ms, double waited_ms, os::WaitResult* result, bool* done);
// Milliseconds on a monotonic clock.
double NowMs();
// "ok", "not-equal" or "timed-out".
const char* WaitResultName(os::WaitResult result);

// waitAsync(): a promise of the wait's result. The wait runs on a thread of
// its own (one of libuv's would be held for its whole length, and fs, dns,
// crypto and zlib share the four of them), and keeps the region pinned.
napi_value StartAsyncWait(napi_env env, std::shared_ptr<Region> region, size_t offset,
                          uint32_t expected, double timeout_ms);
// Whether a waitAsync() is waiting on `region`: its thread reads the word
// until it ends, so the pages must not change under it.
bool HasAsyncWaits(const Addon* addon, const Region* region);
// Ends the waits on `region` now: they reject with ERR_MMAP_CLOSED.
void CancelAsyncWaits(Addon* addon, const Region* region);
// At environment teardown: ends every wait of the environment and waits for
// its thread, leaving their regions unpinned.
void EndAsyncWaits(Addon* addon);

}  // namespace memmap
