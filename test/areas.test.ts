import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryArea, MemoryAreas, MmapError, MmapFlags, MmapOptions, Protection, ShareMode } from '../src';
import { parseProcMaps } from '../src/areas';
import { codeOf, NO_SUCH_PID } from './helpers';

const P = MmapOptions.pageSize();
const linux = process.platform === 'linux';
const RWX = Protection.READ | Protection.WRITE | Protection.EXECUTE;

function areaAt(address: bigint): MemoryArea {
  const area = MemoryAreas.query(address);
  expect(area, `an area at 0x${address.toString(16)}`).not.toBeNull();
  expect(area!.start <= address && address < area!.end).toBe(true);
  return area!;
}

function expectArea(address: bigint, protection: number, shareMode: ShareMode): MemoryArea {
  const area = areaAt(address);
  expect(area.protection & RWX).toBe(protection);
  expect(area.shareMode).toBe(shareMode);
  return area;
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-areas-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function pageFile(name: string, first = 0): number {
  const file = path.join(dir, name);
  const bytes = new Uint8Array(P);
  bytes[0] = first;
  fs.writeFileSync(file, bytes);
  return fs.openSync(file, 'r+');
}

describe('MemoryAreas: protection and share mode (mmap-rs tests 1-9)', () => {
  it('reserve_none, committed: private, no access', () => {
    const none = new MmapOptions(P).reserveNone().commit();
    expectArea(none.start, 0, ShareMode.PRIVATE);
    none.unmap();
  });

  it('map_none: private, no access', () => {
    const none = new MmapOptions(P).mapNone();
    expectArea(none.start, 0, ShareMode.PRIVATE);
    none.unmap();
  });

  it('map: private, read only', () => {
    const map = new MmapOptions(P).map();
    expectArea(map.start, Protection.READ, ShareMode.PRIVATE);
    map.unmap();
  });

  it('map_mut: private, read and write', () => {
    const map = new MmapOptions(P).mapMut();
    map.bytes[0] = 0x42;
    expectArea(map.start, Protection.READ | Protection.WRITE, ShareMode.PRIVATE);
    map.unmap();
  });

  it('map_file (shared): shared, read only, with the file as path', () => {
    const fd = pageFile('shared.bin', 0x42);
    const map = new MmapOptions(P).withFile(fd).withFlags(MmapFlags.SHARED).map();
    fs.closeSync(fd);
    expect(map.bytes[0]).toBe(0x42);
    const area = expectArea(map.start, Protection.READ, ShareMode.SHARED);
    expect(area.path).not.toBeNull();
    expect(area.fileOffset).toBe(0n);
    if (linux) expect(area.path).toBe(fs.realpathSync(path.join(dir, 'shared.bin')));
    map.unmap();
  });

  it('map_file_mut (shared): shared, read and write', () => {
    const fd = pageFile('shared-mut.bin');
    const map = new MmapOptions(P).withFile(fd).withFlags(MmapFlags.SHARED).mapMut();
    fs.closeSync(fd);
    expect(expectArea(map.start, Protection.READ | Protection.WRITE, ShareMode.SHARED).path).not.toBeNull();
    map.unmap();
  });

  it('map_file_private: private, read and write', () => {
    const fd = pageFile('private.bin');
    const map = new MmapOptions(P).withFile(fd).mapMut();
    fs.closeSync(fd);
    map.bytes[0] = 0x42;
    expect(expectArea(map.start, Protection.READ | Protection.WRITE, ShareMode.PRIVATE).path).not.toBeNull();
    map.unmap();
  });
});

describe('MemoryAreas.queryRange and query', () => {
  it('query_range (mmap-rs test 15): the areas around a hole, then no more', () => {
    const left = new MmapOptions(3 * P).mapMut();
    const middle = left.splitOff(P);
    const right = middle.splitOff(P);
    const hole = middle.start;
    middle.unmap();

    const areas = MemoryAreas.queryRange(left.start, right.end);
    // The first area's start is not checked: a neighbouring area may have merged into it.
    expect(areas[0].end).toBe(left.start + BigInt(P));
    let next = 1;
    if (areas[next]?.start !== right.start) next += 1; // at most one area in between
    expect(areas[next]?.start).toBe(right.start);
    expect(areas.length).toBe(next + 1);

    expect(MemoryAreas.query(hole)).toBeNull();
    expect(MemoryAreas.query(hole + BigInt(P - 1))).toBeNull();
    expect(MemoryAreas.queryRange(hole, hole + BigInt(P))).toEqual([]);
    left.unmap();
    right.unmap();
  });

  it('an empty range has no areas, even inside a mapping', () => {
    const map = new MmapOptions(P).mapMut();
    expect(MemoryAreas.queryRange(map.start, map.start)).toEqual([]);
    map.unmap();
  });

  it('open() lists this process in address order, without overlaps', () => {
    const map = new MmapOptions(P).mapMut();
    const areas = MemoryAreas.open();
    expect(areas.length).toBeGreaterThan(3);
    for (let i = 1; i < areas.length; i++) expect(areas[i].start >= areas[i - 1].end).toBe(true);
    for (const area of areas) expect(area.start < area.end).toBe(true);
    expect(areas.some((area) => area.start <= map.start && map.end <= area.end)).toBe(true);
    map.unmap();
  });

  it('reports an unmapped page as nothing', () => {
    const map = new MmapOptions(P).mapMut();
    const start = map.start;
    map.unmap();
    expect(MemoryAreas.query(start)).toBeNull();
  });

  it('rejects bad arguments with a code', () => {
    expect(codeOf(() => MemoryAreas.query(1 as unknown as bigint))).toBe('ERR_MMAP_INVALID_ADDRESS');
    expect(codeOf(() => MemoryAreas.query(-1n))).toBe('ERR_MMAP_INVALID_ADDRESS');
    expect(codeOf(() => MemoryAreas.queryRange(0x2000n, 0x1000n))).toBe('ERR_MMAP_INVALID_ADDRESS');
    expect(codeOf(() => MemoryAreas.open('1' as unknown as number))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => MemoryAreas.open(1.5))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => MemoryAreas.queryProcess(0, 0n))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => MemoryAreas.queryProcessRange(-4, 0n, 1n))).toBe('ERR_INVALID_ARG_VALUE');
  });
});

