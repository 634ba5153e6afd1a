#!/usr/bin/env bash
# Builds the addon for one target into prebuilds/, named as prebuildify
# --napi --tag-libc --tag-armv names them so that node-gyp-build picks it,
# without touching node-gyp's build/:
#   target            file                                      toolchain
#   linux-x64         linux-x64/memmap.napi.glibc.node          g++ (glibc floor 2.28)
#   linux-x64-musl    linux-x64/memmap.napi.musl.node           Zig, x86_64-linux-musl
#   linux-arm64       linux-arm64/memmap.napi.glibc.node        aarch64-linux-gnu g++ (floor 2.28)
#   linux-arm64-musl  linux-arm64/memmap.napi.musl.node         Zig, aarch64-linux-musl
#   linux-arm         linux-arm/memmap.napi.armv7.glibc.node    arm-linux-gnueabihf g++ (floor 2.28)
#   win32-x64         win32-x64/memmap.napi.node                MinGW-w64
#   win32-ia32        win32-ia32/memmap.napi.node               MinGW-w64 (i686)
#   win32-arm64       win32-arm64/memmap.napi.node              Zig, aarch64-windows-gnu
#   darwin-x64        darwin-x64/memmap.napi.node               Zig, x86_64-macos
#   darwin-arm64      darwin-arm64/memmap.napi.node             Zig, aarch64-macos
# Sources and defines come from binding.gyp. Needs what `setup.sh build`
# installs: the toolchains and the Node-API headers.
set -euo pipefail
. "$(dirname "$0")/env.sh"
target=${1:?usage: build.sh <target> ($ALL_TARGETS)}
out=$ROOT/prebuilds/$(prebuild_path "$target")
obj=$XPLAT/obj/$target
mkdir -p "$obj" "$(dirname "$out")"

gyp() { node "$ROOT/scripts/cross/gyp.js" "$@"; }
common=(-std=c++17 -O2 -Wall -Wextra -Wno-unused-parameter -DBUILDING_NODE_EXTENSION
        -I"$NODE_API_HEADERS/include" -I"$(node -p "require('node-addon-api').include_dir")"
        -I"$ROOT/native")
gyp_os() { case $1 in linux-*) echo linux ;; win32-*) echo win ;; darwin-*) echo mac ;; esac; }
while read -r define; do common+=("-D$define"); done < <(gyp defines "$(gyp_os "$target")")
mapfile -t sources < <(gyp sources "$(gyp_os "$target")")

# node.exe exports Node-API; a Windows build links an import library made from
# Node-API's .def file, delay-loaded so that the hook can bind it to a renamed
# host. Only DLLs every Windows has may be imported.
windows_import_library() { # windows_import_library <dlltool> <extra dlltool flags...>
  import_lib=$obj/libnode_api_delay.a
  "$@" -d "$NODE_API_HEADERS/def/node_api.def" -y "$import_lib"
}

case $target in
  linux-x64|linux-arm64|linux-arm)
    case $target in
      linux-x64) cxx=(g++) ;;
      linux-arm64) cxx=(aarch64-linux-gnu-g++) ;;
      # Debian's armhf compiler targets ARMv7-A with VFPv3-D16, hard float:
      # what Node's own linux-armv7l build runs on.
      linux-arm) cxx=(arm-linux-gnueabihf-g++ -Wno-psabi) ;;
    esac
    # Built against this machine's glibc, binding only symbol versions that
    # glibc $GLIBC_FLOOR has (glibc-floor.h; check-glibc.sh checks below).
    # libstdc++ stays dynamic: static copies bind the newest glibc's symbols.
    cflags=(-fPIC -fvisibility=hidden -D_FILE_OFFSET_BITS=64 -include "$ROOT/scripts/cross/glibc-floor.h")
    sources+=(scripts/cross/glibc-floor.cc)
    # napi_* stay undefined and bind to the node executable at load time.
    link=(-shared -Wl,-s)
    ;;
  linux-x64-musl|linux-arm64-musl)
    if [ "$target" = linux-arm64-musl ]; then triple=aarch64-linux-musl; else triple=x86_64-linux-musl; fi
    cxx=("$ZIG" c++ -target "$triple")
    cflags=(-fPIC -fvisibility=hidden)
    # Zig's libc++ is linked in statically and kept private by the version
    # script: musl systems may have no libstdc++ at all.
    link=(-shared -s -Wl,--version-script="$ROOT/scripts/cross/linux-exports.map")
    ;;
  win32-x64|win32-ia32)
    if [ "$target" = win32-ia32 ]; then prefix=i686-w64-mingw32; else prefix=x86_64-w64-mingw32; fi
    cxx=("$prefix-g++-posix")
    # Windows 10 APIs are declared; the ones Wine or older systems lack are
    # looked up at run time.
    cflags=(-D_WIN32_WINNT=0x0A00)
    sources+=(native/os/win_delay_load_hook.cc)
    windows_import_library "$prefix-dlltool"
    # -static: otherwise the posix-thread MinGW runtime drags in
    # libwinpthread-1.dll, which no Windows machine has.
    link=(-shared -static -Wl,--strip-all "$import_lib" -ladvapi32)
    ;;
  win32-arm64)
    # Compiled and linked only: nothing here runs Windows on Arm. Zig's linker
    # has no delay-load, so Node-API binds to NODE.EXE by name, and a renamed
    # host (an embedder) cannot load this one build.
    cxx=("$ZIG" c++ -target aarch64-windows-gnu)
    cflags=(-D_WIN32_WINNT=0x0A00)
    import_lib=$obj/libnode_api.a
    "$ZIG" dlltool -m arm64 -d "$NODE_API_HEADERS/def/node_api.def" -l "$import_lib"
    # Zig's linker would leave an import library beside the DLL.
    link=(-shared -s "$import_lib" -ladvapi32 -Wl,--out-implib,"$obj/memmap.lib")
    ;;
  darwin-x64|darwin-arm64)
    # Compiled and linked only: nothing here can run a Mach-O. napi_* are
    # looked up in the node executable at load time (dynamic_lookup).
    if [ "$target" = darwin-arm64 ]; then triple=aarch64-macos; else triple=x86_64-macos; fi
    cxx=("$ZIG" c++ -target "$triple")
    cflags=(-fvisibility=hidden)
    # The install name would otherwise be this machine's path to the file.
    link=(-shared -s -Wl,-undefined,dynamic_lookup -Wl,-install_name,@rpath/memmap.node)
    ;;
  *) echo "build.sh: unknown target '$target' ($ALL_TARGETS)" >&2; exit 2 ;;
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

case $target in
  linux-x64|linux-arm64|linux-arm) bash "$ROOT/scripts/cross/check-glibc.sh" "$out" ;;
  win32-x64|win32-ia32)
    unexpected=$(objdump -p "$out" | sed -n 's/.*DLL Name: //p' | grep -viE '^(KERNEL32|ADVAPI32|msvcrt)\.dll$' || true)
    if [ -n "$unexpected" ]; then echo "build.sh: $out imports $unexpected" >&2; exit 1; fi
    ;;
  win32-arm64)
    # Debian's objdump cannot read an Arm64 PE; at least its header is checked.
    file "$out" | grep -q 'PE32+ executable (DLL).*Aarch64' || { echo "build.sh: $out is not an Arm64 DLL: $(file -b "$out")" >&2; exit 1; }
    ;;
esac
echo "built $out"
