// The copying accessors: what they read and write, their bounds, spans, and
// the runtime that refuses external ArrayBuffers.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MmapOptions } from '../src';

const P = MmapOptions.pageSize();
const root = path.join(__dirname, '..');
const code = (value: string) => expect.objectContaining({ code: value });

function pattern(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff);
}

describe('copying accessors on a handle', () => {
  it('typed getters and setters agree with DataView over the zero-copy bytes, both byte orders', () => {
    const mapping = new MmapOptions(P).mapMut();
    const view = new DataView(mapping.buffer);
    const numbers: [string, number][] = [
      ['Int8', -100], ['Uint8', 200], ['Int16', -12345], ['Uint16', 54321],
      ['Int32', -123456789], ['Uint32', 3456789012], ['Float32', 1.5], ['Float64', -Math.PI],
    ];
    const anyMapping = mapping as unknown as Record<string, (...args: unknown[]) => unknown>;
    const anyView = view as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const littleEndian of [false, true]) {
      for (const [type, value] of numbers) {
        anyMapping[`set${type}`](17, value, littleEndian);
        expect(anyView[`get${type}`](17, littleEndian)).toBe(value);
        expect(anyMapping[`get${type}`](17, littleEndian)).toBe(value);
      }
      mapping.setBigInt64(40, -5n << 60n, littleEndian);
      expect(view.getBigInt64(40, littleEndian)).toBe(-5n << 60n);
      mapping.setBigUint64(40, 0xfedcba9876543210n, littleEndian);
      expect(mapping.getBigUint64(40, littleEndian)).toBe(0xfedcba9876543210n);
      expect(view.getBigUint64(40, littleEndian)).toBe(0xfedcba9876543210n);
    }
    // Big-endian by default, as DataView; conversions as DataView's.
    mapping.setUint16(0, 0x0102);
    expect([mapping.bytes[0], mapping.bytes[1]]).toEqual([1, 2]);
    mapping.setUint8(0, 257);
    expect(mapping.getUint8(0)).toBe(1);
    mapping.unmap();
  });

  it('read() copies; readInto() fills any view; write(), fill() and copyWithin() change the pages', () => {
    const mapping = new MmapOptions(2 * P).mapMut();
    const data = pattern(64);
    mapping.write(P - 32, data);
    expect(mapping.bytes.subarray(P - 32, P + 32)).toEqual(data);

    const copy = mapping.read(P - 32, 64);
    expect(copy).toEqual(data);
    copy[0] ^= 0xff;
    expect(mapping.bytes[P - 32]).toBe(data[0]);

    const words = new Uint16Array(8);
    expect(mapping.readInto(P - 32, words)).toBe(words);
    expect(new Uint8Array(words.buffer)).toEqual(data.subarray(0, 16));
    const backing = new Uint8Array(32);
    mapping.readInto(P - 32, new DataView(backing.buffer, 8, 4));
    expect(backing.subarray(8, 12)).toEqual(data.subarray(0, 4));
    expect(backing[7]).toBe(0);

    mapping.fill(0xab, 10, 5);
    expect(Array.from(mapping.bytes.subarray(9, 16))).toEqual([0, 0xab, 0xab, 0xab, 0xab, 0xab, 0]);
    mapping.fill(0x11, 2 * P - 3);
    expect(Array.from(mapping.read(2 * P - 4, 4))).toEqual([0, 0x11, 0x11, 0x11]);

    // Overlapping copies, both directions, as Uint8Array.prototype.copyWithin.
    const expected = mapping.read(0, 2 * P);
    mapping.copyWithin(P - 16, P - 32, P + 16);
    expected.copyWithin(P - 16, P - 32, P + 16);
    mapping.copyWithin(P - 40, P - 32, P);
    expected.copyWithin(P - 40, P - 32, P);
    expect(mapping.read(0, 2 * P)).toEqual(expected);
    mapping.unmap();
  });

  it('read-only handles read through the accessors and have no writing ones', () => {
    const writable = new MmapOptions(P).mapMut();
    writable.write(0, pattern(8));
    const mapping = writable.makeReadOnly();
    expect(mapping.read(0, 8)).toEqual(pattern(8));
    expect(mapping.getUint32(4, true)).toBe(new DataView(pattern(8).buffer).getUint32(4, true));
    // @ts-expect-error Mmap has no write()
    expect(mapping.write).toBeUndefined();
    // @ts-expect-error Mmap has no setUint8()
    expect(mapping.setUint8).toBeUndefined();
    mapping.unmap();
  });

  it('every range is bounds- and overflow-checked, naming offset, length and size', () => {
    const mapping = new MmapOptions(P).mapMut();
    const outside = (run: () => unknown, message: string) => {
      expect(run).toThrow(code('ERR_MMAP_OUT_OF_BOUNDS'));
      expect(run).toThrow(message);
    };
    outside(() => mapping.read(P - 4, 5), `range offset ${P - 4}, length 5 exceeds the mapping's size ${P}`);
    outside(() => mapping.read(P + 1, 0), `range offset ${P + 1}, length 0 exceeds the mapping's size ${P}`);
    outside(() => mapping.getUint32(P - 3), `range offset ${P - 3}, length 4 exceeds the mapping's size ${P}`);
    outside(() => mapping.getBigUint64(Number.MAX_SAFE_INTEGER), `offset ${Number.MAX_SAFE_INTEGER}, length 8`);
    outside(() => mapping.setFloat64(P - 7, 1), `range offset ${P - 7}, length 8 exceeds the mapping's size ${P}`);
    outside(() => mapping.readInto(P - 1, new Uint16Array(1)), `range offset ${P - 1}, length 2`);
    outside(() => mapping.write(1, new Uint8Array(P)), `range offset 1, length ${P}`);
    outside(() => mapping.fill(0, P - 1, 2), `range offset ${P - 1}, length 2 exceeds the mapping's size ${P}`);
    outside(() => mapping.copyWithin(P - 1, 0, 2), `range offset ${P - 1}, length 2 exceeds the mapping's size ${P}`);
    outside(() => mapping.copyWithin(0, P - 1, P + 1), `range offset ${P - 1}, length 2 exceeds the mapping's size ${P}`);
    outside(() => mapping.copyWithin(0, 8, 4), 'end 4 is before start 8');
    outside(() => mapping.read(-1, 1), 'offset must be a non-negative safe integer, got -1');
    outside(() => mapping.read(0.5, 1), 'offset must be a non-negative safe integer, got 0.5');
    outside(() => mapping.read(0, Number.MAX_SAFE_INTEGER + 1), 'length must be a non-negative safe integer');
    expect(() => mapping.fill(256)).toThrow(code('ERR_INVALID_ARG_VALUE'));
    expect(() => mapping.readInto(0, [1, 2] as unknown as Uint8Array)).toThrow(code('ERR_INVALID_ARG_TYPE'));
    expect(() => mapping.write(0, 'text' as unknown as Uint8Array)).toThrow(code('ERR_INVALID_ARG_TYPE'));
    // Nothing was written by the refused calls.
    expect(mapping.bytes.every((byte) => byte === 0)).toBe(true);
    // Edges are inside.
    expect(mapping.read(P, 0)).toEqual(new Uint8Array(0));
    expect(mapping.getBigUint64(P - 8)).toBe(0n);
    mapping.unmap();
    expect(() => mapping.read(0, 1)).toThrow(code('ERR_MMAP_CLOSED'));
    expect(() => mapping.getUint8(0)).toThrow(code('ERR_MMAP_CLOSED'));
  });
});

