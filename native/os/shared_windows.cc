// Shared memory on Windows: pagefile-backed sections, and waiting on a word
// of them across processes.
//
// WaitOnAddress and keyed events wake only threads of the calling process,
// so a wait that a notify in another process must end needs named kernel
// objects, found by every process under the same name. That name comes from
// what the word is: the section's kernel name (memmap names its anonymous
// sections too, randomly, for this) or the file's volume serial and file
// index, plus the word's offset in that object, wherever each process mapped
// it. Per object, a small named section (the wait table) holds one waiter
// count per word waited on; per word, a named semaphore carries the wake-ups.
//
//   wait:   waiters += 1; if *word != expected, leave; else sleep on the
//           semaphore (with the timeout).
//   notify: take k = min(count, waiters) off waiters; release the semaphore k
//           times. *woken = k.
//   leave (not equal, or timed out): take one off waiters if it is above 0;
//           if it is 0, a notifier counted this waiter as woken and its
//           release is on the way: consume that release, so that it wakes no
//           one later.
//
// The increment and the check against the notifier's store and its read of
// the count are ordered by full barriers (interlocked operations), so a
// waiter that saw the old value is counted by any notify after the store: no
// wake-up is lost. Waiters + pending releases always equals the threads inside
// a wait, so a release never outlives its waiter and a wake-up never comes
// spuriously. Every process keeps the table views and semaphore handles it
// has used (64 KiB of address space per object, one handle per word), and
// closes those of objects idle when it holds many: a wait table and its
// semaphores die with the last handle, when no one can be counted in them.
//
// Cost: a wait that blocks is one WaitForSingleObject, a notify that finds a
// waiter one ReleaseSemaphore; a notify that finds none is an interlocked
// read. Before blocking, a wait spins briefly (kWaitSpins, shared.h), so that
// a ping-pong between two processes on two cores mostly never sleeps.
//
// Pages of one process (anonymous memory, private views) need none of this:
// a list of waiters in the process, under a lock, serves them and counts
// exactly whom a notify woke.
#include "windows_internal.h"

#include <ntsecapi.h>

#include <algorithm>
#include <cmath>
#include <cwchar>
#include <map>
#include <unordered_map>

#include "shared.h"

