#!/usr/bin/env node
// Smoke test of an installed memmap: maps a file shared, writes through the
// mapping, flushes, and reads the bytes back through fs; then an anonymous
// mapping made read-only. Exits non-zero on any failure.
//   node smoke.js [module to require; default "memmap"]
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { MmapOptions, MmapFlags, MmapError } = require(process.argv[2] ?? 'memmap');

const granularity = MmapOptions.allocationGranularity();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-smoke-'));
const file = path.join(dir, 'data.bin');
fs.writeFileSync(file, Buffer.alloc(2 * granularity));
const fd = fs.openSync(file, 'r+');
try {
  const text = Buffer.from(`hello from ${process.platform}-${process.arch} node ${process.version}`);
  const map = new MmapOptions(granularity).withFile(fd, granularity).withFlags(MmapFlags.SHARED).mapMut();
  map.bytes.set(text);
  map.flush();
  map.unmap();
  assert.deepEqual(fs.readFileSync(file).subarray(granularity, granularity + text.length), text);

  const page = new MmapOptions(MmapOptions.pageSize()).mapMut();
  page.bytes[0] = 42;
  const readOnly = page.makeReadOnly();
  assert.equal(readOnly.bytes[0], 42);
  readOnly.unmap();

  assert.throws(() => new MmapOptions(0), (error) => error instanceof MmapError && typeof error.code === 'string');
} finally {
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`smoke ok: ${process.platform}-${process.arch} node ${process.version}`);
