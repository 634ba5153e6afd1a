/**
 * The memory areas of this process or another one, after mmap-rs's
 * `MemoryAreas`: what `/proc/<pid>/maps` shows on Linux, and the same facts
 * from the kernel on macOS, FreeBSD and Windows.
 * @packageDocumentation
 */
import { native } from './binding';
import { describe, fail, failUnreadable, MmapError } from './errors';
import { Protection } from './flags';
import { checkAddress } from './validate';

/**
 * Whether writes to an area reach other mappings of the same memory.
 * @namespace
 */
export const ShareMode = Object.freeze({
  /** Private or copy-on-write: writes stay in this process. */
  PRIVATE: 'private',
  /** Writes are visible to every process (and file) sharing the pages. */
  SHARED: 'shared',
} as const);

/** One of the {@link ShareMode} values. */
export type ShareMode = (typeof ShareMode)[keyof typeof ShareMode];

/** A range of pages with the same protection and backing. */
export interface MemoryArea {
  /** The first address. */
  readonly start: bigint;
  /** The address just past the last byte. */
  readonly end: bigint;
  /** Where the allocation holding this area begins: Windows' `AllocationBase`, elsewhere `start`. */
  readonly allocationBase: bigint;
  /**
   * Bits of {@link Protection} (`READ`, `WRITE`, `EXECUTE`); 0 for pages that
   * cannot be accessed. Reserved address space that was never committed is
   * not listed on Windows (as in mmap-rs).
   */
  readonly protection: number;
  /** Whether writes are shared or private. */
  readonly shareMode: ShareMode;
  /**
   * The backing file, or a pseudo path such as `[heap]` or `[stack]`, exactly
   * as the OS shows it (a deleted file keeps its ` (deleted)` suffix on Linux;
   * Windows shows NT device paths such as `\Device\HarddiskVolume3\...`).
   * `null` for anonymous memory.
   */
  readonly path: string | null;
  /**
   * For file-backed areas the offset into the file of `start` (on Windows the
   * offset into the mapped view, as the OS reports no file offset); `null`
   * otherwise.
   */
  readonly fileOffset: bigint | null;
}

/** @internal One area as the binding returns it (native/areas.cc). */
export interface NativeArea {
  start: bigint;
  end: bigint;
  allocationBase: bigint;
  protection: number;
  shared: boolean;
  path: string | null;
  offset: bigint | null;
}

/**
 * An area's protection and share mode as `/proc/<pid>/maps` and `pmap` show
 * them: `r`, `w`, `x` or `-`, then `s` (shared) or `p` (private), e.g. `rw-p`.
 * Anything but an object with {@link Protection} bits and a {@link ShareMode}
 * throws `ERR_INVALID_ARG_TYPE` or `ERR_INVALID_ARG_VALUE`.
 */
export function formatPermissions(area: Pick<MemoryArea, 'protection' | 'shareMode'>): string {
  const { protection, shareMode } = readPermissions(area);
  return (
    (protection & Protection.READ ? 'r' : '-') +
    (protection & Protection.WRITE ? 'w' : '-') +
    (protection & Protection.EXECUTE ? 'x' : '-') +
    (shareMode === ShareMode.SHARED ? 's' : 'p')
  );
}

const PERMISSIONS = 'a MemoryArea: an object with protection (Protection bits) and shareMode (a ShareMode)';
const EVERY_PROTECTION = Protection.READ | Protection.WRITE | Protection.EXECUTE;

/** The fields formatPermissions() shows, each read once and checked. */
function readPermissions(area: unknown): Pick<MemoryArea, 'protection' | 'shareMode'> {
  if (typeof area !== 'object' || area === null) fail('ERR_INVALID_ARG_TYPE', `area must be ${PERMISSIONS}, got ${describe(area)}`);
  let protection: unknown;
  let shareMode: unknown;
  try {
    ({ protection, shareMode } = area as MemoryArea);
  } catch (error) {
    failUnreadable('area', PERMISSIONS, error);
  }
  if (!isProtection(protection)) {
    fail('ERR_INVALID_ARG_VALUE', `area.protection must be a combination of the Protection bits, got ${describe(protection)}`);
  }
  if (shareMode !== ShareMode.PRIVATE && shareMode !== ShareMode.SHARED) {
    fail('ERR_INVALID_ARG_VALUE', `area.shareMode must be "private" or "shared", got ${describe(shareMode)}`);
  }
  return { protection, shareMode };
}