namespace memmap::os {

namespace {

Error fail(const char* syscall) {
  return Error{static_cast<int>(GetLastError()), syscall};
}

// ntdll's object queries: exported on every Windows (and Wine), but declared
// only in the driver kit.
struct UnicodeString {  // UNICODE_STRING
  USHORT length;        // in bytes
  USHORT maximum_length;
  wchar_t* buffer;
};
struct SectionBasicInformation {  // SECTION_BASIC_INFORMATION
  void* base_address;
  ULONG attributes;
  LARGE_INTEGER size;
};
constexpr int kObjectNameInformation = 1;
constexpr int kObjectTypeInformation = 2;
constexpr int kSectionBasicInformation = 0;
using NtQueryObjectFunction = LONG(NTAPI*)(HANDLE, int, void*, ULONG, ULONG*);
using NtQuerySectionFunction = LONG(NTAPI*)(HANDLE, int, void*, SIZE_T, SIZE_T*);
using RtlNtStatusToDosErrorFunction = ULONG(NTAPI*)(LONG);

template <typename Function>
Function ntdll_function(const char* name) {
  FARPROC address = GetProcAddress(GetModuleHandleW(L"ntdll.dll"), name);
  return reinterpret_cast<Function>(reinterpret_cast<void*>(address));
}

Error nt_fail(LONG status, const char* syscall) {
  static const auto to_dos_error =
      ntdll_function<RtlNtStatusToDosErrorFunction>("RtlNtStatusToDosError");
  int code = to_dos_error ? static_cast<int>(to_dos_error(status)) : ERROR_INVALID_HANDLE;
  return Error{code, syscall};
}

// An object's name or its type's name (ObjectNameInformation and
// ObjectTypeInformation both start with a UNICODE_STRING).
Error query_object_string(HANDLE handle, int information_class, std::wstring* out) {
  static const auto query = ntdll_function<NtQueryObjectFunction>("NtQueryObject");
  if (!query) return Error{Error::kUnsupported, "NtQueryObject"};
  alignas(8) unsigned char buffer[2048];
  ULONG length = 0;
  LONG status = query(handle, information_class, buffer, sizeof buffer, &length);
  if (status < 0) return nt_fail(status, "NtQueryObject");
  const auto* text = reinterpret_cast<const UnicodeString*>(buffer);
  out->assign(text->buffer ? text->buffer : L"", text->length / sizeof(wchar_t));
  return {};
}

bool is_section(HANDLE handle) {
  std::wstring type;
  return !query_object_string(handle, kObjectTypeInformation, &type) && type == L"Section";
}

std::wstring local_name(const std::string& name) {
  // Names arrive as [A-Za-z0-9._-]: widening byte by byte is exact.
  return L"Local\\" + std::wstring(name.begin(), name.end());
}

// Every view of a section made here may be executable: a section's
// protection is the ceiling of its views' (as windows.cc's file sections
// are chosen). Where the system refuses executable sections (a process
// under a dynamic-code policy), a read-write one will do.
HANDLE create_section(uint64_t size, const wchar_t* name) {
  for (DWORD protection : {PAGE_EXECUTE_READWRITE, PAGE_READWRITE}) {
    HANDLE section = CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, protection,
                                        static_cast<DWORD>(size >> 32),
                                        static_cast<DWORD>(size), name);
    if (section || GetLastError() != ERROR_ACCESS_DENIED) return section;
  }
  return nullptr;
}

// An anonymous section gets a random name no one else knows, so that waits
// on it work across processes (a notifier must find the waiters' objects by
// name, see above), also in a child that inherited its handle. Anyone who
// learns the name can open it, as anyone who can open this process can read
// its memory.
Error create_anonymous(uint64_t size, HANDLE* out) {
  static LONG counter = 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    uint64_t random = 0;
    if (!RtlGenRandom(&random, sizeof random)) return fail("RtlGenRandom");
    wchar_t name[80];
    std::swprintf(name, 80, L"Local\\memmap-%lx-%lx-%016llx",
                  static_cast<unsigned long>(GetCurrentProcessId()),
                  static_cast<unsigned long>(InterlockedIncrement(&counter)),
                  static_cast<unsigned long long>(random));
    HANDLE section = create_section(size, name);
    if (!section) return fail("CreateFileMapping");
    if (GetLastError() != ERROR_ALREADY_EXISTS) {
      *out = section;
      return {};
    }
    CloseHandle(section);
  }
  return Error{ERROR_ALREADY_EXISTS, "CreateFileMapping"};
}

}  // namespace

Error shm_create(const std::string& name, uint64_t size, bool /*seal*/, FileHandle* out) {
  // `seal` holds by construction: a section's size is fixed for its life.
  HANDLE section = nullptr;
  if (name.empty()) {
    if (Error error = create_anonymous(size, &section)) return error;
  } else {
    section = create_section(size, local_name(name).c_str());
    if (!section) return fail("CreateFileMapping");
    // CreateFileMapping opens a section that exists instead of failing.
    if (GetLastError() == ERROR_ALREADY_EXISTS) {
      CloseHandle(section);
      return Error{ERROR_ALREADY_EXISTS, "CreateFileMapping"};
    }
  }
  *out = reinterpret_cast<FileHandle>(section);
  return {};
}

Error shm_open(const std::string& name, bool writable, FileHandle* out) {
  // SECTION_QUERY for shm_size; execute if the section's owner allows it,
  // since a view's access cannot grow beyond its handle's.
  const DWORD access = FILE_MAP_READ | SECTION_QUERY | (writable ? FILE_MAP_WRITE : 0);
  const std::wstring kernel_name = local_name(name);
  HANDLE section = OpenFileMappingW(access | FILE_MAP_EXECUTE, FALSE, kernel_name.c_str());
  if (!section && GetLastError() == ERROR_ACCESS_DENIED) {
    section = OpenFileMappingW(access, FALSE, kernel_name.c_str());
  }
  if (!section) return fail("OpenFileMapping");
  *out = reinterpret_cast<FileHandle>(section);
  return {};
}

Error shm_adopt(int fd, FileHandle* out) {
  // The CRT descriptor stays the caller's: this addon's C runtime is not the
  // host's, so only the host can close it (fs.closeSync).
  FileHandle handle;
  if (Error error = file_handle(fd, &handle)) return error;
  HANDLE section = reinterpret_cast<HANDLE>(handle);
  if (!is_section(section)) return Error{ERROR_INVALID_HANDLE, "NtQueryObject"};
  HANDLE own;
  if (!DuplicateHandle(GetCurrentProcess(), section, GetCurrentProcess(), &own, 0, FALSE,
                       DUPLICATE_SAME_ACCESS)) {
    return fail("DuplicateHandle");
  }
  *out = reinterpret_cast<FileHandle>(own);
  return {};
}

