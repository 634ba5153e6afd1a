// Shared-memory objects and cross-process waits on POSIX systems.
//
// Objects: Linux and FreeBSD make anonymous ones with memfd_create (which can
// be sealed), named ones under /dev/shm (Linux) or with shm_open; macOS has
// only shm_open, so an anonymous object is a random name unlinked at once.
// Waits: a futex without FUTEX_PRIVATE_FLAG (Linux), _umtx_op on the shared
// word (FreeBSD), os_sync_wait_on_address with the shared flag or, before
// macOS 14.4, __ulock_wait (macOS): each keys the wait by the physical page,
// so any process mapping the object meets the same waiters.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <random>

#include "fault.h"
#include "shared.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#elif defined(__FreeBSD__)
#include <sys/types.h>
#include <sys/umtx.h>
#endif
#include <dlfcn.h>

namespace memmap::os {

namespace {

Error fail(const char* syscall) { return Error{errno, syscall}; }

// What fstat says: whether `fd` is a regular file (memfd and shm objects are,
// on Linux and FreeBSD), and its size. glibc's fstat() binds its 2.33
// version; statx (2.28) keeps the prebuild within its glibc floor.
Error status(int fd, bool* regular, uint64_t* size) {
#if defined(__GLIBC__) && defined(STATX_SIZE)
  struct statx info;
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE, &info) != 0) return fail("statx");
  *regular = S_ISREG(info.stx_mode);
  *size = info.stx_size;
#else
  struct stat info;
  if (::fstat(fd, &info) != 0) return fail("fstat");
#if defined(__APPLE__)
  *regular = true;  // macOS reports no file type for shm objects
#else
  *regular = S_ISREG(info.st_mode);
#endif
  *size = static_cast<uint64_t>(info.st_size);
#endif
  return {};
}

// Closes `fd` keeping the errno of the failure being reported.
Error close_after(int fd, const char* syscall) {
  Error error = fail(syscall);
  ::close(fd);
  return error;
}

#if defined(__linux__)
// glibc's shm_open is exactly an open() under /dev/shm; calling it would tie
// the binary to glibc 2.34 (or librt before it), above the floor it is built for.
// O_NONBLOCK: a FIFO planted under the name must not block the open.
std::string object_path(const std::string& name) { return "/dev/shm/" + name; }
int open_object(const std::string& name, int flags) {
  return ::open(object_path(name).c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
}
int unlink_object(const std::string& name) { return ::unlink(object_path(name).c_str()); }
#else
int open_object(const std::string& name, int flags) {
  int fd = ::shm_open(("/" + name).c_str(), flags | O_NONBLOCK, 0600);
  if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
}
int unlink_object(const std::string& name) { return ::shm_unlink(("/" + name).c_str()); }
#endif

#if defined(__linux__) || defined(__FreeBSD__)
#define MEMMAP_HAVE_SEALS 1
constexpr int kSizeSeals = F_SEAL_SHRINK | F_SEAL_GROW;

int anonymous_object(bool seal) {
  return ::memfd_create("memmap", MFD_CLOEXEC | (seal ? MFD_ALLOW_SEALING : 0));
}
#else
int anonymous_object(bool) {
  // Names are only a way in: one nobody can guess, gone before anyone could.
  std::random_device random;
  for (int attempt = 0; attempt < 16; ++attempt) {
    char name[24];
    snprintf(name, sizeof name, "memmap-%08x%08x", random(), random());
    int fd = open_object(name, O_RDWR | O_CREAT | O_EXCL);
    if (fd >= 0) {
      unlink_object(name);
      return fd;
    }
    if (errno != EEXIST) return -1;
  }
  return -1;
}
#endif

}  // namespace

Error shm_create(const std::string& name, uint64_t size, bool seal, FileHandle* out) {
#if defined(MEMMAP_HAVE_SEALS)
  // Only memfd objects take seals; a named one could always be truncated.
  if (seal && !name.empty()) return Error{Error::kUnsupported, "sealing a named object"};
#else
  if (seal) return Error{Error::kUnsupported, "sealing shared memory"};
#endif
  int fd = name.empty() ? anonymous_object(seal) : open_object(name, O_RDWR | O_CREAT | O_EXCL);
  if (fd < 0) return fail(name.empty() ? "memfd_create" : "shm_open");
  if (size > static_cast<uint64_t>(INT64_MAX) || ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    if (size > static_cast<uint64_t>(INT64_MAX)) errno = EFBIG;
    Error error = close_after(fd, "ftruncate");
    if (!name.empty()) unlink_object(name);
    return error;
  }
#if defined(MEMMAP_HAVE_SEALS)
  if (seal && ::fcntl(fd, F_ADD_SEALS, kSizeSeals | F_SEAL_SEAL) != 0) {
    return close_after(fd, "fcntl(F_ADD_SEALS)");
  }
#endif
  *out = fd;
  return {};
}

