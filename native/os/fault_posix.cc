// Faults on POSIX: one SA_SIGINFO handler for SIGSEGV and SIGBUS. A guarded
// operation arms its thread's Guard and sigsetjmp()s; a fault inside the
// armed range siglongjmp()s back. Every other fault goes to the handler that
// was installed before ours, exactly as if ours were not there.
//
// Only memmove/memset run while armed, and both are async-signal-safe, so
// jumping out of the handler abandons nothing half-done.
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>

#include "fault.h"

namespace memmap::os {

namespace {

// What a thread in a guarded operation leaves for the handler. Guards are
// found by thread id in a list that only grows, not through thread_local:
// the handler runs on any thread, and the first touch of a dlopen()ed
// module's thread_local on a thread may allocate.
struct Guard {
  std::atomic<bool> taken{false};
  std::atomic<pthread_t> owner{};  // read by the handler on any thread
  volatile sig_atomic_t armed = 0;
  GuardedRange ranges[2] = {};
  sigjmp_buf resume;
  uintptr_t fault_address = 0;
  int fault_signal = 0;
  sigset_t mask;         // the thread's signal mask before the fault
  Guard* next = nullptr;  // fixed once the guard is published
};

std::atomic<Guard*> guards{nullptr};

Guard* ClaimGuard() {
  pthread_t self = pthread_self();
  for (Guard* guard = guards.load(std::memory_order_acquire); guard; guard = guard->next) {
    bool free = false;
    if (guard->taken.compare_exchange_strong(free, true)) {
      guard->owner.store(self, std::memory_order_release);
      return guard;
    }
  }
  Guard* guard = new Guard;
  guard->taken.store(true, std::memory_order_relaxed);
  guard->owner.store(self, std::memory_order_relaxed);
  guard->next = guards.load(std::memory_order_relaxed);
  while (!guards.compare_exchange_weak(guard->next, guard, std::memory_order_release)) {
  }
  return guard;
}

// A thread holds its guard until it ends; a later thread reuses it. The
// lease is only touched once per thread: the hot path reads `guard_of_thread`,
// a plain pointer that needs no per-access initialization check.
struct GuardLease {
  Guard* guard = ClaimGuard();
  ~GuardLease() { guard->taken.store(false, std::memory_order_release); }
};
thread_local Guard* guard_of_thread = nullptr;

Guard* GuardOfThread() {
  if (!guard_of_thread) {
    thread_local GuardLease lease;
    guard_of_thread = lease.guard;
  }
  return guard_of_thread;
}

Guard* ArmedGuardOfThisThread() {
  pthread_t self = pthread_self();
  for (Guard* guard = guards.load(std::memory_order_acquire); guard; guard = guard->next) {
    if (guard->armed && guard->taken.load(std::memory_order_acquire) &&
        pthread_equal(guard->owner.load(std::memory_order_acquire), self)) {
      return guard;
    }
  }
  return nullptr;
}

struct sigaction previous_segv;
struct sigaction previous_bus;
std::once_flag install_once;
std::atomic<bool> installed{false};

const char* SignalName(int number) { return number == SIGBUS ? "SIGBUS" : "SIGSEGV"; }

// Does what the handler before ours would have done.
void Chain(int number, siginfo_t* info, void* context) {
  const struct sigaction& previous = number == SIGBUS ? previous_bus : previous_segv;
  if (previous.sa_flags & SA_SIGINFO) {
    previous.sa_sigaction(number, info, context);
  } else if (previous.sa_handler == SIG_IGN && info->si_code <= 0) {
    // Sent by a process (kill, raise), not raised by a fault: still ignored.
    return;
  } else if (previous.sa_handler == SIG_DFL || previous.sa_handler == SIG_IGN) {
    // The kernel kills on a fault whose signal is ignored, too. Raised now,
    // the signal stays pending until this handler returns, then kills.
    struct sigaction fallback = {};
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    sigaction(number, &fallback, nullptr);
    raise(number);
  } else {
    previous.sa_handler(number);
  }
}

void OnFault(int number, siginfo_t* info, void* context) {
  uintptr_t address = reinterpret_cast<uintptr_t>(info->si_addr);
  Guard* guard = ArmedGuardOfThisThread();
  if (guard && (guard->ranges[0].Holds(address) || guard->ranges[1].Holds(address))) {
    guard->armed = 0;
    guard->fault_address = address;
    guard->fault_signal = number;
    guard->mask = static_cast<ucontext_t*>(context)->uc_sigmask;
    siglongjmp(guard->resume, 1);
  }
  int saved_errno = errno;
  fault_detail::Line line;
  if (fault_detail::DescribeFault(SignalName(number), address, &line)) {
    ssize_t written = write(STDERR_FILENO, line.data(), line.size());
    (void)written;  // nothing better to do with a failed diagnostic
  }
  errno = saved_errno;
  Chain(number, info, context);
}

template <typename Operation>
bool Guarded(GuardedRange first, GuardedRange second, Fault* fault, Operation operation) {
#if defined(MEMMAP_UNGUARDED_FOR_BENCH)
  // The benchmark's reference build: the same copy with no guard around it,
  // so that one run measures what the guard costs. Never shipped.
  (void)first;
  (void)second;
  (void)fault;
  operation();
  return true;
#endif
  if (!installed.load(std::memory_order_acquire)) install_fault_handler();
  Guard* guard = GuardOfThread();
  guard->ranges[0] = first;
  guard->ranges[1] = second;
  if (sigsetjmp(guard->resume, 0) == 0) {
    guard->armed = 1;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    operation();
    std::atomic_signal_fence(std::memory_order_seq_cst);
    guard->armed = 0;
    return true;
  }
  // Back from the handler, with the mask it ran under (the signal blocked):
  // sigsetjmp(…, 0) saved no mask, which keeps the common path free of
  // system calls, so the one from before the fault is restored here.
  pthread_sigmask(SIG_SETMASK, &guard->mask, nullptr);
  fault->address = guard->fault_address;
  fault->signal = SignalName(guard->fault_signal);
  return false;
}

}  // namespace

void install_fault_handler() {
  std::call_once(install_once, [] {
    // The previous handlers are read before ours goes in, so that a fault
    // on another thread never finds them unset.
    sigaction(SIGSEGV, nullptr, &previous_segv);
    sigaction(SIGBUS, nullptr, &previous_bus);
    struct sigaction action = {};
    action.sa_sigaction = OnFault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, nullptr);
    sigaction(SIGBUS, &action, nullptr);
    installed.store(true, std::memory_order_release);
  });
}

bool guarded_move(void* to, const void* from, size_t size, Fault* fault) {
  return Guarded(RangeOf(to, size), RangeOf(from, size), fault,
                 [&] { memmove(to, from, size); });
}

bool guarded_fill(void* to, uint8_t value, size_t size, Fault* fault) {
  return Guarded(RangeOf(to, size), GuardedRange{}, fault, [&] { memset(to, value, size); });
}

}  // namespace memmap::os
