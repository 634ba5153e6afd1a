// Issue 11, "every throw has a code": thousands of hostile calls over every
// public entry point (test/hostile-sweep.ts says which and how). Each must
// throw an Error with a string code, or reject with one, or succeed; none may
// kill the process, and none may leave a mapping or a descriptor behind.
//
// The sweep runs in a child process, so that a call that kills it is named:
// the child prints each call before making it, and the parent resumes after
// the call that died.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatPermissions, MemoryAreas, MmapError, MmapFlags, MmapOptions, Protection, ShareMode, UnsafeMmapFlags } from '../src';
import type { Finding, SweepLine, SweepOptions, SweepSummary } from './hostile-sweep';
import { isLinux, isWindows, onlyLinux, underWine, wineLacks } from './helpers';
import { emulator } from './helpers';

const root = path.join(__dirname, '..');
const sweepModule = path.join(__dirname, 'hostile-sweep.ts');

// The child runs the TypeScript sources as vitest does. They are transpiled
// once, here, rather than in every child (the compiler takes seconds to
// warm up); inline source maps make the stack frames that findings name
// point at the sources' own lines.
const CHILD = `
const fs = require('node:fs');
const transpiled = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
require.extensions['.ts'] = (module, file) => {
  if (!(file in transpiled)) throw new Error(file + ' was not transpiled for the sweep');
  module._compile(transpiled[file], file);
};
require(process.argv[2]).main(JSON.parse(process.argv[3]));
`;

/** Writes the transpiled sources the child runs, by path; returns the file's path. */
function transpileSources(directory: string): string {
  const sources = [
    ...fs.readdirSync(path.join(root, 'src')).filter((name) => name.endsWith('.ts')).map((name) => path.join(root, 'src', name)),
    sweepModule,
    path.join(__dirname, 'helpers.ts'),
  ];
  const transpiled = Object.fromEntries(
    sources.map((file) => {
      const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, inlineSourceMap: true },
      });
      return [fs.realpathSync(file), outputText];
    }),
  );
  const output = path.join(directory, 'transpiled.json');
  fs.writeFileSync(output, JSON.stringify(transpiled));
  return output;
}

/** A call during which the child died, and how. */
interface Crash {
  readonly key: string;
  readonly label: string;
  readonly how: string;
}

interface ChildRun {
  readonly calls: Map<string, string>;
  readonly findings: Finding[];
  readonly summary?: SweepSummary;
  readonly crash?: Crash;
}

