#!/usr/bin/env bash
# `npm run test:cross`, and the cross-platform step of .ci/run: builds every
# target's prebuild (scripts/prebuild.sh) and runs the project's vitest suite
# on each one that can run here, against that prebuild only:
#   linux-x64    Node 22 and 24, natively (Node 20 is `npm test`'s)
#   win32-x64    node.exe 22 under Wine
#   win32-ia32   node.exe 22 (x86) under 32-bit Wine, only with WIN32_IA32_RUN=1
#   linux-arm64  Node 22 under qemu-user
#   linux-arm    Node 20 (armv7l) under qemu-user
# then the packaging test (which also load-checks the linux-x64 musl build).
# The darwin, win32-arm64 and linux-arm64 musl prebuilds are compiled and
# linked only. Ends with a
# table of every target (passed, failed, skipped, seconds) and exits non-zero
# on any failure. Needs root the first time (apt, binfmt_misc).
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"
results=$XPLAT/results
mkdir -p "$results"
rows=$results/rows.tsv
build_times=$results/build-times.tsv
: >"$rows"
: >"$build_times"
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
# qemu-user), for skipping what an emulator does not model (each skip says
# what): resident-set accounting under Wine; under qemu-user, madvise() and
# MAP_STACK/POPULATE (accepted, never passed to the kernel), mlock2 and
# MAP_HUGETLB (refused), and speed (every instruction is translated).
vitest_on() { # vitest_on <target> <how> <emulator or ""> <node runner...>
  local target=$1 how=$2 emulator=$3 start=$SECONDS rc=0
  shift 3
  local name=$target${how:+ ($how)}
  local report=$results/${name//[^A-Za-z0-9.-]/_}.json log=$results/${name//[^A-Za-z0-9.-]/_}.log
  rm -f "$report"
  echo "== $name"
  # Only the target's prebuild may load: never a host build/ left behind.
  MEMMAP_TEST_EMULATOR=$emulator PREBUILDS_ONLY=1 "$@" node_modules/vitest/vitest.mjs run --reporter=default \
    --reporter=json --outputFile.json="${report#"$ROOT"/}" >"$log" 2>&1 || rc=$?
  cat "$log"
  if (( rc )); then echo "== $name FAILED"; status=1; fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$target" "$how" "$report" "$((SECONDS - start))" "$rc" >>"$rows"
}

stage setup bash scripts/cross/setup.sh test || exit 1
stage build env PREBUILD_TIMES="$build_times" bash scripts/prebuild.sh || exit 1
# The Windows legs read Windows' own memory accounting through a test-only
# module (test/windows/), which the tests cannot compile from under Wine.
stage test-programs bash test/windows/build.sh || exit 1
stage typescript npx tsc -p tsconfig.json || exit 1
for version in $NODE_X64_VERSIONS; do
  vitest_on linux-x64 "Node $version" "" "$(node_x64 "$version")"
done
vitest_on win32-x64 "Node $NODE_WIN_VERSION, Wine" wine win_node
wineserver -w
# 32-bit Wine, where the kernel runs i386 programs: set WIN32_IA32_RUN=1.
if [ "${WIN32_IA32_RUN:-0}" = 1 ]; then
  start=$SECONDS rc=0
  echo "== win32-ia32"
  bash scripts/cross/wine32.sh test || rc=$?
  (( rc )) && status=1
  printf '%s\t%s\t%s\t%s\t%s\n' win32-ia32 "Node $NODE_WIN_IA32_VERSION (x86), 32-bit Wine" "$results/win32-ia32.json" $((SECONDS - start)) $rc >>"$rows"
else
  echo "== win32-ia32: not run ($WIN32_IA32_NOT_RUN; WIN32_IA32_RUN=1 runs it where the kernel runs i386)"
  printf '%s\t%s\t-\t-\t0\n' win32-ia32 "built, not run: $WIN32_IA32_NOT_RUN" >>"$rows"
fi
vitest_on linux-arm64 "Node $NODE_ARM64_VERSION, qemu" qemu-user arm64_node
vitest_on linux-arm "Node $NODE_ARMV7_VERSION armv7l, qemu" qemu-user armv7_node
start=$SECONDS rc=0
stage package bash scripts/cross/package-test.sh || rc=$?
# The packaging test is also the musl build's only check: no musl Node can be
# had here, so musl's own loader resolves its every symbol (musl-load.sh).
printf '%s\t%s\t-\t%s\t%s\n' linux-x64-musl "load-checked by musl's loader (the packaging test)" $((SECONDS - start)) $rc >>"$rows"

echo "== stages: ${timings[*]}"
node scripts/cross/summary.js "$build_times" "$rows" || status=1
exit $status
