// The memory areas of this process, one line each, like /proc/self/maps.
// `memmap areas [pid]` does the same for any process, with totals.
//
//   node examples/areas.js
'use strict';

const { formatPermissions, MemoryAreas, MmapOptions } = require('..');

for (const area of MemoryAreas.open()) {
  const offset = area.fileOffset === null ? '' : ` @${area.fileOffset.toString(16)}`;
  console.log(`${area.start.toString(16)}-${area.end.toString(16)} ${formatPermissions(area)} ${area.path ?? ''}${offset}`);
}

// query() finds the area around one address: here, a page mapped just now.
const page = new MmapOptions(MmapOptions.pageSize()).mapMut();
const start = page.start;
const area = MemoryAreas.query(start);
console.log(`areas: the new page 0x${start.toString(16)} lies in ${area.start.toString(16)}-${area.end.toString(16)} ${formatPermissions(area)}`);
page.unmap();
console.log(`areas: once unmapped, query() finds ${MemoryAreas.query(start) === null ? 'nothing there' : 'an area there'}`);
