#!/usr/bin/env bash
# The packaging test: `npm pack`, check what the tarball holds, install it
# into an empty project without running any script (so no compiler is
# involved), check that node-gyp-build picks each target's prebuild
# (select.js), and run the smoke test against the prebuilds only: linux-x64
# on Node 20 (host), 22 and 24, win32-x64 under Wine, linux-arm64 under qemu.
# The darwin prebuilds are only compiled and linked: nothing here runs them.
# Expects dist/ and prebuilds/ to be built (run.sh does that first).
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"

work=$(mktemp -d "$XPLAT/package.XXXXXX")
trap 'rm -rf "$work"' EXIT
tarball=$work/$(npm pack --silent --ignore-scripts --pack-destination "$work" | tail -1)
echo "packed $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB)"

contents=$(tar tzf "$tarball")
missing=0
for required in package/prebuilds/linux-x64/memmap.napi.glibc.node package/prebuilds/linux-arm64/memmap.napi.glibc.node \
    package/prebuilds/win32-x64/memmap.napi.node package/prebuilds/darwin-x64/memmap.napi.node \
    package/prebuilds/darwin-arm64/memmap.napi.node package/dist/index.js package/dist/index.d.ts \
    package/binding.gyp package/native/addon.cc package/native/os/os.h package/native/os/windows.cc; do
  grep -qxF "$required" <<<"$contents" || { echo "tarball lacks $required"; missing=1; }
done
if grep -E '^package/prebuilds/.*/memmap\.node$' <<<"$contents"; then
  echo "tarball holds untagged prebuilds (listed above), left by an older build"
  missing=1
fi
if grep -E '^package/(test|build|\.xplat)/' <<<"$contents"; then
  echo "tarball holds tests or build output (listed above)"
  missing=1
fi
(( missing == 0 )) || exit 1

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
