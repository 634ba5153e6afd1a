// TypeScript 5.7 and later, where typed arrays are generic: mapped bytes are
// backed by an ArrayBuffer, as the web platform's BufferSource now asks.
import { MmapOptions } from 'memmap';

export const writable: Uint8Array<ArrayBuffer> = new MmapOptions(4096).mapMut().bytes;
export const readOnly: Uint8Array<ArrayBuffer> = new MmapOptions(4096).map().bytes;
