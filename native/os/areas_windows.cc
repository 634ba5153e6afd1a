// Memory areas on Windows: a VirtualQueryEx walk over the address space.
//
// Only committed memory is listed, as mmap-rs does: a reservation, and the
// piece of an allocation that a split handle unmapped (Windows keeps it
// reserved until the whole allocation goes), is not mapped memory.
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef PSAPI_VERSION
#define PSAPI_VERSION 2  // GetMappedFileNameW from kernel32: no psapi.lib to link
#endif
#include <windows.h>
// windows.h first: psapi.h needs its types.
#include <psapi.h>

#include <string>

#include "areas.h"

namespace memmap::os {

namespace {

// VirtualQueryEx needs PROCESS_QUERY_INFORMATION and nothing more.
class Process {
 public:
  explicit Process(uint32_t pid)
      : handle_(pid == 0 ? GetCurrentProcess()
                         : OpenProcess(PROCESS_QUERY_INFORMATION, FALSE, pid)),
        owned_(pid != 0) {}
  ~Process() {
    if (owned_ && handle_ != nullptr) CloseHandle(handle_);
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  HANDLE handle() const { return handle_; }

 private:
  HANDLE handle_;
  bool owned_;
};

Error last_error(const char* call) { return Error{static_cast<int>(GetLastError()), call}; }

uint32_t protection_of(DWORD protect) {
  // A guard page faults on its first touch, whatever its base protection.
  if (protect & PAGE_GUARD) return kNone;
  switch (protect & 0xff) {
    case PAGE_READONLY: return kRead;
    case PAGE_READWRITE:
    case PAGE_WRITECOPY: return kRead | kWrite;
    case PAGE_EXECUTE: return kExec;
    case PAGE_EXECUTE_READ: return kRead | kExec;
    case PAGE_EXECUTE_READWRITE:
    case PAGE_EXECUTE_WRITECOPY: return kRead | kWrite | kExec;
    default: return kNone;  // PAGE_NOACCESS, and reserved pages (0)
  }
}

bool copy_on_write(DWORD protect) {
  DWORD base = protect & 0xff;
  return base == PAGE_WRITECOPY || base == PAGE_EXECUTE_WRITECOPY;
}

std::string utf8(const wchar_t* text, int length) {
  int size = WideCharToMultiByte(CP_UTF8, 0, text, length, nullptr, 0, nullptr, nullptr);
  std::string result(static_cast<size_t>(size), '\0');
  WideCharToMultiByte(CP_UTF8, 0, text, length, result.data(), size, nullptr, nullptr);
  return result;
}

// The NT path (\Device\HarddiskVolumeN\...) of the file mapped at `address`.
std::optional<std::string> mapped_file(HANDLE process, const void* address) {
  static constexpr DWORD kMaxPath = 32768;  // the longest NT path, in UTF-16 units
  std::wstring name(kMaxPath, L'\0');
  DWORD length = GetMappedFileNameW(process, const_cast<void*>(address), name.data(), kMaxPath);
  if (length == 0) return std::nullopt;  // a section backed by the paging file
  return utf8(name.data(), static_cast<int>(length));
}

Area area_of(HANDLE process, const MEMORY_BASIC_INFORMATION& info) {
  Area area;
  area.start = reinterpret_cast<uintptr_t>(info.BaseAddress);
  area.end = area.start + info.RegionSize;
  area.allocation_base = reinterpret_cast<uintptr_t>(info.AllocationBase);
  area.protection = protection_of(info.Protect);
  area.shared = info.Type != MEM_PRIVATE && !copy_on_write(info.AllocationProtect) &&
                !copy_on_write(info.Protect);
  if (info.Type == MEM_MAPPED || info.Type == MEM_IMAGE) {
    area.path = mapped_file(process, info.BaseAddress);
    // Windows reports no file offset; the offset into the view is what it has.
    if (area.path) area.offset = area.start - area.allocation_base;
  }
  return area;
}

// VirtualQueryEx reports a region from the queried page on. Where the region
// really begins is found by walking its allocation from the start.
bool query_region(HANDLE process, uintptr_t address, MEMORY_BASIC_INFORMATION* info) {
  if (VirtualQueryEx(process, reinterpret_cast<const void*>(address), info, sizeof *info) == 0) {
    return false;
  }
  if (info->State == MEM_FREE) return true;
  uintptr_t cursor = reinterpret_cast<uintptr_t>(info->AllocationBase);
  MEMORY_BASIC_INFORMATION piece;
  while (cursor < reinterpret_cast<uintptr_t>(info->BaseAddress)) {
    if (VirtualQueryEx(process, reinterpret_cast<const void*>(cursor), &piece, sizeof piece) == 0) {
      return false;
    }
    uintptr_t piece_end = cursor + piece.RegionSize;
    if (piece_end > address) {
      *info = piece;
      break;
    }
    cursor = piece_end;
  }
  return true;
}

}  // namespace

AreasError list_areas(uint32_t pid, uintptr_t start, uintptr_t end, std::vector<Area>* out) {
  Process process(pid);
  if (process.handle() == nullptr) {
    // OpenProcess says "invalid parameter" for a pid no process has.
    if (GetLastError() == ERROR_INVALID_PARAMETER) return {Error{Error::kNoSuchProcess, "OpenProcess"}, {}};
    return {last_error("OpenProcess"), {}};
  }
  AreaFilter filter(start, end, out);
  uintptr_t cursor = start;
  while (cursor < end) {
    MEMORY_BASIC_INFORMATION info;
    if (!query_region(process.handle(), cursor, &info)) {
      // Above the highest user address there is nothing left to list.
      if (GetLastError() == ERROR_INVALID_PARAMETER) break;
      return {last_error("VirtualQueryEx"), {}};
    }
    uintptr_t next = reinterpret_cast<uintptr_t>(info.BaseAddress) + info.RegionSize;
    if (info.State == MEM_COMMIT && !filter.add(area_of(process.handle(), info))) break;
    if (next <= cursor) break;  // the top of the address space
    cursor = next;
  }
  return {};
}

}  // namespace memmap::os
