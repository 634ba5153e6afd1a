// Packaging guards, run on throwaway copies so that the checkout's build/ and
// prebuilds/ are never touched: scripts/check-prebuilds.js (npm's prepack)
// refusing missing, stale or stray prebuilds, and scripts/install.js saying
// what is missing when no prebuild fits and there is nothing to compile with.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emulator } from './helpers';

const root = path.join(__dirname, '..');
const requireHere = createRequire(__filename);
const { INPUTS } = requireHere('../scripts/cross/prebuild-inputs.js') as { INPUTS: string[] };

type Run = { status: number | null; stdout: string; stderr: string };

function run(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Run {
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', ...options });
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

function copy(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(from, to, { recursive: true });
}

// The variables that choose a prebuild or a tool for install.js and
// node-gyp-build, which `npm test` or a developer's shell may have set.
function cleanEnv(overrides: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['npm_config_arch', 'npm_config_platform', 'npm_config_build_from_source', 'npm_config_python',
    'LIBC', 'ARM_VERSION', 'CXX', 'MAKE', 'PYTHON', 'PREBUILDS_ONLY', 'MEMMAP_PREBUILD']) delete env[name];
  return { ...env, ...overrides };
}

// Packing happens where the prebuilds are built, never under an emulator.
const noPacking = process.platform === 'win32' ? 'skipped on Windows: needs bash for toolchain.sh'
  : emulator ? `skipped under ${emulator}: packing happens where the prebuilds are built` : 'needs bash for toolchain.sh';
describe.skipIf(process.platform === 'win32' || emulator !== undefined)(`check-prebuilds (npm prepack), on a copy of the inputs (${noPacking})`, () => {
  let copyRoot: string;
  let targets: { target: string; file: string }[];

  const check = (): Run => run([path.join(copyRoot, 'scripts', 'check-prebuilds.js')], { cwd: copyRoot });
  const prebuild = (target: string): string => path.join(copyRoot, 'prebuilds', targets.find((t) => t.target === target)!.file);

  beforeEach(() => {
    copyRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-check-prebuilds-'));
    for (const input of INPUTS) copy(path.join(root, input), path.join(copyRoot, input));
    for (const script of ['scripts/check-prebuilds.js', 'scripts/cross/prebuild-inputs.js', 'scripts/cross/record-inputs.js']) {
      copy(path.join(root, script), path.join(copyRoot, script));
    }
    const { prebuildTargets } = requireHere(path.join(copyRoot, 'scripts/cross/prebuild-inputs.js')) as {
      prebuildTargets(root: string): { target: string; file: string }[];
    };
    targets = prebuildTargets(copyRoot);
    expect(targets.map((t) => t.target)).toContain('linux-x64-musl');
    for (const { target } of targets) {
      fs.mkdirSync(path.dirname(prebuild(target)), { recursive: true });
      fs.writeFileSync(prebuild(target), `a stand-in for ${target}'s prebuild`);
    }
    const recorded = run([path.join(copyRoot, 'scripts/cross/record-inputs.js'), ...targets.map((t) => t.target)], { cwd: copyRoot });
    expect(recorded.status, recorded.stderr).toBe(0);
  });

  afterEach(() => {
    fs.rmSync(copyRoot, { recursive: true, force: true });
  });

  it('passes every prebuild built from the inputs as they are, whatever their times say', () => {
    // A checkout or a copy sets times without changing content.
    const later = new Date(Date.now() + 3_600_000);
    fs.utimesSync(path.join(copyRoot, 'binding.gyp'), later, later);
    const result = check();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`all ${targets.length} prebuilds present and built from these sources`);
  });

  it('names a missing prebuild and how to build only it', () => {
    fs.rmSync(prebuild('linux-arm64-musl'));
    const result = check();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('missing linux-arm64-musl: no prebuilds/linux-arm64/memmap.napi.musl.node');
    expect(result.stderr).toContain('PREBUILD_TARGETS="linux-arm64-musl" npm run prebuild');
    expect(result.stderr).not.toMatch(/stale/);
  });

  it('calls every prebuild stale once a source changes, until rebuilt and recorded', () => {
    const source = path.join(copyRoot, 'native', 'addon.cc');
    const original = fs.readFileSync(source);
    fs.appendFileSync(source, '\n// an edit\n');
    const result = check();
    expect(result.status).toBe(1);
    for (const { target } of targets) expect(result.stderr).toContain(`stale ${target}: `);
    expect(result.stderr).toContain('was built from other sources than these');
    expect(result.stderr).toMatch(/Run `npm run prebuild`\.\n$/);
    // The same content again is the same input.
    fs.writeFileSync(source, original);
    expect(check().status).toBe(0);
  });

  it('calls a prebuild stale when the file is not the one its build recorded, or no build is recorded', () => {
    fs.appendFileSync(prebuild('win32-x64'), 'changed');
    const record = path.join(copyRoot, 'prebuilds', 'inputs.sha256');
    fs.writeFileSync(record, fs.readFileSync(record, 'utf8').replace(/^darwin-arm64 .*\n/m, ''));
    const result = check();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('stale win32-x64: prebuilds/win32-x64/memmap.napi.node is not the file its build recorded');
    expect(result.stderr).toContain('stale darwin-arm64: prebuilds/inputs.sha256 has no build of prebuilds/darwin-arm64/memmap.napi.node recorded');
    expect(result.stderr).toContain('PREBUILD_TARGETS="win32-x64 darwin-arm64" npm run prebuild');
  });

  it('refuses files in prebuilds/ that are no target\'s prebuild', () => {
    fs.writeFileSync(path.join(path.dirname(prebuild('win32-arm64')), 'memmap.lib'), 'an import library');
    const result = check();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('not a prebuild of any target: prebuilds/win32-arm64/memmap.lib (delete it)');
  });
});

