// Every ```ts and ```js block of README.md runs here as a user would run it:
// TypeScript transpiled to CommonJS, `memmap` resolved to this package (its
// package.json "exports", over dist/), in a fresh directory for the files a
// block makes. A block's `// → text` comments are what its lines print, and
// must be printed, in that order. The TypeScript blocks are also
// type-checked against src/, and a line shown commented out as one that
// "would not compile" must indeed not compile.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MmapOptions } from '../src';
import { emulator } from './helpers';
import { is32Bit, notIn32Bit, notUnderQemu32Sigbus, qemuMisplacesSigbus } from './helpers';

const root = path.join(__dirname, '..');
const P = MmapOptions.pageSize();

interface Snippet {
  /** The heading it is under and its place there, e.g. "Files #1": what setups are keyed by. */
  name: string;
  language: 'ts' | 'js';
  code: string;
  /** The README line of its first line of code. */
  line: number;
}

const LANGUAGES: Record<string, Snippet['language'] | null> = {
  ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js',
  // Shell commands are shown, not run.
  sh: null, bash: null, shell: null,
};

function readmeSnippets(markdown: string): Snippet[] {
  const snippets: Snippet[] = [];
  const lines = markdown.split('\n');
  let heading = '(top)';
  const perHeading = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const headingMatch = /^#{1,6} (.*)$/.exec(lines[i]);
    if (headingMatch) heading = headingMatch[1];
    const fence = /^```(\S*)\s*$/.exec(lines[i]);
    if (!fence) continue;
    const info = fence[1];
    if (!(info in LANGUAGES)) throw new Error(`README.md:${i + 1}: a code block in "${info || 'no language'}": name a language this test knows (${Object.keys(LANGUAGES).join(', ')})`);
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`README.md:${i + 1}: unclosed code block`);
    const language = LANGUAGES[info];
    if (language) {
      const ordinal = (perHeading.get(heading) ?? 0) + 1;
      perHeading.set(heading, ordinal);
      snippets.push({ name: `${heading} #${ordinal}`, language, code: lines.slice(i + 1, end).join('\n'), line: i + 2 });
    }
    i = end;
  }
  return snippets;
}

/** What `// → text` comments say the block prints, in order. */
function expectedOutput(code: string): string[] {
  return code.split('\n').flatMap((line) => {
    const match = /\/\/ → (.*)$/.exec(line);
    return match ? [match[1].trimEnd()] : [];
  });
}

interface Setup {
  /** Files the block expects to exist, with their sizes in bytes (zero-filled). */
  files?: Record<string, number>;
  /** Why the block cannot run here, if it cannot. */
  skip?: string;
  /** Checks of what the block left behind, in its directory. */
  after?: (directory: string) => void;
}

const isWindows = process.platform === 'win32';

// Per block, only what the block says it needs ("an existing file of at
// least ...") and what it promises to leave behind.
const SETUP: Record<string, Setup> = {
  'Files #1': {
    files: { 'data.bin': 4096 },
    after: (directory) => expect([...fs.readFileSync(path.join(directory, 'data.bin')).subarray(0, 4)]).toEqual([1, 2, 3, 0]),
  },
  'Sharing memory between processes #1': {
    after: (directory) => expect(fs.readFileSync(path.join(directory, 'hits.bin')).readBigInt64LE(0)).toBe(1n),
  },
  'Shared-memory objects, and waiting across processes #1': {
    skip: isWindows ? 'it passes an anonymous object as a descriptor, which Windows has none of (a named object is the way there)' : undefined,
  },
  'Reservations #1': { skip: is32Bit ? `it reserves 64 GiB, and ${notIn32Bit}` : undefined },
  'Generated code (JIT) #1': {
    skip: process.arch === 'x64' && !isWindows ? undefined : `its machine code is x86-64 System V, and this is ${process.platform}-${process.arch}`,
  },
  'Copying accessors and spans #1': {
    files: { 'data.bin': 8192 },
    after: (directory) => {
      const data = fs.readFileSync(path.join(directory, 'data.bin'));
      expect([...data.subarray(0, 4)]).toEqual([1, 2, 3, 4]);
      expect(data.readDoubleLE(8)).toBe(1.5);
      expect([...data.subarray(16, 20)]).toEqual([1, 2, 3, 4]);
      expect([...data.subarray(4095, 4113)]).toEqual([0, ...Array<number>(16).fill(0xff), 0]);
    },
  },
  'Copying accessors and spans #2': {
    files: { 'data.bin': 2 * P },
    skip: isWindows ? 'Windows refuses to truncate a mapped file (ERROR_USER_MAPPED_FILE)' : qemuMisplacesSigbus ? notUnderQemu32Sigbus : undefined,
    after: (directory) => expect(fs.statSync(path.join(directory, 'data.bin')).size).toBe(P),
  },
};

const snippets = readmeSnippets(fs.readFileSync(path.join(root, 'README.md'), 'utf8'));

describe('README.md', () => {
  it('has code blocks, and a setup only for blocks that exist', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(10);
    const names = snippets.map((snippet) => snippet.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of Object.keys(SETUP)) expect(names, `SETUP names "${name}", which the README no longer has`).toContain(name);
  });

  it('links to headings and files that exist', () => {
    const markdown = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const prose = markdown.replace(/^```[\s\S]*?^```$/gm, '');
    // GitHub's anchors: lower case, punctuation dropped, spaces to hyphens.
    const anchors = new Set([...prose.matchAll(/^#{1,6} (.*)$/gm)].map((match) => match[1].toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
    const links = [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]).filter((link) => !/^[a-z]+:/.test(link));
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) {
      if (link.startsWith('#')) expect(anchors, `README link ${link}`).toContain(link.slice(1));
      else expect(fs.existsSync(path.join(root, link.split('#')[0])), `README link ${link}`).toBe(true);
    }
  });
});

