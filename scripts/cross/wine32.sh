#!/usr/bin/env bash
# win32-ia32: the project's vitest suite on Node's x86 build (node.exe 22)
# under 32-bit Wine, with the MinGW-w64 i686 prebuild.
#   wine32.sh setup        i386 execution (qemu-i386 in binfmt_misc only where
#                          the kernel cannot run i386 ELF itself), the 32-bit
#                          Wine prefix, vitest's bundler as WebAssembly
#   wine32.sh test [file…] setup, then vitest on those test files (default:
#                          all); the report goes to .xplat/results/win32-ia32.*
#   wine32.sh node [arg…]  setup, then node.exe with those arguments
# Needs setup.sh test first (wine32:i386, qemu-user, node-win-x86), and root
# the first time (binfmt_misc).
#
# The prefix is a separate, pure 32-bit one (WINEARCH=win32), so that nothing
# here touches the 64-bit prefix the win32-x64 leg uses. Where the kernel
# cannot run i386 code, every Windows process is emulated instruction by
# instruction: creating the prefix takes ~15 min on two cores, and starting
# node.exe tens of seconds.
#
# Status (Debian 12, Wine 8.0, qemu-user 7.2, Node 22.23.2 x86, a sandboxed
# kernel without i386 execution): node.exe -p process.arch prints ia32 only
# with --v8-pool-size=0 (with V8's worker threads a thread dies at once on an
# int3 in ntdll, EXCEPTION_BREAKPOINT 0x80000003); scripts/cross/smoke.js
# still dies ("Unhandled illegal instruction at address 00000000"), and
# Wine's own services (winedevice.exe, plugplay.exe) crash and restart under
# qemu-i386, each new Wine session spending ~5 min in `wineboot --init`.
# So `test` does not get through here; on a kernel that runs i386 code
# natively none of this emulation is involved.
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"

export WINEPREFIX=$XPLAT/wineprefix-ia32
export WINEARCH=win32
WINE32=/usr/lib/wine/wine   # wine32's loader, an i386 ELF executable
# V8's worker threads crash at start under qemu-i386 (see above).
V8_POOL=--v8-pool-size=0
results=$XPLAT/results

# The kernel runs i386 executables (an ordinary x86_64 machine) or says
# "Exec format error" (a kernel without IA32 emulation, or a sandbox that
# refuses it). Only then is qemu-i386 registered, so that a machine that
# can run i386 code natively does.
i386_execution() {
  local binfmt=/proc/sys/fs/binfmt_misc
  [ -e $binfmt/qemu-i386 ] && return 0
  if "$WINE32" --version >/dev/null 2>&1; then return 0; fi
  local rc=$?
  if [ $rc -ne 126 ]; then
    echo "wine32: $WINE32 --version exited $rc; expected 0, or 126 (Exec format error) on a kernel without i386 support" >&2
    return 1
  fi
  echo "wine32: this kernel cannot run i386 executables; registering qemu-i386 in binfmt_misc"
  [ -e $binfmt/register ] || mount -t binfmt_misc binfmt_misc $binfmt
  # i386 ELF executables (e_machine 3), run by qemu with the flags-F (fixed)
  # interpreter; the i386 libraries are Debian's own (multiarch), so no
  # QEMU_LD_PREFIX.
  printf '%s' ':qemu-i386:M::\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-i386:F' \
    > $binfmt/register
  "$WINE32" --version >/dev/null || { echo "wine32: $WINE32 does not run even under qemu-i386" >&2; return 1; }
}

# The prefix, once. wineboot returns before the services it started have
# finished installing; `wineserver -w` waits for them.
prefix() {
  [ -f "$WINEPREFIX/.memmap-ready" ] && return 0
  echo "wine32: creating the 32-bit Wine prefix $WINEPREFIX (slow under qemu-i386)"
  wineboot -i >/dev/null 2>&1 || true
  wineserver -w
  # Wine 8 says Windows 7 by default, and Node refuses anything before 8.1.
  winecfg -v win10 >/dev/null 2>&1 || true
  wineserver -w
  local version
  version=$(NODE_OPTIONS=$V8_POOL wine_node "$NODE_WIN_IA32" -p 'process.arch + " " + require("os").release()') || {
    echo "wine32: node.exe does not start in the new prefix: $version" >&2
    return 1
  }
  case $version in
    "ia32 10."*) touch "$WINEPREFIX/.memmap-ready" ;;
    *) echo "wine32: node.exe reports '$version'; expected 'ia32 10.x' (Windows 10)" >&2; return 1 ;;
  esac
}

# Neither rolldown nor lightningcss publishes a win32-ia32 build. rolldown
# falls back to its WebAssembly build (with the emnapi runtime);
# lightningcss is only loaded for CSS, which these tests have none of.
# npm refuses a wasm32 package, so tarballs are packed and unpacked.
bundler() {
  local version_of spec name tarball
  version_of() { node -p "require('$ROOT/node_modules/$1/package.json').version"; }
  local rolldown
  rolldown=$(version_of rolldown)
  # The versions @rolldown/binding-wasm32-wasi@1.2.19 asks for.
  for spec in "@rolldown/binding-wasm32-wasi@$rolldown" @napi-rs/wasm-runtime@1.2.6 \
      @emnapi/core@2.0.0-beta.2 @emnapi/runtime@2.0.0-beta.2 @emnapi/wasi-threads@2.2.0 \
      @tybys/wasm-util@0.10.5 tslib@2.8.1; do
    name=${spec%@*}
    [ -e "$ROOT/node_modules/$name/package.json" ] && continue
    mkdir -p "$XPLAT/dl" "$ROOT/node_modules/$name"
    tarball=$(cd "$XPLAT/dl" && npm pack --silent "$spec" | tail -1)
    tar xzf "$XPLAT/dl/$tarball" -C "$ROOT/node_modules/$name" --strip-components=1
    rm -f "$XPLAT/dl/$tarball"
  done
}

# A session's start (wineboot --init and the services it starts) takes
# minutes under qemu-i386, so one wineserver is kept for 15 minutes after
# the last process instead of 3 seconds.
# (One already running says so and exits, which is fine.)
session() {
  mkdir -p "$WINEPREFIX"
  wineserver -p 900 >/dev/null 2>&1 || true
}

# After prefix(): its `wineserver -w` would wait out a persistent server.
setup() { i386_execution && prefix && bundler && session; }

case ${1:-} in
  setup) setup ;;
  node)
    shift
    setup && NODE_OPTIONS=$V8_POOL wine_node "$NODE_WIN_IA32" "$@"
    ;;
  test)
    shift
    setup || exit 1
    mkdir -p "$results"
    report=$results/win32-ia32.json log=$results/win32-ia32.log
    rm -f "$report"
    # Only the target's prebuild may load: never a host build/ left behind.
    MEMMAP_TEST_EMULATOR=wine PREBUILDS_ONLY=1 NAPI_RS_FORCE_WASI=true NODE_OPTIONS=$V8_POOL \
      wine_node "$NODE_WIN_IA32" node_modules/vitest/vitest.mjs run --reporter=default \
      --reporter=json --outputFile.json="${report#"$ROOT"/}" "$@" >"$log" 2>&1
    rc=$?
    cat "$log"
    # The session stays for 15 minutes; `wineserver -k` (with this
    # WINEPREFIX) ends it at once.
    exit $rc
    ;;
  *)
    echo "usage: wine32.sh setup | test [test file…] | node [argument…]" >&2
    exit 2
    ;;
esac
