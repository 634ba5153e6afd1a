// The memmap command, run as users run it: a child process over the built
// package (dist/, which `npm install` and `npx tsc -p tsconfig.json` emit).
import { ChildProcess, spawn, spawnSync, SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulator, isLinux, NO_SUCH_PID, sanitizer } from './helpers';
import { notUnderQemu32Maps, qemuShowsHostMaps } from './helpers';
import { Mmap, MmapFlags, MmapMut, MmapOptions } from '../src';

const root = path.join(__dirname, '..');
const bin = path.join(root, 'bin', 'memmap.js');
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
const pageKiB = MmapOptions.pageSize() / 1024;
const isRoot = process.getuid?.() === 0;

function memmap(args: string[], options: SpawnSyncOptions = {}, script = bin): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', ...options });
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** A process that sleeps until killed; as `uid` when given. */
function idleNode(uid?: number): ChildProcess {
  const options = uid === undefined ? {} : { uid, gid: uid, cwd: os.tmpdir() };
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600_000)'], { stdio: 'ignore', ...options });
}

// The header line memmap prints for this test process, seen from the child.
function headerOfThisProcess(): RegExp {
  const prefix = `${process.pid}:   `;
  if (process.platform === 'win32') return new RegExp(`^${prefix}\\(unknown command line\\)$`);
  // qemu-user shows a process its own emulated cmdline, and the child the host's.
  if (!isLinux || emulator === 'qemu-user') return new RegExp(`^${prefix}.+$`);
  const args = fs.readFileSync('/proc/self/cmdline', 'utf8').split('\0').slice(0, -1);
  return new RegExp(`^${prefix}${escapeRegExp(args.join(' '))}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The -x table's rows, each as its columns (the mapping is the rest of the line). */
function extendedRows(stdout: string): { address: string; numbers: string[]; mode: string; mapping: string }[] {
  const lines = stdout.trimEnd().split('\n');
  return lines.slice(2, -2).map((line) => {
    const match = /^([0-9a-f]+) +(\d+) +(\d+|-) +(\d+|-) +(\d+|-) ([r-][w-][x-][ps]) (.+)$/.exec(line);
    expect(match, line).not.toBeNull();
    return { address: match![1], numbers: match!.slice(2, 6), mode: match![6], mapping: match![7] };
  });
}

// Root reads any checkout; the nobody child cannot when the checkout sits in
// a directory only its owner may enter (a clone under /root, or a 0700 CI
// workspace). It runs a copy of what it loads, open to everyone.
function worldReadableCopy(): { dir: string; bin: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-cli-copy-'));
  const requireFromDist = createRequire(path.join(root, 'dist', 'binding.js'));
  const addon = (requireFromDist('node-gyp-build') as { resolve(dir: string): string }).resolve(root);
  const nodeGypBuild = path.dirname(requireFromDist.resolve('node-gyp-build/package.json'));
  const copies: [string, string][] = [
    ...['bin', 'dist', 'package.json'].map((entry): [string, string] => [path.join(root, entry), path.join(dir, entry)]),
    [addon, path.join(dir, path.relative(root, addon))],
    [nodeGypBuild, path.join(dir, 'node_modules', 'node-gyp-build')],
  ];
  for (const [from, to] of copies) fs.cpSync(from, to, { recursive: true });
  openToEveryone(dir);
  return { dir, bin: path.join(dir, 'bin', 'memmap.js') };
}

function openToEveryone(target: string): void {
  const isDirectory = fs.statSync(target).isDirectory();
  fs.chmodSync(target, isDirectory ? 0o755 : 0o644);
  if (isDirectory) for (const name of fs.readdirSync(target)) openToEveryone(path.join(target, name));
}

// Until `child` runs as `uid`: between fork and setuid it is still ours.
function waitForUid(child: ChildProcess, uid: number): void {
  const deadline = Date.now() + 10_000;
  const currentUid = () => /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
  while (currentUid() !== String(uid)) {
    if (Date.now() > deadline) throw new Error(`process ${child.pid} never became uid ${uid}`);
  }
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
  // Four private pages of a file, two of them written (so resident and dirty).
  let dirtyFile: string;
  let dirtied: MmapMut;
  let other: ChildProcess;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-cli-'));
    marker = path.join(dir, 'cli-marker.bin');
    fs.writeFileSync(marker, new Uint8Array(MmapOptions.pageSize()));
    const fd = fs.openSync(marker, 'r');
    mapping = new MmapOptions(MmapOptions.pageSize()).withFile(fd).withFlags(MmapFlags.SHARED).map();
    fs.closeSync(fd);

    dirtyFile = path.join(dir, 'cli-dirty.bin');
    fs.writeFileSync(dirtyFile, new Uint8Array(4 * MmapOptions.pageSize()));
    const dirtyFd = fs.openSync(dirtyFile, 'r');
    dirtied = new MmapOptions(4 * MmapOptions.pageSize()).withFile(dirtyFd).mapMut();
    fs.closeSync(dirtyFd);
    dirtied.bytes[0] = 1;
    dirtied.bytes[2 * MmapOptions.pageSize()] = 1;

    other = idleNode();
  });
  afterAll(() => {
    other.kill();
    mapping.unmap();
    dirtied.unmap();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists itself as a table with totals by kind, under a pmap-style header', () => {
    const { status, stdout, stderr } = memmap(['areas']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    const header = /^(\d+):   (.+)$/.exec(lines[0]);
    expect(header, lines[0]).not.toBeNull();
    expect(Number(header![1])).not.toBe(process.pid);
    // Emulators may show another argv[0]; the script and its arguments are ours.
    expect(header![2].endsWith(`${bin} areas`)).toBe(true);
    if (emulator === undefined) expect(header![2]).toBe(`${process.execPath} ${bin} areas`);
    expect(lines[1]).toMatch(/^START-END +SIZE PERM OFFSET +PATH$/);
    const rows = lines.slice(2, lines.indexOf(''));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toMatch(/^[0-9a-f]+-[0-9a-f]+ +[0-9.]+[BKMGTPE] [r-][w-][x-][ps] [0-9a-f-]+/);
    expect(lines.at(-1)).toMatch(new RegExp(`^total +${rows.length} +[0-9.]+[KMGTPE]$`));
    expect(stdout).toMatch(/^file +\d+ /m);
    expect(stdout).toMatch(/^anonymous +\d+ /m);
  });

  it.skipIf(process.platform === 'darwin' || qemuShowsHostMaps)(
    `lists another process by pid, with its file mappings (not on macOS: task_for_pid needs privileges${qemuShowsHostMaps ? `; skipped: ${notUnderQemu32Maps}` : ''})`,
    () => {
      const { status, stdout } = memmap(['areas', String(process.pid)]);
      expect(status).toBe(0);
      expect(stdout.split('\n')[0]).toMatch(headerOfThisProcess());
      const row = stdout.split('\n').find((line) => line.endsWith(path.basename(marker)));
      expect(row, `a row for ${marker}`).toBeDefined();
      const range = `0*${mapping.start.toString(16)}-0*${mapping.end.toString(16)}`;
      expect(row).toMatch(new RegExp(`^${range} +${pageKiB}K r--s 00000000 `));
    },
  );

  it.skipIf(process.platform === 'darwin' || qemuShowsHostMaps)(
    `prints JSON: numbers for sizes, hex strings for addresses, r-xp text beside the bits (not on macOS: as above${qemuShowsHostMaps ? `; skipped: ${notUnderQemu32Maps}` : ''})`,
    () => {
      const { status, stdout } = memmap(['areas', String(process.pid), '--json']);
      expect(status).toBe(0);
      const report = JSON.parse(stdout);
      expect(report.pid).toBe(process.pid);
      if (report.commandLine === null) expect(process.platform).toBe('win32');
      else expect(`${process.pid}:   ${report.commandLine}`).toMatch(headerOfThisProcess());
      const area = report.areas.find((entry: { path: string | null }) => entry.path?.endsWith(path.basename(marker)));
      expect(area).toEqual({
        start: `0x${mapping.start.toString(16)}`,
        end: `0x${mapping.end.toString(16)}`,
        size: MmapOptions.pageSize(),
        allocationBase: `0x${mapping.start.toString(16)}`,
        protection: 1,
        permissions: 'r--s',
        shareMode: 'shared',
        kind: 'file',
        path: area.path,
        fileOffset: 0,
      });
      expect(path.basename(area.path)).toBe(path.basename(marker));
      const kinds = Object.values(report.totals) as { areas: number; size: number }[];
      expect(kinds.reduce((sum, kind) => sum + kind.areas, 0)).toBe(report.areas.length);
      expect(report.total.areas).toBe(report.areas.length);
      const sizes = report.areas.reduce((sum: number, entry: { size: number }) => sum + entry.size, 0);
      expect(report.total.size).toBe(sizes);
      expect(kinds.reduce((sum, kind) => sum + kind.size, 0)).toBe(sizes);
    },
  );

  it('writes sizes above 2^53 - 1 as decimal strings, where a JSON number would round them', () => {
    const { jsonSize } = createRequire(bin)('./areas-json') as { jsonSize(bytes: bigint | null): number | string | null };
    expect(jsonSize(0n)).toBe(0);
    expect(jsonSize(4096n)).toBe(4096);
    expect(jsonSize(2n ** 53n - 1n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(jsonSize(2n ** 53n)).toBe('9007199254740992');
    expect(jsonSize(2n ** 64n - 1n)).toBe('18446744073709551615');
    expect(jsonSize(null)).toBeNull();
  });

  it('lays out -x as pmap -x does, with a total line that adds up the columns', () => {
    const { status, stdout, stderr } = memmap(['areas', '-x']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\d+:   .+$/);
    expect(lines[1]).toMatch(/^Address +Kbytes +RSS +Dirty +Swap Mode Mapping$/);
    expect(lines.at(-2)).toMatch(/^-+ -{7,} -{7,} -{7,} -{7,}$/);
    const rows = extendedRows(stdout);
    expect(rows.length).toBeGreaterThan(0);
    const total = /^total kB +(\d+) +(\d+|-) +(\d+|-) +(\d+|-)$/.exec(lines.at(-1)!);
    expect(total, lines.at(-1)).not.toBeNull();
    rows.forEach((row, index) => {
      expect(Number(row.numbers[0]) % pageKiB).toBe(0);
      if (index > 0) expect(BigInt(`0x${row.address}`)).toBeGreaterThan(BigInt(`0x${rows[index - 1].address}`));
    });
    for (let column = 0; column < 4; column++) {
      const known = rows.map((row) => row.numbers[column]).filter((value) => value !== '-');
      const sum = known.reduce((total, value) => total + Number(value), 0);
      expect(total![column + 1]).toBe(known.length === 0 ? '-' : String(sum));
    }
  });

  // qemu-user 7.2's smaps is the host's own, page counts and all: this passes
  // under qemu-aarch64; only a 32-bit guest's addresses are offset.
  it.skipIf(!isLinux || qemuShowsHostMaps)(
    `-x shows the resident, dirty and swapped-out KiB from smaps (Linux only${qemuShowsHostMaps ? `; skipped: ${notUnderQemu32Maps}` : ''})`,
    () => {
    const { status, stdout } = memmap(['areas', '-x', String(process.pid)]);
    expect(status).toBe(0);
    const row = extendedRows(stdout).find((entry) => BigInt(`0x${entry.address}`) === dirtied.start);
    expect(row, `a row at 0x${dirtied.start.toString(16)}`).toBeDefined();
    expect(row).toEqual({
      address: dirtied.start.toString(16).padStart(row!.address.length, '0'),
      numbers: [String(4 * pageKiB), String(2 * pageKiB), String(2 * pageKiB), '0'],
      mode: 'rw-p',
      mapping: row!.mapping,
    });
    expect(path.basename(row!.mapping)).toBe(path.basename(dirtyFile));
    // Anonymous areas are named as pmap names them.
    expect(extendedRows(stdout).some((entry) => entry.mapping === '[ anon ]')).toBe(true);

    const json = memmap(['areas', '-x', '--json', String(process.pid)]);
    expect(json.status).toBe(0);
    const report = JSON.parse(json.stdout);
    const area = report.areas.find((entry: { start: string }) => entry.start === `0x${dirtied.start.toString(16)}`);
    expect(area).toMatchObject({
      size: 4 * MmapOptions.pageSize(),
      rss: 2 * MmapOptions.pageSize(),
      dirty: 2 * MmapOptions.pageSize(),
      swap: 0,
      permissions: 'rw-p',
    });
    const rss = report.areas.reduce((sum: number, entry: { rss: number }) => sum + entry.rss, 0);
    expect(report.total.rss).toBe(rss);
    expect(report.totals.file.rss).toBeGreaterThanOrEqual(area.rss);
    },
  );

  it.skipIf(isLinux)('-x prints "-" for RSS, Dirty and Swap where there is no smaps (systems but Linux)', () => {
    const { status, stdout } = memmap(['areas', '-x']);
    expect(status).toBe(0);
    for (const row of extendedRows(stdout)) expect(row.numbers.slice(1)).toEqual(['-', '-', '-']);
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/^total kB +\d+ +- +- +-$/);
    const report = JSON.parse(memmap(['areas', '-x', '--json']).stdout);
    expect(report.areas[0]).toMatchObject({ rss: null, dirty: null, swap: null });
    expect(report.total).toMatchObject({ rss: null, dirty: null, swap: null });
  });

  it.skipIf(!isLinux || sanitizer || spawnSync('pmap', ['-V']).status !== 0)(
    'agrees with pmap -x on every row of an idle process (Linux with procps; not under the sanitizers, whose preloaded runtime makes pmap hang)',
    () => {
      const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
      try {
        // Only once sleep has loaded its libraries and sleeps does its map stand still.
        const deadline = Date.now() + 10_000;
        const settled = () =>
          fs.readFileSync(`/proc/${sleeper.pid}/cmdline`, 'utf8').startsWith('sleep\0') &&
          /^State:\s+S/m.test(fs.readFileSync(`/proc/${sleeper.pid}/status`, 'utf8'));
        while (!settled()) if (Date.now() > deadline) throw new Error('sleep never settled');
        const ours = memmap(['areas', '-x', String(sleeper.pid)]);
        const pmap = spawnSync('pmap', ['-x', String(sleeper.pid)], { encoding: 'utf8' });
        expect(ours.status).toBe(0);
        expect(pmap.status).toBe(0);
        const theirLines = pmap.stdout.trimEnd().split('\n');
        const ourLines = ours.stdout.trimEnd().split('\n');
        expect(ourLines[0]).toBe(theirLines[0]);
        // pmap: address, Kbytes, RSS, Dirty, a five-letter mode (s or - fourth), mapping.
        const theirs = theirLines.slice(2, -2).map((line) => line.split(/ +/).slice(0, 5));
        const mine = extendedRows(ours.stdout);
        expect(mine.length).toBe(theirs.length);
        mine.forEach((row, index) => {
          const [address, kbytes, rss, dirty, mode] = theirs[index];
          expect([row.address, ...row.numbers.slice(0, 3)]).toEqual([address, kbytes, rss, dirty]);
          expect(row.mode.slice(0, 3)).toBe(mode.slice(0, 3));
          expect(row.mode[3] === 's').toBe(mode[3] === 's');
        });
        const theirTotal = theirLines.at(-1)!.split(/ +/).slice(2, 5);
        expect(ourLines.at(-1)!.split(/ +/).slice(2, 5)).toEqual(theirTotal);
      } finally {
        sleeper.kill();
      }
    },
  );

  it.skipIf(process.platform === 'darwin')(
    'lists several pids, one block each; a failing pid is reported and the others still print (not on macOS: as above)',
    () => {
      const pids = [process.pid, NO_SUCH_PID, other.pid!];
      const text = memmap(['areas', '-x', ...pids.map(String)]);
      expect(text.status).toBe(1);
      expect(text.stderr).toBe(`memmap areas: no process with pid ${NO_SUCH_PID}\n`);
      const blocks = text.stdout.trimEnd().split('\n\n');
      expect(blocks.map((block) => block.split('\n')[0].split(':')[0])).toEqual([String(process.pid), String(other.pid)]);
      for (const block of blocks) expect(block).toMatch(/\ntotal kB +\d+/);

      const json = memmap(['areas', '--json', ...pids.map(String)]);
      expect(json.status).toBe(1);
      expect(json.stderr).toBe(`memmap areas: no process with pid ${NO_SUCH_PID}\n`);
      const reports = JSON.parse(json.stdout) as { pid: number; areas: unknown[] }[];
      expect(reports.map((report) => report.pid)).toEqual([process.pid, other.pid]);
      for (const report of reports) expect(report.areas.length).toBeGreaterThan(0);
    },
  );

  it('fails clearly on a bad pid and a missing process', () => {
    const bad = memmap(['areas', '12abc']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('pid must be a process id (a positive integer), got "12abc"');
    expect(bad.stdout).toBe('');

    // A bad pid among good ones: nothing is read.
    const mixed = memmap(['areas', String(process.pid), '0']);
    expect(mixed.status).toBe(2);
    expect(mixed.stdout).toBe('');

    const missing = memmap(['areas', String(NO_SUCH_PID)]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`memmap areas: no process with pid ${NO_SUCH_PID}\n`);
    expect(missing.stdout).toBe('');
  });

  it.skipIf(!isLinux || !isRoot)(
    'says when it may not read a process (Linux as root only: runs a world-readable copy of memmap as nobody)',
    () => {
      const copy = worldReadableCopy();
      try {
        const denied = memmap(['areas', String(process.pid)], { uid: 65534, gid: 65534, cwd: copy.dir }, copy.bin);
        expect(denied.status).toBe(1);
        expect(denied.stderr).toMatch(
          /^memmap areas: not permitted to read the memory areas of process \d+ \((EACCES|EPERM)\); run memmap as the same user/,
        );
        expect(denied.stdout).toBe('');
      } finally {
        fs.rmSync(copy.dir, { recursive: true, force: true });
      }
    },
  );

  it.skipIf(!isLinux || !isRoot || spawnSync('setpriv', ['--version']).status !== 0)(
    'says the kernel refused, and why it may, when root is refused (Linux as root with setpriv: runs memmap as root without capabilities)',
    () => {
      // Root with no capability, as in a locked-down container. Dropping
      // CAP_SYS_PTRACE alone is not enough: the kernel this was written on let
      // CAP_SYS_ADMIN or CAP_PERFMON pass the check too. Without
      // CAP_DAC_OVERRIDE root may not enter another user's checkout either.
      const copy = worldReadableCopy();
      const target = idleNode(65534);
      try {
        waitForUid(target, 65534);
        const args = ['--bounding-set', '-all', process.execPath, copy.bin, 'areas', String(target.pid)];
        const refused = spawnSync('setpriv', args, { encoding: 'utf8', cwd: copy.dir });
        expect(refused.status).toBe(1);
        expect(refused.stdout).toBe('');
        expect(refused.stderr).toMatch(
          new RegExp(`^memmap areas: the kernel refused to show root the memory areas of process ${target.pid} \\((EACCES|EPERM)\\)\\.\n`),
        );
        expect(refused.stderr).toContain('ptrace access check');
        expect(refused.stderr).toContain('Yama');
        expect(refused.stderr).toContain('container');
        expect(refused.stderr).toMatch(/^Here memmap lacks CAP_SYS_PTRACE; /m);
        expect(refused.stderr).not.toContain('administrator');
      } finally {
        target.kill();
        fs.rmSync(copy.dir, { recursive: true, force: true });
      }
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
    expect(stdout).toContain(`base page               ${pageKiB}K (${MmapOptions.pageSize()} bytes)`);
    expect(stdout).toMatch(/^allocation granularity  /m);
  });
});

describe('memmap usage', () => {
  it('prints its version', () => {
    const { status, stdout, stderr } = memmap(['--version']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toBe(`memmap ${version}\n`);
  });

  const usage = 'Usage: memmap <command> [options] [--] [arguments]';
  it.each([
    [['--help'], usage],
    [['-h'], usage],
    [['help'], usage],
    [['help', 'help'], usage],
    [['help', 'areas'], 'Usage: memmap areas [-x] [--json] [--] [pid...]'],
    [['--help', 'areas'], 'Usage: memmap areas [-x] [--json] [--] [pid...]'],
    [['areas', '--help'], 'Usage: memmap areas [-x] [--json] [--] [pid...]'],
    [['help', 'page-sizes'], 'Usage: memmap page-sizes [--json]'],
    [['page-sizes', '-h'], 'Usage: memmap page-sizes [--json]'],
  ])('%j prints help', (args, firstLine) => {
    const { status, stdout, stderr } = memmap(args);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout.split('\n')[0]).toBe(firstLine);
  });

  it('says in the help of areas where -x has its figures and what other systems print', () => {
    const { stdout } = memmap(['help', 'areas']);
    expect(stdout).toContain('/proc/<pid>/smaps on Linux');
    expect(stdout).toMatch(/macOS, FreeBSD and\s+Windows memmap cannot tell them and prints "-"/);
    expect(stdout).toContain('decimal strings above 2^53 - 1');
  });

  it('takes every argument after "--" as a pid', () => {
    const ended = memmap(['areas', '--json', '--', String(process.pid)]);
    expect(ended.stderr).toBe('');
    expect(JSON.parse(ended.stdout).pid).toBe(process.pid);

    const option = memmap(['areas', '--', '--json']);
    expect(option.status).toBe(2);
    expect(option.stderr).toContain('pid must be a process id (a positive integer), got "--json"');
  });

  it.each([
    [[], 'memmap: missing command'],
    [['pmap'], 'memmap: unknown command "pmap"'],
    [['areas', '--verbose'], 'memmap areas: unknown option --verbose'],
    [['page-sizes', 'x'], 'memmap page-sizes: unexpected argument x'],
    [['page-sizes', '--', '--json'], 'memmap page-sizes: unexpected argument --json'],
    [['help', 'pmap'], 'memmap help: unknown command "pmap"'],
    [['help', 'areas', 'x'], 'memmap help: unexpected argument x'],
    [['--version', 'x'], 'memmap --version: unexpected argument x'],
  ])('%j is a usage error', (args, message) => {
    const { status, stdout, stderr } = memmap(args);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.startsWith(`${message}\n\nUsage: memmap`)).toBe(true);
  });
});
