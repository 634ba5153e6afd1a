#!/usr/bin/env bash
# `npm run prebuild`: one Node-API binary per target, which every Node version
# with Node-API 8 loads, at prebuilds/<platform>-<arch>/memmap.node:
# linux-x64 (host g++), linux-arm64 (aarch64 g++), win32-x64 (MinGW-w64).
# Installs the cross toolchains first if they are missing (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/cross/setup.sh build
for target in ${PREBUILD_TARGETS:-linux-x64 linux-arm64 win32-x64}; do
  bash scripts/cross/build.sh "$target"
done
