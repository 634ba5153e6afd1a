#!/usr/bin/env node
// `npm install` entry: load a matching prebuild, else compile with node-gyp.
// Before compiling, checks that the tools node-gyp needs on Linux and macOS
// (a C++ compiler, make, Python) are on the PATH, and if not says which are
// missing and for which target there was no prebuild, rather than leaving
// the user with node-gyp's log. (On Windows node-gyp finds Visual Studio and
// Python itself, not through the PATH, and reports what it lacks.)
// node-gyp is pointed at the running Node's own headers when they are
// installed beside it, so that building never needs to download them.
//   node scripts/install.js [--build-from-source]
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const gypBuild = require('node-gyp-build');

const root = path.resolve(__dirname, '..');
const fromSource = process.argv.includes('--build-from-source') || process.env.npm_config_build_from_source === 'true';

/** A prebuild that loads here ({ file }), or why there is none ({ why }). */
function loadablePrebuild() {
  let file;
  try {
    file = gypBuild.path(root);
  } catch (error) {
    return { why: `no prebuild matches ${targetOf(error.message)}` };
  }
  try {
    require(file);
    return { file };
  } catch (error) {
    return { why: `the prebuild ${path.relative(root, file)} does not load here (${error.message.split('\n')[0]})` };
  }
}

// node-gyp-build's own account of the target: "No native build was found for
// platform=linux arch=riscv64 runtime=node abi=115 uv=1 libc=glibc ...",
// shown as platform-arch[-libc][ armvN], or its first line if it says more.
function targetOf(message) {
  const line = message.split('\n')[0];
  const fields = Object.fromEntries([...line.matchAll(/(\w+)=(\S+)/g)].map(([, key, value]) => [key, value]));
  if (!fields.platform || !fields.arch) return `this system (${line})`;
  const libc = fields.platform === 'linux' && fields.libc ? `-${fields.libc}` : '';
  // node-gyp-build reports the running node's ARM version (armv=7 on armv7)
  // even for another arch asked for with npm_config_arch: it only means something for arm.
  const armv = fields.armv && (fields.arch === 'arm' || fields.arch === 'arm64') ? ` armv${fields.armv}` : '';
  return `${fields.platform}-${fields.arch}${libc}${armv}`;
}

/** Whether an executable named `name` is on the PATH. */
function onPath(name) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      const file = path.join(dir || '.', name);
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/** The tools node-gyp's make build needs that are not on the PATH, each as what it is and the names looked for. */
function missingBuildTools() {
  // $CXX, $MAKE and $PYTHON (or npm's python setting) name the tool
  // node-gyp uses when set; otherwise make's default C++ compiler names, and
  // the names node-gyp tries for Python.
  const command = (value) => value?.trim().split(/\s+/)[0] || undefined;
  const cxx = command(process.env.CXX);
  const make = command(process.env.MAKE);
  const python = command(process.env.PYTHON) ?? command(process.env.npm_config_python);
  const tools = [
    { what: 'a C++ compiler', names: cxx ? [cxx] : ['g++', 'c++'] },
    { what: 'make', names: make ? [make] : ['make'] },
    { what: 'Python 3', names: python ? [python] : ['python3', 'python'] },
  ];
  return tools.filter(({ names }) => !names.some((name) => (path.isAbsolute(name) ? fs.existsSync(name) : onPath(name))));
}

function howToInstallBuildTools() {
  switch (process.platform) {
    case 'darwin': return 'xcode-select --install (the Xcode Command Line Tools)';
    case 'linux': return 'Debian/Ubuntu: apt-get install build-essential python3; Alpine: apk add build-base python3; Fedora: dnf install gcc-c++ make python3';
    default: return 'a C++ compiler, make and Python 3 from your system\'s packages';
  }
}

let why = 'building from source (--build-from-source)';
if (!fromSource) {
  const prebuild = loadablePrebuild();
  if (prebuild.file) process.exit(0);
  why = prebuild.why;
}
const missing = process.platform === 'win32' ? [] : missingBuildTools();
if (missing.length) {
  const { bugs } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const list = missing.map(({ what, names }) => (names.length === 1 && names[0] === what ? what : `${what} (${names.join(' or ')})`));
  const it = missing.length > 1 ? 'them' : 'it';
  console.error([
    `memmap: cannot install: ${why}, so it must be compiled, and that needs`,
    `  ${list.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not on the PATH.`,
    `  To fix it, install ${it} (${howToInstallBuildTools()}) and run npm install again,`,
    `  or open an issue at ${bugs?.url ?? 'the memmap repository'} asking for a prebuild for this target.`,
  ].join('\n'));
  process.exit(1);
}

console.log(`memmap: ${why}: compiling with node-gyp`);
const prefix = path.resolve(process.execPath, '..', '..');
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  process.env.npm_config_nodedir = prefix;
}
// node-gyp-build's command finds node-gyp (the package's own, else npm's);
// told to build from source, it does not look for a prebuild again.
const bin = require.resolve('node-gyp-build/bin.js');
const result = spawnSync(process.execPath, [bin], { stdio: 'inherit', env: { ...process.env, npm_config_build_from_source: 'true' } });
process.exit(result.status ?? 1);
