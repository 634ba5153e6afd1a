/// <reference lib="esnext.disposable" preserve="true" />
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
 * Ending a handle (`unmap()`, any `makeX()`, merging it into another,
 * garbage collection) detaches every ArrayBuffer it handed out: old views
 * read as length 0, and nothing can reach the pages through them again. A
 * split or merge detaches the views of the handles that go on, too.
 * @packageDocumentation
 */
import { constants as bufferConstants } from 'node:buffer';
import * as access from './accessors';
import { makeSpan, MmapSpan, MmapSpanMut, Target, wholeTarget } from './accessors';
import * as fs from 'node:fs';
import { native, NativeMapping, PAGE_SIZE } from './binding';
import { fail, failUnreadable } from './errors';
import { Access, MmapFlags, Protection, UnsafeMmapFlags } from './flags';
import { encodeSignature, FunctionSignature, GeneratedFunction } from './function';
import { checkRange, checkSize, checkUint, describe, isMultiple } from './validate';

/** @internal What travels with a handle through splits and `makeX()`. */
export interface HandleState {
  readonly access: number;
  readonly flags: number;
  readonly unsafeFlags: number;
  /** The size of the mapping's pages: the base page, or a huge page size. */
  readonly pageSize: number;
}

/**
 * A `Uint8Array` over an `ArrayBuffer`: `Uint8Array<ArrayBuffer>` in
 * TypeScript 5.7 and later, where typed arrays are generic, and plain
 * `Uint8Array` before. Views of a mapping are this.
 */
export type Bytes = ReturnType<typeof Uint8Array.of>;

/**
 * The bytes of a read-only mapping, as mmap-rs's `Deref<Target = [u8]>` on
 * `Mmap`: accepted wherever a `Uint8Array` or `ArrayBufferView` is only read
 * (`crypto`, `zlib`, `fs.writeSync`, `Buffer.compare`, `Blob`,
 * `TextDecoder`, `WebAssembly.Module`, ...), while every write through it
 * (`bytes[0] = 1`, `set`, `fill`, `copyWithin`, `reverse`, `sort`, and
 * writes through a `subarray()`) does not compile. The pages are read-only:
 * a write would kill the process. `buffer` is the one way around the types
 * (as for any typed array); {@link Mmap.buffer} is typed so that it is not.
 */
export interface ReadonlyBytes extends Bytes {
  readonly [index: number]: number;
  /** Writing: does not compile. */
  set(array: never, offset?: never): void;
  /** Writing: does not compile. */
  fill(value: never, start?: never, end?: never): this;
  /** Writing: does not compile. */
  copyWithin(target: never, start: never, end?: never): this;
  /** Writing in place: does not compile (`toReversed()` makes a copy). */
  reverse(this: never): this;
  /** Writing in place: does not compile (`toSorted()` makes a copy). */
  sort(this: never, compareFn?: never): this;
  /** A read-only window of the same bytes. */
  subarray(begin?: number, end?: number): ReadonlyBytes;
}

/**
 * The `ArrayBuffer` of a read-only mapping, typed so that nothing can view
 * it writably: no typed array or `DataView` constructor accepts it. Read
 * through {@link Mmap.bytes}; `slice()` makes a copy, which is yours to write.
 */
export interface ReadonlyArrayBuffer {
  /** The mapping's size in bytes (0 once the handle ended). */
  readonly byteLength: number;
  /** A copy of `[begin, end)`, in memory of its own: yours to write. */
  slice(begin?: number, end?: number): ArrayBuffer;
}

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
  /** Where the pages start. */
  readonly address: bigint;
  /** How many bytes they span. */
  readonly size: number;
}

/** @internal The `kind` of every {@link SharedMappingToken}. */
export const SHARED_MAPPING_TOKEN = 'memmap.shared-mapping';

/**
 * What {@link Handle.share} returns: plain data, to post to a worker and
 * hand to {@link MmapOptions.fromShared} there.
 */
export interface SharedMappingToken {
  /** Always `'memmap.shared-mapping'`: what fromShared() takes. */
  readonly kind: 'memmap.shared-mapping';
  /** Names the shared pages in this process. */
  readonly id: number;
  /** The handle class `fromShared()` makes: `'MmapMut'`, `'Mmap'`, ... */
  readonly type: string;
  /** The size in bytes. */
  readonly size: number;
}

/** What {@link MmapMut.wait} answers, as `Atomics.wait` does. */
export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

/** What {@link MappedHandle.residency} reports. */
export interface Residency {
  /** How many pages the range spans. */
  readonly pages: number;
  /** How many of them are resident. */
  readonly resident: number;
  /** One bit per page, set where resident: page `i` is bit `i % 8` of byte `i >> 3`. */
  readonly bitmap: Uint8Array;
}

/** Options of {@link Handle.remap}. */
export interface RemapOptions {
  /** Let the mapping move when it cannot grow where it is (default false: `start` never changes). */
  readonly mayMove?: boolean;
  /**
   * For a file mapping that grows: the file, if the descriptor it was mapped
   * with has been closed since (it must be the same file, by device and inode).
   */
  readonly file?: number | {
    /** Its descriptor, as a `FileHandle` has it. */
    readonly fd: number;
  };
}

/** What a file or shared-memory mapping covers, for remap() to check growth against. */
type Backing =
  | { readonly kind: 'file'; readonly fd: number; readonly dev: number; readonly ino: number; readonly offset: number }
  | { readonly kind: 'shared memory'; readonly size: number; readonly offset: number };