Error shm_descriptor(FileHandle, int*) {
  // The C runtime makes descriptors only over files, pipes and devices:
  // _open_osfhandle, and libuv's spawn() for a stdio descriptor, ask
  // GetFileType, which knows no sections (FILE_TYPE_UNKNOWN). Wine answers
  // FILE_TYPE_DISK, so it would pass there and nowhere else.
  return Error{Error::kUnsupported,
               "shm.fd (a descriptor for a child's stdio: Windows has none over a section; "
               "pass a named SharedMemory instead)"};
}

void shm_close_descriptor(int) {}

Error shm_size(FileHandle handle, uint64_t* size) {
  static const auto query = ntdll_function<NtQuerySectionFunction>("NtQuerySection");
  HANDLE section = reinterpret_cast<HANDLE>(handle);
  SectionBasicInformation info{};
  LONG status = query ? query(section, kSectionBasicInformation, &info, sizeof info, nullptr) : -1;
  if (status >= 0) {
    *size = static_cast<uint64_t>(info.size.QuadPart);
    return {};
  }
  // A handle without SECTION_QUERY: a whole view's extent, whole pages.
  void* view = MapViewOfFile(section, FILE_MAP_READ, 0, 0, 0);
  if (!view) return fail("MapViewOfFile");
  MEMORY_BASIC_INFORMATION region;
  SIZE_T found = VirtualQuery(view, &region, sizeof region);
  DWORD error = GetLastError();
  UnmapViewOfFile(view);
  if (!found) return Error{static_cast<int>(error), "VirtualQuery"};
  *size = region.RegionSize;
  return {};
}

bool shm_sealed(FileHandle) { return true; }

Error shm_unlink(const std::string&) { return {}; }

void shm_close(FileHandle handle) { CloseHandle(reinterpret_cast<HANDLE>(handle)); }

namespace {

struct ThreadStart {
  void (*body)(void*);
  void* argument;
};

DWORD WINAPI run_thread(void* start) {
  ThreadStart begin = *static_cast<ThreadStart*>(start);
  delete static_cast<ThreadStart*>(start);
  begin.body(begin.argument);
  return 0;
}

}  // namespace

Error start_thread(void (*body)(void*), void* argument, uintptr_t* thread) {
  auto* start = new ThreadStart{body, argument};
  // A waiter needs little stack; many may be pending at once (reserved,
  // not committed, as the size says with this flag).
  HANDLE handle = CreateThread(nullptr, 256 * 1024, run_thread, start,
                               STACK_SIZE_PARAM_IS_A_RESERVATION, nullptr);
  if (!handle) {
    delete start;
    return fail("CreateThread");
  }
  *thread = reinterpret_cast<uintptr_t>(handle);
  return {};
}

void join_thread(uintptr_t thread) {
  HANDLE handle = reinterpret_cast<HANDLE>(thread);
  WaitForSingleObject(handle, INFINITE);
  CloseHandle(handle);
}

void* host_symbol(const char* name) {
  FARPROC address = GetProcAddress(GetModuleHandleW(nullptr), name);
  return reinterpret_cast<void*>(address);
}

// The name wait_on_address finds an object by in every process (see the top
// of this file): empty for a section without a name.
Error wait_object_name(HANDLE handle, bool file, std::wstring* name) {
  if (file) {
    BY_HANDLE_FILE_INFORMATION info;
    if (!GetFileInformationByHandle(handle, &info)) return fail("GetFileInformationByHandle");
    wchar_t text[48];
    std::swprintf(text, 48, L"file-%08lx-%08lx%08lx", info.dwVolumeSerialNumber,
                  info.nFileIndexHigh, info.nFileIndexLow);
    *name = text;
    return {};
  }
  std::wstring kernel_name;
  if (Error error = query_object_string(handle, kObjectNameInformation, &kernel_name)) {
    return error;
  }
  // Kernel names are paths (\Sessions\1\BaseNamedObjects\x); an object name
  // under Local\ may hold no backslash.
  name->clear();
  for (wchar_t c : kernel_name) {
    if (c == L'\\') {
      *name += L"%5C";
    } else if (c == L'%') {
      *name += L"%25";
    } else {
      *name += c;
    }
  }
  return {};
}

