// mmap-rs's own test suite (src/lib.rs, tests 1-14, plus the fork's
// map_existing), ported to this API. Protections and share modes come from
// the OS through MemoryAreas (on Linux, /proc/self/maps), not from the library.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MemoryAreas, MmapError, MmapFlags, MmapOptions, Protection, ShareMode } from '../src';
import { areaAt, isLinux, tempFile } from './helpers';

const P = MmapOptions.pageSize();

/** Asserts the OS's view of the area at `address`, written as in /proc/self/maps ('rw-p'). */
function expectArea(address: bigint, perms: string): void {
  const area = MemoryAreas.query(address);
  expect(area, `an area at 0x${address.toString(16)}`).not.toBeNull();
  const expected =
    (perms[0] === 'r' ? Protection.READ : 0) | (perms[1] === 'w' ? Protection.WRITE : 0) | (perms[2] === 'x' ? Protection.EXECUTE : 0);
  expect(area!.protection, `protection of ${perms}`).toBe(expected);
  expect(area!.shareMode).toBe(perms[3] === 's' ? ShareMode.SHARED : ShareMode.PRIVATE);
}

describe('mmap-rs suite', () => {
  it('reserve_none: a reservation commits to inaccessible private pages', () => {
    const reserved = new MmapOptions(P).reserveNone();
    expect(reserved.start).not.toBe(0n);
    const mapping = reserved.commit();
    expect(reserved.closed).toBe(true);
    expect(mapping.start).not.toBe(0n);
    expectArea(mapping.start, '---p');
    mapping.unmap();
  });

  it('reserve: a read-only reservation commits read-only', () => {
    const mapping = new MmapOptions(P).reserve().commit();
    expectArea(mapping.start, 'r--p');
    expect(mapping.bytes[0]).toBe(0);
    mapping.unmap();
  });

  it('reserve_mut: a read-write reservation commits read-write', () => {
    const mapping = new MmapOptions(P).reserveMut().commit();
    mapping.bytes[0] = 0x42;
    expect(mapping.bytes[0]).toBe(0x42);
    expectArea(mapping.start, 'rw-p');
    mapping.unmap();
  });

  it('map_none', () => {
    const mapping = new MmapOptions(P).mapNone();
    expect(mapping.start).not.toBe(0n);
    expectArea(mapping.start, '---p');
    mapping.unmap();
  });

  it('map', () => {
    const mapping = new MmapOptions(P).map();
    expectArea(mapping.start, 'r--p');
    mapping.unmap();
  });

  it('map_mut', () => {
    const mapping = new MmapOptions(P).mapMut();
    mapping.bytes[0] = 0x42;
    expect(mapping.bytes[0]).toBe(0x42);
    expectArea(mapping.start, 'rw-p');
    mapping.unmap();
  });

  it('map_file: two shared read-only mappings of one file see its bytes', () => {
    const file = tempFile(P, [0x42]);
    const a = new MmapOptions(P).withFile(file.fd).withFlags(MmapFlags.SHARED).map();
    const b = new MmapOptions(P).withFile(file.fd).withFlags(MmapFlags.SHARED).map();
    expect(a.bytes[0]).toBe(0x42);
    expect(b.bytes[0]).toBe(0x42);
    expectArea(a.start, 'r--s');
    expect(MemoryAreas.query(a.start)!.path).not.toBeNull();
    if (isLinux) expect(areaAt(a.start)!.path).toBe(file.path);
    a.unmap();
    b.unmap();
    file.close();
  });

  it('map_file_mut: a shared write is visible to another mapping and reaches the file', () => {
    const file = tempFile(P);
    const writer = new MmapOptions(P).withFile(file.fd).withFlags(MmapFlags.SHARED).mapMut();
    const reader = new MmapOptions(P).withFile(file.fd).withFlags(MmapFlags.SHARED).map();
    writer.bytes[0] = 0x42;
    expect(reader.bytes[0]).toBe(0x42);
    writer.flush(0, P);
    expectArea(writer.start, 'rw-s');
    if (isLinux) expect(areaAt(writer.start)!.path).toBe(file.path);
    expect(fs.readFileSync(file.path)[0]).toBe(0x42);
    writer.unmap();
    reader.unmap();
    file.close();
  });

  it('map_file_private: a private write is invisible elsewhere and never reaches the file', () => {
    const file = tempFile(P);
    const writer = new MmapOptions(P).withFile(file.fd).mapMut();
    const reader = new MmapOptions(P).withFile(file.fd).map();
    writer.bytes[0] = 0x42;
    expect(reader.bytes[0]).not.toBe(0x42);
    writer.flush(0, P);
    expectArea(writer.start, 'rw-p');
    if (isLinux) expect(areaAt(writer.start)!.path).toBe(file.path);
    expect(fs.readFileSync(file.path)[0]).not.toBe(0x42);
    writer.unmap();
    reader.unmap();
    file.close();
  });

  it('reserve_and_split: a split-off reserved piece commits on its own', () => {
    const mapping = new MmapOptions(2 * P).reserveMut();
    const rest = mapping.splitOff(P);
    expect(mapping.start < rest.start).toBe(true);
    const committed = rest.commit();
    committed.bytes[0] = 0x42;
    expect(committed.bytes[0]).toBe(0x42);
    expect(mapping.size).toBe(P);
    expect(committed.size).toBe(P);
    mapping.unmap();
    committed.unmap();
  });

  it('split_off: the receiver keeps the low half', () => {
    const mapping = new MmapOptions(2 * P).mapMut();
    expect(() => mapping.splitOff(1)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_INVALID_OFFSET' }));
    mapping.bytes[0] = 1;
    mapping.bytes[P] = 2;
    const rest = mapping.splitOff(P);
    expect(mapping.bytes[0]).toBe(1);
    expect(rest.bytes[0]).toBe(2);
    expect(mapping.size).toBe(P);
    expect(rest.size).toBe(P);
    expect(mapping.start < rest.start).toBe(true);
    mapping.unmap();
    rest.unmap();
  });

  it('split_to: the receiver keeps the high half', () => {
    const mapping = new MmapOptions(2 * P).mapMut();
    expect(() => mapping.splitTo(1)).toThrow(expect.objectContaining({ code: 'ERR_MMAP_INVALID_OFFSET' }));
    mapping.bytes[0] = 1;
    mapping.bytes[P] = 2;
    const rest = mapping.splitTo(P);
    expect(mapping.bytes[0]).toBe(2);
    expect(rest.bytes[0]).toBe(1);
    expect(mapping.size).toBe(P);
    expect(rest.size).toBe(P);
    expect(mapping.start > rest.start).toBe(true);
    mapping.unmap();
    rest.unmap();
  });

  it('split_file: a private file mapping splits like memory', () => {
    const file = tempFile(2 * P);
    fs.writeSync(file.fd, Buffer.from([1]), 0, 1, 0);
    fs.writeSync(file.fd, Buffer.from([2]), 0, 1, P);
    const mapping = new MmapOptions(2 * P).withFile(file.fd).map();
    expect(() => mapping.splitOff(1)).toThrow(MmapError);
    const rest = mapping.splitOff(P);
    expect(mapping.bytes[0]).toBe(1);
    expect(rest.bytes[0]).toBe(2);
    expect(mapping.size).toBe(P);
    expect(rest.size).toBe(P);
    expect(mapping.start < rest.start).toBe(true);
    mapping.unmap();
    rest.unmap();
    file.close();
  });

  it('split_and_merge: only adjacent pieces in order merge, and failures leave both usable', () => {
    const left = new MmapOptions(3 * P).mapMut();
    const right = left.splitOff(2 * P);
    const middle = left.splitOff(P);
    expect(left.start < middle.start && middle.start < right.start).toBe(true);

    const mustBeAdjacent = expect.objectContaining({ code: 'ERR_MMAP_MUST_BE_ADJACENT' });
    expect(() => left.merge(right)).toThrow(mustBeAdjacent);
    expect(() => right.merge(left)).toThrow(mustBeAdjacent);
    expect(() => middle.merge(left)).toThrow(mustBeAdjacent);
    // The arguments of failed merges are handed back intact.
    right.bytes[0] = 3;
    middle.bytes[0] = 2;
    left.bytes[0] = 1;

    left.merge(middle);
    expect(middle.closed).toBe(true);
    expect(() => right.merge(left)).toThrow(mustBeAdjacent);
    left.merge(right);
    expect(left.size).toBe(3 * P);
    expect([left.bytes[0], left.bytes[P], left.bytes[2 * P]]).toEqual([1, 2, 3]);

    expectArea(left.start, 'rw-p');
    const area = MemoryAreas.query(left.start)!;
    expect(area.start <= left.start).toBe(true);
    expect(area.end >= left.start + BigInt(3 * P)).toBe(true);
    left.unmap();
  });

  it('map_existing (the fork): a page given up with intoRaw is adopted back and re-protected', () => {
    const mapping = new MmapOptions(P).mapMut();
    mapping.bytes[0] = 0xc3;
    expectArea(mapping.start, 'rw-p');
    const raw = mapping.intoRaw();
    expect(mapping.closed).toBe(true);
    const adopted = new MmapOptions(raw.size).withAddress(raw.address).mapFromExisting();
    expect(adopted.bytes[0]).toBe(0xc3);
    const exec = adopted.makeExec();
    expectArea(raw.address, 'r-xp');
    exec.unmap();
    expect(MemoryAreas.query(raw.address)).toBeNull();
  });
});