/** @internal The backing of each native mapping that has one (set by MmapOptions, kept through splits). */
export const backings = new WeakMap<NativeMapping, Backing>();

/** `backing` moved `by` bytes into the file. */
function advanced(backing: Backing, by: number): Backing {
  return { ...backing, offset: backing.offset + by };
}

/** @internal A handle class. Their constructors are protected: handles are made by construct(). */
export type HandleClass<H> = { readonly prototype: H; readonly name: string };

/** @internal A new handle of `Class` over `mapping`. */
export function construct<H>(Class: HandleClass<H>, mapping: NativeMapping, state: HandleState): H {
  return new (Class as unknown as new (mapping: NativeMapping, state: HandleState) => H)(mapping, state);
}

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

const MAX_VIEW_LENGTH = bufferConstants.MAX_LENGTH;

// At teardown Node finalizes external buffers newest first, and memmap must
// sort out its views before that (native/addon.h): the teardown sentinel is
// renewed once per turn in which views were made, so it stays the newest.
let sentinelRenewalQueued = false;
function renewSentinel(): void {
  if (!sentinelRenewalQueued) return;
  sentinelRenewalQueued = false;
  native.refreshSentinel();
}
// A promise reaction rather than queueMicrotask(), which makes an
// AsyncResource per call: that cost a cold first view about 0.2 ms.
const turnEnd = Promise.resolve();
function viewMade(): void {
  if (sentinelRenewalQueued) return;
  sentinelRenewalQueued = true;
  void turnEnd.then(renewSentinel);
}
// process.exit() runs no more microtasks, but 'exit' listeners; a
// terminated worker runs neither, and its views are then kept to be safe.
process.on('exit', renewSentinel);

// Every method reaches its handle's private state through these (set in
// Handle's static block), never through `this.something()`: a lookup on
// `this` walks a prototype chain the caller may have replaced, and a foreign
// `this` must throw a coded error. Arguments are read and checked first;
// the target is taken last, right before the native call.
/** The live target of `handle`: ERR_INVALID_ARG_TYPE for anything but a handle, ERR_MMAP_CLOSED once it ended. */
let live: (handle: unknown) => Target;
let stateOf: (handle: Handle) => HandleState;
/** Ends `handle` (its mapping went to another handle, or away); forgets its cached view. */
let retire: (handle: Handle) => void;
/** Forgets the cached whole-mapping view: the native side detached it. */
let forgetBytes: (handle: Handle) => void;
/** After a split or merge the handle goes on over a resized region, in a new generation. */
let renew: (handle: Handle) => void;
let classOf: (handle: Handle) => HandleClass<Handle>;
let wholeBytes: (handle: Handle) => Bytes;
/** As live(), for an MmapMut only (set in MmapMut's static block). */
let liveMut: (handle: unknown) => Target;

function checkHandle(value: unknown, what: string): asserts value is Handle {
  if (!Handle.isHandle(value)) fail('ERR_INVALID_ARG_TYPE', `${what} must be a memmap handle, got ${describe(value)}`);
}

/** What every handle has: its place, its size, and its end. */
export abstract class Handle implements Disposable {
  #at: Target | null;
  #bytes: Bytes | undefined;
  readonly #class: HandleClass<Handle>;
  // Out of JavaScript's reach: the protection in it guards asFunction() and
  // the page size guards splits. Never changed: a new state is a new object.
  readonly #state: HandleState;

  static {
    live = (handle) => {
      checkHandle(handle, 'this');
      return handle.#at ?? fail('ERR_MMAP_CLOSED', 'the handle was unmapped or consumed');
    };
    stateOf = (handle) => handle.#state;
    retire = (handle) => {
      handle.#at = null;
      handle.#bytes = undefined;
    };
    forgetBytes = (handle) => {
      handle.#bytes = undefined;
    };
    renew = (handle) => {
      handle.#at = wholeTarget(handle.#at!.mapping);
    };
    classOf = (handle) => handle.#class;
    wholeBytes = (handle) => {
      const at = live(handle);
      if (handle.#bytes === undefined) {
        if (at.length > MAX_VIEW_LENGTH) {
          fail(
            'ERR_MMAP_VIEW_TOO_LARGE',
            `the mapping's ${at.length} bytes exceed this runtime's ArrayBuffer limit of ${MAX_VIEW_LENGTH}; use view(offset, length)`,
          );
        }
        handle.#bytes = new Uint8Array(at.mapping.view(0, at.length));
        viewMade();
      }
      return handle.#bytes;
    };
  }

  /** @internal Whether `value` is a handle (a brand check: no user code runs, not even a Proxy's). */
  static isHandle(value: unknown): value is Handle {
    return typeof value === 'object' && value !== null && #at in value;
  }

  /** Handles come from {@link MmapOptions}: this constructor is not for calling. */
  protected constructor(mapping: object, state: object) {
    this.#at = wholeTarget(mapping as NativeMapping);
    this.#class = new.target as unknown as HandleClass<Handle>;
    this.#state = state as HandleState;
  }

  /** The first address (bigint). */
  get start(): bigint {
    return live(this).mapping.address;
  }

  /** The address just past the last byte (bigint). */
  get end(): bigint {
    const at = live(this);
    return at.mapping.address + BigInt(at.length);
  }

  /** The size in bytes. */
  get size(): number {
    return live(this).length;
  }

  /** Whether the handle was unmapped or consumed; any other use then throws `ERR_MMAP_CLOSED`. */
  get closed(): boolean {
    checkHandle(this, 'this');
    return this.#at === null;
  }

