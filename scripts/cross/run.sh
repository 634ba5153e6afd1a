#!/usr/bin/env bash
# `npm run test:cross`, and the cross-platform step of .ci/run: builds the
# addon for every target (scripts/prebuild.sh: linux-x64, linux-arm64,
# win32-x64, and darwin-x64/arm64, which are compiled and linked only) and
# runs the project's vitest suite on
#   win32-x64    node.exe 22 under Wine, MinGW-w64 build
#   linux-arm64  node 22 under qemu-user, aarch64 g++ build
# then the packaging test. Ends with one counts line per target and exits
# non-zero on any failure. Needs root the first time (apt, binfmt_misc).
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"
results=$XPLAT/results
mkdir -p "$results"
status=0
timings=()
stage() { # stage <name> <command...>: runs it, times it, remembers a failure
  local name=$1 start=$SECONDS rc=0
  shift
  echo "== $name"
  "$@" || rc=$?
  if (( rc )); then echo "== $name FAILED"; status=1; fi
  timings+=("$name $((SECONDS - start))s")
  return $rc
}

# Tests see which emulator runs them in MEMMAP_TEST_EMULATOR (wine or
# qemu-user), for skipping what an emulator does not model: resident-set
# accounting under Wine; under qemu-user, madvise() and MAP_STACK/POPULATE
# (accepted, never passed to the kernel), mlock2 and MAP_HUGETLB (refused),
# and speed (every instruction is translated).
vitest_on() { # vitest_on <target> <emulator> <node runner>
  local report=$results/$1.json log=$results/$1.log
  rm -f "$report"
  # Only the target's prebuild may load: never a host build/ left behind.
  MEMMAP_TEST_EMULATOR=$2 PREBUILDS_ONLY=1 "$3" node_modules/vitest/vitest.mjs run --reporter=default \
    --reporter=json --outputFile.json="${report#"$ROOT"/}" >"$log" 2>&1
  local rc=$?
  cat "$log"
  return $rc
}

stage setup bash scripts/cross/setup.sh test || exit 1
stage build bash scripts/prebuild.sh || exit 1
stage typescript npx tsc -p tsconfig.json || exit 1
stage win32-x64 vitest_on win32-x64 wine win_node
wineserver -w
stage linux-arm64 vitest_on linux-arm64 qemu-user arm64_node
stage package bash scripts/cross/package-test.sh

echo "== summary (${timings[*]})"
for target in win32-x64 linux-arm64; do
  node scripts/cross/summary.js "$target" "$results/$target.json" || status=1
done
exit $status