describe.skipIf(!linux)('MemoryAreas on Linux: paths as the kernel shows them (Linux only: /proc paths)', () => {
  it('keeps spaces in a path and the (deleted) suffix', () => {
    const file = path.join(fs.realpathSync(dir), 'a name  with spaces.bin');
    fs.writeFileSync(file, new Uint8Array(P));
    const fd = fs.openSync(file, 'r');
    const map = new MmapOptions(P).withFile(fd).map();
    fs.closeSync(fd);
    expect(areaAt(map.start).path).toBe(file);
    fs.unlinkSync(file);
    expect(areaAt(map.start).path).toBe(`${file} (deleted)`);
    map.unmap();
  });

  it('names the stack as [stack], without a file offset', () => {
    expect(MemoryAreas.open().some((area) => area.path === '[stack]' && area.fileOffset === null)).toBe(true);
  });
});

describe.skipIf(process.platform === 'darwin')('MemoryAreas of another process (not on macOS: task_for_pid needs privileges)', () => {
  it('lists a child process and queries it by address', async () => {
    const child = spawn(process.execPath, ['-e', 'process.stdout.write("ready"); setInterval(() => {}, 1000)'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise((resolve) => child.stdout.once('data', resolve));
      const areas = MemoryAreas.open(child.pid!);
      const executable = fs.realpathSync(process.execPath);
      const code = areas.find((area) => area.path?.endsWith(path.basename(executable)));
      expect(code, `an area of ${executable} in the child`).toBeDefined();
      if (linux) expect(code!.path).toBe(executable);
      expect(MemoryAreas.queryProcess(child.pid!, code!.start)).toEqual(code);
      expect(MemoryAreas.queryProcessRange(child.pid!, code!.start, code!.end)).toEqual([code]);
    } finally {
      child.kill();
    }
  });

  it('throws ESRCH for a process that does not exist', () => {
    // A process that just ended; Wine keeps such pids openable for a while, so
    // there only the pid that can never exist counts.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    for (const pid of process.platform === 'win32' ? [NO_SUCH_PID] : [gone, NO_SUCH_PID]) {
      expect(codeOf(() => MemoryAreas.open(pid))).toBe('ESRCH');
      expect(codeOf(() => MemoryAreas.queryProcess(pid, 0x1000n))).toBe('ESRCH');
    }
  });
});