  /**
   * Detaches every view and unmaps the pages now (or, if an asynchronous
   * flush is still running on them, as soon as it ends; if a view was moved
   * out with `ArrayBuffer.prototype.transfer()`, once that buffer is
   * collected). Idempotent. If the OS refuses (munmap can fail with `ENOMEM`
   * at the kernel's map-count limit), it throws and the handle stays open,
   * its views detached.
   */
  unmap(): void {
    checkHandle(this, 'this');
    const at = this.#at;
    if (at === null) return;
    try {
      at.mapping.unmap();
    } finally {
      forgetBytes(this);
    }
    retire(this);
  }

  /** The same as {@link Handle.unmap}, for `using`. */
  [Symbol.dispose](): void {
    Handle.prototype.unmap.call(this);
  }

  /**
   * Gives up ownership: views are detached, the pages stay mapped, and the
   * handle is consumed. {@link MmapOptions.mapFromExisting} takes them back
   * at once. Throws `ERR_MMAP_VIEW_TRANSFERRED` while a view moved out by
   * `ArrayBuffer.prototype.transfer()` may still reach the pages.
   */
  intoRaw(): RawMapping {
    const at = live(this);
    const raw = { address: at.mapping.address, size: at.length };
    try {
      at.mapping.intoRaw();
    } finally {
      forgetBytes(this);
    }
    retire(this);
    return raw;
  }

  /**
   * Shares the pages with other threads of this process, zero copy: the
   * token is plain data, to post to a worker, where
   * {@link MmapOptions.fromShared} makes a handle of the same type over the
   * same pages. Each thread's handle detaches only its own views; the pages
   * are unmapped when the last handle over them, in any thread, has ended
   * (unmap or garbage collection). While another thread's handle (or a
   * {@link MmapMut.sharedBuffer}) holds them, whatever would change them for
   * everyone is refused with `ERR_MMAP_SHARED`: `makeX()`, `commit()`,
   * splits, merges and `intoRaw()`. Once this handle is the last holder,
   * those work again, and tokens made before stop working (from the first
   * such call on, even one the OS then refuses: the pages are taken back
   * before they change, so that no thread can start holding them midway).
   */
  share(): SharedMappingToken {
    const at = live(this);
    const Class = classOf(this);
    const id = at.mapping.share(...describeForSharing(this));
    return Object.freeze({ kind: SHARED_MAPPING_TOKEN, id, type: Class.name, size: at.length });
  }

  /**
   * Grows or shrinks the mapping to `newSize` bytes and keeps the handle.
   * Views are detached first (their length cannot change). `start` stays
   * where it is unless `mayMove` allows a move: growing needs the address
   * space right after the mapping, else `ERR_MMAP_CANNOT_GROW_IN_PLACE`.
   * A file mapping grows only over bytes the file has
   * (`ERR_MMAP_BEYOND_EOF`), a shared-memory one within the object. Linux
   * moves pages with `mremap` (no copy); Windows copies anonymous memory to
   * move it and maps a file view anew (a piece split off a file view does
   * not move); macOS and FreeBSD copy anonymous memory to move it and map
   * a file anew, keeping a duplicate of its descriptor for that (see the
   * README). Huge-page mappings resize by whole huge pages. Refused as a split is
   * (`ERR_MMAP_BUSY`, `ERR_MMAP_SHARED`, `ERR_MMAP_VIEW_TRANSFERRED`), and for
   * rings.
   */
  remap(newSize: number, options: RemapOptions = {}): void {
    let mayMove: unknown;
    let file: unknown;
    try {
      ({ mayMove, file } = options);
    } catch (cause) {
      failUnreadable('options', 'an object with mayMove and file', cause);
    }
    const size = checkSize(newSize);
    if (mayMove !== undefined && typeof mayMove !== 'boolean') {
      fail('ERR_INVALID_ARG_TYPE', `options.mayMove must be a boolean, got ${describe(mayMove)}`);
    }
    const fileFd = file === undefined ? undefined : descriptorOf(file);
    const at = live(this);
    const state = stateOf(this);
    if (state.pageSize > PAGE_SIZE && !isMultiple(size, state.pageSize)) {
      fail('ERR_MMAP_INVALID_SIZE', `a huge-page mapping resizes by whole pages of ${state.pageSize} bytes, got ${size}`);
    }
    const backing = backings.get(at.mapping);
    if (backing !== undefined && size > at.length) checkGrowth(backing, size, fileFd);
    try {
      at.mapping.remap(size, mayMove === true);
    } finally {
      forgetBytes(this); // detached natively, whatever the outcome
    }
    renew(this);
  }

  /**
   * Splits at `at` (a multiple of the mapping's page size, 0 < at < size): this handle
   * keeps `[0, at)` and the returned one holds `[at, size)`. Views of this
   * handle are detached. `ERR_MMAP_BUSY` while a `flushAsync()` runs;
   * `ERR_MMAP_VIEW_TRANSFERRED` while a view moved out may reach the pages.
   */
  splitOff(at: number): this {
    return split(this, at, true);
  }

  /**
   * Splits at `at` (a multiple of the mapping's page size, 0 < at < size): this handle
   * keeps `[at, size)` and the returned one holds `[0, at)`. Views of this
   * handle are detached. Refused as {@link Handle.splitOff} is.
   */
  splitTo(at: number): this {
    return split(this, at, false);
  }

