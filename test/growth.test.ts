// Files that grow and memory that wraps: whole-file maps, remap(),
// residency(), and double-mapped rings.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MmapError, MmapFlags, MmapMut, MmapOptions, MmapRing, SharedMemory, UnsafeMmapFlags } from '../src';
import { codeOf, emulator, isLinux, isWindows, tempFile, underQemu, underQemu32 } from './helpers';

const P = MmapOptions.pageSize();
const G = MmapOptions.allocationGranularity();

const skipped = (skip: boolean, reason: string) => (skip ? ` (skipped: ${reason})` : '');
// Seen under qemu-arm: after a move, V8's heap above the old address faulted
// (QEMU_STRACE: mremap(MAYMOVE) returned, then SIGSEGV outside any memmap range).
const noMoveQemu32 =
  "qemu-user 7.2's mremap(MREMAP_MAYMOVE) for a 32-bit guest damages guest mappings after the old address";

describe('whole files', () => {
  it('without a size, a mapping reaches the end of the file as it is when mapping', () => {
    const file = tempFile(3 * G + 5, [1, 2, 3]);
    try {
      const whole = new MmapOptions().withFile(file.fd).map();
      expect(whole.size).toBe(3 * G + 5);
      expect(Array.from(whole.bytes.subarray(0, 3))).toEqual([1, 2, 3]);
      const rest = new MmapOptions().withFile(file.fd, G).map();
      expect(rest.size).toBe(2 * G + 5);
      whole.unmap();
      rest.unmap();
    } finally {
      file.close();
    }
  });

  it('an empty file, or an offset at its end, maps as an empty handle on which everything works on nothing', () => {
    const empty = tempFile(0);
    const full = tempFile(G);
    try {
      for (const handle of [new MmapOptions().withFile(empty.fd).mapMut(), new MmapOptions().withFile(full.fd, G).map()]) {
        expect(handle.size).toBe(0);
        expect(handle.bytes.length).toBe(0);
        expect(handle.view(0, 0).length).toBe(0);
        expect(handle.residency()).toEqual({ pages: 0, resident: 0, bitmap: new Uint8Array(0) });
        handle.flush();
        handle.lock();
        handle.unlock();
        handle.advise('normal');
        expect(handle.read(0, 0).length).toBe(0);
        expect(codeOf(() => handle.getUint8(0))).toBe('ERR_MMAP_OUT_OF_BOUNDS');
        expect(codeOf(() => handle.splitOff(P))).toBe('ERR_MMAP_INVALID_OFFSET');
        expect(codeOf(() => handle.remap(P))).toBe('ERR_MMAP_UNSUPPORTED');
        const copy = MmapOptions.fromShared(handle.share());
        expect(copy.size).toBe(0);
        copy.unmap();
        const readOnly = handle.makeReadOnly();
        expect(readOnly.bytes.length).toBe(0);
        readOnly.unmap();
        readOnly.unmap();
      }
    } finally {
      empty.close();
      full.close();
    }
  });

  it('bad input: no size and no file, an offset past the end, and what an empty file cannot be', () => {
    const empty = tempFile(0);
    try {
      expect(codeOf(() => new MmapOptions().mapMut())).toBe('ERR_MMAP_INVALID_SIZE');
      expect(codeOf(() => new MmapOptions().mapRing())).toBe('ERR_MMAP_INVALID_SIZE');
      expect(codeOf(() => new MmapOptions().withFile(empty.fd, G).map())).toBe('ERR_MMAP_BEYOND_EOF');
      let message = '';
      try {
        new MmapOptions().withFile(empty.fd).reserve();
      } catch (error) {
        expect((error as MmapError).code).toBe('ERR_MMAP_INVALID_SIZE');
        message = (error as MmapError).message;
      }
      expect(message).toMatch(/the file is empty/);
      expect(codeOf(() => new MmapOptions(0))).toBe('ERR_MMAP_INVALID_SIZE');
    } finally {
      empty.close();
    }
  });

  it('withSharedMemory() without a size maps the whole object', () => {
    using shm = SharedMemory.create(2 * G);
    const whole = new MmapOptions().withSharedMemory(shm).mapMut();
    expect(whole.size).toBe(2 * G);
    const tail = new MmapOptions().withSharedMemory(shm, G).mapMut();
    expect(tail.size).toBe(G);
    whole.unmap();
    tail.unmap();
  });
});

