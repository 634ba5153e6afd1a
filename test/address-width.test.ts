// Sizes, offsets and addresses at the edges of a 32-bit process (armv7,
// ia32), where size_t and pointers have 32 bits but JavaScript numbers and
// bigints do not. Each test runs in 64-bit processes too, where the same call
// must simply work (or fail the same way).
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MemoryAreas, MmapError, MmapFlags, MmapOptions, UnsafeMmapFlags } from '../src';
import { is32Bit, notUnderQemu32Offsets, qemuCutsOffsets, tempFile } from './helpers';

const P = MmapOptions.pageSize();
const G = MmapOptions.allocationGranularity();
const FOUR_GIB = 2 ** 32;
/** One past the highest address this process's pointers can hold. */
const ADDRESS_SPACE_END = is32Bit ? 1n << 32n : 1n << 64n;

function errorOf(action: () => unknown): MmapError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(MmapError);
    return error as MmapError;
  }
  throw new Error('expected an MmapError, but nothing was thrown');
}

describe('sizes that do not fit size_t', () => {
  it('a reservation of 4 GiB + a page: exactly that in 64 bits; ERR_MMAP_INVALID_SIZE naming it in 32 bits (it was cut to one page)', () => {
    const size = FOUR_GIB + P;
    if (is32Bit) {
      const error = errorOf(() => new MmapOptions(size).reserveNone());
      expect(error.code).toBe('ERR_MMAP_INVALID_SIZE');
      expect(error.message).toContain(`size ${size} does not fit the address space of this 32-bit process`);
    } else {
      const reserved = new MmapOptions(size).reserveNone();
      expect(reserved.size).toBe(size);
      reserved.unmap();
    }
  });

  it('a 64 GiB reservation in 32 bits is ERR_MMAP_INVALID_SIZE, not a wrapped-around size', () => {
    const size = 64 * 2 ** 30; // 0 modulo 2^32
    if (is32Bit) {
      expect(errorOf(() => new MmapOptions(size).reserveMut()).code).toBe('ERR_MMAP_INVALID_SIZE');
    } else {
      const reserved = new MmapOptions(size).reserveMut();
      expect(reserved.size).toBe(size);
      reserved.unmap();
    }
  });

  it('an alignment of 4 GiB: honoured in 64 bits; ERR_MMAP_INVALID_SIZE in 32 bits (it was cut to none)', () => {
    const options = new MmapOptions(P).withAlignment(FOUR_GIB);
    if (is32Bit) {
      const error = errorOf(() => options.reserveNone());
      expect(error.code).toBe('ERR_MMAP_INVALID_SIZE');
      expect(error.message).toContain(`alignment ${FOUR_GIB} does not fit`);
    } else {
      const reserved = options.reserveNone();
      expect(reserved.start % BigInt(FOUR_GIB)).toBe(0n);
      reserved.unmap();
    }
  });

  it('a range given in numbers above 4 GiB is out of bounds, never wrapped into the mapping', () => {
    const handle = new MmapOptions(P).mapMut();
    expect(() => handle.view(FOUR_GIB, 1)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_OUT_OF_BOUNDS' }));
    expect(() => handle.flush(0, FOUR_GIB + 1)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_OUT_OF_BOUNDS' }));
    handle.unmap();
  });
});

describe('addresses', () => {
  it('a handle above 2 GiB reads its real start (a pointer widened to 64 bits was sign-extended in 32 bits: 0xa0000000 read 0xffffffffa0000000)', () => {
    // A hint, not MAP_FIXED: the kernel takes it when the range is free.
    const hint = 0xa000_0000n;
    const handle = new MmapOptions(G).withAddress(hint).mapMut();
    try {
      expect(handle.start).toBeGreaterThan(0n);
      expect(handle.start).toBeLessThan(ADDRESS_SPACE_END);
      const area = MemoryAreas.query(handle.start);
      expect(area, `an area at 0x${handle.start.toString(16)}`).not.toBeNull();
      if (handle.start === hint) expect(area!.start <= hint && hint < area!.end).toBe(true);
    } finally {
      handle.unmap();
    }
  });

  it('an address beyond a 32-bit process is ERR_MMAP_INVALID_ADDRESS there, not its low 32 bits', () => {
    const beyond = (1n << 32n) + BigInt(G) * 16n;
    if (is32Bit) {
      const error = errorOf(() => new MmapOptions(G).withAddress(beyond).mapMut());
      expect(error.code).toBe('ERR_MMAP_INVALID_ADDRESS');
      expect(error.message).toContain(`address 0x${beyond.toString(16)} lies beyond the address space of this 32-bit process`);
      const adopt = errorOf(() => new MmapOptions(G).withAddress(beyond).mapFromExisting());
      expect(adopt.code).toBe('ERR_MMAP_INVALID_ADDRESS');
    } else {
      // A hint the kernel may or may not take; either way a real mapping.
      const handle = new MmapOptions(G).withAddress(beyond).mapMut();
      expect(MemoryAreas.query(handle.start)).not.toBeNull();
      handle.unmap();
    }
  });

  it('a range that would pass the top of the address space is ERR_MMAP_INVALID_ADDRESS before any check wraps around', () => {
    const top = ADDRESS_SPACE_END - BigInt(G);
    for (const map of [
      () => new MmapOptions(2 * G).withAddress(top).mapFromExisting(),
      () => new MmapOptions(2 * G).withAddress(top).withUnsafeFlags(UnsafeMmapFlags.MAP_FIXED).mapMut(),
    ]) {
      const error = errorOf(map);
      expect(error.code).toBe('ERR_MMAP_INVALID_ADDRESS');
      expect(error.message).toContain(`the ${2 * G} bytes at 0x${top.toString(16)} would pass the end of the address space`);
    }
  });
});

describe('file offsets above 4 GiB', () => {
  it.skipIf(qemuCutsOffsets)(`a mapping at offset 4 GiB + a granule sees the bytes there, not those at its low 32 bits${qemuCutsOffsets ? ` (${notUnderQemu32Offsets})` : ''}`, () => {
    // Sparse: the file takes no room but its two marked granules.
    const offset = FOUR_GIB + G;
    const file = tempFile(offset + G);
    try {
      fs.writeSync(file.fd, Buffer.from('low 32 bits'), 0, 11, G);
      fs.writeSync(file.fd, Buffer.from('past 4 GiB'), 0, 10, offset);
      const handle = new MmapOptions(G).withFile(file.fd, offset).map();
      expect(Buffer.from(handle.view(0, 10)).toString()).toBe('past 4 GiB');
      handle.unmap();
      const mutable = new MmapOptions(G).withFile(file.fd, offset).withFlags(MmapFlags.SHARED).mapMut();
      const marker = Buffer.from('written at 4 GiB');
      mutable.write(16, marker);
      mutable.flush();
      mutable.unmap();
      const back = Buffer.alloc(marker.length);
      fs.readSync(file.fd, back, 0, back.length, offset + 16);
      expect(back.toString()).toBe(marker.toString());
    } finally {
      file.close();
    }
  });
});