namespace {

// --- Time -------------------------------------------------------------------

// A deadline on the performance counter: Windows' waits are counted in whole
// milliseconds and may end up to a timer tick early, so a wait goes on until
// the deadline has really passed.
class Deadline {
 public:
  // Beyond a century is never (and beyond what the counter holds).
  explicit Deadline(double timeout_ms) : infinite_(!(timeout_ms >= 0 && timeout_ms < 3.2e12)) {
    if (infinite_) return;
    LARGE_INTEGER now;
    QueryPerformanceCounter(&now);
    end_ = now.QuadPart + static_cast<LONGLONG>(timeout_ms * frequency() / 1000.0);
  }

  // Milliseconds left, rounded up; INFINITE for none.
  DWORD remaining_ms() const {
    if (infinite_) return INFINITE;
    LARGE_INTEGER now;
    QueryPerformanceCounter(&now);
    if (now.QuadPart >= end_) return 0;
    double ms = std::ceil(static_cast<double>(end_ - now.QuadPart) * 1000.0 / frequency());
    // INFINITE is 0xFFFFFFFF: longer waits go round again.
    return static_cast<DWORD>(std::min(ms, 4.0e9));
  }

 private:
  static double frequency() {
    static const double value = [] {
      LARGE_INTEGER f;
      QueryPerformanceFrequency(&f);
      return static_cast<double>(f.QuadPart);
    }();
    return value;
  }

  bool infinite_;
  LONGLONG end_ = 0;
};

uint32_t load(const uint32_t* word) { return *reinterpret_cast<const volatile uint32_t*>(word); }

// --- Waits on pages of this process ------------------------------------------

struct LocalWaiter {
  const uint32_t* word;
  CONDITION_VARIABLE woken_up = CONDITION_VARIABLE_INIT;
  bool woken = false;
  LocalWaiter* previous = nullptr;
  LocalWaiter* next = nullptr;
};

// Every waiter of the process, oldest first, under one lock: a notify walks
// them all, as V8's Atomics.wait list does.
SRWLOCK local_lock = SRWLOCK_INIT;
LocalWaiter* local_first = nullptr;
LocalWaiter* local_last = nullptr;

void local_remove(LocalWaiter* waiter) {
  (waiter->previous ? waiter->previous->next : local_first) = waiter->next;
  (waiter->next ? waiter->next->previous : local_last) = waiter->previous;
}

Error local_wait(const uint32_t* word, uint32_t expected, double timeout_ms, WaitResult* result) {
  Deadline deadline(timeout_ms);
  LocalWaiter waiter{word};
  AcquireSRWLockExclusive(&local_lock);
  // Checked under the lock a notifier takes after its store: a waiter that
  // saw the old value is in the list before that notify looks.
  if (load(word) != expected) {
    ReleaseSRWLockExclusive(&local_lock);
    *result = WaitResult::kNotEqual;
    return {};
  }
  waiter.previous = local_last;
  (local_last ? local_last->next : local_first) = &waiter;
  local_last = &waiter;
  Error error;
  while (!waiter.woken) {
    DWORD ms = deadline.remaining_ms();
    if (ms == 0) break;
    if (!SleepConditionVariableSRW(&waiter.woken_up, &local_lock, ms, 0) &&
        GetLastError() != ERROR_TIMEOUT) {
      error = fail("SleepConditionVariableSRW");
      break;
    }
  }
  // A woken waiter was taken off the list by its notifier.
  if (!waiter.woken) local_remove(&waiter);
  ReleaseSRWLockExclusive(&local_lock);
  *result = waiter.woken ? WaitResult::kOk : WaitResult::kTimedOut;
  return error;
}

uint32_t local_notify(const uint32_t* word, uint32_t count) {
  uint32_t woken = 0;
  AcquireSRWLockExclusive(&local_lock);
  for (LocalWaiter* waiter = local_first; waiter && woken < count;) {
    LocalWaiter* next = waiter->next;
    if (waiter->word == word) {
      local_remove(waiter);
      waiter->woken = true;
      WakeConditionVariable(&waiter->woken_up);
      ++woken;
    }
    waiter = next;
  }
  ReleaseSRWLockExclusive(&local_lock);
  return woken;
}

// --- Waits across processes ----------------------------------------------------

// The wait table of one object: a named section every process maps, one slot
// per word ever waited on, found by open addressing from its offset. Slots
// are never freed: 4095 words per object.
struct Slot {
  LONG64 key;  // the word's offset + 1; 0: free
  LONG waiters;
  LONG unused;
};
constexpr size_t kTableBytes = 64 * 1024;
constexpr size_t kSlots = kTableBytes / sizeof(Slot);

struct WordQueue {
  LONG* waiters;     // in the wait table
  HANDLE semaphore;  // the wake-ups, named after the word
};

struct ObjectQueues {
  HANDLE table = nullptr;
  Slot* slots = nullptr;
  std::unordered_map<uint64_t, WordQueue> words;
  int users = 0;  // threads between queue() and release() on it

