#!/usr/bin/env bash
# Builds the addon into prebuilds/<target>/, named as prebuildify names them
# (--napi --tag-libc) so that node-gyp-build picks it, without touching
# node-gyp's build/:
#   build.sh linux-x64      memmap.napi.glibc.node  the host's g++
#   build.sh linux-arm64    memmap.napi.glibc.node  aarch64-linux-gnu g++
#   build.sh win32-x64      memmap.napi.node        MinGW-w64, for node.exe
#   build.sh darwin-x64     memmap.napi.node        Zig, x86_64-macos
#   build.sh darwin-arm64   memmap.napi.node        Zig, aarch64-macos
# Sources and defines come from binding.gyp. Needs what `setup.sh build`
# installs: the toolchains and the Node-API headers.
set -euo pipefail
. "$(dirname "$0")/env.sh"
targets="linux-x64, linux-arm64, win32-x64, darwin-x64 or darwin-arm64"
target=${1:?usage: build.sh <target> ($targets)}
obj=$XPLAT/obj/$target
case $target in
  linux-*) out=$ROOT/prebuilds/$target/memmap.napi.glibc.node ;;
  *) out=$ROOT/prebuilds/$target/memmap.napi.node ;;
esac
mkdir -p "$obj" "$(dirname "$out")"
# The untagged name used before: node-gyp-build would still consider it.
rm -f "$ROOT/prebuilds/$target/memmap.node"

gyp() { node "$ROOT/scripts/cross/gyp.js" "$@"; }
common=(-std=c++17 -O2 -Wall -Wextra -Wno-unused-parameter -DBUILDING_NODE_EXTENSION
        -I"$NODE_API_HEADERS/include" -I"$(node -p "require('node-addon-api').include_dir")"
        -I"$ROOT/native")
while read -r define; do common+=("-D$define"); done < <(gyp defines "${target%-*}")

case $target in
  win32-x64)
    cxx=(x86_64-w64-mingw32-g++-posix)
    # Windows 10 APIs are declared; the ones Wine or older systems lack are
    # looked up at run time.
    cflags=(-D_WIN32_WINNT=0x0A00)
    mapfile -t sources < <(gyp sources win)
    sources+=(native/os/win_delay_load_hook.cc)
    # node.exe exports Node-API; the import library comes from the .def file,
    # delay-loaded so that the hook can bind it to a renamed host.
    import_lib=$obj/libnode_api_delay.a
    x86_64-w64-mingw32-dlltool -d "$NODE_API_HEADERS/def/node_api.def" -y "$import_lib"
    # -static: otherwise the posix-thread MinGW runtime drags in
    # libwinpthread-1.dll, which no Windows machine has.
    link=(-shared -static -Wl,--strip-all "$import_lib" -ladvapi32)
    ;;
  linux-x64|linux-arm64)
    if [ "$target" = linux-arm64 ]; then cxx=(aarch64-linux-gnu-g++); else cxx=(g++); fi
    cflags=(-fPIC -fvisibility=hidden)
    mapfile -t sources < <(gyp sources linux)
    # napi_* stay undefined and bind to the node executable at load time.
    # libstdc++ stays dynamic: static copies pull in symbols of the newest
    # glibc and the binary would not load on older distributions.
    link=(-shared -Wl,-s)
    ;;
  darwin-x64|darwin-arm64)
    # Compiled and linked only: nothing here can run a Mach-O. napi_* are
    # looked up in the node executable at load time (dynamic_lookup).
    if [ "$target" = darwin-arm64 ]; then triple=aarch64-macos; else triple=x86_64-macos; fi
    cxx=("$ZIG" c++ -target "$triple")
    cflags=(-fvisibility=hidden)
    mapfile -t sources < <(gyp sources mac)
    # The install name would otherwise be this machine's path to the file.
    link=(-shared -s -Wl,-undefined,dynamic_lookup -Wl,-install_name,@rpath/memmap.node)
    ;;
  *) echo "build.sh: unknown target '$target' ($targets)" >&2; exit 2 ;;
esac

# Compiles every source, two at a time: a whole build takes seconds to a
# minute, and an incremental one would have to know every header each source
# includes. (Zig caches its objects in ~/.cache/zig, or ZIG_GLOBAL_CACHE_DIR,
# by their inputs, headers included, and builds its libc++ there once per
# target: minutes, on first use.)
objects=()
pids=()
for source in "${sources[@]}"; do
  object=$obj/$(echo "$source" | tr / _).o
  objects+=("$object")
  "${cxx[@]}" "${common[@]}" "${cflags[@]}" -c "$ROOT/$source" -o "$object" &
  pids+=($!)
  if (( ${#pids[@]} >= ${JOBS:-2} )); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid"; done
"${cxx[@]}" "${objects[@]}" "${link[@]}" -o "$out"

if [ "$target" = win32-x64 ]; then
  # Only DLLs every Windows has may be imported (NODE.EXE is delay-loaded).
  unexpected=$(x86_64-w64-mingw32-objdump -p "$out" | sed -n 's/.*DLL Name: //p' | grep -viE '^(KERNEL32|ADVAPI32|msvcrt)\.dll$' || true)
  if [ -n "$unexpected" ]; then echo "build.sh: $out imports $unexpected" >&2; exit 1; fi
fi
echo "built $out"
