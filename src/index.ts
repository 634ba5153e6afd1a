/**
 * memmap: memory mapping for Node.js, after the Rust crate mmap-rs.
 *
 * Start from {@link MmapOptions}; what a mapping may be used for is its
 * handle's type ({@link MmapNone}, {@link Mmap}, {@link MmapMut} and the
 * `Reserved*` handles). Every error is an {@link MmapError} with a `code`.
 * @packageDocumentation
 */
export { formatPermissions, MemoryAreas, ShareMode } from './areas';
export type { MemoryArea } from './areas';
export { MmapError } from './errors';
export type { MmapErrorCode } from './errors';
export { MmapFlags, UnsafeMmapFlags, Protection } from './flags';
export type { FunctionSignature, GeneratedFunction, NativeType } from './function';
export {
  Handle,
  MappedHandle,
  Mmap,
  MmapMut,
  MmapNone,
  MmapRing,
  Reserved,
  ReservedHandle,
  ReservedMut,
  ReservedNone,
} from './handles';
export type { Advice, Bytes, RawMapping, ReadonlyArrayBuffer, ReadonlyBytes, RemapOptions, Residency, SharedMappingToken, WaitResult } from './handles';
export { MmapOptions } from './options';
export { SharedMemory } from './shared';
export { RingQueue } from './queue';
export type { QueueWaitResult, RingQueueOptions, RingQueueToken } from './queue';
export type { SharedMemoryOptions } from './shared';
export type { FileLike } from './options';
export { MmapSpan, MmapSpanMut } from './accessors';
