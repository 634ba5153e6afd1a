// The types as a consumer meets them: a project compiled with `tsc --strict`
// against the built package, for TypeScript 5.4 and the newest 5.x, module
// resolution `nodenext` and `bundler`, with and without the DOM library, and
// with @types/node 20, the newest, or none (then with skipLibCheck off, so
// that memmap's declaration files are checked too). Every call in test/types/
// compiles, and every forbidden write there is an expect-error directive
// that stays an error.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { emulator, sanitizer } from './helpers';

const root = path.join(__dirname, '..');
const modules = path.join(root, 'node_modules');
const run = promisify(execFile);
const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-types-'));
afterAll(() => fs.rmSync(workspace, { recursive: true, force: true }));

const compilers = { '5.4': 'typescript-5.4', newest: 'typescript' } as const;
const nodeTypes = { none: undefined, '20': '@types/node', newest: 'types-node-latest' } as const;
const resolutions = {
  // A CommonJS consumer: `require` resolves, and the CommonJS types.
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
  // A bundled ES module: `import` resolves, and the ESM entry's types.
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
} as const;

interface Consumer {
  compiler: keyof typeof compilers;
  resolution: keyof typeof resolutions;
  dom: boolean;
  node: keyof typeof nodeTypes;
}

const matrix: Consumer[] = [];
for (const compiler of Object.keys(compilers) as Consumer['compiler'][]) {
  for (const resolution of Object.keys(resolutions) as Consumer['resolution'][]) {
    for (const dom of [false, true]) {
      for (const node of Object.keys(nodeTypes) as Consumer['node'][]) matrix.push({ compiler, resolution, dom, node });
    }
  }
}

const versionOf = (pkg: string) => JSON.parse(fs.readFileSync(path.join(modules, pkg, 'package.json'), 'utf8')).version as string;
const generic = (compiler: Consumer['compiler']) => {
  const [major, minor] = versionOf(compilers[compiler]).split('.').map(Number);
  return major > 5 || (major === 5 && minor >= 7);
};

/** Lays out a consumer project and compiles it; resolves to tsc's output, or rejects with it. */
async function compile(consumer: Consumer): Promise<string> {
  const name = `${consumer.compiler}-${consumer.resolution}-${consumer.dom ? 'dom' : 'nodom'}-node-${consumer.node}`;
  const project = path.join(workspace, name);
  fs.mkdirSync(path.join(project, 'node_modules', '@types'), { recursive: true });
  fs.symlinkSync(root, path.join(project, 'node_modules', 'memmap'), 'junction');
  const types = nodeTypes[consumer.node];
  if (types) fs.symlinkSync(path.join(modules, types), path.join(project, 'node_modules', '@types', 'node'), 'junction');
  const files = ['core.ts'];
  if (types) files.push('node.ts');
  if (consumer.dom) files.push('web.ts');
  if (generic(consumer.compiler)) files.push('generic.ts');
  for (const file of files) fs.copyFileSync(path.join(__dirname, 'types', file), path.join(project, file));
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  fs.writeFileSync(
    path.join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'es2022',
        lib: consumer.dom ? ['es2022', 'dom'] : ['es2022'],
        types: types ? ['node'] : [],
        // Without @types/node, every declaration file (ours) is checked too.
        // With it, as most projects do: the newest @types/node does not
        // type-check under TypeScript 5.4 itself (it needs 5.6's iterator types).
        skipLibCheck: types !== undefined,
        ...resolutions[consumer.resolution],
      },
      files,
    }),
  );
  const tsc = path.join(modules, compilers[consumer.compiler], 'bin', 'tsc');
  try {
    await run(process.execPath, [tsc, '-p', project], { cwd: project });
    return '';
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    throw new Error(`${name}:\n${stdout}${stderr}`);
  }
}

describe('a consumer compiled with tsc --strict', () => {
  // PREBUILDS_ONLY marks the cross-platform runs, which test a prebuild after
  // `npm test` has compiled these setups once.
  it.skipIf(sanitizer || emulator || process.env.PREBUILDS_ONLY)(`compiles in all ${matrix.length} setups (TypeScript ${versionOf('typescript-5.4')} and ${versionOf('typescript')}; @types/node ${versionOf('@types/node')}, ${versionOf('types-node-latest')} or none; not under the sanitizers, an emulator or a prebuild's run: it compiles TypeScript, the same everywhere, and runs nothing native)`, { timeout: 240_000 }, async () => {
    // Two at a time: one per core of the CI machine.
    const failures: string[] = [];
    const queue = [...matrix];
    const worker = async () => {
      for (let consumer = queue.shift(); consumer; consumer = queue.shift()) {
        await compile(consumer).catch((error: Error) => failures.push(error.message));
      }
    };
    await Promise.all([worker(), worker()]);
    expect(failures).toEqual([]);
  });
});
