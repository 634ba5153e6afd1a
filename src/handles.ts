/**
 * The typestate handles: what a mapping may be used for is its type.
 *
 * | handle | pages | made by |
 * | --- | --- | --- |
 * | {@link MmapNone} | committed, inaccessible | `mapNone()`, `makeNone()` |
 * | {@link Mmap} | read-only or read+execute | `map()`, `mapExec()`, `makeReadOnly()`, `makeExec()` |
 * | {@link MmapMut} | read+write (or RWX with `JIT`) | `mapMut()`, `mapExecMut()`, `makeMut()`, `makeExecMut()` |
 * | {@link ReservedNone}, {@link Reserved}, {@link ReservedMut} | address space only | `reserve*()` |
 *
 * Ending a handle (`unmap()`, any `makeX()`, a split, a merge, garbage
 * collection) detaches every ArrayBuffer it handed out: old views read as
 * length 0, and nothing can reach the pages through them again.
 * @packageDocumentation
 */
import { constants as bufferConstants } from 'node:buffer';
import * as access from './accessors';
import { MmapSpan, MmapSpanMut } from './accessors';
import type { NativeMapping } from './binding';
import { fail } from './errors';
import { Access, Protection, UnsafeMmapFlags } from './flags';
import { encodeSignature, FunctionSignature, GeneratedFunction } from './function';
import { checkRange, checkUint, isMultiple } from './validate';

/** @internal What travels with a handle through splits and `makeX()`. */
export interface HandleState {
  readonly access: number;
  readonly flags: number;
  readonly unsafeFlags: number;
  /** The size of the mapping's pages: the base page, or a huge page size. */
  readonly pageSize: number;
}

/**
 * A Uint8Array that the type system does not let you write through, as
 * mmap-rs's `Deref<Target = [u8]>` on `Mmap`.
 */
export type ReadonlyBytes = Omit<
  Uint8Array,
  number | 'set' | 'fill' | 'copyWithin' | 'reverse' | 'sort' | 'subarray'
> & {
  readonly [index: number]: number;
  /** A read-only window of the same bytes. */
  subarray(begin?: number, end?: number): ReadonlyBytes;
};

/** Advice for {@link MappedHandle.advise}; `madvise(2)` names in camelCase. */
export type Advice =
  | 'normal'
  | 'random'
  | 'sequential'
  | 'willNeed'
  | 'dontNeed'
  | 'free'
  | 'remove'
  | 'cold'
  | 'pageOut'
  | 'hugePage'
  | 'noHugePage'
  | 'dontFork'
  | 'doFork'
  | 'dontDump'
  | 'doDump'
  | 'mergeable'
  | 'unmergeable';

// The order is native/os/os.h's Advice.
const ADVICE: readonly Advice[] = [
  'normal', 'random', 'sequential', 'willNeed', 'dontNeed', 'free', 'remove', 'cold', 'pageOut',
  'hugePage', 'noHugePage', 'dontFork', 'doFork', 'dontDump', 'doDump', 'mergeable', 'unmergeable',
];

/** Where an {@link Handle.intoRaw} handle's pages are, for {@link MmapOptions.mapFromExisting}. */
export interface RawMapping {
  readonly address: bigint;
  readonly size: number;
}

type HandleClass<H> = new (mapping: NativeMapping, state: HandleState) => H;

const isRwx = (access: number) => (access & Protection.WRITE) !== 0 && (access & Protection.EXECUTE) !== 0;

/** @internal RWX needs `UnsafeMmapFlags.JIT`. */
export function checkWritableExec(access: number, unsafeFlags: number): void {
  if (isRwx(access) && (unsafeFlags & UnsafeMmapFlags.JIT) === 0) {
    fail(
      'ERR_MMAP_UNSAFE_FLAG_NEEDED',
      'writable and executable pages need withUnsafeFlags(UnsafeMmapFlags.JIT) on the options',
    );
  }
}

/** What every handle has: its place, its size, and its end. */
export abstract class Handle implements Disposable {
  #mapping: NativeMapping | null;
  /** @internal */
  protected declare readonly state: HandleState;

