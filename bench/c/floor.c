/*
 * The floor: what any Node-API addon pays for memmap's hot paths, with none
 * of memmap's code (issue 16). Built at bench time; loaded by
 * bench/contenders/node.js.
 *
 *   map(length)        mmap anonymous read-write + napi_create_external_arraybuffer
 *   map(length, fd)    the same over a file, read-only and private
 *   unmap(buffer)      napi_detach_arraybuffer + munmap
 *   addInt32(a, b)     int32 add through a function pointer, as a number
 *   addInt64(a, b)     int64 add through a function pointer, as a number (a double)
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <sys/mman.h>

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static napi_value map(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  uint32_t length;
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok ||
      napi_get_value_uint32(env, args[0], &length) != napi_ok ||
      (argc > 1 && napi_get_value_int32(env, args[1], &fd) != napi_ok)) {
    return throw_error(env, "map(length[, fd]): length and fd must be numbers");
  }
  void *data = fd < 0 ? mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                      : mmap(NULL, length, PROT_READ, MAP_PRIVATE, fd, 0);
  if (data == MAP_FAILED) return throw_error(env, "mmap failed");
  napi_value buffer;
  // No finalizer: every caller unmaps. Node makes its finalizer record either way.
  if (napi_create_external_arraybuffer(env, data, length, NULL, NULL, &buffer) != napi_ok) {
    munmap(data, length);
    return throw_error(env, "napi_create_external_arraybuffer failed");
  }
  return buffer;
}

static napi_value unmap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value buffer;
  void *data;
  size_t length;
  if (napi_get_cb_info(env, info, &argc, &buffer, NULL, NULL) != napi_ok ||
      napi_get_arraybuffer_info(env, buffer, &data, &length) != napi_ok) {
    return throw_error(env, "unmap(buffer): buffer must be an ArrayBuffer from map()");
  }
  if (napi_detach_arraybuffer(env, buffer) != napi_ok) return throw_error(env, "napi_detach_arraybuffer failed");
  munmap(data, length);
  return NULL;
}

static int32_t add_int32(int32_t a, int32_t b) { return a + b; }
static int64_t add_int64(int64_t a, int64_t b) { return a + b; }

// Volatile, so that the compiler calls through the pointer as memmap calls generated code.
static int32_t (*volatile call_int32)(int32_t, int32_t) = add_int32;
static int64_t (*volatile call_int64)(int64_t, int64_t) = add_int64;

static napi_value add_int32_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  int32_t a, b;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok ||
      napi_get_value_int32(env, args[0], &a) != napi_ok || napi_get_value_int32(env, args[1], &b) != napi_ok) {
    return throw_error(env, "addInt32(a, b): a and b must be numbers");
  }
  napi_value result;
  napi_create_int32(env, call_int32(a, b), &result);
  return result;
}

static napi_value add_int64_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  int64_t a, b;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok ||
      napi_get_value_int64(env, args[0], &a) != napi_ok || napi_get_value_int64(env, args[1], &b) != napi_ok) {
    return throw_error(env, "addInt64(a, b): a and b must be numbers");
  }
  napi_value result;
  napi_create_int64(env, call_int64(a, b), &result);
  return result;
}

NAPI_MODULE_INIT() {
  const napi_property_descriptor functions[] = {
      {"map", NULL, map, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unmap", NULL, unmap, NULL, NULL, NULL, napi_enumerable, NULL},
      {"addInt32", NULL, add_int32_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"addInt64", NULL, add_int64_js, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions) != napi_ok) return NULL;
  return exports;
}
