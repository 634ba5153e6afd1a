/**
 * The copying accessors: a second way to reach mapped bytes, next to the
 * zero-copy views, that never crashes the process and needs no external
 * ArrayBuffer.
 *
 * Every call copies between the mapping and JavaScript memory under a fault
 * guard: a page that is gone (the file was truncated by another process),
 * inaccessible, or unreadable from its device throws {@link MmapError}
 * `ERR_MMAP_FAULT`, whose `offset` and `signal` properties say where and
 * what, and the process lives on. Every range is bounds-checked
 * (`ERR_MMAP_OUT_OF_BOUNDS` naming offset, length and size). They keep
 * working in runtimes that refuse external ArrayBuffers (Electron 21+), where
 * `bytes`, `buffer` and `view()` throw `ERR_MMAP_EXTERNAL_BUFFERS_UNSUPPORTED`.
 *
 * The same accessors exist on `Mmap`/`MmapMut` (offsets from the handle's
 * start) and on spans ({@link MmapSpan}, {@link MmapSpanMut}: offsets from the
 * span's start, bounds of the span).
 * @packageDocumentation
 */
import { native, NativeMapping } from './binding';
import { fail } from './errors';
import { checkRange, checkUint } from './validate';

/**
 * Which bytes of a mapping an accessor addresses. `generation` is the
 * mapping's generation when the span was made (-1: the handle itself,
 * whatever it became); `length` bounds the span (Infinity for the handle:
 * the native side checks against the mapping's size).
 */
interface Window {
  readonly generation: number;
  readonly base: number;
  readonly length: number;
}

const WHOLE_HANDLE: Window = { generation: -1, base: 0, length: Infinity };

// The typed accessors copy through this scratch and code it with DataView, so
// they convert exactly as DataView does and allocate nothing per call.
const scratch = new ArrayBuffer(8);
const scratchView = new DataView(scratch);
const scratchOfWidth: readonly Uint8Array[] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((width) => new Uint8Array(scratch, 0, width));

/** The offset in the mapping of `[offset, offset + length)` of `at`; checks the window's bounds. */
function locate(offset: number, length: number, at: Window): number {
  checkUint(offset, 'offset');
  if (offset + length > at.length) {
    fail('ERR_MMAP_OUT_OF_BOUNDS', `range offset ${offset}, length ${length} exceeds the span's length ${at.length}`);
  }
  return at.base + offset;
}

function checkView(value: unknown, what: string): ArrayBufferView {
  if (!ArrayBuffer.isView(value)) fail('ERR_INVALID_ARG_TYPE', `${what} must be a TypedArray or DataView, got ${String(value)}`);
  return value;
}

/** The size of `at`: the span's length, or the mapping's size for the handle. */
function sizeOf(mapping: NativeMapping, at: Window): number {
  return at.length === Infinity ? mapping.size : at.length;
}

function load(mapping: NativeMapping, offset: number, width: number, at: Window): void {
  native.readInto(mapping, at.generation, locate(offset, width, at), scratchOfWidth[width]);
}

function store(mapping: NativeMapping, offset: number, width: number, at: Window): void {
  native.write(mapping, at.generation, locate(offset, width, at), scratchOfWidth[width]);
}

/** @internal A copy of `length` bytes at `offset`. */
export function read(mapping: NativeMapping, offset: number, length: number, at: Window = WHOLE_HANDLE): Uint8Array {
  const copy = new Uint8Array(checkUint(length, 'length'));
  native.readInto(mapping, at.generation, locate(offset, length, at), copy);
  return copy;
}

/** @internal Fills `target` with the bytes at `offset`. */
export function readInto<T extends ArrayBufferView>(mapping: NativeMapping, offset: number, target: T, at: Window = WHOLE_HANDLE): T {
  checkView(target, 'target');
  native.readInto(mapping, at.generation, locate(offset, target.byteLength, at), target);
  return target;
}

