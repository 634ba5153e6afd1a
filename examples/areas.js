// The memory areas of this process as the OS reports them (on Linux, what
// /proc/self/maps shows): the areas holding three mappings made here, and a
// count of all the others. `npx memmap areas [pid]` lists every area of any
// process, with totals.
//
//   node examples/areas.js
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { formatPermissions, MemoryAreas, MmapFlags, MmapOptions } = require('..');

const PAGE = MmapOptions.pageSize();

function kib(bytes) {
  return `${(bytes / 1024n).toLocaleString('en-US')} KiB`;
}

function describeArea(area) {
  const range = `${area.start.toString(16)}-${area.end.toString(16)}`;
  const offset = area.fileOffset === null ? '' : ` @${area.fileOffset}`;
  return `${range} ${kib(area.end - area.start).padStart(10)} ${formatPermissions(area)} ${area.path ?? '(anonymous)'}${offset}`;
}

// Three mappings to look for: an anonymous page, a file mapped shared and
// read-only, and a reservation (address space without memory or access).
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-areas-'));
const file = path.join(directory, 'data.bin');
fs.writeFileSync(file, new Uint8Array(4 * PAGE));
const fd = fs.openSync(file, 'r');
const mine = [
  { what: 'mapMut(): one anonymous page', handle: new MmapOptions(PAGE).mapMut() },
  { what: 'map() of data.bin, shared', handle: new MmapOptions(4 * PAGE).withFile(fd).withFlags(MmapFlags.SHARED).map() },
  { what: 'reserveNone(): 256 pages', handle: new MmapOptions(256 * PAGE).reserveNone() },
];
fs.closeSync(fd);

const all = MemoryAreas.open();
console.log(`areas: this process has ${all.length} memory areas; these hold the example's mappings:`);
const shown = new Set();
for (const { what, handle } of mine) {
  const areas = MemoryAreas.queryRange(handle.start, handle.end);
  // Windows lists no reserved, uncommitted address space (neither does mmap-rs).
  if (areas.length === 0) console.log(`areas:   (not listed by this OS)    <- ${what}`);
  for (const area of areas) {
    // The kernel may merge a new mapping with a neighbour of the same kind.
    const merged = area.start < handle.start || area.end > handle.end ? ', merged with a neighbour' : '';
    console.log(`areas:   ${describeArea(area)}    <- ${what}${merged}`);
    shown.add(area.start);
  }
}

// The rest, by what backs them: files (node itself and the libraries it
// loaded), anonymous memory (heaps, stacks, V8's spaces), and areas the
// kernel names in brackets on Linux ([heap], [stack], [vdso], ...).
const others = all.filter((area) => !shown.has(area.start));
const kind = (area) => (area.path === null ? 'anonymous' : area.path.startsWith('[') ? 'named' : 'file');
const ofKind = (name) => others.filter((area) => kind(area) === name);
const files = new Set(ofKind('file').map((area) => area.path));
const named = [...new Set(ofKind('named').map((area) => area.path))];
console.log(
  `areas: and ${others.length} others: ${ofKind('file').length} areas of ${files.size} files, ${ofKind('anonymous').length} anonymous` +
    (named.length > 0 ? `, ${ofKind('named').length} named by the kernel (${named.join(' ')})` : ''),
);

// query() finds the area around one address: the page mapped above.
const page = mine[0].handle;
const start = page.start;
const area = MemoryAreas.query(start);
console.log(`areas: the new page 0x${start.toString(16)} lies in ${area.start.toString(16)}-${area.end.toString(16)} ${formatPermissions(area)}`);
page.unmap();
console.log(`areas: once unmapped, query() finds ${MemoryAreas.query(start) === null ? 'nothing there' : 'an area there'}`);

for (const { handle } of mine) handle.unmap();
fs.rmSync(directory, { recursive: true, force: true });
