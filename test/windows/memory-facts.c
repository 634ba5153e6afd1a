/*
 * Windows' own accounting of this process's memory, for the tests: a
 * test-only Node-API module (the shipped addon carries no test-only exports,
 * and Node cannot call Win32 itself). In-process, because Wine 8 answers
 * QueryWorkingSetEx only for the calling process. test/windows/build.sh
 * builds it; test/helpers.ts loads it.
 *
 *   pages(address: bigint, count)  QueryWorkingSetEx of `count` pages from
 *                                  `address`: { valid, locked, largePage }, one 0/1 per page
 *   region(address: bigint)        VirtualQuery: { base, allocationBase, size, state, protect, type }
 *   counters()                     GetProcessMemoryInfo: { privateUsage, workingSet }
 *   handleCount()                  GetProcessHandleCount
 *   addressSpace()                 VirtualQuery over the whole user address space:
 *                                  { regions, bytes } that are not free (reserved or committed)
 *   lockedPrivilege()              whether SeLockMemoryPrivilege is enabled in the process token
 *   accessViolation()              writes to address 16, where nothing is mapped: a real
 *                                  access violation outside every memmap handle (never returns)
 * A call the system refuses throws an Error naming the call and GetLastError().
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <psapi.h>
#include <stdio.h>
#include <stdlib.h>

#define NAPI_VERSION 8
#include <node_api.h>

static napi_value fail(napi_env env, const char *call) {
  char message[128];
  snprintf(message, sizeof message, "%s failed: Windows error %lu", call, (unsigned long)GetLastError());
  napi_throw_error(env, NULL, message);
  return NULL;
}

static napi_value number(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

static napi_value address_value(napi_env env, const void *address) {
  napi_value result;
  napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)address, &result);
  return result;
}

static void set(napi_env env, napi_value object, const char *name, napi_value value) {
  napi_set_named_property(env, object, name, value);
}

static int arguments(napi_env env, napi_callback_info info, size_t count, napi_value *values) {
  size_t given = count;
  napi_get_cb_info(env, info, &given, values, NULL, NULL);
  return given >= count;
}

static napi_value pages(napi_env env, napi_callback_info info) {
  napi_value args[2];
  uint64_t address;
  bool lossless;
  uint32_t count;
  if (!arguments(env, info, 2, args) || napi_get_value_bigint_uint64(env, args[0], &address, &lossless) != napi_ok ||
      napi_get_value_uint32(env, args[1], &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "pages(address: bigint, count: number)");
    return NULL;
  }
  SYSTEM_INFO system;
  GetSystemInfo(&system);
  PSAPI_WORKING_SET_EX_INFORMATION *entries = calloc(count ? count : 1, sizeof *entries);
  for (uint32_t i = 0; i < count; i++) entries[i].VirtualAddress = (void *)(uintptr_t)(address + (uint64_t)i * system.dwPageSize);
  if (!QueryWorkingSetEx(GetCurrentProcess(), entries, (DWORD)(count * sizeof *entries))) {
    free(entries);
    return fail(env, "QueryWorkingSetEx");
  }
  napi_value result, valid, locked, large;
  napi_create_object(env, &result);
  napi_create_array_with_length(env, count, &valid);
  napi_create_array_with_length(env, count, &locked);
  napi_create_array_with_length(env, count, &large);
  for (uint32_t i = 0; i < count; i++) {
    PSAPI_WORKING_SET_EX_BLOCK bits = entries[i].VirtualAttributes;
    napi_set_element(env, valid, i, number(env, bits.Valid));
    napi_set_element(env, locked, i, number(env, bits.Valid && bits.Locked));
    napi_set_element(env, large, i, number(env, bits.Valid && bits.LargePage));
  }
  free(entries);
  set(env, result, "valid", valid);
  set(env, result, "locked", locked);
  set(env, result, "largePage", large);
  return result;
}

static napi_value region(napi_env env, napi_callback_info info) {
  napi_value args[1];
  uint64_t address;
  bool lossless;
  if (!arguments(env, info, 1, args) || napi_get_value_bigint_uint64(env, args[0], &address, &lossless) != napi_ok) {
    napi_throw_type_error(env, NULL, "region(address: bigint)");
    return NULL;
  }
  MEMORY_BASIC_INFORMATION region;
  if (!VirtualQuery((void *)(uintptr_t)address, &region, sizeof region)) return fail(env, "VirtualQuery");
  napi_value result;
  napi_create_object(env, &result);
  set(env, result, "base", address_value(env, region.BaseAddress));
  set(env, result, "allocationBase", address_value(env, region.AllocationBase));
  set(env, result, "size", number(env, (double)region.RegionSize));
  set(env, result, "state", number(env, region.State));
  set(env, result, "protect", number(env, region.Protect));
  set(env, result, "type", number(env, region.Type));
  return result;
}

static napi_value counters(napi_env env, napi_callback_info info) {
  (void)info;
  PROCESS_MEMORY_COUNTERS_EX memory = {0};
  if (!GetProcessMemoryInfo(GetCurrentProcess(), (PROCESS_MEMORY_COUNTERS *)&memory, sizeof memory)) {
    return fail(env, "GetProcessMemoryInfo");
  }
  napi_value result;
  napi_create_object(env, &result);
  set(env, result, "privateUsage", number(env, (double)memory.PrivateUsage));
  set(env, result, "workingSet", number(env, (double)memory.WorkingSetSize));
  return result;
}

static napi_value handle_count(napi_env env, napi_callback_info info) {
  (void)info;
  DWORD count;
  if (!GetProcessHandleCount(GetCurrentProcess(), &count)) return fail(env, "GetProcessHandleCount");
  return number(env, count);
}

static napi_value address_space(napi_env env, napi_callback_info info) {
  (void)info;
  SYSTEM_INFO system;
  GetSystemInfo(&system);
  double regions = 0, bytes = 0;
  MEMORY_BASIC_INFORMATION region;
  for (char *at = system.lpMinimumApplicationAddress; at < (char *)system.lpMaximumApplicationAddress;
       at = (char *)region.BaseAddress + region.RegionSize) {
    if (!VirtualQuery(at, &region, sizeof region)) return fail(env, "VirtualQuery");
    if (region.State == MEM_FREE) continue;
    regions += 1;
    bytes += (double)region.RegionSize;
  }
  napi_value result;
  napi_create_object(env, &result);
  set(env, result, "regions", number(env, regions));
  set(env, result, "bytes", number(env, bytes));
  return result;
}

static napi_value locked_privilege(napi_env env, napi_callback_info info) {
  (void)info;
  HANDLE token;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return fail(env, "OpenProcessToken");
  PRIVILEGE_SET wanted = {1, PRIVILEGE_SET_ALL_NECESSARY, {{{0, 0}, 0}}};
  BOOL held = FALSE;
  BOOL ok = LookupPrivilegeValueW(NULL, L"SeLockMemoryPrivilege", &wanted.Privilege[0].Luid) &&
            PrivilegeCheck(token, &wanted, &held);
  CloseHandle(token);
  if (!ok) return fail(env, "PrivilegeCheck");
  napi_value result;
  napi_get_boolean(env, held, &result);
  return result;
}

static napi_value access_violation(napi_env env, napi_callback_info info) {
  (void)info;
  // Through a volatile pointer: the compiler may not prove the address bad.
  int *volatile nowhere = (int *)(uintptr_t)16;
  *nowhere = 1;
  return number(env, 0);
}

NAPI_MODULE_INIT() {
  const struct { const char *name; napi_callback function; } functions[] = {
      {"pages", pages}, {"region", region}, {"counters", counters},
      {"handleCount", handle_count}, {"lockedPrivilege", locked_privilege},
      {"accessViolation", access_violation}, {"addressSpace", address_space},
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value function;
    napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].function, NULL, &function);
    set(env, exports, functions[i].name, function);
  }
  return exports;
}
