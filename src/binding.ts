/**
 * The native addon, loaded once per thread, and the shapes of what it offers.
 * Everything passed to it has been validated by the callers in this folder.
 * @internal
 * @packageDocumentation
 */
import * as path from 'node:path';
import { MmapError } from './errors';

/** What {@link Native.map} takes. */
export interface MapRequest {
  size: number;
  address: bigint;
  fixed: boolean;
  alignment: number;
  fd: number;
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
  function(offset: number, signature: { args: number[]; returns: number }): (...args: unknown[]) => unknown;
}

interface Native {
  map(request: MapRequest): NativeMapping;
  adopt(address: bigint, size: number, access: number): NativeMapping;
  isMapped(address: bigint, size: number): boolean;
  isOwned(address: bigint, size: number): boolean;
  pageSize(): number;
  allocationGranularity(): number;
  pageSizes(): number[];
  defaultHugePageSize(): number;
  freeHugePages(size: number): number;
  areas(pid: number, start: bigint, end: bigint): import('./areas').NativeArea[];
  parseProcMaps?(text: string, start: bigint, end: bigint): import('./areas').NativeArea[];
  setErrorFactory(make: (code: string, message: string, errno?: number, syscall?: string) => MmapError): void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const native: Native = require('node-gyp-build')(path.join(__dirname, '..'));

native.setErrorFactory((code, message, errno, syscall) => new MmapError(code, message, errno, syscall));