  ~ObjectQueues() {
    for (auto& word : words) CloseHandle(word.second.semaphore);
    if (slots) UnmapViewOfFile(slots);
    if (table) CloseHandle(table);
  }
};

// This process's handles, by object name. Objects nobody here waits on are
// closed once more than kKeptObjects are open. Never destroyed: a thread may
// still wait while the process exits.
constexpr size_t kKeptObjects = 32;
SRWLOCK queues_lock = SRWLOCK_INIT;
auto* const queues = new std::map<std::wstring, ObjectQueues>;

void forget_idle_objects() {
  for (auto it = queues->begin(); queues->size() > kKeptObjects && it != queues->end();) {
    it = it->second.users == 0 ? queues->erase(it) : std::next(it);
  }
}

Error open_table(const std::wstring& object, ObjectQueues* queues) {
  std::wstring name = L"Local\\memmap-wait-" + object;
  // Made zeroed by the first process, opened by the others.
  queues->table = CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0,
                                     static_cast<DWORD>(kTableBytes), name.c_str());
  if (!queues->table) return fail("CreateFileMapping");
  queues->slots = static_cast<Slot*>(MapViewOfFile(queues->table, FILE_MAP_WRITE, 0, 0, 0));
  if (!queues->slots) return fail("MapViewOfFile");
  return {};
}

Error open_word(const std::wstring& object, uint64_t offset, Slot* slots, WordQueue* out) {
  // Claims the word's slot, or finds it claimed by another process.
  const LONG64 key = static_cast<LONG64>(offset + 1);
  Slot* slot = nullptr;
  for (size_t i = 0, at = (offset / 4) % kSlots; i < kSlots && !slot; ++i, at = (at + 1) % kSlots) {
    LONG64 found = InterlockedCompareExchange64(&slots[at].key, key, 0);
    if (found == 0 || found == key) slot = &slots[at];
  }
  if (!slot) return Error{ERROR_NOT_ENOUGH_MEMORY, "waitOnAddress: the object's wait table"};
  wchar_t suffix[24];
  std::swprintf(suffix, 24, L"@%llx", static_cast<unsigned long long>(offset));
  std::wstring name = L"Local\\memmap-wake-" + object + suffix;
  HANDLE semaphore = CreateSemaphoreW(nullptr, 0, MAXLONG, name.c_str());
  if (!semaphore) return fail("CreateSemaphore");
  *out = WordQueue{&slot->waiters, semaphore};
  return {};
}

// The queue of the word at `offset` of `object`, opened on first use; the
// caller holds the object's queues until release().
Error queue(const std::wstring& object, uint64_t offset, WordQueue* out) {
  AcquireSRWLockExclusive(&queues_lock);
  auto [entry, made] = queues->try_emplace(object);
  ObjectQueues& found = entry->second;
  Error error;
  if (made) error = open_table(object, &found);
  if (!error) {
    auto word = found.words.find(offset);
    if (word == found.words.end()) {
      WordQueue opened;
      error = open_word(object, offset, found.slots, &opened);
      if (!error) word = found.words.emplace(offset, opened).first;
    }
    if (!error) {
      *out = word->second;
      ++found.users;
    }
  }
  if (error && found.words.empty()) queues->erase(entry);
  ReleaseSRWLockExclusive(&queues_lock);
  return error;
}

}  // namespace