describe('remap()', () => {
  /** An anonymous mapping with free address space after it (its own tail, unmapped). */
  function withRoomAfter(size: number, room: number): MmapMut {
    const mapping = new MmapOptions(size + room).mapMut();
    mapping.splitOff(size).unmap();
    return mapping;
  }

  // On Windows the room is the mapping's own allocation, which its split-off tail gave up.
  const noInPlace =
    'qemu-user 7.2 refuses to grow a 32-bit guest\'s mapping in place (mremap without MREMAP_MAYMOVE: ENOMEM), as it manages that address space itself';
  it.skipIf(underQemu32)(`grows in place where the address space after it is free, keeping its start and its bytes${skipped(underQemu32, noInPlace)}`, () => {
    const mapping = withRoomAfter(G, 3 * G);
    const start = mapping.start;
    mapping.bytes[G - 1] = 7;
    const old = mapping.bytes;
    mapping.remap(3 * G);
    expect(old.length).toBe(0); // views are detached
    expect(mapping.start).toBe(start);
    expect(mapping.size).toBe(3 * G);
    expect(mapping.bytes[G - 1]).toBe(7);
    mapping.bytes[3 * G - 1] = 8;
    mapping.unmap();
  });

  // Sizes are bytes, pages go whole: Windows decommits every page a range
  // touches, so shrinking into a page must keep that page (it once took the
  // page holding the new last byte, and reading it crashed the process).
  it.skipIf(underQemu32)(`a size inside a page keeps that page: shrinking into it and growing back keep the bytes${skipped(underQemu32, noMoveQemu32)}`, () => {
    const mapping = new MmapOptions(3 * P).mapMut();
    mapping.bytes[P + 100] = 9;
    mapping.bytes[2 * P + 5] = 8;
    mapping.remap(P + 200);
    expect(mapping.size).toBe(P + 200);
    expect(mapping.bytes[P + 100]).toBe(9);
    mapping.remap(P + 150);
    expect(mapping.bytes.length).toBe(P + 150);
    expect(mapping.bytes[P + 100]).toBe(9);
    mapping.remap(3 * P, { mayMove: true });
    expect(mapping.bytes[P + 100]).toBe(9);
    mapping.bytes[3 * P - 1] = 7;
    mapping.remap(P - 1);
    expect(mapping.size).toBe(P - 1);
    mapping.bytes[P - 2] = 6;
    expect(mapping.bytes[P - 2]).toBe(6);
    mapping.unmap();
  });

  it('a file mapping shrunk into a page keeps that page too, and writes through it reach the file', () => {
    const file = tempFile(3 * P);
    try {
      const mapping = new MmapOptions(3 * P).withFile(file.fd).withFlags(MmapFlags.SHARED).mapMut();
      mapping.remap(P + 200);
      mapping.bytes[P + 100] = 9;
      mapping.remap(P + 150);
      expect(mapping.bytes[P + 100]).toBe(9);
      mapping.flush(0, P + 150);
      mapping.unmap();
      const back = Buffer.alloc(1);
      fs.readSync(file.fd, back, 0, 1, P + 100);
      expect(back[0]).toBe(9);
    } finally {
      file.close();
    }
  });

  it.skipIf(underQemu32)(`a file mapping shrunk below one page grows back with its protection${skipped(underQemu32, noMoveQemu32)}`, () => {
    const file = tempFile(3 * P);
    try {
      const mapping = new MmapOptions(3 * P).withFile(file.fd).withFlags(MmapFlags.SHARED).mapMut();
      mapping.remap(100);
      mapping.bytes[50] = 4;
      // On Windows in place, over the pages of its own view that it gave up
      // (elsewhere a thread may have mapped something there meanwhile).
      mapping.remap(3 * P, { mayMove: !isWindows });
      mapping.bytes[2 * P + 1] = 3;
      expect([mapping.bytes[50], mapping.bytes[2 * P + 1]]).toEqual([4, 3]);
      mapping.unmap();
    } finally {
      file.close();
    }
  });

  it('without room and without mayMove: ERR_MMAP_CANNOT_GROW_IN_PLACE, and the handle stays as it was', () => {
    const mapping = new MmapOptions(2 * G).mapMut();
    const blocker = new MmapOptions(G).withAddress(mapping.end).mapNone();
    if (blocker.start !== mapping.end) {
      // The OS put it elsewhere: make the tail of the mapping the blocker.
      blocker.unmap();
      const tail = mapping.splitOff(G);
      expect(codeOf(() => mapping.remap(2 * G))).toBe('ERR_MMAP_CANNOT_GROW_IN_PLACE');
      tail.unmap();
    } else {
      mapping.bytes[0] = 3;
      expect(codeOf(() => mapping.remap(3 * G))).toBe('ERR_MMAP_CANNOT_GROW_IN_PLACE');
      blocker.unmap();
    }
    expect(mapping.bytes[0]).toBe(mapping.size === G ? 0 : 3);
    mapping.unmap();
  });

  it.skipIf(underQemu32)(`moves with mayMove, keeping the bytes; shrinks in place${skipped(underQemu32, noMoveQemu32)}`, () => {
    const mapping = new MmapOptions(2 * G).mapMut();
    mapping.fill(5);
    const blocker = new MmapOptions(G).withAddress(mapping.end).mapNone();
    mapping.remap(64 * G, { mayMove: true });
    expect(mapping.size).toBe(64 * G);
    expect(mapping.bytes.subarray(0, 2 * G).every((byte) => byte === 5)).toBe(true);
    expect(mapping.bytes[64 * G - 1]).toBe(0);
    const start = mapping.start;
    mapping.remap(G);
    expect(mapping.start).toBe(start);
    expect(mapping.size).toBe(G);
    expect(mapping.bytes[0]).toBe(5);
    mapping.unmap();
    blocker.unmap();
  });

  it.skipIf(underQemu32)(`a piece of a split mapping shrinks and grows back in place over what it gave up, never over the next piece${skipped(underQemu32, noInPlace)}`, () => {
    const low = new MmapOptions(4 * G).mapMut();
    const high = low.splitOff(2 * G);
    const [lowStart, highStart] = [low.start, high.start];
    low.bytes.set([1, 2], G - 1); // the last byte it keeps, the first it gives up
    high.bytes[0] = 9;
    high.bytes[G] = 10;
    low.remap(G);
    expect([low.start, low.size, low.bytes[G - 1]]).toEqual([lowStart, G, 1]);
    low.remap(2 * G);
    expect([low.start, low.size]).toEqual([lowStart, 2 * G]);
    // Pages given up and taken back are new, zero-filled, as mremap makes them.
    expect([low.bytes[G - 1], low.bytes[G]]).toEqual([1, 0]);
    expect(codeOf(() => low.remap(3 * G))).toBe('ERR_MMAP_CANNOT_GROW_IN_PLACE');
    expect(low.size).toBe(2 * G);
    // The split-off piece does the same at its own end.
    high.remap(G);
    high.remap(2 * G);
    expect([high.start, high.bytes[0], high.bytes[G]]).toEqual([highStart, 9, 0]);
    low.bytes[2 * G - 1] = 3;
    expect(high.bytes[0]).toBe(9);
    // Still two pieces of one mapping: they merge again.
    low.merge(high);
    expect([low.size, low.bytes[2 * G - 1], low.bytes[2 * G]]).toEqual([4 * G, 3, 9]);
    low.unmap();
  });

  it.skipIf(underQemu32)(`a piece of a split mapping moves with mayMove, keeping its bytes and leaving the other piece as it was; moved, it is a piece like any other${skipped(underQemu32, noMoveQemu32)}`, () => {
    const low = new MmapOptions(4 * G).mapMut();
    const high = low.splitOff(2 * G);
    const [lowStart, highStart] = [low.start, high.start];
    low.bytes.set([1, 2], 2 * G - 2);
    low.bytes[0] = 3;
    high.bytes.set([9, 8], 0);
    // The other piece is in the way: it moves.
    low.remap(5 * G, { mayMove: true });
    expect(low.start).not.toBe(lowStart);
    expect(low.size).toBe(5 * G);
    expect([low.bytes[0], low.bytes[2 * G - 2], low.bytes[2 * G - 1], low.bytes[5 * G - 1]]).toEqual([3, 1, 2, 0]);
    expect([high.start, high.bytes[0], high.bytes[1]]).toEqual([highStart, 9, 8]);
    // Split again, shrunk, moved again; the other pieces keep their bytes.
    const tail = low.splitOff(G);
    tail.remap(G);
    expect(tail.bytes[G - 2]).toBe(1);
    tail.remap(8 * G, { mayMove: true });
    expect([tail.bytes[G - 2], tail.bytes[G - 1], tail.bytes[8 * G - 1]]).toEqual([1, 2, 0]);
    expect(low.bytes[0]).toBe(3);
    high.remap(3 * G, { mayMove: true });
    expect([high.bytes[0], high.bytes[1], high.bytes[3 * G - 1]]).toEqual([9, 8, 0]);
    // Mapped apart now: nothing to merge.
    expect(codeOf(() => low.merge(tail))).toBe('ERR_MMAP_MUST_BE_ADJACENT');
    for (const piece of [low, tail, high]) piece.unmap();
  });

  describe('MAP_FIXED over the middle piece of a mapping split in three, after it was unmapped', () => {
    /** [low, middle's address, high] of a mapping of 3 * G split in three, whose middle piece is unmapped. */
    function splitInThree(): [MmapMut, bigint, MmapMut] {
      const low = new MmapOptions(3 * G).mapMut();
      const high = low.splitOff(2 * G);
      const middle = low.splitOff(G);
      const at = middle.start;
      middle.unmap();
      low.bytes[0] = 1;
      high.bytes[0] = 3;
      return [low, at, high];
    }
    const fixedAt = (at: bigint) =>
      new MmapOptions(G).withAddress(at).withUnsafeFlags(UnsafeMmapFlags.MAP_FIXED).mapMut();

    it('the new handle outlives the outer pieces', () => {
      const [low, at, high] = splitInThree();
      const fixed = fixedAt(at);
      expect([fixed.start, fixed.bytes[0]]).toEqual([at, 0]);
      fixed.bytes[0] = 2;
      fixed.bytes[G - 1] = 4;
      low.unmap();
      high.unmap();
      expect([fixed.bytes[0], fixed.bytes[G - 1]]).toEqual([2, 4]);
      fixed.bytes[1] = 5;
      expect(fixed.bytes[1]).toBe(5);
      fixed.unmap();
    });

    it.skipIf(underQemu32)(`and a piece that moves, grows or goes around it, in any order${skipped(underQemu32, noMoveQemu32)}`, () => {
      const [low, at, high] = splitInThree();
      const fixed = fixedAt(at);
      fixed.bytes[0] = 2;
      // The low piece moves out (fixed is in its way), then the high one goes.
      low.remap(2 * G, { mayMove: true });
      high.unmap();
      expect([low.bytes[0], fixed.bytes[0]]).toEqual([1, 2]);
      fixed.bytes[1] = 5;
      // The fixed handle moves itself, alone in what is left.
      fixed.remap(3 * G, { mayMove: true });
      expect([fixed.size, fixed.bytes[0], fixed.bytes[1], fixed.bytes[3 * G - 1]]).toEqual([3 * G, 2, 5, 0]);
      fixed.bytes[3 * G - 1] = 6;
      low.bytes[2 * G - 1] = 7;
      fixed.unmap();
      expect([low.bytes[0], low.bytes[2 * G - 1]]).toEqual([1, 7]);
      low.unmap();

      // Given up again, the range is the mapping's to grow over.
      const [low2, at2, high2] = splitInThree();
      const fixed2 = fixedAt(at2);
      fixed2.bytes[0] = 8;
      high2.unmap();
      fixed2.unmap();
      if (!underQemu32) {
        low2.remap(3 * G);
        expect([low2.bytes[0], low2.bytes[G], low2.bytes[3 * G - 1]]).toEqual([1, 0, 0]);
      }
      low2.unmap();
    });

    it.skipIf(!isWindows)(`on Windows, a file view's given-up piece adopted by mapFromExisting() outlives the outer pieces too${skipped(!isWindows, 'elsewhere an unmapped piece is not mapped, and mapFromExisting() refuses it')}`, () => {
      const file = tempFile(3 * G, [1]);
      fs.writeSync(file.fd, Buffer.from([2]), 0, 1, G);
      try {
        const low = new MmapOptions(3 * G).withFile(file.fd).withFlags(MmapFlags.SHARED).mapMut();
        const high = low.splitOff(2 * G);
        const middle = low.splitOff(G);
        const at = middle.start;
        middle.unmap();
        // Given-up pages of a view are mapped, inaccessible: made writable again.
        const adopted = new MmapOptions(G).withAddress(at).mapFromExisting().makeMut();
        expect(adopted.bytes[0]).toBe(2);
        low.unmap();
        high.unmap();
        adopted.bytes[1] = 3;
        expect([adopted.bytes[0], adopted.bytes[1]]).toEqual([2, 3]);
        adopted.flush();
        adopted.unmap();
        const check = Buffer.alloc(2);
        fs.readSync(file.fd, check, 0, 2, G);
        expect(Array.from(check)).toEqual([2, 3]);
      } finally {
        file.close();
      }
    });
  });

  it.skipIf(underQemu32)(`a moved piece that left by intoRaw(), adopted again, is unmapped whole: its range is free afterwards${skipped(underQemu32, noMoveQemu32)}`, () => {
    for (const adoptFirst of [false, true]) {
      const low = new MmapOptions(2 * G).mapMut();
      const high = low.splitOff(G);
      low.bytes[0] = 4;
      // high is in the way: low moves (on Windows into a reservation of its own).
      low.remap(3 * G, { mayMove: true });
      const raw = low.intoRaw();
      if (!adoptFirst) high.unmap();
      const adopted = new MmapOptions(raw.size).withAddress(raw.address).mapFromExisting();
      if (adoptFirst) high.unmap();
      expect(adopted.bytes[0]).toBe(4);
      adopted.unmap();
      // A hint there is honoured: nothing of the old mapping is left in the way
      // (on Windows, nor of the reservation it moved into: a page of guard at
      // each end, and a new mapping starts at a multiple of the granularity).
      const [hint, size] = isWindows ? [raw.address - BigInt(P), raw.size + 2 * P] : [raw.address, raw.size];
      const again = new MmapOptions(size).withAddress(hint).mapMut();
      expect(again.start).toBe(hint);
      again.unmap();
    }
  });

  it.skipIf(!isWindows)(`on Windows, a mapping placed with MAP_FIXED on the page of guard before a moved piece outlives that piece${skipped(!isWindows, "only Windows moves a piece into a reservation of its own, with a page of guard at each end")}`, () => {
    const low = new MmapOptions(2 * G).mapMut();
    const high = low.splitOff(G);
    // high is in the way: low moves into a reservation of its own.
    low.remap(2 * G, { mayMove: true });
    const guard = low.start - BigInt(P);
    const tenant = new MmapOptions(P).withAddress(guard).withUnsafeFlags(UnsafeMmapFlags.MAP_FIXED).mapMut();
    tenant.bytes[0] = 5;
    // The reservation goes with low's last byte, but not while the tenant holds its page.
    low.unmap();
    expect(tenant.bytes[0]).toBe(5);
    tenant.unmap();
    high.unmap();
    // Once both are gone, so is the reservation: a hint there is honoured.
    const again = new MmapOptions(G).withAddress(guard).mapMut();
    expect(again.start).toBe(guard);
    again.unmap();
  });

  it.skipIf(underQemu32)(`pieces of a reservation move too, committed with their bytes or still reserved; a piece grows over the range another moved out of${skipped(underQemu32, noMoveQemu32)}`, () => {
    const low = new MmapOptions(4 * G).reserve().makeMut();
    const lowStart = low.start;
    const high = low.splitOff(2 * G);
    const middle = low.splitOff(G).commit(); // [G, 2G)
    middle.bytes[0] = 6;
    // high, at [2G, 4G), is in the way.
    middle.remap(3 * G, { mayMove: true });
    expect([middle.size, middle.bytes[0], middle.bytes[3 * G - 1]]).toEqual([3 * G, 6, 0]);
    if (!underQemu32) {
      low.remap(2 * G); // over [G, 2G), which middle left
      expect(low.start).toBe(lowStart);
    }
    low.remap(3 * G, { mayMove: true });
    const committed = low.commit();
    expect([committed.size, committed.bytes[0], committed.bytes[3 * G - 1]]).toEqual([3 * G, 0, 0]);
    for (const piece of [committed, middle, high]) piece.unmap();
  });

  it.skipIf(underQemu32)(`a piece of a split file mapping shrinks and grows back over the file's bytes; with mayMove it ${isWindows ? 'is refused on Windows (ERR_MMAP_UNSUPPORTED)' : 'moves'}${skipped(underQemu32, noMoveQemu32)}`, () => {
    const file = tempFile(4 * G, [7]);
    try {
      const low = new MmapOptions(4 * G).withFile(file.fd).withFlags(MmapFlags.SHARED).mapMut();
      const high = low.splitOff(2 * G);
      low.bytes[G] = 4; // in the file
      high.bytes[0] = 9;
      low.remap(G);
      if (!underQemu32) {
        low.remap(2 * G);
        expect([low.bytes[0], low.bytes[G]]).toEqual([7, 4]);
        expect(codeOf(() => low.remap(3 * G))).toBe('ERR_MMAP_CANNOT_GROW_IN_PLACE');
      }
      const size = low.size;
      if (isWindows) {
        // A new view of the file for one piece of the old one: see native/os/windows.cc, remap.
        expect(codeOf(() => low.remap(3 * G, { mayMove: true }))).toBe('ERR_MMAP_UNSUPPORTED');
        expect([low.size, low.bytes[0]]).toEqual([size, 7]);
      } else {
        low.remap(3 * G, { mayMove: true });
        expect([low.bytes[0], low.bytes[G], low.bytes[2 * G]]).toEqual([7, 4, 9]);
      }
      expect(high.bytes[0]).toBe(9);
      low.unmap();
      high.unmap();
    } finally {
      file.close();
    }
  });

  it.skipIf(underQemu32)(`a private file mapping that shrinks and grows again reads the file there, not what it wrote${skipped(underQemu32, noMoveQemu32)}`, () => {
    const file = tempFile(2 * G, [7]);
    try {
      const mapping = new MmapOptions(2 * G).withFile(file.fd).mapMut();
      mapping.bytes[G] = 5; // a private copy of the page
      mapping.remap(G);
      mapping.remap(2 * G, { mayMove: true });
      expect([mapping.bytes[0], mapping.bytes[G]]).toEqual([7, 0]);
      mapping.unmap();
    } finally {
      file.close();
    }
  });

  it.skipIf(underQemu32)(`a read-only private file mapping shrinks and grows back in place, and so does a piece of a split one; once writable, on Windows it does not${skipped(underQemu32, noInPlace)}`, () => {
    const file = tempFile(4 * G, [7]);
    fs.writeSync(file.fd, Buffer.from([5]), 0, 1, G);
    fs.writeSync(file.fd, Buffer.from([6]), 0, 1, 3 * G);
    try {
      const mapping = new MmapOptions(2 * G).withFile(file.fd).map();
      const start = mapping.start;
      mapping.remap(G);
      mapping.remap(2 * G);
      expect([mapping.start, mapping.size, mapping.bytes[0], mapping.bytes[G]]).toEqual([start, 2 * G, 7, 5]);
      mapping.unmap();

      const low = new MmapOptions(4 * G).withFile(file.fd).map();
      const high = low.splitOff(2 * G);
      const [lowStart, highStart] = [low.start, high.start];
      low.remap(G);
      low.remap(2 * G);
      expect([low.start, low.bytes[0], low.bytes[G]]).toEqual([lowStart, 7, 5]);
      expect(codeOf(() => low.remap(3 * G))).toBe('ERR_MMAP_CANNOT_GROW_IN_PLACE');
      high.remap(G);
      high.remap(2 * G);
      expect([high.start, high.bytes[0], high.bytes[G]]).toEqual([highStart, 0, 6]);
      low.unmap();
      high.unmap();

      // Made writable once (and read-only again): its given-up pages may hold
      // its own copies, which Windows would show where the file's bytes are due.
      const once = new MmapOptions(2 * G).withFile(file.fd).map().makeMut().makeReadOnly();
      const onceStart = once.start;
      once.remap(G);
      if (isWindows) {
        expect(codeOf(() => once.remap(2 * G))).toBe('ERR_MMAP_CANNOT_GROW_IN_PLACE');
        once.remap(2 * G, { mayMove: true });
      } else {
        once.remap(2 * G);
        expect(once.start).toBe(onceStart);
      }
      expect([once.size, once.bytes[0], once.bytes[G]]).toEqual([2 * G, 7, 5]);
      once.unmap();
    } finally {
      file.close();
    }
  });

  it.skipIf(underQemu32)(`a file mapping grows only over bytes the file has; a closed descriptor needs { file }, of the same file${skipped(underQemu32, noMoveQemu32)}`, () => {
    const file = tempFile(G, [9]);
    const other = tempFile(8 * G);
    const mine = fs.openSync(file.path, 'r+');
    try {
      const mapping = new MmapOptions(G).withFile(mine).withFlags(MmapFlags.SHARED).mapMut();
      expect(codeOf(() => mapping.remap(2 * G, { mayMove: true }))).toBe('ERR_MMAP_BEYOND_EOF');
      expect(mapping.bytes[0]).toBe(9);
      fs.ftruncateSync(file.fd, 2 * G);
      mapping.remap(2 * G, { mayMove: true });
      mapping.bytes[2 * G - 1] = 1;
      // The descriptor it was mapped with goes; the file grows.
      fs.closeSync(mine);
      fs.ftruncateSync(file.fd, 4 * G);
      expect(codeOf(() => mapping.remap(4 * G, { mayMove: true }))).toBe('ERR_MMAP_BEYOND_EOF');
      expect(codeOf(() => mapping.remap(4 * G, { mayMove: true, file: other.fd }))).toBe('ERR_MMAP_BEYOND_EOF');
      mapping.remap(4 * G, { mayMove: true, file: file.fd });
      expect(mapping.bytes[0]).toBe(9);
      expect(mapping.bytes[2 * G - 1]).toBe(1);
      mapping.unmap();
    } finally {
      file.close();
      other.close();
    }
  });

  it.skipIf(underQemu32)(`refused while work or other threads hold the pages, for rings, and for bad sizes${skipped(underQemu32, noMoveQemu32)}`, async () => {
    const mapping = new MmapOptions(G).mapMut();
    const flushing = mapping.flushAsync();
    expect(codeOf(() => mapping.remap(2 * G, { mayMove: true }))).toBe('ERR_MMAP_BUSY');
    await flushing;
    const other = MmapOptions.fromShared(mapping.share());
    expect(codeOf(() => mapping.remap(2 * G, { mayMove: true }))).toBe('ERR_MMAP_SHARED');
    other.unmap();
    for (const size of [0, -1, 1.5, NaN]) expect(codeOf(() => mapping.remap(size))).toBe('ERR_MMAP_INVALID_SIZE');
    expect(codeOf(() => mapping.remap(G, { mayMove: 'yes' as unknown as boolean }))).toBe('ERR_INVALID_ARG_TYPE');
    using shm = SharedMemory.create(2 * G);
    const shared = new MmapOptions(G).withSharedMemory(shm).mapMut();
    expect(codeOf(() => shared.remap(3 * G, { mayMove: true }))).toBe('ERR_MMAP_BEYOND_EOF');
    shared.remap(2 * G, { mayMove: true });
    expect(shared.size).toBe(2 * G);
    shared.unmap();
    mapping.unmap();
  });
});