function isProtection(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= EVERY_PROTECTION && (value & ~EVERY_PROTECTION) === 0;
}

const SELF = 0;
const ADDRESS_SPACE_END = (1n << 64n) - 1n;

/**
 * Queries memory areas. Each call takes a fresh snapshot from the OS; an area
 * may have changed by the time it is read.
 *
 * ```ts
 * for (const area of MemoryAreas.open()) console.log(area.start, area.path);
 * ```
 *
 * A process that does not exist throws {@link MmapError} `ESRCH`; one this
 * process may not inspect throws `EPERM` or `EACCES`.
 */
export class MemoryAreas {
  private constructor() {}

  /** Every area of process `pid` (this process without one), in address order. */
  static open(pid?: number): MemoryArea[] {
    return list(pid === undefined ? SELF : checkPid(pid), 0n, ADDRESS_SPACE_END);
  }

  /** The area of this process containing `address` (a bigint), or `null` where nothing is mapped. */
  static query(address: bigint): MemoryArea | null {
    return queryAt(SELF, address);
  }

  /**
   * The areas of this process overlapping `[start, end)`, in address order;
   * the first may begin before `start` and the last end after `end`.
   */
  static queryRange(start: bigint, end: bigint): MemoryArea[] {
    return list(SELF, ...checkRange(start, end));
  }

  /** {@link MemoryAreas.query} for process `pid`. */
  static queryProcess(pid: number, address: bigint): MemoryArea | null {
    return queryAt(checkPid(pid), address);
  }

  /** {@link MemoryAreas.queryRange} for process `pid`. */
  static queryProcessRange(pid: number, start: bigint, end: bigint): MemoryArea[] {
    return list(checkPid(pid), ...checkRange(start, end));
  }
}

/** @internal Areas from the text of a Linux `/proc/<pid>/maps` file (Linux builds only). */
export function parseProcMaps(text: string): MemoryArea[] {
  if (native.parseProcMaps === undefined) fail('ERR_MMAP_UNSUPPORTED', 'parseProcMaps exists on Linux only');
  return native.parseProcMaps(text, 0n, ADDRESS_SPACE_END).map(toMemoryArea);
}

function queryAt(pid: number, address: bigint): MemoryArea | null {
  checkAddress(address);
  const end = address < ADDRESS_SPACE_END ? address + 1n : address;
  return list(pid, address, end)[0] ?? null;
}

function list(pid: number, start: bigint, end: bigint): MemoryArea[] {
  let areas: NativeArea[];
  try {
    areas = native.areas(pid, start, end);
  } catch (error) {
    if (!(error instanceof MmapError) || error.errno === undefined) throw error;
    const whose = pid === SELF ? 'this process' : `process ${pid}`;
    throw new MmapError(error.code, `cannot list the memory areas of ${whose}: ${error.message}`, error.errno, error.syscall);
  }
  return areas.map(toMemoryArea);
}

function toMemoryArea(area: NativeArea): MemoryArea {
  return Object.freeze({
    start: area.start,
    end: area.end,
    allocationBase: area.allocationBase,
    protection: area.protection,
    shareMode: area.shared ? ShareMode.SHARED : ShareMode.PRIVATE,
    path: area.path,
    fileOffset: area.offset,
  });
}

function checkPid(pid: unknown): number {
  if (typeof pid !== 'number' || !Number.isInteger(pid)) {
    fail('ERR_INVALID_ARG_TYPE', `pid must be an integer process id, got ${describe(pid)}`);
  }
  if (pid < 1 || pid > 0xffff_ffff) fail('ERR_INVALID_ARG_VALUE', `pid must be between 1 and 4294967295, got ${describe(pid)}`);
  return pid;
}

function checkRange(start: bigint, end: bigint): [bigint, bigint] {
  checkAddress(start);
  checkAddress(end);
  if (end < start) {
    fail('ERR_MMAP_INVALID_ADDRESS', `range end 0x${end.toString(16)} is below its start 0x${start.toString(16)}`);
  }
  return [start, end];
}