  /**
   * Takes over `other`, which must start exactly where this handle ends
   * (`ERR_MMAP_MUST_BE_ADJACENT`) and have the same protection and flags
   * (`ERR_MMAP_ATTRIBUTE_MISMATCH`). On success this handle grows and
   * `other` is consumed; on failure both stay valid. Views of both are
   * detached. Also `ERR_MMAP_BACKING_MISMATCH` for pieces of allocations the
   * platform cannot join (a file reservation and an anonymous one), and
   * refused as {@link Handle.splitOff} is.
   */
  merge(other: this): void {
    checkHandle(other, 'the handle to merge');
    const next = live(other);
    const at = live(this);
    if (next === at) fail('ERR_INVALID_ARG_VALUE', 'a handle cannot merge with itself');
    // Before adjacency: two rings are never merged, wherever they lie.
    if (at.mapping.ring || next.mapping.ring) fail('ERR_MMAP_UNSUPPORTED', 'a ring cannot be merged: its halves are the same pages');
    const end = at.mapping.address + BigInt(at.length);
    if (end !== next.mapping.address) {
      fail(
        'ERR_MMAP_MUST_BE_ADJACENT',
        `the handle to merge must start at 0x${end.toString(16)}, where this one ends; it starts at 0x${next.mapping.address.toString(16)}`,
      );
    }
    const mine = { type: classOf(this).name, ...stateOf(this) };
    const theirs = { type: classOf(other).name, ...stateOf(other) };
    const differ = (Object.keys(mine) as (keyof typeof mine)[]).filter((key) => mine[key] !== theirs[key]);
    if (differ.length > 0) {
      const show = (side: typeof mine) => differ.map((key) => `${key} ${String(side[key])}`).join(', ');
      fail('ERR_MMAP_ATTRIBUTE_MISMATCH', `handles to merge must match: this one has ${show(mine)}; the other has ${show(theirs)}`);
    }
    try {
      at.mapping.absorb(next.mapping);
    } finally {
      // The native side detached both handles' views, whatever the outcome.
      forgetBytes(this);
      forgetBytes(other);
    }
    renew(this);
    retire(other);
  }
}

function split<H extends Handle>(handle: H, at: number, keepLow: boolean): H {
  const target = live(handle);
  const state = stateOf(handle);
  if (!Number.isSafeInteger(at) || at <= 0 || at >= target.length || !isMultiple(at, state.pageSize)) {
    fail(
      'ERR_MMAP_INVALID_OFFSET',
      `split point must be a multiple of the page size ${state.pageSize} strictly between 0 and the size ${target.length}, got ${describe(at)}`,
    );
  }
  let piece: NativeMapping;
  try {
    piece = target.mapping.split(at, keepLow);
  } finally {
    forgetBytes(handle); // detached natively, whatever the outcome
  }
  const backing = backings.get(target.mapping);
  if (backing !== undefined) {
    backings.set(piece, keepLow ? advanced(backing, at) : backing);
    if (!keepLow) backings.set(target.mapping, advanced(backing, at));
  }
  renew(handle);
  return construct(classOf(handle) as HandleClass<H>, piece, state);
}

// The handle classes fromShared() can make, by their index in a description.
const shareable = (): readonly HandleClass<Handle>[] => [MmapNone, Mmap, MmapMut, ReservedNone, Reserved, ReservedMut, MmapRing];

function describeForSharing(handle: Handle): [number, number, number, number, number] {
  const state = stateOf(handle);
  const kind = shareable().indexOf(classOf(handle));
  return [kind, state.access, state.flags, state.unsafeFlags, state.pageSize];
}

/** @internal A handle of this thread over the pages a share() token's id names. */
export function adoptShared(id: number): Handle {
  const [mapping, kind, access, flags, unsafeFlags, pageSize] = native.fromShared(id);
  return construct(shareable()[kind]!, mapping, { access, flags, unsafeFlags, pageSize });
}

/** Checks wait()/notify() arguments, then takes the handle's word: [mapping, offset]. */
function sharedWord(handle: Handle, offset: number): [NativeMapping, number] {
  checkUint(offset, 'offset', 'ERR_MMAP_INVALID_OFFSET');
  if (offset % 4 !== 0) fail('ERR_MMAP_INVALID_OFFSET', `the word waited on must be 4-byte aligned, got offset ${offset}`);
  const at = live(handle);
  if ((stateOf(handle).flags & MmapFlags.SHARED) === 0) {
    fail(
      'ERR_MMAP_NOT_SHARED',
      'wait() and notify() need a shared mapping (MmapFlags.SHARED, a shared file, or withSharedMemory()): a private one is this process\'s alone',
    );
  }
  if (offset + 4 > at.length) fail('ERR_MMAP_OUT_OF_BOUNDS', `the word at offset ${offset} does not fit in the mapping of size ${at.length}`);
  return [at.mapping, offset];
}

/** `expected` as the 32-bit word it is compared with: any int32 or uint32. */
function checkWord(value: number): number {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff) {
    fail('ERR_INVALID_ARG_VALUE', `expected must be an int32 or uint32 value, got ${describe(value)}`);
  }
  return value >>> 0;
}

/** A timeout in milliseconds for the native wait: -1 for none (undefined, NaN, Infinity), at least 0. */
function checkTimeout(value: number | undefined): number {
  if (value === undefined) return -1;
  if (typeof value !== 'number') fail('ERR_INVALID_ARG_TYPE', `timeoutMs must be a number, got ${describe(value)}`);
  if (Number.isNaN(value) || value === Infinity) return -1;
  return Math.max(value, 0);
}

