#!/usr/bin/env bash
# Builds test/windows/memory-facts.c, the tests' window on Windows' own memory
# accounting, into test/windows/build/<arch>/memory-facts.node with MinGW-w64
# (scripts/cross/setup.sh installs it), for x64 and, where its compiler is
# installed, ia32. Node-API comes from an import library of node.exe's
# exports, as for the prebuilds. Rebuilds only what is older than its source.
#   bash test/windows/build.sh
set -euo pipefail
. "$(dirname "$0")/../../scripts/cross/env.sh"
here=$ROOT/test/windows
source=$here/memory-facts.c
for arch in x64 ia32; do
  if [ "$arch" = ia32 ]; then prefix=i686-w64-mingw32; else prefix=x86_64-w64-mingw32; fi
  if ! command -v "$prefix-gcc" >/dev/null; then
    [ "$arch" = x64 ] || continue
    echo "test/windows/build.sh: $prefix-gcc is missing (bash scripts/cross/setup.sh installs it)" >&2
    exit 1
  fi
  out=$here/build/$arch/memory-facts.node
  [ "$out" -nt "$source" ] && continue
  mkdir -p "$(dirname "$out")"
  "$prefix-dlltool" -d "$NODE_API_HEADERS/def/node_api.def" -l "$here/build/$arch/libnode_api.a"
  # -static: no MinGW runtime DLL to find at load time.
  "$prefix-gcc" -O2 -Wall -Werror -shared -static -DBUILDING_NODE_EXTENSION -I"$NODE_API_HEADERS/include" \
    "$source" -o "$out" "$here/build/$arch/libnode_api.a" -lpsapi -ladvapi32 -Wl,--strip-all
  echo "built ${out#"$ROOT"/}"
done
