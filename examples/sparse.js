// A growable buffer that never moves: reserve a large range of address space
// once (it costs no memory), then commit pages one at a time as the buffer
// grows. Each committed page joins the buffer, so its address stays fixed.
//
//   node examples/sparse.js
'use strict';

const { formatPermissions, MemoryAreas, MmapOptions } = require('..');

const PAGE = MmapOptions.pageSize();
const RESERVED = 1 << 30; // 1 GiB of address space, no memory behind it yet

let reserved = new MmapOptions(RESERVED).reserveMut();
const base = reserved.start;
let buffer = null; // the committed front of the reservation, an MmapMut

for (let page = 0; page < 4; page++) {
  // splitTo() hands back the lowest page of the reservation; commit() makes it
  // readable and writable memory.
  const next = reserved.splitTo(PAGE).commit();
  next.bytes.fill(page + 1);
  if (buffer === null) buffer = next;
  else buffer.merge(next); // adjacent and alike: the buffer grows in place
}

console.log(`sparse: ${buffer.size / PAGE} pages committed at 0x${buffer.start.toString(16)} (reservation at 0x${base.toString(16)})`);
console.log(`sparse: first byte of each page: ${[0, 1, 2, 3].map((page) => buffer.bytes[page * PAGE]).join(', ')}`);

// What the OS sees: committed read-write pages, then the rest of the
// reservation with no access.
for (const area of MemoryAreas.queryRange(base, base + BigInt(RESERVED))) {
  const kib = (area.end - area.start) / 1024n;
  console.log(`sparse:   0x${area.start.toString(16)}-0x${area.end.toString(16)} ${kib} KiB, ${formatPermissions(area)}`);
}

buffer.unmap();
reserved.unmap();