function descriptorOf(file: unknown): number {
  let fd: unknown = file;
  if (typeof file === 'object' && file !== null) {
    try {
      fd = (file as { fd: unknown }).fd;
    } catch (cause) {
      failUnreadable('options.file.fd', 'a file descriptor', cause);
    }
  }
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
    fail('ERR_INVALID_ARG_TYPE', `options.file must be an open file descriptor or a FileHandle, got ${describe(file)}`);
  }
  return fd;
}

/** Whether the file or object behind a mapping has `size` bytes from the mapping's offset. */
function checkGrowth(backing: Backing, size: number, fileFd: number | undefined): void {
  let available: number;
  if (backing.kind === 'shared memory') {
    available = backing.size;
  } else {
    const fd = fileFd ?? backing.fd;
    let stats: fs.Stats | undefined;
    try {
      stats = fs.fstatSync(fd);
    } catch {
      stats = undefined;
    }
    if (stats === undefined || stats.dev !== backing.dev || stats.ino !== backing.ino) {
      fail(
        'ERR_MMAP_BEYOND_EOF',
        fileFd === undefined
          ? `cannot check the file's size to grow its mapping: descriptor ${fd}, which it was mapped with, is closed or now names another file; pass { file }`
          : `options.file (descriptor ${fd}) is not the file the mapping was made from`,
      );
    }
    available = stats.size;
  }
  if (backing.offset + size > available) {
    fail(
      'ERR_MMAP_BEYOND_EOF',
      `remap to ${size} bytes at offset ${backing.offset} extends past the end of the ${backing.kind === 'file' ? 'file' : 'shared memory object'} (${available} bytes)`,
    );
  }
}

/** Ends `handle` and gives its mapping to a new one of `Target`. */
function handOver<H>(handle: Handle, Target: HandleClass<H>, state: HandleState): H {
  const at = live(handle);
  retire(handle);
  return construct(Target, at.mapping, state);
}

/** Validates a range and widens its start to a page boundary, as the OS calls need. */
function pageRange(handle: Handle, offset: number, length: number | undefined): [NativeMapping, number, number] {
  const at = live(handle);
  const checked = checkRange(offset, length, at.length);
  const start = offset - (offset % stateOf(handle).pageSize);
  return [at.mapping, start, offset + checked - start];
}

/** Reprotects `handle`'s pages and hands them to a new handle of `Target`. */
function remake<H>(handle: Handle, Target: HandleClass<H>, access: number): H {
  const at = live(handle);
  const state = stateOf(handle);
  checkWritableExec(access, state.unsafeFlags);
  try {
    at.mapping.protect(access);
  } finally {
    forgetBytes(handle); // detached before the protection changed, whatever the outcome
  }
  return handOver(handle, Target, { ...state, access });
}

/** Operations of committed mappings ({@link MmapNone}, {@link Mmap}, {@link MmapMut}). */
export abstract class MappedHandle extends Handle {
  /** Locks the range's pages in memory (`mlock`). Range defaults to the whole handle. */
  lock(offset = 0, length?: number): void {
    const [mapping, start, size] = pageRange(this, offset, length);
    mapping.lock(start, size);
  }

  /** Locks pages as they are faulted in (`mlock2(MLOCK_ONFAULT)`); `ERR_MMAP_UNSUPPORTED` where the OS lacks it. */
  lockOnFault(offset = 0, length?: number): void {
    const [mapping, start, size] = pageRange(this, offset, length);
    mapping.lockOnFault(start, size);
  }

  /** Unlocks the range's pages (`munlock`). */
  unlock(offset = 0, length?: number): void {
    const [mapping, start, size] = pageRange(this, offset, length);
    mapping.unlock(start, size);
  }

  /**
   * Writes the range's dirty pages back to the file and waits until they are
   * durable (`msync(MS_SYNC)`; Windows `FlushViewOfFile` + `FlushFileBuffers`).
   */
  flush(offset = 0, length?: number): void {
    const [mapping, start, size] = pageRange(this, offset, length);
    mapping.flush(start, size);
  }

