#include "waits.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "addon.h"
#include "errors.h"
#include "region.h"

namespace memmap {

os::Error WaitSlice(const os::AllocationRef& allocation, const uint32_t* word, uint32_t expected,
                    double timeout_ms, double waited_ms, os::WaitResult* result, bool* done) {
  double left = timeout_ms < 0 ? kWaitSliceMs : timeout_ms - waited_ms;
  double slice = std::max(0.0, std::min(left, kWaitSliceMs));
  os::Error error = os::wait_on_address(allocation, word, expected, slice, result);
  if (error) return error;
  bool last = timeout_ms >= 0 && slice >= left;
  if (*result == os::WaitResult::kNotEqual && waited_ms > 0) *result = os::WaitResult::kOk;
  *done = *result != os::WaitResult::kTimedOut || last;
  return {};
}

double NowMs() {
  auto since = std::chrono::steady_clock::now().time_since_epoch();
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(since).count()) /
         1000;
}

const char* WaitResultName(os::WaitResult result) {
  switch (result) {
    case os::WaitResult::kOk: return "ok";
    case os::WaitResult::kNotEqual: return "not-equal";
    case os::WaitResult::kTimedOut: return "timed-out";
  }
  return "ok";
}

// One waitAsync(). The JavaScript thread makes it, ends it (End) and frees it
// (when its threadsafe function is finalized); the wait's own thread only
// reads what was fixed before it started, writes the outcome, and hands
// over through the threadsafe function, which it lets go of last.
struct AsyncWait {
  Addon* addon = nullptr;
  std::shared_ptr<Region> region;
  os::AllocationRef allocation;
  const uint32_t* word = nullptr;
  uint32_t expected = 0;
  double timeout_ms = -1;
  napi_deferred deferred = nullptr;
  napi_threadsafe_function handover = nullptr;
  uintptr_t thread = 0;
  bool running = false;
  std::atomic<bool> cancelled{false};
  // The outcome, written by the wait's thread before it hands over.
  os::WaitResult result = os::WaitResult::kTimedOut;
  os::Error error;
  bool done = false;
  // Joined and unpinned (JavaScript thread).
  bool ended = false;
  bool settled = false;
};

namespace {

void Run(void* data) {
  auto* wait = static_cast<AsyncWait*>(data);
  double started = NowMs();
  for (bool first = true; !wait->done && !wait->error && !wait->cancelled.load(); first = false) {
    double waited = first ? 0 : std::max(NowMs() - started, 1e-3);
    wait->error = WaitSlice(wait->allocation, wait->word, wait->expected, wait->timeout_ms, waited,
                            &wait->result, &wait->done);
  }
  napi_threadsafe_function handover = wait->handover;
  // May let the JavaScript thread free `wait`: nothing touches it after this.
  napi_call_threadsafe_function(handover, nullptr, napi_tsfn_blocking);
  napi_release_threadsafe_function(handover, napi_tsfn_release);
}

// Wakes the wait's thread at once rather than at the end of its slice; any
// other waiter on the word wakes spuriously, which waits allow.
void Cancel(AsyncWait* wait) {
  if (wait->cancelled.exchange(true)) return;
  uint32_t woken;
  os::notify_address(wait->allocation, wait->word, UINT32_MAX, &woken);
}

// Stops the wait unless its thread has handed over already, joins the
// thread and unpins the region; idempotent.
void End(AsyncWait* wait, bool handed_over) {
  if (wait->ended) return;
  wait->ended = true;
  if (wait->running) {
    if (!handed_over) Cancel(wait);
    os::join_thread(wait->thread);
  }
  auto& waits = wait->addon->waits;
  waits.erase(std::remove(waits.begin(), waits.end(), wait), waits.end());
  wait->region->Unpin();
}

void Settle(napi_env env, AsyncWait* wait) {
  if (wait->settled) return;
  wait->settled = true;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  Napi::Env napi(env);
  // Cancelled (its handle unmapped): a wake-up that raced with that counts
  // for nothing.
  if (wait->error || !wait->done || wait->cancelled) {
    Napi::Value error = wait->error ? MakeOsError(napi, wait->error)
                                    : MakeError(napi, "ERR_MMAP_CLOSED",
                                                "the handle was unmapped while waitAsync() waited");
    if (!error.IsEmpty()) napi_reject_deferred(env, wait->deferred, error);
  } else {
    napi_resolve_deferred(env, wait->deferred, Napi::String::New(napi, WaitResultName(wait->result)));
  }
  napi_close_handle_scope(env, scope);
}

// On the JavaScript thread once the wait's thread has handed over; `env` is
// null when the environment is going away, and then nothing settles.
void HandOver(napi_env env, napi_value, void* context, void*) {
  auto* wait = static_cast<AsyncWait*>(context);
  if (env == nullptr) return;
  End(wait, true);
  if (!JavaScriptStopped(env)) Settle(env, wait);
}

void Free(napi_env, void* data, void*) {
  auto* wait = static_cast<AsyncWait*>(data);
  End(wait, false);
  delete wait;
}

}  // namespace

napi_value StartAsyncWait(napi_env env, std::shared_ptr<Region> region, size_t offset,
                          uint32_t expected, double timeout_ms) {
  Addon* addon = GetAddon(Napi::Env(env));
  auto* wait = new AsyncWait();
  wait->addon = addon;
  wait->region = region;
  wait->allocation = region->allocation();
  wait->word = reinterpret_cast<const uint32_t*>(region->address() + offset);
  wait->expected = expected;
  wait->timeout_ms = timeout_ms;
  region->Pin();
  addon->waits.push_back(wait);
  napi_value promise = nullptr, name;
  if (napi_create_promise(env, &wait->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "memmap:wait", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, wait, Free, wait, HandOver,
                                      &wait->handover) != napi_ok) {
    // Free() was not registered: end it here.
    End(wait, false);
    delete wait;
    return nullptr;
  }
  os::Error error = os::start_thread(Run, wait, &wait->thread);
  if (error) {
    // The threadsafe function frees `wait` once let go of.
    napi_release_threadsafe_function(wait->handover, napi_tsfn_abort);
    ThrowOsError(Napi::Env(env), error, "(a thread for waitAsync())");
    return nullptr;
  }
  wait->running = true;
  return promise;
}

bool HasAsyncWaits(const Addon* addon, const Region* region) {
  return std::any_of(addon->waits.begin(), addon->waits.end(),
                     [region](const AsyncWait* wait) { return wait->region.get() == region; });
}

void CancelAsyncWaits(Addon* addon, const Region* region) {
  for (AsyncWait* wait : addon->waits) {
    if (wait->region.get() == region) Cancel(wait);
  }
}

void EndAsyncWaits(Addon* addon) {
  while (!addon->waits.empty()) End(addon->waits.back(), false);
}

}  // namespace memmap
