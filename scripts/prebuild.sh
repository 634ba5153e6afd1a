#!/usr/bin/env bash
# `npm run prebuild`: one Node-API binary per target, which every Node version
# with Node-API 8 loads, named as prebuildify --napi --tag-libc names them:
#   prebuilds/linux-x64/memmap.napi.glibc.node     host g++
#   prebuilds/linux-arm64/memmap.napi.glibc.node   aarch64-linux-gnu g++
#   prebuilds/win32-x64/memmap.napi.node           MinGW-w64
#   prebuilds/darwin-x64/memmap.napi.node          Zig (compiled and linked only)
#   prebuilds/darwin-arm64/memmap.napi.node        Zig (compiled and linked only)
# Installs the toolchains first if they are missing (the Debian cross
# compilers need root; Zig comes from npm into .xplat/). Prints each
# target's seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/cross/setup.sh build
times=()
for target in ${PREBUILD_TARGETS:-linux-x64 linux-arm64 win32-x64 darwin-x64 darwin-arm64}; do
  start=$SECONDS
  bash scripts/cross/build.sh "$target"
  times+=("$target $((SECONDS - start))s")
done
echo "prebuild times: ${times[*]}"