Error shm_open(const std::string& name, bool writable, FileHandle* out) {
  int fd = open_object(name, writable ? O_RDWR : O_RDONLY);
  if (fd < 0) return fail("shm_open");
  // Whatever else another process put under the name (a FIFO, a
  // directory, a device) is not shared memory.
  bool regular;
  uint64_t size;
  Error error = status(fd, &regular, &size);
  if (!error && !regular) error = Error{EINVAL, "shm_open (not a shared memory object)"};
  int flags = error ? 0 : ::fcntl(fd, F_GETFL);
  if (!error && (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0)) error = fail("fcntl");
  if (error) {
    ::close(fd);
    return error;
  }
  *out = fd;
  return {};
}

Error shm_adopt(int fd, FileHandle* out) {
  bool regular;
  uint64_t size;
  Error error = status(fd, &regular, &size);
  if (error) return error;
  if (!regular) return Error{EINVAL, "fstat (not shared memory or a file)"};
  // A copy of our own: the caller's descriptor stays theirs to close, and
  // closing ours can never close a number someone else reuses.
  int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return fail("fcntl(F_DUPFD_CLOEXEC)");
  *out = own;
  return {};
}

Error shm_descriptor(FileHandle handle, int* fd) {
  *fd = static_cast<int>(handle);
  return {};
}

void shm_close_descriptor(int) {}

Error shm_size(FileHandle handle, uint64_t* size) {
  bool regular;
  return status(static_cast<int>(handle), &regular, size);
}

bool shm_sealed(FileHandle handle) {
#if defined(MEMMAP_HAVE_SEALS)
  int seals = ::fcntl(static_cast<int>(handle), F_GET_SEALS);
  return seals >= 0 && (seals & kSizeSeals) == kSizeSeals;
#else
  (void)handle;
  return false;
#endif
}

Error shm_unlink(const std::string& name) {
  return unlink_object(name) == 0 ? Error{} : fail("shm_unlink");
}

void shm_close(FileHandle handle) { ::close(static_cast<int>(handle)); }

namespace {

// A deadline on the monotonic clock, so that a wait interrupted by a signal
// goes on for the time left, however the wall clock moves.
struct Deadline {
  bool forever;
  struct timespec at;

  explicit Deadline(double timeout_ms) : forever(timeout_ms < 0 || !std::isfinite(timeout_ms)) {
    clock_gettime(CLOCK_MONOTONIC, &at);
    if (forever) return;
    double seconds = std::floor(timeout_ms / 1000);
    // Far beyond any real wait; keeps time_t (32 bits on some targets) sane.
    if (seconds > 1e8) {
      forever = true;
      return;
    }
    at.tv_sec += static_cast<time_t>(seconds);
    at.tv_nsec += static_cast<long>((timeout_ms - seconds * 1000) * 1e6);
    if (at.tv_nsec >= 1000000000L) {
      at.tv_sec += 1;
      at.tv_nsec -= 1000000000L;
    }
  }

