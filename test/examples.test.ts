// `npm run demo`: every example, run as a user runs it, over the built package;
// and counting across processes with Atomics, as the README describes it.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MmapOptions } from '../src';
import { emulator, notUnderQemu32NoAccess, sanitizer, underQemu32 } from './helpers';

const root = path.join(__dirname, '..');
const runAll = path.join(root, 'examples', 'run-all.js');

// os.tmpdir() in the examples reads these, so each test gets its own counter file.
function demo(tmp: string): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp };
  const result = spawnSync(process.execPath, [runAll], { encoding: 'utf8', env });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) {
    throw new Error('the examples run the built package: run `npx tsc -p tsconfig.json` first');
  }
});

describe('the demo (examples/run-all.js)', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-demo-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it.skipIf(sanitizer)('runs every example successfully, the counter from 1 even over an earlier count (not under the sanitizers, whose own mappings merge with the areas the demo prints)', () => {
    const counterFile = path.join(tmp, 'memmap-counter.bin');
    // What an earlier demo leaves behind: the demo starts counting anew all the same.
    const earlier = Buffer.alloc(8);
    earlier.writeBigUInt64LE(41n);
    fs.writeFileSync(counterFile, earlier);

    const { status, stdout, stderr } = demo(tmp);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain(`counter: run number 1, kept in ${counterFile}`);
    expect(stdout).toContain(`counter: run number 2, kept in ${counterFile}`);
    expect(stdout.indexOf('run number 1')).toBeLessThan(stdout.indexOf('run number 2'));
    expect(fs.readFileSync(counterFile).readBigUInt64LE(0)).toBe(2n);

    expect(stdout).toContain('shared-counter: 2 processes each added 1, 1000000 times, to two counters in one shared mapping');
    expect(stdout).toContain('shared-counter:   Atomics.add          2000000 (expected 2000000)');
    expect(stdout).toMatch(/shared-counter: {3}DataView get \+ set {3}\d+ \((none lost this time; the race depends on timing|\d+ increments lost to the race)\)\n/);

    expect(stdout).toContain('sparse: first byte of each page: 1, 2, 3, 4');
    expect(stdout).toMatch(/sparse: {3}0x[0-9a-f]+-0x[0-9a-f]+ 16 KiB, rw-p\n/);
    if (process.arch === 'x64' || process.arch === 'arm64') expect(stdout).toContain('jit: add(40, 2) = 42');
    else expect(stdout).toContain(`jit: skipped, no machine code for ${process.arch}`);

    // The areas demo: a short excerpt, not the whole list.
    const areaLines = stdout.split('\n').filter((line) => line.startsWith('areas:'));
    expect(areaLines.length).toBeLessThanOrEqual(8);
    expect(stdout).toMatch(/areas: this process has \d+ memory areas; these hold the example's mappings:\n/);
    expect(stdout).toMatch(/areas: {3}[0-9a-f]+-[0-9a-f]+ +[\d,]+ KiB rw-p \(anonymous\) {4}<- mapMut\(\): one anonymous page(, merged with a neighbour)?\n/);
    const kib = (pages: number) => ((pages * MmapOptions.pageSize()) / 1024).toLocaleString('en-US');
    if (underQemu32) {
      console.log(`examples: the reserveNone() area may be unlisted (${notUnderQemu32NoAccess})`);
      expect(stdout).toMatch(new RegExp(`areas: {3}[0-9a-f]+-[0-9a-f]+ +${kib(4)} KiB r--s .*data\\.bin @0 {4}<- map\\(\\) of data\\.bin, shared\n`));
      expect(stdout).toMatch(new RegExp(`areas: {3}(\\(not listed by this OS\\)|[0-9a-f]+-[0-9a-f]+ +${kib(256)} KiB ---p \\(anonymous\\)) {4}<- reserveNone\\(\\): 256 pages\n`));
    } else if (process.platform === 'win32') {
      // An NT device path; Windows may report the view's region in its own granularity,
      // and lists no reserved, uncommitted address space.
      expect(stdout).toMatch(/areas: {3}[0-9a-f]+-[0-9a-f]+ +[\d,]+ KiB r--s .*data\.bin @0 {4}<- map\(\) of data\.bin, shared\n/);
      expect(stdout).toMatch(/areas: {3}(\(not listed by this OS\)|[0-9a-f]+-[0-9a-f]+ +[\d,]+ KiB ---p \(anonymous\)) {4}<- reserveNone\(\): 256 pages\n/);
    } else {
      expect(stdout).toMatch(new RegExp(`areas: {3}[0-9a-f]+-[0-9a-f]+ +${kib(4)} KiB r--s .*data\\.bin @0 {4}<- map\\(\\) of data\\.bin, shared\n`));
      expect(stdout).toMatch(new RegExp(`areas: {3}[0-9a-f]+-[0-9a-f]+ +${kib(256)} KiB ---p \\(anonymous\\) {4}<- reserveNone\\(\\): 256 pages\n`));
    }
    expect(stdout).toMatch(/areas: and \d+ others: \d+ areas of \d+ files, \d+ anonymous/);
    expect(stdout).toMatch(/areas: the new page 0x[0-9a-f]+ lies in [0-9a-f]+-[0-9a-f]+ rw-p\n/);
    expect(stdout).toContain('areas: once unmapped, query() finds nothing there');
    expect(stdout).toContain('demo: all 6 runs succeeded');
  });

  it('fails when an example fails', () => {
    const { status, stderr } = demo(path.join(tmp, 'no such directory'));
    expect(status).toBe(1);
    expect(stderr).toContain(
      'demo: 4 example(s) failed: counter.js (exit code 1), counter.js (exit code 1), shared-counter.js (exit code 1), areas.js (exit code 1)',
    );
  });
});