describe('residency()', () => {
  it(`anonymous pages: untouched ones are not resident, touched ones are, and dontNeed drops them`, () => {
    const mapping = new MmapOptions(16 * P).mapMut();
    expect(mapping.residency()).toEqual({ pages: 16, resident: 0, bitmap: new Uint8Array(2) });
    mapping.bytes[0] = 1;
    mapping.bytes[9 * P] = 1;
    const touched = mapping.residency();
    expect(touched.resident).toBe(2);
    expect(Array.from(touched.bitmap)).toEqual([1, 2]);
    expect(mapping.residency(9 * P, 1)).toEqual({ pages: 1, resident: 1, bitmap: Uint8Array.of(1) });
    if (!isWindows) {
      mapping.advise('dontNeed');
      expect(mapping.residency().resident).toBe(0);
    }
    expect(codeOf(() => mapping.residency(17 * P))).toBe('ERR_MMAP_OUT_OF_BOUNDS');
    mapping.unmap();
  });

  const notLinux = 'evicting file pages from the page cache needs MADV_PAGEOUT (Linux 5.4)';
  it.skipIf(!isLinux || underQemu)(`a file mapping: pageOut evicts its clean pages, willNeed reads them back${skipped(!isLinux || underQemu, underQemu ? 'qemu-user does not pass madvise on' : notLinux)}`, async () => {
    const file = tempFile(0);
    try {
      // Page by page: one large write can put the file in large folios,
      // which MADV_PAGEOUT passes over whenever it cannot split them (about
      // 1 run in 40 here evicted nothing for seconds).
      for (let page = 0; page < 64; page++) fs.writeSync(file.fd, Buffer.alloc(P, 1), 0, P, page * P);
      fs.fdatasyncSync(file.fd);
      const mapping = new MmapOptions().withFile(file.fd).map();
      let sum = 0;
      for (let page = 0; page < 64; page++) sum += mapping.bytes[page * P]!;
      expect(sum).toBe(64);
      expect(mapping.residency().resident).toBe(64);
      // Reclaim is best effort: pages still being written back, or young on
      // a busy machine, are skipped, so ask again a few times.
      for (let attempt = 0; attempt < 20 && mapping.residency().resident === 64; attempt++) {
        mapping.advise('pageOut');
        if (mapping.residency().resident === 64) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(mapping.residency().resident).toBeLessThan(64);
      mapping.advise('willNeed');
      const deadline = Date.now() + 5000;
      while (mapping.residency().resident < 64 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(mapping.residency().resident).toBe(64);
      mapping.unmap();
    } finally {
      file.close();
    }
  });
});

describe('mapRing()', () => {
  it('byte i and byte i + size are the same memory: a write across the end continues at the start', () => {
    const ring = new MmapOptions(G).mapRing();
    expect(ring).toBeInstanceOf(MmapRing);
    expect(ring.ringSize).toBe(G);
    expect(ring.size).toBe(2 * G);
    ring.bytes.set([1, 2, 3, 4], G - 2);
    expect(Array.from(ring.bytes.subarray(0, 2))).toEqual([3, 4]);
    expect(Array.from(ring.bytes.subarray(2 * G - 2))).toEqual([1, 2]);
    ring.bytes[5] = 9;
    expect(ring.bytes[G + 5]).toBe(9);
    // A word written across the seam reads back whole, and its halves are at both ends.
    ring.setUint32(G - 2, 0x01020304);
    expect(ring.getUint32(G - 2)).toBe(0x01020304);
    expect(ring.getUint16(2 * G - 2)).toBe(ring.getUint16(G - 2));
    expect(ring.getUint16(0)).toBe(0x0304);
    const token = ring.share();
    const copy = MmapOptions.fromShared(token);
    expect(copy).toBeInstanceOf(MmapRing);
    copy.unmap();
    const start = ring.start;
    ring.unmap();
    if (isLinux && !underQemu) {
      const maps = fs.readFileSync('/proc/self/maps', 'utf8');
      expect(maps).not.toContain(start.toString(16) + '-');
    }
  });

  it('is never split, merged or remapped; takes only a size and shared memory', () => {
    const ring = new MmapOptions(G).mapRing();
    expect(codeOf(() => ring.splitOff(G))).toBe('ERR_MMAP_UNSUPPORTED');
    expect(codeOf(() => ring.remap(4 * G, { mayMove: true }))).toBe('ERR_MMAP_UNSUPPORTED');
    const other = new MmapOptions(G).mapRing();
    expect(codeOf(() => ring.merge(other))).toBe('ERR_MMAP_UNSUPPORTED');
    other.unmap();
    const readOnly = ring.makeReadOnly();
    expect(readOnly.size).toBe(2 * G);
    readOnly.unmap();
    expect(codeOf(() => new MmapOptions(100).mapRing())).toBe('ERR_MMAP_INVALID_SIZE');
    const file = tempFile(G);
    try {
      expect(codeOf(() => new MmapOptions(G).withFile(file.fd).mapRing())).toBe('ERR_INVALID_ARG_VALUE');
    } finally {
      file.close();
    }
    expect(codeOf(() => new MmapOptions(G).withAlignment(G).mapRing())).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('over a SharedMemory: another process maps the same ring', async () => {
    const name = `memmap-r${process.pid}`;
    using shm = SharedMemory.create(2 * G, { name });
    try {
      const ring = new MmapOptions(G).withSharedMemory(shm, G).mapRing();
      ring.bytes.set([5, 6, 7, 8], G - 2);
      const child = spawn(
        process.execPath,
        [
          '-e',
          `const memmap = require(${JSON.stringify(require.resolve('..'))});
           const shm = memmap.SharedMemory.open(${JSON.stringify(name)});
           const ring = new memmap.MmapOptions(${G}).withSharedMemory(shm, ${G}).mapRing();
           process.stdout.write(JSON.stringify(Array.from(ring.bytes.subarray(0, 2))));
           ring.bytes[${2 * G - 1}] = 42;`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual([7, 8]);
      expect(ring.bytes[G - 1]).toBe(42);
      ring.unmap();
    } finally {
      SharedMemory.unlink(name);
    }
  });
});

describe('an event log that grows', () => {
  // 1 GiB natively; emulators write and check a smaller log in the same steps.
  const total = emulator ? 64 << 20 : 1 << 30;
  it.skipIf(underQemu32)(`a reader remaps a shared file mapping from one page to ${total >> 20} MiB while another process appends${skipped(underQemu32, noMoveQemu32)}`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-log-'));
    const file = path.join(dir, 'log');
    const record = 1 << 20;
    fs.writeFileSync(file, Buffer.alloc(0));
    // Each 4-byte word holds its own index, so every byte read can be checked.
    const writer = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs');
         const fd = fs.openSync(${JSON.stringify(file)}, 'a');
         const words = new Uint32Array(${record / 4});
         for (let at = 0; at < ${total}; at += ${record}) {
           for (let i = 0; i < words.length; i++) words[i] = at / 4 + i;
           fs.writeSync(fd, words);
         }
         fs.closeSync(fd);`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    writer.stderr.on('data', (chunk) => (stderr += chunk));
    const done = new Promise<number | null>((resolve) => writer.on('close', resolve));
    let finished = false;
    void done.then(() => (finished = true));
    const fd = fs.openSync(file, 'r');
    try {
      // Start from one page (once the writer wrote one).
      while (fs.fstatSync(fd).size < P) await new Promise((resolve) => setTimeout(resolve, 1));
      const log = new MmapOptions(P).withFile(fd).withFlags(MmapFlags.SHARED).map();
      let checked = 0;
      let remaps = 0;
      for (;;) {
        const size = fs.fstatSync(fd).size;
        const whole = size - (size % 4);
        if (whole > log.size) {
          log.remap(whole, { mayMove: true });
          remaps++;
        }
        // Check every word that arrived since the last look, a record at a time.
        while (checked < log.size) {
          const length = Math.min(record, log.size - checked);
          const words = log.readInto(checked, new Uint32Array(length / 4));
          for (let i = 0; i < words.length; i++) {
            if (words[i] !== checked / 4 + i) throw new Error(`word ${checked / 4 + i} holds ${words[i]}`);
          }
          checked += length;
        }
        if (checked === total) break;
        if (finished && fs.fstatSync(fd).size === checked) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(await done).toBe(0);
      expect(stderr).toBe('');
      expect(checked).toBe(total);
      expect(remaps).toBeGreaterThan(1);
      log.unmap();
    } finally {
      fs.closeSync(fd);
      // Wine may hold the writer's handle a moment after it exited.
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  }, 120_000);
});
