# Sourced by env.sh: what the prebuilds are built with and what they are
# called. A prebuild's recorded inputs (prebuild-inputs.js) include this file,
# so a change here makes every prebuild stale; how the tests run is env.sh's.
NODE_API_HEADERS_VERSION=${NODE_API_HEADERS_VERSION:-1.9.0}

# Zig's bundled clang, libc++ and macOS headers build the macOS prebuilds.
# The npm package repacks ziglang.org's release tarball
# zig-linux-x86_64-0.11.0.tar.xz (sha256 2d00e789...423047); its own npm
# tarball is pinned by integrity, and setup.sh checks `zig version`.
ZIG_VERSION=${ZIG_VERSION:-0.11.0}
ZIG_NPM_INTEGRITY=${ZIG_NPM_INTEGRITY:-sha512-vSvmVIT07AXIGsxn5e/iLJnHjfF26q2v9X4Q27HAnHLKzlVNhNUdXbi+Odz4OZ0gHTQFz8/wJMy9p6vuvKMwRQ==}

# The oldest glibc a linux prebuild may need: Node 20's own floor.
GLIBC_FLOOR=2.28

# Every target `npm run prebuild` builds (build.sh says how), and the file
# each one is, as prebuildify --napi --tag-libc --tag-armv names it.
ALL_TARGETS="linux-x64 linux-x64-musl linux-arm64 linux-arm64-musl linux-arm win32-x64 win32-ia32 win32-arm64 darwin-x64 darwin-arm64"
prebuild_path() {
  case $1 in
    linux-arm) echo linux-arm/memmap.napi.armv7.glibc.node ;;
    linux-*-musl) echo "${1%-musl}/memmap.napi.musl.node" ;;
    linux-*) echo "$1/memmap.napi.glibc.node" ;;
    *) echo "$1/memmap.napi.node" ;;
  esac
}
