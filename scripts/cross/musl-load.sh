#!/usr/bin/env bash
# The musl load check for a linux-x64 musl prebuild (musl-load.c says why and
# how): builds the loader with Debian's musl-gcc, with a stub for every
# function Node-API's .def file names, and runs it on the file:
#   musl-load.sh [addon.node; default prebuilds/linux-x64/memmap.napi.musl.node]
# Prints "musl load ok: <file>", or why musl could not load it and exits 1.
# Needs musl-tools (`setup.sh test` installs it) and the Node-API headers.
set -euo pipefail
. "$(dirname "$0")/env.sh"
addon=${1:-$ROOT/prebuilds/$(prebuild_path linux-x64-musl)}
[ -f "$addon" ] || { echo "musl-load.sh: no such file: $addon" >&2; exit 2; }
def=$NODE_API_HEADERS/def/node_api.def
[ -f "$def" ] || { echo "musl-load.sh: $def is missing: run scripts/cross/setup.sh build" >&2; exit 2; }
command -v musl-gcc >/dev/null || { echo "musl-load.sh: musl-gcc is missing: apt-get install musl-tools" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The .def file: "NAME NODE.EXE", "EXPORTS", then one function name a line.
stubs=$work/napi-stubs.c
{
  echo 'void napi_stub_called(const char *name);'
  sed -n '/^EXPORTS$/,$ { /^EXPORTS$/d; s/[[:space:]]//g; /^$/d; s/.*/void &(void) { napi_stub_called("&"); }/p; }' "$def"
} >"$stubs"
count=$(grep -c 'napi_stub_called("' "$stubs")
(( count > 100 )) || { echo "musl-load.sh: found $count Node-API functions in $def, expected over 100" >&2; exit 1; }
musl-gcc -O1 -Wall -Werror -rdynamic -o "$work/musl-load" "$ROOT/scripts/cross/musl-load.c" "$stubs"
"$work/musl-load" "$addon"