function runChild(transpiled: string, options: SweepOptions): ChildRun {
  const child = spawnSync(process.execPath, ['--expose-gc', '--enable-source-maps', '-e', CHILD, transpiled, fs.realpathSync(sweepModule), JSON.stringify(options)], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    // Under an emulator one run of the sweep takes minutes (qemu-user, armv7: about 240 s).
    timeout: emulator ? 480_000 : 120_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const calls = new Map<string, string>();
  const findings: Finding[] = [];
  let summary: SweepSummary | undefined;
  let last: { key: string; label: string } | undefined;
  for (const text of child.stdout.split('\n')) {
    const line = parse(text);
    if (line?.kind === 'call') {
      calls.set(line.key, line.label);
      last = line;
    } else if (line?.kind === 'finding') {
      findings.push(line.finding);
    } else if (line?.kind === 'done') {
      summary = line.summary;
    }
  }
  if (summary) return { calls, findings, summary };
  const how = [
    child.error ? `${child.error.message}` : `exit ${child.signal ?? child.status}`,
    child.stderr.trim().split('\n').slice(-6).join('\n      '),
  ].join('; stderr:\n      ');
  if (!last) throw new Error(`the sweep died before its first call: ${how}`);
  return { calls, findings, crash: { ...last, how } };
}

function parse(text: string): SweepLine | undefined {
  const [kind, ...fields] = text.split('\t');
  if (kind === 'call') return { kind, key: fields[0], label: fields[1] };
  if (kind === 'finding') return { kind, finding: JSON.parse(fields[0]) };
  if (kind === 'done') return { kind, summary: JSON.parse(fields[0]) };
  return undefined;
}

/** Findings differ between runs only in the addresses they name. */
const withoutAddresses = (text: string) => text.replace(/0x[0-9a-f]+/g, '0x…');

/** Every crash is a bug, but each costs a restart: past this many the rest stay unexplored. */
const MAX_CRASHES = 40;

interface Outcome {
  readonly calls: number;
  readonly runs: number;
  readonly seconds: number;
  readonly findings: Finding[];
  readonly crashes: Crash[];
  readonly summary?: SweepSummary;
}

/** The whole sweep; after a crash it resumes past the call that died. */
function sweepAll(): Outcome {
  const started = process.hrtime.bigint();
  const calls = new Set<string>();
  const findings = new Map<string, Finding>();
  const crashes: Crash[] = [];
  let runs = 0;
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-hostile-'));
  try {
    const transpiled = transpileSources(directory);
    const run = (from: number, skip: readonly string[]) => {
      runs++;
      const result = runChild(transpiled, { from, skip, directory });
      for (const key of result.calls.keys()) calls.add(key);
      // A resumed run repeats the calls made before the crash in its top-level call.
      for (const finding of result.findings) findings.set(`${finding.key} ${finding.kind} ${withoutAddresses(finding.what)}`, finding);
      return result;
    };
    let result = run(0, []);
    while (result.crash && crashes.length < MAX_CRASHES) {
      crashes.push(result.crash);
      result = run(Number(result.crash.key.split('.')[0]), crashes.map((crash) => crash.key));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { calls: calls.size, runs, seconds, findings: [...findings.values()], crashes, summary: result.summary };
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

const SHOWN_PER_GROUP = 20;

/** Findings grouped by what went wrong (addresses aside), largest group first, each with the calls it happened in. */
function describeFindings(findings: readonly Finding[]): string {
  const groups = new Map<string, string[]>();
  for (const finding of findings) {
    const what = withoutAddresses(finding.what);
    groups.set(what, [...(groups.get(what) ?? []), finding.label]);
  }
  const sorted = [...groups].sort((a, b) => b[1].length - a[1].length);
  const lines = [`${findings.length} calls, ${sorted.length} distinct failures:`];
  for (const [what, labels] of sorted) {
    lines.push(`[${labels.length}] ${what}`);
    for (const label of labels.slice(0, SHOWN_PER_GROUP)) lines.push(`      ${label}`);
    if (labels.length > SHOWN_PER_GROUP) lines.push(`      ... and ${labels.length - SHOWN_PER_GROUP} more`);
  }
  return lines.join('\n');
}

const findingsOf = (outcome: Outcome, ...kinds: Finding['kind'][]) => outcome.findings.filter((finding) => kinds.includes(finding.kind));

describe('hostile input to every public entry point', () => {
  let outcome: Outcome;

  beforeAll(() => {
    outcome = sweepAll();
    console.log(`hostile sweep: ${outcome.calls} calls in ${outcome.runs} child runs, ${outcome.seconds.toFixed(1)} s`);
    for (const part of outcome.summary?.skippedParts ?? []) console.log(`hostile sweep skipped ${part}`);
  }, 600_000);

  it('no call kills the process', () => {
    const report = outcome.crashes.map((crash) => `${crash.label}\n    (${crash.how})`).join('\n');
    expect(outcome.crashes.length, `calls that killed the process:\n${report}`).toBe(0);
  });

  it('every throw and every rejection is an Error with a string code', () => {
    const uncoded = findingsOf(outcome, 'uncoded');
    expect(uncoded.length, describeFindings(uncoded)).toBe(0);
  });

  it('covers every public member with thousands of calls, each valid but for one thing', () => {
    expect(outcome.summary, 'the sweep never completed a run').toBeDefined();
    const unknown = outcome.summary!.unknownMembers;
    // TypeScript's private and protected members are ordinary properties at run time, reachable by anyone.
    expect(unknown.length, `members reachable at run time that are not public API, or that the sweep has no arguments for: ${unknown.join(', ')}`).toBe(0);
    expect(outcome.calls).toBeGreaterThan(5000);
    // A valid call that fails would make every hostile call built on it test the wrong thing.
    const broken = findingsOf(outcome, 'baseline', 'setup');
    expect(broken.length, describeFindings(broken)).toBe(0);
  });

  it('unmaps whatever a call made, and gives back what intoRaw() gave up', () => {
    const cleanup = findingsOf(outcome, 'cleanup');
    expect(cleanup.length, describeFindings(cleanup)).toBe(0);
  });

  const countsNote = isWindows
    ? `Windows: VirtualQuery over the address space, and GetProcessHandleCount${underWine ? `; handles not counted: ${wineLacks.handleCount}` : ''}`
    : `skipped elsewhere: ${onlyLinux}`;
  it.skipIf(!isLinux && !isWindows)(`leaves no mapping and no descriptor behind, by the kernel's counts (${countsNote})`, () => {
    expect(outcome.summary, 'the sweep never completed a run').toBeDefined();
    expect(outcome.summary!.countsNotChecked).toBeUndefined();
    const leaks = findingsOf(outcome, 'leak');
    expect(leaks.length, describeFindings(leaks)).toBe(0);
    if (outcome.summary!.descriptorsNotChecked) {
      expect(underWine, outcome.summary!.descriptorsNotChecked).toBe(true);
      return;
    }
    const [before, after] = outcome.summary!.descriptors!;
    expect(after, `open descriptors before and after the sweep's last run: ${before} -> ${after}`).toBe(before);
  });

  it('the exported tables cannot be changed (the library reads them at run time)', () => {
    for (const table of [MmapFlags, UnsafeMmapFlags, Protection, ShareMode]) expect(Object.isFrozen(table)).toBe(true);
  });
});

describe('messages name the value that was wrong, without running any of its code', () => {
  const P = MmapOptions.pageSize();
  const thrown = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return error as MmapError;
    }
    throw new Error('it did not throw');
  };

  it.each([
    ['new MmapOptions(Object.create(null))', () => new MmapOptions(Object.create(null)), 'ERR_MMAP_INVALID_SIZE', 'got an object'],
    ['new MmapOptions(-0)', () => new MmapOptions(-0), 'ERR_MMAP_INVALID_SIZE', 'got -0'],
    ['MmapOptions.freeHugePages(a Uint8Array)', () => MmapOptions.freeHugePages(new Uint8Array(3) as never), 'ERR_MMAP_INVALID_SIZE', 'got a Uint8Array of 3 bytes'],
    ['MemoryAreas.open(1n)', () => MemoryAreas.open(1n as never), 'ERR_INVALID_ARG_TYPE', 'got 1n'],
    ['MemoryAreas.open(-0)', () => MemoryAreas.open(-0), 'ERR_INVALID_ARG_VALUE', 'got -0'],
    ['new MmapError(Symbol())', () => new MmapError(Symbol('x') as never, 'a message'), 'ERR_INVALID_ARG_TYPE', 'MmapError code must be a string, got Symbol(x)'],
    ['formatPermissions with a bigint protection', () => formatPermissions({ protection: 1n as never, shareMode: 'private' }), 'ERR_INVALID_ARG_VALUE', 'got 1n'],
    ['formatPermissions(null)', () => formatPermissions(null as never), 'ERR_INVALID_ARG_TYPE', 'got null'],
  ])('%s', (_, run, code, words) => {
    const error = thrown(run);
    expect(error).toBeInstanceOf(MmapError);
    expect(error.code).toBe(code);
    expect(error.message).toContain(words);
  });

  it('a signature type that is a bigint is named, not serialized', () => {
    const exec = new MmapOptions(P).mapExec();
    const error = thrown(() => exec.asFunction(0, { args: [1n], returns: 'void' } as never));
    expect([error.code, error.message]).toEqual(['ERR_INVALID_ARG_VALUE', 'args[0] must be one of i32, i64, u64, ptr, f64, got 1n']);
    exec.unmap();
  });

  it('a Proxy is described without a trap running', () => {
    const traps: string[] = [];
    const record = (trap: string) => () => {
      traps.push(trap);
      throw new Error(`${trap} trap`);
    };
    const watched = new Proxy({}, { get: record('get'), getPrototypeOf: record('getPrototypeOf'), ownKeys: record('ownKeys'), has: record('has') });
    expect(thrown(() => new MmapOptions(watched as never)).message).toBe('size must be a positive safe integer, got an object');
    expect(traps).toEqual([]);
  });

  it('an argument whose reading throws is ERR_INVALID_ARG_VALUE, with what it threw as the cause', () => {
    const cause = new Error('a getter that throws');
    const area = Object.defineProperty({ shareMode: 'private' }, 'protection', { get: () => { throw cause; }, enumerable: true });
    const error = thrown(() => formatPermissions(area as never));
    expect([error.code, (error as Error & { cause?: unknown }).cause]).toEqual(['ERR_INVALID_ARG_VALUE', cause]);
  });
});
