// Preloaded by scripts/sanitize.sh into every process of the sanitizer run,
// after GCC's ASan and UBSan runtimes. UBSan's runtime writes its reports to
// stderr whatever UBSAN_OPTIONS says: its start-up call that would apply
// log_path binds to ASan's copy of __sanitizer_set_report_path, which comes
// first in the process. A test that captures a child's stderr would then
// hide the report. This sets UBSan's own report path, from
// $MEMMAP_UBSAN_LOG_PATH, so that each process writes <path>.<pid>.
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

// UBSAN_LIBRARY, the runtime's path as preloaded, is defined by the build.
__attribute__((constructor)) static void set_ubsan_report_path(void) {
  const char* path = getenv("MEMMAP_UBSAN_LOG_PATH");
  void* ubsan = dlopen(UBSAN_LIBRARY, RTLD_NOW | RTLD_NOLOAD);
  // Looked up in the runtime's handle, the name means UBSan's own definition.
  void (*set_report_path)(const char*) =
      ubsan ? (void (*)(const char*))dlsym(ubsan, "__sanitizer_set_report_path") : NULL;
  if (!path || !set_report_path) {
    fputs("ubsan-report-path: needs MEMMAP_UBSAN_LOG_PATH and " UBSAN_LIBRARY " preloaded\n", stderr);
    abort();
  }
  set_report_path(path);
}
