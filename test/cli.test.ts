// The memmap command, run as users run it: a child process over the built
// package (dist/, which `npm install` and `npx tsc -p tsconfig.json` emit).
import { spawnSync, SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_SUCH_PID } from './helpers';
import { Mmap, MmapFlags, MmapOptions } from '../src';

const root = path.join(__dirname, '..');
const bin = path.join(root, 'bin', 'memmap.js');

function memmap(args: string[], options: SpawnSyncOptions = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', ...options });
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) {
    throw new Error('bin/memmap.js runs the built package: run `npx tsc -p tsconfig.json` first');
  }
});

describe('memmap areas', () => {
  let dir: string;
  let marker: string;
  let mapping: Mmap;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-cli-'));
    marker = path.join(dir, 'cli-marker.bin');
    fs.writeFileSync(marker, new Uint8Array(MmapOptions.pageSize()));
    const fd = fs.openSync(marker, 'r');
    mapping = new MmapOptions(MmapOptions.pageSize()).withFile(fd).withFlags(MmapFlags.SHARED).map();
    fs.closeSync(fd);
  });
  afterAll(() => {
    mapping.unmap();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists itself as a table with totals by kind', () => {
    const { status, stdout, stderr } = memmap(['areas']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^memmap \(pid \d+\): \d+ areas$/);
    expect(lines[1]).toMatch(/^START-END +SIZE PERM OFFSET +PATH$/);
    const count = Number(/: (\d+) areas/.exec(lines[0])![1]);
    const rows = lines.slice(2, 2 + count);
    for (const row of rows) expect(row).toMatch(/^[0-9a-f]+-[0-9a-f]+ +[0-9.]+[BKMGTPE] [r-][w-][x-][ps] [0-9a-f-]+/);
    expect(lines.at(-1)).toMatch(new RegExp(`^total +${count} +[0-9.]+[KMGTPE]$`));
    expect(stdout).toMatch(/^file +\d+ /m);
    expect(stdout).toMatch(/^anonymous +\d+ /m);
  });

  it.skipIf(process.platform === 'darwin')(
    'lists another process by pid, with its file mappings (not on macOS: task_for_pid needs privileges)',
    () => {
      const { status, stdout } = memmap(['areas', String(process.pid)]);
      expect(status).toBe(0);
      expect(stdout.split('\n')[0]).toMatch(new RegExp(`^pid ${process.pid}: \\d+ areas$`));
      const row = stdout.split('\n').find((line) => line.endsWith(path.basename(marker)));
      expect(row, `a row for ${marker}`).toBeDefined();
      const range = `0*${mapping.start.toString(16)}-0*${mapping.end.toString(16)}`;
      expect(row).toMatch(new RegExp(`^${range} +${MmapOptions.pageSize() / 1024}K r--s 00000000 `));
    },
  );

  it.skipIf(process.platform === 'darwin')('prints JSON with hex strings for addresses (not on macOS: as above)', () => {
    const { status, stdout } = memmap(['areas', String(process.pid), '--json']);
    expect(status).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.pid).toBe(process.pid);
    const area = report.areas.find((entry: { path: string | null }) => entry.path?.endsWith(path.basename(marker)));
    expect(area).toMatchObject({
      start: `0x${mapping.start.toString(16)}`,
      end: `0x${mapping.end.toString(16)}`,
      size: `0x${MmapOptions.pageSize().toString(16)}`,
      protection: 1,
      permissions: 'r--s',
      shareMode: 'shared',
      kind: 'file',
      fileOffset: '0x0',
    });
    const total = (Object.values(report.totals) as { areas: number }[]).reduce((sum, kind) => sum + kind.areas, 0);
    expect(total).toBe(report.areas.length);
  });

  it('fails clearly on a bad pid, a missing process and a forbidden one', () => {
    const bad = memmap(['areas', '12abc']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('pid must be a process id (a positive integer), got "12abc"');
    expect(bad.stdout).toBe('');

    const missing = memmap(['areas', String(NO_SUCH_PID)]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`memmap areas: no process with pid ${NO_SUCH_PID}\n`);
  });

  it.skipIf(process.platform !== 'linux' || process.getuid?.() !== 0)(
    'says when it may not read a process (Linux as root only: runs memmap as nobody)',
    () => {
      const denied = memmap(['areas', String(process.pid)], { uid: 65534, gid: 65534 });
      expect(denied.status).toBe(1);
      expect(denied.stderr).toMatch(/^memmap areas: not permitted to read the memory areas of process \d+ \((EACCES|EPERM)\)/);
    },
  );
});

describe('memmap page-sizes', () => {
  it('prints the page sizes as JSON', () => {
    const { status, stdout } = memmap(['page-sizes', '--json']);
    expect(status).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.basePage).toBe(MmapOptions.pageSize());
    expect(report.allocationGranularity).toBe(MmapOptions.allocationGranularity());
    expect(report.hugePages.map((entry: { size: number }) => entry.size)).toEqual(MmapOptions.pageSizes().slice(1));
    for (const { free } of report.hugePages) expect(free === null || Number.isInteger(free)).toBe(true);
  });

  it('prints them as text', () => {
    const { status, stdout } = memmap(['page-sizes']);
    expect(status).toBe(0);
    expect(stdout).toContain(`base page               ${MmapOptions.pageSize() / 1024}K (${MmapOptions.pageSize()} bytes)`);
    expect(stdout).toMatch(/^allocation granularity  /m);
  });
});

describe('memmap usage', () => {
  it.each([
    [['--help'], 'Usage: memmap <command>'],
    [['areas', '--help'], 'Usage: memmap areas [pid] [--json]'],
    [['page-sizes', '-h'], 'Usage: memmap page-sizes [--json]'],
  ])('%j prints help', (args, usage) => {
    const { status, stdout } = memmap(args);
    expect(status).toBe(0);
    expect(stdout.startsWith(usage)).toBe(true);
  });

  it.each([
    [[], 'memmap: missing command'],
    [['pmap'], 'memmap: unknown command "pmap"'],
    [['areas', '--verbose'], 'memmap areas: unknown option --verbose'],
    [['areas', '1', '2'], 'memmap areas: unexpected argument 2'],
    [['page-sizes', 'x'], 'memmap page-sizes: unexpected argument x'],
  ])('%j is a usage error', (args, message) => {
    const { status, stderr } = memmap(args);
    expect(status).toBe(2);
    expect(stderr.startsWith(`${message}\n\nUsage: memmap`)).toBe(true);
  });
});