  /**
   * {@link MappedHandle.flush} off the event loop: resolves once the range is
   * durable. The pages stay mapped until it settles, even if the handle is
   * unmapped meanwhile; splits and merges throw `ERR_MMAP_BUSY` until then.
   */
  flushAsync(offset = 0, length?: number): Promise<void> {
    try {
      const [mapping, start, size] = pageRange(this, offset, length);
      return mapping.flushAsync(start, size);
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
    if (code < 0) fail('ERR_INVALID_ARG_VALUE', `advice must be one of ${ADVICE.join(', ')}, got ${describe(advice)}`);
    const [mapping, start, size] = pageRange(this, offset, length);
    mapping.advise(code, start, size);
  }

  /**
   * Which pages of the range (default: all) are in memory: `mincore` (Linux:
   * for a file mapping, whether the page cache holds them), Windows'
   * `QueryWorkingSetEx`. Page `i` of the range is bit `i % 8` of
   * `bitmap[i >> 3]`. The range widens to whole pages.
   */
  residency(offset = 0, length?: number): Residency {
    const [mapping, start, size] = pageRange(this, offset, length);
    const perPage = mapping.residency(start, size);
    const bitmap = new Uint8Array(Math.ceil(perPage.length / 8));
    let resident = 0;
    for (let page = 0; page < perPage.length; page++) {
      if (perPage[page]! & 1) {
        bitmap[page >> 3]! |= 1 << (page & 7);
        resident++;
      }
    }
    return { pages: perPage.length, resident, bitmap };
  }

  /** Makes the instruction cache coherent with the handle's bytes. */
  flushIcache(): void {
    live(this).mapping.flushIcache();
  }

  /** Consumes the handle; its pages become inaccessible. */
  makeNone(): MmapNone {
    return remake(this, MmapNone, Access.NONE);
  }

  /** Consumes the handle; its pages become read-only. */
  makeReadOnly(): Mmap {
    return remake(this, Mmap, Access.READ);
  }

  /** Consumes the handle; its pages become read+execute, and the instruction cache is flushed. */
  makeExec(): Mmap {
    const handle = remake(this, Mmap, Access.EXEC);
    live(handle).mapping.flushIcache();
    return handle;
  }

  /** As {@link MappedHandle.makeExec}, without flushing the instruction cache: only for code already coherent. */
  makeExecNoFlush(): Mmap {
    return remake(this, Mmap, Access.EXEC);
  }

  /** Consumes the handle; its pages become read+write. */
  makeMut(): MmapMut {
    return remake(this, MmapMut, Access.MUT);
  }

  /** Consumes the handle; its pages become read+write+execute. Needs `UnsafeMmapFlags.JIT`. */
  makeExecMut(): MmapMut {
    return remake(this, MmapMut, Access.EXEC_MUT);
  }
}

/** A zero-copy window of `handle`; `length` defaults to the rest of the mapping. */
function window(handle: Handle, offset: number, length: number | undefined): Bytes {
  const at = live(handle);
  const actual = checkRange(offset, length, at.length);
  if (actual > MAX_VIEW_LENGTH) {
    fail(
      'ERR_MMAP_VIEW_TOO_LARGE',
      `a view of ${actual} bytes exceeds this runtime's ArrayBuffer limit of ${MAX_VIEW_LENGTH}`,
    );
  }
  const view = new Uint8Array(at.mapping.view(offset, actual));
  viewMade();
  return view;
}

/** Zero-copy access, shared by {@link Mmap} and {@link MmapMut}. */
abstract class BytesHandle extends MappedHandle {
  /**
   * Calls the machine code at `offset` as a C function of `signature`, with
   * the platform's calling convention. The handle must be executable
   * (`ERR_MMAP_NOT_EXECUTABLE`); once it is unmapped or consumed, the
   * function throws `ERR_MMAP_CLOSED` instead of running.
   */
  asFunction<const S extends FunctionSignature>(offset: number, signature: S): GeneratedFunction<S> {
    // The signature is user data (getters, Proxies): copied before anything is checked.
    const encoded = encodeSignature(signature);
    checkUint(offset, 'offset');
    const at = live(this);
    const state = stateOf(this);
    if ((state.access & Protection.EXECUTE) === 0) {
      fail('ERR_MMAP_NOT_EXECUTABLE', 'asFunction() needs an executable handle: use mapExec() or makeExec()');
    }
    if (offset >= at.length) {
      fail('ERR_MMAP_OUT_OF_BOUNDS', `offset ${offset} is not inside the mapping of size ${at.length}`);
    }
    const jit = (state.unsafeFlags & UnsafeMmapFlags.JIT) !== 0;
    return at.mapping.function(offset, { ...encoded, jit }, at.generation) as GeneratedFunction<S>;
  }

  /**
   * Blocks this thread while the 32-bit word at `offset` (4-byte aligned)
   * holds `expected`, until {@link BytesHandle.notify} on the same word wakes it, in
   * this or any other process mapping the same pages, or `timeoutMs` has
   * passed (default: no limit). As `Atomics.wait`, but across processes:
   * the mapping must be shared (`ERR_MMAP_NOT_SHARED`). A word that changed
   * while the wait went on also ends it with `'ok'`, so loop on the value as
   * with any futex. A terminated worker stops waiting within 250 ms.
   */
  wait(offset: number, expected: number, timeoutMs?: number): WaitResult {
    const value = checkWord(expected);
    const timeout = checkTimeout(timeoutMs);
    const [mapping, at] = sharedWord(this, offset);
    return mapping.wait(at, value, timeout);
  }