  /** @internal Handles come from {@link MmapOptions}; do not construct them. */
  constructor(mapping: NativeMapping, state: HandleState) {
    this.#mapping = mapping;
    // Frozen and read-only at run time too: the protection in it guards
    // asFunction() and the page size guards splits.
    Object.defineProperty(this, 'state', { value: Object.freeze({ ...state }), enumerable: false });
  }

  /** The first address (bigint). */
  get start(): bigint {
    return this.live().address;
  }

  /** The address just past the last byte (bigint). */
  get end(): bigint {
    const mapping = this.live();
    return mapping.address + BigInt(mapping.size);
  }

  /** The size in bytes. */
  get size(): number {
    return this.live().size;
  }

  /** Whether the handle was unmapped or consumed; any other use then throws `ERR_MMAP_CLOSED`. */
  get closed(): boolean {
    return this.#mapping === null;
  }

  /**
   * Detaches every view and unmaps the pages now (or, if an asynchronous
   * flush is still running on them, as soon as it ends). Idempotent.
   */
  unmap(): void {
    this.#mapping?.unmap();
    this.retire();
  }

  /** The same as {@link Handle.unmap}, for `using`. */
  [Symbol.dispose](): void {
    this.unmap();
  }

  /**
   * Gives up ownership: views are detached, the pages stay mapped, and the
   * handle is consumed. {@link MmapOptions.mapFromExisting} takes them back.
   */
  intoRaw(): RawMapping {
    const mapping = this.live();
    const raw = { address: mapping.address, size: mapping.size };
    mapping.intoRaw();
    this.retire();
    return raw;
  }

  /**
   * Splits at `at` (a multiple of the mapping's page size, 0 < at < size): this handle
   * keeps `[0, at)` and the returned one holds `[at, size)`. Views of this
   * handle are detached.
   */
  splitOff(at: number): this {
    return this.split(at, true);
  }

  /**
   * Splits at `at` (a multiple of the mapping's page size, 0 < at < size): this handle
   * keeps `[at, size)` and the returned one holds `[0, at)`. Views of this
   * handle are detached.
   */
  splitTo(at: number): this {
    return this.split(at, false);
  }

  /**
   * Takes over `other`, which must start exactly where this handle ends
   * (`ERR_MMAP_MUST_BE_ADJACENT`) and have the same protection and flags
   * (`ERR_MMAP_ATTRIBUTE_MISMATCH`). On success this handle grows and
   * `other` is consumed; on failure both stay valid. Views of both are
   * detached.
   */
  merge(other: this): void {
    const mapping = this.live();
    if (!(other instanceof Handle)) fail('ERR_INVALID_ARG_TYPE', 'merge() takes another handle');
    const next = other.live();
    const end = mapping.address + BigInt(mapping.size);
    if (end !== next.address) {
      fail(
        'ERR_MMAP_MUST_BE_ADJACENT',
        `the handle to merge must start at 0x${end.toString(16)}, where this one ends; it starts at 0x${next.address.toString(16)}`,
      );
    }
    const mine = { type: this.constructor.name, ...this.state };
    const theirs = { type: other.constructor.name, ...other.state };
    const differ = (Object.keys(mine) as (keyof typeof mine)[]).filter((key) => mine[key] !== theirs[key]);
    if (differ.length > 0) {
      const show = (side: typeof mine) => differ.map((key) => `${key} ${String(side[key])}`).join(', ');
      fail('ERR_MMAP_ATTRIBUTE_MISMATCH', `handles to merge must match: this one has ${show(mine)}; the other has ${show(theirs)}`);
    }
    try {
      mapping.absorb(next);
    } finally {
      // The native side detached both handles' views, whatever the outcome.
      this.forgetViews();
      other.forgetViews();
    }
    other.retire();
  }

  /** @internal The native mapping, or ERR_MMAP_CLOSED. */
  protected live(): NativeMapping {
    return this.#mapping ?? fail('ERR_MMAP_CLOSED', 'the handle was unmapped or consumed');
  }

