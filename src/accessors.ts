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
import { checkRange, checkUint, describe } from './validate';

/**
 * @internal Which bytes of which mapping an accessor addresses: a handle's
 * whole mapping or a span of it. `generation` is the handle's when it (or
 * the span) was made: once the handle is consumed, the native side refuses
 * it, whatever ran in between.
 */
export interface Target {
  readonly mapping: NativeMapping;
  readonly generation: number;
  readonly base: number;
  readonly length: number;
  /** What `length` is, for messages: "the mapping's size" or "the span's length". */
  readonly bound: string;
}

/** @internal The target of a handle's whole mapping, as of now. */
export function wholeTarget(mapping: NativeMapping): Target {
  return { mapping, generation: native.generation(mapping), base: 0, length: mapping.size, bound: "the mapping's size" };
}

// The typed accessors copy through this scratch and code it with DataView, so
// they convert exactly as DataView does and allocate nothing per call.
const scratch = new ArrayBuffer(8);
const scratchView = new DataView(scratch);
const scratchOfWidth: readonly Uint8Array[] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((width) => new Uint8Array(scratch, 0, width));

// The engine's own byteLength getters, taken at load: a view's own
// `byteLength` property (or a patched prototype) could run any code.
const getter = (prototype: object) => Object.getOwnPropertyDescriptor(prototype, 'byteLength')!.get!;
const typedArrayByteLength = Function.prototype.call.bind(getter(Object.getPrototypeOf(Uint8Array.prototype))) as (view: unknown) => number;
const dataViewByteLength = Function.prototype.call.bind(getter(DataView.prototype)) as (view: unknown) => number;

/** The byte length of a TypedArray or DataView, read without running user code. */
function byteLengthOf(value: unknown, what: string): number {
  try {
    return typedArrayByteLength(value);
  } catch {
    try {
      return dataViewByteLength(value);
    } catch {
      fail('ERR_INVALID_ARG_TYPE', `${what} must be a TypedArray or DataView, got ${describe(value)}`);
    }
  }
}

/** The offset in the mapping of `[offset, offset + length)` of `at`; checks the target's bounds. */
function locate(at: Target, offset: number, length: number): number {
  checkUint(offset, 'offset');
  if (offset > at.length || length > at.length - offset) {
    fail('ERR_MMAP_OUT_OF_BOUNDS', `range offset ${offset}, length ${length} exceeds ${at.bound} ${at.length}`);
  }
  return at.base + offset;
}

function load(at: Target, offset: number, width: number): void {
  native.readInto(at.mapping, at.generation, locate(at, offset, width), scratchOfWidth[width]);
}

function store(at: Target, offset: number, width: number): void {
  native.write(at.mapping, at.generation, locate(at, offset, width), scratchOfWidth[width]);
}

/** @internal A copy of `length` bytes at `offset`. */
export function read(at: Target, offset: number, length: number): Uint8Array {
  // Bounds first: the copy is allocated only for a range that exists.
  const start = locate(at, offset, checkUint(length, 'length'));
  const copy = new Uint8Array(length);
  native.readInto(at.mapping, at.generation, start, copy);
  return copy;
}

/** @internal Fills `target` with the bytes at `offset`. */
export function readInto<T extends ArrayBufferView>(at: Target, offset: number, target: T): T {
  const length = byteLengthOf(target, 'target');
  native.readInto(at.mapping, at.generation, locate(at, offset, length), target);
  return target;
}

/** @internal Copies `source` to `offset`. */
export function write(at: Target, offset: number, source: ArrayBufferView): void {
  const length = byteLengthOf(source, 'source');
  native.write(at.mapping, at.generation, locate(at, offset, length), source);
}

/** @internal Sets `[offset, offset + length)` to `value`. */
export function fill(at: Target, value: number, offset = 0, length?: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    fail('ERR_INVALID_ARG_VALUE', `fill value must be a byte, an integer from 0 to 255, got ${describe(value)}`);
  }
  const actual = checkRange(offset, length, at.length);
  native.fill(at.mapping, at.generation, at.base + offset, actual, value);
}

/** @internal Copies `[start, end)` to `target`; the ranges may overlap. */
export function copyWithin(at: Target, target: number, start: number, end?: number): void {
  checkUint(start, 'start');
  const stop = end === undefined ? at.length : checkUint(end, 'end');
  if (stop < start) fail('ERR_MMAP_OUT_OF_BOUNDS', `end ${stop} is before start ${start}`);
  checkRange(start, stop - start, at.length);
  checkRange(target, stop - start, at.length);
  native.copyWithin(at.mapping, at.generation, at.base + target, at.base + start, stop - start);
}

function checkNumber(value: unknown): number {
  if (typeof value !== 'number') fail('ERR_INVALID_ARG_TYPE', `value must be a number, got ${describe(value)}`);
  return value;
}

function checkBigInt(value: unknown): bigint {
  if (typeof value !== 'bigint') fail('ERR_INVALID_ARG_TYPE', `value must be a bigint, got ${describe(value)}`);
  return value;
}

