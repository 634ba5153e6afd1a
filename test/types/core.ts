// A consumer that needs neither @types/node nor the DOM library: memmap's
// own types, the flag kinds, and every write a read-only mapping forbids.
import { Bytes, FileLike, MmapError, MmapFlags, MmapOptions, ReadonlyBytes, UnsafeMmapFlags } from 'memmap';

export function flags(): void {
  new MmapOptions(4096).withFlags(MmapFlags.SHARED, MmapFlags.POPULATE).withUnsafeFlags(UnsafeMmapFlags.JIT);
  // @ts-expect-error an UnsafeMmapFlags value is not an MmapFlags value
  new MmapOptions(4096).withFlags(UnsafeMmapFlags.MAP_FIXED);
  // @ts-expect-error nor the other way round
  new MmapOptions(4096).withUnsafeFlags(MmapFlags.SHARED);
  // @ts-expect-error `|` makes a plain number, which could hold either kind
  new MmapOptions(4096).withFlags(MmapFlags.SHARED | MmapFlags.POPULATE);
}

const readBytes = (bytes: Uint8Array): number => bytes[0];
const readView = (view: ArrayBufferView): number => view.byteLength;

export function readOnly(file: FileLike): number {
  const mapping = new MmapOptions(4096).withFile(file).map();
  const bytes: ReadonlyBytes = mapping.bytes;
  const total = readBytes(bytes) + readView(mapping.view(0, 16)) + readBytes(bytes.subarray(1)) + readBytes(mapping.view(8));
  // @ts-expect-error the pages are read-only
  bytes[0] = 1;
  // @ts-expect-error set() writes
  bytes.set([1]);
  // @ts-expect-error fill() writes
  bytes.fill(0);
  // @ts-expect-error copyWithin() writes
  bytes.copyWithin(0, 1);
  // @ts-expect-error reverse() writes in place
  bytes.reverse();
  // @ts-expect-error sort() writes in place
  bytes.sort();
  // @ts-expect-error a subarray() is as read-only
  bytes.subarray(0, 4)[0] = 1;
  // @ts-expect-error so is a view()
  mapping.view(0, 16)[0] = 1;
  // @ts-expect-error no typed array over the read-only buffer
  new Uint8Array(mapping.buffer);
  // @ts-expect-error nor a DataView
  new DataView(mapping.buffer);
  const copy: ArrayBuffer = mapping.buffer.slice(0);
  new Uint8Array(copy)[0] = 1;
  return total;
}

export function readWrite(): Bytes {
  const mapping = new MmapOptions(4096).mapMut();
  const bytes: Uint8Array = mapping.bytes;
  bytes[0] = 1;
  mapping.view(0, 16).fill(2);
  new DataView(mapping.buffer).setUint8(0, 3);
  readView(mapping.bytes);
  // @ts-expect-error a reservation has no bytes
  void new MmapOptions(4096).reserveMut().bytes;
  // @ts-expect-error an inaccessible mapping has no bytes
  void new MmapOptions(4096).mapNone().bytes;
  return mapping.bytes;
}

export function errors(error: unknown): string | undefined {
  return error instanceof MmapError ? `${error.code} ${error.errno ?? ''} ${error.syscall ?? ''}` : undefined;
}