describe('spans: the accessors on a window of a handle', () => {
  it('count offsets from the span start and stay inside the span', () => {
    const mapping = new MmapOptions(2 * P).mapMut();
    const span = mapping.span(P - 8, 16);
    expect([span.offset, span.length]).toEqual([P - 8, 16]);
    span.setUint32(4, 0xdeadbeef, true);
    expect(mapping.getUint32(P - 4, true)).toBe(0xdeadbeef);
    span.write(8, pattern(8));
    expect(mapping.read(P, 8)).toEqual(pattern(8));
    span.fill(9, 14);
    expect(Array.from(mapping.read(P + 5, 4))).toEqual([pattern(8)[5], 9, 9, 0]);
    span.copyWithin(0, 8, 12);
    expect(span.read(0, 4)).toEqual(pattern(4));
    expect(() => span.read(12, 5)).toThrow("range offset 12, length 5 exceeds the span's length 16");
    expect(() => span.getFloat64(9)).toThrow(code('ERR_MMAP_OUT_OF_BOUNDS'));
    expect(() => span.fill(1, 0, 17)).toThrow(code('ERR_MMAP_OUT_OF_BOUNDS'));
    expect(() => mapping.span(2 * P - 8, 9)).toThrow(code('ERR_MMAP_OUT_OF_BOUNDS'));
    mapping.unmap();
  });

  it('die with the handle as it was: unmap, makeX(), split and merge all end them', () => {
    const mapping = new MmapOptions(2 * P).mapMut();
    const before = mapping.span(0, 8);
    const tail = mapping.splitOff(P);
    expect(() => before.getUint8(0)).toThrow(code('ERR_MMAP_CLOSED'));
    const afterSplit = mapping.span(0, 8);
    mapping.merge(tail);
    expect(() => afterSplit.read(0, 1)).toThrow(code('ERR_MMAP_CLOSED'));
    const writable = mapping.span(0, 8);
    writable.setUint8(0, 1);
    const readOnly = mapping.makeReadOnly();
    expect(() => writable.setUint8(0, 2)).toThrow(code('ERR_MMAP_CLOSED'));
    expect(readOnly.getUint8(0)).toBe(1);
    const last = readOnly.span(0, 8);
    expect(last.getUint8(0)).toBe(1);
    // @ts-expect-error a span of Mmap cannot write
    expect(last.write).toBeUndefined();
    readOnly.unmap();
    expect(() => last.getUint8(0)).toThrow(code('ERR_MMAP_CLOSED'));
  });
});