  // The time left (false once it has passed).
  bool left(struct timespec* out) const {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    out->tv_sec = at.tv_sec - now.tv_sec;
    out->tv_nsec = at.tv_nsec - now.tv_nsec;
    if (out->tv_nsec < 0) {
      out->tv_sec -= 1;
      out->tv_nsec += 1000000000L;
    }
    return out->tv_sec >= 0 && (out->tv_sec > 0 || out->tv_nsec > 0);
  }
};

// The word, read so that a fault (the page made inaccessible, or the object
// truncated under it by another process) is an error, not a crash.
bool load(const uint32_t* word, uint32_t* value) {
  Fault fault;
  return guarded_move(value, word, sizeof *value, &fault);
}

#if defined(__linux__)

// 0 when woken, else errno: EAGAIN (not equal), ETIMEDOUT, EINTR.
int block(const uint32_t* word, uint32_t expected, const struct timespec* timeout) {
  long done = syscall(SYS_futex, word, FUTEX_WAIT, expected, timeout, nullptr, 0);
  return done == 0 ? 0 : errno;
}

Error wake(const uint32_t* word, uint32_t count, uint32_t* woken) {
  int most = count > INT_MAX ? INT_MAX : static_cast<int>(count);
  long done = syscall(SYS_futex, word, FUTEX_WAKE, most, nullptr, nullptr, 0);
  if (done < 0) return fail("futex(FUTEX_WAKE)");
  *woken = static_cast<uint32_t>(done);
  return {};
}

#elif defined(__FreeBSD__)

int block(const uint32_t* word, uint32_t expected, const struct timespec* timeout) {
  // A differing value returns 0 at once, like a wake-up: told apart here.
  uint32_t value;
  if (!load(word, &value)) return EFAULT;
  if (value != expected) return EAGAIN;
  // _umtx_op takes the timeout's size in uaddr and the timeout in uaddr2.
  int done = _umtx_op(const_cast<uint32_t*>(word), UMTX_OP_WAIT_UINT, expected,
                      timeout ? reinterpret_cast<void*>(sizeof *timeout) : nullptr,
                      const_cast<struct timespec*>(timeout));
  return done == 0 ? 0 : errno;
}

Error wake(const uint32_t* word, uint32_t count, uint32_t* woken) {
  int most = count > INT_MAX ? INT_MAX : static_cast<int>(count);
  if (_umtx_op(const_cast<uint32_t*>(word), UMTX_OP_WAKE, most, nullptr, nullptr) != 0) {
    return fail("_umtx_op(UMTX_OP_WAKE)");
  }
  // FreeBSD does not say how many it woke.
  *woken = count;
  return {};
}

#elif defined(__APPLE__)

// os_sync_wait_on_address (macOS 14.4) or, before it, the __ulock calls that
// it wraps (macOS 10.12); looked up at run time so one binary serves both.
constexpr uint32_t kCompareAndWaitShared = 3;  // UL_COMPARE_AND_WAIT_SHARED
constexpr uint32_t kNoErrno = 0x01000000;      // ULF_NO_ERRNO
constexpr uint32_t kSharedFlag = 1;            // OS_SYNC_{WAIT_ON,WAKE_BY}_ADDRESS_SHARED
constexpr uint32_t kMachAbsoluteClock = 32;    // OS_CLOCK_MACH_ABSOLUTE_TIME

struct AppleWaits {
  int (*wait)(void*, uint64_t, size_t, uint32_t, uint32_t, uint64_t) = nullptr;
  int (*wait_forever)(void*, uint64_t, size_t, uint32_t) = nullptr;
  int (*wake_any)(void*, size_t, uint32_t) = nullptr;
  int (*ulock_wait)(uint32_t, void*, uint64_t, uint32_t) = nullptr;
  int (*ulock_wake)(uint32_t, void*, uint64_t) = nullptr;