void forget_wait_object(const std::wstring& object) {
  AcquireSRWLockExclusive(&queues_lock);
  auto entry = queues->find(object);
  if (entry != queues->end() && entry->second.users == 0) queues->erase(entry);
  ReleaseSRWLockExclusive(&queues_lock);
}

namespace {

void release(const std::wstring& object) {
  AcquireSRWLockExclusive(&queues_lock);
  --(*queues)[object].users;
  if (queues->size() > kKeptObjects) forget_idle_objects();
  ReleaseSRWLockExclusive(&queues_lock);
}

// Leaves a word's queue without a wake-up meant for this waiter, or takes the
// one a notifier already sent it. True if it took one.
bool leave(const WordQueue& queue) {
  LONG waiters = InterlockedCompareExchange(queue.waiters, 0, 0);
  while (waiters > 0) {
    LONG seen = InterlockedCompareExchange(queue.waiters, waiters - 1, waiters);
    if (seen == waiters) return false;
    waiters = seen;
  }
  // Between a notifier's two steps: its release comes within instructions.
  WaitForSingleObject(queue.semaphore, INFINITE);
  return true;
}

Error shared_wait(const WordQueue& queue, const uint32_t* word, uint32_t expected,
                  double timeout_ms, WaitResult* result) {
  if (load(word) != expected) {
    *result = WaitResult::kNotEqual;
    return {};
  }
  // The word changing during the spin is as if a notify had come: a wait
  // may return kOk without one.
  for (int spin = 0; spin < kWaitSpins && timeout_ms != 0; ++spin) {
    YieldProcessor();
    if (load(word) != expected) {
      *result = WaitResult::kOk;
      return {};
    }
  }
  Deadline deadline(timeout_ms);
  InterlockedIncrement(queue.waiters);  // a full barrier before the load
  if (load(word) != expected) {
    leave(queue);
    *result = WaitResult::kNotEqual;
    return {};
  }
  for (;;) {
    DWORD waited = WaitForSingleObject(queue.semaphore, deadline.remaining_ms());
    if (waited == WAIT_OBJECT_0) {
      *result = WaitResult::kOk;
      return {};
    }
    if (waited == WAIT_TIMEOUT && deadline.remaining_ms() > 0) continue;
    Error error = waited == WAIT_TIMEOUT ? Error{} : fail("WaitForSingleObject");
    *result = leave(queue) ? WaitResult::kOk : WaitResult::kTimedOut;
    return error;
  }
}

uint32_t shared_notify(const WordQueue& queue, uint32_t count, Error* error) {
  // Orders the caller's store before the read of the count (see the top).
  MemoryBarrier();
  LONG waiters = InterlockedCompareExchange(queue.waiters, 0, 0);
  LONG taken = 0;
  while (waiters > 0) {
    taken = static_cast<LONG>(std::min<uint32_t>(count, static_cast<uint32_t>(waiters)));
    LONG seen = InterlockedCompareExchange(queue.waiters, waiters - taken, waiters);
    if (seen == waiters) break;
    waiters = seen;
    taken = 0;
  }
  if (taken > 0 && !ReleaseSemaphore(queue.semaphore, taken, nullptr)) {
    *error = fail("ReleaseSemaphore");
  }
  return static_cast<uint32_t>(taken);
}

}  // namespace

Error wait_on_address(const AllocationRef& allocation, const uint32_t* word, uint32_t expected,
                      double timeout_ms, WaitResult* result) {
  const std::wstring* object;
  uint64_t offset = 0;
  if (Error error = wait_key(allocation, word, &object, &offset)) return error;
  if (object->empty()) return local_wait(word, expected, timeout_ms, result);
  WordQueue found;
  if (Error error = queue(*object, offset, &found)) return error;
  Error error = shared_wait(found, word, expected, timeout_ms, result);
  release(*object);
  return error;
}

Error notify_address(const AllocationRef& allocation, const uint32_t* word, uint32_t count,
                     uint32_t* woken) {
  *woken = 0;
  const std::wstring* object;
  uint64_t offset = 0;
  if (Error error = wait_key(allocation, word, &object, &offset)) return error;
  if (object->empty()) {
    *woken = local_notify(word, count);
    return {};
  }
  if (count == 0) return {};
  WordQueue found;
  if (Error error = queue(*object, offset, &found)) return error;
  Error error;
  *woken = shared_notify(found, count, &error);
  release(*object);
  return error;
}

}  // namespace memmap::os