  /** @internal Ends this handle and gives its mapping to a new one of `Target`. */
  protected handOver<H>(Target: HandleClass<H>, state: HandleState): H {
    const mapping = this.live();
    this.retire();
    return new Target(mapping, state);
  }

  /** @internal Drops cached views (they were detached natively). */
  protected forgetViews(): void {}

  private retire(): void {
    this.#mapping = null;
    this.forgetViews();
  }

  private split(at: number, keepLow: boolean): this {
    const mapping = this.live();
    const pageSize = this.state.pageSize;
    if (!Number.isSafeInteger(at) || at <= 0 || at >= mapping.size || !isMultiple(at, pageSize)) {
      fail(
        'ERR_MMAP_INVALID_OFFSET',
        `split point must be a multiple of the page size ${pageSize} strictly between 0 and the size ${mapping.size}, got ${String(at)}`,
      );
    }
    let piece: NativeMapping;
    try {
      piece = mapping.split(at, keepLow);
    } finally {
      this.forgetViews(); // detached natively, whatever the outcome
    }
    return new (this.constructor as HandleClass<this>)(piece, this.state);
  }
}

/** Operations of committed mappings ({@link MmapNone}, {@link Mmap}, {@link MmapMut}). */
export abstract class MappedHandle extends Handle {
  /** Locks the range's pages in memory (`mlock`). Range defaults to the whole handle. */
  lock(offset = 0, length?: number): void {
    this.live().lock(...this.pageRange(offset, length));
  }

  /** Locks pages as they are faulted in (`mlock2(MLOCK_ONFAULT)`); `ERR_MMAP_UNSUPPORTED` where the OS lacks it. */
  lockOnFault(offset = 0, length?: number): void {
    this.live().lockOnFault(...this.pageRange(offset, length));
  }

  /** Unlocks the range's pages (`munlock`). */
  unlock(offset = 0, length?: number): void {
    this.live().unlock(...this.pageRange(offset, length));
  }

  /**
   * Writes the range's dirty pages back to the file and waits until they are
   * durable (`msync(MS_SYNC)`; Windows `FlushViewOfFile` + `FlushFileBuffers`).
   */
  flush(offset = 0, length?: number): void {
    this.live().flush(...this.pageRange(offset, length));
  }

