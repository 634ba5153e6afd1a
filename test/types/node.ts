// With @types/node: Node's byte APIs take mapped bytes, read-only ones too.
import { createHash, webcrypto } from 'node:crypto';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { MmapOptions } from 'memmap';

export async function node(path: string): Promise<void> {
  const handle = await fs.promises.open(path, 'r');
  const mapping = new MmapOptions(4096).withFile(handle).map();
  const bytes = mapping.bytes;
  createHash('sha256').update(bytes).update(mapping.view(0, 16)).digest('hex');
  zlib.gzipSync(bytes);
  zlib.deflateRawSync(mapping.view(0, 100));
  fs.writeSync(1, bytes);
  fs.writeFileSync(path + '.copy', bytes);
  Buffer.compare(bytes, mapping.view(0, 1));
  Buffer.concat([bytes, mapping.view(8)]);
  Buffer.from(bytes).equals(bytes);
  new TextDecoder().decode(bytes);
  new Blob([bytes]);
  await webcrypto.subtle.digest('SHA-256', bytes);
  const writable = new MmapOptions(4096).mapMut();
  webcrypto.getRandomValues(writable.bytes);
  fs.readSync(handle.fd, writable.bytes);
  await handle.close();
}
