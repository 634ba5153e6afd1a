// The musl load check (musl-load.sh builds and runs it): no musl build of
// Node is on npm, so nothing here can run a musl prebuild inside node. This
// stands in for node's part of loading one: it is linked against musl, and
// exports (-rdynamic) a stub of every Node-API function, as node exports the
// real ones; dlopen() with RTLD_NOW binds every symbol the addon needs now,
// so a libc symbol musl lacks, a glibc-only library (libc.so.6's
// libstdc++.so.6) or a Node-API function node does not export fails here
// rather than on a user's Alpine machine. The stubs abort: nothing calls
// them, as napi_register_module_v1 is only looked up, never called.
//   musl-load <addon.node>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

// Called by every generated stub (musl-load.sh writes them from Node-API's
// .def file).
void napi_stub_called(const char *name) {
  fprintf(stderr, "musl-load: the addon called %s, a stub: only loading is checked\n", name);
  abort();
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: musl-load <addon.node>\n");
    return 2;
  }
  void *addon = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!addon) {
    fprintf(stderr, "musl-load: musl cannot load %s: %s\n", argv[1], dlerror());
    return 1;
  }
  if (!dlsym(addon, "napi_register_module_v1")) {
    fprintf(stderr, "musl-load: %s loads but exports no napi_register_module_v1: %s\n", argv[1], dlerror());
    return 1;
  }
  printf("musl load ok: %s\n", argv[1]);
  return 0;
}