// Each mirrors the DataView method of its name, except that a value of the
// wrong type is refused (as Buffer's writers do) rather than converted, so
// that no user code (valueOf) runs in the middle of a call.
/** @internal */ export function getInt8(at: Target, offset: number): number { load(at, offset, 1); return scratchView.getInt8(0); }
/** @internal */ export function getUint8(at: Target, offset: number): number { load(at, offset, 1); return scratchView.getUint8(0); }
/** @internal */ export function getInt16(at: Target, offset: number, le = false): number { load(at, offset, 2); return scratchView.getInt16(0, le); }
/** @internal */ export function getUint16(at: Target, offset: number, le = false): number { load(at, offset, 2); return scratchView.getUint16(0, le); }
/** @internal */ export function getInt32(at: Target, offset: number, le = false): number { load(at, offset, 4); return scratchView.getInt32(0, le); }
/** @internal */ export function getUint32(at: Target, offset: number, le = false): number { load(at, offset, 4); return scratchView.getUint32(0, le); }
/** @internal */ export function getBigInt64(at: Target, offset: number, le = false): bigint { load(at, offset, 8); return scratchView.getBigInt64(0, le); }
/** @internal */ export function getBigUint64(at: Target, offset: number, le = false): bigint { load(at, offset, 8); return scratchView.getBigUint64(0, le); }
/** @internal */ export function getFloat32(at: Target, offset: number, le = false): number { load(at, offset, 4); return scratchView.getFloat32(0, le); }
/** @internal */ export function getFloat64(at: Target, offset: number, le = false): number { load(at, offset, 8); return scratchView.getFloat64(0, le); }

/** @internal */ export function setInt8(at: Target, offset: number, value: number): void { scratchView.setInt8(0, checkNumber(value)); store(at, offset, 1); }
/** @internal */ export function setUint8(at: Target, offset: number, value: number): void { scratchView.setUint8(0, checkNumber(value)); store(at, offset, 1); }
/** @internal */ export function setInt16(at: Target, offset: number, value: number, le = false): void { scratchView.setInt16(0, checkNumber(value), le); store(at, offset, 2); }
/** @internal */ export function setUint16(at: Target, offset: number, value: number, le = false): void { scratchView.setUint16(0, checkNumber(value), le); store(at, offset, 2); }
/** @internal */ export function setInt32(at: Target, offset: number, value: number, le = false): void { scratchView.setInt32(0, checkNumber(value), le); store(at, offset, 4); }
/** @internal */ export function setUint32(at: Target, offset: number, value: number, le = false): void { scratchView.setUint32(0, checkNumber(value), le); store(at, offset, 4); }
/** @internal */ export function setBigInt64(at: Target, offset: number, value: bigint, le = false): void { scratchView.setBigInt64(0, checkBigInt(value), le); store(at, offset, 8); }
/** @internal */ export function setBigUint64(at: Target, offset: number, value: bigint, le = false): void { scratchView.setBigUint64(0, checkBigInt(value), le); store(at, offset, 8); }
/** @internal */ export function setFloat32(at: Target, offset: number, value: number, le = false): void { scratchView.setFloat32(0, checkNumber(value), le); store(at, offset, 4); }
/** @internal */ export function setFloat64(at: Target, offset: number, value: number, le = false): void { scratchView.setFloat64(0, checkNumber(value), le); store(at, offset, 8); }

// How spans reach their target (set in MmapSpan's static block): checked,
// so that a method called on a foreign object throws a coded error.
let spanTarget: (span: unknown) => Target;
let spanMutTarget: (span: unknown) => Target;
// Only makeSpan() may construct spans: a span over anything but a handle's
// target must not exist.
const spanKey = Symbol('memmap span');

