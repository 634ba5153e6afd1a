'use strict';
/**
 * What a run needs before it starts: the bench's own dependencies, the C
 * baseline and the Node-API floor compiled for this machine, the data files,
 * and huge pages.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const BENCH = path.join(__dirname, '..');
const ROOT = path.join(BENCH, '..');
const FLOOR_ADDON = path.join(BENCH, 'build', 'floor.node');

/** Installs bench/package.json's dependencies when any is missing (the first time, or after one is added). */
function ensureDependencies() {
  const { dependencies } = JSON.parse(fs.readFileSync(path.join(BENCH, 'package.json'), 'utf8'));
  const missing = Object.keys(dependencies).filter((name) => !fs.existsSync(path.join(BENCH, 'node_modules', name, 'package.json')));
  if (missing.length === 0) return;
  console.error(`Installing the benchmark dependencies (npm install --prefix bench; missing ${missing.join(', ')})…`);
  // @riaskov/mmap-io builds with node-gyp, which must use the installed
  // headers instead of downloading them.
  execFileSync('npm', ['install', '--prefix', BENCH, '--no-audit', '--no-fund'], {
    stdio: 'inherit',
    env: { ...process.env, npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr' },
  });
}

/** Refuses to measure a library that was not built. */
function checkLibraryBuilt() {
  const missing = ['dist/index.js', 'build/Release/memmap.node'].filter((file) => !fs.existsSync(path.join(ROOT, file)));
  if (missing.length > 0) {
    throw new Error(`memmap is not built (missing ${missing.join(', ')}): run \`npm run build\` first`);
  }
}

/** Compiles bench/c/baseline.c with the system compiler; returns the program's path. */
function compileBaseline() {
  const out = path.join(BENCH, 'build', 'baseline');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  execFileSync(process.env.CC ?? 'cc', ['-O2', '-Wall', '-o', out, path.join(BENCH, 'c', 'baseline.c')], { stdio: 'inherit' });
  return out;
}

/**
 * Compiles bench/c/floor.c against the headers of the Node that runs the
 * bench (none are downloaded); returns the addon's path. Its Node-API symbols
 * are left for the loading process to resolve.
 */
function compileFloorAddon() {
  const include = path.resolve(process.execPath, '..', '..', 'include', 'node');
  if (!fs.existsSync(path.join(include, 'node_api.h'))) {
    throw new Error(`the floor addon needs Node's headers, not found in ${include}`);
  }
  const lazySymbols = process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : [];
  fs.mkdirSync(path.dirname(FLOOR_ADDON), { recursive: true });
  execFileSync(
    process.env.CC ?? 'cc',
    ['-O2', '-Wall', '-shared', '-fPIC', `-I${include}`, ...lazySymbols, '-o', FLOOR_ADDON, path.join(BENCH, 'c', 'floor.c')],
    { stdio: 'inherit' },
  );
  return FLOOR_ADDON;
}

/**
 * Builds the addon once more with the fault guard compiled out
 * (MEMMAP_UNGUARDED_FOR_BENCH), so that the guarded accessors can be measured
 * against the same accessors without it. Returns the directory to give
 * node-gyp-build as MEMMAP_PREBUILD.
 */
function buildUnguardedAddon() {
  const dir = path.join(BENCH, 'build', 'unguarded');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'binding.gyp'), path.join(dir, 'binding.gyp'));
  fs.cpSync(path.join(ROOT, 'native'), path.join(dir, 'native'), { recursive: true });
  const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [ROOT] });
  const nodedir = path.resolve(process.execPath, '..', '..');
  execFileSync(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodedir}`], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, CXXFLAGS: `${process.env.CXXFLAGS ?? ''} -DMEMMAP_UNGUARDED_FOR_BENCH` },
  });
  return dir;
}

/** The Bun executable the `bun` package installed. */
function bunPath() {
  return path.join(BENCH, 'node_modules', '.bin', 'bun');
}

/** Where the data files live for this run. */
function dataDir() {
  const dir = path.join(os.tmpdir(), 'memmap-bench');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A file of `size` pseudo-random bytes, made once and reused while its size
 * is right; it is read through once so that it sits in the page cache.
 */
function dataFile(dir, size) {
  const file = path.join(dir, `data-${size}`);
  if (!fs.existsSync(file) || fs.statSync(file).size !== size) {
    const chunk = new Uint32Array(1 << 18);
    const fd = fs.openSync(file, 'w');
    let x = 1;
    for (let written = 0; written < size; written += chunk.byteLength) {
      for (let i = 0; i < chunk.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        chunk[i] = x;
      }
      fs.writeSync(fd, chunk, 0, Math.min(chunk.byteLength, size - written));
    }
    fs.closeSync(fd);
  }
  warmPageCache(file);
  return file;
}

/** A file of `size` bytes to write into. */
function writeFile(dir, size) {
  const file = path.join(dir, `write-${size}`);
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, Buffer.alloc(size));
  fs.closeSync(fd);
  return file;
}

/** A sparse file of `size` bytes: no blocks until read. */
function sparseFile(dir, size) {
  const file = path.join(dir, `sparse-${size}`);
  fs.closeSync(fs.openSync(file, 'w'));
  fs.truncateSync(file, size);
  return file;
}

function warmPageCache(file) {
  const chunk = Buffer.allocUnsafe(8 << 20);
  const fd = fs.openSync(file, 'r');
  while (fs.readSync(fd, chunk, 0, chunk.length, null) > 0);
  fs.closeSync(fd);
}

const NR_HUGEPAGES = '/proc/sys/vm/nr_hugepages';

/**
 * Makes sure `count` free 2 MiB huge pages exist, raising the pool if needed
 * (as root). Returns `{ reason }` when they cannot be had, and a `restore()`
 * that puts the pool back as it was.
 */
function reserveHugePages(count) {
  const freePages = () => {
    const match = /HugePages_Free:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
    return match === null ? 0 : Number(match[1]);
  };
  let before;
  try {
    before = Number(fs.readFileSync(NR_HUGEPAGES, 'utf8'));
  } catch {
    return { reason: 'no huge page pool on this system', restore() {} };
  }
  const restore = () => {
    try {
      fs.writeFileSync(NR_HUGEPAGES, String(before));
    } catch {
      // Nothing was changed if it cannot be written.
    }
  };
  if (freePages() < count) {
    try {
      fs.writeFileSync(NR_HUGEPAGES, String(before + count - freePages()));
    } catch (error) {
      return { reason: `cannot raise vm.nr_hugepages (${error.code}); needs root`, restore() {} };
    }
  }
  const available = freePages();
  if (available < count) {
    restore();
    return { reason: `only ${available} of ${count} 2 MiB huge pages could be reserved`, restore() {} };
  }
  return { reason: undefined, restore };
}

module.exports = {
  buildUnguardedAddon,
  BENCH,
  ROOT,
  ensureDependencies,
  checkLibraryBuilt,
  compileBaseline,
  compileFloorAddon,
  FLOOR_ADDON,
  bunPath,
  dataDir,
  dataFile,
  writeFile,
  sparseFile,
  reserveHugePages,
};
