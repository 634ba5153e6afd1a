// With the DOM library: the web platform's byte APIs take mapped bytes.
import { MmapOptions } from 'memmap';

export async function web(): Promise<void> {
  const readOnly = new MmapOptions(4096).map();
  const writable = new MmapOptions(4096).mapMut();
  await crypto.subtle.digest('SHA-256', readOnly.bytes);
  await crypto.subtle.digest('SHA-256', writable.bytes);
  crypto.getRandomValues(writable.bytes);
  new Blob([readOnly.bytes, writable.view(0, 16)]);
  new TextDecoder().decode(readOnly.bytes);
  WebAssembly.validate(readOnly.bytes);
  new WebAssembly.Module(readOnly.bytes);
  new WebAssembly.Module(writable.bytes);
  await WebAssembly.compile(readOnly.view(0, 8));
}
