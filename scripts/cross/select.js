#!/usr/bin/env node
// Checks that node-gyp-build, given each target's platform, arch, libc and
// ARM version, picks that target's prebuild from an installed memmap, that a
// target without a prebuild gets none (npm install then compiles), and that
// every prebuild in the package is some case's pick. Runs node-gyp-build's
// own selection in a child per case, with the variables it reads at load
// time set (npm_config_platform, npm_config_arch, LIBC, and ARM_VERSION,
// which stands for an arm node's process.config.variables.arm_version) and
// PREBUILDS_ONLY=1 so that no build/ is considered.
//   node select.js <package directory>
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const dir = path.resolve(process.argv[2] ?? 'node_modules/memmap');
const prebuilds = path.join(dir, 'prebuilds');
// platform, arch, libc ('' leaves node-gyp-build's default), ARM version
// ('' leaves it unset), the file it must pick (null: none).
const cases = [
  ['linux', 'x64', 'glibc', '', 'linux-x64/memmap.napi.glibc.node'],
  ['linux', 'x64', 'musl', '', 'linux-x64/memmap.napi.musl.node'],
  ['linux', 'arm64', 'glibc', '', 'linux-arm64/memmap.napi.glibc.node'],
  ['linux', 'arm64', 'musl', '', 'linux-arm64/memmap.napi.musl.node'],
  // Node's linux-armv7l build reports arm_version 7.
  ['linux', 'arm', 'glibc', '7', 'linux-arm/memmap.napi.armv7.glibc.node'],
  ['win32', 'x64', '', '', 'win32-x64/memmap.napi.node'],
  ['win32', 'ia32', '', '', 'win32-ia32/memmap.napi.node'],
  ['win32', 'arm64', '', '', 'win32-arm64/memmap.napi.node'],
  ['darwin', 'x64', '', '', 'darwin-x64/memmap.napi.node'],
  ['darwin', 'arm64', '', '', 'darwin-arm64/memmap.napi.node'],
  // No prebuild: an armv6 node (Raspberry Pi Zero/1), a musl arm node, an
  // arm node that reports no ARM version, and platforms or architectures
  // that have none at all.
  ['linux', 'arm', 'glibc', '6', null],
  ['linux', 'arm', 'musl', '7', null],
  ['linux', 'arm', 'glibc', '', null],
  ['linux', 'riscv64', 'glibc', '', null],
  ['linux', 'ia32', 'glibc', '', null],
  ['freebsd', 'x64', '', '', null],
  ['win32', 'arm', '', '', null],
];
const gypBuild = require.resolve('node-gyp-build', { paths: [dir] });
let failed = 0;
const picks = new Set();
for (const [platform, arch, libc, armVersion, expected] of cases) {
  const env = { ...process.env, npm_config_platform: platform, npm_config_arch: arch, PREBUILDS_ONLY: '1' };
  delete env.LIBC;
  delete env.ARM_VERSION;
  if (libc) env.LIBC = libc;
  if (armVersion) env.ARM_VERSION = armVersion;
  const child = spawnSync(process.execPath, ['-e', `
    try { console.log(require(${JSON.stringify(gypBuild)}).path(${JSON.stringify(dir)})); }
    catch (error) { console.log('none: ' + error.message.split('\\n')[0]); }`], { env, encoding: 'utf8' });
  const got = child.stdout.trim();
  const picked = got.startsWith('none: ') ? null : path.relative(prebuilds, got).replace(/\\/g, '/');
  if (picked) picks.add(picked);
  const name = `${platform}-${arch}${libc ? ` ${libc}` : ''}${armVersion ? ` armv${armVersion}` : ''}`;
  if (child.status !== 0 || picked !== expected) {
    failed += 1;
    console.log(`select: ${name}: picked ${picked ?? 'none'}, expected ${expected ?? 'none'} ${child.stderr}`);
  } else {
    console.log(`select: ${name}: ${picked ?? 'no prebuild (npm install compiles)'}`);
  }
}
// A prebuild no case picks is one this list has not caught up with.
for (const tuple of fs.readdirSync(prebuilds, { withFileTypes: true }).filter((entry) => entry.isDirectory())) {
  for (const file of fs.readdirSync(path.join(prebuilds, tuple.name)).filter((name) => name.endsWith('.node'))) {
    const relative = `${tuple.name}/${file}`;
    if (!picks.has(relative)) {
      failed += 1;
      console.log(`select: ${relative} is in the package but no case here picks it: add its target's case`);
    }
  }
}
process.exit(failed ? 1 : 0);