  /**
   * {@link MappedHandle.flush} off the event loop: resolves once the range is
   * durable. The pages stay mapped until it settles, even if the handle is
   * unmapped meanwhile; splits and merges throw `ERR_MMAP_BUSY` until then.
   */
  flushAsync(offset = 0, length?: number): Promise<void> {
    try {
      return this.live().flushAsync(...this.pageRange(offset, length));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Advises the kernel about the range (`madvise`). An advice this platform
   * lacks throws `ERR_MMAP_UNSUPPORTED`: an explicit request never passes
   * silently.
   */
  advise(advice: Advice, offset = 0, length?: number): void {
    const code = ADVICE.indexOf(advice);
    if (code < 0) fail('ERR_INVALID_ARG_VALUE', `advice must be one of ${ADVICE.join(', ')}, got ${String(advice)}`);
    this.live().advise(code, ...this.pageRange(offset, length));
  }

  /** Makes the instruction cache coherent with the handle's bytes. */
  flushIcache(): void {
    this.live().flushIcache();
  }

  /** Consumes the handle; its pages become inaccessible. */
  makeNone(): MmapNone {
    return this.remake(MmapNone, Access.NONE);
  }

  /** Consumes the handle; its pages become read-only. */
  makeReadOnly(): Mmap {
    return this.remake(Mmap, Access.READ);
  }

  /** Consumes the handle; its pages become read+execute, and the instruction cache is flushed. */
  makeExec(): Mmap {
    const handle = this.remake(Mmap, Access.EXEC);
    handle.flushIcache();
    return handle;
  }

  /** As {@link MappedHandle.makeExec}, without flushing the instruction cache: only for code already coherent. */
  makeExecNoFlush(): Mmap {
    return this.remake(Mmap, Access.EXEC);
  }

  /** Consumes the handle; its pages become read+write. */
  makeMut(): MmapMut {
    return this.remake(MmapMut, Access.MUT);
  }

  /** Consumes the handle; its pages become read+write+execute. Needs `UnsafeMmapFlags.JIT`. */
  makeExecMut(): MmapMut {
    return this.remake(MmapMut, Access.EXEC_MUT);
  }

  /** Validates a range and widens its start to a page boundary, as the OS calls need. */
  private pageRange(offset: number, length: number | undefined): [number, number] {
    const size = this.live().size;
    const checked = checkRange(offset, length, size);
    const start = offset - (offset % this.state.pageSize);
    return [start, offset + checked - start];
  }

  private remake<H>(Target: HandleClass<H>, access: number): H {
    checkWritableExec(access, this.state.unsafeFlags);
    try {
      this.live().protect(access);
    } catch (error) {
      this.forgetViews(); // detached before the protection changed
      throw error;
    }
    return this.handOver(Target, { ...this.state, access });
  }
}

const MAX_VIEW_LENGTH = bufferConstants.MAX_LENGTH;

/** Zero-copy access, shared by {@link Mmap} and {@link MmapMut}. */
abstract class BytesHandle extends MappedHandle {
  #bytes: Uint8Array | undefined;

  /**
   * Calls the machine code at `offset` as a C function of `signature`, with
   * the platform's calling convention. The handle must be executable
   * (`ERR_MMAP_NOT_EXECUTABLE`); once it is unmapped or consumed, the
   * function throws `ERR_MMAP_CLOSED` instead of running.
   */
  asFunction<const S extends FunctionSignature>(offset: number, signature: S): GeneratedFunction<S> {
    const mapping = this.live();
    if ((this.state.access & Protection.EXECUTE) === 0) {
      fail('ERR_MMAP_NOT_EXECUTABLE', 'asFunction() needs an executable handle: use mapExec() or makeExec()');
    }
    checkUint(offset, 'offset');
    if (offset >= mapping.size) {
      fail('ERR_MMAP_OUT_OF_BOUNDS', `offset ${offset} is not inside the mapping of size ${mapping.size}`);
    }
    const jit = (this.state.unsafeFlags & UnsafeMmapFlags.JIT) !== 0;
    return mapping.function(offset, { ...encodeSignature(signature), jit }) as GeneratedFunction<S>;
  }

  /** @internal */
  protected wholeBytes(): Uint8Array {
    if (this.#bytes === undefined) {
      const mapping = this.live();
      if (mapping.size > MAX_VIEW_LENGTH) {
        fail(
          'ERR_MMAP_VIEW_TOO_LARGE',
          `the mapping's ${mapping.size} bytes exceed this runtime's ArrayBuffer limit of ${MAX_VIEW_LENGTH}; use view(offset, length)`,
        );
      }
      this.#bytes = new Uint8Array(mapping.view(0, mapping.size));
    }
    return this.#bytes;
  }

  /** @internal */
  protected window(offset: number, length: number): Uint8Array {
    const mapping = this.live();
    checkRange(offset, length, mapping.size);
    if (length > MAX_VIEW_LENGTH) {
      fail(
        'ERR_MMAP_VIEW_TOO_LARGE',
        `a view of ${length} bytes exceeds this runtime's ArrayBuffer limit of ${MAX_VIEW_LENGTH}`,
      );
    }
    return new Uint8Array(mapping.view(offset, length));
  }

  protected override forgetViews(): void {
    this.#bytes = undefined;
  }

  // The copying accessors (src/accessors.ts): faults throw ERR_MMAP_FAULT, and no external buffer is needed.
  /** A window whose accessors count offsets from `offset`; see {@link MmapSpan}. */
  span(offset: number, length: number): MmapSpan { return new MmapSpan(this.live(), offset, length); }
  /** A copy of `length` bytes at `offset`. */
  read(offset: number, length: number): Uint8Array { return access.read(this.live(), offset, length); }
  /** Fills `target` (any TypedArray or DataView) with the bytes at `offset`; returns it. */
  readInto<T extends ArrayBufferView>(offset: number, target: T): T { return access.readInto(this.live(), offset, target); }
  /** As `DataView.getInt8`. */
  getInt8(offset: number): number { return access.getInt8(this.live(), offset); }
  /** As `DataView.getUint8`. */
  getUint8(offset: number): number { return access.getUint8(this.live(), offset); }
  /** As `DataView.getInt16`. */
  getInt16(offset: number, littleEndian?: boolean): number { return access.getInt16(this.live(), offset, littleEndian); }
  /** As `DataView.getUint16`. */
  getUint16(offset: number, littleEndian?: boolean): number { return access.getUint16(this.live(), offset, littleEndian); }
  /** As `DataView.getInt32`. */
  getInt32(offset: number, littleEndian?: boolean): number { return access.getInt32(this.live(), offset, littleEndian); }
  /** As `DataView.getUint32`. */
  getUint32(offset: number, littleEndian?: boolean): number { return access.getUint32(this.live(), offset, littleEndian); }
  /** As `DataView.getBigInt64`. */
  getBigInt64(offset: number, littleEndian?: boolean): bigint { return access.getBigInt64(this.live(), offset, littleEndian); }
  /** As `DataView.getBigUint64`. */
  getBigUint64(offset: number, littleEndian?: boolean): bigint { return access.getBigUint64(this.live(), offset, littleEndian); }
  /** As `DataView.getFloat32`. */
  getFloat32(offset: number, littleEndian?: boolean): number { return access.getFloat32(this.live(), offset, littleEndian); }
  /** As `DataView.getFloat64`. */
  getFloat64(offset: number, littleEndian?: boolean): number { return access.getFloat64(this.live(), offset, littleEndian); }
}

/** Committed pages that cannot be accessed (`PROT_NONE`). */
export class MmapNone extends MappedHandle {}

/** Read-only (or read+execute) pages. */
export class Mmap extends BytesHandle {
  /**
   * The whole mapping, zero copy; the same object on every read. Typed so
   * that writes do not compile. `ERR_MMAP_VIEW_TOO_LARGE` above the
   * runtime's ArrayBuffer limit (2^32 bytes on Node 20): use `view()`.
   */
  get bytes(): ReadonlyBytes {
    return this.wholeBytes();
  }

  /** The ArrayBuffer behind {@link Mmap.bytes}. */
  get buffer(): ArrayBuffer {
    return this.wholeBytes().buffer as ArrayBuffer;
  }

  /** A zero-copy window `[offset, offset + length)`, reaching any byte of any size of mapping. */
  view(offset: number, length: number): ReadonlyBytes {
    return this.window(offset, length);
  }
}

/** Read+write pages (read+write+execute with `UnsafeMmapFlags.JIT`). */
export class MmapMut extends BytesHandle {
  /**
   * The whole mapping, zero copy; the same object on every read.
   * `ERR_MMAP_VIEW_TOO_LARGE` above the runtime's ArrayBuffer limit (2^32
   * bytes on Node 20): use `view()`.
   */
  get bytes(): Uint8Array {
    return this.wholeBytes();
  }

  /** The ArrayBuffer behind {@link MmapMut.bytes}. */
  get buffer(): ArrayBuffer {
    return this.wholeBytes().buffer as ArrayBuffer;
  }

  /** A zero-copy window `[offset, offset + length)`, reaching any byte of any size of mapping. */
  view(offset: number, length: number): Uint8Array {
    return this.window(offset, length);
  }

  // The writing accessors (src/accessors.ts).
  /** A window whose accessors count offsets from `offset`; see {@link MmapSpanMut}. */
  override span(offset: number, length: number): MmapSpanMut { return new MmapSpanMut(this.live(), offset, length); }
  /** Copies `source` (any TypedArray or DataView) to `offset`. */
  write(offset: number, source: ArrayBufferView): void { access.write(this.live(), offset, source); }
  /** Sets `length` bytes (default: the rest) from `offset` (default 0) to the byte `value`. */
  fill(value: number, offset?: number, length?: number): void { access.fill(this.live(), value, offset, length); }
  /** Copies `[start, end)` (end defaults to the size) to `target`; the ranges may overlap. */
  copyWithin(target: number, start: number, end?: number): void { access.copyWithin(this.live(), target, start, end); }
  /** As `DataView.setInt8`. */
  setInt8(offset: number, value: number): void { access.setInt8(this.live(), offset, value); }
  /** As `DataView.setUint8`. */
  setUint8(offset: number, value: number): void { access.setUint8(this.live(), offset, value); }
  /** As `DataView.setInt16`. */
  setInt16(offset: number, value: number, littleEndian?: boolean): void { access.setInt16(this.live(), offset, value, littleEndian); }
  /** As `DataView.setUint16`. */
  setUint16(offset: number, value: number, littleEndian?: boolean): void { access.setUint16(this.live(), offset, value, littleEndian); }
  /** As `DataView.setInt32`. */
  setInt32(offset: number, value: number, littleEndian?: boolean): void { access.setInt32(this.live(), offset, value, littleEndian); }
  /** As `DataView.setUint32`. */
  setUint32(offset: number, value: number, littleEndian?: boolean): void { access.setUint32(this.live(), offset, value, littleEndian); }
  /** As `DataView.setBigInt64`. */
  setBigInt64(offset: number, value: bigint, littleEndian?: boolean): void { access.setBigInt64(this.live(), offset, value, littleEndian); }
  /** As `DataView.setBigUint64`. */
  setBigUint64(offset: number, value: bigint, littleEndian?: boolean): void { access.setBigUint64(this.live(), offset, value, littleEndian); }
  /** As `DataView.setFloat32`. */
  setFloat32(offset: number, value: number, littleEndian?: boolean): void { access.setFloat32(this.live(), offset, value, littleEndian); }
  /** As `DataView.setFloat64`. */
  setFloat64(offset: number, value: number, littleEndian?: boolean): void { access.setFloat64(this.live(), offset, value, littleEndian); }
}

/**
 * Reserved address space: no memory and no commit charge until `commit()`.
 * The `makeX()` calls choose the protection `commit()` will apply.
 */
export abstract class ReservedHandle extends Handle {
  /** Consumes the handle; it will commit inaccessible. */
  makeNone(): ReservedNone {
    return this.reprotect(ReservedNone, Access.NONE);
  }

  /** Consumes the handle; it will commit read-only. */
  makeReadOnly(): Reserved {
    return this.reprotect(Reserved, Access.READ);
  }

  /** Consumes the handle; it will commit read+execute. */
  makeExec(): Reserved {
    return this.reprotect(Reserved, Access.EXEC);
  }

  /** Consumes the handle; it will commit read+write. */
  makeMut(): ReservedMut {
    return this.reprotect(ReservedMut, Access.MUT);
  }

  /** Consumes the handle; it will commit read+write+execute. Needs `UnsafeMmapFlags.JIT`. */
  makeExecMut(): ReservedMut {
    return this.reprotect(ReservedMut, Access.EXEC_MUT);
  }

  /** @internal Commits the pages with the handle's protection and consumes it. */
  protected commitAs<H>(Target: HandleClass<H>): H {
    this.live().commit(this.state.access);
    return this.handOver(Target, this.state);
  }

  // Nothing is mapped accessibly yet: only the protection to commit with changes.
  private reprotect<H>(Target: HandleClass<H>, access: number): H {
    checkWritableExec(access, this.state.unsafeFlags);
    return this.handOver(Target, { ...this.state, access });
  }
}

/** Reserved address space that commits inaccessible. */
export class ReservedNone extends ReservedHandle {
  /** Commits the pages; consumes this handle. */
  commit(): MmapNone {
    return this.commitAs(MmapNone);
  }
}

/** Reserved address space that commits read-only (or read+execute). */
export class Reserved extends ReservedHandle {
  /** Commits the pages; consumes this handle. */
  commit(): Mmap {
    return this.commitAs(Mmap);
  }
}

/** Reserved address space that commits read+write. */
export class ReservedMut extends ReservedHandle {
  /** Commits the pages; consumes this handle. */
  commit(): MmapMut {
    return this.commitAs(MmapMut);
  }
}