/** @internal Copies `source` to `offset`. */
export function write(mapping: NativeMapping, offset: number, source: ArrayBufferView, at: Window = WHOLE_HANDLE): void {
  checkView(source, 'source');
  native.write(mapping, at.generation, locate(offset, source.byteLength, at), source);
}

/** @internal Sets `[offset, offset + length)` to `value`. */
export function fill(mapping: NativeMapping, value: number, offset = 0, length?: number, at: Window = WHOLE_HANDLE): void {
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    fail('ERR_INVALID_ARG_VALUE', `fill value must be a byte, an integer from 0 to 255, got ${String(value)}`);
  }
  const actual = checkRange(offset, length, sizeOf(mapping, at));
  native.fill(mapping, at.generation, at.base + offset, actual, value);
}

/** @internal Copies `[start, end)` to `target`; the ranges may overlap. */
export function copyWithin(mapping: NativeMapping, target: number, start: number, end?: number, at: Window = WHOLE_HANDLE): void {
  const size = sizeOf(mapping, at);
  checkUint(start, 'start');
  const stop = end === undefined ? size : checkUint(end, 'end');
  if (stop < start) fail('ERR_MMAP_OUT_OF_BOUNDS', `end ${stop} is before start ${start}`);
  checkRange(start, stop - start, size);
  checkRange(target, stop - start, size);
  native.copyWithin(mapping, at.generation, at.base + target, at.base + start, stop - start);
}

// Each mirrors the DataView method of its name.
/** @internal */ export function getInt8(m: NativeMapping, offset: number, at = WHOLE_HANDLE): number { load(m, offset, 1, at); return scratchView.getInt8(0); }
/** @internal */ export function getUint8(m: NativeMapping, offset: number, at = WHOLE_HANDLE): number { load(m, offset, 1, at); return scratchView.getUint8(0); }
/** @internal */ export function getInt16(m: NativeMapping, offset: number, le = false, at = WHOLE_HANDLE): number { load(m, offset, 2, at); return scratchView.getInt16(0, le); }
/** @internal */ export function getUint16(m: NativeMapping, offset: number, le = false, at = WHOLE_HANDLE): number { load(m, offset, 2, at); return scratchView.getUint16(0, le); }
/** @internal */ export function getInt32(m: NativeMapping, offset: number, le = false, at = WHOLE_HANDLE): number { load(m, offset, 4, at); return scratchView.getInt32(0, le); }
/** @internal */ export function getUint32(m: NativeMapping, offset: number, le = false, at = WHOLE_HANDLE): number { load(m, offset, 4, at); return scratchView.getUint32(0, le); }
/** @internal */ export function getBigInt64(m: NativeMapping, offset: number, le = false, at = WHOLE_HANDLE): bigint { load(m, offset, 8, at); return scratchView.getBigInt64(0, le); }
/** @internal */ export function getBigUint64(m: NativeMapping, offset: number, le = false, at = WHOLE_HANDLE): bigint { load(m, offset, 8, at); return scratchView.getBigUint64(0, le); }
/** @internal */ export function getFloat32(m: NativeMapping, offset: number, le = false, at = WHOLE_HANDLE): number { load(m, offset, 4, at); return scratchView.getFloat32(0, le); }
/** @internal */ export function getFloat64(m: NativeMapping, offset: number, le = false, at = WHOLE_HANDLE): number { load(m, offset, 8, at); return scratchView.getFloat64(0, le); }

