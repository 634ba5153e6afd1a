// Faults on Windows: a vectored exception handler, called before any frame's
// handler. A guarded operation captures its context and arms its thread's
// Guard; an access violation or in-page error inside the armed range resumes
// that captured context, flagged as faulted (setjmp and longjmp done by the
// exception dispatcher, so no unwinding runs through foreign frames). Every
// other exception continues the search, reaching Node's WebAssembly trap
// handler and the frames' own handlers as if ours were not there.
#include <windows.h>

#include <cstring>

#include "fault.h"

namespace memmap::os {

namespace {

// The handler runs on the faulting thread, so each thread's Guard is reached
// through a TLS slot (TlsGetValue neither locks nor allocates).
struct Guard {
  alignas(16) CONTEXT resume;
  volatile bool armed = false;
  volatile bool faulted = false;
  GuardedRange ranges[2] = {};
  Fault fault;
};

DWORD guard_slot = TLS_OUT_OF_INDEXES;
std::once_flag installed;

const char* ExceptionName(DWORD code) {
  return code == EXCEPTION_IN_PAGE_ERROR ? "EXCEPTION_IN_PAGE_ERROR"
                                         : "EXCEPTION_ACCESS_VIOLATION";
}

LONG CALLBACK OnException(EXCEPTION_POINTERS* pointers) {
  const EXCEPTION_RECORD* record = pointers->ExceptionRecord;
  DWORD code = record->ExceptionCode;
  if ((code != EXCEPTION_ACCESS_VIOLATION && code != EXCEPTION_IN_PAGE_ERROR) ||
      record->NumberParameters < 2) {
    return EXCEPTION_CONTINUE_SEARCH;
  }
  uintptr_t address = static_cast<uintptr_t>(record->ExceptionInformation[1]);
  auto* guard = static_cast<Guard*>(TlsGetValue(guard_slot));
  if (guard && guard->armed &&
      (guard->ranges[0].Holds(address) || guard->ranges[1].Holds(address))) {
    guard->armed = false;
    guard->faulted = true;
    guard->fault.address = address;
    guard->fault.signal = ExceptionName(code);
    *pointers->ContextRecord = guard->resume;
    return EXCEPTION_CONTINUE_EXECUTION;
  }
  fault_detail::Line line;
  if (fault_detail::DescribeFault(ExceptionName(code), address, &line)) {
    DWORD written;
    WriteFile(GetStdHandle(STD_ERROR_HANDLE), line.data(), static_cast<DWORD>(line.size()),
              &written, nullptr);
  }
  return EXCEPTION_CONTINUE_SEARCH;
}

// A thread's Guard lives as long as the thread.
struct GuardLease {
  Guard guard;
  GuardLease() { TlsSetValue(guard_slot, &guard); }
  ~GuardLease() { TlsSetValue(guard_slot, nullptr); }
};

// One Guard per thread for every guarded operation: a lease inside the
// Guarded template would be one per instantiation, each taking over the TLS
// slot, so that the handler found another operation's Guard, unarmed.
Guard* GuardOfThread() {
  thread_local GuardLease lease;
  return &lease.guard;
}

template <typename Operation>
bool Guarded(GuardedRange first, GuardedRange second, Fault* fault, Operation operation) {
  install_fault_handler();
  Guard* guard = GuardOfThread();
  guard->ranges[0] = first;
  guard->ranges[1] = second;
  guard->faulted = false;
  // Returns a second time, from the handler, with `faulted` set.
  RtlCaptureContext(&guard->resume);
  if (!guard->faulted) {
    guard->armed = true;
    operation();
    guard->armed = false;
    return true;
  }
  *fault = guard->fault;
  return false;
}

}  // namespace

void install_fault_handler() {
  std::call_once(installed, [] {
    guard_slot = TlsAlloc();
    AddVectoredExceptionHandler(1, OnException);
  });
}

bool guarded_move(void* to, const void* from, size_t size, Fault* fault) {
  return Guarded(RangeOf(to, size), RangeOf(from, size), fault,
                 [&] { std::memmove(to, from, size); });
}

bool guarded_fill(void* to, uint8_t value, size_t size, Fault* fault) {
  return Guarded(RangeOf(to, size), GuardedRange{}, fault, [&] { std::memset(to, value, size); });
}

}  // namespace memmap::os
