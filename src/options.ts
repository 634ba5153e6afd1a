/**
 * The builder every mapping starts from.
 * @packageDocumentation
 */
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import { ALLOCATION_GRANULARITY, map, MapRequest, native, NativeMapping, PAGE_SIZE } from './binding';
import { fail, failUnreadable, MmapError } from './errors';
import { Access, KNOWN_FLAGS, KNOWN_UNSAFE_FLAGS, MmapFlags, UnsafeMmapFlags } from './flags';
import {
  adoptShared,
  backings,
  checkWritableExec,
  construct,
  Handle,
  HandleClass,
  HandleState,
  Mmap,
  MmapMut,
  MmapNone,
  MmapRing,
  Reserved,
  ReservedMut,
  ReservedNone,
  SHARED_MAPPING_TOKEN,
  SharedMappingToken,
} from './handles';
import { NativeSharedMemory, nativeSharedMemory, SharedMemory } from './shared';
import { checkAddress, checkFlags, checkSize, checkUint, describe, isMultiple } from './validate';

/**
 * Anything with a file descriptor in `fd`, such as the `FileHandle` of
 * `node:fs/promises` (typed structurally, so that the types need no
 * `@types/node`).
 */
export interface FileLike {
  /** The open file descriptor. */
  readonly fd: number;
}

/**
 * Adds `path`, as Node's fs errors have it, to a system-call error about
 * file descriptor `fd`, where the platform can tell (Linux's /proc).
 */
function withPath(error: unknown, fd: number): unknown {
  if (!(error instanceof MmapError) || error.errno === undefined || process.platform !== 'linux') return error;
  try {
    Object.defineProperty(error, 'path', { value: fs.readlinkSync(`/proc/self/fd/${fd}`), enumerable: true });
  } catch {
    // The descriptor is not open, or names no path: nothing to add.
  }
  return error;
}

// A brand check (set in MmapOptions' static block): a method called on a
// foreign object throws a coded error instead of a private-field TypeError.
let checkOptions: (value: unknown) => void;

/**
 * Describes a mapping, then makes it. As in mmap-rs:
 *
 * ```ts
 * const page = new MmapOptions(MmapOptions.pageSize()).mapMut();
 * page.bytes[0] = 42;
 * page.unmap();
 * ```
 *
 * The `with*()` setters return the same builder. Every argument is checked
 * when it is given or when mapping; a bad one throws {@link MmapError} with a
 * code, and nothing is left mapped.
 */
export class MmapOptions {
  readonly #size: number | undefined;