describe.skipIf(!linux)('the /proc/<pid>/maps parser (Linux only)', () => {
  it('reads every column, a device major above 255 and paths with spaces', () => {
    const areas = parseProcMaps(
      [
        '00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus-daemon',
        '7f3c4a000000-7f3c4a200000 rw-s 1ff000 10f:1a2b3 99 /dev/dax0.0',
        '7f3c4a200000-7f3c4a201000 r--p 00001000 fd:01 12 /tmp/two  spaces, (deleted)',
        '7ffd1c6a3000-7ffd1c6c4000 rw-p 00000000 00:00 0                          [stack]',
        '7ffd1c7a3000-7ffd1c7a4000 ---p 00000000 00:00 0 ',
        '7ffd1c7a4000-7ffd1c7a5000 rw-p 00000000 00:00 0',
        'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
        '',
      ].join('\n'),
    );
    expect(areas.map((area) => [area.path, area.fileOffset, area.protection, area.shareMode])).toEqual([
      ['/usr/bin/dbus-daemon', 0n, Protection.READ | Protection.EXECUTE, 'private'],
      ['/dev/dax0.0', 0x1ff000n, Protection.READ | Protection.WRITE, 'shared'],
      ['/tmp/two  spaces, (deleted)', 0x1000n, Protection.READ, 'private'],
      ['[stack]', null, Protection.READ | Protection.WRITE, 'private'],
      [null, null, 0, 'private'],
      [null, null, Protection.READ | Protection.WRITE, 'private'],
      ['[vsyscall]', null, Protection.EXECUTE, 'private'],
    ]);
    expect(areas[1]).toMatchObject({ start: 0x7f3c4a000000n, end: 0x7f3c4a200000n, allocationBase: 0x7f3c4a000000n });
    expect(areas[6].end).toBe(0xffffffffff601000n);
  });

  it('lists an area once when a read in pieces showed it again (the process changed it between two reads)', () => {
    const areas = parseProcMaps(
      [
        '00400000-00452000 r-xp 00000000 08:02 173521 /bin/x',
        '7f0000000000-7f0000004000 rw-p 00000000 00:00 0',
        // The next read() resumed after a change: the same area, and one inside it.
        '7f0000000000-7f0000004000 rw-p 00000000 00:00 0',
        '7f0000002000-7f0000003000 r--p 00000000 00:00 0',
        '7f0000008000-7f0000009000 rw-p 00000000 00:00 0',
        '',
      ].join('\n'),
    );
    expect(areas.map((area) => area.start)).toEqual([0x400000n, 0x7f0000000000n, 0x7f0000008000n]);
  });

  it('fails on a line it cannot parse instead of ending the list there', () => {
    const good = '00400000-00452000 r-xp 00000000 08:02 173521 /bin/x';
    for (const bad of [
      '00400000-00452000 r-xq 00000000 08:02 173521 /bin/x',
      '00400000 r-xp 00000000 08:02 173521 /bin/x',
      '00452000-00400000 r-xp 00000000 08:02 173521 /bin/x',
      '00400000-00452000 r-xp 00000000 08-02 173521 /bin/x',
      '00400000-00452000 r-xp 00000000 08:02 17z /bin/x',
      '00400000-10000000000000000 r-xp 00000000 08:02 1 /bin/x',
      '',
    ]) {
      let error: unknown;
      try {
        parseProcMaps(`${good}\n${bad}\n${good}\n`);
      } catch (caught) {
        error = caught;
      }
      expect(error, JSON.stringify(bad)).toBeInstanceOf(MmapError);
      expect((error as MmapError).code).toBe('ERR_MMAP_UNPARSABLE_AREA');
      expect((error as MmapError).message).toContain(JSON.stringify(bad));
    }
  });
});
