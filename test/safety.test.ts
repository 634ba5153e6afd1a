// What never bends: no JavaScript reaches freed or re-protected pages through
// our objects, pages are unmapped exactly once, and bad input leaks nothing.
import { constants as bufferConstants } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getSystemErrorName } from 'node:util';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { MemoryAreas, MmapError, MmapFlags, MmapOptions, UnsafeMmapFlags } from '../src';
import { collectUntil, emulator, fdCount, isLinux, isWindows, kernelSeesUs, leavesMapCount, MEM_RESERVE, onlyLinux, permissionsAt, rss, sanitizer, smapsAt, tempFile, underWine, windowsFacts, wineLacks } from './helpers';
import { is32Bit, notIn32Bit } from './helpers';

const P = MmapOptions.pageSize();
const G = MmapOptions.allocationGranularity();

describe('views die with their handle', () => {
  it('unmap() detaches bytes and every view; unmap is idempotent', () => {
    const mapping = new MmapOptions(2 * P).mapMut();
    const bytes = mapping.bytes;
    const window = mapping.view(P, 16);
    const buffer = mapping.buffer;
    bytes[0] = 1;
    expect(mapping.bytes).toBe(bytes);
    const start = mapping.start;
    mapping.unmap();
    expect([bytes.length, window.length, buffer.byteLength]).toEqual([0, 0, 0]);
    expect(bytes[0]).toBeUndefined();
    expect(() => mapping.unmap()).not.toThrow();
    mapping[Symbol.dispose]();
    expect(() => mapping.bytes).toThrow(expect.objectContaining({ code: 'ERR_MMAP_CLOSED' }));
    expect(() => mapping.size).toThrow(expect.objectContaining({ code: 'ERR_MMAP_CLOSED' }));
    if (isLinux || isWindows) expect(permissionsAt(start)).toBeNull();
  });

  it('nothing native is reachable from JavaScript through a handle or a span', () => {
    const mapping = new MmapOptions(P).mapMut();
    const span = mapping.span(0, 16);
    for (const object of [mapping, span] as object[]) {
      const reachable = [...Object.getOwnPropertyNames(object), ...Object.getOwnPropertySymbols(object)].map(
        (key) => (object as Record<PropertyKey, unknown>)[key],
      );
      for (const value of reachable) expect(typeof value === 'object' && value !== null && 'view' in value).toBe(false);
    }
    expect((span as unknown as { mapping?: unknown }).mapping).toBeUndefined();
    // Its protection and page size are out of reach: nothing to change them through.
    expect(Reflect.ownKeys(mapping)).toEqual([]);
    expect('state' in mapping).toBe(false);
    mapping.unmap();
  });

  it('makeX() detaches the old views, and the new handle sees the same bytes', () => {
    const mapping = new MmapOptions(P).mapMut();
    const old = mapping.bytes;
    old[0] = 7;
    const readOnly = mapping.makeReadOnly();
    expect(old.length).toBe(0);
    expect(mapping.closed).toBe(true);
    expect(() => mapping.view(0, 1)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_CLOSED' }));
    expect(readOnly.bytes[0]).toBe(7);
    const none = readOnly.makeNone();
    const roBytes = readOnly;
    expect(roBytes.closed).toBe(true);
    const back = none.makeMut();
    expect(back.bytes[0]).toBe(7);
    back.unmap();
  });

  it('a failed makeX() leaves the handle and its views valid', () => {
    const mapping = new MmapOptions(P).mapMut();
    const bytes = mapping.bytes;
    bytes[0] = 9;
    expect(() => mapping.makeExecMut()).toThrow(expect.objectContaining({ code: 'ERR_MMAP_UNSAFE_FLAG_NEEDED' }));
    expect(mapping.closed).toBe(false);
    expect(bytes[0]).toBe(9);
    mapping.unmap();
  });

  it('split and merge detach the views of the handles involved', () => {
    const left = new MmapOptions(2 * P).mapMut();
    const before = left.bytes;
    const right = left.splitOff(P);
    expect(before.length).toBe(0);
    expect(left.bytes.length).toBe(P);
    const rightBytes = right.bytes;
    const leftBytes = left.bytes;
    left.merge(right);
    expect([leftBytes.length, rightBytes.length]).toEqual([0, 0]);
    expect(left.bytes.length).toBe(2 * P);
    left.unmap();
  });

  it('garbage collection unmaps once handle and views are unreachable', async () => {
    let mapping: ReturnType<MmapOptions['mapMut']> | undefined = new MmapOptions(P).mapMut();
    let view: Uint8Array | undefined = mapping.view(0, 8);
    const start = mapping.start;
    view[0] = 5;
    mapping = undefined;
    // The view alone keeps the pages mapped.
    await collectUntil(() => false, 5);
    expect(MemoryAreas.query(start)).not.toBeNull();
    expect(view[0]).toBe(5);
    view = undefined;
    expect(await collectUntil(() => MemoryAreas.query(start) === null)).toBe(true);
  });

  // Emulated, the 200,000 mappings take about a minute.
  it.skipIf(sanitizer)('dropped mappings do not pile up: 200,000 maps without unmap() keep the resident set bounded (not under ASan, which holds freed memory back and keeps its own books resident)', { timeout: 300_000 }, async () => {
    const before = rss();
    for (let i = 0; i < 200_000; i++) {
      const mapping = new MmapOptions(4096).mapMut();
      mapping.bytes[0] = 1;
      if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
    }
    const grown = rss() - before;
    console.log(`resident set grew by ${(grown / 2 ** 20).toFixed(1)} MiB over 200,000 dropped mappings`);
    expect(grown).toBeLessThan(64 * 2 ** 20);
  });
});

describe('views moved out of our reach', () => {
  // ArrayBuffer.prototype.transfer() moves a view's pages into a buffer we
  // never see (Node 22+; Node 20 behind a V8 flag).
  const transferFlag = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function' ? [] : ['--harmony-rab-gsab-transfer'];

  it('a transferred view keeps the pages mapped past unmap(), and blocks makeX(), split and merge', () => {
    const script = `
      const { MemoryAreas, MmapOptions } = require('memmap');
      const P = MmapOptions.pageSize();
      const mapped = (address) => MemoryAreas.query(address) !== null;
      const handle = new MmapOptions(2 * P).mapMut();
      handle.bytes[0] = 42;
      let moved = handle.buffer.transfer();
      const refused = [() => handle.makeReadOnly(), () => handle.splitOff(P)].map((run) => {
        try { run(); return 'allowed'; } catch (error) { return error.code; }
      });
      const start = handle.start;
      handle.unmap();
      const afterUnmap = new Uint8Array(moved)[0];
      const stillMapped = mapped(start);
      moved = undefined;
      (async () => {
        for (let i = 0; i < 50 && mapped(start); i++) { gc(); await new Promise((r) => setImmediate(r)); }
        console.log(JSON.stringify({ refused, afterUnmap, stillMapped, releasedAfterCollection: !mapped(start) }));
      })();`;
    const out = execFileSync(process.execPath, [...transferFlag, '--expose-gc', '-e', script], {
      cwd: path.join(__dirname, '..'),
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({
      refused: ['ERR_MMAP_VIEW_TRANSFERRED', 'ERR_MMAP_VIEW_TRANSFERRED'],
      afterUnmap: 42,
      stillMapped: true,
      releasedAfterCollection: true,
    });
  });
});

describe('operations that would pull pages from under others', () => {
  it('split and merge wait for a running flushAsync(): ERR_MMAP_BUSY', async () => {
    const f = tempFile(4 * P);
    const mapping = new MmapOptions(4 * P).withFile(f.fd).withFlags(MmapFlags.SHARED).mapMut();
    mapping.bytes.fill(1);
    const pending = mapping.flushAsync();
    expect(() => mapping.splitOff(P)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_BUSY' }));
    await pending;
    const rest = mapping.splitOff(2 * P);
    const flushing = rest.flushAsync();
    expect(() => mapping.merge(rest)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_BUSY' }));
    await flushing;
    mapping.merge(rest);
    expect(mapping.size).toBe(4 * P);
    mapping.unmap();
    f.close();
  });

  it('MAP_FIXED over pages a live handle owns is refused', () => {
    const owner = new MmapOptions(2 * G).mapMut();
    owner.bytes[G] = 5;
    expect(() =>
      new MmapOptions(G).withAddress(owner.start + BigInt(G)).withUnsafeFlags(UnsafeMmapFlags.MAP_FIXED).mapMut(),
    ).toThrow(expect.objectContaining({ code: 'ERR_MMAP_INVALID_ADDRESS' }));
    expect(owner.bytes[G]).toBe(5);
    owner.unmap();
  });
});

describe('sizes past the ArrayBuffer limit', () => {
  it.skipIf(is32Bit)(`a 5 GiB sparse file maps whole, and view() reaches its last bytes${is32Bit ? ` (skipped: ${notIn32Bit})` : ''}`, () => {
    const size = 5 * 2 ** 30;
    const file = tempFile(size);
    fs.writeSync(file.fd, Buffer.from([0xab, 0xcd]), 0, 2, size - 2);
    const mapping = new MmapOptions(size).withFile(file.fd).withFlags(MmapFlags.SHARED).mapMut();
    expect(mapping.size).toBe(size);
    if (size > bufferConstants.MAX_LENGTH) {
      expect(() => mapping.bytes).toThrow(expect.objectContaining({ code: 'ERR_MMAP_VIEW_TOO_LARGE' }));
    }
    const tail = mapping.view(size - 2, 2);
    expect([tail[0], tail[1]]).toEqual([0xab, 0xcd]);
    mapping.view(size - 4096, 4096)[0] = 0x11;
    mapping.flush(size - 4096, 4096);
    const readBack = Buffer.alloc(1);
    fs.readSync(file.fd, readBack, 0, 1, size - 4096);
    expect(readBack[0]).toBe(0x11);
    mapping.unmap();
    file.close();
  });

  const reservationAccounting = isWindows ? `Windows: VirtualQuery, the working set and the commit charge${underWine ? `; the process-wide counters not under Wine: ${wineLacks.commitCharge}, and its own 16 MiB of bookkeeping per 64 GiB reservation is in the working set` : ''}` : onlyLinux;
  it.skipIf((!isLinux && !isWindows) || is32Bit)(`a 64 GiB reserveMut() takes address space only (${is32Bit ? `skipped: ${notIn32Bit}` : reservationAccounting})`, () => {
    if (isWindows) {
      const facts = windowsFacts();
      const before = facts.counters();
      const reserved = new MmapOptions(64 * 2 ** 30).reserveMut();
      expect(reserved.size).toBe(64 * 2 ** 30);
      // Reserved, not committed: no page charged or resident, none listed.
      const region = facts.region(reserved.start);
      expect(region).toMatchObject({ base: reserved.start, state: MEM_RESERVE, size: 64 * 2 ** 30 });
      expect(facts.pages(reserved.start, 256).valid).not.toContain(1);
      expect(MemoryAreas.query(reserved.start)).toBeNull();
      if (!underWine) {
        const after = facts.counters();
        expect(after.privateUsage - before.privateUsage).toBeLessThan(4 * 2 ** 20);
        expect(after.workingSet - before.workingSet).toBeLessThan(4 * 2 ** 20);
      }
      reserved.unmap();
      return;
    }
    const before = rss();
    const reserved = new MmapOptions(64 * 2 ** 30).reserveMut();
    expect(reserved.size).toBe(64 * 2 ** 30);
    const smaps = smapsAt(reserved.start)!;
    expect(smaps.fields.Rss).toBe(0);
    expect(smaps.vmFlags).toContain('nr');
    expect(rss() - before).toBeLessThan(4 * 2 ** 20);
    reserved.unmap();
  });
});

describe('bad input', () => {
  const file = () => tempFile(4 * G);
  type Case = [string, () => unknown, string];
  const cases = (fd: number): Case[] => [
    ['size 0', () => new MmapOptions(0), 'ERR_MMAP_INVALID_SIZE'],
    ['negative size', () => new MmapOptions(-4096), 'ERR_MMAP_INVALID_SIZE'],
    ['fractional size', () => new MmapOptions(4096.5), 'ERR_MMAP_INVALID_SIZE'],
    ['NaN size', () => new MmapOptions(NaN), 'ERR_MMAP_INVALID_SIZE'],
    ['string size', () => new MmapOptions('4096' as unknown as number), 'ERR_MMAP_INVALID_SIZE'],
    ['unsafe size', () => new MmapOptions(2 ** 53), 'ERR_MMAP_INVALID_SIZE'],
    ['unaligned file offset', () => new MmapOptions(G).withFile(fd, 1).map(), 'ERR_MMAP_INVALID_OFFSET'],
    ['negative file offset', () => new MmapOptions(G).withFile(fd, -G).map(), 'ERR_MMAP_INVALID_OFFSET'],
    ['range past end of file', () => new MmapOptions(5 * G).withFile(fd).map(), 'ERR_MMAP_BEYOND_EOF'],
    ['offset past end of file', () => new MmapOptions(G).withFile(fd, 4 * G).map(), 'ERR_MMAP_BEYOND_EOF'],
    ['closed descriptor', () => new MmapOptions(G).withFile(1_000_000).map(), 'EBADF'],
    ['not a descriptor', () => new MmapOptions(G).withFile('x' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
    ['RWX without JIT', () => new MmapOptions(P).mapExecMut(), 'ERR_MMAP_UNSAFE_FLAG_NEEDED'],
    ['RWX reserve without JIT', () => new MmapOptions(P).reserveExecMut(), 'ERR_MMAP_UNSAFE_FLAG_NEEDED'],
    ['unknown flag bits', () => new MmapOptions(P).withFlags((1 << 20) as MmapFlags), 'ERR_INVALID_ARG_VALUE'],
    ['flags wider than 32 bits', () => new MmapOptions(P).withFlags((2 ** 32 + 1) as MmapFlags), 'ERR_INVALID_ARG_VALUE'],
    ['unknown unsafe flag bits', () => new MmapOptions(P).withUnsafeFlags(4 as UnsafeMmapFlags), 'ERR_INVALID_ARG_VALUE'],
    ['unaligned address', () => new MmapOptions(P).withAddress(0x1001n), 'ERR_MMAP_INVALID_OFFSET'],
    ['number address', () => new MmapOptions(P).withAddress(4096 as unknown as bigint), 'ERR_MMAP_INVALID_ADDRESS'],
    ['MAP_FIXED without address', () => new MmapOptions(P).withUnsafeFlags(UnsafeMmapFlags.MAP_FIXED).mapMut(), 'ERR_MMAP_MISSING_ADDRESS'],
    ['not a page size', () => new MmapOptions(P).withPageSize(12345), 'ERR_MMAP_INVALID_SIZE'],
    ['bad alignment', () => new MmapOptions(P).withAlignment(3 * P), 'ERR_MMAP_INVALID_ALIGNMENT'],
    ['address and alignment', () => new MmapOptions(P).withAddress(BigInt(16 * G)).withAlignment(G).mapMut(), 'ERR_INVALID_ARG_VALUE'],
    ['HUGE_PAGES with the base page size', () => new MmapOptions(P).withFlags(MmapFlags.HUGE_PAGES).withPageSize(P).mapMut(), 'ERR_MMAP_INVALID_SIZE'],
    ['writable file map of a read-only descriptor', () => {
      const readOnly = fs.openSync(__filename, 'r');
      try {
        return new MmapOptions(P).withFile(readOnly).withFlags(MmapFlags.SHARED).mapMut();
      } finally {
        fs.closeSync(readOnly);
      }
    }, 'EACCES'],
  ];

  it('each bad input throws MmapError with its code, leaving no mapping and no descriptor behind', async () => {
    const f = file();
    const fds = isLinux ? fdCount() : 0;
    const runAll = () => {
      for (const [name, run, code] of cases(f.fd)) {
        let error: unknown;
        try {
          run();
        } catch (caught) {
          error = caught;
        }
        expect(error, name).toBeInstanceOf(MmapError);
        expect((error as MmapError).code, `${name}: ${(error as Error).message}`).toBe(code);
      }
    };
    if (kernelSeesUs || isWindows) {
      expect(await leavesMapCount(runAll)).toBe(true);
    } else {
      if (emulator === 'qemu-user') console.log('map count not compared: qemu-user maps and unmaps as it translates code');
      runAll();
    }
    if (isLinux) {
      // Whatever else moves, no area may map the files the bad inputs named.
      const mapped = fs.readFileSync('/proc/self/maps', 'utf8');
      expect(mapped).not.toContain(f.path);
      expect(mapped).not.toContain(__filename);
      expect(fdCount()).toBe(fds);
    }
    f.close();
  });

  it('withFile takes a FileHandle as well as a descriptor; a closed one is EBADF', async () => {
    const f = tempFile(P, [0x33]);
    const handle = await fs.promises.open(f.path, 'r');
    const mapping = new MmapOptions(P).withFile(handle).map();
    expect(mapping.bytes[0]).toBe(0x33);
    mapping.unmap();
    await handle.close();
    expect(() => new MmapOptions(P).withFile(handle).map()).toThrow(expect.objectContaining({ code: 'EBADF' }));
    f.close();
  });

  it('system-call failures carry errno and syscall, as Node fs errors do', () => {
    try {
      new MmapOptions(G).withFile(1_000_000).map();
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'EBADF', syscall: 'fstat' });
      expect(getSystemErrorName((error as MmapError).errno!)).toBe('EBADF');
    }
  });

  it('ranges are bounds- and overflow-checked', () => {
    const mapping = new MmapOptions(2 * P).mapMut();
    const outOfBounds = expect.objectContaining({ code: 'ERR_MMAP_OUT_OF_BOUNDS' });
    expect(() => mapping.view(2 * P, 1)).toThrow(outOfBounds);
    expect(() => mapping.view(1, 2 * P)).toThrow(outOfBounds);
    expect(() => mapping.view(-1, 1)).toThrow(outOfBounds);
    expect(() => mapping.view(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)).toThrow(outOfBounds);
    expect(() => mapping.flush(0, 2 * P + 1)).toThrow(outOfBounds);
    expect(() => mapping.lock(P, P + 1)).toThrow(outOfBounds);
    expect(() => mapping.view(0.5, 1)).toThrow(outOfBounds);
    expect(mapping.view(2 * P, 0).length).toBe(0);
    mapping.unmap();
  });
});

describe('durability', () => {
  it('flushAsync() resolves once the range is durable, even if the handle is unmapped meanwhile', async () => {
    const f = tempFile(P);
    const mapping = new MmapOptions(P).withFile(f.fd).withFlags(MmapFlags.SHARED).mapMut();
    mapping.bytes[0] = 0x5a;
    const pending = mapping.flushAsync();
    mapping.unmap();
    await expect(pending).resolves.toBeUndefined();
    expect(fs.readFileSync(f.path)[0]).toBe(0x5a);
    await expect(mapping.flushAsync()).rejects.toMatchObject({ code: 'ERR_MMAP_CLOSED' });
    f.close();
  });
});

describe('threads', () => {
  it.skipIf(sanitizer)("a worker maps, writes and exits, and its exit releases the worker's mappings (not under ASan, whose own allocations may take the freed range at once)", async () => {
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const { MmapOptions } = require(workerData);
       const mapping = new MmapOptions(65536).mapMut();
       mapping.bytes[100] = 42;
       parentPort.postMessage({ start: mapping.start, value: mapping.bytes[100] });`,
      { eval: true, workerData: require.resolve('..') },
    );
    const message = await new Promise<{ start: bigint; value: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(message.value).toBe(42);
    await new Promise((resolve) => worker.once('exit', resolve));
    if (isLinux || isWindows) expect(permissionsAt(message.start)).toBeNull();
  });
});