  /**
   * {@link BytesHandle.wait} without blocking: the wait runs on a thread of
   * its own, not on libuv's pool, so that pending waits never hold up file
   * or crypto work; like a pending read, it keeps the process alive. The
   * pages stay mapped until it ends; if the handle is unmapped meanwhile,
   * the wait is cancelled and the promise rejects with `ERR_MMAP_CLOSED`.
   */
  waitAsync(offset: number, expected: number, timeoutMs?: number): Promise<WaitResult> {
    try {
      const value = checkWord(expected);
      const timeout = checkTimeout(timeoutMs);
      const [mapping, at] = sharedWord(this, offset);
      return mapping.waitAsync(at, value, timeout);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Wakes up to `count` (default: all) threads waiting on the word at
   * `offset`, in any process; returns how many it woke (FreeBSD cannot tell
   * and returns `count`).
   */
  notify(offset: number, count?: number): number {
    let most = 0xffffffff;
    if (count !== undefined) {
      if (typeof count !== 'number' || Number.isNaN(count) || count < 0 || (!Number.isInteger(count) && count !== Infinity)) {
        fail('ERR_INVALID_ARG_VALUE', `count must be a non-negative integer or Infinity, got ${describe(count)}`);
      }
      most = Math.min(count, 0xffffffff);
    }
    const [mapping, at] = sharedWord(this, offset);
    return mapping.notify(at, most);
  }

  // The copying accessors (src/accessors.ts): faults throw ERR_MMAP_FAULT, and no external buffer is needed.
  /** A window whose accessors count offsets from `offset`; see {@link MmapSpan}. */
  span(offset: number, length: number): MmapSpan { return makeSpan(MmapSpan, live(this), offset, length); }
  /** A copy of `length` bytes at `offset`. */
  read(offset: number, length: number): Uint8Array { return access.read(live(this), offset, length); }
  /** Fills `target` (any TypedArray or DataView) with the bytes at `offset`; returns it. */
  readInto<T extends ArrayBufferView>(offset: number, target: T): T { return access.readInto(live(this), offset, target); }
  /** As `DataView.getInt8`. */
  getInt8(offset: number): number { return access.getInt8(live(this), offset); }
  /** As `DataView.getUint8`. */
  getUint8(offset: number): number { return access.getUint8(live(this), offset); }
  /** As `DataView.getInt16`. */
  getInt16(offset: number, littleEndian?: boolean): number { return access.getInt16(live(this), offset, littleEndian); }
  /** As `DataView.getUint16`. */
  getUint16(offset: number, littleEndian?: boolean): number { return access.getUint16(live(this), offset, littleEndian); }
  /** As `DataView.getInt32`. */
  getInt32(offset: number, littleEndian?: boolean): number { return access.getInt32(live(this), offset, littleEndian); }
  /** As `DataView.getUint32`. */
  getUint32(offset: number, littleEndian?: boolean): number { return access.getUint32(live(this), offset, littleEndian); }
  /** As `DataView.getBigInt64`. */
  getBigInt64(offset: number, littleEndian?: boolean): bigint { return access.getBigInt64(live(this), offset, littleEndian); }
  /** As `DataView.getBigUint64`. */
  getBigUint64(offset: number, littleEndian?: boolean): bigint { return access.getBigUint64(live(this), offset, littleEndian); }
  /** As `DataView.getFloat32`. */
  getFloat32(offset: number, littleEndian?: boolean): number { return access.getFloat32(live(this), offset, littleEndian); }
  /** As `DataView.getFloat64`. */
  getFloat64(offset: number, littleEndian?: boolean): number { return access.getFloat64(live(this), offset, littleEndian); }
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
    return wholeBytes(this);
  }

  /** The ArrayBuffer behind {@link Mmap.bytes}, typed read-only (see {@link ReadonlyArrayBuffer}). */
  get buffer(): ReadonlyArrayBuffer {
    return wholeBytes(this).buffer;
  }

  /**
   * A zero-copy window `[offset, offset + length)`, reaching any byte of any
   * size of mapping; `length` defaults to the rest of the mapping. One view
   * is still capped by the runtime's ArrayBuffer limit
   * (`ERR_MMAP_VIEW_TOO_LARGE`). Its ArrayBuffer starts at `offset`, which
   * matters for the alignment `Atomics` and wider typed arrays check.
   */
  view(offset: number, length?: number): ReadonlyBytes {
    return window(this, offset, length);
  }
}

/** Read+write pages (read+write+execute with `UnsafeMmapFlags.JIT`). */
export class MmapMut extends BytesHandle {
  // Only MmapMut handles have it: the writing methods, called on another
  // handle (`MmapMut.prototype.write.call(readOnly, ...)`), must not write.
  readonly #writable = true;

