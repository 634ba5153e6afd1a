/**
 * Mapping flags, with mmap-rs's bit values.
 * @packageDocumentation
 */

// Every table here is frozen: the library reads them at run time (the W^X
// check, formatPermissions), so a caller changing one would change its rules.

/**
 * Flags for {@link MmapOptions.withFlags}. A flag the platform lacks is a
 * documented no-op, never an error (see the README's table).
 */
export const MmapFlags = Object.freeze({
  /** Changes are shared with other mappings of the file; without it file mappings are private copy-on-write. */
  SHARED: 1 << 0,
  /** Fault every page in while mapping (Linux `MAP_POPULATE`). */
  POPULATE: 1 << 1,
  /** Take no swap reservation (`MAP_NORESERVE`). */
  NO_RESERVE: 1 << 2,
  /** Use huge pages, of {@link MmapOptions.withPageSize}'s size or the system default. */
  HUGE_PAGES: 1 << 3,
  /** Memory for a stack (`MAP_STACK`). */
  STACK: 1 << 4,
  /** Leave the pages out of core dumps (`MADV_DONTDUMP`). */
  NO_CORE_DUMP: 1 << 5,
  /** Lock the pages in memory (`MAP_LOCKED`, or `mlock` after mapping). */
  LOCKED: 1 << 6,
  /** Ask for transparent huge pages (`MADV_HUGEPAGE`). */
  TRANSPARENT_HUGE_PAGES: 1 << 7,
  /** Expect sequential access (`MADV_SEQUENTIAL`). */
  SEQUENTIAL: 1 << 8,
  /** Expect random access (`MADV_RANDOM`). */
  RANDOM_ACCESS: 1 << 9,
  /** Expect access soon (`MADV_WILLNEED`). */
  WILLNEED: 1 << 10,
  /** Expect no access soon (`MADV_DONTNEED`). */
  DONTNEED: 1 << 11,
} as const);

/**
 * Flags that make a mapping unsafe in ways the types cannot express, for
 * {@link MmapOptions.withUnsafeFlags}.
 */
export const UnsafeMmapFlags = Object.freeze({
  /** Place the mapping exactly at the address given, replacing whatever was mapped there. */
  MAP_FIXED: 1 << 0,
  /** Allow pages that are writable and executable at once (RWX), for JIT compilers. */
  JIT: 1 << 1,
} as const);

/** Protection bits of a memory area, as in mmap-rs (bit 2 is unused). */
export const Protection = Object.freeze({
  READ: 1 << 0,
  WRITE: 1 << 1,
  EXECUTE: 1 << 3,
} as const);

/** @internal Every bit {@link MmapFlags} defines. */
export const KNOWN_FLAGS = Object.values(MmapFlags).reduce((all, bit) => all | bit, 0);
/** @internal Every bit {@link UnsafeMmapFlags} defines. */
export const KNOWN_UNSAFE_FLAGS = Object.values(UnsafeMmapFlags).reduce((all, bit) => all | bit, 0);

/** @internal Page protection of each typestate. */
export const Access = Object.freeze({
  NONE: 0,
  READ: Protection.READ,
  EXEC: Protection.READ | Protection.EXECUTE,
  MUT: Protection.READ | Protection.WRITE,
  EXEC_MUT: Protection.READ | Protection.WRITE | Protection.EXECUTE,
} as const);