/** @internal */ export function setInt8(m: NativeMapping, offset: number, value: number, at = WHOLE_HANDLE): void { scratchView.setInt8(0, value); store(m, offset, 1, at); }
/** @internal */ export function setUint8(m: NativeMapping, offset: number, value: number, at = WHOLE_HANDLE): void { scratchView.setUint8(0, value); store(m, offset, 1, at); }
/** @internal */ export function setInt16(m: NativeMapping, offset: number, value: number, le = false, at = WHOLE_HANDLE): void { scratchView.setInt16(0, value, le); store(m, offset, 2, at); }
/** @internal */ export function setUint16(m: NativeMapping, offset: number, value: number, le = false, at = WHOLE_HANDLE): void { scratchView.setUint16(0, value, le); store(m, offset, 2, at); }
/** @internal */ export function setInt32(m: NativeMapping, offset: number, value: number, le = false, at = WHOLE_HANDLE): void { scratchView.setInt32(0, value, le); store(m, offset, 4, at); }
/** @internal */ export function setUint32(m: NativeMapping, offset: number, value: number, le = false, at = WHOLE_HANDLE): void { scratchView.setUint32(0, value, le); store(m, offset, 4, at); }
/** @internal */ export function setBigInt64(m: NativeMapping, offset: number, value: bigint, le = false, at = WHOLE_HANDLE): void { scratchView.setBigInt64(0, value, le); store(m, offset, 8, at); }
/** @internal */ export function setBigUint64(m: NativeMapping, offset: number, value: bigint, le = false, at = WHOLE_HANDLE): void { scratchView.setBigUint64(0, value, le); store(m, offset, 8, at); }
/** @internal */ export function setFloat32(m: NativeMapping, offset: number, value: number, le = false, at = WHOLE_HANDLE): void { scratchView.setFloat32(0, value, le); store(m, offset, 4, at); }
/** @internal */ export function setFloat64(m: NativeMapping, offset: number, value: number, le = false, at = WHOLE_HANDLE): void { scratchView.setFloat64(0, value, le); store(m, offset, 8, at); }

// How MmapSpanMut reaches its base's private fields (set in MmapSpan's static block).
let spanMapping: (span: MmapSpan) => NativeMapping;
let spanWindow: (span: MmapSpan) => Window;

/**
 * A window `[offset, offset + length)` of an {@link Mmap}, made by
 * `Mmap.span()`: the copying accessors with offsets from the span's start,
 * bounded by the span. It belongs to the handle as it was when the span was
 * made: once the handle is unmapped, consumed, split, merged or reprotected,
 * every call throws `ERR_MMAP_CLOSED`.
 */
export class MmapSpan {
  // Private for real (not TypeScript's `protected`): the native mapping must
  // never be reachable from JavaScript.
  readonly #mapping: NativeMapping;
  readonly #at: Window;

  static {
    spanMapping = (span) => span.#mapping;
    spanWindow = (span) => span.#at;
  }

  /** @internal Spans come from `span()` on a handle. */
  constructor(mapping: NativeMapping, offset: number, length: number) {
    checkRange(offset, checkUint(length, 'length'), mapping.size);
    this.#mapping = mapping;
    this.#at = { generation: native.generation(mapping), base: offset, length };
  }

  /** Where the span starts in its handle. */
  get offset(): number {
    return this.#at.base;
  }

  /** The span's length in bytes. */
  get length(): number {
    return this.#at.length;
  }