  static {
    liveMut = (handle) => {
      if (typeof handle !== 'object' || handle === null || !(#writable in handle)) {
        fail('ERR_INVALID_ARG_TYPE', `MmapMut methods must be called on an MmapMut, got ${describe(handle)}`);
      }
      return live(handle);
    };
  }

  /**
   * The whole mapping, zero copy; the same object on every read.
   * `ERR_MMAP_VIEW_TOO_LARGE` above the runtime's ArrayBuffer limit (2^32
   * bytes on Node 20): use `view()`.
   */
  get bytes(): Bytes {
    return wholeBytes(this);
  }

  /** The ArrayBuffer behind {@link MmapMut.bytes}. */
  get buffer(): ArrayBuffer {
    return wholeBytes(this).buffer as ArrayBuffer;
  }

  /**
   * A zero-copy window `[offset, offset + length)`, as {@link Mmap.view}.
   */
  view(offset: number, length?: number): Bytes {
    return window(this, offset, length);
  }

  /**
   * A `SharedArrayBuffer` over the whole mapping, zero copy: `Atomics.wait`
   * and `notify` work on it across workers, and posting it to a worker
   * passes it by reference. It cannot be detached, so the pages stay mapped
   * until every such buffer in every thread is garbage-collected, and
   * `makeX()`, splits, merges and `intoRaw()` throw `ERR_MMAP_SHARED`
   * meanwhile. Needs Node.js 24.16+ or 26.1+ (`ERR_MMAP_UNSUPPORTED`).
   */
  sharedBuffer(): SharedArrayBuffer {
    const at = liveMut(this);
    if (!native.sharedBuffersAvailable) {
      fail(
        'ERR_MMAP_UNSUPPORTED',
        `sharedBuffer() needs node_api_create_external_sharedarraybuffer, which Node.js 24.16+ and 26.1+ have; this is Node.js ${process.versions.node}`,
      );
    }
    if (at.length > MAX_VIEW_LENGTH) {
      fail('ERR_MMAP_VIEW_TOO_LARGE', `the mapping's ${at.length} bytes exceed this runtime's ArrayBuffer limit of ${MAX_VIEW_LENGTH}`);
    }
    return at.mapping.sharedBuffer(...describeForSharing(this));
  }

  // The writing accessors (src/accessors.ts).
  /** A window whose accessors count offsets from `offset`; see {@link MmapSpanMut}. */
  override span(offset: number, length: number): MmapSpanMut { return makeSpan(MmapSpanMut, liveMut(this), offset, length); }
  /** Copies `source` (any TypedArray or DataView) to `offset`. */
  write(offset: number, source: ArrayBufferView): void { access.write(liveMut(this), offset, source); }
  /** Sets `length` bytes (default: the rest) from `offset` (default 0) to the byte `value`. */
  fill(value: number, offset?: number, length?: number): void { access.fill(liveMut(this), value, offset, length); }
  /** Copies `[start, end)` (end defaults to the size) to `target`; the ranges may overlap. */
  copyWithin(target: number, start: number, end?: number): void { access.copyWithin(liveMut(this), target, start, end); }
  /** As `DataView.setInt8`. */
  setInt8(offset: number, value: number): void { access.setInt8(liveMut(this), offset, value); }
  /** As `DataView.setUint8`. */
  setUint8(offset: number, value: number): void { access.setUint8(liveMut(this), offset, value); }
  /** As `DataView.setInt16`. */
  setInt16(offset: number, value: number, littleEndian?: boolean): void { access.setInt16(liveMut(this), offset, value, littleEndian); }
  /** As `DataView.setUint16`. */
  setUint16(offset: number, value: number, littleEndian?: boolean): void { access.setUint16(liveMut(this), offset, value, littleEndian); }
  /** As `DataView.setInt32`. */
  setInt32(offset: number, value: number, littleEndian?: boolean): void { access.setInt32(liveMut(this), offset, value, littleEndian); }
  /** As `DataView.setUint32`. */
  setUint32(offset: number, value: number, littleEndian?: boolean): void { access.setUint32(liveMut(this), offset, value, littleEndian); }
  /** As `DataView.setBigInt64`. */
  setBigInt64(offset: number, value: bigint, littleEndian?: boolean): void { access.setBigInt64(liveMut(this), offset, value, littleEndian); }
  /** As `DataView.setBigUint64`. */
  setBigUint64(offset: number, value: bigint, littleEndian?: boolean): void { access.setBigUint64(liveMut(this), offset, value, littleEndian); }
  /** As `DataView.setFloat32`. */
  setFloat32(offset: number, value: number, littleEndian?: boolean): void { access.setFloat32(liveMut(this), offset, value, littleEndian); }
  /** As `DataView.setFloat64`. */
  setFloat64(offset: number, value: number, littleEndian?: boolean): void { access.setFloat64(liveMut(this), offset, value, littleEndian); }
}

/**
 * A double-mapped ring ({@link MmapOptions.mapRing}): an {@link MmapMut}
 * whose `bytes` are `2 * ringSize` long, where byte `i` and byte
 * `i + ringSize` are the same memory.
 */
export class MmapRing extends MmapMut {
  /** The ring's own size: half of `size`. */
  get ringSize(): number {
    return live(this).length / 2;
  }
}

/**
 * Reserved address space: no memory and no commit charge until `commit()`.
 * The `makeX()` calls choose the protection `commit()` will apply.
 */
export abstract class ReservedHandle extends Handle {
  /** Consumes the handle; it will commit inaccessible. */
  makeNone(): ReservedNone {
    return reprotect(this, ReservedNone, Access.NONE);
  }

  /** Consumes the handle; it will commit read-only. */
  makeReadOnly(): Reserved {
    return reprotect(this, Reserved, Access.READ);
  }

  /** Consumes the handle; it will commit read+execute. */
  makeExec(): Reserved {
    return reprotect(this, Reserved, Access.EXEC);
  }

  /** Consumes the handle; it will commit read+write. */
  makeMut(): ReservedMut {
    return reprotect(this, ReservedMut, Access.MUT);
  }

  /** Consumes the handle; it will commit read+write+execute. Needs `UnsafeMmapFlags.JIT`. */
  makeExecMut(): ReservedMut {
    return reprotect(this, ReservedMut, Access.EXEC_MUT);
  }
}

// Nothing is mapped accessibly yet: only the protection to commit with changes.
function reprotect<H>(handle: ReservedHandle, Target: HandleClass<H>, access: number): H {
  live(handle);
  const state = stateOf(handle);
  checkWritableExec(access, state.unsafeFlags);
  return handOver(handle, Target, { ...state, access });
}

/** Commits the pages of `handle` with its protection and consumes it. */
function commitAs<H>(handle: ReservedHandle, Target: HandleClass<H>): H {
  const at = live(handle);
  const state = stateOf(handle);
  at.mapping.commit(state.access);
  forgetBytes(handle);
  return handOver(handle, Target, state);
}

/** Reserved address space that commits inaccessible. */
export class ReservedNone extends ReservedHandle {
  /** Commits the pages; consumes this handle. */
  commit(): MmapNone {
    return commitAs(this, MmapNone);
  }
}

/** Reserved address space that commits read-only (or read+execute). */
export class Reserved extends ReservedHandle {
  /** Commits the pages; consumes this handle. */
  commit(): Mmap {
    return commitAs(this, Mmap);
  }
}

/** Reserved address space that commits read+write. */
export class ReservedMut extends ReservedHandle {
  /** Commits the pages; consumes this handle. */
  commit(): MmapMut {
    return commitAs(this, MmapMut);
  }
}