describe('every README code block runs', () => {
  let scratch: string;
  beforeAll(() => {
    if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) {
      throw new Error('the README blocks run the built package: run `npx tsc -p tsconfig.json` first');
    }
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-readme-'));
  });
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  // A require() anchored in the package, where require('memmap') self-resolves
  // through "exports", as it does for a user who installed it. The block runs in
  // an async function, so the top-level await of an ES module works.
  const wrap = (compiled: string) => `'use strict';
(async (require) => {
${compiled}
})(require('node:module').createRequire(${JSON.stringify(path.join(root, 'package.json'))})).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

  for (const snippet of snippets) {
    const setup = SETUP[snippet.name] ?? {};
    const title = `${snippet.name} (README.md:${snippet.line}, ${snippet.language})${setup.skip ? ` (skipped: ${setup.skip})` : ''}`;
    it.skipIf(setup.skip !== undefined)(title, () => {
      const directory = fs.mkdtempSync(path.join(scratch, 'block-'));
      for (const [file, size] of Object.entries(setup.files ?? {})) fs.writeFileSync(path.join(directory, file), Buffer.alloc(size));
      const compiled =
        snippet.language === 'ts'
          ? ts.transpileModule(snippet.code, {
              compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
              reportDiagnostics: false,
            }).outputText
          : snippet.code;
      const script = path.join(directory, 'block.js');
      fs.writeFileSync(script, wrap(compiled));
      const run = spawnSync(process.execPath, [script], { cwd: directory, encoding: 'utf8', timeout: 60_000 });
      expect(run.stderr).toBe('');
      expect(run.signal).toBeNull();
      expect(run.status).toBe(0);

      // Each `// → text` is printed, in order; other lines may come between.
      const printed = run.stdout.split(/\r?\n/).map((line) => line.trimEnd());
      let from = 0;
      for (const expected of expectedOutput(snippet.code)) {
        const at = printed.indexOf(expected, from);
        expect(at, `"${expected}" printed after line ${from} of:\n${run.stdout}`).toBeGreaterThanOrEqual(0);
        from = at + 1;
      }
      setup.after?.(directory);
    });
  }
});

// The types are the same on every platform; under an emulator, checking them takes minutes.
const typeCheckSkip = emulator ? ` (skipped: the same on every platform, and slow under ${emulator})` : '';

describe.skipIf(typeCheckSkip !== '')(`the README TypeScript blocks type-check${typeCheckSkip}`, () => {
  const tsSnippets = snippets.filter((snippet) => snippet.language === 'ts');
  // Each block is a module of its own, importing 'memmap' as src/index.ts.
  const fileOf = (snippet: Snippet, variant = '') =>
    path.join(root, 'test', `readme-block-${snippet.name.replace(/\W+/g, '-')}${variant}.ts`);

  function diagnose(files: Map<string, string>): readonly ts.Diagnostic[] {
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'],
      types: ['node'],
      skipLibCheck: true,
      paths: { memmap: [path.join(root, 'src', 'index.ts')] },
    };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getCurrentDirectory = () => root;
    host.readFile = (file) => files.get(path.resolve(file)) ?? readFile(file);
    host.fileExists = (file) => files.has(path.resolve(file)) || fileExists(file);
    host.getSourceFile = (file, language, ...rest) => {
      const text = files.get(path.resolve(file));
      return text === undefined ? getSourceFile(file, language, ...rest) : ts.createSourceFile(file, text, language);
    };
    const program = ts.createProgram([...files.keys()], options, host);
    return ts.getPreEmitDiagnostics(program).filter((diagnostic) => diagnostic.file && files.has(path.resolve(diagnostic.file.fileName)));
  }

  const describeDiagnostic = (diagnostic: ts.Diagnostic) => {
    const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    return `${path.basename(diagnostic.file!.fileName)}:${line + 1}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
  };

  it(`all ${tsSnippets.length} of them, with strict checks`, () => {
    const files = new Map(tsSnippets.map((snippet) => [fileOf(snippet), `${snippet.code}\nexport {};\n`]));
    expect(diagnose(files).map(describeDiagnostic)).toEqual([]);
  });

  // A line like `// frozen.bytes[0] = 8; would not compile: ...`.
  const refusals = tsSnippets.flatMap((snippet) =>
    snippet.code.split('\n').flatMap((line, index) => {
      const match = /^(\s*)\/\/ (.+;) would not compile/.exec(line);
      return match ? [{ snippet, index, statement: match[2] }] : [];
    }),
  );

  it('and each line shown as one that would not compile does not', () => {
    expect(refusals.length).toBeGreaterThan(0);
    for (const { snippet, index, statement } of refusals) {
      const lines = snippet.code.split('\n');
      lines[index] = statement;
      const file = fileOf(snippet, '-uncommented');
      const errors = diagnose(new Map([[file, `${lines.join('\n')}\nexport {};\n`]]));
      const onThatLine = errors.filter((diagnostic) => diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line === index);
      expect(onThatLine.map(describeDiagnostic), `${snippet.name}: \`${statement}\``).not.toEqual([]);
      expect(errors.length, errors.map(describeDiagnostic).join('\n')).toBe(onThatLine.length);
    }
  });
});
