// A counter that survives restarts, and that several processes can bump at
// once. It lives in a file mapped shared: the mapped bytes are the file's
// bytes, and every process mapping the file sees the same memory.
//
//   node examples/counter.js [file]     (default: memmap-counter.bin in the temp directory)
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { MmapFlags, MmapOptions } = require('..');

const file = process.argv[2] ?? path.join(os.tmpdir(), 'memmap-counter.bin');
const SIZE = 8; // one 64-bit count, in the machine's byte order

// Create the file on the first run, and never map past its end: touching a
// mapped page beyond the end of a file is a crash (SIGBUS), not an error.
const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT);
if (fs.fstatSync(fd).size < SIZE) fs.ftruncateSync(fd, SIZE);
const counter = new MmapOptions(SIZE).withFile(fd).withFlags(MmapFlags.SHARED).mapMut();
fs.closeSync(fd); // the mapping holds the file's pages; the descriptor is done

// counter.buffer is the mapped memory itself (zero copy). Atomics.add is one
// atomic instruction on it, so copies of this script running at the same
// time each get their own number; reading the count and then writing it back
// (with a DataView, say) could give two of them the same one.
const count = new BigInt64Array(counter.buffer, 0, 1);
const run = Atomics.add(count, 0, 1n) + 1n; // Atomics.add returns the value before

counter.flush(); // to the file now, rather than whenever the kernel writes it back
counter.unmap();
console.log(`counter: run number ${run}, kept in ${file}`);
