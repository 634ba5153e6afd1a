/**
 * Mapping flags, as distinct types: an {@link UnsafeMmapFlags} value does
 * not compile where {@link MmapFlags} go, and the other way round.
 * @packageDocumentation
 */

// Every table here is frozen: the library reads them at run time (the W^X
// check, formatPermissions), so a caller changing one would change its rules.

declare const mmapFlagsKind: unique symbol;
declare const unsafeMmapFlagsKind: unique symbol;

/**
 * One of the {@link MmapFlags} bits (mmap-rs's bit values). Give several to
 * `withFlags()` as separate arguments: `withFlags(MmapFlags.SHARED,
 * MmapFlags.POPULATE)`. (`|` would make a plain number, which is refused at
 * compile time so that flags of the other kind cannot slip in.)
 */
export type MmapFlags = number & { readonly [mmapFlagsKind]: true };

/** One of the {@link UnsafeMmapFlags} bits, for `withUnsafeFlags()`. */
export type UnsafeMmapFlags = number & { readonly [unsafeMmapFlagsKind]: true };

const mmapFlag = (bit: number) => bit as MmapFlags;
const unsafeMmapFlag = (bit: number) => bit as UnsafeMmapFlags;

/**
 * Flags for {@link MmapOptions.withFlags}. A flag the platform lacks is a
 * documented no-op, never an error: the README's "Flags, advice and page
 * sizes" table says what each does where.
 * @namespace
 */
export const MmapFlags = Object.freeze({
  /** Changes are shared with other mappings of the file; without it file mappings are private copy-on-write. */
  SHARED: mmapFlag(1 << 0),
  /** Fault every page in while mapping (Linux `MAP_POPULATE`). */
  POPULATE: mmapFlag(1 << 1),
  /** Take no swap reservation (`MAP_NORESERVE`). */
  NO_RESERVE: mmapFlag(1 << 2),
  /** Use huge pages, of {@link MmapOptions.withPageSize}'s size or the system default. */
  HUGE_PAGES: mmapFlag(1 << 3),
  /** Memory for a stack (`MAP_STACK`). */
  STACK: mmapFlag(1 << 4),
  /** Leave the pages out of core dumps (`MADV_DONTDUMP`). */
  NO_CORE_DUMP: mmapFlag(1 << 5),
  /** Lock the pages in memory (`MAP_LOCKED`, or `mlock` after mapping). */
  LOCKED: mmapFlag(1 << 6),
  /** Ask for transparent huge pages (`MADV_HUGEPAGE`). */
  TRANSPARENT_HUGE_PAGES: mmapFlag(1 << 7),
  /** Expect sequential access (`MADV_SEQUENTIAL`). */
  SEQUENTIAL: mmapFlag(1 << 8),
  /** Expect random access (`MADV_RANDOM`). */
  RANDOM_ACCESS: mmapFlag(1 << 9),
  /** Expect access soon (`MADV_WILLNEED`). */
  WILLNEED: mmapFlag(1 << 10),
  /** Expect no access soon (`MADV_DONTNEED`). */
  DONTNEED: mmapFlag(1 << 11),
  /**
   * With {@link MmapOptions.withSharedMemory}: map the object private and
   * copy-on-write (writes stay in this mapping) instead of shared, which is
   * the default there. Excludes `SHARED`.
   */
  COPY_ON_WRITE: mmapFlag(1 << 12),
} as const);

/**
 * Flags that make a mapping unsafe in ways the types cannot express, for
 * {@link MmapOptions.withUnsafeFlags}. Their bits differ from every
 * {@link MmapFlags} bit, so that JavaScript callers mixing them up get an
 * error too.
 * @namespace
 */
export const UnsafeMmapFlags = Object.freeze({
  /** Place the mapping exactly at the address given, replacing whatever was mapped there. */
  MAP_FIXED: unsafeMmapFlag(1 << 16),
  /** Allow pages that are writable and executable at once (RWX), for JIT compilers. */
  JIT: unsafeMmapFlag(1 << 17),
} as const);

/**
 * Protection bits of a memory area, as in mmap-rs (bit 2 is unused).
 * @namespace
 */
export const Protection = Object.freeze({
  /** The pages can be read. */
  READ: 1 << 0,
  /** The pages can be written. */
  WRITE: 1 << 1,
  /** The pages can be executed. */
  EXECUTE: 1 << 3,
} as const);

/** @internal Every bit {@link MmapFlags} defines. */
export const KNOWN_FLAGS = Object.values(MmapFlags).reduce((all: number, bit) => all | bit, 0);
/** @internal Every bit {@link UnsafeMmapFlags} defines. */
export const KNOWN_UNSAFE_FLAGS = Object.values(UnsafeMmapFlags).reduce((all: number, bit) => all | bit, 0);

/** @internal Page protection of each typestate. */
export const Access = Object.freeze({
  NONE: 0,
  READ: Protection.READ,
  EXEC: Protection.READ | Protection.EXECUTE,
  MUT: Protection.READ | Protection.WRITE,
  EXEC_MUT: Protection.READ | Protection.WRITE | Protection.EXECUTE,
} as const);
