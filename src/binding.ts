/**
 * The native addon, loaded once per thread, and the shapes of what it offers.
 * Everything passed to it has been validated by the callers in this folder.
 * @internal
 * @packageDocumentation
 */
import * as path from 'node:path';
import { MmapError } from './errors';

/** What {@link map} takes. */
export interface MapRequest {
  size: number;
  address: bigint;
  fixed: boolean;
  alignment: number;
  /** A file descriptor (-1: none), or the SharedMemory to map. */
  fd: number | import('./shared').NativeSharedMemory;
  offset: number;
  access: number;
  flags: number;
  pageSize: number;
  jit: boolean;
  reserve: boolean;
}

/** The native side of a handle (native/mapping.h). */
export interface NativeMapping {
  readonly address: bigint;
  readonly size: number;
  /** A ring from mapRing(): never split, merged or remapped. */
  readonly ring: boolean;
  view(offset: number, length: number): ArrayBuffer;
  unmap(): void;
  intoRaw(): void;
  protect(access: number): void;
  commit(access: number): void;
  flush(offset: number, length: number): void;
  flushAsync(offset: number, length: number): Promise<void>;
  lock(offset: number, length: number): void;
  lockOnFault(offset: number, length: number): void;
  unlock(offset: number, length: number): void;
  advise(advice: number, offset: number, length: number): void;
  flushIcache(): void;
  split(at: number, keepLow: boolean): NativeMapping;
  absorb(other: NativeMapping): void;
  function(offset: number, signature: { args: number[]; returns: number; numbers: boolean; jit: boolean }, generation: number): (...args: unknown[]) => unknown;
  /** Resizes, in place or (mayMove) anywhere; views are detached. */
  remap(size: number, mayMove: boolean): void;
  /** One byte per page of the page-aligned range: 1 where resident. */
  residency(offset: number, length: number): Uint8Array;
  /** Shares the pages with other threads (native/sharing.h); returns a token's id. */
  share(...description: SharedDescription): number;
  sharedBuffer(...description: SharedDescription): SharedArrayBuffer;
  /** timeoutMs < 0: forever. */
  wait(offset: number, expected: number, timeoutMs: number): WaitResult;
  waitAsync(offset: number, expected: number, timeoutMs: number): Promise<WaitResult>;
  notify(offset: number, count: number): number;
}

type WaitResult = import('./handles').WaitResult;

/** What fromShared() makes of shared pages: the kind of handle (an index into the list in handles.ts), access, flags, unsafe flags, page size. */
export type SharedDescription = [kind: number, access: number, flags: number, unsafeFlags: number, pageSize: number];

interface Native {
  map(
    size: number,
    address: bigint,
    fd: number | import('./shared').NativeSharedMemory,
    offset: number,
    access: number,
    flags: number,
    pageSize: number,
    alignment: number,
    mode: number,
  ): NativeMapping;
  /** A handle of size 0 with no OS mapping behind it (a whole empty file). */
  empty(access: number): NativeMapping;
  /** A double-mapped ring of 2 * size bytes, over `sharedMemory` at `offset` or memory of its own. */
  mapRing(size: number, sharedMemory: import('./shared').NativeSharedMemory | null, offset: number, access: number): NativeMapping;
  /** Refuses (ERR_MMAP_INVALID_ADDRESS) pages not all mapped, or owned by a live handle. */
  adopt(address: bigint, size: number, access: number): NativeMapping;
  pageSize(): number;
  allocationGranularity(): number;
  pageSizes(): number[];
  defaultHugePageSize(): number;
  freeHugePages(size: number): number;
  areas(pid: number, start: bigint, end: bigint): import('./areas').NativeArea[];
  parseProcMaps?(text: string, start: bigint, end: bigint): import('./areas').NativeArea[];
  // The copying accessors (native/accessors.cc), for the generation of the handle or span asking.
  readInto(mapping: NativeMapping, generation: number, offset: number, target: ArrayBufferView): void;
  write(mapping: NativeMapping, generation: number, offset: number, source: ArrayBufferView): void;
  fill(mapping: NativeMapping, generation: number, offset: number, length: number, value: number): void;
  copyWithin(mapping: NativeMapping, generation: number, to: number, from: number, length: number): void;
  generation(mapping: NativeMapping): number;
  /** A new handle of this thread over the pages a share() token's id names. */
  fromShared(id: number): [NativeMapping, ...SharedDescription];
  /** Whether this runtime has node_api_create_external_sharedarraybuffer. */
  readonly sharedBuffersAvailable: boolean;
  shmCreate(name: string, size: number, seal: boolean): import('./shared').NativeSharedMemory;
  shmOpen(name: string, writable: boolean): import('./shared').NativeSharedMemory;
  shmAdopt(fd: number): import('./shared').NativeSharedMemory;
  shmUnlink(name: string): void;
  /** Renews the teardown sentinel (native/addon.h) after views were made. */
  refreshSentinel(): void;
  setErrorFactory(make: (code: string, message: string, errno?: number, syscall?: string) => MmapError): void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const native: Native = require('node-gyp-build')(path.join(__dirname, '..'));

/** The base page size; fixed for the life of the process. */
export const PAGE_SIZE = native.pageSize();
/** The granularity of mapping addresses and file offsets; fixed for the life of the process. */
export const ALLOCATION_GRANULARITY = native.allocationGranularity();

// The `mode` bits of native/addon.cc's Map.
const MapMode = { FIXED: 1, JIT: 2, RESERVE: 4 } as const;

/** Maps or reserves as `request` says. */
export function map(request: MapRequest): NativeMapping {
  const mode =
    (request.fixed ? MapMode.FIXED : 0) | (request.jit ? MapMode.JIT : 0) | (request.reserve ? MapMode.RESERVE : 0);
  return native.map(
    request.size,
    request.address,
    request.fd,
    request.offset,
    request.access,
    request.flags,
    request.pageSize,
    request.alignment,
    mode,
  );
}

native.setErrorFactory((code, message, errno, syscall) => new MmapError(code, message, errno, syscall));