  AppleWaits() {
    wait = reinterpret_cast<decltype(wait)>(dlsym(RTLD_DEFAULT, "os_sync_wait_on_address_with_timeout"));
    wait_forever = reinterpret_cast<decltype(wait_forever)>(dlsym(RTLD_DEFAULT, "os_sync_wait_on_address"));
    wake_any = reinterpret_cast<decltype(wake_any)>(dlsym(RTLD_DEFAULT, "os_sync_wake_by_address_any"));
    if (!wait || !wait_forever || !wake_any) wait = nullptr;
    ulock_wait = reinterpret_cast<decltype(ulock_wait)>(dlsym(RTLD_DEFAULT, "__ulock_wait"));
    ulock_wake = reinterpret_cast<decltype(ulock_wake)>(dlsym(RTLD_DEFAULT, "__ulock_wake"));
  }
};

const AppleWaits& apple() {
  static const AppleWaits waits;
  return waits;
}

int block(const uint32_t* word, uint32_t expected, const struct timespec* timeout) {
  uint32_t value;
  if (!load(word, &value)) return EFAULT;
  if (value != expected) return EAGAIN;
  auto* address = const_cast<uint32_t*>(word);
  uint64_t ns = timeout ? static_cast<uint64_t>(timeout->tv_sec) * 1000000000u + timeout->tv_nsec : 0;
  const AppleWaits& calls = apple();
  if (calls.wait) {
    int done = timeout ? calls.wait(address, expected, 4, kSharedFlag, kMachAbsoluteClock, ns)
                       : calls.wait_forever(address, expected, 4, kSharedFlag);
    return done >= 0 ? 0 : errno;
  }
  if (!calls.ulock_wait) return ENOSYS;
  // __ulock_wait takes microseconds, 0 meaning forever.
  uint64_t us = timeout ? (ns + 999) / 1000 : 0;
  if (timeout && us == 0) us = 1;
  int done = calls.ulock_wait(kCompareAndWaitShared | kNoErrno, address, expected,
                              us > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(us));
  return done >= 0 ? 0 : -done;
}

// Each call wakes one waiter or says there is none (ENOENT), so counting
// them one by one gives the exact number.
Error wake(const uint32_t* word, uint32_t count, uint32_t* woken) {
  auto* address = const_cast<uint32_t*>(word);
  const AppleWaits& calls = apple();
  if (!calls.wake_any && !calls.ulock_wake) return Error{Error::kUnsupported, "__ulock_wake"};
  *woken = 0;
  while (*woken < count) {
    int done;
    if (calls.wake_any) {
      done = calls.wake_any(address, 4, kSharedFlag) == 0 ? 0 : errno;
    } else {
      int result = calls.ulock_wake(kCompareAndWaitShared | kNoErrno, address, 0);
      done = result >= 0 ? 0 : -result;
    }
    if (done == ENOENT) break;
    if (done != 0) return Error{done, "os_sync_wake_by_address_any"};
    ++*woken;
  }
  return {};
}

#endif

}  // namespace

inline void pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
  __asm__ __volatile__("yield");
#endif
}

Error wait_on_address(const AllocationRef&, const uint32_t* word, uint32_t expected,
                      double timeout_ms, WaitResult* result) {
  Deadline deadline(timeout_ms);
  uint32_t value;
  for (int spin = 0; spin < kWaitSpins; ++spin) {  // see shared.h
    if (!load(word, &value)) return Error{EFAULT, "reading the word"};
    if (value != expected) {
      *result = WaitResult::kNotEqual;
      return {};
    }
    pause();
  }
  for (;;) {
    struct timespec left;
    if (!deadline.forever && !deadline.left(&left)) {
      if (!load(word, &value)) return Error{EFAULT, "reading the word"};
      *result = value == expected ? WaitResult::kTimedOut : WaitResult::kNotEqual;
      return {};
    }
    int done = block(word, expected, deadline.forever ? nullptr : &left);
    switch (done) {
      case 0: *result = WaitResult::kOk; return {};
      case EAGAIN: *result = WaitResult::kNotEqual; return {};
      case ETIMEDOUT: *result = WaitResult::kTimedOut; return {};
      case EINTR: continue;  // a signal: wait again for the time left
      case ENOSYS: return Error{Error::kUnsupported, "waiting on an address"};
      case EFAULT: return Error{EFAULT, "futex(FUTEX_WAIT)"};
      default: return Error{done, "futex(FUTEX_WAIT)"};
    }
  }
}

Error notify_address(const AllocationRef&, const uint32_t* word, uint32_t count, uint32_t* woken) {
  return wake(word, count, woken);
}

void* host_symbol(const char* name) { return dlsym(RTLD_DEFAULT, name); }

namespace {

struct ThreadStart {
  void (*body)(void*);
  void* argument;
};

void* run_thread(void* start) {
  ThreadStart begin = *static_cast<ThreadStart*>(start);
  delete static_cast<ThreadStart*>(start);
  begin.body(begin.argument);
  return nullptr;
}

}  // namespace

Error start_thread(void (*body)(void*), void* argument, uintptr_t* thread) {
  auto* start = new ThreadStart{body, argument};
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  // A waiter needs little stack; many may be pending at once.
  pthread_attr_setstacksize(&attributes, 256 * 1024);
  pthread_t id;
  int error = pthread_create(&id, &attributes, run_thread, start);
  pthread_attr_destroy(&attributes);
  if (error != 0) {
    delete start;
    return Error{error, "pthread_create"};
  }
  // pthread_t is an integer on Linux and a pointer on Apple systems.
  *thread = reinterpret_cast<uintptr_t>(new pthread_t(id));
  return {};
}

void join_thread(uintptr_t thread) {
  auto* id = reinterpret_cast<pthread_t*>(thread);
  pthread_join(*id, nullptr);
  delete id;
}

}  // namespace memmap::os