describe('counting across processes in a shared file mapping', () => {
  // Each process bumps a 32-bit and a 64-bit counter `increments` times with
  // Atomics.add, both starting at the same moment (a barrier in the mapping
  // itself), so their updates really race.
  const script = `
    const fs = require('node:fs');
    const { MmapFlags, MmapOptions } = require('memmap');
    const [file, processes, increments] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
    const fd = fs.openSync(file, 'r+');
    const mapping = new MmapOptions(16).withFile(fd).withFlags(MmapFlags.SHARED).mapMut();
    fs.closeSync(fd);
    const words = new Int32Array(mapping.buffer, 0, 2);   // [0]: the 32-bit counter, [1]: the barrier
    const wide = new BigInt64Array(mapping.buffer, 8, 1); // the 64-bit counter
    Atomics.add(words, 1, 1);
    const deadline = Date.now() + 60000;
    while (Atomics.load(words, 1) < processes) if (Date.now() > deadline) throw new Error('the other process never started');
    for (let i = 0; i < increments; i++) {
      Atomics.add(words, 0, 1);
      Atomics.add(wide, 0, 1n);
    }
    mapping.unmap();`;

  function count(file: string, processes: number, increments: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // cwd at the package root: require('memmap') resolves to this package.
      const child = spawn(process.execPath, ['-e', script, file, String(processes), String(increments)], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`a counting process failed (${signal ?? code}): ${stderr}`))));
    });
  }

  // Emulators translate every instruction; fewer increments keep the test short there.
  const increments = emulator ? 100_000 : 500_000;

  it(`two processes, ${increments} Atomics.add each on an Int32Array and a BigInt64Array: no increment is lost`, async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-atomics-'));
    try {
      const file = path.join(directory, 'counters.bin');
      fs.writeFileSync(file, Buffer.alloc(16));
      await Promise.all([count(file, 2, increments), count(file, 2, increments)]);
      const counters = fs.readFileSync(file);
      expect(counters.readInt32LE(4)).toBe(2); // both passed the barrier
      expect(counters.readInt32LE(0)).toBe(2 * increments);
      expect(counters.readBigInt64LE(8)).toBe(BigInt(2 * increments));
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