  static {
    checkOptions = (value) => {
      if (typeof value !== 'object' || value === null || !(#size in value)) {
        fail('ERR_INVALID_ARG_TYPE', `MmapOptions methods must be called on an MmapOptions, got ${describe(value)}`);
      }
    };
  }

  #fd = -1;
  #sharedMemory: SharedMemory | null = null;
  #offset = 0;
  #flags = 0;
  #unsafeFlags = 0;
  #address: bigint | undefined;
  #pageSize = 0;
  #alignment = 0;

  /**
   * @param size - bytes to map: a positive safe integer
   * (`ERR_MMAP_INVALID_SIZE`). With {@link MmapOptions.withFile} or
   * {@link MmapOptions.withSharedMemory} it may be left out: the mapping then
   * reaches the end of the file (or object) as it is when mapping, and an
   * empty one (an empty file, or an offset at its end) maps as a handle of
   * size 0 with empty views and no OS mapping behind it.
   */
  constructor(size?: number) {
    this.#size = size === undefined ? undefined : checkSize(size);
  }

  /** The size of a base page in bytes. */
  static pageSize(): number {
    return PAGE_SIZE;
  }

  /** The granularity of mapping addresses and file offsets (64 KiB on Windows, the page size elsewhere). */
  static allocationGranularity(): number {
    return ALLOCATION_GRANULARITY;
  }

  /** Page sizes in bytes, ascending: the base page, then every huge page size the system offers. */
  static pageSizes(): number[] {
    return native.pageSizes();
  }

  /**
   * How many huge pages of `pageSize` bytes the system has free right now,
   * or `null` where it does not say (any platform but Linux).
   */
  static freeHugePages(pageSize: number): number | null {
    const free = native.freeHugePages(checkSize(pageSize, 'page size'));
    return free < 0 ? null : free;
  }

  /**
   * Backs the mapping with a file, from `offset` (a multiple of
   * {@link MmapOptions.allocationGranularity}; `ERR_MMAP_INVALID_OFFSET`).
   * The range must lie inside the file (`ERR_MMAP_BEYOND_EOF`): touching a
   * page past its end would kill the process with SIGBUS. The descriptor is
   * only used while mapping; the mapping outlives it.
   */
  withFile(file: number | FileLike, offset = 0): this {
    checkOptions(this);
    let fd: unknown = file;
    if (typeof file === 'object' && file !== null) {
      try {
        fd = file.fd;
      } catch (cause) {
        failUnreadable('file.fd', 'a file descriptor', cause);
      }
    }
    if (typeof fd !== 'number' || !Number.isInteger(fd)) {
      fail('ERR_INVALID_ARG_TYPE', `file must be a file descriptor or a FileHandle, got ${describe(file)}`);
    }
    if (fd < 0) {
      // A closed FileHandle reports -1; it must not fall back to anonymous memory.
      throw new MmapError('EBADF', `file descriptor ${fd} is not open (a closed FileHandle?)`, -osConstants.errno.EBADF);
    }
    checkUint(offset, 'file offset', 'ERR_MMAP_INVALID_OFFSET');
    const granularity = ALLOCATION_GRANULARITY;
    if (!isMultiple(offset, granularity)) {
      fail('ERR_MMAP_INVALID_OFFSET', `file offset must be a multiple of ${granularity}, got ${offset}`);
    }
    this.#fd = fd;
    this.#offset = offset;
    return this;
  }

  /**
   * Backs the mapping with a {@link SharedMemory} object, from `offset` (a
   * multiple of {@link MmapOptions.allocationGranularity}). The pages are
   * shared with every process mapping the object, as `MmapFlags.SHARED`
   * (add `MmapFlags.COPY_ON_WRITE` for a private copy instead). The range
   * must lie inside the object (`ERR_MMAP_BEYOND_EOF`). Excludes
   * {@link MmapOptions.withFile}. The mapping outlives the object's `close()`.
   */
  withSharedMemory(shm: SharedMemory, offset = 0): this {
    checkOptions(this);
    nativeSharedMemory(shm);
    checkUint(offset, 'shared memory offset', 'ERR_MMAP_INVALID_OFFSET');
    if (!isMultiple(offset, ALLOCATION_GRANULARITY)) {
      fail('ERR_MMAP_INVALID_OFFSET', `shared memory offset must be a multiple of ${ALLOCATION_GRANULARITY}, got ${offset}`);
    }
    this.#sharedMemory = shm;
    this.#offset = offset;
    return this;
  }

  /**
   * A new handle, in this thread, over the pages of a
   * {@link Handle.share} token, of the same type as the handle that made
   * it (the token can be posted to a worker: it is plain data). Each
   * thread's handle detaches only its own views; the pages are unmapped
   * when the last handle over them, in any thread, has ended.
   * `ERR_MMAP_CLOSED` once they are gone, or for a token of another
   * process.
   */
  static fromShared(token: SharedMappingToken): Handle {
    let kind: unknown;
    let id: unknown;
    try {
      ({ kind, id } = token);
    } catch (cause) {
      failUnreadable('token', 'a token from share()', cause);
    }
    if (kind !== SHARED_MAPPING_TOKEN || typeof id !== 'number') {
      fail('ERR_INVALID_ARG_TYPE', `token must be what share() returned, got ${describe(token)}`);
    }
    return adoptShared(id);
  }

  /** Adds {@link MmapFlags}, one per argument: `withFlags(MmapFlags.SHARED, MmapFlags.POPULATE)`. */
  withFlags(...flags: MmapFlags[]): this {
    checkOptions(this);
    let all = 0;
    for (const flag of flags) all |= checkFlags(flag, KNOWN_FLAGS, 'MmapFlags');
    this.#flags |= all;
    return this;
  }

  /** Adds {@link UnsafeMmapFlags}, one per argument. */
  withUnsafeFlags(...flags: UnsafeMmapFlags[]): this {
    checkOptions(this);
    let all = 0;
    for (const flag of flags) all |= checkFlags(flag, KNOWN_UNSAFE_FLAGS, 'UnsafeMmapFlags');
    this.#unsafeFlags |= all;
    return this;
  }

  /**
   * Where to map: a hint the OS may ignore (compare the result's `start`),
   * or exactly there with `UnsafeMmapFlags.MAP_FIXED`; or, for
   * {@link MmapOptions.mapFromExisting}, where the pages are. Must be page
   * aligned, and for a new mapping a multiple of
   * {@link MmapOptions.allocationGranularity} (64 KiB on Windows, where
   * mappings can only start there): `ERR_MMAP_INVALID_OFFSET`.
   */
  withAddress(address: bigint): this {
    checkOptions(this);
    checkAddress(address);
    if (address === 0n) {
      // An ArrayBuffer cannot start at a null pointer.
      fail('ERR_MMAP_INVALID_ADDRESS', 'address 0 cannot be mapped through memmap; give a nonzero address or none');
    }
    if (!isMultiple(address, PAGE_SIZE)) {
      fail('ERR_MMAP_INVALID_OFFSET', `address must be a multiple of the page size ${PAGE_SIZE}, got 0x${address.toString(16)}`);
    }
    this.#address = address;
    return this;
  }

  /**
   * The page size to map with: one of {@link MmapOptions.pageSizes}
   * (`ERR_MMAP_INVALID_SIZE` otherwise). A huge page size implies
   * `MmapFlags.HUGE_PAGES`; the base page size means ordinary pages.
   */
  withPageSize(bytes: number): this {
    checkOptions(this);
    const sizes = native.pageSizes();
    if (!sizes.includes(bytes)) {
      fail('ERR_MMAP_INVALID_SIZE', `page size must be one of ${sizes.join(', ')}, got ${describe(bytes)}`);
    }
    this.#pageSize = bytes;
    return this;
  }

  /**
   * Places the mapping at a multiple of `bytes`: a power of two at least the
   * page size (`ERR_MMAP_INVALID_ALIGNMENT`).
   */
  withAlignment(bytes: number): this {
    checkOptions(this);
    const pageSize = PAGE_SIZE;
    if (!Number.isSafeInteger(bytes) || bytes < pageSize || (bytes & (bytes - 1)) !== 0) {
      fail('ERR_MMAP_INVALID_ALIGNMENT', `alignment must be a power of two of at least ${pageSize}, got ${describe(bytes)}`);
    }
    this.#alignment = bytes;
    return this;
  }

  /** Maps committed, inaccessible pages. */
  mapNone(): MmapNone {
    checkOptions(this);
    return this.#make(MmapNone, Access.NONE, false);
  }

  /** Maps read-only pages. */
  map(): Mmap {
    checkOptions(this);
    return this.#make(Mmap, Access.READ, false);
  }

  /** Maps read+execute pages. */
  mapExec(): Mmap {
    checkOptions(this);
    return this.#make(Mmap, Access.EXEC, false);
  }

  /** Maps read+write pages. */
  mapMut(): MmapMut {
    checkOptions(this);
    return this.#make(MmapMut, Access.MUT, false);
  }

  /** Maps read+write+execute pages; needs `UnsafeMmapFlags.JIT` (`ERR_MMAP_UNSAFE_FLAG_NEEDED`). */
  mapExecMut(): MmapMut {
    checkOptions(this);
    return this.#make(MmapMut, Access.EXEC_MUT, false);
  }

  /**
   * Maps a double-mapped ring of `size` bytes (a multiple of
   * {@link MmapOptions.allocationGranularity}: 64 KiB on Windows): its
   * `bytes` are `2 * size` long, and byte `i` and byte `i + size` are the
   * same memory, so a record that runs past the end continues at the start
   * without being split. Over {@link MmapOptions.withSharedMemory}'s object
   * (from its offset) every process mapping it sees the same ring; otherwise
   * the ring's memory is its own. Both halves are mapped into one
   * reservation, so no other mapping can land between them. Other options
   * (a file, an address, alignment, huge pages) do not apply
   * (`ERR_INVALID_ARG_VALUE`). A ring is never split, merged or remapped
   * (`ERR_MMAP_UNSUPPORTED`).
   */
  mapRing(): MmapRing {
    checkOptions(this);
    const size = this.#explicitSize('mapRing()');
    const granularity = ALLOCATION_GRANULARITY;
    if (!isMultiple(size, granularity)) {
      fail('ERR_MMAP_INVALID_SIZE', `a ring's size must be a multiple of the allocation granularity ${granularity}, got ${size}`);
    }
    if (this.#fd !== -1 || this.#address !== undefined || this.#alignment !== 0 || this.#pageSize !== 0 || (this.#flags & MmapFlags.HUGE_PAGES) !== 0) {
      fail('ERR_INVALID_ARG_VALUE', 'a ring takes a size and, optionally, withSharedMemory(): withFile(), withAddress(), withAlignment() and huge pages do not apply');
    }
    if ((this.#flags & MmapFlags.COPY_ON_WRITE) !== 0) {
      fail('ERR_INVALID_ARG_VALUE', 'a ring is shared memory mapped twice: MmapFlags.COPY_ON_WRITE does not apply');
    }
    const shared = this.#sharedMemory === null ? null : nativeSharedMemory(this.#sharedMemory);
    if (shared !== null && this.#offset + size > shared.size) {
      fail(
        'ERR_MMAP_BEYOND_EOF',
        `ring offset ${this.#offset}, size ${size} extends past the end of the shared memory object (${shared.size} bytes)`,
      );
    }
    const mapping = native.mapRing(size, shared, this.#offset, Access.MUT);
    return construct(MmapRing, mapping, {
      access: Access.MUT,
      flags: (this.#flags | MmapFlags.SHARED) & ~MmapFlags.COPY_ON_WRITE,
      unsafeFlags: this.#unsafeFlags,
      pageSize: PAGE_SIZE,
    });
  }

  /** Reserves address space that will commit inaccessible. */
  reserveNone(): ReservedNone {
    checkOptions(this);
    return this.#make(ReservedNone, Access.NONE, true);
  }

  /** Reserves address space that will commit read-only. */
  reserve(): Reserved {
    checkOptions(this);
    return this.#make(Reserved, Access.READ, true);
  }

  /** Reserves address space that will commit read+execute. */
  reserveExec(): Reserved {
    checkOptions(this);
    return this.#make(Reserved, Access.EXEC, true);
  }

  /** Reserves address space that will commit read+write. */
  reserveMut(): ReservedMut {
    checkOptions(this);
    return this.#make(ReservedMut, Access.MUT, true);
  }

  /** Reserves address space that will commit read+write+execute; needs `UnsafeMmapFlags.JIT`. */
  reserveExecMut(): ReservedMut {
    checkOptions(this);
    return this.#make(ReservedMut, Access.EXEC_MUT, true);
  }

  /**
   * Adopts `size` bytes already mapped at {@link MmapOptions.withAddress}'s
   * address as an {@link MmapMut} that unmaps them when it ends. Refuses
   * (`ERR_MMAP_INVALID_ADDRESS`) a range that is not entirely mapped, or that
   * a live handle of this library still owns; without an address,
   * `ERR_MMAP_MISSING_ADDRESS`. The caller vouches that the pages are
   * readable and writable and that nothing else will unmap them.
   */
  mapFromExisting(): MmapMut {
    checkOptions(this);
    const address = this.#address ?? fail('ERR_MMAP_MISSING_ADDRESS', 'mapFromExisting() needs withAddress(address)');
    const size = this.#explicitSize('mapFromExisting()');
    return construct(MmapMut, native.adopt(address, size, Access.MUT), this.#state(Access.MUT, PAGE_SIZE));
  }

  /** The flags as the mapping has them: shared memory maps shared unless asked otherwise. */
  #effectiveFlags(): number {
    const copyOnWrite = (this.#flags & MmapFlags.COPY_ON_WRITE) !== 0;
    return this.#sharedMemory !== null && !copyOnWrite ? this.#flags | MmapFlags.SHARED : this.#flags;
  }

  #state(access: number, pageSize = this.#effectivePageSize()): HandleState {
    return { access, flags: this.#effectiveFlags(), unsafeFlags: this.#unsafeFlags, pageSize };
  }

  /** The size given to the constructor; `ERR_MMAP_INVALID_SIZE` for `what` without one. */
  #explicitSize(what: string): number {
    return this.#size ?? fail('ERR_MMAP_INVALID_SIZE', `${what} needs a size: new MmapOptions(size)`);
  }

  #make<H>(Target: HandleClass<H>, access: number, reserve: boolean): H {
    checkWritableExec(access, this.#unsafeFlags);
    const [request, backing] = this.#request(access, reserve);
    if (request.size === 0) return construct(Target, native.empty(access), this.#state(access));
    let mapping: NativeMapping;
    try {
      mapping = map(request);
    } catch (error) {
      throw typeof request.fd === 'number' && request.fd >= 0 ? withPath(error, request.fd) : error;
    }
    if (backing !== undefined) backings.set(mapping, backing);
    return construct(Target, mapping, this.#state(access));
  }

  /** The request, and what remap() will check growth against. */
  #request(access: number, reserve: boolean): [MapRequest, Parameters<typeof backings.set>[1] | undefined] {
    const fixed = (this.#unsafeFlags & UnsafeMmapFlags.MAP_FIXED) !== 0;
    if (fixed && this.#address === undefined) {
      fail('ERR_MMAP_MISSING_ADDRESS', 'UnsafeMmapFlags.MAP_FIXED needs withAddress(address)');
    }
    if (this.#address !== undefined && !isMultiple(this.#address, ALLOCATION_GRANULARITY)) {
      fail(
        'ERR_MMAP_INVALID_OFFSET',
        `a new mapping's address must be a multiple of the allocation granularity ${ALLOCATION_GRANULARITY}, got 0x${this.#address.toString(16)}`,
      );
    }
    if (fixed && this.#alignment !== 0) {
      fail('ERR_INVALID_ARG_VALUE', 'UnsafeMmapFlags.MAP_FIXED places the mapping exactly: it excludes withAlignment()');
    }
    if (this.#address !== undefined && this.#alignment !== 0) {
      fail('ERR_INVALID_ARG_VALUE', 'withAddress() and withAlignment() both choose the address: give one of them');
    }
    if ((this.#flags & MmapFlags.HUGE_PAGES) !== 0 && this.#pageSize === PAGE_SIZE) {
      fail('ERR_MMAP_INVALID_SIZE', `MmapFlags.HUGE_PAGES needs a huge page size, but withPageSize() chose the base page ${this.#pageSize}`);
    }
    if (this.#fd !== -1 && this.#sharedMemory !== null) {
      fail('ERR_INVALID_ARG_VALUE', 'withFile() and withSharedMemory() both choose the backing: give one of them');
    }
    const stats = this.#fd !== -1 ? this.#fileStats() : undefined;
    const shared = this.#sharedMemory === null ? null : nativeSharedMemory(this.#sharedMemory);
    const size = this.#resolveSize(stats, shared, reserve || fixed || this.#address !== undefined || this.#alignment !== 0);
    const pageSize = this.#effectivePageSize();
    if (pageSize > PAGE_SIZE && !isMultiple(size, pageSize)) {
      // The OS would round the mapping up, and unmapping it would then fail.
      fail('ERR_MMAP_INVALID_SIZE', `size must be a multiple of the huge page size ${pageSize}, got ${size}`);
    }
    if (stats !== undefined && stats.isFile() && this.#offset + size > stats.size) {
      // Devices have no meaningful size; only regular files can be overrun.
      fail(
        'ERR_MMAP_BEYOND_EOF',
        `file range offset ${this.#offset}, size ${size} extends past the end of the file (${stats.size} bytes)`,
      );
    }
    if (shared !== null && this.#offset + size > shared.size) {
      fail(
        'ERR_MMAP_BEYOND_EOF',
        `shared memory range offset ${this.#offset}, size ${size} extends past the end of the object (${shared.size} bytes)`,
      );
    }
    if ((this.#flags & MmapFlags.COPY_ON_WRITE) !== 0 && (this.#flags & MmapFlags.SHARED) !== 0) {
      fail('ERR_INVALID_ARG_VALUE', 'MmapFlags.COPY_ON_WRITE and MmapFlags.SHARED exclude each other');
    }
    const backing =
      stats !== undefined && stats.isFile()
        ? ({ kind: 'file', fd: this.#fd, dev: stats.dev, ino: stats.ino, offset: this.#offset } as const)
        : shared !== null
          ? ({ kind: 'shared memory', size: shared.size, offset: this.#offset } as const)
          : undefined;
    const request = {
      size,
      address: this.#address ?? 0n,
      fixed,
      alignment: this.#alignment,
      fd: shared ?? this.#fd,
      offset: this.#offset,
      access,
      flags: this.#effectiveFlags() | (this.#hugePageSize() > 0 ? MmapFlags.HUGE_PAGES : 0),
      pageSize: this.#hugePageSize(),
      jit: (this.#unsafeFlags & UnsafeMmapFlags.JIT) !== 0,
      reserve,
    };
    return [request, backing];
  }

  /** The huge page size to ask for: 0 for none, or for the system default with HUGE_PAGES. */
  #hugePageSize(): number {
    return this.#pageSize > PAGE_SIZE ? this.#pageSize : 0;
  }

  /** The size of the pages the mapping will have. */
  #effectivePageSize(): number {
    const huge = this.#hugePageSize();
    if (huge > 0) return huge;
    if ((this.#flags & MmapFlags.HUGE_PAGES) !== 0) return native.defaultHugePageSize() || PAGE_SIZE;
    return PAGE_SIZE;
  }

  #fileStats(): fs.Stats {
    try {
      return fs.fstatSync(this.#fd);
    } catch (error) {
      const cause = error as { code?: string; errno?: number; syscall?: string; message: string };
      throw withPath(new MmapError(cause.code ?? 'EBADF', `${cause.message} (file descriptor ${this.#fd})`, cause.errno, cause.syscall), this.#fd);
    }
  }

  /**
   * The size to map: the one given, or what the file or object has from the
   * offset on. 0 (an empty handle) only where nothing needs pages: not for a
   * reservation, nor at a chosen address.
   */
  #resolveSize(stats: fs.Stats | undefined, shared: NativeSharedMemory | null, needsPages: boolean): number {
    if (this.#size !== undefined) return this.#size;
    let available: number;
    let what: string;
    if (stats !== undefined) {
      if (!stats.isFile()) fail('ERR_MMAP_INVALID_SIZE', 'a size is needed to map a device, which has no size to map to: new MmapOptions(size)');
      available = stats.size;
      what = 'file';
    } else if (shared !== null) {
      available = shared.size;
      what = 'shared memory object';
    } else {
      fail('ERR_MMAP_INVALID_SIZE', 'a size is needed: new MmapOptions(size), or withFile() or withSharedMemory() to map to the end');
    }
    if (this.#offset > available) {
      fail('ERR_MMAP_BEYOND_EOF', `offset ${this.#offset} is past the end of the ${what} (${available} bytes)`);
    }
    const size = available - this.#offset;
    if (size === 0 && needsPages) {
      fail(
        'ERR_MMAP_INVALID_SIZE',
        `size 0: ${available === 0 ? `the ${what} is empty` : `the offset is at the end of the ${what}`}, and a reservation or a mapping at a chosen address needs pages`,
      );
    }
    return size;
  }
}