// install.js never gets as far as node-gyp here: each case either loads a
// prebuild or stops for want of tools.
describe.skipIf(process.platform === 'win32')('install.js with no build tools on the PATH (on Windows node-gyp finds its own)', () => {
  let pkg: string;
  let bin: string;

  const install = (env: NodeJS.ProcessEnv = {}): Run =>
    run([path.join(pkg, 'scripts', 'install.js')], { cwd: pkg, env: cleanEnv({ PATH: bin, ...env }) });
  const libcTag = process.platform === 'linux' ? '-glibc' : '';

  beforeEach(() => {
    pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-install-'));
    copy(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    copy(path.join(root, 'scripts', 'install.js'), path.join(pkg, 'scripts', 'install.js'));
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
    // A PATH with nothing on it but what a case puts there.
    bin = path.join(pkg, 'bin');
    fs.mkdirSync(bin);
  });

  afterEach(() => {
    fs.rmSync(pkg, { recursive: true, force: true });
  });

  it('says which tools are missing, for which target, and how to get them, and exits 1', () => {
    const result = install({ npm_config_arch: 'riscv64', LIBC: 'glibc' });
    expect(result.status, result.stdout).toBe(1);
    expect(result.stderr).toContain(`memmap: cannot install: no prebuild matches ${process.platform}-riscv64${libcTag}, so it must be compiled`);
    expect(result.stderr).toContain('a C++ compiler (g++ or c++), make, Python 3 (python3 or python), which are not on the PATH');
    expect(result.stderr).toContain(process.platform === 'darwin' ? 'xcode-select --install' : 'apt-get install build-essential');
    expect(result.stderr).toContain('open an issue at https://github.com/memmap-js/memmap/issues');
    expect(fs.existsSync(path.join(pkg, 'build'))).toBe(false);
  });

  it('names only what is missing: the compiler $CXX names', () => {
    // Any executable file stands in for make and python3: none is run.
    for (const tool of ['make', 'python3']) fs.symlinkSync(process.execPath, path.join(bin, tool));
    const result = install({ npm_config_arch: 'riscv64', LIBC: 'glibc', CXX: '/nonexistent/clang++ -m64' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('needs\n  a C++ compiler (/nonexistent/clang++), which is not on the PATH.');
    expect(result.stderr).toContain('install it (');
  });

  it('says why a prebuild that is there does not do', () => {
    const file = path.join(pkg, 'prebuilds', `${process.platform}-${process.arch}`, 'memmap.napi.node');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'not a shared library');
    const result = install();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`memmap: cannot install: the prebuild ${path.join('prebuilds', `${process.platform}-${process.arch}`, 'memmap.napi.node')} does not load here (`);
  });

  it('needs no tools when a prebuild loads', () => {
    // The addon this suite runs on, as the package's own prebuild.
    const addon = (requireHere('node-gyp-build') as { path(dir: string): string }).path(root);
    const file = path.join(pkg, 'prebuilds', `${process.platform}-${process.arch}`, 'memmap.napi.node');
    copy(addon, file);
    const result = install();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(fs.existsSync(path.join(pkg, 'build'))).toBe(false);
  });
});
