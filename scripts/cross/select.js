#!/usr/bin/env node
// Checks that node-gyp-build, given each target's platform, arch and libc,
// picks that target's prebuild from an installed memmap, and that a libc or
// target without a prebuild gets none (npm install then compiles). Runs
// node-gyp-build's own selection in a child per case, with the variables it
// reads at load time (npm_config_platform, npm_config_arch, LIBC) set and
// PREBUILDS_ONLY=1 so that no build/ is considered.
//   node select.js <package directory>
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const dir = path.resolve(process.argv[2] ?? 'node_modules/memmap');
const cases = [
  // platform, arch, libc, the file it must pick (null: none)
  ['linux', 'x64', 'glibc', 'linux-x64/memmap.napi.glibc.node'],
  ['linux', 'x64', 'musl', null],
  ['linux', 'arm64', 'glibc', 'linux-arm64/memmap.napi.glibc.node'],
  ['linux', 'arm64', 'musl', null],
  ['win32', 'x64', '', 'win32-x64/memmap.napi.node'],
  ['darwin', 'x64', '', 'darwin-x64/memmap.napi.node'],
  ['darwin', 'arm64', '', 'darwin-arm64/memmap.napi.node'],
  ['linux', 'arm', 'glibc', null],
  ['win32', 'ia32', '', null],
];
const gypBuild = require.resolve('node-gyp-build', { paths: [dir] });
let failed = 0;
for (const [platform, arch, libc, expected] of cases) {
  const env = { ...process.env, npm_config_platform: platform, npm_config_arch: arch, PREBUILDS_ONLY: '1' };
  delete env.LIBC;
  if (libc) env.LIBC = libc;
  const child = spawnSync(process.execPath, ['-e', `
    try { console.log(require(${JSON.stringify(gypBuild)}).path(${JSON.stringify(dir)})); }
    catch (error) { console.log('none: ' + error.message.split('\\n')[0]); }`], { env, encoding: 'utf8' });
  const got = child.stdout.trim();
  const picked = got.startsWith('none: ') ? null : path.relative(path.join(dir, 'prebuilds'), got).replace(/\\/g, '/');
  const name = `${platform}-${arch}${libc ? ` ${libc}` : ''}`;
  if (child.status !== 0 || picked !== expected) {
    failed += 1;
    console.log(`select: ${name}: picked ${picked ?? 'none'}, expected ${expected ?? 'none'} ${child.stderr}`);
  } else {
    console.log(`select: ${name}: ${picked ?? 'no prebuild (npm install compiles)'}`);
  }
}
process.exit(failed ? 1 : 0);