describe('a runtime that refuses external ArrayBuffers (MEMMAP_NO_EXTERNAL_BUFFERS=1)', () => {
  it('bytes, buffer and view() throw naming the copying accessors, which keep working', () => {
    const script = `
      const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
      const { MmapOptions, MmapFlags } = require('memmap');
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-')), 'data');
      fs.writeFileSync(file, Buffer.alloc(${P}));
      const fd = fs.openSync(file, 'r+');
      const mapping = new MmapOptions(${P}).withFile(fd).withFlags(MmapFlags.SHARED).mapMut();
      fs.closeSync(fd);
      const refused = [() => mapping.bytes, () => mapping.buffer, () => mapping.view(0, 8)].map((get) => {
        try { get(); return 'returned'; } catch (error) { return error.code + ': ' + error.message; }
      });
      mapping.setUint32(4, 0x01020304);
      mapping.write(8, Uint8Array.of(9, 9));
      mapping.flush();
      console.log(JSON.stringify({
        refused,
        read: Array.from(mapping.read(4, 6)),
        file: Array.from(fs.readFileSync(file).subarray(4, 10)),
      }));
      mapping.unmap(); // Windows cannot delete a file that is still mapped
      fs.rmSync(path.dirname(file), { recursive: true });`;
    const child = spawnSync(process.execPath, ['-e', script], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, MEMMAP_NO_EXTERNAL_BUFFERS: '1' },
    });
    expect(child.stderr).toBe('');
    const result = JSON.parse(child.stdout);
    expect(result.refused).toHaveLength(3);
    for (const message of result.refused) {
      expect(message).toMatch(/^ERR_MMAP_EXTERNAL_BUFFERS_UNSUPPORTED: .*read\(\).*write\(\)/);
    }
    expect(result.read).toEqual([1, 2, 3, 4, 9, 9]);
    expect(result.file).toEqual([1, 2, 3, 4, 9, 9]);
  });
});