  /** A copy of `length` bytes at `offset`. */
  read(offset: number, length: number): Uint8Array { return read(this.#mapping, offset, length, this.#at); }
  /** Fills `target` (any TypedArray or DataView) with the bytes at `offset`; returns it. */
  readInto<T extends ArrayBufferView>(offset: number, target: T): T { return readInto(this.#mapping, offset, target, this.#at); }
  /** As `DataView.getInt8`. */
  getInt8(offset: number): number { return getInt8(this.#mapping, offset, this.#at); }
  /** As `DataView.getUint8`. */
  getUint8(offset: number): number { return getUint8(this.#mapping, offset, this.#at); }
  /** As `DataView.getInt16`. */
  getInt16(offset: number, littleEndian?: boolean): number { return getInt16(this.#mapping, offset, littleEndian, this.#at); }
  /** As `DataView.getUint16`. */
  getUint16(offset: number, littleEndian?: boolean): number { return getUint16(this.#mapping, offset, littleEndian, this.#at); }
  /** As `DataView.getInt32`. */
  getInt32(offset: number, littleEndian?: boolean): number { return getInt32(this.#mapping, offset, littleEndian, this.#at); }
  /** As `DataView.getUint32`. */
  getUint32(offset: number, littleEndian?: boolean): number { return getUint32(this.#mapping, offset, littleEndian, this.#at); }
  /** As `DataView.getBigInt64`. */
  getBigInt64(offset: number, littleEndian?: boolean): bigint { return getBigInt64(this.#mapping, offset, littleEndian, this.#at); }
  /** As `DataView.getBigUint64`. */
  getBigUint64(offset: number, littleEndian?: boolean): bigint { return getBigUint64(this.#mapping, offset, littleEndian, this.#at); }
  /** As `DataView.getFloat32`. */
  getFloat32(offset: number, littleEndian?: boolean): number { return getFloat32(this.#mapping, offset, littleEndian, this.#at); }
  /** As `DataView.getFloat64`. */
  getFloat64(offset: number, littleEndian?: boolean): number { return getFloat64(this.#mapping, offset, littleEndian, this.#at); }
}

/** A span of an {@link MmapMut}, made by `MmapMut.span()`: {@link MmapSpan} plus the writing accessors. */
export class MmapSpanMut extends MmapSpan {
  /** Copies `source` (any TypedArray or DataView) to `offset`. */
  write(offset: number, source: ArrayBufferView): void { write(spanMapping(this), offset, source, spanWindow(this)); }
  /** Sets `length` bytes (default: the rest) from `offset` (default 0) to the byte `value`. */
  fill(value: number, offset?: number, length?: number): void { fill(spanMapping(this), value, offset, length, spanWindow(this)); }
  /** Copies `[start, end)` (end defaults to the length) to `target`; the ranges may overlap. */
  copyWithin(target: number, start: number, end?: number): void { copyWithin(spanMapping(this), target, start, end, spanWindow(this)); }
  /** As `DataView.setInt8`. */
  setInt8(offset: number, value: number): void { setInt8(spanMapping(this), offset, value, spanWindow(this)); }
  /** As `DataView.setUint8`. */
  setUint8(offset: number, value: number): void { setUint8(spanMapping(this), offset, value, spanWindow(this)); }
  /** As `DataView.setInt16`. */
  setInt16(offset: number, value: number, littleEndian?: boolean): void { setInt16(spanMapping(this), offset, value, littleEndian, spanWindow(this)); }
  /** As `DataView.setUint16`. */
  setUint16(offset: number, value: number, littleEndian?: boolean): void { setUint16(spanMapping(this), offset, value, littleEndian, spanWindow(this)); }
  /** As `DataView.setInt32`. */
  setInt32(offset: number, value: number, littleEndian?: boolean): void { setInt32(spanMapping(this), offset, value, littleEndian, spanWindow(this)); }
  /** As `DataView.setUint32`. */
  setUint32(offset: number, value: number, littleEndian?: boolean): void { setUint32(spanMapping(this), offset, value, littleEndian, spanWindow(this)); }
  /** As `DataView.setBigInt64`. */
  setBigInt64(offset: number, value: bigint, littleEndian?: boolean): void { setBigInt64(spanMapping(this), offset, value, littleEndian, spanWindow(this)); }
  /** As `DataView.setBigUint64`. */
  setBigUint64(offset: number, value: bigint, littleEndian?: boolean): void { setBigUint64(spanMapping(this), offset, value, littleEndian, spanWindow(this)); }
  /** As `DataView.setFloat32`. */
  setFloat32(offset: number, value: number, littleEndian?: boolean): void { setFloat32(spanMapping(this), offset, value, littleEndian, spanWindow(this)); }
  /** As `DataView.setFloat64`. */
  setFloat64(offset: number, value: number, littleEndian?: boolean): void { setFloat64(spanMapping(this), offset, value, littleEndian, spanWindow(this)); }
}
