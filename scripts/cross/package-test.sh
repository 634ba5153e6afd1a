#!/usr/bin/env bash
# The packaging test: npm's prepack check (every target's prebuild present
# and built from these sources), `npm pack`, and what the tarball holds: the
# prebuild of every target in env.sh's ALL_TARGETS and nothing else under
# prebuilds/. The linux-x64 musl prebuild gets the musl load check
# (musl-load.sh: no musl Node is on npm to run it in). Then, as a user
# without a compiler would: a PATH with no compiler, make or Python on it
# (checked), the tarball installed into an empty project without its install
# script, node-gyp-build's pick for each target checked (select.js), and the
# smoke test run on the prebuilds only: linux-x64 on Node 20 (host), 22 and
# 24, win32-x64 under Wine, linux-arm64 and linux-arm (armv7) under qemu,
# win32-ia32 under 32-bit Wine when it starts node here (see below). Last,
# `npm install` with its install script: it must take the prebuild without
# compiling, and, with no prebuild for the arch, say what is missing.
# The darwin, win32-arm64 and linux-arm64 musl prebuilds are only built:
# nothing here runs them.
# Expects dist/ and prebuilds/ to be built (run.sh does that first).
#   WIN32_IA32_SMOKE=1 requires the win32-ia32 smoke test, =0 skips it;
#   unset, it runs when node.exe (x86) prints its arch under Wine.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"

work=$(mktemp -d "$XPLAT/package.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The prepack script as `npm pack` would run it; the pack itself skips the
# scripts so as not to run `prepare` (tsc) again after run.sh's build.
npm run --silent prepack
tarball=$work/$(npm pack --silent --ignore-scripts --pack-destination "$work" | tail -1)
echo "packed $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB)"

contents=$(tar tzf "$tarball")
prebuilds=()
for target in $ALL_TARGETS; do prebuilds+=("package/prebuilds/$(prebuild_path "$target")"); done
missing=0
for required in "${prebuilds[@]}" package/dist/index.js package/dist/index.d.ts \
    package/binding.gyp package/native/addon.cc package/native/os/os.h package/native/os/windows.cc; do
  grep -qxF "$required" <<<"$contents" || { echo "tarball lacks $required"; missing=1; }
done
if grep -E '^package/prebuilds/.*/memmap\.node$' <<<"$contents"; then
  echo "tarball holds untagged prebuilds (listed above), left by an older build"
  missing=1
fi
if grep '^package/prebuilds/' <<<"$contents" | grep -vxF -f <(printf '%s\n' "${prebuilds[@]}"); then
  echo "tarball holds files under prebuilds/ (listed above) that are no target's prebuild (env.sh: ALL_TARGETS)"
  missing=1
fi
if grep -E '^package/(test|build|\.xplat)/' <<<"$contents"; then
  echo "tarball holds tests or build output (listed above)"
  missing=1
fi
(( missing == 0 )) || exit 1

musl_prebuild=prebuilds/$(prebuild_path linux-x64-musl)
tar xzf "$tarball" -C "$work" "package/$musl_prebuild"
bash scripts/cross/musl-load.sh "$work/package/$musl_prebuild"
# No aarch64 musl loader is to be had here: Zig 0.11 ships musl's sources
# without its dynamic loader (ldso/dynlink.c), and Debian's aarch64 musl
# (musl:arm64) would need dpkg's arm64 architecture added.
echo "linux-arm64 musl: built only (no aarch64 musl loader to run it with here)"

# From here on, only what a user without build tools has: node and npm, the
# emulators, sh (npm runs install scripts with it), and the file utilities
# this script and env.sh's runners call.
bare=$work/bare-path
mkdir "$bare"
for tool in node npm sh wine wineserver qemu-aarch64 qemu-arm mktemp cat rm mkdir cp ls tr tail grep; do
  ln -s "$(command -v "$tool")" "$bare/$tool"
done
export PATH=$bare
hash -r
for tool in cc c++ gcc g++ clang clang++ make gmake python python3; do
  if command -v "$tool"; then echo "$tool is on the bare PATH ($PATH): the smoke tests would not prove an install without build tools"; exit 1; fi
done
echo "bare PATH ($bare: $(ls "$bare" | tr '\n' ' ')): no cc, c++, gcc, g++, clang, clang++, make, gmake, python, python3"

project=$work/project
mkdir -p "$project"
(cd "$project" && npm init -y >/dev/null && npm install --silent --ignore-scripts --no-audit --no-fund "$tarball")
smoke=$project/smoke.js
cp scripts/cross/smoke.js "$smoke"

cd "$project"
node "$ROOT/scripts/cross/select.js" node_modules/memmap
export PREBUILDS_ONLY=1
node "$smoke"
for version in $NODE_X64_VERSIONS; do
  "$(node_x64 "$version")" "$smoke"
done
win_node "$smoke"
arm64_node "$smoke"
armv7_node "$smoke"
# 32-bit Wine runs only where the kernel runs i386 programs (WIN32_IA32_RUN=1;
# see run.sh for why not here).
if [ "${WIN32_IA32_RUN:-0}" = 1 ]; then
  win_ia32_node "$smoke"
else
  echo "win32-ia32: smoke test not run ($WIN32_IA32_NOT_RUN; WIN32_IA32_RUN=1 runs it where the kernel runs i386)"
fi
unset PREBUILDS_ONLY

# npm install with the install script (scripts/install.js): the prebuild
# loads, so nothing is compiled; for an arch with no prebuild it must fail
# saying which tools are missing.
scripted=$work/scripted
mkdir -p "$scripted"
cd "$scripted"
npm init -y >/dev/null
npm install --no-audit --no-fund "$tarball" >install.log 2>&1 || { cat install.log; echo "npm install (with scripts) failed on a bare PATH"; exit 1; }
node -e 'require("memmap"); console.log("npm install with its install script on a bare PATH: ok, the prebuild loads")'
rm -rf node_modules package-lock.json
if npm_config_arch=riscv64 npm install --no-audit --no-fund "$tarball" >install.log 2>&1; then
  cat install.log; echo "npm install for riscv64 (no prebuild) succeeded with no compiler on the PATH"; exit 1
fi
grep -q 'memmap: cannot install: no prebuild matches linux-riscv64-glibc' install.log && grep -q 'apt-get install build-essential' install.log \
  || { cat install.log; echo "npm install for riscv64 failed without saying what is missing (above)"; exit 1; }
echo "npm install for riscv64 without build tools fails as it should:"
grep -A3 'memmap: cannot install' install.log
