#!/usr/bin/env bash
# `npm run test:sanitize`, and the sanitizer step of .ci/run: the addon built
# with AddressSanitizer and UndefinedBehaviorSanitizer, and the whole vitest
# suite run on it. Memory errors and undefined behaviour in native/ show up
# here as reports; node itself is not instrumented, so the sanitizer runtime
# is preloaded into it. The build happens in a copy of the checkout, so the
# developer's own build/ and dist/ stay as they are.
# Fails on a failing test and on any sanitizer report, whichever process
# (test worker or a node that a test starts) wrote it. Nothing is suppressed:
# what is turned off, and why, is in the ASan options below.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

packages=()
command -v gcc >/dev/null || packages+=(gcc)
command -v g++ >/dev/null || packages+=(g++)
command -v make >/dev/null || packages+=(make)
command -v python3 >/dev/null || packages+=(python3)
if (( ${#packages[@]} )); then
  echo "sanitize: installing ${packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
[ -d node_modules ] || { echo "sanitize: no node_modules here: run npm ci first" >&2; exit 1; }

# GCC builds the addon, and its sanitizer runtimes are the ones preloaded:
# g++ links them dynamically, and ASan's must be the first library of the
# process.
export CC=gcc CXX=g++
runtime() { # runtime <library name>: its path, as g++ finds it
  local found
  found=$(g++ -print-file-name="$1")
  [[ $found == /* ]] || { echo "sanitize: g++ has no $1" >&2; exit 1; }
  readlink -f "$found"
}
libasan=$(runtime libasan.so)
libubsan=$(runtime libubsan.so)

# node-gyp must build against this machine's Node headers, never download them.
export npm_config_nodedir=${npm_config_nodedir:-$(node -p "require('path').resolve(process.execPath, '../..')")}

copy=$(mktemp -d "${TMPDIR:-/tmp}/memmap-sanitize.XXXXXX")
trap 'rm -rf "$copy"' EXIT
# Readable by all: a test runs the package's command as nobody.
chmod 755 "$copy"
# The work tree's files as git sees them (tracked, and new ones not ignored),
# leaving out tracked files deleted in the work tree; node_modules/ is copied
# whole (a second), because vite and vitest write their caches there.
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' file; do [ -e "$file" ] && printf '%s\0' "$file"; done |
  tar --null -T - -cf - | tar -xf - -C "$copy"
cp -a node_modules "$copy/"
cd "$copy"

echo "== sanitize: build"
# -fno-sanitize-recover: undefined behaviour aborts the process, not just warns.
# -fno-omit-frame-pointer: ASan unwinds by frame pointers for its stacks.
# -g: reports name the file and line.
CXXFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g" \
  LDFLAGS="-fsanitize=address,undefined" \
  node node_modules/node-gyp/bin/node-gyp.js rebuild --jobs=max >build.log 2>&1 ||
  { cat build.log; exit 1; }
npm run build:ts  # dist/ and its ESM entry, for the tests that load the package by name
"$CC" -shared -fPIC -O2 -DUBSAN_LIBRARY="\"$libubsan\"" -o ubsan-report-path.so scripts/ubsan-report-path.c

echo "== sanitize: vitest"
reports=$copy/sanitizer-reports
mkdir "$reports"
# Writable by all, as /tmp is: processes that a test runs as nobody report too.
chmod 1777 "$reports"
# Why each ASan option:
#   log_path          every process writes its reports to a file of its own
#                     (name.pid), so that a report of a node started by a test
#                     is seen too, whatever that test did with its stderr.
#                     UBSan's go there too, through ubsan-report-path.so.
#   detect_leaks=0    Node leaves memory to the OS at exit by design: the
#                     leak check would report Node's allocations, not ours.
#   handle_segv=0, handle_sigbus=0
#                     the addon's own SIGSEGV/SIGBUS handler turns faults in
#                     mapped pages into errors and chains to the handler from
#                     before it (V8's), and tests fault on purpose, some to
#                     see a process die by the signal: ASan's handler there
#                     would turn those deaths into reports and exit code 1.
asan_options=log_path=$reports/asan:detect_leaks=0:handle_segv=0:handle_sigbus=0
# print_stacktrace=1: a UBSan report says how the code got there.
ubsan_options=print_stacktrace=1
status=0
# LD_PRELOAD and the options are in the environment, so the forked test
# workers and every process a test starts get them too. Tests see the
# sanitizers in MEMMAP_TEST_SANITIZER, for skipping what cannot run under
# them.
MEMMAP_TEST_SANITIZER=address,undefined LD_PRELOAD="$libasan $libubsan $copy/ubsan-report-path.so" \
  ASAN_OPTIONS=$asan_options UBSAN_OPTIONS=$ubsan_options MEMMAP_UBSAN_LOG_PATH=$reports/ubsan \
  node node_modules/vitest/vitest.mjs run || status=$?

if compgen -G "$reports/*" >/dev/null; then
  for report in "$reports"/*; do
    echo "== sanitize: report ${report##*/}"
    cat "$report"
  done
  echo "== sanitize: sanitizer reports above"
  status=1
fi
echo "== sanitize: $((SECONDS - start))s"
exit $status