/** @internal A span of the handle whose target is `at`. */
export function makeSpan<S extends MmapSpan>(Span: { readonly prototype: S }, at: Target, offset: number, length: number): S {
  return new (Span as unknown as new (key: symbol, at: Target, offset: number, length: number) => S)(spanKey, at, offset, length);
}

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
  readonly #at: Target;

  static {
    spanTarget = (span) => {
      if (typeof span !== 'object' || span === null || !(#at in span)) {
        fail('ERR_INVALID_ARG_TYPE', `span methods must be called on a span, got ${describe(span)}`);
      }
      return (span as MmapSpan).#at;
    };
  }

  /** Spans come from `span()` on a handle: this constructor is not for calling. */
  protected constructor(key: symbol, handle: object, offset: number, length: number) {
    if (key !== spanKey) fail('ERR_ILLEGAL_CONSTRUCTOR', "spans are made by a handle's span()");
    const { mapping, generation, length: size } = handle as Target;
    checkRange(offset, checkUint(length, 'length'), size);
    this.#at = { mapping, generation, base: offset, length, bound: "the span's length" };
  }

  /** Where the span starts in its handle. */
  get offset(): number {
    return spanTarget(this).base;
  }

  /** The span's length in bytes. */
  get length(): number {
    return spanTarget(this).length;
  }

  /** A copy of `length` bytes at `offset`. */
  read(offset: number, length: number): Uint8Array { return read(spanTarget(this), offset, length); }
  /** Fills `target` (any TypedArray or DataView) with the bytes at `offset`; returns it. */
  readInto<T extends ArrayBufferView>(offset: number, target: T): T { return readInto(spanTarget(this), offset, target); }
  /** As `DataView.getInt8`. */
  getInt8(offset: number): number { return getInt8(spanTarget(this), offset); }
  /** As `DataView.getUint8`. */
  getUint8(offset: number): number { return getUint8(spanTarget(this), offset); }
  /** As `DataView.getInt16`. */
  getInt16(offset: number, littleEndian?: boolean): number { return getInt16(spanTarget(this), offset, littleEndian); }
  /** As `DataView.getUint16`. */
  getUint16(offset: number, littleEndian?: boolean): number { return getUint16(spanTarget(this), offset, littleEndian); }
  /** As `DataView.getInt32`. */
  getInt32(offset: number, littleEndian?: boolean): number { return getInt32(spanTarget(this), offset, littleEndian); }
  /** As `DataView.getUint32`. */
  getUint32(offset: number, littleEndian?: boolean): number { return getUint32(spanTarget(this), offset, littleEndian); }
  /** As `DataView.getBigInt64`. */
  getBigInt64(offset: number, littleEndian?: boolean): bigint { return getBigInt64(spanTarget(this), offset, littleEndian); }
  /** As `DataView.getBigUint64`. */
  getBigUint64(offset: number, littleEndian?: boolean): bigint { return getBigUint64(spanTarget(this), offset, littleEndian); }
  /** As `DataView.getFloat32`. */
  getFloat32(offset: number, littleEndian?: boolean): number { return getFloat32(spanTarget(this), offset, littleEndian); }
  /** As `DataView.getFloat64`. */
  getFloat64(offset: number, littleEndian?: boolean): number { return getFloat64(spanTarget(this), offset, littleEndian); }
}

/** A span of an {@link MmapMut}, made by `MmapMut.span()`: {@link MmapSpan} plus the writing accessors. */
export class MmapSpanMut extends MmapSpan {
  // Only writable spans have it: the writing methods, called on a read-only
  // span, must not write.
  readonly #writable = true;

  static {
    spanMutTarget = (span) => {
      if (typeof span !== 'object' || span === null || !(#writable in span)) {
        fail('ERR_INVALID_ARG_TYPE', `MmapSpanMut methods must be called on an MmapSpanMut, got ${describe(span)}`);
      }
      return spanTarget(span);
    };
  }

  /** Copies `source` (any TypedArray or DataView) to `offset`. */
  write(offset: number, source: ArrayBufferView): void { write(spanMutTarget(this), offset, source); }
  /** Sets `length` bytes (default: the rest) from `offset` (default 0) to the byte `value`. */
  fill(value: number, offset?: number, length?: number): void { fill(spanMutTarget(this), value, offset, length); }
  /** Copies `[start, end)` (end defaults to the length) to `target`; the ranges may overlap. */
  copyWithin(target: number, start: number, end?: number): void { copyWithin(spanMutTarget(this), target, start, end); }
  /** As `DataView.setInt8`. */
  setInt8(offset: number, value: number): void { setInt8(spanMutTarget(this), offset, value); }
  /** As `DataView.setUint8`. */
  setUint8(offset: number, value: number): void { setUint8(spanMutTarget(this), offset, value); }
  /** As `DataView.setInt16`. */
  setInt16(offset: number, value: number, littleEndian?: boolean): void { setInt16(spanMutTarget(this), offset, value, littleEndian); }
  /** As `DataView.setUint16`. */
  setUint16(offset: number, value: number, littleEndian?: boolean): void { setUint16(spanMutTarget(this), offset, value, littleEndian); }
  /** As `DataView.setInt32`. */
  setInt32(offset: number, value: number, littleEndian?: boolean): void { setInt32(spanMutTarget(this), offset, value, littleEndian); }
  /** As `DataView.setUint32`. */
  setUint32(offset: number, value: number, littleEndian?: boolean): void { setUint32(spanMutTarget(this), offset, value, littleEndian); }
  /** As `DataView.setBigInt64`. */
  setBigInt64(offset: number, value: bigint, littleEndian?: boolean): void { setBigInt64(spanMutTarget(this), offset, value, littleEndian); }
  /** As `DataView.setBigUint64`. */
  setBigUint64(offset: number, value: bigint, littleEndian?: boolean): void { setBigUint64(spanMutTarget(this), offset, value, littleEndian); }
  /** As `DataView.setFloat32`. */
  setFloat32(offset: number, value: number, littleEndian?: boolean): void { setFloat32(spanMutTarget(this), offset, value, littleEndian); }
  /** As `DataView.setFloat64`. */
  setFloat64(offset: number, value: number, littleEndian?: boolean): void { setFloat64(spanMutTarget(this), offset, value, littleEndian); }
}
