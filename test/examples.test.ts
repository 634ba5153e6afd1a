// `npm run demo`: every example, run as a user runs it, over the built package.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const runAll = path.join(__dirname, '..', 'examples', 'run-all.js');

// os.tmpdir() in the examples reads these, so each test gets its own counter file.
function demo(tmp: string): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp };
  const result = spawnSync(process.execPath, [runAll], { encoding: 'utf8', env });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the demo (examples/run-all.js)', () => {
  let tmp: string;
  beforeAll(() => {
    if (!fs.existsSync(path.join(__dirname, '..', 'dist', 'index.js'))) {
      throw new Error('the examples run the built package: run `npx tsc -p tsconfig.json` first');
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-demo-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('runs every example successfully', () => {
    const { status, stdout, stderr } = demo(tmp);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const counterFile = path.join(tmp, 'memmap-counter.bin');
    expect(stdout).toContain(`counter: run number 1, kept in ${counterFile}`);
    expect(stdout).toContain(`counter: run number 2, kept in ${counterFile}`);
    expect(fs.readFileSync(counterFile).readBigUInt64LE(0)).toBe(2n);
    expect(stdout).toContain('sparse: first byte of each page: 1, 2, 3, 4');
    expect(stdout).toMatch(/sparse: {3}0x[0-9a-f]+-0x[0-9a-f]+ 16 KiB, rw-p\n/);
    if (process.arch === 'x64' || process.arch === 'arm64') expect(stdout).toContain('jit: add(40, 2) = 42');
    else expect(stdout).toContain(`jit: skipped, no machine code for ${process.arch}`);
    expect(stdout).toMatch(/areas: the new page 0x[0-9a-f]+ lies in [0-9a-f]+-[0-9a-f]+ rw-p\n/);
    expect(stdout).toContain('areas: once unmapped, query() finds nothing there');
    expect(stdout).toContain('demo: all 5 runs succeeded');
  });

  it('fails when an example fails', () => {
    const { status, stderr } = demo(path.join(tmp, 'no such directory'));
    expect(status).toBe(1);
    expect(stderr).toContain('demo: 2 example(s) failed: counter.js (exit code 1), counter.js (exit code 1)');
  });
});
